"""``fit``: the whole training compiled as chunks of ``lax.scan``, one result per run.

The parts, each in its module: the state before step 0 (here), the compiled chunk program
(``training.program``), the host loop over chunks with its callbacks (``training.loop``,
``training.callbacks``), an optional L-BFGS phase (``training.lbfgs``) and the per-run
results (``training.results``). ``train`` composes them; ``fit`` and ``fit_seeds`` are its
one-run and many-run faces.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance import runtime
from pinnbalance.metrics import evaluation_grid
from pinnbalance.nn.hard import for_problem
from pinnbalance.nn.with_unknowns import solution_network, unknowns_optimizer
from pinnbalance.problems.base import Problem
from pinnbalance.training import lbfgs_checkpoint
from pinnbalance.training.callbacks import DIVERGED, INTERRUPTED, ProgressBar, StopOnDivergence
from pinnbalance.training.causal_schedule import initial_causal
from pinnbalance.training.config import TrainConfig
from pinnbalance.training.lbfgs_phase import lbfgs_phase
from pinnbalance.training.lm_checkpoint import in_phase, lbfgs_extra
from pinnbalance.training.lm_phase import lm_phase
from pinnbalance.training.loop import Progress, run_chunks
from pinnbalance.training.program import ChunkProgram, backend_choices, make_chunk, remaining_plan
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
from pinnbalance.training.runs import check_runs
from pinnbalance.training.state import TrainState, initial_train_state
from pinnbalance.weighting.interface import traits
from pinnbalance.weighting.self_adaptive import init_weights

__all__ = [
    "DivergenceError",
    "FitResult",
    "Interrupted",
    "fit",
    "fit_runs",
    "fit_seeds",
    "initial_state",
    "initial_states",
    "train",
]

FIXED_POINTS_STREAM = 7  # the fixed point set's key: folded from the data key, so random-mode streams are unchanged


def initial_state(problem: Problem, network, scheme, optimizer, config: TrainConfig, seed: int) -> TrainState:
    """The state before step 0: one seed drives initialisation and sampling (and the fixed
    point set of fixed sampling)."""
    dtype = config.jnp_dtype
    network = for_problem(problem, network)  # its hard constraint; its unknowns train with the network (nn.hard)
    optimizer = unknowns_optimizer(network, optimizer, config)
    init_key, data_key = jax.random.split(config.key(seed))
    params = network.init(init_key, dtype)
    if config.least_squares is not None:  # PirateNet's physics-informed initialisation (training.physics_init)
        params = config.least_squares.apply(problem, network, params, init_key, dtype)
    points = config.sampling_spec().initial_points(problem, jax.random.fold_in(data_key, FIXED_POINTS_STREAM), dtype)
    state = initial_train_state(params, optimizer, init_weights(scheme, problem, dtype), data_key, points)
    return state._replace(causal=initial_causal(problem))  # causal weighting's eps schedule ({} without)


def initial_states(problem: Problem, network, runs, optimizer=None, *, stacked: bool = True) -> TrainState:
    """Step 0's state of every ``(scheme, config)`` run, stacked on a leading axis (the state
    ``fit_runs`` vmaps over), or of the one run when not ``stacked``. Each run's state holds
    its own seed's draws, learning rate and scheme hyperparameters; ``optimizer`` (default:
    each run's ``config.optimizer()``) is shared."""
    states = [initial_state(problem, network, s, optimizer or c.optimizer(), c, c.seed) for s, c in runs]
    if not stacked:
        return states[0]
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
    return train(problem, network, [(scheme, config)], optimizer=optimizer, progress=progress, sharding=sharding)[0]


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
) -> list[FitResult]:
    """Train one run per seed, all in ONE compiled program (``vmap`` over the whole state).

    Each seed's result equals ``fit`` with ``config.seed = seed`` up to floating-point
    rounding (batched matrix products may round differently). ``train_seconds`` of each
    result is the wall time of the whole vmapped training. ``sharding`` (a
    ``training.sharding.DataParallel``) spreads the seeds across devices (their number must
    be a multiple of the device count). A seed that diverges does not stop the others: its
    result has ``status == "diverged"`` and ``divergence`` names the step and term
    (``DivergenceError`` only when every seed diverged).
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("fit_seeds needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    runs = [(scheme, dataclasses.replace(config, seed=s)) for s in seeds]
    return train(problem, network, runs, vmapped=True, optimizer=optimizer, progress=progress, sharding=sharding)


def fit_runs(problem: Problem, network, runs, *, optimizer=None, progress: bool | str = True, sharding=None) -> list[FitResult]:
    """Train ``runs`` (``(scheme, config)`` pairs) that differ only in their seed, learning rate
    and scheme hyperparameters in ONE compiled program: their states, which hold those values,
    are stacked and vmapped (``training.runs``). Each result equals its run trained alone up to
    floating-point rounding. ``training.runs.sweep_runs`` builds every combination of seeds
    and candidate values.

    Example:
        >>> from pinnbalance import klein_gordon, mlp_for, LearningRateAnnealing, TrainConfig
        >>> from pinnbalance.training.runs import sweep_runs
        >>> problem = klein_gordon(batch_size=32)
        >>> runs = sweep_runs(LearningRateAnnealing(), TrainConfig(steps=20, log_every=10), [1234],
        ...                   {"learning_rate": [1e-3, 3e-3], "beta": [0.9, 0.99]})
        >>> results = fit_runs(problem, mlp_for(problem.domain, (16, 16)), runs, progress=False)
        >>> [(r.config.learning_rate, round(float(r.state.weights.hyper["beta"]), 2)) for r in results]
        [(0.001, 0.9), (0.001, 0.99), (0.003, 0.9), (0.003, 0.99)]
    """
    runs = list(runs)
    check_runs(runs)
    if optimizer is not None and len({c.learning_rate for _, c in runs}) > 1:
        raise ValueError(
            "runs with their own learning rates take it from their configs: pass optimizer=None "
            "(each config's optimizer keeps its rate in the state), or train them separately"
        )
    return train(problem, network, runs, vmapped=True, optimizer=optimizer, progress=progress, sharding=sharding)


def train(
    problem: Problem,
    network,
    runs,
    *,
    vmapped: bool = False,
    optimizer=None,
    progress: bool | str = True,
    start: Progress | None = None,
    callbacks=(),
    sharding=None,
) -> list[FitResult]:
    """The training shared by ``fit``, ``fit_seeds``, ``fit_runs`` and resumable runs.

    ``runs`` lists ``(scheme, config)`` pairs: one, or (``vmapped``) several trained as one
    vmapped program; the first's scheme and config give the program's structure, each run's
    own values live in its state. ``start`` resumes from a saved ``Progress`` (it must end on
    a chunk boundary of the same plan). ``callbacks`` (``training.loop.Callback``) run after
    every chunk, after the divergence check and before the progress bar; one that sets
    ``progress.stop = "interrupted"`` makes this raise ``Interrupted`` with the results so far.
    Returns one ``FitResult`` per run.
    """
    scheme, config = runs[0]
    _check_train(runs, vmapped, scheme, config)
    network = for_problem(problem, network)  # unchanged without a hard constraint or unknowns
    start = _starting_progress(problem, network, runs, optimizer, vmapped=vmapped, start=start)
    optimizer = optimizer or config.optimizer()  # the program's: it reads each run's rate from the state
    optimizer = unknowns_optimizer(network, optimizer, config)  # each unknown at its own rate
    start.total = config.steps
    grid, exact = _place(sharding, start, evaluation_grid(problem, config.eval_grid, config.jnp_dtype), vmapped)
    counter = [0]
    chunk = make_chunk(problem, network, scheme, optimizer, config, counter, vmapped=vmapped, sharding=sharding)
    bar, lbfgs_bar, lm_bar = _progress_bars(progress, problem.reference)
    extra = {"choices": backend_choices(scheme, config, solution_network(network), problem=problem)}
    callbacks_first = [StopOnDivergence(), *callbacks, *bar]
    timing, first = _first_or_resumed(chunk, start, config, (grid, exact), counter, callbacks_first, extra)
    if config.lbfgs is not None and start.stop is None and not in_phase(start):
        start.state, extra["lbfgs"] = _lbfgs_phase(
            problem, network, scheme, start, config, (grid, exact), vmapped, progress, callbacks=[*callbacks, *lbfgs_bar]
        )
    if config.lm is not None and start.stop is None:
        start.state, extra["lm"] = lm_phase(
            problem,
            network,
            start,
            config.lm,
            (grid, exact),
            runs=len(runs) if vmapped else None,
            callbacks=[*callbacks, *lm_bar],
            first=first,
            lbfgs=extra.get("lbfgs"),
        )
    results = [_result(problem, c, start, i if vmapped else None, extra, timing) for i, (_, c) in enumerate(runs)]
    if start.stop == INTERRUPTED:
        raise Interrupted(start.steps_done, results)
    return raise_if_all_diverged(results)


def _starting_progress(problem, network, runs, optimizer, *, vmapped: bool, start: Progress | None) -> Progress:
    """Each run's initial state with its own optimizer state (its learning rate), or the
    resumed ``start`` with its history so far as the first chunk."""
    if start is None:
        return Progress(initial_states(problem, network, runs, optimizer, stacked=vmapped))
    chunks = [unflatten_records(start.records)] if start.records else []
    return Progress(start.state, steps_done=start.steps_done, chunks=chunks)


def _progress_bars(progress: bool | str, reference: str) -> tuple[list, list, list]:
    """The first phase's bar over steps, the L-BFGS and LM phases' over their iterations (none if off)."""
    if not progress:
        return [], [], []
    label = progress if isinstance(progress, str) else "training"
    later = [[ProgressBar(f"{label} ({phase})", reference, unit="it")] for phase in ("L-BFGS", "LM")]
    return [ProgressBar(label, reference)], *later


def _check_train(runs, vmapped: bool, scheme, config) -> None:
    """Refuse what ``train`` cannot do, before any work: several runs without ``vmapped``, a
    float64 computation with 64-bit JAX off, per-point weights the LM phase would not apply."""
    if len(runs) > 1 and not vmapped:
        raise ValueError(f"train got {len(runs)} runs: pass vmapped=True to train them as one program (or train them one by one)")
    runtime.require_x64(config)
    if config.lm is not None and config.lm.weights == "frozen" and traits(scheme).per_point:
        raise ValueError(
            f"{type(scheme).__name__} keeps a weight per point, which the Levenberg-Marquardt phase does not apply: "
            'give lm weights = "unit" or a mapping {term: weight}'
        )


def _place(sharding, start: Progress, evaluation, vmapped: bool):
    """``(grid, exact)`` laid out for ``sharding`` (None: as they are), and the starting state
    with them: replicated, or split by run when several train together."""
    if sharding is None:
        return evaluation
    start.state = sharding.place(start.state, vmapped)
    return sharding.place(evaluation)


def _first_or_resumed(chunk, start: Progress, config: TrainConfig, fixed, counter, callbacks, extra: dict):
    """``(timings, first phase's end state)``: the first-order phase run from ``start`` (updated in
    place), or, resumed inside a later phase, no timings and the end state its checkpoint holds
    (``extra`` gets what an LM checkpoint says of the L-BFGS phase before it)."""
    if in_phase(start) or lbfgs_checkpoint.in_phase(start):  # resumed inside a later phase: the first is done
        if config.lbfgs is not None and in_phase(start):
            extra["lbfgs"] = lbfgs_extra(start.state, config.lbfgs)
        first = start.state.entry if lbfgs_checkpoint.in_phase(start) else start.state  # an LM checkpoint has its own
        return {"train_seconds": 0.0, "first_chunk_seconds": 0.0, "traces": 0, "compile_seconds": 0.0}, first
    return _first_phase(chunk, start, config, fixed, counter, callbacks), start.state


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


def _lbfgs_phase(problem, network, scheme, progress: Progress, config, evaluation, vmapped, show, *, callbacks=()):
    """The L-BFGS phase after the first-order steps (``training.lbfgs_phase``: ``callbacks`` after
    every chunk of ``log_every`` iterations, whose records join ``progress.chunks``); returns the
    state and, per run, why it stopped."""
    settings = config.lbfgs
    if show:
        print(f"L-BFGS phase: up to {settings.max_iters} iterations, weights {settings.weights}", flush=True)
    state, info = lbfgs_phase(problem, network, scheme, progress, config, evaluation, vmapped=vmapped, callbacks=callbacks)
    if show:
        reasons, iters, seconds = info["reason"], info["iterations"], info["seconds"]
        print(f"L-BFGS stopped ({', '.join(sorted(set(reasons)))}) after {max(iters)} iterations, {seconds:.1f} s", flush=True)
    return state, info


def _result(problem, config, progress: Progress, i: int | None, extra, timing) -> FitResult:
    """Run ``i``'s ``FitResult`` from the final ``progress`` (stacked runs; None: the one run)."""
    state = run_slice(progress.state, i)
    records = [jax.tree_util.tree_map(lambda x: np.asarray(x) if i is None else np.asarray(x)[i], r) for r in progress.chunks]
    run_extra = {"choices": extra["choices"]}
    for phase in ("lbfgs", "lm"):
        if phase in extra:
            run_extra[phase] = {k: (v[i or 0] if isinstance(v, list) else v) for k, v in extra[phase].items()}
    diverged = divergence(state, problem.term_names) or _phase_divergence(run_extra, int(state.step))
    status = "diverged" if diverged else _stop_status(progress.stop)
    if progress.stop not in (None, INTERRUPTED, DIVERGED):
        run_extra["stop"] = progress.stop  # a callback's reason; the phases after the stopped one did not run
    return FitResult(
        state,
        history(records, problem.term_names),
        timing["train_seconds"],
        timing["first_chunk_seconds"],
        timing["traces"],
        problem.term_names,
        config,
        run_extra,
        timing["compile_seconds"],
        status=status,
        divergence=diverged,
    )


def _phase_divergence(run_extra: dict, step: int) -> dict | None:
    """``{"step", "term"}`` if a second-order phase stopped on a non-finite loss, else None."""
    for phase, label in (("lbfgs", "the L-BFGS phase's loss"), ("lm", "the Levenberg-Marquardt phase's loss")):
        if run_extra.get(phase, {}).get("reason") == "non-finite loss":
            return {"step": step, "term": label}
    return None


def _stop_status(stop: str | None) -> str:
    """The status of a healthy run after the loop stopped for ``stop`` (None: not stopped early)."""
    if stop is None:
        return "completed"
    return "interrupted" if stop == INTERRUPTED else "stopped"
