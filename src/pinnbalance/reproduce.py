"""The founding experiment end to end: train methods, write a run folder a user can trust.

Run folder layout::

    OUT/config.json        resolved problem, methods, schemes, training settings, versions
    OUT/summary.json       per-method metrics (lists aligned with ``seeds`` when several)
    OUT/summary.md         the published-style table with % reductions vs M1
    OUT/<method>/          history.csv, params.npz + network.json, predictions.npz
    OUT/*.png              fields, comparison, losses, l2, weights (seed_spread for seeds)

With several seeds each seed has its own ``OUT/seed_<S>/`` holding the method folders, and
all seeds of a method train together in one compiled program (``fit_seeds``, vmapped);
their ``train_seconds`` is then the wall time of that whole program.
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import jax
import numpy as np

from pinnbalance.component_metrics import final_component_metrics
from pinnbalance.io import atomic_write_text, save_params, write_history_csv, write_json, write_npz
from pinnbalance.methods import get_method
from pinnbalance.metrics import evaluation_grid, evaluation_losses, evaluation_set, predict, relative_l2
from pinnbalance.nn.hard import for_problem
from pinnbalance.problems.base import Problem
from pinnbalance.problems.external import find_factory, make_problem
from pinnbalance.training import FitResult, TrainConfig, fit, fit_seeds
from pinnbalance.training.sharding import seed_split
from pinnbalance.unknown_outputs import solution_view


class RunFolderError(FileExistsError):
    """The output folder already holds results."""


def prepare_out(out: Path, overwrite: bool) -> Path:
    """Create ``out``; refuse a folder that already holds a run unless ``overwrite``."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"output path {out} exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise RunFolderError(
            f"output folder {out} already holds files; choose a new --out, or pass --overwrite to replace its results"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def method_metrics(problem: Problem, network, result: FitResult, eval_points) -> dict:
    """min/final relative L2, final unweighted losses on the fixed evaluation set, weights, time."""
    h, network = result.history, for_problem(problem, network)  # as trained: built once for every metric below
    i = int(np.nanargmin(h["l2"])) if np.isfinite(h["l2"]).any() else 0  # a diverged run: the best before it
    return {
        "min_l2": float(h["l2"][i]),
        "min_l2_step": int(h["step"][i]),
        "final_l2": final_l2(problem, network, result),
        "final_losses": evaluation_losses(problem, network, result.params, eval_points),
        "final_weights": dict(result.weights),  # every term: NTK, GradNorm, SoftAdapt, ... move the reference too
        "weight_updates_held": int(result.state.weights.held),
        "train_seconds": result.train_seconds,
        "first_chunk_seconds": result.first_chunk_seconds,
        "compile_seconds": result.compile_seconds,
        **final_component_metrics(problem, network, result.params, result.config.eval_grid),  # final_l2re, final_l2/u, ...
    }


def final_l2(problem: Problem, network, result: FitResult) -> float:
    """The final parameters' relative L2 error, evaluated as the records are (on the evaluation
    grid, at the run's matmul precision). The last record holds it when first-order training
    ended on it (``steps - 1`` a multiple of ``log_every``: a record follows the first step of
    each block); a second-order phase may end on other parameters than its last record (the
    iteration ``lm.holdout`` picks). A diverged run keeps its last record."""
    h, config = result.history, result.config
    ended_on_record = not {"lbfgs", "lm"} & set(result.extra) and int(h["step"][-1]) == int(np.max(result.state.step)) - 1
    if ended_on_record or result.status == "diverged":
        return float(h["l2"][-1])
    points, exact = evaluation_grid(problem, config.eval_grid, config.jnp_dtype)
    with jax.default_matmul_precision(config.matmul_precision):
        return float(relative_l2(predict(for_problem(problem, network), result.params, points, problem), exact))


def save_method(folder: Path, problem: Problem, network, result: FitResult, grid_n: int) -> dict[str, np.ndarray]:
    """Write one trained method's history, parameters and grid predictions; return the latter."""
    full, params = for_problem(problem, network), result.params  # the compared quantity may read the unknowns (heat-inverse)
    network, result = solution_view(full, result)  # the solution network's own (unknown_outputs)
    write_history_csv(folder / "history.csv", result.history)
    save_params(folder, network, result.params)
    dtype = jax.tree_util.tree_leaves(result.params)[0].dtype
    points, reference = evaluation_grid(problem, grid_n, dtype)
    u_pred, u_exact = np.asarray(predict(full, params, points, problem)), np.asarray(reference)
    if problem.reference_data is not None or len(points) != grid_n**2:  # the reference's own points, or not a full grid
        pred = {"points": np.asarray(points), "u_pred": u_pred, "u_exact": u_exact, "abs_error": np.abs(u_pred - u_exact)}
        write_npz(folder / "predictions.npz", pred)
        return pred
    u_pred, u_exact = u_pred.reshape(grid_n, grid_n), u_exact.reshape(grid_n, grid_n)
    axes = [np.linspace(lo, hi, grid_n) for lo, hi in zip(*problem.domain.bounds())]
    pred = {"axis0": axes[0], "axis1": axes[1], "u_pred": u_pred, "u_exact": u_exact, "abs_error": np.abs(u_pred - u_exact)}
    write_npz(folder / "predictions.npz", pred)
    return pred


def resolved_config(problem: Problem, methods: Sequence[str], seeds: Sequence[int], config: TrainConfig) -> dict:
    """Everything needed to rerun: problem, methods with their schemes' fields, settings, versions."""
    import optax

    from pinnbalance import __version__

    def describe(obj):
        fields = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            fields[f.name] = getattr(v, "name", v) if not isinstance(v, (int, float, str, tuple, dict)) else v
        return {"type": type(obj).__name__, **fields}

    return {
        "problem": problem.name,
        "problem_parameters": dict(problem.parameters),
        "coordinates": list(problem.domain.names),
        "batch_sizes": {n: t.batch_size for n, t in problem.terms.items()},
        "seeds": list(seeds),
        "methods": {
            m: {
                "description": get_method(m).description,
                "network": describe(get_method(m).network(problem)),
                "scheme": describe(get_method(m).scheme(problem)),
            }
            for m in methods
        },
        "train": dataclasses.asdict(config),
        "versions": {
            "pinnbalance": __version__,
            "jax": jax.__version__,
            "optax": optax.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
        },
        "platform": {"backend": jax.default_backend(), "device": str(jax.devices()[0]), "machine": platform.machine()},
    }


def reproduce(
    problem_name: str = "klein-gordon",
    methods: Sequence[str] = ("M1", "M2"),
    seeds: Sequence[int] = (1234,),
    config: TrainConfig = TrainConfig(),
    out: str | Path = "runs/klein-gordon",
    overwrite: bool = False,
    progress: bool = True,
    figures: bool = True,
    devices: int = 1,
) -> dict:
    """Train every method for every seed and write the run folder; return the summary.

    With ``devices > 1`` and several seeds, the seeds are split over that many devices
    (``training.sharding.seed_split``: an uneven count is padded with extra seeds whose runs
    are dropped; on a CPU, simulate the devices first: ``simulate_cpu_devices``)."""
    find_factory(problem_name)  # a registered name or the user's own (problems.external): checked first
    for m in methods:
        get_method(m)
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("give at least one seed")
    sharding, padding = seed_split(seeds, devices)  # checked before any output
    problem = make_problem(problem_name)
    out = prepare_out(Path(out), overwrite)
    write_json(out / "config.json", resolved_config(problem, methods, seeds, config) | {"problem_name": problem_name})
    eval_points = evaluation_set(problem, config.eval_points, config.jnp_dtype)
    per_seed: dict[str, list[dict]] = {m: [] for m in methods}
    histories: dict[str, list[dict]] = {m: [] for m in methods}
    predictions: dict[str, list[dict]] = {m: [] for m in methods}
    for m in methods:
        method = get_method(m)
        network, scheme = method.network(problem), method.scheme(problem)
        label = m if progress else False
        if len(seeds) == 1:
            results = [fit(problem, network, scheme, dataclasses.replace(config, seed=seeds[0]), progress=label)]
        else:  # all seeds of a method in one compiled program
            label = f"{m} x {len(seeds)} seeds" if progress else False
            results = fit_seeds(problem, network, scheme, config, seeds + padding, progress=label, sharding=sharding)
            results = results[: len(seeds)]
        for seed, result in zip(seeds, results):
            base = out if len(seeds) == 1 else out / f"seed_{seed}"
            predictions[m].append(save_method(base / m, problem, network, result, config.eval_grid))
            per_seed[m].append(method_metrics(problem, network, result, eval_points))
            histories[m].append(result.history)
    summary = build_summary(problem, config.steps, seeds, per_seed)
    summary["numerics"] = {
        "dtype": config.dtype,
        "matmul_precision": config.matmul_precision,
        "backend": jax.default_backend(),
        "devices": sharding.count if sharding else 1,
    }
    write_json(out / "summary.json", summary)
    atomic_write_text(out / "summary.md", summary_markdown(summary, problem))
    if figures:
        write_figures(out, problem, methods, histories, predictions)
    return summary


def build_summary(problem: Problem, steps: int, seeds: list[int], per_seed: dict[str, list[dict]]) -> dict:
    """One seed: metrics as numbers (the documented shape). Several: lists aligned with ``seeds``."""
    if len(seeds) == 1:
        return {"problem": problem.name, "steps": steps, "seed": seeds[0], "methods": {m: v[0] for m, v in per_seed.items()}}

    def stack(items: list):
        if isinstance(items[0], dict):
            return {k: stack([it[k] for it in items]) for k in items[0]}
        return list(items)

    methods = {}
    for m, items in per_seed.items():
        entry = {"seeds": list(seeds), **stack(items)}
        entry["min_l2_median"] = float(np.median(entry["min_l2"]))
        entry["min_l2_range"] = [float(np.min(entry["min_l2"])), float(np.max(entry["min_l2"]))]
        methods[m] = entry
    return {"problem": problem.name, "steps": steps, "seeds": list(seeds), "methods": methods}


def summary_markdown(summary: dict, problem: Problem) -> str:
    """The published-style results table, with reductions of each method vs M1."""
    from pinnbalance.problems.klein_gordon import PUBLISHED

    published = PUBLISHED if problem.name == "klein-gordon" else {}
    methods = summary["methods"]
    multi = "seeds" in summary
    val = (lambda v: float(np.median(v))) if multi else (lambda v: float(v))  # noqa: E731
    rows = [("min relative L2", lambda d: d["min_l2"]), ("final relative L2", lambda d: d["final_l2"])]
    rows += [(f"final L_{t}", lambda d, t=t: d["final_losses"][t]) for t in problem.term_names]
    cols = list(methods) + [f"published {m}" for m in published]
    lines = [
        f"# {problem.name}: {summary['steps']} steps, "
        + (f"median over seeds {summary['seeds']}" if multi else f"seed {summary['seed']}"),
        "",
        "| | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for label, get in rows:
        ours = [f"{val(get(methods[m])):.3e}" for m in methods]
        pub = [f"{get(published[m]):.2e}" for m in published]
        lines.append(f"| {label} | " + " | ".join(ours + pub) + " |")
    for t in problem.term_names:
        if t != problem.reference:
            lines.append(
                f"| final weight {t} | "
                + " | ".join(f"{val(methods[m]['final_weights'][t]):.3g}" for m in methods)
                + " |"
                + " |" * len(published)
            )
    lines.append(
        "| train seconds | "
        + " | ".join(f"{val(methods[m]['train_seconds']):.1f}" for m in methods)
        + " |"
        + " |" * len(published)
    )
    if "M1" in methods and len(methods) > 1:
        lines += ["", "Reduction vs M1 (ours; published M2 vs M1 in brackets where known):", ""]
        for m in methods:
            if m == "M1":
                continue
            parts = []
            for label, get in rows[:1] + rows[2:]:
                ours = 100 * (1 - val(get(methods[m])) / val(get(methods["M1"])))
                pub = ""
                if m == "M2" and published:
                    pub = f" [{100 * (1 - get(published['M2']) / get(published['M1'])):.1f}%]"
                parts.append(f"{label}: {ours:.1f}%{pub}")
            lines.append(f"- {m}: " + "; ".join(parts))
    return "\n".join(lines) + "\n"


def write_figures(out: Path, problem: Problem, methods, histories, predictions) -> None:
    """Fields per method, the comparison grid, losses, L2 error, weights (and seed spread)."""
    try:
        from pinnbalance.report import figures as plot

        plot.pyplot()
    except ImportError as err:
        warnings.warn(f"{err}; skipping figures", stacklevel=2)
        return
    from pinnbalance.problems.klein_gordon import PUBLISHED

    names = tuple(problem.domain.names)
    first = {m: histories[m][0] for m in methods}
    if all(plot.drawable(predictions[m][0]) for m in methods):  # a 2-D grid or a 1-D domain (not 3-D, not scattered)
        for m in methods:
            plot.fields({m: predictions[m][0]}, names, out / f"fields_{m}.png")
        plot.fields({m: predictions[m][0] for m in methods}, names, out / "comparison.png")
    plot.losses(first, problem.term_names, out / "losses.png")
    published = {m: PUBLISHED[m]["min_l2"] for m in methods if m in PUBLISHED} if problem.name == "klein-gordon" else None
    plot.l2_error(first, out / "l2.png", published)
    if others := tuple(t for t in problem.term_names if t != problem.reference):  # a residual alone has no weights to plot
        plot.weights(first, others, out / "weights.png")
    if len(histories[methods[0]]) > 1:
        plot.seed_spread(histories, out / "seed_spread.png")
