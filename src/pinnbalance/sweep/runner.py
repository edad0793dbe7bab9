"""Running a sweep: one job = one ``pinnbalance run`` folder, skipped when done, resumed when not.

Sweep folder::

    OUT/plan.json            the jobs: name, swept values, seeds, and the base configuration
    OUT/<job name>/          a run folder (config.toml, checkpoint.npz, summary.json, ...)
    OUT/results.json         per run: swept values, seeds, per-seed min/final relative L2, ...
    OUT/results.md, OUT/report.html, OUT/l2_by_scheme.png, OUT/weights_by_scheme.png

A job whose folder holds a ``summary.json`` for its seeds and steps (and the same
configuration) is skipped; one with a checkpoint continues from it; a failed job (diverged,
or a folder of another configuration) is a row with its error, and the others go on.

Jobs that differ only in their learning rate and their weighting scheme's hyperparameters
(``optimizer.learning_rate``, ``weighting.beta``, ...) train together, as one compiled
program (``run.run_shared``), when all are new or all resume from one step, each still writing
its own folder; one that diverges is a failed row, and the others finish and are written.
"""

from __future__ import annotations

import json
import sys
import time
from functools import partial
from pathlib import Path

from pinnbalance import config as cfg
from pinnbalance import runtime
from pinnbalance.io import read_history_csv, write_json
from pinnbalance.run import NotShared, program_data, run, run_shared
from pinnbalance.run_folder import CHECKPOINT, RunError, RunInterrupted, check_resumable, versions
from pinnbalance.sweep.executors import Executor, LocalExecutor, RayExecutor
from pinnbalance.sweep.jobs import Job, plan
from pinnbalance.sweep.report import write_report
from pinnbalance.sweep.spec import SweepError, SweepSpec, load_sweep
from pinnbalance.training.results import DivergenceError
from pinnbalance.training.sharding import devices_written, simulate_cpu_devices

STATUS = {"new": "trained", "restart": "trained", "resume": "resumed", "done": "skipped"}


class SweepInterrupted(RuntimeError):
    """A run stopped on request (Ctrl-C, SIGTERM); its checkpoint is on disk."""


def folder_status(folder: Path, config: cfg.RunConfig) -> str:
    """``new``, ``done`` (complete summary), ``resume`` (a checkpoint) or ``restart`` (none yet).

    Raises ``RunError`` if the folder holds a run of another configuration.
    """
    if not (folder / "config.toml").exists():
        return "new"  # an empty folder, or one that is no run (the run refuses it)
    check_resumable(config, folder)
    summary = folder / "summary.json"
    if summary.exists() and _complete(json.loads(summary.read_text()), config):
        return "done"
    return "resume" if (folder / CHECKPOINT).exists() else "restart"


def _complete(summary: dict, config: cfg.RunConfig) -> bool:
    seeds = summary.get("seeds", [summary.get("seed")])
    return summary.get("steps") == config.train.steps and seeds == list(config.seeds)


def execute_job(job: Job, out: str, progress: bool = False) -> dict:
    """Train (or skip, or resume) one job in ``out/<job.name>``; its results row and histories."""
    folder = Path(out) / job.name
    config = job.config(str(folder))
    try:
        status = folder_status(folder, config)
        if status != "done":
            runtime.prepare(config.train_config())
            run(config, folder, overwrite=status == "restart", resume=status == "resume", progress=progress and job.name)
    except (RunError, cfg.ConfigError) as err:
        if isinstance(err, RunInterrupted):
            raise SweepInterrupted(f"run {job.name!r}: {err}") from None
        print(f"sweep: {job.name}: failed: {err}", file=sys.stderr)
        return {"row": {**_identity(job), "status": "failed", "error": str(err)}, "histories": []}
    return _finished(job, folder, status)


