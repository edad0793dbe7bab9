"""Speed of pinnbalance's training loop, measured side by side with a baseline (and peers).

    python benchmarks/speed.py                  # CPU: full suite -> benchmarks/results/speed.json
    python benchmarks/speed.py --quick --out /tmp/speed.json   # seconds-long smoke run

Every figure is ms per training step, min and median over ``--repeats`` timed repeats after
a warm-up call (compile time reported separately). Methods are interleaved repeat by repeat,
so M1, M2 and the baseline see the same machine noise. The section written ("cpu" or "gpu")
follows JAX's default backend; the other section of an existing results file is kept.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline_kg  # noqa: E402

from pinnbalance import TrainConfig, klein_gordon  # noqa: E402
from pinnbalance import compiler_options as compiler_options_module  # noqa: E402
from pinnbalance.compiler_options import compiler_options  # noqa: E402
from pinnbalance.io import write_json  # noqa: E402
from pinnbalance.methods import get_method  # noqa: E402
from pinnbalance.metrics import evaluation_grid  # noqa: E402
from pinnbalance.training.fit import fit, initial_state, initial_states  # noqa: E402
from pinnbalance.training.program import choose_schedule, make_chunk  # noqa: E402
from pinnbalance.training.sharding import DataParallel  # noqa: E402
from pinnbalance.training.step import make_steps  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "speed.json"
QUICK_HIDDEN = (8,)  # --quick: one narrow hidden layer, so checking the script compiles in seconds
quick = False  # main() sets it under --quick


def method_network(method, problem):
    """The method's network for ``problem`` (5 x 50 tanh for M1 and M2), or, under ``--quick``,
    the same kind of network with ``QUICK_HIDDEN``'s hidden layers."""
    network = method.network(problem)
    if quick:
        network = dataclasses.replace(network, layers=(network.layers[0], *QUICK_HIDDEN, network.layers[-1]))
    return network


def paired_ratios(top: list[float], bottom: list[float]) -> dict:
    """Min and median over repeats of ``top[i] / bottom[i]`` (timings taken side by side)."""
    ratios = [a / b for a, b in zip(top, bottom)]
    return {"min": min(ratios), "median": statistics.median(ratios)}


def stats(seconds: list[float], steps: int) -> dict:
    ms = [1000 * s / steps for s in seconds]
    return {"min": min(ms), "median": statistics.median(ms), "repeats_ms": ms, "steps_per_repeat": steps}


