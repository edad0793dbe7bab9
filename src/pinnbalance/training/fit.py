"""``fit``: the whole training compiled as chunks of ``lax.scan``, one result per run.

The parts, each in its module: the state before step 0 (here), the compiled chunk program
(``training.program``), the host loop over chunks with its callbacks (``training.loop``,
``training.callbacks``), an optional L-BFGS phase (``training.lbfgs``) and the per-run
results (``training.results``). ``train`` composes them; ``fit`` and ``fit_seeds`` are its
one-run and many-run faces.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance import runtime
from pinnbalance.metrics import evaluation_grid
from pinnbalance.problems.base import Problem
from pinnbalance.training.callbacks import INTERRUPTED, ProgressBar, StopOnDivergence
from pinnbalance.training.config import TrainConfig
from pinnbalance.training.lanes import LEARNING_RATE, check_lanes, lane_config, lane_optimizer, per_run, scheme_with
from pinnbalance.training.lbfgs import refine
from pinnbalance.training.lm_phase import lm_phase
from pinnbalance.training.loop import Progress, run_chunks
from pinnbalance.training.program import ChunkProgram, make_chunk, remaining_plan, schedule_name
from pinnbalance.training.results import (
    DivergenceError,
    FitResult,
    Interrupted,
    divergence,
    history,
    raise_if_all_diverged,
    run_slice,
    unflatten_records,
)
from pinnbalance.training.state import TrainState, initial_train_state
from pinnbalance.weighting.self_adaptive import init_weights

__all__ = ["DivergenceError", "FitResult", "Interrupted", "fit", "fit_seeds", "initial_state", "initial_states", "train"]

FIXED_POINTS_STREAM = 7  # the fixed point set's key: folded from the data key, so random-mode streams are unchanged


def initial_state(problem: Problem, network, scheme, optimizer, config: TrainConfig, seed: int) -> TrainState:
    """The state before step 0: one seed drives initialisation and sampling (and the fixed
    point set of fixed sampling)."""
    dtype = config.jnp_dtype
    init_key, data_key = jax.random.split(config.key(seed))
    params = network.init(init_key, dtype)
    points = config.sampling_spec().initial_points(problem, jax.random.fold_in(data_key, FIXED_POINTS_STREAM), dtype)
    return initial_train_state(params, optimizer, init_weights(scheme, problem, dtype), data_key, points)


def initial_states(problem: Problem, network, scheme, optimizer, config: TrainConfig, seeds=None, lanes=None, optimizer_for=None):
    """Step 0's state for ``config.seed``, or for every seed of ``seeds`` stacked on a leading axis
    (the state ``fit_seeds`` vmaps over). With ``lanes`` (one ``{name: value}`` per seed,
    ``training.lanes``) each run starts with its own scheme, optimizer and learning rate."""
    if seeds is None:
        return initial_state(problem, network, scheme, optimizer, config, config.seed)
    lanes = lanes or [{}] * len(seeds)
    states = [
        initial_state(
            problem,
            network,
            scheme_with(scheme, lane),
            lane_optimizer(lane, optimizer, optimizer_for or config.optimizer),
            lane_config(config, lane),
            s,
        )
        for s, lane in zip(seeds, lanes)
    ]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *states)


def fit(
    problem: Problem,
    network,
    scheme,
    config: TrainConfig = TrainConfig(),
    optimizer=None,
    progress: bool | str = True,
    *,
    sharding=None,
) -> FitResult:
    """Train ``network`` on ``problem`` with loss weights from ``scheme``.

    ``progress`` is True/False or a label shown in the progress bar. ``sharding`` (a
    ``training.sharding.DataParallel``) splits each step's batch across devices. Raises
    ``DivergenceError`` naming the first step and term that became non-finite.

    Example:
        >>> from pinnbalance import klein_gordon, mlp_for, LearningRateAnnealing, TrainConfig
        >>> problem = klein_gordon()
        >>> result = fit(problem, mlp_for(problem.domain, (20, 20)), LearningRateAnnealing(),
        ...              TrainConfig(steps=200), progress=False)
        >>> sorted(result.weights)
        ['bcs', 'ics', 'res']
    """
    return train(problem, network, scheme, config, optimizer=optimizer, progress=progress, sharding=sharding)[0]


def fit_seeds(
    problem: Problem,
    network,
    scheme,
    config: TrainConfig,
    seeds,
    optimizer=None,
    progress: bool | str = True,
    *,
    sharding=None,
    values=None,
    optimizer_for=None,
) -> list[FitResult]:
    """Train one run per seed, all in ONE compiled program (``vmap`` over the whole state).

    Each seed's result equals ``fit`` with ``config.seed = seed`` up to floating-point
    rounding (batched matrix products may round differently). ``train_seconds`` of each
    result is the wall time of the whole vmapped training. ``sharding`` (a
    ``training.sharding.DataParallel``) spreads the seeds across devices (their number must
    be a multiple of the device count). A seed that diverges does not stop the others: its
    result has ``status == "diverged"`` and ``divergence`` names the step and term
    (``DivergenceError`` only when every seed diverged).

    ``values`` gives the runs their own learning rates or weighting-scheme parameters, one
    entry per seed (``{"learning_rate": [...], "beta": [...]}``; ``training.lanes.sweepable``
    lists the names), still in one compiled program; a seed may then repeat, and each
    result's ``config`` and ``extra["values"]`` say which values it trained with.
    ``training.lanes.grid`` builds every combination of seeds and candidate values. A swept
    learning rate builds each run's optimizer with ``optimizer_for(learning_rate)``
    (default: ``config.optimizer``, Adam with the configured decay).

    Example:
        >>> from pinnbalance import klein_gordon, mlp_for, LearningRateAnnealing, TrainConfig
        >>> from pinnbalance.training.lanes import grid
        >>> problem = klein_gordon(batch_size=32)
        >>> seeds, values = grid([1234], {"learning_rate": [1e-3, 3e-3], "beta": [0.9, 0.99]})
        >>> runs = fit_seeds(problem, mlp_for(problem.domain, (16, 16)), LearningRateAnnealing(),
        ...                  TrainConfig(steps=20, log_every=10), seeds, values=values, progress=False)
        >>> [r.extra["values"] for r in runs][:2]
        [{'learning_rate': 0.001, 'beta': 0.9}, {'learning_rate': 0.001, 'beta': 0.99}]
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("fit_seeds needs at least one seed")
    if not values and len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    kwargs = {
        "optimizer": optimizer,
        "progress": progress,
        "sharding": sharding,
        "values": values,
        "optimizer_for": optimizer_for,
    }
    return train(problem, network, scheme, config, seeds=seeds, **kwargs)


