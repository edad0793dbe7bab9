"""``fit``: the whole training compiled as chunks of ``lax.scan``.

Steps are grouped in blocks of ``log_every``; the first step of each block is recorded
(its minibatch's unweighted term losses, the weights after it, and the relative L2 error
on the evaluation grid after it), as the published code logs at ``step % 100 == 0``.
A chunk scans ``chunk_logs`` blocks on device; the host only sees a chunk's records,
advances the progress bar and checks health. Every full chunk has the same shape, so it
compiles once; a final partial chunk compiles at most twice more, in a background thread
while the full chunks train (``precompile``), so its compile costs no wall time.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.compiler_options import compiler_options
from pinnbalance.metrics import evaluation_grid, predict, relative_l2
from pinnbalance.problems.base import Problem
from pinnbalance.training.config import TrainConfig
from pinnbalance.training.lanes import LEARNING_RATE, check_lanes, lane_config, lane_optimizer, per_run, scheme_with
from pinnbalance.training.lbfgs import refine
from pinnbalance.training.state import TrainState, initial_train_state
from pinnbalance.training.step import make_step, make_steps, run_steps
from pinnbalance.weighting.self_adaptive import init_weights

FIXED_POINTS_STREAM = 7  # the fixed point set's key: folded from the data key, so random-mode streams are unchanged


class DivergenceError(RuntimeError):
    """Raised when a loss, weight or gradient became non-finite during training."""

    def __init__(self, step: int, term: str, result: FitResult):
        self.step, self.term, self.result = step, term, result
        super().__init__(
            f"training diverged: {term} became non-finite (NaN or inf) at step {step}. "
            "Lower the learning rate, use float64, or check the problem's residuals; the "
            "history up to that chunk is in this error's .result."
        )


@dataclass
class FitResult:
    """What a training returns: final state, history (numpy arrays) and timings.

    ``train_seconds`` is the wall time of the first-order phase, compiling included;
    ``compile_seconds`` the part of it the host spent compiling (or waiting for a chunk
    shape compiled in the background), so ``train_seconds - compile_seconds`` is training.
    """

    state: TrainState
    history: dict[str, np.ndarray]
    train_seconds: float
    first_chunk_seconds: float
    traces: int
    term_names: tuple[str, ...]
    config: TrainConfig
    extra: dict = field(default_factory=dict)
    compile_seconds: float = 0.0

    @property
    def params(self):
        return self.state.params

    @property
    def weights(self) -> dict[str, float]:
        return {n: float(w) for n, w in self.state.weights.weights.items()}


def schedule_period(scheme, log_every: int) -> int | None | str:
    """The static update period of ``scheme`` if one applies, else ``"dynamic"``.

    None means the scheme never needs per-term gradients. A period that divides
    ``log_every`` gives a static schedule (no ``cond`` in the loop).
    """
    if scheme.needs_grads(0) is False:
        return None
    period = getattr(scheme, "period", None)
    if isinstance(period, int) and log_every % period == 0:
        return period
    return "dynamic"


def choose_schedule(scheme, config: TrainConfig, backend: str | None = None) -> tuple[bool, int | None | str]:
    """``(masked, period)``: how a chunk lays out its weight-update steps.

    ``period`` is ``schedule_period``'s answer. ``masked`` says to run one kind of step
    throughout: per-term gradients every step, new weights kept only on the scheme's update
    steps (``make_steps(masked=True)``). Otherwise plain and update steps alternate by a
    static schedule (nested scans, no ``cond``), or, for an irregular schedule, by a ``cond``.

    ``config.update_schedule = "auto"`` masks on CPU, where one kind of step scanned flat
    beats two kinds interleaved (KG batch 128: M2 1.03-1.08x M1 masked vs 1.10-1.17x static,
    ``benchmarks/speed.py``), for schemes whose update is cheap (no kernel statistics, such
    as the NTK traces, and not per-point). Elsewhere it keeps the static schedule, which
    runs M2 within 3% of M1 on an H200. Update every step (period 1) needs no mask.
    """
    period = schedule_period(scheme, config.log_every)
    if period is None or period == 1 or getattr(scheme, "per_point", False):
        return False, period
    mode = config.update_schedule
    if mode == "auto":
        cheap = not tuple(getattr(scheme, "statistics_needed", ()))
        backend = jax.default_backend() if backend is None else backend
        mode = "masked" if cheap and backend == "cpu" else "static"
    return mode == "masked", period


def make_chunk(
    problem: Problem,
    network,
    scheme,
    optimizer,
    config: TrainConfig,
    counter: list[int],
    vmapped: bool = False,
    sharding=None,
    optimizer_for=None,
):
    """Build the jitted ``chunk(state, grid, exact, n_blocks, block_len, lanes=None) -> (state, records)``.

    With ``vmapped`` the state (and the records) carry a leading axis of independent runs
    (seeds) trained by one compiled program; ``lanes`` then may give each run its own
    learning rate or scheme parameters (``{name: array with one entry per run}``, see
    ``training.lanes``), traced like the state; a lane's optimizer is then
    ``optimizer_for(learning_rate)`` (default ``config.optimizer``). With ``sharding`` (``training.sharding.
    DataParallel``) one run's batch is split across devices, or, with ``vmapped``, the seeds.
    """
    split = None if vmapped else sharding  # the points of one run; seeds are split by their state's layout
    dtype = config.jnp_dtype
    sampling = config.sampling_spec()
    masked, period = choose_schedule(scheme, config)
    dynamic = period == "dynamic" and not masked  # an irregular schedule: a cond in every step
    if masked or dynamic:  # one kind of step: a flat scan
        period = None

    def steps_for(lane):
        """(plain, update, observed) steps of one run, with its lane's values (traced) if any."""
        opt = lane_optimizer(lane, optimizer, optimizer_for or config.optimizer)
        sch = scheme_with(scheme, lane)
        plain_step, update_step, observed_step = make_steps(problem, network, sch, opt, dtype, True, sampling, split, masked)
        if dynamic:
            plain_step = update_step = make_step(problem, network, sch, opt, dtype, sampling, split)
        return plain_step, update_step, observed_step

    def chunk(state, grid, exact, n_blocks: int, block_len: int, lanes=None):
        counter[0] += 1  # runs only when jax traces: counts compilations

        def run(s, lane):
            plain_step, update_step, observed_step = steps_for(lane)

            def block(s, _):
                # the recorded step's own effect is visible in the record: losses of its
                # batch, then weights and L2 error after it (as the published logging)
                s1, info = observed_step(s)
                rec = {
                    "step": s.step,
                    "losses": info["losses"],
                    "grad_norms": info["grad_norms"],
                    "weights": dict(s1.weights.weights),
                    "l2": relative_l2(predict(network, s1.params, grid, problem), exact),
                }
                if block_len > 1:
                    s1 = run_steps(plain_step, update_step, period, s1, block_len - 1, offset=1)
                return s1, rec

            return jax.lax.scan(block, s, None, length=n_blocks)

        lanes = {} if lanes is None else lanes
        state, records = jax.vmap(run)(state, lanes) if vmapped else run(state, lanes)
        if sharding is not None:  # the next chunk finds the layout it was compiled for
            state = sharding.split_seeds(state) if vmapped else sharding.replicated(state)
        return state, records

    return jax.jit(chunk, static_argnums=(3, 4), compiler_options=compiler_options())


