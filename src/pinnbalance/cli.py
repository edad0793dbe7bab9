"""Command line: ``pinnbalance reproduce``, ``list``, ``diagnose``, ``compare``, ``run``, ``sweep``.

Names (problems, methods) are mapped to objects here and only here.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys

QUICK_STEPS = 2001


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 1234,1,2; got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one integer")
    return values


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


DEVICES_HELP = "split the seeds over N devices (on a CPU: N simulated devices, one core each; docs/training.md)"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pinnbalance", description="Physics-informed neural networks with balanced loss weights.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("reproduce", help="reproduce a published experiment (standard PINN vs gradient-adaptive weights)")
    r.add_argument("problem", help="problem name, e.g. klein-gordon (see `pinnbalance list`), or my_pde.py:factory")
    r.add_argument("--steps", type=_positive, default=None, help="training steps (default: 40001, as published)")
    seeds = r.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None, help="one seed (default 1234)")
    seeds.add_argument("--seeds", type=_int_list, default=None, help="comma-separated seeds, e.g. 1234,1,2,3,4")
    r.add_argument("--methods", default="M1,M2", help="comma-separated methods (default M1,M2; see `pinnbalance list`)")
    r.add_argument("--out", default=None, help="output folder (default runs/<problem>)")
    r.add_argument("--overwrite", action="store_true", help="replace results in an existing output folder")
    r.add_argument("--quick", action="store_true", help=f"a short run for a first look ({QUICK_STEPS} steps)")
    r.add_argument("--float64", action="store_true", help="train in double precision")
    r.add_argument("--devices", type=_positive, default=1, help=DEVICES_HELP)
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    sub.add_parser("list", help="list problems, methods and weighting schemes")
    d = sub.add_parser("diagnose", help="measure the gradient imbalance between loss terms, with a verdict")
    d.add_argument("problem", help="problem name, e.g. klein-gordon, or my_pde.py:factory")
    d.add_argument("--steps", type=_positive, default=1000, help="standard-PINN steps before the second measurement")
    d.add_argument("--seed", type=int, default=1234)
    d.add_argument("--out", default=None, help="output folder (default runs/diagnose-<problem>)")
    d.add_argument("--overwrite", action="store_true")
    c = sub.add_parser("compare", help="compare weighting schemes on a problem over seeds (table, figures, report.html)")
    c.add_argument("problem", help="problem name, e.g. klein-gordon, or my_pde.py:factory")
    c.add_argument("--schemes", default=None, help="comma-separated schemes (default: all, see `pinnbalance list`)")
    c.add_argument("--seeds", type=_int_list, default=[1234, 1, 2, 3, 4], help="comma-separated seeds (default 1234,1,2,3,4)")
    c.add_argument("--steps", type=_positive, default=40_001, help="training steps (default 40001)")
    c.add_argument("--out", default=None, help="output folder (default runs/compare-<problem>)")
    c.add_argument("--overwrite", action="store_true", help="replace results in an existing output folder")
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.add_argument("--devices", type=_positive, default=1, help=DEVICES_HELP)
    run = sub.add_parser("run", help="train as a TOML configuration says, with checkpoints (see configs/)")
    run.add_argument("config", help="configuration file, e.g. configs/klein-gordon-m2.toml")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a value")
    run.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue the run in RUN_DIR from its last checkpoint")
    run.add_argument("--out", default=None, help="output folder (default: output.dir of the configuration)")
    run.add_argument("--overwrite", action="store_true", help="replace results in an existing output folder")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--tensorboard", action="store_true", help="also write the history as TensorBoard events to RUN/tensorboard")
    st = sub.add_parser(
        "status", help="where a run folder stands: finished or not, step, latest error and weights, how to resume"
    )
    st.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders, or folders of run folders (e.g. a sweep's)")
    st.add_argument("--json", action="store_true", help="print the status as JSON (a list, one entry per run)")
    sw = sub.add_parser("sweep", help="train a grid of configurations, locally or on a Ray cluster (see docs/sweeps.md)")
    sw.add_argument("sweep", help="sweep file, e.g. examples/sweeps/kg-schemes.toml")
    sw.add_argument("--executor", choices=["local", "ray"], default="local", help="where jobs run (default: local, in process)")
    sw.add_argument("--address", default=None, help="Ray cluster address: auto, or ray://HOST:10001 (default: a local instance)")
    sw.add_argument("--out", default=None, help="output folder (default: out of the sweep file, else runs/sweeps/<name>)")
    sw.add_argument("--dry-run", action="store_true", help="list the runs and what would happen to each; train nothing")
    sw.add_argument(
        "--separate",
        action="store_true",
        help="train every run alone (by default runs differing only in learning rate or scheme floats share one program)",
    )
    sw.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE", help="override the base")
    sw.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _fail(message: str) -> int:
    print(f"pinnbalance: error: {message}", file=sys.stderr)
    return 2


def cmd_list() -> int:
    from pinnbalance.lm import LevenbergMarquardt
    from pinnbalance.methods import METHODS
    from pinnbalance.nn import ARCHITECTURES
    from pinnbalance.optim import soap
    from pinnbalance.problems import PROBLEMS
    from pinnbalance.training.lbfgs import LBFGS
    from pinnbalance.weighting import SCHEMES
    from pinnbalance.weighting.causal import Causal

    own = ("FILE.py:FUNC", "your own: a function in a file that returns a Problem (docs/own-pde.md)")
    _print_section("problems:", [*((name, factory().description) for name, factory in PROBLEMS.items()), own])
    _print_section("methods:", ((name, m.description) for name, m in METHODS.items()))
    _print_section("schemes:", ((name, _first_line(cls)) for name, cls in SCHEMES.items()))
    _print_section("networks ([network] type):", ((name, _first_line(cls)) for name, cls in ARCHITECTURES.items()))
    optimizers = [("soap", _first_line(soap)), ("adam, sgd, ...", "any optax optimizer taking a learning rate first")]
    _print_section("optimizers ([optimizer] name):", optimizers)
    _print_section("second-order phases:", [("[lbfgs]", _first_line(LBFGS)), ("[lm]", _first_line(LevenbergMarquardt))])
    options = [
        ("[causal]", _first_line(Causal)),
        ("least-squares", '[network] init = "least-squares": a PirateNet\'s output layer fitted to the exact solution at step 0'),
    ]
    _print_section("training options:", options)
    return 0


def _print_section(title: str, rows) -> None:
    """``title``, then one ``name  description`` line per row (names in a 16-wide column)."""
    print(title)
    for name, description in rows:
        print(f"  {name:16s} {description}")


def _first_line(obj) -> str:
    return (obj.__doc__ or "").strip().splitlines()[0]


def _devices_error(n: int) -> str | None:
    """Make ``n`` devices available (a CPU simulates them, if JAX has not started); the error if not."""
    if n <= 1:
        return None
    from pinnbalance.training.sharding import DataParallel, simulate_cpu_devices

    simulate_cpu_devices(n)
    try:
        DataParallel(n)
    except ValueError as err:
        return f"--devices {n}: {err}"
    return None


def _problem_error(name: str) -> str | None:
    """Why ``name`` names no problem (loading a ``my_pde.py:factory`` name's file on the way), or None."""
    from pinnbalance.problems.external import ProblemNameError, find_factory

    try:
        find_factory(name)
    except ProblemNameError as err:
        return str(err)
    return None


def cmd_reproduce(args) -> int:
    if error := _devices_error(args.devices):  # first: before JAX starts
        return _fail(error)
    from pinnbalance import runtime
    from pinnbalance.methods import METHODS
    from pinnbalance.problems.external import ProblemNameError, short_name
    from pinnbalance.reproduce import RunFolderError, reproduce
    from pinnbalance.training import DivergenceError, TrainConfig

    if error := _problem_error(args.problem):
        return _fail(error)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        return _fail(f"unknown method(s) {bad or args.methods!r}; valid methods: {', '.join(METHODS)}")
    if len(set(methods)) != len(methods):
        return _fail(f"method listed twice in --methods {args.methods!r}")
    seeds = args.seeds or [args.seed if args.seed is not None else 1234]
    if len(set(seeds)) != len(seeds):
        return _fail(f"seed listed twice in {seeds}")
    steps = args.steps or (QUICK_STEPS if args.quick else 40_001)
    config = dataclasses.replace(TrainConfig(), steps=steps, dtype="float64" if args.float64 else "float32")
    runtime.prepare(config)
    out = args.out or f"runs/{short_name(args.problem)}" + ("-quick" if args.quick else "")
    try:
        summary = reproduce(
            args.problem, methods, seeds, config, out, args.overwrite, not args.no_progress, not args.no_figures, args.devices
        )
    except (RunFolderError, DivergenceError, ProblemNameError) as err:
        return _fail(str(err))
    from pathlib import Path

    print((Path(out) / "summary.md").read_text())
    print(f"results in {out}/ (summary.json, summary.md, per-method folders, figures)")
    del summary
    return 0


def cmd_diagnose(args) -> int:
    from pinnbalance.diagnose import diagnose
    from pinnbalance.problems.external import ProblemNameError, short_name
    from pinnbalance.reproduce import RunFolderError

    if error := _problem_error(args.problem):
        return _fail(error)
    out = args.out or f"runs/diagnose-{short_name(args.problem)}"
    try:
        report = diagnose(args.problem, args.steps, args.seed, out, args.overwrite)
    except (RunFolderError, ProblemNameError) as err:
        return _fail(str(err))
    print(report["verdict"])
    print(f"details in {out}/ (diagnose.json, diagnose.md, gradients.png)")
    return 0


def cmd_compare(args) -> int:
    if error := _devices_error(args.devices):  # first: before JAX starts
        return _fail(error)
    from pinnbalance.compare import compare
    from pinnbalance.problems.external import ProblemNameError, short_name
    from pinnbalance.reproduce import RunFolderError
    from pinnbalance.training import DivergenceError, TrainConfig
    from pinnbalance.weighting import SCHEMES

    if error := _problem_error(args.problem):
        return _fail(error)
    schemes = [s.strip() for s in (args.schemes or ",".join(SCHEMES)).split(",") if s.strip()]
    bad = [s for s in schemes if s not in SCHEMES]
    if bad or not schemes:
        return _fail(f"unknown scheme(s) {bad or args.schemes!r}; valid schemes: {', '.join(SCHEMES)}")
    if len(set(args.seeds)) != len(args.seeds):
        return _fail(f"seed listed twice in {args.seeds}")
    out = args.out or f"runs/compare-{short_name(args.problem)}"
    config = dataclasses.replace(TrainConfig(), steps=args.steps)
    try:
        compare(args.problem, schemes, args.seeds, config, out, args.overwrite, not args.no_progress, devices=args.devices)
    except (RunFolderError, DivergenceError, ProblemNameError) as err:
        return _fail(str(err))
    from pathlib import Path

    print((Path(out) / "compare.md").read_text())
    print(f"results in {out}/ (compare.json, compare.md, figures, report.html)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line's entry point: the command's exit status. A reader that stops early
    (``pinnbalance list | head``) ends the output quietly, as other command-line tools do."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, not at exit: a small output waits in the buffer until then
        return status
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's own flush at exit would fail again
        return 1


def _main(argv: list[str] | None) -> int:
    args = parser().parse_args(argv)
    if args.command == "list":
        return cmd_list()
    if args.command == "status":  # reads files only: no compile cache, no JAX backend
        from pinnbalance.run_status import main_status

        return main_status(args.runs, args.json)
    from pinnbalance.compile_cache import enable_compile_cache

    enable_compile_cache()  # reruns, other seeds and sweep jobs reuse compiled programs (PINNBALANCE_COMPILE_CACHE)
    if args.command == "diagnose":
        return cmd_diagnose(args)
    if args.command == "compare":
        return cmd_compare(args)
    if args.command == "run":
        from pinnbalance.run import main_run

        return main_run(
            args.config, args.overrides, args.resume, args.overwrite, args.out, not args.no_progress, args.tensorboard
        )
    if args.command == "sweep":
        from pinnbalance.sweep import main_sweep

        return main_sweep(
            args.sweep,
            args.executor,
            args.address,
            args.out,
            args.dry_run,
            args.overrides,
            not args.no_progress,
            not args.separate,
        )
    return cmd_reproduce(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
