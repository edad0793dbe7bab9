"""Time to accuracy on this machine -> benchmarks/results/frontier.json (+ frontier.png).

For each problem and method (a committed TOML configuration), one training per seed; the
clock starts when training is called (problem and network built), includes compilation and
excludes the error evaluations, which are timed separately and subtracted. The relative L2
error on the problem's standard evaluation grid is recorded at least 100 times per run (the
history's records: every ``log_every`` steps of the first-order phase, every ``log_every``
iterations of an L-BFGS or Levenberg-Marquardt phase). Each record's wall time: the first-order phase's
records at the end of their chunk (so never earlier than they were reached); an L-BFGS or LM phase's
records by their own clock (each is one chunk: the phases call the callbacks per record).

    python benchmarks/frontier.py --problems klein-gordon --methods lm,adam-lm --seeds 1234
    python benchmarks/frontier.py                        # everything, seed 1234 (screening)
    python benchmarks/frontier.py --seeds 1234,1,2 --methods lm,adam-lm   # the two best per problem
    python benchmarks/frontier.py --figure               # frontier.png from frontier.json
    python benchmarks/frontier.py --problems wave --methods soap-piratenet-causal --budget 600  # 2026 rows: 10 min
    python benchmarks/frontier.py --problems wave --methods gpu-2026 --budget 240   # the GPU recipe (RECIPES)

Results merge into frontier.json run by run (a finished (problem, method, seed) is skipped
unless --force), and a run in progress checkpoints under ``--runs`` (default runs/frontier/; its
clock too), so a long benchmark resumes where it was stopped, inside a run as well; ``--budget`` caps a run's
wall time (default 1,800 s: the run stops after the chunk that passes it). Each run records the
cores it may use and the load average before and after: pin it to a core of its own
(``taskset -c 1 python benchmarks/frontier.py ...``) while other work runs on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from pinnbalance import config as cfg  # noqa: E402
from pinnbalance import runtime  # noqa: E402
from pinnbalance.io import atomic_write_text, write_json  # noqa: E402
from pinnbalance.metrics import evaluation_grid, predict, relative_l2  # noqa: E402
from pinnbalance.nn import count_params  # noqa: E402
from pinnbalance.nn.hard import for_problem  # noqa: E402
from pinnbalance.run import resumed_progress  # noqa: E402
from pinnbalance.run_folder import CHECKPOINT, Checkpoints, checkpoint_writer, new_folder  # noqa: E402
from pinnbalance.training import Callback, train  # noqa: E402
from pinnbalance.training.lbfgs_checkpoint import LBFGSCheckpoint  # noqa: E402
from pinnbalance.training.lm_checkpoint import LMCheckpoint  # noqa: E402

RESULTS = HERE / "results" / "frontier.json"
TOLERANCES = ("1e-2", "1e-3", "1e-4", "1e-5")
METHODS = {
    "klein-gordon": {
        "adam-annealing": "configs/klein-gordon-m2.toml",
        "adam-ntk": "configs/frontier/klein-gordon-adam-ntk.toml",
        "best-lbfgs": "configs/klein-gordon-adam-lbfgs.toml",  # the best before LM (now configs/*-best.toml is LM)
        "lm": "configs/frontier/klein-gordon-lm.toml",
        "lm-small": "configs/frontier/klein-gordon-lm-small.toml",
        "adam-lm": "configs/frontier/klein-gordon-adam-lm.toml",
        **{m: f"configs/frontier/klein-gordon-{m}.toml" for m in ("adam-mlp", "soap-mlp", "adam-piratenet", "soap-piratenet")},
    },
    "helmholtz": {
        "adam-annealing": "configs/helmholtz-m2.toml",
        "adam-ntk": "configs/frontier/helmholtz-adam-ntk.toml",
        "best-lbfgs": "configs/helmholtz-adam-lbfgs.toml",
        "lm": "configs/frontier/helmholtz-lm.toml",
        "lm-damped": "configs/frontier/helmholtz-lm-damped.toml",  # lm with mu0 = 100 (results/lm_robustness.md)
        "adam-lm": "configs/frontier/helmholtz-adam-lm.toml",
    },
    "wave": {
        "adam-annealing": "configs/frontier/wave-adam-annealing.toml",
        "adam-ntk": "configs/wave-ntk.toml",
        "lm": "configs/frontier/wave-lm.toml",
        "lm-causal": "configs/frontier/wave-lm-causal.toml",  # wave-lm with [causal] (issue 19)
        "adam-lm": "configs/frontier/wave-adam-lm.toml",
        "adam-lm-resampled": "configs/frontier/wave-adam-lm-resampled.toml",  # fresh LM points every 50 (lm_robustness.md)
        **{  # the 2026 toolkit (issue 19): each with and without causal weighting (the recipe's eps = 1; the paper's schedule)
            f"{m}{c}": f"configs/frontier/wave-{m}{c}.toml"
            for m in ("adam-mlp", "soap-mlp", "adam-piratenet", "soap-piratenet")
            for c in ("", "-causal", "-causal-schedule")
        },
    },
    "cavity": {  # its error also without the grid's boundary nodes (INTERIOR: the lid's corners are singular)
        "best-lbfgs": "configs/cavity-best.toml",  # Adam + annealing (modified MLP) + L-BFGS
        "lm": "configs/frontier/cavity-lm.toml",
    },
}


def box_interior(points: np.ndarray, lower, upper) -> np.ndarray:
    """A mask of the grid nodes strictly inside the box ``[lower, upper]``: a node with any
    coordinate on a bound (to 1e-6 of the box's extent, so a float32 grid counts too) is out.

        >>> box_interior(np.array([[0.0, 0.5], [0.5, 0.5], [1.0, 1.0]]), (0.0, 0.0), (1.0, 1.0)).tolist()
        [False, True, False]
    """
    points, lower, upper = np.asarray(points, np.float64), np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    tol = 1e-6 * (upper - lower)
    return np.all((points > lower + tol) & (points < upper - tol), axis=-1)


# Problems whose error is also reported without the evaluation grid's boundary nodes:
# ``problem -> mask of the nodes kept``. The cavity's grid includes the lid's corners, where u
# jumps from 1 (lid) to 0 (side walls): no smooth network fits them, and they dominate its error.
INTERIOR = {"cavity": lambda problem, points: box_interior(points, problem.domain.lower, problem.domain.upper)}


def interior_errors(problem, pred, exact, points) -> dict:
    """``{"final_l2_interior": ||pred - exact|| / ||exact||}`` over the nodes ``INTERIOR`` keeps
    for this problem (``{}`` for a problem without an interior mask)."""
    keep = INTERIOR.get(problem.name)
    if keep is None:
        return {}
    mask = keep(problem, np.asarray(points))
    pred, exact = np.asarray(pred, np.float64)[mask], np.asarray(exact, np.float64)[mask]
    return {"final_l2_interior": float(np.linalg.norm(pred - exact) / np.linalg.norm(exact))}


RECIPES = {  # runs only when named in --methods (a GPU's size: not part of a CPU screening of everything)
    "wave": {"gpu-2026": "configs/wave-2026-gpu.toml"},  # benchmarks/gpu.sh --wave-2026
}


class Clock(Callback):
    """The wall time after each chunk, since ``begin``, and whether the chunk was a second-order
    phase's (L-BFGS or Levenberg-Marquardt: one record each); stops the loop past ``budget`` seconds."""

    def __init__(self, begin: float, budget: float | None, marks: list | None = None):
        self.begin, self.budget, self.marks = begin, budget, [tuple(m) for m in marks] if marks else [(0, 0.0, False)]

    def on_chunk(self, progress) -> None:
        seconds = time.perf_counter() - self.begin
        self.marks.append((progress.steps_done, seconds, isinstance(progress.state, (LBFGSCheckpoint, LMCheckpoint))))
        if self.budget is not None and seconds > self.budget and progress.steps_done < progress.total:
            progress.stop = "budget"


def record_times(result, marks) -> np.ndarray:
    """The wall time of each history record (see the module docstring), compilation included:
    a first-order record at the end of its chunk, each L-BFGS or LM record at the end of its own
    chunk (those phases call the callbacks per record; the spread below serves results whose
    L-BFGS phase had no marks, from before it called them)."""
    steps = result.history["step"].astype(float)
    first_marks = np.array([(d, t) for d, t, lm in marks if not lm], float)
    lm_times = [t for _, t, lm in marks if lm]
    done, at = first_marks[:, 0], first_marks[:, 1]
    first = int(np.sum(steps < done[-1]))  # the first-order phase's records (each before its chunk's end)
    rest = len(steps) - len(lm_times)  # the records before the LM phase
    if rest < first or (rest > first and "lbfgs" not in result.extra):
        raise ValueError(
            f"the clock's marks do not fit the history: {len(steps)} records, {first} of them the first phase's, "
            f"and {len(lm_times)} marks of later phases; marks and records must come from the same training "
            "(a resume keeps only the marks of its history: kept_marks)"
        )
    times = list(at[np.searchsorted(done, steps[:first], side="right")])  # its chunk's end: never early
    if rest > first:  # L-BFGS records, spread evenly over its measured duration
        seconds = float(np.ravel([result.extra["lbfgs"]["seconds"]])[0])
        times += list(at[-1] + seconds * np.arange(1, rest - first + 1) / (rest - first))
    return np.asarray(times + lm_times)


def without_evaluations(times: np.ndarray, per_eval: float) -> np.ndarray:
    """Record times less the error evaluations done by then: ``t_i - e * n_i``, ``n_i`` the records
    with ``t_j <= t_i`` (``times`` never decrease). A record's time is the end of its chunk, when
    every evaluation of that chunk is done, so records of one chunk lose the same amount and the
    curve never goes back in time (``e * i`` would take ``e`` more from each later record of the chunk).

        >>> without_evaluations(np.array([1.0, 1.0, 3.0]), 0.25).tolist()
        [0.5, 0.5, 2.25]
    """
    times = np.asarray(times, float)
    return times - per_eval * np.searchsorted(times, times, side="right")


def evaluation_seconds(problem, network, params, grid, exact) -> float:
    """The median wall time of one error evaluation on the grid (compiled, warm)."""
    evaluate = jax.jit(lambda p: relative_l2(predict(network, p, grid, problem), exact))
    evaluate(params).block_until_ready()
    times = []
    for _ in range(20):
        t = time.perf_counter()
        evaluate(params).block_until_ready()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


@dataclass
class TimedTraining:
    """One configured training, timed from the call to ``train`` (compilation in)."""

    problem: object
    network: object
    tconf: object
    result: object
    clock: Clock
    wall: float
    load_average: list[float]  # 1-minute, before and after
    results: list = ()  # every run's result: several with [ensemble] (its members), ``result`` the first


def timed_training(config_path: str, overrides: list[str], budget: float | None, folder: Path | None = None) -> TimedTraining:
    """Load ``config_path`` with ``overrides``, build its pieces and train it once under a
    ``Clock`` (stopping past ``budget`` seconds); shared with ``pinnacle.py``.

    With ``folder`` the training is resumable: a checkpoint (``[train] checkpoint_every``, and
    ``[lm] checkpoint_every`` inside an LM phase) and the clock so far are written there, and a
    later call with the same folder goes on from them, its clock continuing the saved one (the
    resumed process compiles again: that time counts). The caller deletes the folder when done."""
    config = cfg.load(ROOT / config_path, overrides)
    runtime.prepare(config.train_config())
    problem = config.build_problem()
    network, scheme, tconf = config.build_network(problem), config.build_scheme(problem), config.train_config()
    optimizer = config.train.optimizer()
    start, saved = resumed(folder, config, (problem, network, scheme, optimizer)) if folder is not None else (None, None)
    load_before = os.getloadavg()[0]
    begin = time.perf_counter()
    clock = Clock(begin - (saved["seconds"] if saved else 0.0), budget, saved["marks"] if saved else None)
    callbacks = [
        clock,
        *([Checkpoints(config.checkpoint_every, clock_writer(folder, config, clock))] if folder is not None else []),
    ]
    runs = [(scheme, dataclasses.replace(tconf, seed=s)) for s in config.seeds]  # [ensemble]: a lane per member
    results = train(
        problem, network, runs, vmapped=len(runs) > 1, optimizer=optimizer, progress=False, start=start, callbacks=callbacks
    )
    wall = time.perf_counter() - clock.begin
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return TimedTraining(problem, network, tconf, results[0], clock, wall, load, results)


CLOCK = "clock.json"


def resumed(folder: Path, config, built: tuple) -> tuple[object, dict | None]:
    """The saved ``Progress`` and clock of ``folder`` if it holds both (a resumed run), else
    (None, None) after making it a fresh run folder of ``config``."""
    if not (folder / CLOCK).exists() or not (folder / CHECKPOINT).exists():
        new_folder(folder, config, overwrite=True)
        return None, None
    start = resumed_progress(config, folder, *built)  # a changed configuration is refused, naming the differences
    saved = json.loads((folder / CLOCK).read_text())
    saved["marks"] = kept_marks(saved["marks"], start)  # the clock goes back with the history (a phase redone)
    saved["seconds"] = saved["marks"][-1][1]
    print(f"   resuming {folder} at step {start.steps_done} ({saved['seconds']:.0f} s so far)", flush=True)
    return start, saved


def kept_marks(marks: list, start) -> list[tuple]:
    """The clock's ``marks`` that a run resumed from ``start`` (a ``Progress``) keeps: those up to
    its step, and a second-order phase's only if it resumes inside such a phase. A resume that
    goes back to the first phase's end (a changed ``[lm]`` or ``[lbfgs]`` redoes the phase) drops
    the marks of the phase it redoes, as its history drops that phase's records; so do marks
    written after the checkpoint (the clock is written first). The discarded work's seconds go too.

        >>> from pinnbalance.training.loop import Progress
        >>> kept_marks([(0, 0.0, False), (20, 5.0, False), (22, 7.0, True)], Progress(None, steps_done=20))
        [(0, 0.0, False), (20, 5.0, False)]
    """
    inside = isinstance(start.state, (LBFGSCheckpoint, LMCheckpoint))
    return [tuple(m) for m in marks if m[0] <= start.steps_done and (inside or not m[2])]


def clock_writer(folder: Path, config, clock: Clock):
    """``write(progress)`` for ``Checkpoints``: the clock up to now, then the run folder's checkpoint
    (a kill between the two leaves marks past the checkpoint, which ``kept_marks`` drops on resume;
    the other order would leave records without marks)."""
    write_checkpoint = checkpoint_writer(folder, config)

    def write(progress) -> None:
        atomic_write_text(folder / CLOCK, json.dumps({"seconds": clock.marks[-1][1], "marks": clock.marks}))
        write_checkpoint(progress)

    return write


def run_one(config_path: str, seed: int, budget: float | None, quick: bool = False, folder: Path | None = None) -> dict:
    """One training of ``config_path`` on ``seed``: its error curve against wall time (``quick``:
    a few steps and iterations, to check the script; ``folder``: resumable there, see ``timed_training``)."""
    overrides = [f"train.seeds=[{seed}]"]
    if quick:
        base = cfg.load(ROOT / config_path)
        overrides += [f"train.steps={min(base.train.steps, 201)}"] if base.train.steps else []
        overrides += ["lm.max_iters=10"] if base.train.lm is not None else []
        overrides += ["lbfgs.max_iters=10"] if base.train.lbfgs is not None else []
        recipes = {path for methods in RECIPES.values() for path in methods.values()}
        overrides += ["sampling.batch_size=64"] if config_path in recipes else []  # a GPU's batch: a CPU checks it small
    t = timed_training(config_path, overrides, budget, folder)
    problem, network, tconf, result, clock, wall = t.problem, t.network, t.tconf, t.result, t.clock, t.wall
    network = for_problem(problem, network)  # as trained: under the problem's hard constraint, with its unknowns
    grid, exact = evaluation_grid(problem, tconf.eval_grid, tconf.jnp_dtype)
    per_eval = evaluation_seconds(problem, network, result.params, grid, exact)
    l2 = result.history["l2"].astype(float)
    times = without_evaluations(record_times(result, clock.marks), per_eval)
    points = sum(t.batch_size for t in problem.terms.values())
    interior = interior_errors(problem, predict(network, result.params, grid, problem), exact, grid)
    return {
        "final_l2": float(l2[-1]),
        **interior,
        "min_l2": float(np.nanmin(l2)),
        "seconds": float(times[-1]),
        "wall_seconds": wall,
        "evaluation_seconds_each": per_eval,
        "evaluations": len(l2),
        "curve": [[round(float(t), 3), float(e)] for t, e in zip(times, l2)],
        "time_to": {tol: _first_below(times, l2, float(tol)) for tol in TOLERANCES},
        "params": count_params(result.params),
        "points": points,
        "status": result.status,
        "cores": cores(),
        "load_average": t.load_average,
        "extra": {k: v for k, v in result.extra.items() if k in ("lbfgs", "lm", "choices")},
    }


def _first_below(times, l2, tol: float) -> float | None:
    hit = np.flatnonzero(l2 <= tol)
    return float(times[hit[0]]) if hit.size else None


def summarize(entry: dict) -> dict:
    """The per-method fields over seeds: medians, and the median time to each tolerance (a
    seed that never reaches it counts as infinite; null if the median is infinite)."""
    runs = [entry["runs"][str(s)] for s in entry["seeds"]]
    out = {
        "final_l2": [r["final_l2"] for r in runs],
        "min_l2": [r["min_l2"] for r in runs],
        "seconds": [r["seconds"] for r in runs],
        "median_l2": float(np.median([r["final_l2"] for r in runs])),
        "params": runs[0]["params"],
        "points": runs[0]["points"],
    }
    if all("final_l2_interior" in r for r in runs):  # a problem with an INTERIOR mask
        out["median_l2_interior"] = float(np.median([r["final_l2_interior"] for r in runs]))
    out["time_to"] = {}
    for tol in TOLERANCES:
        median = float(np.median([math.inf if r["time_to"][tol] is None else r["time_to"][tol] for r in runs]))
        out["time_to"][tol] = None if math.isinf(median) else median
    return out


def cores() -> int:
    """CPU cores this process may run on (``taskset`` narrows them: one heavy job a core)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def device_name() -> str:
    d = jax.devices()[0]
    where = f"{cores()} of {os.cpu_count()} cores" if d.platform == "cpu" else f"{jax.device_count()} device(s)"
    return f"{d.platform} ({platform.processor() or platform.machine()}, {where})"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problems", default=",".join(METHODS))
    p.add_argument("--methods", default=None, help="comma-separated method names (default: all of each problem)")
    p.add_argument("--seeds", default="1234")
    p.add_argument("--budget", type=float, default=1800.0, help="wall seconds per run (the run stops after the chunk past it)")
    p.add_argument("--force", action="store_true", help="train again runs already in the results")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--figure", action="store_true", help="only draw frontier.png and frontier.md from the results")
    p.add_argument("--quick", action="store_true", help="a few steps of each run: checks the script (write elsewhere, --out)")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "frontier", help="checkpoints of unfinished runs (resumed)")
    args = p.parse_args(argv)
    if args.figure:
        report(args.out)
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    for problem in args.problems.split(","):
        known = {**METHODS[problem], **RECIPES.get(problem, {})}
        wanted = METHODS[problem] if args.methods is None else {m: known[m] for m in args.methods.split(",") if m in known}
        for method, path in wanted.items():
            for seed in seeds:
                results = json.loads(args.out.read_text()) if args.out.exists() else {}
                entry = results.setdefault(problem, {"methods": {}})["methods"].setdefault(method, {"config": path, "runs": {}})
                if str(seed) in entry["runs"] and not args.force:
                    continue
                print(f"== {problem} {method} seed {seed}: {path}", flush=True)
                folder = None if args.quick else args.runs / f"{problem}-{method}-seed{seed}"
                run = run_one(path, seed, args.budget, args.quick, folder)
                inner = f" (interior {run['final_l2_interior']:.2e})" if "final_l2_interior" in run else ""
                print(f"   final L2 {run['final_l2']:.2e}{inner}, {run['seconds']:.0f} s, time to {run['time_to']}", flush=True)
                entry["runs"][str(seed)] = run
                entry["seeds"] = sorted((int(s) for s in entry["runs"]), key=lambda s: (s != 1234, s))
                entry.update(summarize(entry), config=path, device=device_name())
                write_json(args.out, results)
                if folder is not None:
                    shutil.rmtree(folder)  # recorded above: its checkpoint is no longer needed
    if args.out.exists():
        report(args.out)
    return 0


def report(out: Path) -> None:
    """``frontier.png`` and ``frontier.md`` beside the results file."""
    results = json.loads(out.read_text())
    figure(results, out.with_suffix(".png"))
    atomic_write_text(out.with_suffix(".md"), table(results))


def table(results: dict) -> str:
    """A markdown table: per problem and method, the median final error and median time to each
    tolerance over its seeds ("-": the median seed never reached it), fastest to 1e-3 first; where
    a problem has an ``INTERIOR`` mask, the median error without the grid's boundary nodes too."""
    fmt = lambda s: "-" if s is None else f"{s:.0f} s"  # noqa: E731
    lines = [
        "| problem | method | seeds | median final L2 | " + " | ".join(f"to {t}" for t in TOLERANCES) + " | device |",
        "|---|---|---|---|" + "---|" * len(TOLERANCES) + "---|",
    ]
    for problem, block in results.items():
        order = sorted(block["methods"].items(), key=lambda kv: (kv[1]["time_to"]["1e-3"] or math.inf, kv[1]["median_l2"]))
        for method, e in order:
            times = " | ".join(fmt(e["time_to"][t]) for t in TOLERANCES)
            seeds = ", ".join(str(s) for s in e["seeds"])
            l2 = f"{e['median_l2']:.2e}" + (f" (interior {e['median_l2_interior']:.2e})" if "median_l2_interior" in e else "")
            lines.append(f"| {problem} | [{method}](../../{e['config']}) | {seeds} | {l2} | {times} | {e['device']} |")
    return "\n".join(lines) + "\n"


def figure(results: dict, path: Path) -> None:
    """Relative L2 error against wall seconds, log-log, one line per method (seed 1234's run); a
    run's final error without the grid's boundary nodes (``INTERIOR``), where recorded, as a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(results)
    fig, axes = plt.subplots(1, len(problems), figsize=(5 * len(problems), 4), squeeze=False)
    for ax, problem in zip(axes[0], problems):
        for method, entry in results[problem]["methods"].items():
            run = entry["runs"].get("1234") or next(iter(entry["runs"].values()))
            t, e = np.array(run["curve"]).T
            keep = t > 0
            [line] = ax.loglog(t[keep], e[keep], label=method)
            if "final_l2_interior" in run:
                ax.loglog([t[-1]], [run["final_l2_interior"]], "o", color=line.get_color())
        ax.set(title=problem, xlabel="wall seconds on this machine (compile included)", ylabel="relative L2 error")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
