"""The run folder: its layout and every file in it, written and read back.

Run folder::

    RUN/config.toml       the resolved configuration (every default written out)
    RUN/versions.json     package, JAX, NumPy and Python versions; backend and device
    RUN/checkpoint.npz    the complete state + history, every train.checkpoint_every steps
    RUN/summary.json      final metrics (per-seed lists when several seeds)
    RUN/history.csv, params.npz, network.json, predictions.npz   (RUN/seed_<S>/ for several)
    RUN/causal.png        with [causal]: slice weights and eps over the steps
    RUN/ensemble.npz, ensemble.png   with [ensemble]: the members' mean and std (``ensemble_outputs``)
    RUN/tensorboard/      event files, with ``--tensorboard`` (``pinnbalance.report.tensorboard``)

Every file is written atomically (``pinnbalance.io``), so a stopped process leaves either the
previous file or the new one. ``pinnbalance.run`` decides *what* to train; this module knows
*where* each piece goes and how to read it back: a new folder, a checkpoint to resume from,
the outputs of a finished training, and ``load_run`` for a trained network.

Example:
    >>> from pinnbalance.run_folder import seed_folder
    >>> seed_folder("runs/kg", 7, several=True).as_posix(), seed_folder("runs/kg", 7, several=False).as_posix()
    ('runs/kg/seed_7', 'runs/kg')
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance import config as cfg
from pinnbalance import derivatives
from pinnbalance.ensemble_outputs import write_ensemble
from pinnbalance.io import atomic_write_text, load_params, saved_hard_constrained, write_json
from pinnbalance.metrics import evaluation_set
from pinnbalance.problems.external import make_problem
from pinnbalance.report.causal import run_figure as causal_figure_of_run
from pinnbalance.reproduce import method_metrics, prepare_out, save_method
from pinnbalance.training import lbfgs_checkpoint, lm_checkpoint
from pinnbalance.training.callbacks import DIVERGED
from pinnbalance.training.checkpoint import CheckpointError, load_checkpoint, read_manifest, save_checkpoint
from pinnbalance.training.loop import Callback, Progress
from pinnbalance.training.results import flatten_records
from pinnbalance.unknown_outputs import write_unknowns

PHASES = (lm_checkpoint, lbfgs_checkpoint)  # the later phases a checkpoint may be written inside: each module
# has manifest(state), in_phase(manifest or Progress), template(...), resumed(...) and nothing_left(progress, train, written)
CHECKPOINT = "checkpoint.npz"
CONFIG = "config.toml"
SUMMARY = "summary.json"
VERSIONS = "versions.json"


class RunError(RuntimeError):
    """A run could not start or finish; the message says why and what to do."""


class RunInterrupted(RunError):
    """A run stopped on request (SIGINT/SIGTERM); its checkpoint is on disk."""


def seed_folder(run_dir: str | Path, seed: int, several: bool) -> Path:
    """Where one seed's outputs go: the run folder itself, or ``seed_<S>/`` when several seeds trained."""
    return Path(run_dir) / f"seed_{seed}" if several else Path(run_dir)


class Checkpoints(Callback):
    """Write the run's checkpoint every ``every`` steps, at the end, and when the loop stops
    on request (never when every run diverged: the last good checkpoint stays).
    ``write(progress)`` writes it (one folder, or one per configuration of shared runs)."""

    def __init__(self, every: int, write):
        self.every, self.write = every, write

    def on_chunk(self, progress: Progress) -> None:
        if progress.stop == DIVERGED:
            return
        due = progress.steps_done % self.every == 0 if progress.due is None else progress.due  # the LM phase's own schedule
        if due or progress.steps_done >= progress.total or progress.stop is not None:
            progress.records = flatten_records(progress.chunks)
            self.write(progress)


def phase_of(manifest_or_progress):
    """The module of the later phase (in ``PHASES``) that a checkpoint's manifest, or a resumed
    ``Progress``, is inside; None for the first phase."""
    return next((phase for phase in PHASES if phase.in_phase(manifest_or_progress)), None)


def phase_manifest(state) -> dict:
    """The manifest entries of a checkpoint of ``state``: ``{"phase": ...}`` inside a later phase, else ``{}``."""
    return {k: v for phase in PHASES for k, v in phase.manifest(state).items()}


