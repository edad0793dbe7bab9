"""Where a run folder stands: finished or not, how far, its latest error and weights, how to resume.

A training of hours runs in the background (``nohup pinnbalance run ...``) or stops with the
session that started it; its folder then holds a checkpoint and, once finished, ``summary.json``.
``run_status(RUN)`` reads those files (the checkpoint's manifest and history, ``config.toml``,
``summary.json``) and nothing else: it trains nothing and starts no JAX backend, so it is safe on a
folder that another process is still writing (every file there is replaced atomically).
``pinnbalance status RUN [RUN ...]`` prints it; a folder of run folders (a sweep's, a queue's)
gives one report per run inside.

Example:
    >>> from pinnbalance.run_status import format_number
    >>> format_number(0.000123456), format_number(264.151), format_number(float("nan"))
    ('1.23e-04', '264', 'nan')
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from pinnbalance.io import read_toml
from pinnbalance.run_folder import CHECKPOINT, CONFIG, SUMMARY
from pinnbalance.training.checkpoint import CheckpointError, read_records
from pinnbalance.training.results import shared_errors, unflatten_records
from pinnbalance.unknown_records import unknown_columns

PHASE_NAMES = {"lbfgs": "the L-BFGS phase", "lm": "the Levenberg-Marquardt phase"}


class StatusError(ValueError):
    """A folder that is not a run folder (nor holds any); the message says what was found."""


def is_run_folder(path: Path) -> bool:
    """Whether ``path`` holds a checkpoint or a summary of ``pinnbalance run``."""
    return (path / CHECKPOINT).exists() or (path / SUMMARY).exists()


def run_folders(path: str | Path) -> list[Path]:
    """``[path]`` for a run folder, else the run folders directly inside it (sorted by name)."""
    path = Path(path)
    if not path.is_dir():
        raise StatusError(f"{path} is not a folder: pass a run folder (the output.dir of a `pinnbalance run`)")
    if is_run_folder(path):
        return [path]
    inside = sorted(child for child in path.iterdir() if child.is_dir() and is_run_folder(child))
    if not inside:
        raise StatusError(
            f"{path} holds no run: neither {CHECKPOINT} nor {SUMMARY} is in it or in a folder directly inside it "
            "(a run writes its first checkpoint after train.checkpoint_every steps)"
        )
    return inside


def seed_rows(records: dict, seeds: list[int]) -> list[dict]:
    """One row per seed from a checkpoint's records (arrays ``(n,)`` for one run, ``(seeds, n)`` for
    several): the last recorded step, its errors, weights and unknowns, and the lowest ``l2`` so far."""
    rows = []
    for i, seed in enumerate(seeds):
        pick = {k: np.asarray(v) if np.ndim(v) == 1 else np.asarray(v)[i] for k, v in records.items()}
        if "step" not in pick or len(pick["step"]) == 0:
            rows.append({"seed": seed, "step": None})
            continue
        rec = unflatten_records(pick)  # the record groups, and the history's names for errors and unknowns
        errors = {"l2": rec["l2"], **{k: rec[k] for k in shared_errors([rec])}}
        errors |= {k: v for k, v in unknown_columns([rec]).items() if k.startswith("unknown_l2/")}
        row: dict = {"seed": seed, "step": int(pick["step"][-1]), "errors": {k: float(v[-1]) for k, v in errors.items()}}
        row["weights"] = {k: float(v[-1]) for k, v in rec["weights"].items()}
        row["unknowns"] = {k: float(v[-1]) for k, v in rec.get("unknowns", {}).items()}
        if "l2" in pick and np.isfinite(pick["l2"]).any():
            best = int(np.nanargmin(np.where(np.isfinite(pick["l2"]), pick["l2"], np.nan)))
            row["min_l2"], row["min_l2_step"] = float(pick["l2"][best]), int(pick["step"][best])
        bad = [k for k, v in pick.items() if k != "step" and np.issubdtype(v.dtype, np.floating) and not np.isfinite(v[-1])]
        if bad:
            row["non_finite"] = sorted(bad)
        rows.append(row)
    return rows


def _read_summary(path: Path) -> dict | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise StatusError(
            f"{path} is not valid JSON ({err}): it was changed after the run wrote it (runs write every file atomically)"
        ) from None


def run_status(run_dir: str | Path, *, now: float | None = None) -> dict:
    """What ``run_dir`` (one run folder) says about its training, as a JSON-ready dict.

    ``state`` is ``"finished"`` when ``summary.json`` was written for the checkpoint's last step
    and that is the configuration's step count (inside an L-BFGS or LM phase, which count
    iterations: when ``summary.json`` reports that phase and was written after the checkpoint),
    else ``"unfinished"`` (still running, or stopped: a folder cannot tell which, so
    ``checkpoint_age_seconds`` says how long ago it last wrote); ``resume`` is the command that
    goes on from the checkpoint.
    """
    run_dir = Path(run_dir)
    if not is_run_folder(run_dir):
        raise StatusError(f"{run_dir} is not a run folder: it holds neither {CHECKPOINT} nor {SUMMARY}")
    status: dict = {"run_dir": run_dir.as_posix()}
    config = run_dir / CONFIG
    steps = read_toml(config, "the run's configuration", StatusError).get("train", {}).get("steps") if config.exists() else None
    summary = _read_summary(run_dir / SUMMARY)
    checkpoint, manifest = run_dir / CHECKPOINT, {}
    done = summary.get("steps") if summary else None
    if checkpoint.exists():
        try:
            records, manifest = read_records(checkpoint)
        except CheckpointError as err:
            raise StatusError(str(err)) from None
        done = int(manifest["step"])
        steps = steps if steps is not None else manifest.get("config", {}).get("train", {}).get("steps")
        seeds = list(manifest.get("seeds") or (summary or {}).get("seeds") or [None])
        status["phase"] = PHASE_NAMES.get(manifest.get("phase"), manifest.get("phase"))
        status["checkpoint_age_seconds"] = (time.time() if now is None else now) - checkpoint.stat().st_mtime
        status["seeds"] = seed_rows(records, seeds)
    phase = manifest.get("phase")
    if phase is None:  # the first phase: the outputs were written for the checkpoint's step, the last one
        finished = summary is not None and summary.get("steps") == done and (steps is None or done == steps)
    else:  # a second-order phase counts iterations, not steps: its outputs name it and came after the checkpoint
        finished = summary is not None and phase in summary and (run_dir / SUMMARY).stat().st_mtime >= checkpoint.stat().st_mtime
    status.update(state="finished" if finished else "unfinished", steps_done=done, steps=steps)
    if finished:  # an older summary.json of a run resumed with more steps would speak of another step
        status["summary"] = {k: summary[k] for k in ("final_l2", "min_l2", "final_l2re", "diverged") if k in summary}
        several = isinstance(summary.get("final_l2"), list)
        for i, row in enumerate(status.get("seeds", [])):  # each seed's error at its final parameters
            row["final"] = {k: summary[k][i] if several else summary[k] for k in ("final_l2", "final_l2re") if k in summary}
    if not finished and checkpoint.exists():
        status["resume"] = f"pinnbalance run {(run_dir / CONFIG).as_posix()} --resume {run_dir.as_posix()}"
    return status


def format_number(x: float) -> str:
    """Three significant figures: plain for weights-like values in [1, 1e4), else scientific."""
    if not math.isfinite(x):
        return str(x)
    return f"{x:.3g}" if 1 <= abs(x) < 1e4 else f"{x:.2e}"


def _age(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago" if seconds < 5400 else f"{seconds / 3600:.1f} h ago"


def format_status(status: dict) -> str:
    """``run_status``'s dict as a few lines of text for a terminal."""
    done, steps = status["steps_done"], status["steps"]
    head = f"{status['run_dir']}: {status['state']}"
    if status.get("phase"):  # steps of the first phase, then the phase's iterations
        where = "ended in" if status["state"] == "finished" else "inside"
        head += f", {where} {status['phase']} at step {done:,} ({steps or 0:,} first-phase steps, then iterations)"
    elif done is not None:
        head += f", step {done:,}" + (f" of {steps:,} ({100 * done / steps:.0f}%)" if steps else "")
    if "checkpoint_age_seconds" in status:
        head += f"; checkpoint written {_age(status['checkpoint_age_seconds'])}"
    lines = [head]
    for row in status.get("seeds", []):
        who = "" if row["seed"] is None else f"seed {row['seed']} "
        if row["step"] is None:
            lines.append(f"  {who}: nothing recorded yet")
            continue
        errors = ", ".join(f"{k} {format_number(v)}" for k, v in row["errors"].items())
        best = f" (min l2 {format_number(row['min_l2'])} at step {row['min_l2_step']:,})" if "min_l2" in row else ""
        final = "".join(
            f"; final {k.removeprefix('final_')} {format_number(v)}" for k, v in row.get("final", {}).items() if v is not None
        )
        lines.append(f"  {who}at step {row['step']:,}: {errors}{best}{final}")
        if row["weights"]:
            lines.append("    weights: " + ", ".join(f"{k} {format_number(v)}" for k, v in row["weights"].items()))
        if row["unknowns"]:
            lines.append("    unknowns: " + ", ".join(f"{k} {format_number(v)}" for k, v in row["unknowns"].items()))
        if row.get("non_finite"):
            lines.append("    NON-FINITE at the last record: " + ", ".join(row["non_finite"]))
    for d in status.get("summary", {}).get("diverged", []):
        lines.append(f"  seed {d['seed']} diverged: {d['term']} became non-finite at step {d['step']}")
    if status.get("resume"):
        lines.append(f"  resume: {status['resume']}")
    return "\n".join(lines)


def main_status(paths: list[str], as_json: bool = False) -> int:
    """CLI entry: the status of each run folder given (or of each run inside a folder of runs)."""
    try:
        statuses = [run_status(folder) for path in paths for folder in run_folders(path)]
    except StatusError as err:
        print(f"pinnbalance: error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(statuses, indent=1) if as_json else "\n".join(format_status(s) for s in statuses))
    return 0
