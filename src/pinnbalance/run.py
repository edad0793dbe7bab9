"""``pinnbalance run``: one configured training that can be stopped, resumed and audited.

Run folder::

    RUN/config.toml       the resolved configuration (every default written out)
    RUN/versions.json     package, JAX, NumPy and Python versions; backend and device
    RUN/checkpoint.npz    the complete state + history, every train.checkpoint_every steps
    RUN/summary.json      final metrics (per-seed lists when several seeds)
    RUN/history.csv, params.npz, network.json, predictions.npz   (RUN/seed_<S>/ for several)

SIGINT or SIGTERM finish the current chunk, write a checkpoint and stop with a message
saying how to resume; a hard kill loses at most one checkpoint interval. A non-finite loss,
weight or gradient stops a one-seed run with the step and the term, and the last good
checkpoint stays on disk; of several seeds, a diverged one does not stop the others: every
seed's outputs are written, summary.json names the diverged ones, and the command exits 3.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance import config as cfg
from pinnbalance import runtime
from pinnbalance.io import atomic_write_text, write_json
from pinnbalance.metrics import evaluation_set
from pinnbalance.reproduce import method_metrics, prepare_out, save_method
from pinnbalance.tensorboard import run_writers, write_records
from pinnbalance.training.callbacks import DIVERGED, StopOnSignal
from pinnbalance.training.checkpoint import CheckpointError, load_checkpoint, read_manifest, save_checkpoint
from pinnbalance.training.fit import initial_states, train
from pinnbalance.training.loop import Callback, Progress
from pinnbalance.training.results import DivergenceError, Interrupted, flatten_records
from pinnbalance.training.runs import LEARNING_RATE, program_differences
from pinnbalance.training.sharding import simulate_cpu_devices
from pinnbalance.unknown_outputs import write_unknowns
from pinnbalance.weighting import SCHEMES
from pinnbalance.weighting.hyper import hyperparameters

CHECKPOINT = "checkpoint.npz"


class RunError(RuntimeError):
    """A run could not start or finish; the message says why and what to do."""


class RunInterrupted(RunError):
    """A run stopped on request (SIGINT/SIGTERM); its checkpoint is on disk."""


class Checkpoints(Callback):
    """Write the run's checkpoint every ``every`` steps, at the end, and when the loop stops
    on request (never when every run diverged: the last good checkpoint stays).
    ``write(progress)`` writes it (one folder, or one per configuration of shared runs)."""

    def __init__(self, every: int, write):
        self.every, self.write = every, write

    def on_chunk(self, progress: Progress) -> None:
        if progress.stop == DIVERGED:
            return
        if progress.steps_done % self.every == 0 or progress.steps_done >= progress.total or progress.stop is not None:
            progress.records = flatten_records(progress.chunks)
            self.write(progress)


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


def _differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    keys = sorted(set(a) | set(b))
    out = []
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differences(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k}: {vb!r} in the run folder, {va!r} now")
    return out


def check_resumable(config: cfg.RunConfig, run_dir: Path) -> bool:
    """The configuration must be the run's own (``train.steps`` may grow; ``train.devices``,
    where it runs, may change: a checkpoint restores on any device count; ``[lbfgs]`` may
    change, and so may ``[lm]``: they run after the first phase, which the checkpoint holds).
    Returns whether one of them changed (then a finished run may redo that phase)."""
    saved_path = run_dir / "config.toml"
    if not saved_path.exists():
        raise RunError(
            f"{run_dir} is not a pinnbalance run folder (no config.toml); give the folder that `pinnbalance run` wrote"
        )
    saved = cfg.load(saved_path).to_dict()
    now = config.to_dict()
    lbfgs_changed = any(saved.get(p) != now.get(p) for p in ("lbfgs", "lm"))
    for d in (saved, now):
        d["train"].pop("steps")
        d["train"].pop("devices", None)
        d["output"].pop("dir")
        d.pop("lbfgs", None)
        d.pop("lm", None)
    diffs = _differences(now, saved)
    if diffs:
        raise RunError(
            f"cannot resume {run_dir} with a different configuration; only train.steps, [lbfgs] and [lm] may change. "
            "Differences: " + "; ".join(diffs)
        )
    return lbfgs_changed


def run(
    config: cfg.RunConfig,
    out: str | Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    progress=True,
    tensorboard: bool = False,
) -> dict:
    """Train as configured, with checkpoints; return the summary written to ``summary.json``.

    With ``tensorboard`` the history is also written, after every chunk, as TensorBoard
    event files under ``RUN/tensorboard`` (``pinnbalance.tensorboard``). A float64
    configuration needs 64-bit JAX on (``pinnbalance.runtime.prepare``; the CLI does it).
    Of several seeds, one that diverges does not stop the others: every seed's outputs are
    written and ``summary.json`` names the diverged ones (``status``, ``diverged``).
    """
    run_dir = Path(out or config.output_dir)
    problem = config.build_problem()
    network, scheme, optimizer = config.build_network(problem), config.build_scheme(problem), config.build_optimizer()
    seeds, tconf = list(config.seeds), config.train_config()
    sharding = _sharding(config, problem, seeds)
    runtime.require_x64(tconf)
    start = _resume_start(config, run_dir, problem, network, scheme, optimizer) if resume else None
    if not resume:
        _new_folder(run_dir, config, overwrite)
    meta = lambda p: {"step": p.steps_done, "seeds": seeds, "config": config.to_dict()}  # noqa: E731
    callbacks = [
        StopOnSignal(),
        Checkpoints(config.checkpoint_every, lambda p: save_checkpoint(run_dir / CHECKPOINT, p.state, p.records, meta(p))),
    ]
    board = TensorBoardRows(run_writers(run_dir, seeds), start) if tensorboard else None
    try:
        results = train(
            problem,
            network,
            _runs(scheme, tconf, seeds),
            vmapped=len(seeds) > 1,
            optimizer=optimizer,
            progress=progress,
            start=start,
            callbacks=callbacks + ([board] if board else []),
            sharding=sharding,
        )
    except Interrupted as err:
        raise RunInterrupted(
            f"stopped after step {err.step} on request; checkpoint written to {run_dir / CHECKPOINT}. "
            f"Resume with: pinnbalance run {run_dir / 'config.toml'} --resume {run_dir}"
        ) from None
    except DivergenceError as err:
        last = run_dir / CHECKPOINT
        where = f"the last good checkpoint ({last}, step {read_manifest(last)['step']})" if last.exists() else "no checkpoint yet"
        raise RunError(f"{err} Kept on disk: {where}.") from None
    if board is not None:
        board.close(results)
    return _write_outputs(run_dir, problem, network, results, seeds, config, 1 if sharding is None else sharding.count)


class TensorBoardRows(Callback):
    """Write the history rows recorded since the last chunk as TensorBoard events (one writer
    per seed); ``close(results)`` adds the rows after the loop (an L-BFGS phase)."""

    def __init__(self, writers, start: Progress | None):
        self.writers = writers
        self.written = np.shape(start.records["step"])[-1] if start is not None else 0  # rows already in the files

    def on_chunk(self, progress: Progress) -> None:
        self.written = write_records(self.writers, flatten_records(progress.chunks), self.written)

    def close(self, results) -> None:
        for writer, result in zip(self.writers, results):
            writer.add_history(result.history, self.written)
            writer.close()


def _resume_start(config: cfg.RunConfig, run_dir: Path, problem, network, scheme, optimizer) -> Progress:
    """The saved ``Progress`` of ``run_dir`` to go on from, after checking the configuration
    may resume it and that something is left to do; the folder's config becomes this one."""
    lbfgs_changed = check_resumable(config, run_dir)
    start = _load_progress(run_dir, problem, network, scheme, optimizer, config)
    steps = config.train.steps
    summary = run_dir / "summary.json"  # a final checkpoint without its outputs only writes them
    written = summary.exists() and json.loads(summary.read_text()).get("steps") == start.steps_done
    redo = lbfgs_changed and (config.train.lbfgs is not None or config.train.lm is not None)  # a new second-order phase
    if start.steps_done > steps or (start.steps_done == steps and written and not redo):
        raise RunError(
            f"{run_dir} has already trained {start.steps_done} of {steps} steps; raise train.steps to go on"
            + ("" if config.train.lbfgs is None and config.train.lm is None else ", or change [lbfgs]/[lm] to redo that phase")
        )
    atomic_write_text(run_dir / "config.toml", cfg.dumps(config))  # the folder's outputs will be this config's
    return start


