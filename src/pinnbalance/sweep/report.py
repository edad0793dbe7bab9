"""A sweep's table (``results.md``) and, through ``pinnbalance.compare``, its figures and report.html."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pinnbalance import compare
from pinnbalance.io import atomic_write_text
from pinnbalance.sweep.jobs import label


def _median_range(values) -> str:
    v = np.asarray(values, dtype=float)
    return f"{np.median(v):.2e} [{v.min():.2e}, {v.max():.2e}]"


def markdown_table(results: dict) -> str:
    """One row per run, ranked by median minimum L2 over seeds; failed runs last with their error."""
    keys = [k for k in results["keys"] if k != "train.seeds"]
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
        cells = [r["name"], *(label(r["values"].get(k, "")) for k in keys), ",".join(map(str, r["seeds"]))]
        cells += [_median_range(r["min_l2"]), _median_range(r["final_l2"]), f"{r['train_seconds']:.1f}", r["status"]]
        lines.append("| " + " | ".join(cells) + " |")
    for r in failed:
        error = r["error"].replace("|", "/").replace("\n", " ")
        cells = [r["name"], *(label(r["values"].get(k, "")) for k in keys), ",".join(map(str, r["seeds"]))]
        lines.append("| " + " | ".join([*cells, error, "", "", "failed"]) + " |")
    return "\n".join(lines) + "\n"


def write_report(out: Path, results: dict, histories: dict, jobs) -> None:
    """``results.md`` always; the compare figures and ``report.html`` when the runs share a problem."""
    table = markdown_table(results)
    atomic_write_text(out / "results.md", table)
    problems = {r["problem"] for r in results["runs"] if r["status"] != "failed"}
    figures = []
    if len(problems) == 1 and histories:
        first = next(j for j in jobs if j.name in histories)
        problem = first.config(str(out / first.name)).build_problem()
        figures = compare.write_figures(out, problem, histories)
    title = f"pinnbalance sweep: {results['sweep']}, {results['jobs']} runs, {results['trainings']} trainings"
    intro = "Runs ranked by median minimum relative L2 error over seeds."
    atomic_write_text(out / "report.html", compare.html_report(results, table, figures, title=title, intro=intro))