def chunk_plan(steps: int, log_every: int, chunk_logs: int) -> list[tuple[int, int]]:
    """``[(n_blocks, block_len), ...]`` covering ``steps`` steps; all but the last two are equal."""
    full_blocks, rest = divmod(steps, log_every)
    plan = [(chunk_logs, log_every)] * (full_blocks // chunk_logs)
    if full_blocks % chunk_logs:
        plan.append((full_blocks % chunk_logs, log_every))
    if rest:
        plan.append((1, rest))
    return plan


def precompile(chunk, args, lanes, shapes, precision: str) -> tuple[ThreadPoolExecutor, dict[tuple[int, int], Future]]:
    """Compile ``chunk`` for each ``(n_blocks, block_len)`` of ``shapes`` in a background thread.

    ``args`` are ``(state, grid, exact)`` and ``lanes`` as the chunk will get them (shapes,
    dtypes and layouts decide the compiled program, not values). An ahead-of-time compile lands in the
    jitted function's cache, so a later call with that shape finds it ready; waiting on the
    returned future first avoids compiling it twice. ``precision`` is the matmul precision
    the host loop runs under (part of the compiled program, and thread-local in JAX).
    """

    def build(shape):
        with jax.default_matmul_precision(precision):
            chunk.lower(*args, *shape, lanes).compile()

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pinnbalance-compile")
    return pool, {shape: pool.submit(build, shape) for shape in shapes}


def initial_state(problem: Problem, network, scheme, optimizer, config: TrainConfig, seed: int) -> TrainState:
    """The state before step 0: one seed drives initialisation and sampling (and the fixed
    point set of fixed sampling)."""
    dtype = config.jnp_dtype
    init_key, data_key = jax.random.split(config.key(seed))
    params = network.init(init_key, dtype)
    points = config.sampling_spec().initial_points(problem, jax.random.fold_in(data_key, FIXED_POINTS_STREAM), dtype)
    return initial_train_state(params, optimizer, init_weights(scheme, problem, dtype), data_key, points)


def initial_states(
    problem: Problem, network, scheme, optimizer, config: TrainConfig, seeds=None, lanes=None, optimizer_for=None
) -> TrainState:
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
    return train_loop(problem, network, scheme, config, optimizer, progress, None, sharding=sharding)[0]


def fit_seeds(
    problem: Problem,
    network,
    scheme,
    config: TrainConfig,
    seeds,
    optimizer=None,
    progress: bool | str = True,
    sharding=None,
    values=None,
    optimizer_for=None,
) -> list[FitResult]:
    """Train one run per seed, all in ONE compiled program (``vmap`` over the whole state).

    Each seed's result equals ``fit`` with ``config.seed = seed`` up to floating-point
    rounding (batched matrix products may round differently). ``train_seconds`` of each
    result is the wall time of the whole vmapped training. ``sharding`` (a
    ``training.sharding.DataParallel``) spreads the seeds across devices (their number must
    be a multiple of the device count).

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
    return train_loop(
        problem,
        network,
        scheme,
        config,
        optimizer,
        progress,
        seeds,
        sharding=sharding,
        values=values,
        optimizer_for=optimizer_for,
    )


RECORD_GROUPS = ("losses", "weights", "grad_norms")  # per-term quantities of each record


class Interrupted(RuntimeError):
    """Training stopped early on request (a signal); ``results`` holds the runs so far."""

    def __init__(self, step: int, results: list[FitResult]):
        self.step, self.results = step, results
        super().__init__(f"training interrupted after step {step}")


@dataclasses.dataclass
class Progress:
    """What the host knows after a chunk: the state, every record so far, steps done."""

    state: TrainState
    records: dict  # flat {"step": ..., "l2": ..., "losses.res": ...}, blocks on the last axis
    steps_done: int


def flatten_records(records: list[dict]) -> dict[str, np.ndarray]:
    """Chunks' records joined along the block axis, as a flat dict of arrays."""
    flat: dict[str, list] = {}
    for rec in records:
        for key in ("step", "l2"):
            flat.setdefault(key, []).append(np.asarray(rec[key]))
        for group in RECORD_GROUPS:
            for name, v in rec[group].items():
                flat.setdefault(f"{group}.{name}", []).append(np.asarray(v))
    return {k: np.concatenate(v, axis=-1) for k, v in flat.items()}


def unflatten_records(flat: dict[str, np.ndarray]) -> dict:
    """The inverse of ``flatten_records`` (one record holding every block)."""
    rec: dict = {"step": flat["step"], "l2": flat["l2"], **{group: {} for group in RECORD_GROUPS}}
    for key, v in flat.items():
        if "." in key:
            group, name = key.split(".", 1)
            rec[group][name] = v
    return rec


def train_loop(
    problem,
    network,
    scheme,
    config,
    optimizer,
    progress,
    seeds,
    start: Progress | None = None,
    on_chunk=None,
    should_stop=None,
    sharding=None,
    values=None,
    optimizer_for=None,
) -> list[FitResult]:
    """The host loop shared by ``fit``, ``fit_seeds`` and resumable runs.

    ``start`` resumes from a saved ``Progress`` (it must end on a chunk boundary of the same
    plan); ``on_chunk(progress)`` runs after every chunk (checkpoints); ``should_stop()`` is
    asked after every chunk and, if true, ``Interrupted`` is raised once ``on_chunk`` ran.
    ``sharding`` places the state on its devices first (a restored state too). ``values``
    gives each of the vmapped ``seeds`` its own learning rate or scheme parameters
    (``training.lanes``); ``optimizer_for(learning_rate)`` then builds a lane's optimizer
    (default ``config.optimizer``).
    """
    if values and seeds is None:
        raise ValueError("values need vmapped runs: pass them with seeds (fit_seeds)")
    if values and LEARNING_RATE in values and optimizer is not None and optimizer_for is None:
        raise ValueError(
            "swept learning rates build each run's optimizer from TrainConfig; pass optimizer=None, "
            "or sweep the learning rate as separate runs"
        )
    values = check_lanes(scheme, config, seeds, values) if values else {}
    lane_values = per_run(values) if values else None
    if config.lbfgs is not None and config.lbfgs.dtype == "float64" and not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)  # before any array exists: the L-BFGS phase runs in float64
    dtype = config.jnp_dtype
    if optimizer is None:
        optimizer = config.optimizer() if optimizer_for is None else optimizer_for(config.learning_rate)
    vmapped = seeds is not None
    runs = seeds if vmapped else [config.seed]
    if start is None:
        state = initial_states(problem, network, scheme, optimizer, config, seeds, lane_values, optimizer_for)
        records, done = [], 0
    else:
        state, records, done = start.state, [unflatten_records(start.records)], start.steps_done
    grid, exact = evaluation_grid(problem, config.eval_grid, dtype)
    # traced, one entry per run; the learning rate in float32, as optax's schedule computes a
    # Python-float rate against its int32 step count, so a lane equals its own run in float64 too
    lanes = {n: jnp.asarray(v, jnp.float32 if n == LEARNING_RATE else dtype) for n, v in values.items()} or None
    if sharding is not None:  # the state replicated (or split by seed), the grid replicated
        state, (grid, exact) = sharding.place(state, vmapped), sharding.place((grid, exact))
        lanes = lanes if lanes is None else sharding.place(lanes, True)
    counter = [0]
    chunk = make_chunk(problem, network, scheme, optimizer, config, counter, vmapped, sharding, optimizer_for)
    plan, position = [], 0
    for shape in chunk_plan(config.steps, config.log_every, config.chunk_logs):
        position += shape[0] * shape[1]
        if position > done:  # not trained before the resume
            plan.append((shape, position))
    shapes = list(dict.fromkeys(shape for shape, _ in plan))
    bar = _progress_bar(config.steps, progress, initial=done)
    begin = time.perf_counter()
    first_chunk_seconds = compile_seconds = 0.0
    stopped = False
    if shapes:  # the first shape now; the others in the background while it trains
        t = time.perf_counter()
        with jax.default_matmul_precision(config.matmul_precision):
            chunk.lower(state, grid, exact, *shapes[0], lanes).compile()
        compile_seconds += time.perf_counter() - t
    pool, pending = precompile(chunk, (state, grid, exact), lanes, shapes[1:], config.matmul_precision)
    try:
        with jax.default_matmul_precision(config.matmul_precision):
            for (n_blocks, block_len), position in plan:
                if (n_blocks, block_len) in pending:
                    t = time.perf_counter()
                    _wait(pending.pop((n_blocks, block_len)))
                    compile_seconds += time.perf_counter() - t
                state, rec = chunk(state, grid, exact, n_blocks, block_len, lanes)
                rec = jax.device_get(rec)  # the one host sync of the chunk
                if not first_chunk_seconds:
                    first_chunk_seconds = time.perf_counter() - begin
                records.append(rec)
                done = position
                _advance(bar, n_blocks * block_len, rec, problem.reference)
                diverged = np.any(np.asarray(state.bad_step) >= 0)
                if on_chunk is not None and not diverged:  # never checkpoint a diverged state
                    on_chunk(Progress(state, flatten_records(records), done))
                if diverged:
                    break
                if should_stop is not None and should_stop() and done < config.steps:
                    stopped = True
                    break
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    train_seconds = time.perf_counter() - begin
    if bar is not None:
        bar.close()
    lbfgs_info = None
    if config.lbfgs is not None and not stopped and not np.any(np.asarray(state.bad_step) >= 0):
        state, lbfgs_records, lbfgs_info = _second_phase(problem, network, scheme, state, config, grid, exact, vmapped, progress)
        records.extend(lbfgs_records)
    results = []
    for i, seed in enumerate(runs):
        pick = (lambda x, i=i: x[i]) if vmapped else (lambda x: x)
        seed_state = jax.tree_util.tree_map(pick, state)
        seed_records = [jax.tree_util.tree_map(lambda x: np.asarray(x)[i] if vmapped else x, r) for r in records]
        history = _history(seed_records, problem.term_names)
        lane = lane_values[i] if lane_values else {}
        config_i = lane_config(dataclasses.replace(config, seed=seed), lane)
        extra = {"values": lane} if lane else {}
        result = FitResult(
            seed_state,
            history,
            train_seconds,
            first_chunk_seconds,
            counter[0],
            problem.term_names,
            config_i,
            extra,
            compile_seconds,
        )
        if lbfgs_info is not None:
            result.extra["lbfgs"] = {k: (v[i] if isinstance(v, list) else v) for k, v in lbfgs_info.items()}
        _raise_if_diverged(result, problem, seed if vmapped else None)
        results.append(result)
    if stopped:
        raise Interrupted(done, results)
    return results