def checkpoint_writer(run_dir: Path, config: cfg.RunConfig):
    """``write(progress)`` for ``Checkpoints``: the whole state and records to ``RUN/checkpoint.npz``,
    with the step, the seeds and the configuration in its manifest."""

    def write(p: Progress) -> None:
        meta = {"step": p.steps_done, "seeds": list(config.seeds), "config": config.to_dict(), **phase_manifest(p.state)}
        save_checkpoint(run_dir / CHECKPOINT, p.state, p.records, meta)

    return write


def shared_checkpoint_writer(spans: list[tuple[int, int]], folders: list[Path], configs: list[cfg.RunConfig]):
    """``write(progress)`` for runs that train as one program: each folder gets its own slice
    ``a:b`` of the stacked state and records (a single run without its run axis)."""

    def write(p: Progress) -> None:
        for (a, b), folder, config in zip(spans, folders, configs):
            pick = (lambda x: x[a]) if b - a == 1 else (lambda x: x[a:b])  # noqa: E731
            meta = {
                "step": p.steps_done,
                "seeds": list(config.seeds),
                "config": config.to_dict(),
                **phase_manifest(p.state),
            }
            records = {k: pick(v) for k, v in p.records.items()}
            save_checkpoint(folder / CHECKPOINT, jax.tree_util.tree_map(pick, p.state), records, meta)

    return write


def versions() -> dict:
    import optax

    from pinnbalance import __version__

    return {
        "pinnbalance": __version__,
        "jax": jax.__version__,
        "optax": optax.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "backend": jax.default_backend(),
        "device": str(jax.devices()[0]),
    }


def config_differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    """``"key.path: B in the run folder, A now"`` for every leaf where two nested dicts differ."""
    keys = sorted(set(a) | set(b))
    out = []
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += config_differences(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k}: {vb!r} in the run folder, {va!r} now")
    return out


RESUME_MAY_CHANGE = ("steps", "devices", "checkpoint_every")  # [train] keys a resume may change (check_resumable)


def check_resumable(config: cfg.RunConfig, run_dir: Path) -> bool:
    """The configuration must be the run's own (``train.steps`` may grow; ``train.devices``,
    where it runs, may change: a checkpoint restores on any device count; so may
    ``train.checkpoint_every``, when progress is saved, not what is trained; ``[lbfgs]`` may
    change, and so may ``[lm]``: they run after the first phase, which the checkpoint holds).
    Returns whether one of them changed (then a finished run may redo that phase)."""
    saved_path = run_dir / CONFIG
    if not saved_path.exists():
        raise RunError(
            f"{run_dir} is not a pinnbalance run folder (no config.toml); give the folder that `pinnbalance run` wrote"
        )
    saved = cfg.load(saved_path).to_dict()
    now = config.to_dict()
    lbfgs_changed = any(saved.get(p) != now.get(p) for p in ("lbfgs", "lm"))
    for d in (saved, now):
        for key in RESUME_MAY_CHANGE:
            d["train"].pop(key, None)
        d["output"].pop("dir")
        d.pop("lbfgs", None)
        d.pop("lm", None)
    diffs = config_differences(now, saved)
    if diffs:
        raise RunError(
            f"cannot resume {run_dir} with a different configuration; only "
            + ", ".join(f"train.{key}" for key in RESUME_MAY_CHANGE)
            + ", [lbfgs] and [lm] may change. "
            "Differences: " + "; ".join(diffs)
        )
    return lbfgs_changed


def new_folder(run_dir: Path, config: cfg.RunConfig, overwrite: bool) -> None:
    """Make ``run_dir`` a fresh run folder of ``config`` (refusing one with files unless ``overwrite``)."""
    try:
        prepare_out(run_dir, overwrite)
    except FileExistsError as err:
        raise RunError(f"{err}; or resume it with --resume {run_dir}") from None
    write_config(run_dir, config)
    write_json(run_dir / VERSIONS, versions())


def write_config(run_dir: Path, config: cfg.RunConfig) -> None:
    """``RUN/config.toml``: the folder's outputs are this configuration's."""
    atomic_write_text(run_dir / CONFIG, cfg.dumps(config))


