"""``pinnbalance run``: one configured training that can be stopped, resumed and audited.

The run folder's layout and files are ``pinnbalance.run_folder``'s; this module is the entry
point: configuration -> problem, network, scheme -> training -> folder.

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
from pinnbalance.ensemble_outputs import ensemble_line
from pinnbalance.io import read_toml
from pinnbalance.report.tensorboard import TensorBoardRows, run_writers
from pinnbalance.run_folder import (
    CHECKPOINT,
    SUMMARY,
    Checkpoints,
    RunError,
    RunInterrupted,
    check_resumable,
    checkpoint_writer,
    config_differences,
    load_progress,
    new_folder,
    phase_of,
    resume_start,
    shared_checkpoint_writer,
    write_config,
    write_outputs,
)
from pinnbalance.training.callbacks import StopOnSignal
from pinnbalance.training.checkpoint import CheckpointError, read_manifest
from pinnbalance.training.fit import initial_states, train
from pinnbalance.training.loop import Progress
from pinnbalance.training.results import DivergenceError, Interrupted
from pinnbalance.training.runs import LEARNING_RATE, program_differences
from pinnbalance.training.sharding import devices_written, simulate_cpu_devices
from pinnbalance.weighting import SCHEMES
from pinnbalance.weighting.hyper import hyperparameters


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
    event files under ``RUN/tensorboard`` (``pinnbalance.report.tensorboard``). A float64
    configuration needs 64-bit JAX on (``pinnbalance.runtime.prepare``; the CLI does it).
    Of several seeds, one that diverges does not stop the others: every seed's outputs are
    written and ``summary.json`` names the diverged ones (``status``, ``diverged``).
    """
    run_dir = Path(out or config.output_dir)
    problem = config.build_problem()
    network, scheme, optimizer = config.build_network(problem), config.build_scheme(problem), config.train.optimizer()
    seeds, tconf = list(config.seeds), config.train_config()
    sharding = _sharding(config, problem, seeds)
    runtime.require_x64(tconf)
    start = resumed_progress(config, run_dir, problem, network, scheme, optimizer) if resume else None
    if not resume:
        new_folder(run_dir, config, overwrite)
    callbacks = [StopOnSignal(), Checkpoints(config.checkpoint_every, checkpoint_writer(run_dir, config))]
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
    return write_outputs(run_dir, problem, network, results, seeds, config, 1 if sharding is None else sharding.count)


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
        diffs = config_differences(program_data(configs[0]), program_data(c))
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
    step short of ``train.steps``, or all inside the same unfinished L-BFGS or LM phase at the
    same step: the runs are stacked from them and go on together.

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
            write_config(folder, config)
        else:
            new_folder(folder, config, overwrite)
    write = shared_checkpoint_writer(spans, folders, configs)
    try:
        results = train(
            problem,
            network,
            runs,
            vmapped=True,
            optimizer=base.train.optimizer(),
            progress=progress,
            start=start,
            callbacks=[StopOnSignal(), Checkpoints(base.checkpoint_every, write)],
        )
    except Interrupted as err:
        raise RunInterrupted(f"stopped after step {err.step} on request; each run's checkpoint is in its folder") from None
    return [
        write_outputs(folder, problem, network, results[a:b], list(config.seeds), config)
        for (a, b), folder, config in zip(spans, folders, configs)
    ]


def _fresh_progress(configs, problem, network) -> Progress:
    """Step 0 of every run of ``configs`` stacked, each with its own optimizer's state (its rate)."""
    states = [
        initial_states(problem, network, _runs(c.build_scheme(problem), c.train_config(), c.seeds), c.train.optimizer())
        for c in configs
    ]
    return Progress(jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs), *states))