def _second_phase(problem, network, scheme, state, config, grid, exact, vmapped, progress):
    """The L-BFGS phase after the first-order steps: its records (one per ``log_every``
    iterations, in the first phase's record shape) and, per run, why it stopped."""
    settings = config.lbfgs
    if progress:
        print(f"L-BFGS phase: up to {settings.max_iters} iterations, weights {settings.weights}", flush=True)
    begin = time.perf_counter()
    with jax.default_matmul_precision(config.matmul_precision):
        state, recs, reasons, iters = refine(problem, network, scheme, state, settings, grid, exact, config.jnp_dtype, vmapped)
    seconds = time.perf_counter() - begin
    recs = [jax.tree_util.tree_map(lambda x: np.asarray(x)[..., None], r) for r in recs]
    info = {"reason": reasons, "iterations": iters, "seconds": seconds, "weights": settings.weights}
    if progress:
        print(f"L-BFGS stopped ({', '.join(sorted(set(reasons)))}) after {max(iters)} iterations, {seconds:.1f} s", flush=True)
    return state, recs, info


def _wait(compiled: Future) -> None:
    """Wait for a background compile. Should it have failed, the chunk's own call compiles
    again and raises the error where it belongs, in the host loop."""
    try:
        compiled.result()
    except Exception:
        pass