def execute_group(jobs: tuple[Job, ...], out: str, progress: bool = False) -> list[dict]:
    """Train jobs that can share one compiled program together (``run.run_shared``) if all are
    new, or all resume from checkpoints at one step (a job that diverges is a failed row; if all
    do, each is); otherwise
    each alone (``execute_job``: from its own checkpoint where it has one). Results in the
    order of ``jobs``."""
    if len(jobs) > 1:
        folders = [Path(out) / job.name for job in jobs]
        configs = [job.config(str(folder)) for job, folder in zip(jobs, folders)]
        try:
            statuses = {folder_status(f, c) for f, c in zip(folders, configs)}
        except RunError:
            statuses = set()  # a folder of another configuration: its job fails alone, with that message
        if statuses in ({"new"}, {"resume"}):
            label = progress and f"{jobs[0].name} + {len(jobs) - 1} more"
            resume = statuses == {"resume"}
            try:
                runtime.prepare(configs[0].train_config())
                run_shared(configs, folders, progress=label, resume=resume)
            except NotShared:
                pass
            except DivergenceError as err:  # every run diverged (one among healthy ones is written, a failed row)
                print(f"sweep: {', '.join(j.name for j in jobs)}: failed: {err}", file=sys.stderr)
                return [{"row": {**_identity(job), "status": "failed", "error": str(err)}, "histories": []} for job in jobs]
            except RunError as err:  # e.g. a folder that holds other files: its job fails alone, with the message
                if isinstance(err, RunInterrupted):
                    raise SweepInterrupted(f"runs {', '.join(j.name for j in jobs)}: {err}") from None
            else:
                done = [_finished(job, folder, "resume" if resume else "new") for job, folder in zip(jobs, folders)]
                for d in done:
                    d["row"]["shared_program_with"] = [j.name for j in jobs if j.name != d["row"]["name"]]
                return done
    return [execute_job(job, out, progress) for job in jobs]


def program_groups(jobs: list[Job], out: str | Path) -> list[tuple[Job, ...]]:
    """The jobs gathered by compiled program: jobs whose configurations differ only in what
    their states carry (``run.program_data``) form one group, in order of first appearance."""
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        key = json.dumps(program_data(job.config(str(Path(out) / job.name))), sort_keys=True, default=str)
        groups.setdefault(key, []).append(job)
    return [tuple(g) for g in groups.values()]


def _finished(job: Job, folder: Path, status: str) -> dict:
    """A finished job's results row (from its ``summary.json``) and its histories."""
    summary = json.loads((folder / "summary.json").read_text())
    if summary.get("diverged"):  # written, but a seed went non-finite: the job failed
        error = "; ".join(
            f"seed {d['seed']}: {d['term']} became non-finite (NaN or inf) at step {d['step']}" for d in summary["diverged"]
        )
        print(f"sweep: {job.name}: failed: {error}", file=sys.stderr)
        return {"row": {**_identity(job), "status": "failed", "error": error}, "histories": []}
    row = {**_identity(job), "status": STATUS[status], **per_seed(summary)}
    best = ", ".join(f"{v:.2e}" for v in row["min_l2"])
    print(f"sweep: {job.name}: {row['status']}, min rel. L2 per seed {best}", file=sys.stderr)
    folders = [folder] if len(job.seeds) == 1 else [folder / f"seed_{s}" for s in job.seeds]
    return {"row": row, "histories": [read_history_csv(f / "history.csv") for f in folders]}


def _identity(job: Job) -> dict:
    return {"name": job.name, "values": job.values, "seeds": list(job.seeds)}


def per_seed(summary: dict) -> dict:
    """The summary's metrics as lists aligned with the seeds (also for a one-seed run)."""
    one = "seed" in summary
    wrap = (lambda v: [v]) if one else (lambda v: list(v))  # noqa: E731
    seconds = summary["train_seconds"]
    return {
        "problem": summary["problem"],
        "scheme": summary["scheme"],
        "steps": summary["steps"],
        "min_l2": wrap(summary["min_l2"]),
        "min_l2_step": wrap(summary["min_l2_step"]),
        "final_l2": wrap(summary["final_l2"]),
        "final_weights": {k: wrap(v) for k, v in summary["final_weights"].items()},
        "weight_updates_held": wrap(summary["weight_updates_held"]),
        "train_seconds": seconds if one else seconds[0],  # one vmapped program: the same for every seed
    }