class NotShared(ValueError):
    """Run configurations that cannot share one program (they differ in more than their seeds,
    learning rate and weighting hyperparameters)."""


def _runs(scheme, tconf, seeds) -> list[tuple]:
    """One ``(scheme, config)`` run per seed."""
    return [(scheme, dataclasses.replace(tconf, seed=s)) for s in seeds]


def shared_runs(configs: list[cfg.RunConfig], problem) -> list[tuple]:
    """The ``(scheme, config)`` runs of ``configs``, a run per seed of each, in order; raises
    ``NotShared`` if they cannot train as one program (``training.runs``)."""
    for i, c in enumerate(configs[1:], 1):
        diffs = _differences(program_data(configs[0]), program_data(c))
        if diffs:
            keys = ", ".join(d.split(":")[0] for d in diffs)
            raise NotShared(f"run {i} differs from run 0 in more than what runs of one program may: {keys}")
    runs = [run for c in configs for run in _runs(c.build_scheme(problem), c.train_config(), c.seeds)]
    differences = program_differences(runs)
    if differences:
        raise NotShared("; ".join(differences))
    return runs


def program_data(config: cfg.RunConfig) -> dict:
    """A run's configuration data without what its state carries (seeds, learning rate,
    weighting hyperparameters) and without its output folder: equal for runs that can share
    one compiled program (``run_shared``)."""
    d = config.to_dict()
    d.pop("output", None)
    d["train"] = {k: v for k, v in d["train"].items() if k != "seeds"}
    d["optimizer"] = {k: v for k, v in d["optimizer"].items() if k != LEARNING_RATE}
    hyper = hyperparameters(SCHEMES[config.weighting.scheme])
    d["weighting"] = {k: v for k, v in d["weighting"].items() if k not in hyper}
    return d


