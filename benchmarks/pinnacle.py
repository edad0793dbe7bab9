"""PINNacle's problems under its protocol -> benchmarks/results/pinnacle.json (+ pinnacle.md).

For each problem (burgers-1d, poisson-2d-holes, ns-2d-lid, wave-1d, heat-inverse) and method (a
committed TOML under configs/pinnacle/), one training per seed. Protocol methods follow PINNacle
(5 x 100 tanh; heat-inverse: 5 x 50 for u and 5 x 50 for a; Adam 1e-3, 20,000 steps, its loss
split; its fixed points at its counts (until 2026-12-05 a quarter: pinnacle_quarter.json); docs/pinnacle.md):
``constant`` (its PINN column), ``lr-annealing`` (ours as it ships), ``lr-annealing-pinnacle``
(as PINNacle runs it), ``ntk`` (our NTK-trace weighting). Candidates are further set-ups of
ours; ``--best`` reruns the best screened configuration (lowest seed-1234 l2re) on seeds
1234, 1, 2.

``l2re`` is PINNacle's L2RE (all output components flattened) of the FINAL parameters at the
problem's evaluation points; for burgers-1d it is against the exact (Cole-Hopf) solution and
``l2re_file`` against PINNacle's file (what its published numbers use).

    python benchmarks/pinnacle.py --problems wave-1d --methods constant --seeds 1234
    python benchmarks/pinnacle.py                                  # every protocol run, seed 1234
    python benchmarks/pinnacle.py --candidates                     # the candidates too
    python benchmarks/pinnacle.py --best                           # best screened config on 1234, 1, 2
    python benchmarks/pinnacle.py --quick --out /tmp/p.json        # a few steps of each: checks the script
    python benchmarks/pinnacle.py --table                          # only pinnacle.md from pinnacle.json
    python benchmarks/pinnacle.py --set "train.matmul_precision='highest'"   # on a GPU: float32 without TF32

Results merge into pinnacle.json run by run (a finished (problem, method, seed) is skipped
unless --force), and a run in progress checkpoints under ``--runs`` (every ``train.checkpoint_every``
steps, its clock too), so a long benchmark resumes where it stopped, inside a run as well; ``--budget`` caps a run's wall
time (the run stops after the chunk that passes it). Each run records its device, the cores it
may use and the 1-minute load average before and after: pin it to a core of its own
(``taskset -c 1 python benchmarks/pinnacle.py ...``) while other work runs on the machine.
"""

from __future__ import annotations

import argparse
import fcntl
import importlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from frontier import cores, device_name, timed_training  # noqa: E402  (the same habits as frontier.py)

from pinnbalance import config as cfg  # noqa: E402
from pinnbalance.component_metrics import component_errors, joint_l2re  # noqa: E402
from pinnbalance.ensemble import ensemble_evaluation, stack_params  # noqa: E402
from pinnbalance.io import atomic_write_text, write_json  # noqa: E402
from pinnbalance.metrics import predict  # noqa: E402
from pinnbalance.nn.hard import for_problem  # noqa: E402
from pinnbalance.problems.burgers_1d import file_reference as burgers_file  # noqa: E402

RESULTS = HERE / "results" / "pinnacle.json"
MODULES = ("burgers-1d", "poisson-2d-holes", "ns-2d-lid", "wave-1d", "heat-inverse")
PROTOCOL = ("constant", "lr-annealing", "lr-annealing-pinnacle", "ntk")
# Candidate set-ups per problem (configs/pinnacle/PROBLEM-NAME.toml), screened on seed 1234 by --candidates.
CANDIDATES = {
    "burgers-1d": ("annealing-lbfgs", "lm", "lm-shock", "lm400"),
    "poisson-2d-holes": ("annealing-lbfgs", "lm", "lm-wide"),
    "ns-2d-lid": ("annealing-lbfgs", "lm", "lm-long", "lm-fresh", "lm-corners"),
    "wave-1d": ("annealing-lbfgs", "lm", "lm400"),
    "heat-inverse": (
        "annealing-lbfgs",
        "lm",
        "lm-data",
        "lm-d30",
        "lm-d10",
        "lm-holdout",
        "lm-holdout-d10",
        "lm-holdout-small",
        "lm-holdout-tiny",
        "lm-holdout-small-d10",
        "lm-holdout-small-8k",
        "lm-holdout-small-a12",
        "lm-holdout-small-h10",
        "lm-hard",
        "lm-hard-d100",
        "lm-hard-d300",
        "lm-holdout-small-a30",
        "lm-holdout-small-md10",
        "lm-holdout-small-mu01",
        "lm-holdout-small-mu1",
        "lm-holdout-small-d100",
        "lm-refit-small",
        "lm-holdout-small-early25",
        "lm-holdout-small-early50",
        "lm-ensemble",
        "lm-ensemble12",
    ),
}
BEST_SEEDS = (1234, 1, 2)
# Two-stage candidates (early stopping, then a refit on every row): NAME -> the held-out candidate (lm.holdout_term)
# whose picked iteration k* it trains to. Stage 1 runs that candidate on the seed and reads k*; stage 2 runs NAME's
# config (the same, less the held-out rows: all observations) from the same initialisation, with the same point
# redraws, for exactly k* LM iterations. Only the observations decide k*; both stages count in the seconds.
REFIT = {"heat-inverse": {"lm-refit-small": "lm-holdout-small"}}