def train(
    problem: Problem,
    network,
    scheme,
    config: TrainConfig,
    *,
    seeds=None,
    optimizer=None,
    progress: bool | str = True,
    start: Progress | None = None,
    callbacks=(),
    sharding=None,
    values=None,
    optimizer_for=None,
) -> list[FitResult]:
    """The training shared by ``fit``, ``fit_seeds`` and resumable runs: one result per run.

    ``seeds`` (a list) trains one vmapped run per seed, None the single run of
    ``config.seed``. ``start`` resumes from a saved ``Progress`` (it must end on a chunk
    boundary of the same plan). ``callbacks`` (``training.loop.Callback``) run after every
    chunk, after the divergence check and before the progress bar; one that sets
    ``progress.stop = "interrupted"`` makes this raise ``Interrupted`` with the results so
    far. ``values`` and ``optimizer_for``: see ``fit_seeds``.
    """
    runtime.require_x64(config)
    lanes, lane_values = _lanes(scheme, config, seeds, values, optimizer, optimizer_for)
    optimizer = optimizer or (config.optimizer() if optimizer_for is None else optimizer_for(config.learning_rate))
    if start is None:
        start = Progress(initial_states(problem, network, scheme, optimizer, config, seeds, lane_values, optimizer_for))
    else:
        start = Progress(start.state, steps_done=start.steps_done, chunks=[unflatten_records(start.records)])
    start.total = config.steps
    grid, exact, lanes = _place(sharding, start, evaluation_grid(problem, config.eval_grid, config.jnp_dtype), lanes, seeds)
    counter = [0]
    chunk = make_chunk(
        problem,
        network,
        scheme,
        optimizer,
        config,
        counter,
        vmapped=seeds is not None,
        sharding=sharding,
        optimizer_for=optimizer_for,
    )
    bar = [ProgressBar(progress if isinstance(progress, str) else "training", problem.reference)] if progress else []
    timing = _first_phase(chunk, start, config, (grid, exact, lanes), counter, [StopOnDivergence(), *callbacks, *bar])
    extra = {"choices": {"update_schedule": schedule_name(scheme, config), "backend": jax.default_backend()}}
    if config.lbfgs is not None and start.stop is None:
        start.state, extra["lbfgs"] = _lbfgs_phase(
            problem, network, scheme, start, config, (grid, exact), seeds is not None, progress
        )
    if config.lm is not None and start.stop is None:
        start.state, lm_records, extra["lm"] = lm_phase(
            problem, network, start.state, config.lm, (grid, exact), runs=None if seeds is None else len(seeds)
        )
        start.chunks.extend(lm_records)
    results = [
        _result(problem, config, start, i, seed, lane_values, extra, timing)
        for i, seed in enumerate(seeds if seeds is not None else [config.seed])
    ]
    if start.stop == INTERRUPTED:
        raise Interrupted(start.steps_done, results)
    return raise_if_all_diverged(results)