def run_shared(
    configs: list[cfg.RunConfig], folders: list[Path], overwrite: bool = False, progress=True, resume: bool = False
) -> list[dict]:
    """Train run configurations that differ only in their learning rate and weighting
    hyperparameters as ONE compiled program (``training.runs``: each seed of each is a run
    whose state holds its values), and write to each folder what ``run`` would write for it
    alone: its config, its checkpoints (its own slice of the state), history, parameters and
    summary. So any one of them can afterwards be read, resumed or extended on its own.
    Returns the summaries.

    With ``resume`` every folder must hold a checkpoint of its configuration, all at the same
    step short of ``train.steps``: the runs are stacked from them and go on together.

    Raises ``NotShared`` (before anything is written) if the configurations differ in more, ask
    for several devices, or (resuming) have checkpoints at different steps or none left to
    train. A run that diverges is written with the others, its summary naming it.
    """
    base = configs[0]
    if any(c.devices != 1 for c in configs):
        raise NotShared("runs on several devices train alone")
    problem = base.build_problem()
    network, runs = base.build_network(problem), shared_runs(configs, problem)
    runtime.require_x64(runs[0][1])
    owners = [i for i, c in enumerate(configs) for _ in c.seeds]
    spans = [(owners.index(i), len(owners) - owners[::-1].index(i)) for i in range(len(configs))]
    start = _stacked_progress(configs, folders, problem, network) if resume else _fresh_progress(configs, problem, network)
    for folder, config in zip(folders, configs):
        if resume:  # the folder's outputs will be this config's (train.steps may have grown)
            atomic_write_text(folder / "config.toml", cfg.dumps(config))
        else:
            _new_folder(folder, config, overwrite)

    def write(p: Progress) -> None:
        for (a, b), folder, config in zip(spans, folders, configs):
            pick = (lambda x: x[a]) if b - a == 1 else (lambda x: x[a:b])  # noqa: E731
            meta = {"step": p.steps_done, "seeds": list(config.seeds), "config": config.to_dict()}
            records = {k: pick(v) for k, v in p.records.items()}
            save_checkpoint(folder / CHECKPOINT, jax.tree_util.tree_map(pick, p.state), records, meta)

    try:
        results = train(
            problem,
            network,
            runs,
            vmapped=True,
            optimizer=base.build_optimizer(),
            progress=progress,
            start=start,
            callbacks=[StopOnSignal(), Checkpoints(base.checkpoint_every, write)],
        )
    except Interrupted as err:
        raise RunInterrupted(f"stopped after step {err.step} on request; each run's checkpoint is in its folder") from None
    return [
        _write_outputs(folder, problem, network, results[a:b], list(config.seeds), config)
        for (a, b), folder, config in zip(spans, folders, configs)
    ]


