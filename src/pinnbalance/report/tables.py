"""Markdown tables of results: schemes compared over seeds, runs of a sweep.

Each cell of a metric over seeds is ``median [min, max]``, so one glance gives both the
typical value and the spread; rows are ranked by the median minimum relative L2 error.
"""

from __future__ import annotations

import numpy as np


def median_range(values) -> str:
    """``"median [min, max]"`` of ``values`` in 3 significant digits: ``median_range([1, 2, 4]) == "2.00e+00 [1.00e+00, 4.00e+00]"``."""
    v = np.asarray(values, dtype=float)
    return f"{np.median(v):.2e} [{v.min():.2e}, {v.max():.2e}]"


def compare_table(summary: dict) -> str:
    """Per scheme: median [min, max] over seeds of min and final L2, ms per step, overhead."""
    lines = [
        f"# {summary['problem']}: {summary['steps']} steps, seeds {summary['seeds']}",
        "",
        "| scheme | min rel. L2, median [range] | final rel. L2, median [range] | ms/step (all seeds) | overhead vs constant |",
        "|---|---|---|---|---|",
    ]
    ranked = sorted(summary["schemes"].items(), key=lambda kv: np.median(kv[1]["min_l2"]))
    for name, e in ranked:
        overhead = e.get("overhead_vs_constant")
        over = f"{100 * overhead:+.1f}%" if overhead is not None else ""
        lines.append(
            f"| {name} | {median_range(e['min_l2'])} | {median_range(e['final_l2'])} | {e['ms_per_step']:.2f} | {over} |"
        )
    return "\n".join(lines) + "\n"


def sweep_table(results: dict) -> str:
    """One row per run, ranked by median minimum L2 over seeds; failed runs last with their error."""
    keys = [k for k in results["keys"] if k != "train.seeds"]
    run_cells = lambda r: [r["name"], *(_label(r["values"].get(k, "")) for k in keys), ",".join(map(str, r["seeds"]))]  # noqa: E731
    head = ["run", *keys, "seeds", "min rel. L2, median [range]", "final rel. L2, median [range]", "train s", "status"]
    lines = [
        f"# Sweep {results['sweep']}: {results['jobs']} runs, {results['trainings']} trainings ({results['executor']} executor)",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    ok = [r for r in results["runs"] if r["status"] != "failed"]
    failed = [r for r in results["runs"] if r["status"] == "failed"]
    for r in sorted(ok, key=lambda r: np.median(r["min_l2"])):
        cells = run_cells(r) + [median_range(r["min_l2"]), median_range(r["final_l2"]), f"{r['train_seconds']:.1f}", r["status"]]
        lines.append("| " + " | ".join(cells) + " |")
    for r in failed:
        error = r["error"].replace("|", "/").replace("\n", " ")
        lines.append("| " + " | ".join([*run_cells(r), error, "", "", "failed"]) + " |")
    return "\n".join(lines) + "\n"


def _label(value) -> str:
    """A swept value as the sweep names folders with it (``sweep.jobs.label``)."""
    from pinnbalance.sweep.jobs import label  # here, not above: importing pinnbalance.sweep imports this module

    return label(value)