def _place(sharding, start: Progress, evaluation, lanes, seeds):
    """``(grid, exact, lanes)`` laid out for ``sharding`` (None: as they are), and the
    starting state with them: replicated, or split by seed when several runs train."""
    grid, exact = evaluation
    if sharding is None:
        return grid, exact, lanes
    start.state, (grid, exact) = sharding.place(start.state, seeds is not None), sharding.place((grid, exact))
    return grid, exact, lanes if lanes is None else sharding.place(lanes, True)


def _first_phase(chunk, progress: Progress, config: TrainConfig, fixed, counter, callbacks) -> dict:
    """Run the first-order steps still to do from ``progress`` (updated in place); their timings."""
    plan = remaining_plan(config, progress.steps_done)
    shapes = [s for s, _ in plan]
    with ChunkProgram(chunk, fixed, shapes=shapes, precision=config.matmul_precision, counter=counter) as program:
        times = run_chunks(program, progress, plan, callbacks)
    return {
        "train_seconds": times.total,
        "first_chunk_seconds": times.first_chunk,
        "traces": program.traces,
        "compile_seconds": program.compile_seconds,
    }


def _lanes(scheme, config, seeds, values, optimizer, optimizer_for):
    """``(lanes, lane_values)``: swept values as traced arrays (one entry per run) and per run."""
    if values and seeds is None:
        raise ValueError("values need vmapped runs: pass them with seeds (fit_seeds)")
    if values and LEARNING_RATE in values and optimizer is not None and optimizer_for is None:
        raise ValueError(
            "swept learning rates build each run's optimizer from TrainConfig; pass optimizer=None, "
            "or sweep the learning rate as separate runs"
        )
    if not values:
        return None, None
    values = check_lanes(scheme, config, seeds, values)
    # the learning rate in float32, as optax's schedule computes a Python-float rate against its
    # int32 step count, so a lane equals its own run in float64 too
    lanes = {n: jnp.asarray(v, jnp.float32 if n == LEARNING_RATE else config.jnp_dtype) for n, v in values.items()}
    return lanes, per_run(values)


def _lbfgs_phase(problem, network, scheme, progress: Progress, config, evaluation, vmapped, show):
    """The L-BFGS phase after the first-order steps: its records (one per ``log_every``
    iterations, in the first phase's record shape) join ``progress.chunks``; returns the
    state and, per run, why it stopped."""
    settings = config.lbfgs
    if show:
        print(f"L-BFGS phase: up to {settings.max_iters} iterations, weights {settings.weights}", flush=True)
    begin = time.perf_counter()
    with jax.default_matmul_precision(config.matmul_precision):
        state, recs, reasons, iters = refine(
            problem, network, scheme, progress.state, settings, *evaluation, config.jnp_dtype, vmapped
        )
    seconds = time.perf_counter() - begin
    progress.chunks.extend(jax.tree_util.tree_map(lambda x: np.asarray(x)[..., None], r) for r in recs)
    if show:
        print(f"L-BFGS stopped ({', '.join(sorted(set(reasons)))}) after {max(iters)} iterations, {seconds:.1f} s", flush=True)
    return state, {"reason": reasons, "iterations": iters, "seconds": seconds, "weights": settings.weights}


def _result(problem, config, progress: Progress, i: int, seed: int, lane_values, extra, timing) -> FitResult:
    """Run ``i``'s ``FitResult`` from the (stacked, if several) final ``progress``."""
    pick = i if np.ndim(progress.state.step) else None
    state = run_slice(progress.state, pick)
    records = [
        jax.tree_util.tree_map(lambda x: np.asarray(x) if pick is None else np.asarray(x)[pick], r) for r in progress.chunks
    ]
    lane = lane_values[i] if lane_values else {}
    run_extra = {**({"values": lane} if lane else {}), "choices": extra["choices"]}
    for phase in ("lbfgs", "lm"):
        if phase in extra:
            run_extra[phase] = {k: (v[i] if isinstance(v, list) else v) for k, v in extra[phase].items()}
    diverged = divergence(state, problem.term_names)
    status = "diverged" if diverged else ("interrupted" if progress.stop == INTERRUPTED else "completed")
    return FitResult(
        state,
        history(records, problem.term_names),
        timing["train_seconds"],
        timing["first_chunk_seconds"],
        timing["traces"],
        problem.term_names,
        lane_config(dataclasses.replace(config, seed=seed), lane),
        run_extra,
        timing["compile_seconds"],
        status=status,
        divergence=diverged,
    )