def config_path(problem: str, method: str) -> str:
    return f"configs/pinnacle/{problem}-{method}.toml"


def published(problem: str) -> dict:
    """PINNacle's numbers for ``problem`` (its module's ``PUBLISHED``): PINN, LRA, NTK, best; null = diverged."""
    table = importlib.import_module(f"pinnbalance.problems.{problem.replace('-', '_')}").PUBLISHED
    out = {k: table.get(k) for k in ("PINN", "LRA", "NTK")} | {"best": table["best"]}
    if "notes" in table:
        out["notes"] = table["notes"]
    return out


def refit_iteration(path: str, seed: int, budget: float | None, extra: tuple = ()) -> tuple[int, float]:
    """Stage 1 of a ``REFIT`` candidate: ``(k*, seconds)``, the LM iteration the held-out rows of
    ``path`` picked on ``seed`` (its ``holdout_iteration``) and the wall seconds it took."""
    t = timed_training(path, [f"train.seeds=[{seed}]", *extra], budget)
    picked = t.result.extra["lm"]["holdout_iteration"]
    return int(picked[0] if isinstance(picked, list) else picked), t.wall


def run_one(
    path: str, seed: int, budget: float | None, quick: bool = False, folder: Path | None = None, extra: tuple = ()
) -> dict:
    """One training of ``path`` on ``seed``: final L2RE (and per component), seconds, points, device
    (``folder``: checkpointed there and resumed from it, see ``frontier.timed_training``; ``extra``:
    further ``key=value`` overrides). With ``[ensemble]`` the seed's K members train as one program
    and the L2RE is their mean prediction's (``ensemble_run``)."""
    overrides = [f"train.seeds=[{seed}]", *extra]
    base = cfg.load(ROOT / path)
    if quick:  # a few steps on small fixed sets: checks the script end to end
        overrides += ["train.steps=20", "train.log_every=10", "train.chunk_logs=1", "sampling.batch_size=64"]
        overrides += ["lbfgs.max_iters=5"] if base.train.lbfgs is not None else []
    t = timed_training(path, overrides, budget, folder)
    problem, network, tconf, result, seconds = t.problem, t.network, t.tconf, t.result, t.wall
    points, ref = problem.reference_data
    full = for_problem(problem, network)  # heat-inverse compares (u, a): the params carry a's network; a hard constraint applies
    pred = np.asarray(predict(full, result.params, np.asarray(points, tconf.jnp_dtype), problem), np.float64)
    errors = {k: float(v) for k, v in component_errors(pred, np.asarray(ref, np.float64), problem.components).items()}
    run = {
        "l2re": errors.pop("l2re"),
        "components": {k.removeprefix("l2/"): v for k, v in errors.items()},
        "seconds": seconds,
        "compile_seconds": result.compile_seconds,
        "steps": int(result.state.step),
        "status": result.status,
        "points": {name: t.batch_size if t.points_of is None else f"= {t.points_of}" for name, t in problem.terms.items()},
        "sampling": tconf.sampling,  # "random": fresh points every step; "fixed": one set for the run
        "problem_parameters": dict(base.problem.parameters),  # e.g. poisson-2d-holes' boundary_split
        "device": device_name(),
        "matmul_precision": tconf.matmul_precision,  # "default" on a GPU lets XLA use TF32 for float32
        "cores": cores(),
        "load_average": t.load_average,  # 1-minute, before and after
        "weights": result.weights,
        "extra": {k: v for k, v in result.extra.items() if k in ("lbfgs", "choices")},
        "curve": curve(result.history),
    }
    if extra:  # e.g. --set train.matmul_precision="highest" on a GPU
        run["overrides"] = list(extra)
    if len(problem.components) > 1:  # which output an error comes from, along the run
        keys = [k for k in result.history if k.startswith(("l2/", "unknown_l2/"))]  # an LM phase records the unknowns' only
        run["component_curves"] = {k: curve(result.history, k) for k in keys}
    if "lm" in result.extra:  # how the LM phase ended (with held-out rows: the iteration they picked)
        keys = ("reason", "iterations", "holdout_iteration", "holdout_loss")
        run["extra"]["lm"] = {k: v for k, v in result.extra["lm"].items() if k in keys}
    if base.ensemble is not None:  # [ensemble]: the members' mean prediction is the run's; their spread beside it
        pred = ensemble_run(run, problem, network, t.results, (points, ref))
    if problem.name == "burgers-1d":  # PINNacle's numbers are against its file, 1.33e-2 off the exact solution
        _, file_u = burgers_file()
        run["l2re_file"] = float(joint_l2re(pred, file_u))
    return run