def _stacked_progress(configs, folders, problem, network) -> Progress:
    """The checkpoints of ``folders`` (one per configuration) stacked into one vmapped
    ``Progress``, a run per seed, in the order ``run_shared`` lays the runs out. Checkpoints
    written inside the L-BFGS or LM phase stack too (all inside the same phase at the same step),
    as ``run_shared`` writes them: each folder's slice of the one program's state."""
    parts = []
    for folder, config in zip(folders, configs):
        check_resumable(config, folder)
        template = _template(config, problem, network, config.build_scheme(problem), config.train.optimizer())
        runs = len(config.seeds) if len(config.seeds) > 1 else None
        p = load_progress(folder, template, config, _phase_template(template, problem, network, runs))
        if _resumes_alone(p, config, folder):
            raise NotShared(
                f"{folder} has nothing left to train in the first phase or inside a later one: each run resumes alone"
            )
        if len(config.seeds) == 1:  # a run axis of one (jnp: the PRNG keys are typed arrays)
            p = Progress(
                jax.tree_util.tree_map(lambda x: jnp.expand_dims(x, 0), p.state),
                {k: v[None] for k, v in p.records.items()},
                p.steps_done,
            )
        parts.append(p)
    if len({(p.steps_done, type(p.state).__name__, int(np.ravel(getattr(p.state, "position", -1))[0])) for p in parts}) != 1:
        raise NotShared("checkpoints at different steps, or in different phases or iterations: each run resumes alone")
    state = jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs), *[p.state for p in parts])
    records = {k: np.concatenate([p.records[k] for p in parts]) for k in parts[0].records}
    return Progress(state, records, parts[0].steps_done)


def _resumes_alone(start: Progress, config: cfg.RunConfig, folder: Path) -> bool:
    """Whether a resumed ``start`` of ``folder`` is not one to stack: its first phase's steps are
    done (what is left, a later phase from its start or only the outputs, ``run`` does alone), or
    the later phase it is inside has finished."""
    if (phase := phase_of(start)) is not None:
        return phase.nothing_left(start, config.train, (folder / SUMMARY).exists()) is not None
    return start.steps_done >= config.train.steps


def _phase_template(template, problem, network, runs: int | None):
    """``saved manifest -> template`` of a checkpoint written inside the L-BFGS or LM phase
    (``template``: the run's initial states, ``runs`` stacked or None for one)."""

    def phase_template(saved: dict):
        return phase_of(saved).template(template, problem, network, saved, runs=runs)

    return phase_template


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


def resumed_progress(config: cfg.RunConfig, run_dir: Path, problem, network, scheme, optimizer) -> Progress:
    """The checkpointed ``Progress`` of ``run_dir`` that ``config`` goes on from (inside the
    first-order phase or the LM phase), after ``resume_start``'s checks; the folder's config
    becomes ``config``. Also used by the benchmarks' resumable runs (benchmarks/frontier.py)."""
    template = _template(config, problem, network, scheme, optimizer)
    runs = len(config.seeds) if len(config.seeds) > 1 else None
    return resume_start(config, run_dir, template, _phase_template(template, problem, network, runs))


def _template(config: cfg.RunConfig, problem, network, scheme, optimizer):
    """The initial states of ``config``'s runs: the shapes a checkpoint restores into."""
    seeds = list(config.seeds)
    return initial_states(problem, network, _runs(scheme, config.train_config(), seeds), optimizer, stacked=len(seeds) > 1)


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
        # train.devices = N on a CPU: N simulated devices, no XLA_FLAGS needed; set before the configuration is checked
        written = cfg.apply_overrides(read_toml(config_path, "configuration file", cfg.ConfigError), list(overrides))
        simulate_cpu_devices(devices_written(written))
        config = cfg.load(config_path, overrides)
        runtime.prepare(config.train_config())
        summary = run(config, resume or out, overwrite, resume is not None, progress, tensorboard)
    except (cfg.ConfigError, RunError, CheckpointError) as err:
        print(f"pinnbalance: error: {err}", file=sys.stderr)
        return 130 if isinstance(err, RunInterrupted) else 2
    print(json.dumps({k: summary[k] for k in ("min_l2", "final_l2", "final_weights") if k in summary}, indent=1))
    if "ensemble" in summary:  # [ensemble]: the mean prediction's error and the members' spread
        print(ensemble_line(summary["ensemble"]))
    print(f"results in {resume or out or config.output_dir}/")
    for d in summary.get("diverged", []):
        print(f"pinnbalance: seed {d['seed']} diverged: {d['term']} became non-finite at step {d['step']}", file=sys.stderr)
    return 3 if summary.get("diverged") else 0
