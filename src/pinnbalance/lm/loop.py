"""Levenberg-Marquardt iterations as a pure ``init`` / ``step`` pair, and a compiled driver.

One iteration at parameters theta (Levenberg 1944; Marquardt 1963; the damping rule of
Nielsen 1999, see ``lm.damping``):

1. residual vector r and Jacobian J at theta (``lm.residuals``), ``g = J^T r``; the loss is
   ``L = ||r||^2 = sum_i w_i L_i`` and its gradient ``2 g``;
2. if ``2 ||g|| <= grad_tol`` stop ("grad_tol"); if L or g is not finite stop ("non-finite loss");
3. trials, each ONE damped solve ``h = -(J^T J + mu I)^{-1} g`` (``lm.solve``, dense or
   kernel form) and one loss evaluation at ``theta + h``, reusing J: the gain ratio
   ``rho = (L - L(theta + h)) / h^T (mu h - g)`` accepts the trial if the loss went down
   (so the loss never increases) and updates mu; up to ``max_trials`` trials until one is
   accepted. A rejected trial costs a solve, not a Jacobian;
4. stop with "no progress" if the accepted step was tiny (``||h|| <= step_tol (||theta|| +
   step_tol)``) or its relative decrease at most ``loss_tol``, or if a trial was rejected at
   ``max_damping``; with "max_iters" after ``max_iters`` iterations.

``LMState`` is a pytree (params, damping, Nielsen's nu, iteration, stop reason, loss,
rejected trials), so a trainer can carry it through ``lax.scan``, checkpoint it and resume;
``lm_step`` leaves a stopped state (reason != 0) to the caller, which skips it (``train_lm``
does so with ``lax.cond``, so the result does not depend on the chunk length). The stop
reasons and their codes are those of the L-BFGS phase (``REASONS``).

``train_lm`` checks the cost first (``lm.cost``: an error if an iteration would not fit in
memory, a warning if it would be slow), then runs compiled chunks of ``log_every``
iterations and records after each: every term's unweighted loss and gradient norm, the
weights used, the weighted loss, the damping, (with a grid) the relative L2 error, and the
wall seconds since the start (compilation included).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pinnbalance.lm.settings import LevenbergMarquardt
    >>> from pinnbalance.nn import mlp_for
    >>> from pinnbalance.problems import klein_gordon, sample_batch
    >>> problem = klein_gordon(batch_size=16)
    >>> network = mlp_for(problem.domain, hidden=(8,))
    >>> params = network.init(jax.random.PRNGKey(0), jnp.float32)
    >>> points = sample_batch(problem, jax.random.PRNGKey(1), jnp.float32)
    >>> settings = LevenbergMarquardt(max_iters=5, dtype=None, log_every=5)
    >>> params, records, info = train_lm(problem, network, params, points, settings, weights={"res": 1.0, "ics": 1.0, "bcs": 1.0})
    >>> info["reason"], info["iterations"], records[-1]["loss"] < records[0]["loss"] or len(records) == 1
    ('max_iters', 5, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from pinnbalance.lm.cost import check_cost, estimate
from pinnbalance.lm.damping import update_damping
from pinnbalance.lm.residuals import TermArrays, jacobian, residual_vector, row_counts
from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.lm.solve import SOLVERS, choose_solver, predicted_decrease
from pinnbalance.losses import term_loss
from pinnbalance.metrics import predict, relative_l2
from pinnbalance.problems.base import Problem
from pinnbalance.training.lbfgs import REASONS  # one list of stop reasons for both second-order phases
from pinnbalance.training.precision import cast_floats, phase_dtype  # also imported from here by training.lm_phase, lm_checkpoint
from pinnbalance.unknown_records import unknown_record


class LMState(NamedTuple):
    """Where a Levenberg-Marquardt run stands: everything ``lm_step`` needs, as arrays."""

    params: object
    damping: jax.Array
    nu: jax.Array  # Nielsen's growth factor of the damping after rejections
    iteration: jax.Array  # int32: Jacobians taken
    reason: jax.Array  # int32 index into REASONS; 0 while running
    loss: jax.Array  # ||r||^2 at params
    rejected: jax.Array  # int32: rejected trials so far
    causal: dict = {}  # causal weighting's eps schedule {"index", "since"} (lm.causal; {} without it)


def init_state(params, loss: jax.Array, settings: LevenbergMarquardt) -> LMState:
    """The state before the first iteration, at ``params`` whose loss is ``loss``."""
    dtype = jnp.result_type(loss)
    zero = jnp.zeros((), jnp.int32)
    reason = jnp.where(jnp.isfinite(loss), 0, REASONS.index("non-finite loss")).astype(jnp.int32)
    return LMState(params, jnp.asarray(settings.damping, dtype), jnp.asarray(2.0, dtype), zero, reason, loss, zero)


def update(
    state: LMState,
    residual_fn: Callable[[object], jax.Array],
    jacobian_fn: Callable[[object], jax.Array],
    settings: LevenbergMarquardt,
) -> LMState:
    """One iteration (see the module docstring) for any residual function of the params.

    ``residual_fn(params) -> r`` (N,) and ``jacobian_fn(params) -> J`` (N, P), J's columns
    in ``ravel_pytree(params)`` order.
    """
    flat, unravel = ravel_pytree(state.params)
    r, J = residual_fn(state.params), jacobian_fn(state.params)
    solver = SOLVERS[choose_solver(settings.solver, *J.shape)].prepare(J, r)
    g = solver.g
    finite = jnp.isfinite(state.loss) & jnp.all(jnp.isfinite(g))
    converged = 2 * jnp.linalg.norm(g) <= settings.grad_tol
    go = finite & ~converged

    def trial(c):
        k, mu, nu, _, _, _, _ = c
        h = solver.step(mu)
        new_loss = jnp.sum(residual_fn(unravel(flat + h)) ** 2)
        pred = predicted_decrease(h, g, mu)
        accepted = jnp.isfinite(new_loss) & jnp.isfinite(pred) & (pred > 0) & (new_loss < state.loss)
        rho = (state.loss - new_loss) / pred
        stuck = ~accepted & (mu >= settings.max_damping)
        new_mu, new_nu = update_damping(mu, nu, rho, accepted, settings)
        return k + 1, new_mu, new_nu, accepted, stuck, h, new_loss

    def more(c):
        k, _, _, accepted, stuck, _, _ = c
        return go & ~accepted & ~stuck & (k < settings.max_trials)

    false = jnp.zeros((), bool)
    start = (jnp.zeros((), jnp.int32), state.damping, state.nu, false, false, jnp.zeros_like(flat), state.loss)
    k, mu, nu, accepted, stuck, h, new_loss = jax.lax.while_loop(more, trial, start)

    tiny_step = jnp.linalg.norm(h) <= settings.step_tol * (jnp.linalg.norm(flat) + settings.step_tol)
    small_decrease = state.loss - new_loss <= settings.loss_tol * state.loss
    iteration = state.iteration + go.astype(jnp.int32)
    reason = jnp.select(
        [~finite, converged, (accepted & (tiny_step | small_decrease)) | stuck, iteration >= settings.max_iters],
        [4, 2, 3, 1],
        0,
    ).astype(jnp.int32)
    return state._replace(
        params=unravel(jnp.where(accepted, flat + h, flat)),
        damping=mu,
        nu=nu,
        iteration=iteration,
        reason=reason,
        loss=jnp.where(accepted, new_loss, state.loss),
        rejected=state.rejected + k - accepted.astype(jnp.int32),
    )


def lm_init(problem: Problem, network, params, points: TermArrays, weights: Mapping, settings: LevenbergMarquardt) -> LMState:
    """The state at ``params``: its weighted loss ``||residual_vector||^2`` and the initial damping."""
    return init_state(params, jnp.sum(residual_vector(problem, network, params, points, weights) ** 2), settings)


def lm_step(
    problem: Problem, network, state: LMState, points: TermArrays, weights: Mapping, settings: LevenbergMarquardt
) -> LMState:
    """One Levenberg-Marquardt iteration of the PINN loss ``sum_i w_i L_i`` on fixed ``points``."""
    return update(
        state,
        lambda p: residual_vector(problem, network, p, points, weights),
        lambda p: jacobian(problem, network, p, points, weights, batch_size=settings.batch_size),
        settings,
    )


def record(problem: Problem, network, state: LMState, points, weights, grid=None, exact=None, first_step: int = 0) -> dict:
    """What a chunk records: term losses and gradient norms (unweighted), weights, loss, damping, L2."""
    names = problem.term_names

    def grad_norm(n):
        grads = jax.grad(lambda p: term_loss(problem, network, p, points[n], n))(state.params)
        return jnp.linalg.norm(ravel_pytree(grads)[0])

    rec = {
        "step": first_step + state.iteration,
        "losses": {n: term_loss(problem, network, state.params, points[n], n) for n in names},
        "grad_norms": {n: grad_norm(n) for n in names},
        "weights": {n: jnp.asarray(weights[n]) for n in names},
        "loss": state.loss,
        "damping": state.damping,
    }
    if grid is not None:
        rec["l2"] = relative_l2(predict(network, state.params, grid, problem), exact)
        rec.update(unknown_record(problem, network, state.params, grid))  # nothing without unknowns
    return rec


def train_lm(
    problem: Problem,
    network,
    params,
    points: TermArrays,
    settings: LevenbergMarquardt,
    *,
    weights: Mapping,
    grid: jax.Array | None = None,
    exact: jax.Array | None = None,
    first_step: int = 0,
    flop_rate: float | None = None,
) -> tuple[object, list[dict], dict]:
    """Minimise ``sum_i w_i L_i`` on fixed ``points`` by Levenberg-Marquardt from ``params``.

    ``weights`` are the run's weights; ``settings.weights`` decides which are used ("frozen":
    these). The phase runs in ``settings.dtype`` (points, weights, grid cast to it) and the
    parameters come back in their own dtype. Records are numbered ``first_step + iteration``.
    Returns ``(params, records, info)`` with ``info = {"reason", "iterations", "seconds",
    "rejected", "solver", "estimate"}``.
    """
    if grid is not None and exact is None:
        raise ValueError("train_lm: give exact values with grid (e.g. metrics.evaluation_grid(problem)), or neither")
    settings.check_terms(problem.term_names)
    own_dtype = ravel_pytree(params)[0].dtype
    dtype = phase_dtype(settings, own_dtype)
    cast = lambda tree: cast_floats(tree, dtype)  # noqa: E731
    params, points = cast(params), cast(dict(points))
    weights = {n: jnp.asarray(w, dtype) for n, w in settings.fixed_weights(dict(weights)).items()}
    grid, exact = (None, None) if grid is None else (grid.astype(dtype), exact.astype(dtype))
    solver, cost = solver_and_cost(problem, network, params, points, settings=settings, dtype=dtype, flop_rate=flop_rate)
    state, records, seconds = _run_chunks(
        problem, network, params, points, settings=settings, weights=weights, grid=grid, exact=exact, first_step=first_step
    )
    info = {
        "reason": REASONS[int(state.reason)],
        "iterations": int(state.iteration),
        "seconds": seconds,
        "rejected": int(state.rejected),
        "solver": solver,
        "estimate": cost,
    }
    return cast_floats(state.params, own_dtype), records, info


def solver_and_cost(problem: Problem, network, params, points: TermArrays, *, settings, dtype, flop_rate=None, runs: int = 1):
    """The solver an iteration uses and its estimated cost, checked against the settings' limits
    (``lm.cost``; the warning of a slow phase counts ``runs`` runs, one after another)."""
    counts = row_counts(problem, network, params, points)
    n_rows, n_params = sum(n * c for n, c in counts.values()), ravel_pytree(params)[0].size
    solver = choose_solver(settings.solver, n_rows, n_params)
    cost = estimate(n_rows, n_params, dtype, solver, flop_rate=flop_rate)
    check_cost(cost, settings, network=network, counts=counts, runs=runs)
    return solver, cost


def _run_chunks(problem: Problem, network, params, points: TermArrays, *, settings, weights, grid, exact, first_step):
    """``(final state, records, wall seconds)``: compiled chunks of ``log_every`` iterations, one
    record after each, until a stop reason or ``max_iters`` (compilation counted in the seconds)."""
    from pinnbalance.lm.program import lm_programs  # program builds on this module's lm_init / lm_step

    programs = lm_programs(problem, network, settings)
    begin = time.perf_counter()
    state = programs.init(params, points, weights)
    records, done, first = [], 0, jnp.asarray(first_step, jnp.int32)
    while done < settings.max_iters and int(state.reason) == 0:
        length = min(settings.log_every, settings.max_iters - done)
        state, rec = programs.chunk(state, points, weights, grid, exact, first, length)
        records.append({**jax.device_get(rec), "seconds": time.perf_counter() - begin})
        done += length
    return state, records, time.perf_counter() - begin