def ensemble_run(run: dict, problem, network, results, evaluation) -> np.ndarray:
    """``run``'s ``l2re`` and ``components`` replaced by the ensemble mean's (``results``: the members;
    the other fields stay member 0's), ``run["ensemble"]`` its members' errors and spread; returns the mean."""
    points, ref = evaluation
    stacked = stack_params([r.params for r in results])  # the points are cast to the params' dtype
    mean, _, errors = ensemble_evaluation(problem, network, stacked, points, ref)
    run["l2re"], run["components"] = errors.pop("l2re"), errors.pop("components")
    run["ensemble"] = {"members": len(results), "seeds": [int(r.config.seed) for r in results]} | errors
    return mean


def curve(history: dict, key: str | None = None, points: int = 25) -> list[list[float]]:
    """``[step, error]`` at up to ``points`` records (the history's ``key``, default ``l2re``, else ``l2``):
    whether a run was still improving when it stopped (evaluated during training, in the run's own precision)."""
    steps, errors = history["step"], history[key] if key else history.get("l2re", history["l2"])
    keep = np.unique(np.linspace(0, len(steps) - 1, min(points, len(steps))).round().astype(int))
    return [[int(steps[i]), float(errors[i])] for i in keep]


def summarize(entry: dict) -> dict:
    """Per-method fields over its seeds (seed 1234 first): l2re list, median, seconds, steps, points, device."""
    runs = [entry["runs"][str(s)] for s in entry["seeds"]]
    out = {
        "l2re": [r["l2re"] for r in runs],
        "median": float(np.median([r["l2re"] for r in runs])),
        "seconds": [round(r["seconds"], 1) for r in runs],
        "steps": runs[0]["steps"],
        "points": ", ".join(f"{k} {v}" for k, v in runs[0]["points"].items())
        + (f" ({runs[0]['sampling']})" if "sampling" in runs[0] else ""),
        "device": runs[0]["device"],
    }
    if "l2re_file" in runs[0]:
        out["l2re_file"] = [r["l2re_file"] for r in runs]
    if runs[0].get("problem_parameters"):  # how the points were drawn, e.g. {"boundary_split": "pinnacle"}
        out["problem_parameters"] = runs[0]["problem_parameters"]
    return out


@contextmanager
def results_file(path: Path) -> Iterator[dict]:
    """The results in ``path``, read afresh under an exclusive lock (on its folder) and written back
    when the block ends: two of these scripts, one per core, merge their runs into one file instead
    of each writing back what it read when it started (hours earlier) over the other's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        results = json.loads(path.read_text()) if path.exists() else {}
        yield results
        write_json(path, results)
    finally:
        os.close(folder)  # releases the lock


def resummarize(entry: dict, config: str) -> None:
    """After ``entry["runs"]`` changed: its seeds (1234 first) and ``summarize``'s fields, and its config."""
    entry["seeds"] = sorted((int(s) for s in entry["runs"]), key=lambda s: (s != 1234, s))
    entry.update(summarize(entry), config=config)


def record(problem: str, section: str, name: str, path: str, seed: int, args) -> None:
    """Train ``(problem, name, seed)`` unless the results file has it, then merge it into the file."""
    with results_file(args.out) as results:
        done = str(seed) in _entry(results, problem, section, name, path)["runs"]
    if done and not args.force:
        return
    print(f"== {problem} {section} {name} seed {seed}: {path}", flush=True)
    folder = None if args.quick else args.runs / f"{problem}-{name}-seed{seed}"
    stage1 = REFIT.get(problem, {}).get(Path(path).stem.removeprefix(f"{problem}-"))
    if stage1 is not None:  # early stopping on held-out rows, then the refit on all of them (REFIT)
        k, first_seconds = refit_iteration(config_path(problem, stage1), seed, args.budget, tuple(args.set))
        run = run_one(path, seed, args.budget, args.quick, folder, extra=(*args.set, f"lm.max_iters={k}"))
        run["seconds"] += first_seconds
        run["refit"] = {"from": config_path(problem, stage1), "iterations": k, "stage1_seconds": first_seconds}
    else:
        run = run_one(path, seed, args.budget, args.quick, folder, extra=tuple(args.set))
    print(f"   l2re {run['l2re']:.3e}, {run['seconds']:.0f} s, {run['status']}", flush=True)
    with results_file(args.out) as results:
        entry = _entry(results, problem, section, name, path)
        entry["runs"][str(seed)] = run
        resummarize(entry, path)
    if folder is not None:
        shutil.rmtree(folder)  # recorded above: its checkpoint is no longer needed