class Runner:
    """A compiled pinnbalance chunk with its own state: ``time(n_blocks, block_len)`` trains on."""

    def __init__(
        self,
        method: str,
        batch: int,
        seeds: list[int] | None = None,
        config: TrainConfig = TrainConfig(),
        taylor_mode: str = "auto",
        xla_defaults: bool = False,
        sharding: DataParallel | None = None,
    ):
        problem = klein_gordon(batch_size=batch)
        m = get_method(method)
        network, scheme = dataclasses.replace(method_network(m, problem), taylor_mode=taylor_mode), m.scheme(problem)
        optimizer = config.optimizer()
        self.counter = [0]
        defaults = {compiler_options_module.ENV: "off"} if xla_defaults else {}
        with mock.patch.dict(os.environ, defaults):  # the chunk's compiler options are chosen when it is built
            self.chunk = make_chunk(
                problem, network, scheme, optimizer, config, self.counter, vmapped=seeds is not None, sharding=sharding
            )
        if seeds is None:
            self.state = initial_state(problem, network, scheme, optimizer, config, config.seed)
        else:
            self.state = initial_states(
                problem, network, [(scheme, dataclasses.replace(config, seed=s)) for s in seeds], optimizer
            )
        self.grid, self.exact = evaluation_grid(problem, config.eval_grid, config.jnp_dtype)
        if sharding is not None:  # seeds split over the devices, the grid on each (as fit_seeds lays them)
            self.state = sharding.place(self.state, True)
            self.grid, self.exact = sharding.place((self.grid, self.exact))
        masked, period = choose_schedule(scheme, config, problem=problem)  # the steps the chunk runs
        plain, update = make_steps(problem, network, scheme, optimizer, config.jnp_dtype, masked=masked)
        self.single = initial_state(problem, network, scheme, optimizer, config, config.seed)
        self.step_fns = (plain, update)
        self.period = None if masked or not isinstance(period, int) else period

    def time(self, n_blocks: int, block_len: int) -> float:
        start = time.perf_counter()
        self.state, rec = self.chunk(self.state, self.grid, self.exact, n_blocks, block_len)
        jax.block_until_ready((self.state, rec))
        return time.perf_counter() - start

    def compiled_ops(self) -> dict[str, dict[str, int]]:
        """Instructions of each compiled step program (plain, update) by opcode, top level only.

        Fusions and matrix products (``dot``, or library ``custom-call``s on GPU) are what run
        as separate kernels: on a GPU at batch 128 their number, not their arithmetic, sets
        the step time; on CPU each costs a dispatch and a pass over memory."""
        import collections
        import re

        out = {}
        for name, fn in zip(("plain", "update"), self.step_fns):
            text = jax.jit(fn, compiler_options=compiler_options()).lower(self.single).compile().as_text()
            entry = text[text.index("ENTRY") :].split("\n}\n")[0]
            ops = collections.Counter(re.findall(r"= \S+ ([a-z][\w-]*)\(", entry))
            out[name] = {op: ops[op] for op in ("fusion", "dot", "custom-call", "while", "conditional") if ops[op]}
            out[name]["all"] = sum(ops.values())
        return out

    def flops_per_step(self) -> float | None:
        """XLA's FLOP count of one plain step and one update step, averaged over the schedule."""

        def flops(fn):
            cost = jax.jit(fn, compiler_options=compiler_options()).lower(self.single).compile().cost_analysis()
            cost = cost[0] if isinstance(cost, list) else cost
            return float(cost.get("flops", float("nan"))) if cost else float("nan")

        plain, update = self.step_fns
        try:
            f_plain = flops(plain)
            if self.period is None:
                return f_plain
            return ((self.period - 1) * f_plain + flops(update)) / self.period
        except Exception:  # cost analysis is best effort and backend-dependent
            return None


def time_optimizers(batch: int, blocks: int, block_len: int, repeats: int) -> dict:
    """M2 with Adam against M2 with SOAP (``pinnbalance.optim.soap``, preconditioner every 10
    steps), same network and step, interleaved repeats; per repeat, SOAP's time over Adam's."""
    runners = {
        "adam": Runner("M2", batch),
        "soap": Runner("M2", batch, config=TrainConfig(optimizer_name="soap")),
    }
    for r in runners.values():
        r.time(blocks, block_len)  # compile
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, r in runners.items():
            times[name].append(r.time(blocks, block_len))
    steps = blocks * block_len
    return {**{n: stats(ts, steps) for n, ts in times.items()}, "soap_over_adam": paired_ratios(times["soap"], times["adam"])}


def time_methods(batch: int, blocks: int, block_len: int, repeats: int, baseline: bool) -> dict:
    """Interleaved repeats of M1, M2 (and the in-benchmark baseline) at one batch size."""
    runners = {m: Runner(m, batch) for m in ("M1", "M2")}
    steps = blocks * block_len
    compile_s, times = {}, {m: [] for m in runners}
    for m, r in runners.items():
        first = r.time(blocks, block_len)
        compile_s[m] = max(first - r.time(blocks, block_len), 0.0)
    base = {}
    if baseline:  # as published code compiles (XLA's defaults), and M2 with pinnbalance's options
        options = compiler_options()
        variants = [("baseline_M1", False, None), ("baseline_M2", True, None)]
        if options:
            variants.append(("baseline_M2_our_compiler_options", True, options))
        for m, adaptive, opts in variants:
            base[m] = baseline_kg.make(batch, adaptive, compiler_options=opts)
            t = time.perf_counter()
            base[m](steps)  # warm-up: compiles the jitted pieces
            compile_s[m] = time.perf_counter() - t
            times[m] = []
    for _ in range(repeats):
        for m, r in runners.items():
            times[m].append(r.time(blocks, block_len))
        for m, run in base.items():
            t = time.perf_counter()
            run(steps)
            times[m].append(time.perf_counter() - t)
    out = {m: stats(ts, steps) for m, ts in times.items()}
    # M2 overhead: per repeat, M2 vs the M1 run next to it
    out["M2_over_M1"] = paired_ratios(times["M2"], times["M1"])
    if baseline:
        out["speedup_vs_baseline_M2"] = paired_ratios(times["baseline_M2"], times["M2"])
        if "baseline_M2_our_compiler_options" in times:
            out["speedup_vs_baseline_M2_our_compiler_options"] = paired_ratios(
                times["baseline_M2_our_compiler_options"], times["M2"]
            )
    flops = runners["M2"].flops_per_step()
    out["flops_per_step_M2"] = flops
    if flops:
        out["gflops_per_second_M2"] = flops / (out["M2"]["min"] / 1000) / 1e9
    out["compile_seconds"] = compile_s
    out["traces"] = {m: r.counter[0] for m, r in runners.items()}
    out["compiled_ops"] = {m: r.compiled_ops() for m, r in runners.items()}
    return out