def _fresh_progress(configs, problem, network) -> Progress:
    """Step 0 of every run of ``configs`` stacked, each with its own optimizer's state (its rate)."""
    states = [
        initial_states(problem, network, _runs(c.build_scheme(problem), c.train_config(), c.seeds), c.build_optimizer())
        for c in configs
    ]
    return Progress(jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs), *states))


def _stacked_progress(configs, folders, problem, network) -> Progress:
    """The checkpoints of ``folders`` (one per configuration) stacked into one vmapped
    ``Progress``, a run per seed, in the order ``run_shared`` lays the runs out."""
    parts = []
    for folder, config in zip(folders, configs):
        check_resumable(config, folder)
        p = _load_progress(folder, problem, network, config.build_scheme(problem), config.build_optimizer(), config)
        if len(config.seeds) == 1:  # a run axis of one (jnp: the PRNG keys are typed arrays)
            p = Progress(
                jax.tree_util.tree_map(lambda x: jnp.expand_dims(x, 0), p.state),
                {k: v[None] for k, v in p.records.items()},
                p.steps_done,
            )
        parts.append(p)
    steps = {p.steps_done for p in parts}
    if len(steps) != 1 or steps.pop() >= configs[0].train.steps:
        raise NotShared("checkpoints at different steps, or nothing left to train: each run resumes alone")
    state = jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs), *[p.state for p in parts])
    records = {k: np.concatenate([p.records[k] for p in parts]) for k in parts[0].records}
    return Progress(state, records, parts[0].steps_done)


def _new_folder(run_dir: Path, config: cfg.RunConfig, overwrite: bool) -> None:
    """Make ``run_dir`` a fresh run folder of ``config`` (refusing one with files unless ``overwrite``)."""
    try:
        prepare_out(run_dir, overwrite)
    except FileExistsError as err:
        raise RunError(f"{err}; or resume it with --resume {run_dir}") from None
    atomic_write_text(run_dir / "config.toml", cfg.dumps(config))
    write_json(run_dir / "versions.json", versions())


def _sharding(config: cfg.RunConfig, problem, seeds):
    """The layout of ``train.devices`` (None: one device), checked before any work."""
    try:
        sharding = config.build_sharding()
        if sharding is not None and len(seeds) > 1:
            sharding.check_seeds(len(seeds))
        elif sharding is not None:
            sharding.check_batch(problem)
    except ValueError as err:
        raise RunError(
            f"train.devices = {config.devices!r}: {err}. A run may resume on another device count (--set train.devices=N)"
        ) from None
    return sharding