def load_progress(run_dir: Path, template, config: cfg.RunConfig, phase_template=None) -> Progress:
    """The ``Progress`` saved in ``RUN/checkpoint.npz``, restored into the shapes of ``template``
    (the initial states of the run); refuses a checkpoint off a chunk boundary. A checkpoint
    written inside the L-BFGS or LM phase is restored into ``phase_template(manifest)`` (None: refused)."""
    try:
        phase = None if phase_template is None else phase_of(saved := read_manifest(run_dir / CHECKPOINT))
        if phase is not None:
            loaded = load_checkpoint(run_dir / CHECKPOINT, phase_template(saved))
            return phase.resumed(*loaded, config.to_dict(), where=run_dir)  # a redone phase prints why
        state, records, manifest = load_checkpoint(run_dir / CHECKPOINT, template)
    except CheckpointError as err:
        raise RunError(f"cannot resume: {err}") from None
    step = int(manifest["step"])
    chunk = config.train.log_every * config.train.chunk_logs
    if step % chunk and step != config.train.steps:
        raise RunError(f"cannot resume: checkpoint step {step} is not on a chunk boundary ({chunk} steps)")
    return Progress(state, records, step)


def resume_start(config: cfg.RunConfig, run_dir: Path, template, phase_template=None) -> Progress:
    """The saved ``Progress`` of ``run_dir`` to go on from, after checking the configuration
    may resume it and that something is left to do; the folder's config becomes this one."""
    lbfgs_changed = check_resumable(config, run_dir)
    start = load_progress(run_dir, template, config, phase_template)
    if (phase := phase_of(start)) is not None:  # inside a later phase: done only if it finished and its outputs are written
        if message := phase.nothing_left(start, config.train, (run_dir / SUMMARY).exists()):
            raise RunError(f"{run_dir}: {message}")
        write_config(run_dir, config)
        return start
    steps = config.train.steps
    summary = run_dir / SUMMARY  # a final checkpoint without its outputs only writes them
    written = summary.exists() and json.loads(summary.read_text()).get("steps") == start.steps_done
    redo = lbfgs_changed and (config.train.lbfgs is not None or config.train.lm is not None)  # a new second-order phase
    if start.steps_done > steps or (start.steps_done == steps and written and not redo):
        raise RunError(
            f"{run_dir} has already trained {start.steps_done} of {steps} steps; raise train.steps to go on"
            + ("" if config.train.lbfgs is None and config.train.lm is None else ", or change [lbfgs]/[lm] to redo that phase")
        )
    write_config(run_dir, config)  # the folder's outputs will be this config's
    return start


def write_outputs(run_dir: Path, problem, network, results, seeds, config, devices: int = 1) -> dict:
    """Each seed's history, parameters and predictions, then ``summary.json``; returns the summary."""
    tconf = config.train_config()
    eval_points = evaluation_set(problem, tconf.eval_points, tconf.jnp_dtype)
    per_seed = []
    for seed, result in zip(seeds, results):
        folder = seed_folder(run_dir, seed, len(seeds) > 1)
        save_method(folder, problem, network, result, tconf.eval_grid)
        causal_figure_of_run(folder, result.history)  # causal weighting: folder/causal.png (slice weights, eps)
        per_seed.append(method_metrics(problem, network, result, eval_points))
        per_seed[-1].update(write_unknowns(folder, problem, network, result, tconf.eval_grid))  # {} without unknowns
        per_seed[-1]["status"] = result.status
        for phase in ("lbfgs", "lm"):  # why a second-order phase stopped, after how many iterations
            if phase in result.extra:
                per_seed[-1][phase] = result.extra[phase]
    summary = _summary(problem, tconf, seeds, per_seed)
    summary["scheme"] = config.weighting.scheme
    summary["numerics"] = {"dtype": tconf.dtype, "matmul_precision": tconf.matmul_precision, "backend": jax.default_backend()}
    summary["numerics"]["devices"] = devices  # > 1: sums split across devices (rounding may differ)
    summary["numerics"]["choices"] = results[0].extra.get("choices", {})  # what the backend decided
    if config.ensemble is not None:  # [ensemble]: the members' mean prediction, its errors and their spread
        summary["ensemble"] = write_ensemble(run_dir, problem, network, results, seeds, tconf.eval_grid)
    diverged = [{"seed": seed, **r.divergence} for seed, r in zip(seeds, results) if r.divergence]
    if diverged:
        summary["diverged"] = diverged
    write_json(run_dir / SUMMARY, summary)
    return summary


