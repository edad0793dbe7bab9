"""``pinnbalance compare``: every chosen weighting scheme on one problem, over seeds.

For each scheme all seeds train in one compiled program (``fit_seeds``). Writes::

    OUT/compare.json    {"problem", "steps", "seeds", "schemes": {NAME: {"min_l2": [per seed],
                         "final_l2": [...], "final_weights": {...}, "ms_per_step": x,
                         "overhead_vs_constant": x}}}
    OUT/compare.md      per scheme: median and range over seeds of min and final L2 error,
                        ms per step and the overhead vs constant weights
    OUT/l2_by_scheme.png, OUT/weights_by_scheme.png, OUT/report.html (self-contained)
"""

from __future__ import annotations

import base64
import dataclasses
import html
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pinnbalance.config import scheme_for
from pinnbalance.io import atomic_write_text, write_json
from pinnbalance.nn import mlp_for
from pinnbalance.problems import PROBLEMS
from pinnbalance.reproduce import prepare_out
from pinnbalance.training import TrainConfig, fit_seeds
from pinnbalance.training.sharding import seed_split
from pinnbalance.weighting.interface import per_point


def steady_ms_per_step(result, config: TrainConfig) -> float:
    """Wall time per step after the first (compiling) chunk, for the whole vmapped program."""
    chunk = config.log_every * config.chunk_logs
    rest = config.steps - chunk
    if rest <= 0:
        return 1000 * result.train_seconds / config.steps
    return 1000 * (result.train_seconds - result.first_chunk_seconds) / rest


def compare(
    problem_name: str,
    schemes: Sequence[str],
    seeds: Sequence[int],
    config: TrainConfig = TrainConfig(),
    out: str | Path = "runs/compare",
    overwrite: bool = False,
    progress: bool = True,
    fixed_points: int = 1024,
    devices: int = 1,
) -> dict:
    """Train every scheme for every seed; write the JSON, table, figures and HTML report.

    Per-point schemes (self-adaptive weights) need one fixed point set: they train on
    ``fixed_points`` points per term, all of them every step (``sampling="fixed"``); the
    others draw fresh batches as ``config`` says. ``devices > 1`` splits the seeds over that
    many devices (as ``reproduce`` does; ``ms_per_step`` is then the step of each device's share).
    """
    if problem_name not in PROBLEMS:
        raise KeyError(f"unknown problem {problem_name!r}; valid problems are {list(PROBLEMS)}")
    problem = PROBLEMS[problem_name]()
    sharding, padding = seed_split(seeds, devices)
    built = {name: scheme_for(name, problem) for name in schemes}
    out = prepare_out(Path(out), overwrite)
    network = mlp_for(problem.domain)
    entries, histories = {}, {}
    for name, scheme in built.items():
        label = f"{name} x {len(seeds)} seeds" if progress else False
        scheme_problem, scheme_config = problem, config
        if per_point(scheme):
            scheme_problem = problem.with_batch_sizes(fixed_points)
            scheme_config = dataclasses.replace(config, sampling="fixed")
        results = fit_seeds(
            scheme_problem, network, scheme, scheme_config, list(seeds) + padding, progress=label, sharding=sharding
        )[: len(seeds)]
        histories[name] = [r.history for r in results]
        entries[name] = {
            "min_l2": [float(r.history["l2"].min()) for r in results],
            "final_l2": [float(r.history["l2"][-1]) for r in results],
            "final_weights": {t: [r.weights[t] for r in results] for t in problem.term_names},
            "weight_updates_held": [int(r.state.weights.held) for r in results],
            "ms_per_step": steady_ms_per_step(results[0], config),
            "train_seconds": results[0].train_seconds,
        }
        summary = {"problem": problem.name, "steps": config.steps, "seeds": list(seeds), "schemes": entries}
        write_json(out / "compare.json", summary)  # after each scheme: a stopped comparison keeps its results
    if "constant" in entries:
        for e in entries.values():
            e["overhead_vs_constant"] = e["ms_per_step"] / entries["constant"]["ms_per_step"] - 1
    write_json(out / "compare.json", summary)
    table = markdown_table(summary)
    atomic_write_text(out / "compare.md", table)
    figures = write_figures(out, problem, histories)
    atomic_write_text(out / "report.html", html_report(summary, table, figures))
    return summary


def _median_range(values) -> str:
    v = np.asarray(values)
    return f"{np.median(v):.2e} [{v.min():.2e}, {v.max():.2e}]"


def markdown_table(summary: dict) -> str:
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
            f"| {name} | {_median_range(e['min_l2'])} | {_median_range(e['final_l2'])} | {e['ms_per_step']:.2f} | {over} |"
        )
    return "\n".join(lines) + "\n"


def write_figures(out: Path, problem, histories: dict) -> list[Path]:
    try:
        from pinnbalance import plot

        plt = plot._plt()
    except ImportError as err:
        warnings.warn(f"{err}; skipping figures", stacklevel=2)
        return []
    paths = [plot.seed_spread(histories, out / "l2_by_scheme.png")]
    others = [t for t in problem.term_names if t != problem.reference]
    fig, axes = plt.subplots(1, len(problem.term_names), figsize=(5 * len(problem.term_names), 3.8), squeeze=False)
    for ax, term in zip(axes[0], problem.term_names):
        for i, (name, hs) in enumerate(histories.items()):
            w = np.median(np.stack([h[f"weight_{term}"] for h in hs]), 0)
            ax.semilogy(hs[0]["step"], w, color=f"C{i}", lw=1, label=name)
        ax.set_title(f"weight of {term} (median over seeds)" + ("" if term in others else ", reference"))
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(plot._save(fig, out / "weights_by_scheme.png"))
    return paths


def html_report(
    summary: dict,
    table: str,
    figures: list[Path],
    title: str | None = None,
    intro: str = "Schemes ranked by median minimum relative L2 error over seeds.",
) -> str:
    """A single HTML file with the table and the figures embedded (no external files)."""
    rows = [line for line in table.splitlines() if line.startswith("|") and not line.startswith("|---")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cells[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in cells[1:])
    images = "".join(
        f'<figure><img alt="{p.stem}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}"></figure>'
        for p in figures
    )
    title = html.escape(title or f"pinnbalance compare: {summary['problem']}, {summary['steps']} steps, seeds {summary['seeds']}")
    style = "body{font-family:sans-serif;max-width:1200px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}img{max-width:100%}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head>"
        f"<body><h1>{title}</h1><p>{html.escape(intro)}</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{images}</body></html>\n"
    )