def run_sweep(
    spec: SweepSpec | str | Path,
    executor: Executor | None = None,
    out: str | Path | None = None,
    progress: bool = True,
    share: bool = True,
) -> dict:
    """Plan (validating every run first), execute every job, write ``results.json``/``.md`` and the report.

    With ``share`` (the default) new jobs that differ only in what their states carry train in one
    program (``execute_group``); without, every job trains alone."""
    if not isinstance(spec, SweepSpec):
        spec = load_sweep(spec)
    jobs = plan(spec)
    executor = executor or LocalExecutor()
    out = Path(out or default_out(spec)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "plan.json", {"sweep": spec.source, "base": spec.base, "jobs": [_identity(j) for j in jobs]})
    begin = time.perf_counter()
    local = isinstance(executor, LocalExecutor)
    groups = program_groups(jobs, out) if share else [(job,) for job in jobs]
    by_name = {
        d["row"]["name"]: d
        for ds in executor.execute(groups, partial(execute_group, out=str(out), progress=progress and local))
        for d in ds
    }
    done = [by_name[job.name] for job in jobs]
    wall = time.perf_counter() - begin
    results = {
        "sweep": spec.source,
        "executor": executor.name,
        "keys": spec.keys,
        "jobs": len(jobs),
        "trainings": sum(j.trainings for j in jobs),
        "wall_seconds": wall,
        "runs": [d["row"] for d in done],
        "versions": versions(),
    }
    write_json(out / "results.json", results)
    write_report(out, results, {d["row"]["name"]: d["histories"] for d in done if d["histories"]}, jobs)
    return results


def default_out(spec: SweepSpec) -> str:
    return spec.out or f"runs/sweeps/{Path(spec.source).stem}"


def dry_run(spec: SweepSpec, out: str | Path, share: bool = True) -> str:
    """The plan as text: every job, its seeds and what a run would do with its folder."""
    jobs = plan(spec)
    shared = {job.name: len(group) if share else 1 for group in program_groups(jobs, out) for job in group}
    lines = [f"{len(jobs)} runs, {sum(j.trainings for j in jobs)} trainings, in {out}/:"]
    for job in jobs:
        try:
            what = folder_status(Path(out) / job.name, job.config(str(Path(out) / job.name)))
        except (RunError, cfg.ConfigError) as err:
            what = f"conflict: {err}"
        if shared[job.name] > 1 and what in ("new", "resume"):
            when = "all are new" if what == "new" else "all resume from one step"
            what += f"; one program with {shared[job.name] - 1} other run(s) if {when}"
        lines.append(f"  {job.name}  seeds {list(job.seeds)}  [{what}]")
    return "\n".join(lines)


def main_sweep(
    path: str,
    executor: str = "local",
    address: str | None = None,
    out: str | None = None,
    dry: bool = False,
    overrides: list[str] = (),
    progress: bool = True,
    share: bool = True,
) -> int:
    """CLI entry: exit status 0 (all runs fine), 1 (some failed), 2 (bad input), 130 (stopped)."""
    try:
        spec = load_sweep(path, overrides)
        if executor != "ray":  # runs train in this process: its CPU gets the devices they ask for
            simulate_cpu_devices(max((devices_written(job.data) or 1 for job in plan(spec, check=False)), default=1))
        out = out or default_out(spec)
        if dry:
            print(dry_run(spec, out, share))
            return 0
        chosen = RayExecutor(address) if executor == "ray" else LocalExecutor()
        results = run_sweep(spec, chosen, out, progress, share)
    except (SweepError, ImportError) as err:
        print(f"pinnbalance: error: {err}", file=sys.stderr)
        return 2
    except (SweepInterrupted, KeyboardInterrupt) as err:
        print(f"pinnbalance: {err or 'interrupted'}\nRerun the same command to resume the sweep.", file=sys.stderr)
        return 130
    print((Path(out) / "results.md").read_text())
    print(f"results in {out}/ (results.json, results.md, report.html, one folder per run)")
    failed = [r["name"] for r in results["runs"] if r["status"] == "failed"]
    if failed:
        print(f"pinnbalance: {len(failed)} run(s) failed: {', '.join(failed)} (errors in results.json)", file=sys.stderr)
    return 1 if failed else 0