def _summary(problem, tconf, seeds: list, per_seed: list[dict]) -> dict:
    """One seed's metrics as they are; of several, each metric as a list over seeds (a dict of lists for dicts)."""
    if len(seeds) == 1:
        return {"problem": problem.name, "steps": tconf.steps, "seed": seeds[0], **per_seed[0]}
    summary = {"problem": problem.name, "steps": tconf.steps, "seeds": seeds}
    for key in per_seed[0]:
        first = per_seed[0][key]
        summary[key] = (
            {k: [m[key][k] for m in per_seed] for k in first} if isinstance(first, dict) else [m[key] for m in per_seed]
        )
    return summary


@dataclass(frozen=True)
class TrainedModel:
    """A trained network you can evaluate anywhere: ``u`` and its derivatives at points.

    Example:
        >>> model = load_run("runs/klein-gordon", "M2")            # doctest: +SKIP
        >>> model.u([[0.5, 0.5]]), model.derivative([[0.5, 0.5]], "x", order=2)  # doctest: +SKIP
    """

    network: object  # an architecture (nn.ARCHITECTURES), hard-constrained if its problem declares it (nn.hard)
    params: list
    coordinates: tuple[str, ...] = ()

    def _axis(self, axis: int | str) -> int:
        if isinstance(axis, str):
            if axis not in self.coordinates:
                raise KeyError(f"unknown coordinate {axis!r}; this model takes {list(self.coordinates)}")
            return self.coordinates.index(axis)
        return int(axis)

    def _points(self, points) -> jax.Array:
        dtype = jax.tree_util.tree_leaves(self.params)[0].dtype
        pts = jnp.atleast_2d(jnp.asarray(points, dtype))
        if pts.shape[-1] != self.network.layers[0]:
            raise ValueError(f"points must have shape (n, {self.network.layers[0]}), got {pts.shape}")
        return pts

    def u(self, points) -> np.ndarray:
        """The network output at each row of ``points``."""
        field = self.network.field(self.params)
        return np.asarray(jax.vmap(field)(self._points(points)))

    def derivative(self, points, axis: int | str, order: int = 1) -> np.ndarray:
        """``d^order u / d z_axis^order`` (order 1 or 2) at each row of ``points``."""
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order}")
        field, ax = self.network.field(self.params), self._axis(axis)
        fn = derivatives.partial if order == 1 else derivatives.second_partial
        return np.asarray(jax.vmap(lambda z: fn(field, z, ax))(self._points(points)))


def load_run(run_dir: str | Path, method: str | None = None, seed: int | None = None) -> TrainedModel:
    """Load a trained network: ``method`` of a ``reproduce`` folder, or a ``pinnbalance run``
    folder itself (``method=None``); ``seed`` picks ``seed_<S>/`` when several seeds trained."""
    run_dir = Path(run_dir)
    folder = run_dir if seed is None else run_dir / f"seed_{seed}"
    folder = folder / method if method is not None else folder
    if not (folder / "params.npz").exists():
        found = sorted(p.parent.relative_to(run_dir).as_posix() for p in run_dir.rglob("params.npz"))
        raise FileNotFoundError(f"no trained parameters at {folder}; this run folder has: {found or 'none'}")
    problem, coords = None, ()
    if (run_dir / "config.json").exists():  # written by `reproduce`
        written = json.loads((run_dir / "config.json").read_text())
        coords = tuple(written.get("coordinates", ()))
        if saved_hard_constrained(folder):  # its g and d: the problem's code, rebuilt by the name as given
            problem = make_problem(written.get("problem_name", written["problem"]))
    elif (run_dir / CONFIG).exists():  # written by `pinnbalance run`
        problem = cfg.load(run_dir / CONFIG).build_problem()
        coords = tuple(problem.domain.names)
    network, params = load_params(folder, hard=None if problem is None else problem.hard)
    return TrainedModel(network, params, coords)
