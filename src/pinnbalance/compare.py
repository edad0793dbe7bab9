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

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from pinnbalance.config import scheme_for
from pinnbalance.io import atomic_write_text, write_json
from pinnbalance.nn import mlp_for
from pinnbalance.problems.external import make_problem
from pinnbalance.report.figures import scheme_figures
from pinnbalance.report.html import html_report
from pinnbalance.report.tables import compare_table
from pinnbalance.reproduce import final_l2, prepare_out
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
    problem = make_problem(problem_name)
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
            "final_l2": [final_l2(scheme_problem, network, r) for r in results],
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
    table = compare_table(summary)
    atomic_write_text(out / "compare.md", table)
    figures = scheme_figures(out, problem, histories)
    atomic_write_text(out / "report.html", html_report(summary, table, figures))
    return summary