def _load_progress(run_dir, problem, network, scheme, optimizer, config) -> Progress:
    seeds = list(config.seeds)
    template = initial_states(problem, network, _runs(scheme, config.train_config(), seeds), optimizer, stacked=len(seeds) > 1)
    try:
        state, records, manifest = load_checkpoint(run_dir / CHECKPOINT, template)
    except CheckpointError as err:
        raise RunError(f"cannot resume: {err}") from None
    step = int(manifest["step"])
    chunk = config.train.log_every * config.train.chunk_logs
    if step % chunk and step != config.train.steps:
        raise RunError(f"cannot resume: checkpoint step {step} is not on a chunk boundary ({chunk} steps)")
    return Progress(state, records, step)


def _write_outputs(run_dir: Path, problem, network, results, seeds, config, devices: int = 1) -> dict:
    tconf = config.train_config()
    eval_points = evaluation_set(problem, tconf.eval_points, tconf.jnp_dtype)
    per_seed = []
    for seed, result in zip(seeds, results):
        folder = run_dir if len(seeds) == 1 else run_dir / f"seed_{seed}"
        save_method(folder, problem, network, result, tconf.eval_grid)
        per_seed.append(method_metrics(problem, network, result, eval_points))
        per_seed[-1].update(write_unknowns(folder, problem, network, result, tconf.eval_grid))  # {} without unknowns
        per_seed[-1]["status"] = result.status
        for phase in ("lbfgs", "lm"):  # why a second-order phase stopped, after how many iterations
            if phase in result.extra:
                per_seed[-1][phase] = result.extra[phase]
    if len(seeds) == 1:
        summary = {"problem": problem.name, "steps": tconf.steps, "seed": seeds[0], **per_seed[0]}
    else:
        summary = {"problem": problem.name, "steps": tconf.steps, "seeds": seeds}
        for key in per_seed[0]:
            first = per_seed[0][key]
            summary[key] = (
                {k: [m[key][k] for m in per_seed] for k in first} if isinstance(first, dict) else [m[key] for m in per_seed]
            )
    summary["scheme"] = config.weighting.scheme
    summary["numerics"] = {"dtype": tconf.dtype, "matmul_precision": tconf.matmul_precision, "backend": jax.default_backend()}
    summary["numerics"]["devices"] = devices  # > 1: sums split across devices (rounding may differ)
    summary["numerics"]["choices"] = results[0].extra.get("choices", {})  # what the backend decided
    diverged = [{"seed": seed, **r.divergence} for seed, r in zip(seeds, results) if r.divergence]
    if diverged:
        summary["diverged"] = diverged
    write_json(run_dir / "summary.json", summary)
    return summary


def main_run(
    config_path: str,
    overrides: list[str],
    resume: str | None,
    overwrite: bool,
    out: str | None,
    progress: bool,
    tensorboard: bool = False,
) -> int:
    """CLI entry: returns an exit status; errors are one paragraph on stderr, never a traceback."""
    try:
        config = cfg.load(config_path, overrides)  # starts no JAX backend, so:
        simulate_cpu_devices(config.devices)  # train.devices = N on a CPU: N simulated devices, no XLA_FLAGS needed
        runtime.prepare(config.train_config())
        summary = run(config, resume or out, overwrite, resume is not None, progress, tensorboard)
    except (cfg.ConfigError, RunError, CheckpointError) as err:
        print(f"pinnbalance: error: {err}", file=sys.stderr)
        return 130 if isinstance(err, RunInterrupted) else 2
    print(json.dumps({k: summary[k] for k in ("min_l2", "final_l2", "final_weights") if k in summary}, indent=1))
    print(f"results in {resume or out or config.output_dir}/")
    for d in summary.get("diverged", []):
        print(f"pinnbalance: seed {d['seed']} diverged: {d['term']} became non-finite at step {d['step']}", file=sys.stderr)
    return 3 if summary.get("diverged") else 0