def merge_runs(results: dict, other: dict) -> list[str]:
    """Copy into ``results`` every protocol and candidate run of ``other`` (another checkout's
    pinnacle.json) that ``results`` lacks, re-summarising the entries it adds to; the names added.
    A run both have stays as ``results`` has it."""
    added = []
    for problem, block in other.items():
        entries = [("protocol", n, e) for n, e in block.get("protocol", {}).items()]
        entries += [("candidates", c["name"], c) for c in block.get("candidates", [])]
        for section, name, theirs in entries:
            ours = _entry(results, problem, section, name, theirs["config"])
            new = {seed: run for seed, run in theirs["runs"].items() if seed not in ours["runs"]}
            if new:
                ours["runs"].update(new)
                resummarize(ours, theirs["config"])
                added += [f"{problem} {section} {name} seed {seed}" for seed in new]
    return added


def _entry(results: dict, problem: str, section: str, name: str, path: str) -> dict:
    block = results.setdefault(problem, {})
    block["published"] = published(problem)
    if section == "candidates":
        found = [c for c in block.setdefault("candidates", []) if c["name"] == name]
        if not found:
            block["candidates"].append({"name": name, "config": path, "runs": {}})
            found = block["candidates"][-1:]
        return found[0]
    if section == "best":
        if block.get("best", {}).get("config") != path:  # a new best: its seeds start over, the old one's runs stay
            if block.get("best", {}).get("runs"):  # as its candidate's (nothing measured is dropped)
                old = block["best"]
                kept = _entry(results, problem, "candidates", Path(old["config"]).stem.removeprefix(f"{problem}-"), old["config"])
                kept["runs"] = {**old["runs"], **kept["runs"]}
                resummarize(kept, old["config"])
            block["best"] = {"config": path, "runs": {}}
        return block["best"]
    return block.setdefault("protocol", {}).setdefault(name, {"config": path, "runs": {}})


def best_config(block: dict) -> str | None:
    """The screened configuration (protocol or candidate) with the lowest seed-1234 l2re."""
    entries = [*block.get("protocol", {}).values(), *block.get("candidates", [])]
    scored = [(e["runs"]["1234"]["l2re"], e["config"]) for e in entries if "1234" in e.get("runs", {})]
    scored = [s for s in scored if np.isfinite(s[0])]
    return min(scored)[1] if scored else None


def reuse_screening(results: dict, problem: str, path: str, force: bool) -> None:
    """Start ``--best`` from the screened runs of ``path`` (seed 1234, and 1 and 2 where a candidate was run on
    them too) that completed: the same configuration and seed train the same way on the same machine, so
    --best trains only the seeds that were not screened."""
    screened = [e for e in results.get(problem, {}).get("candidates", []) if e["config"] == path]
    best = _entry(results, problem, "best", "best", path)
    for seed in (str(s) for s in BEST_SEEDS):
        run = screened[0]["runs"].get(seed) if screened else None
        if run is not None and run["status"] == "completed" and seed not in best["runs"] and not force:
            best["runs"][seed] = dict(run, note="the screening run (same config and seed)")
    if best["runs"]:  # summarised now: when every seed was screened, no training follows to do it
        resummarize(best, path)


