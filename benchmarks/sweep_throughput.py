"""Sweep throughput, local executor vs Ray (a local Ray instance) on this machine -> results/sweep_throughput.json.

    python benchmarks/sweep_throughput.py              # 4 schemes x 2 seeds x 2,001 steps, 2 rounds each (~5 min on 2 cores)
    python benchmarks/sweep_throughput.py --rounds 1 --steps 1001

The sweep: Klein-Gordon, the published 2-50x5-1 network, schemes constant, lr-annealing,
grad-norm and ntk, seeds 1234 and 1 (each scheme's two seeds in one vmapped program): 4 jobs,
8 trainings. Rounds alternate local, ray, local, ray so that a change in machine load
touches both. Ray's wall time includes starting and stopping the local instance (what a
user waits for); its fixed costs are measured apart: ``ray.init``, a first no-op task (a
fresh worker process), a worker's ``import pinnbalance`` (JAX), and ``ray.shutdown``.
Trainings per hour = trainings / wall hours. The tables of both executors are compared
value by value (min and final relative L2 error, final weights).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from pinnbalance.io import write_json
from pinnbalance.run_folder import versions
from pinnbalance.sweep import LocalExecutor, RayExecutor, load_sweep, run_sweep

HERE = Path(__file__).resolve().parent
CONFIG = (HERE.parent / "configs" / "klein-gordon-m1.toml").as_posix()
SCHEMES = ["constant", "lr-annealing", "grad-norm", "ntk"]
SEEDS = [1234, 1]


def sweep_file(folder: Path, steps: int) -> Path:
    path = folder / "throughput.toml"
    path.write_text(
        f'base = "{CONFIG}"\n[set]\ntrain.steps = {steps}\n'
        f'[grid]\n"weighting.scheme" = {json.dumps(SCHEMES)}\n"train.seeds" = {json.dumps(SEEDS)}\n'
    )
    return path


def machine() -> dict:
    model = ""
    if Path("/proc/cpuinfo").exists():
        model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    return {"platform": platform.platform(), "cpu": model, "cpu_count": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}


def _import_pinnbalance() -> float:
    begin = time.perf_counter()
    import pinnbalance.run  # noqa: F401  (JAX, optax, the run machinery)

    return time.perf_counter() - begin


def ray_fixed_costs(ray) -> dict:
    """Seconds Ray adds whatever the jobs: start, first task (worker process), imports in it, stop."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
        begin = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False)
        init = time.perf_counter() - begin
    noop = ray.remote(num_cpus=1)(lambda: None)
    begin = time.perf_counter()
    ray.get(noop.remote())
    first = time.perf_counter() - begin
    begin = time.perf_counter()
    ray.get(noop.remote())
    warm = time.perf_counter() - begin
    imports = ray.get(ray.remote(num_cpus=1)(_import_pinnbalance).remote())
    begin = time.perf_counter()
    ray.shutdown()
    return {
        "init_seconds": init,
        "first_task_seconds": first,
        "warm_task_seconds": warm,
        "worker_import_pinnbalance_seconds": imports,
        "shutdown_seconds": time.perf_counter() - begin,
    }


def one_round(spec, executor, out: Path) -> dict:
    begin = time.perf_counter()
    results = run_sweep(spec, executor, out, progress=False)
    wall = time.perf_counter() - begin
    return {
        "executor": executor.name,
        "wall_seconds": wall,
        "trainings": results["trainings"],
        "trainings_per_hour": results["trainings"] / (wall / 3600),
        "job_train_seconds": {r["name"]: r["train_seconds"] for r in results["runs"]},
        "load_average_1min_after": os.getloadavg()[0],
        "table": [(r["name"], r["min_l2"], r["final_l2"], r["final_weights"]) for r in results["runs"]],
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=2001)
    p.add_argument("--rounds", type=int, default=2, help="rounds per executor (alternating)")
    p.add_argument("--results", type=Path, default=HERE / "results")
    args = p.parse_args(argv)
    import ray

    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_sweep(sweep_file(Path(tmp), args.steps))
        overhead = ray_fixed_costs(ray)
        rounds = []
        for i in range(args.rounds):
            for executor in (LocalExecutor(), RayExecutor(num_cpus=1)):
                rounds.append(one_round(spec, executor, Path(tmp) / f"{executor.name}-{i}"))
                print(f"{executor.name} round {i + 1}: {rounds[-1]['wall_seconds']:.1f} s", file=sys.stderr)
    tables = [r.pop("table") for r in rounds]
    summary = {}
    for name in ("local", "ray"):
        walls = [r["wall_seconds"] for r in rounds if r["executor"] == name]
        trainings = rounds[0]["trainings"]
        summary[name] = {
            "wall_seconds_median": statistics.median(walls),
            "wall_seconds_min": min(walls),
            "trainings_per_hour_median": trainings / (statistics.median(walls) / 3600),
        }
    summary["ray_speedup_median"] = summary["local"]["wall_seconds_median"] / summary["ray"]["wall_seconds_median"]
    fixed = overhead["init_seconds"] + overhead["first_task_seconds"] + overhead["shutdown_seconds"]
    result = {
        "benchmark": "sweep throughput: local executor vs Ray (local instance)",
        "sweep": {"problem": "klein-gordon", "network": "2-50x5-1 tanh", "schemes": SCHEMES, "seeds": SEEDS, "steps": args.steps},
        "jobs": len(SCHEMES),
        "trainings": len(SCHEMES) * len(SEEDS),
        "machine": info,
        "versions": {**versions(), "ray": ray.__version__},
        "rounds": rounds,
        "summary": summary,
        "ray_fixed_costs": overhead,
        "identical_tables": all(t == tables[0] for t in tables),
        "note": (
            f"Ray runs two jobs at a time (one CPU each) where the local executor runs one job at a time on both cores "
            f"(XLA's thread pool). Ray's fixed cost per sweep is about {fixed:.1f} s (start {overhead['init_seconds']:.1f} s, "
            f"first worker {overhead['first_task_seconds']:.1f} s, stop {overhead['shutdown_seconds']:.1f} s), plus "
            f"{overhead['worker_import_pinnbalance_seconds']:.1f} s per worker to import JAX and pinnbalance; each job "
            "compiles its own program in either executor. The machine was shared with other work while this ran "
            "(load averages recorded): compare the two executors within this file only."
        ),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    write_json(args.results / "sweep_throughput.json", result)
    print(json.dumps({"summary": summary, "ray_fixed_costs": overhead, "identical_tables": result["identical_tables"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