def _raise_if_diverged(result: FitResult, problem: Problem, seed: int | None) -> None:
    bad_step = int(result.state.bad_step)
    if bad_step < 0:
        return
    names = [*problem.term_names, "the parameter gradient"]
    term = names[int(result.state.bad_term)]
    label = term if term.startswith("the") else f"term {term!r}"
    raise DivergenceError(bad_step, label if seed is None else f"{label} (seed {seed})", result)


def _history(records, names) -> dict[str, np.ndarray]:
    cat = lambda get: np.concatenate([np.asarray(get(r)) for r in records])  # noqa: E731
    history = {"step": cat(lambda r: r["step"]), "l2": cat(lambda r: r["l2"])}
    for n in names:
        history[f"loss_{n}"] = cat(lambda r, n=n: r["losses"][n])
    for n in names:
        history[f"weight_{n}"] = cat(lambda r, n=n: r["weights"][n])
    for n in names:  # the weight the step's parameter update used, times that step's loss
        history[f"weighted_loss_{n}"] = history[f"weight_{n}"] * history[f"loss_{n}"]
    for n in names:
        history[f"grad_norm_{n}"] = cat(lambda r, n=n: r["grad_norms"][n])
    return history


def _progress_bar(total: int, progress, initial: int = 0):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(
        initial=initial,
        total=total,
        desc=progress if isinstance(progress, str) else "training",
        unit="step",
        dynamic_ncols=True,
        mininterval=0.5,
    )


def _advance(bar, n: int, rec, reference: str) -> None:
    if bar is None:
        return
    # with several seeds the bar shows the median over seeds of the latest record
    last = lambda v: float(np.median(np.asarray(v)[..., -1]))  # noqa: E731
    post = {"l2": f"{last(rec['l2']):.2e}"}
    post.update({f"L_{k}": f"{last(v):.1e}" for k, v in rec["losses"].items()})
    post.update({f"w_{k}": f"{last(v):.3g}" for k, v in rec["weights"].items() if k != reference})
    bar.set_postfix(post, refresh=False)
    bar.update(n)