def table(results: dict) -> str:
    """The markdown table: published numbers beside ours (medians of the final l2re over seeds)."""
    lines = [
        "# PINNacle problems (benchmarks/pinnacle.py)",
        "",
        "L2RE (all outputs flattened), final parameters; ours: median over seeds (count in brackets). "
        "Published: PINNacle's mean of 3 runs. Burgers: ours against the exact solution (file-based in parentheses). "
        "Protocol columns at PINNacle's point counts; the earlier runs at a quarter of them: pinnacle_quarter.json.",
        "",
        "| problem | PINN (pub.) | constant | LRA (pub.) | lr-annealing | lr-annealing-pinnacle | NTK surrogate (pub.) | ntk | best (pub.) | our best |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for problem, block in results.items():
        pub, protocol = block.get("published", {}), block.get("protocol", {})
        cells = [problem, _num(pub.get("PINN")), _ours(protocol.get("constant")), _num(pub.get("LRA"))]
        cells += [_ours(protocol.get("lr-annealing")), _ours(protocol.get("lr-annealing-pinnacle")), _num(pub.get("NTK"))]
        cells += [_ours(protocol.get("ntk")), f"{pub['best']['method']} {_num(pub['best']['l2re'])}" if "best" in pub else "-"]
        best = block.get("best")
        cells.append(f"{_ours(best)} `{best['config']}`" if best else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines + candidate_lines(results)) + "\n"


def candidate_lines(results: dict) -> list[str]:
    """Every screened candidate (seed 1234): its final l2re, wall seconds, steps and how the run ended."""
    lines = ["", "## Candidates (seed 1234 screening)", "", "| problem | config | l2re | seconds | steps | status |"]
    lines.append("|---|---|---|---|---|---|")
    for problem, block in results.items():
        for c in block.get("candidates", []):
            run = c.get("runs", {}).get("1234")
            if run:
                cells = [
                    problem,
                    f"`{c['config']}`",
                    _num(run["l2re"]),
                    f"{run['seconds']:.0f}",
                    str(run["steps"]),
                    run["status"],
                ]
                lines.append("| " + " | ".join(cells) + " |")
    return lines


def _num(x) -> str:
    return "diverged" if x is None else f"{x:.2e}"


def _ours(entry) -> str:
    if not entry or "median" not in entry:
        return "-"
    text = f"{entry['median']:.2e} ({len(entry['seeds'])})"
    if "l2re_file" in entry:
        text += f" (file {np.median(entry['l2re_file']):.2e})"
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problems", default=",".join(MODULES))
    p.add_argument(
        "--methods", default=",".join(PROTOCOL), help="comma-separated protocol methods ('': none, e.g. candidates only)"
    )
    p.add_argument("--candidates", action="store_true", help="also run the candidates (seed 1234 screening)")
    p.add_argument("--names", default="", help="with --candidates: only these comma-separated candidate names")
    p.add_argument("--best", action="store_true", help="rerun each problem's best screened config on seeds 1234, 1, 2")
    p.add_argument(
        "--pick",
        default="",
        help="with --best: PROBLEM=NAME,... reruns that screened candidate instead of the lowest seed-1234 l2re "
        "(e.g. a cheaper one that meets the target)",
    )
    p.add_argument("--seeds", default="1234")
    p.add_argument("--budget", type=float, default=7200.0, help="wall seconds per run (the run stops after the chunk past it)")
    p.add_argument("--force", action="store_true", help="train again runs already in the results")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--table", action="store_true", help="only write the markdown table from the results")
    p.add_argument("--merge", type=Path, help="first copy in the runs of another pinnacle.json that these results lack")
    p.add_argument("--quick", action="store_true", help="a few steps of each run: checks the script (write elsewhere, --out)")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "pinnacle-bench", help="checkpoints of unfinished runs (resumed)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a value of every config run (recorded in the run), e.g. train.matmul_precision='highest' on a GPU",
    )
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.merge is not None:  # e.g. a benchmark checkout's results, written while this one's were
        with results_file(args.out) as results:
            print(
                "\n".join(f"merged {name}" for name in merge_runs(results, json.loads(args.merge.read_text())))
                or "nothing to merge"
            )
    for problem in [] if args.table or args.merge else args.problems.split(","):
        if problem not in MODULES:
            raise SystemExit(f"unknown problem {problem!r}; choose from {list(MODULES)}")
        if args.best:
            picks = dict(item.split("=", 1) for item in args.pick.split(",") if item)
            with results_file(args.out) as results:
                path = config_path(problem, picks[problem]) if problem in picks else best_config(results.get(problem, {}))
                if path is not None:
                    reuse_screening(results, problem, path, args.force)
            if path is None:
                print(f"{problem}: nothing screened yet (run the protocol at seed 1234 first)", flush=True)
                continue
            for seed in BEST_SEEDS:
                record(problem, "best", "best", path, seed, args)
            continue
        for method in [m for m in args.methods.split(",") if m]:
            for seed in seeds:
                record(problem, "protocol", method, config_path(problem, method), seed, args)
        names = [n for n in args.names.split(",") if n] or CANDIDATES.get(problem, ())
        for name in names if args.candidates else ():
            for seed in seeds:
                record(problem, "candidates", name, config_path(problem, name), seed, args)
    if args.out.exists():
        atomic_write_text(args.out.with_suffix(".md"), table(json.loads(args.out.read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
