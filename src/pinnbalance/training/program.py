"""The compiled chunk program: ``log_every``-step blocks scanned on device, compiled per shape.

Steps are grouped in blocks of ``log_every``; the first step of each block is recorded
(its minibatch's unweighted term losses, the weights after it, and the relative L2 error
on the evaluation grid after it), as the published code logs at ``step % 100 == 0``.
A chunk scans ``chunk_logs`` blocks on device. Every full chunk has the same shape, so it
compiles once; a final partial chunk compiles at most twice more, in a background thread
while the full chunks train, so its compile costs no wall time (``ChunkProgram``).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import jax

from pinnbalance.compiler_options import compiler_options
from pinnbalance.component_metrics import component_errors
from pinnbalance.metrics import predict, relative_l2
from pinnbalance.nn.mlp import MLP
from pinnbalance.problems.base import Problem
from pinnbalance.problems.systems import evaluation_groups
from pinnbalance.training.causal_schedule import follow_schedule, schedule_check
from pinnbalance.training.config import TrainConfig
from pinnbalance.training.step import make_step, make_steps, run_steps
from pinnbalance.unknown_records import unknown_record
from pinnbalance.weighting.interface import cheap_update, per_point, update_period


def schedule_period(scheme, log_every: int) -> int | None | str:
    """The static update period of ``scheme`` if one applies, else ``"dynamic"``.

    None means the scheme never needs per-term gradients. A period that divides
    ``log_every`` gives a static schedule (no ``cond`` in the loop).
    """
    if scheme.needs_grads(0) is False:
        return None
    period = update_period(scheme)
    if isinstance(period, int) and log_every % period == 0:
        return period
    return "dynamic"


def choose_schedule(scheme, config: TrainConfig, backend: str | None = None, *, problem=None) -> tuple[bool, int | None | str]:
    """``(masked, period)``: how a chunk lays out its weight-update steps.

    ``period`` is ``schedule_period``'s answer. ``masked`` says to run one kind of step
    throughout: per-term gradients every step, new weights kept only on the scheme's update
    steps (``make_steps(masked=True)``). Otherwise plain and update steps alternate by a
    static schedule (nested scans, no ``cond``), or, for an irregular schedule, by a ``cond``.

    ``config.update_schedule = "auto"`` masks on CPU, where one kind of step scanned flat
    beats two kinds interleaved (KG batch 128: M2 1.03-1.08x M1 masked vs 1.10-1.17x static,
    ``benchmarks/speed.py``), for schemes whose update is cheap (no kernel statistics, such
    as the NTK traces, and not per-point). Elsewhere it keeps the static schedule, which
    runs M2 within 3% of M1 on an H200. Update every step (period 1) needs no mask. Nor does a
    ``problem`` with equations of one system at shared points (``problems.systems``): their
    per-term gradients take a backward pass each where a plain step takes one for all (NS 2d-C
    at PINNacle's counts, one CPU core: 0.54 s a step masked, 0.31 s static).
    """
    period = schedule_period(scheme, config.log_every)
    if period is None or period == 1 or per_point(scheme):
        return False, period
    mode = config.update_schedule
    if mode == "auto":
        backend = jax.default_backend() if backend is None else backend
        grouped = problem is not None and len(evaluation_groups(problem.terms)) < len(problem.terms)
        mode = "masked" if cheap_update(scheme) and backend == "cpu" and not grouped else "static"
    return mode == "masked", period


def schedule_name(scheme, config: TrainConfig, *, problem=None) -> str:
    """The update schedule ``choose_schedule`` picks, in words (recorded in results)."""
    masked, period = choose_schedule(scheme, config, problem=problem)
    if period is None:
        return "none"
    return "masked" if masked else ("dynamic" if period == "dynamic" else "static")


def backend_choices(scheme, config: TrainConfig, network, *, problem=None) -> dict[str, str]:
    """Every choice the trainer makes by backend, in words, for the results: the update
    schedule (``choose_schedule``), the network's second-derivative mode when it is "auto"
    (``nn.mlp``: streams on CPU, stacked elsewhere) and how an L-BFGS phase takes several
    seeds (``lbfgs.refine``: one at a time on CPU, vmapped elsewhere)."""
    backend = jax.default_backend()
    out = {"backend": backend, "update_schedule": schedule_name(scheme, config, problem=problem)}
    if isinstance(network, MLP) and network.taylor_mode == "auto":
        out["taylor_mode"] = "streams" if backend == "cpu" else "stacked"
    if config.lbfgs is not None:
        out["lbfgs_seeds"] = "one at a time" if backend == "cpu" else "vmapped"
    return out


def make_chunk(
    problem: Problem, network, scheme, optimizer, config: TrainConfig, counter: list[int], *, vmapped=False, sharding=None
):
    """Build the jitted ``chunk(state, grid, exact, n_blocks, block_len) -> (state, records)``.

    With ``vmapped`` the state (and the records) carry a leading axis of independent runs
    trained by one compiled program; each run's seed, learning rate and scheme
    hyperparameters are leaves of its state (``training.runs``). With ``sharding``
    (``training.sharding.DataParallel``) one run's batch is split across devices, or, with
    ``vmapped``, the runs. ``counter[0]`` counts the traces (compilations).
    """
    split = None if vmapped else sharding  # the points of one run; runs are split by their state's layout
    plain_step, update_step, observed_step, period = _steps(problem, network, scheme, optimizer, config, split)
    causal = schedule_check(problem, network, config.sampling_spec(), config.jnp_dtype)  # None: no causal weighting

    def chunk(state, grid, exact, n_blocks: int, block_len: int):
        counter[0] += 1  # runs only when jax traces: counts compilations

        def block(s, _):
            # the recorded step's own effect is visible in the record: losses of its
            # batch, then weights and L2 error after it (as the published logging)
            s1, info = observed_step(s)
            s1, causal_rec = (s1, None) if causal is None else causal(s, s1)  # the eps schedule moves at records
            pred = predict(network, s1.params, grid, problem)
            rec = {
                "step": s.step,
                "losses": info["losses"],
                "grad_norms": info["grad_norms"],
                "weights": dict(s1.weights.weights),
                "l2": relative_l2(pred, exact),
                **component_errors(pred, exact, problem.components),  # "l2re", "l2/u", ...: only with named components
                **unknown_record(problem, network, s1.params, grid),  # nothing without unknowns
            }
            if causal_rec is not None:
                rec["causal"] = causal_rec
            if block_len > 1:
                s1 = run_steps(plain_step, update_step, period, s1, block_len - 1, offset=1)
            return s1, rec

        run = lambda s: jax.lax.scan(block, s, None, length=n_blocks)  # noqa: E731
        state, records = jax.vmap(run)(state) if vmapped else run(state)
        if sharding is not None:  # the next chunk finds the layout it was compiled for
            state = sharding.split_seeds(state) if vmapped else sharding.replicated(state)
        return state, records

    return jax.jit(chunk, static_argnums=(3, 4), compiler_options=compiler_options())


def _steps(problem, network, scheme, optimizer, config, split):
    """``(plain, update, observed, period)``: one run's steps; the update schedule is chosen once, here."""
    dtype, sampling = config.jnp_dtype, config.sampling_spec()
    masked, period = choose_schedule(scheme, config, problem=problem)
    dynamic = period == "dynamic" and not masked  # an irregular schedule: a cond in every step
    if masked or dynamic:  # one kind of step: a flat scan
        period = None
    plain_step, update_step, observed_step = follow_schedule(  # causal weighting: each step at its state's eps
        problem,
        lambda p: make_steps(
            p, network, scheme, optimizer, dtype, observed=True, sampling=sampling, sharding=split, masked=masked
        ),
        dtype,
    )
    if dynamic:
        build = lambda p: make_step(p, network, scheme, optimizer, dtype, sampling, split)  # noqa: E731
        plain_step = update_step = follow_schedule(problem, build, dtype)
    return plain_step, update_step, observed_step, period


def chunk_plan(steps: int, log_every: int, chunk_logs: int) -> list[tuple[int, int]]:
    """``[(n_blocks, block_len), ...]`` covering ``steps`` steps; all but the last two are equal."""
    full_blocks, rest = divmod(steps, log_every)
    plan = [(chunk_logs, log_every)] * (full_blocks // chunk_logs)
    if full_blocks % chunk_logs:
        plan.append((full_blocks % chunk_logs, log_every))
    if rest:
        plan.append((1, rest))
    return plan


def remaining_plan(config: TrainConfig, done: int) -> list[tuple[tuple[int, int], int]]:
    """The chunks of ``config``'s plan not trained in the first ``done`` steps, each with the
    step count after it: ``[((n_blocks, block_len), position), ...]``."""
    plan, position = [], 0
    for shape in chunk_plan(config.steps, config.log_every, config.chunk_logs):
        position += shape[0] * shape[1]
        if position > done:
            plan.append((shape, position))
    return plan


class ChunkProgram:
    """A jitted chunk bound to its fixed arguments, compiling each shape of a plan once.

    ``program(state, n_blocks, block_len)`` runs one chunk. The first shape compiles when
    first called; the plan's other shapes then compile in a background thread while it
    trains (an ahead-of-time compile lands in the jitted function's cache, so the later call
    finds it ready). ``compile_seconds`` sums the host's time compiling or waiting for a
    background compile; ``traces`` counts compilations. Use as a context manager (the
    background thread is shut down on exit).
    """

    def __init__(self, jitted, fixed: tuple, *, shapes, precision: str, counter: list[int]):
        self.jitted, self.fixed, self.precision, self.counter = jitted, fixed, precision, counter
        self.shapes = list(dict.fromkeys(shapes))
        self.compile_seconds = 0.0
        self.pool: ThreadPoolExecutor | None = None
        self.pending: dict[tuple[int, int], Future] = {}

    @property
    def traces(self) -> int:
        return self.counter[0]

    def _compile(self, state, shape) -> None:
        with jax.default_matmul_precision(self.precision):
            self.jitted.lower(state, *self.fixed, *shape).compile()

    def _ready(self, state, shape) -> None:
        t = time.perf_counter()
        if self.pool is None:  # the first shape now; the others in the background while it trains
            self._compile(state, self.shapes[0])
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pinnbalance-compile")
            self.pending = {s: self.pool.submit(self._compile, state, s) for s in self.shapes[1:]}
        if shape in self.pending:
            _wait(self.pending.pop(shape))
        self.compile_seconds += time.perf_counter() - t

    def __call__(self, state, n_blocks: int, block_len: int):
        self._ready(state, (n_blocks, block_len))
        grid, exact = self.fixed
        with jax.default_matmul_precision(self.precision):
            return self.jitted(state, grid, exact, n_blocks, block_len)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _wait(compiled: Future) -> None:
    """Wait for a background compile. Should it have failed, the chunk's own call compiles
    again and raises the error where it belongs, in the host loop."""
    try:
        compiled.result()
    except Exception:
        pass