def time_seeds(n_seeds: int, batch: int, blocks: int, block_len: int, repeats: int) -> dict:
    """``n_seeds`` vmapped in one program vs one seed, M2; the ratio of their step times."""
    one, many = Runner("M2", batch), Runner("M2", batch, seeds=list(range(n_seeds)))
    for r in (one, many):
        r.time(blocks, block_len)
    t1, tn = [], []
    for _ in range(repeats):
        t1.append(one.time(blocks, block_len))
        tn.append(many.time(blocks, block_len))
    steps = blocks * block_len
    return {"one_seed": stats(t1, steps), f"{n_seeds}_seeds": stats(tn, steps), "ratio": paired_ratios(tn, t1)}


def time_seeds_on_host_devices(n_seeds: int, devices: int, blocks: int, block_len: int, repeats: int) -> dict:
    """``n_seeds`` split over ``devices`` simulated CPU devices vs one seed, M2 at batch 128.

    One CPU program runs on one core at these sizes; XLA's simulated host devices each run
    their own program, so seeds split over them (``DataParallel``, no communication) use
    more cores. The devices must be set before JAX starts, so this runs in a child process
    with ``--xla_force_host_platform_device_count``; one seed is timed there too (the
    flag does not slow it: 2.30 s for 3,000 steps with and without)."""
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}".strip()
    child = [sys.executable, __file__, "--seeds-child", f"{n_seeds},{devices},{blocks},{block_len},{repeats}"]
    child += ["--quick"] if quick else []  # the child's networks are the parent's
    done = subprocess.run(child, env={**os.environ, "XLA_FLAGS": flags}, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _seeds_child(spec: str) -> None:
    n_seeds, devices, blocks, block_len, repeats = (int(v) for v in spec.split(","))
    runners = {
        "one_seed": Runner("M2", 128),
        f"{n_seeds}_seeds_one_device": Runner("M2", 128, seeds=list(range(n_seeds))),
        f"{n_seeds}_seeds_{devices}_devices": Runner("M2", 128, seeds=list(range(n_seeds)), sharding=DataParallel(devices)),
    }
    times = interleaved(runners, blocks, block_len, repeats)
    out = {name: stats(ts, blocks * block_len) for name, ts in times.items()}
    for name in list(runners)[1:]:
        out[f"ratio_{name}"] = paired_ratios(times[name], times["one_seed"])
    print(json.dumps(out))


def time_lanes(steps: int, learning_rates=(3e-4, 1e-3, 3e-3, 1e-2)) -> dict:
    """A learning-rate sweep of M2 as a user waits for it, compile included: each rate its
    own ``fit`` one after another, against all rates as runs of one ``fit_runs`` program
    (``training.runs``); with each run's min L2 both ways. These agree to rounding, which a
    vmapped float32 program does differently (as for vmapped seeds) and a large rate amplifies;
    ``tests/training/test_runs.py`` checks them against separate runs to 1e-9 in float64."""
    from pinnbalance.training import fit_runs

    problem = klein_gordon()
    m = get_method("M2")
    network, scheme = method_network(m, problem), m.scheme(problem)
    config = TrainConfig(steps=steps)
    t = time.perf_counter()
    separate = [
        fit(problem, network, scheme, dataclasses.replace(config, learning_rate=lr), progress=False) for lr in learning_rates
    ]
    separate_s = time.perf_counter() - t
    t = time.perf_counter()
    lanes = fit_runs(
        problem, network, [(scheme, dataclasses.replace(config, learning_rate=lr)) for lr in learning_rates], progress=False
    )
    lanes_s = time.perf_counter() - t
    return {
        "steps": steps,
        "learning_rates": list(learning_rates),
        "separate_seconds": separate_s,
        "lanes_seconds": lanes_s,
        "separate_over_lanes": separate_s / lanes_s,
        "min_l2_separate": [float(r.history["l2"].min()) for r in separate],
        "min_l2_lanes": [float(r.history["l2"].min()) for r in lanes],
    }


def interleaved(runners: dict, blocks: int, block_len: int, repeats: int) -> dict[str, list[float]]:
    """Seconds per repeat of each runner, after one warm-up call each; the runners take turns
    repeat by repeat, so they see the same machine noise."""
    for r in runners.values():
        r.time(blocks, block_len)
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, r in runners.items():
            times[name].append(r.time(blocks, block_len))
    return times


def time_schedules(batch: int, blocks: int, block_len: int, repeats: int) -> dict:
    """M2 with its update steps laid out each way (``TrainConfig.update_schedule``), next to
    M1, interleaved: each layout's ms per step and its ratio to the M1 repeat beside it."""
    runners = {"M1": Runner("M1", batch)}
    for layout in ("static", "masked"):
        runners[f"M2_{layout}"] = Runner("M2", batch, config=TrainConfig(update_schedule=layout))
    times = interleaved(runners, blocks, block_len, repeats)
    out = {name: stats(ts, blocks * block_len) for name, ts in times.items()}
    for name in runners:
        if name != "M1":
            out[f"{name}_over_M1"] = paired_ratios(times[name], times["M1"])
    return out


def time_matmul_floor(rows=(128, 640, 1152), width: int = 50, reps: int = 2000, repeats: int = 5) -> dict:
    """GFLOP/s of the step's own matrix products alone: ``x <- 0.5 (x @ W) + x0`` with ``x``
    of ``rows x width`` and ``W`` of ``width x width`` (a layer's shape at batch 128: one
    stream has 128 rows, the residual's five streams stacked 640, all terms 1,152), ``reps``
    in one compiled loop. The step's own GFLOP/s against these says how far it is from
    being bound by its products. Compiled with pinnbalance's options, as the step is (the
    ``xla_defaults`` entries: with XLA's own)."""
    out = {}
    for label, options in (("", compiler_options()), ("_xla_defaults", None)):
        if label and not compiler_options():
            break  # the options are XLA's defaults here: nothing to compare
        for m in rows:
            x0 = jax.numpy.full((m, width), 0.01, jax.numpy.float32)
            w = jax.numpy.full((width, width), 0.02, jax.numpy.float32)
            body = lambda x0, w: jax.lax.fori_loop(0, reps, lambda i, x: 0.5 * (x @ w) + x0, x0)  # noqa: E731
            loop = jax.jit(body, compiler_options=options or None)
            jax.block_until_ready(loop(x0, w))
            seconds = []
            for _ in range(repeats):
                t = time.perf_counter()
                jax.block_until_ready(loop(x0, w))
                seconds.append(time.perf_counter() - t)
            gflops = [2 * m * width * width * reps / t / 1e9 for t in seconds]
            out[f"rows_{m}{label}"] = {
                "gflops_per_second_max": max(gflops),
                "gflops_per_second_median": statistics.median(gflops),
            }
    return out


def time_compiler_options(batch: int, blocks: int, block_len: int, repeats: int) -> dict:
    """M1 and M2 compiled with pinnbalance's options (``pinnbalance.compiler_options``) and
    with XLA's defaults, interleaved; per method the ratio defaults / ours (> 1: ours faster)."""
    runners = {}
    for m in ("M1", "M2"):
        runners[m] = Runner(m, batch)
        runners[f"{m}_xla_defaults"] = Runner(m, batch, xla_defaults=True)
    times = interleaved(runners, blocks, block_len, repeats)
    out = {name: stats(ts, blocks * block_len) for name, ts in times.items()}
    for m in ("M1", "M2"):
        out[f"{m}_defaults_over_ours"] = paired_ratios(times[f"{m}_xla_defaults"], times[m])
    out["options"] = compiler_options()
    return out


def time_taylor_modes(batch: int, blocks: int, block_len: int, repeats: int) -> dict:
    """M2 with each way of taking the second derivatives, interleaved (see ``MLP.taylor2``)."""
    runners = {mode: Runner("M2", batch, taylor_mode=mode) for mode in ("stacked", "streams", "off")}
    times = interleaved(runners, blocks, block_len, repeats)
    return {mode: stats(ts, blocks * block_len) for mode, ts in times.items()}


def full_run_seconds(steps: int) -> dict:
    """A whole M2 training through ``fit``, as a user runs it: its wall time, and that time
    less the host's time compiling (``FitResult.compile_seconds``: the first chunk shape,
    and any wait for the others, which compile in the background while it trains)."""
    problem = klein_gordon()
    m = get_method("M2")
    r = fit(problem, method_network(m, problem), m.scheme(problem), TrainConfig(steps=steps), progress=False)
    return {
        "wall_seconds_with_compile": r.train_seconds,
        "compile_seconds": r.compile_seconds,
        "seconds_compile_excluded": r.train_seconds - r.compile_seconds,
        "traces": r.traces,
        "min_l2": float(r.history["l2"].min()),
    }


def machine() -> dict:
    dev = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "device": getattr(dev, "device_kind", str(dev)),
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "jax": jax.__version__,
        "numpy": np.__version__,
        "dtype": "float32",
        "matmul_precision": "default",
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "compiler_options": compiler_options(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "commit": git_commit(),
    }


def git_commit() -> str | None:
    """The checkout's short commit hash (with "+dirty" for uncommitted changes), if in git."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=10)

    try:
        head = git("rev-parse", "--short", "HEAD")
        if head.returncode:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
        return head.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def peak_memory() -> dict:
    out = {"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        mem = jax.devices()[0].memory_stats() or {}
        if "peak_bytes_in_use" in mem:
            out["device_peak_mib"] = mem["peak_bytes_in_use"] / 2**20
    except Exception:
        pass
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="tiny sizes and network: checks the script, numbers mean little")
    p.add_argument("--full-steps", type=int, default=40_001, help="steps of the full M2 training")
    p.add_argument("--seeds", type=int, default=None, help="vmapped seeds to compare with one (default 8 CPU, 64 GPU)")
    p.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to skip: seeds, schedules, lanes, floor, modes, options, optimizers, full",
    )
    p.add_argument("--lane-steps", type=int, default=4001, help="steps of each run of the learning-rate sweep")
    p.add_argument("--section", choices=("cpu", "gpu"), default=None, help="force a section's plan (default: the backend)")
    p.add_argument("--tag", default=None, help="write the section as cpu_TAG / gpu_TAG (a variant, e.g. other XLA flags)")
    p.add_argument("--peers", type=Path, default=Path(__file__).resolve().parent / "results" / "peers.json")
    p.add_argument("--seeds-child", default=None, help=argparse.SUPPRESS)  # time_seeds_on_host_devices' child
    args = p.parse_args(argv)
    global quick
    quick = args.quick
    if args.seeds_child:
        _seeds_child(args.seeds_child)
        return 0
    gpu = (args.section or jax.default_backend()) == "gpu"
    repeats = 2 if args.quick else args.repeats
    section: dict = {"machine": machine()}
    results = json.loads(args.out.read_text()) if args.out.exists() else {}

    def save() -> None:  # after every part, so a run cut short still leaves its numbers
        results[("gpu" if gpu else "cpu") + (f"_{args.tag}" if args.tag else "")] = section
        write_json(args.out, results)

    plan = {128: (10, 100), 1024: (2, 100), 8192: (1, 100)}
    if gpu:
        plan = {128: (10, 100), 8192: (10, 100)}
    if args.quick:
        plan = {128: (1, 20)}
    for batch, (blocks, block_len) in plan.items():
        print(f"batch {batch}: timing M1, M2{'' if gpu else ' and the baseline'} ...", flush=True)
        res = time_methods(batch, blocks, block_len, repeats, baseline=not gpu and batch <= 1024)
        section[f"batch_{batch}"] = {k: res[k]["median"] for k in ("M1", "M2", "baseline_M1", "baseline_M2") if k in res}
        section[f"batch_{batch}"]["details"] = res
        print(json.dumps(section[f"batch_{batch}"], default=str)[:400], flush=True)
        save()
    skip = set(filter(None, args.skip.split(",")))
    parts = {"seeds", "schedules", "lanes", "floor", "modes", "options", "optimizers", "full"}
    if skip - parts:
        p.error(f"--skip takes {', '.join(sorted(parts))}; got {args.skip!r}")
    if skip:
        section["skipped"] = sorted(skip)
    blocks, block_len = plan[128]
    n_seeds = args.seeds or (64 if gpu else 8)
    if args.quick:
        n_seeds = 2
    if "seeds" not in skip:
        print(f"{n_seeds} vmapped seeds vs 1 ...", flush=True)
        seeds = time_seeds(n_seeds, 128, blocks, block_len, repeats)
        section[f"seeds_{n_seeds}_vs_1"] = seeds["ratio"]["median"]
        section[f"seeds_{n_seeds}_vs_1_details"] = seeds
        save()
        if not gpu:
            print(f"{n_seeds} seeds split over 2 simulated CPU devices vs 1 seed ...", flush=True)
            split = time_seeds_on_host_devices(n_seeds, 2, blocks, block_len, repeats)
            section[f"seeds_{n_seeds}_vs_1_two_host_devices"] = split[f"ratio_{n_seeds}_seeds_2_devices"]["median"]
            section[f"seeds_{n_seeds}_vs_1_two_host_devices_details"] = split
            save()
    if "schedules" not in skip:
        print("M2 update-step layouts (static schedule / masked) next to M1 ...", flush=True)
        layouts = time_schedules(128, blocks, block_len, repeats)
        section["batch_128"]["schedules_M2"] = {k: v["median"] for k, v in layouts.items() if not k.endswith("_over_M1")}
        section["batch_128"]["details"]["schedules_M2"] = layouts
        save()
    if "optimizers" not in skip:
        print("M2 with SOAP vs Adam, side by side ...", flush=True)
        section["optimizers_M2_batch_128"] = time_optimizers(128, blocks, block_len, repeats)
        save()
    if "lanes" not in skip:
        print("a 4-rate learning-rate sweep: separate runs vs lanes of one program ...", flush=True)
        section["lanes_4_learning_rates"] = time_lanes(201 if args.quick else args.lane_steps)
        save()
    if "floor" not in skip:
        print("the step's matrix products alone (GFLOP/s) ...", flush=True)
        section["batch_128"]["details"]["matmul_floor"] = time_matmul_floor(reps=200 if args.quick else 2000, repeats=repeats)
        save()
    if "modes" not in skip:
        print("second-derivative modes (stacked / streams / generic jvp-of-jvp), M2 ...", flush=True)
        modes = time_taylor_modes(128, blocks, block_len, repeats)
        section["batch_128"]["taylor_modes_M2"] = {mode: v["median"] for mode, v in modes.items()}
        section["batch_128"]["details"]["taylor_modes_M2"] = modes
        save()
    if "options" not in skip and not gpu:
        print("compiler options: pinnbalance's vs XLA's defaults, M1 and M2 ...", flush=True)
        for batch in (128, 1024) if not args.quick else (128,):
            b_blocks, b_len = plan.get(batch, (2, 100))
            opts = time_compiler_options(batch, b_blocks, b_len, repeats)
            section[f"batch_{batch}"]["compiler_options"] = {
                k: v["median"] for k, v in opts.items() if isinstance(v, dict) and "repeats_ms" in v
            }
            section[f"batch_{batch}"]["details"]["compiler_options"] = opts
            save()
    if "full" not in skip:
        print(f"full {args.full_steps}-step M2 training ...", flush=True)
        full = full_run_seconds(args.full_steps if not args.quick else 201)
        section[f"full_{args.full_steps}_M2_seconds"] = full["seconds_compile_excluded"]
        section["full_run_details"] = full
    if not gpu and args.peers.exists():
        peers = json.loads(args.peers.read_text())
        section["batch_128"]["peers"] = {k: v.get("median_ms_per_step") for k, v in peers.items() if isinstance(v, dict)}
    section["memory"] = peak_memory()
    if args.quick:
        section["note"] = (
            f"--quick: tiny sizes (hidden layers {list(QUICK_HIDDEN)}), for checking the script only; the numbers mean little"
        )
    save()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
