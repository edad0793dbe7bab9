"""One training step, pure: sample, differentiate, re-weight, update.

The gradient of each kind of step (plain, adaptive, observed, point-weighted) is built in
``training.gradients``; this module binds one to sampling and the optimizer, and lays
steps out in a static schedule.

On steps where the scheme wants per-term gradients, each term is differentiated on its
own. Terms at disjoint point sets cost together the same as one pass of the weighted
total (equations of one system at shared points share one forward pass,
``training.gradients``); the parameter gradient of that step is then ``sum_i w_i g_i``
with the freshly updated weights, so no second backward pass is made. On other steps a
single backward pass of the weighted loss is taken.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.kernel import STATISTICS as KERNEL_STATISTICS
from pinnbalance.problems.base import Problem
from pinnbalance.training.gradients import (
    adaptive_gradients,
    combine,
    global_norm,
    observed_gradients,
    per_term_grads,
    plain_gradients,
    point_weighted_gradients,
)
from pinnbalance.training.sampling import Sampling
from pinnbalance.training.state import TrainState
from pinnbalance.weighting.interface import traits


def first_bad(state: TrainState, losses, weights, grads, names) -> tuple[jax.Array, jax.Array]:
    """Update the record of the first non-finite step and term."""
    finite = [jnp.isfinite(losses[n]) & jnp.isfinite(weights[n]) for n in names]
    grad_ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in jax.tree_util.tree_leaves(grads)]))
    finite = jnp.stack([*finite, grad_ok])
    now_bad = ~jnp.all(finite)
    is_new = now_bad & (state.bad_step < 0)
    term = jnp.argmin(finite).astype(jnp.int32)
    return jnp.where(is_new, state.step, state.bad_step), jnp.where(is_new, term, state.bad_term)


def make_steps(
    problem: Problem,
    network,
    scheme,
    optimizer,
    dtype=jnp.float32,
    observed: bool = False,
    sampling: Sampling = Sampling(),
    sharding=None,
    masked: bool = False,
):
    """Build ``(plain_step, update_step)``, each ``state -> (state, info)``; ``info["losses"]``
    holds each term's unweighted loss on the step's batch.

    ``plain_step`` keeps the weights and takes one backward pass of the weighted loss;
    ``update_step`` takes the per-term gradients, updates the weights from them and
    reuses them for the parameter update. With ``observed=True`` a third step is returned:
    it always takes per-term gradients (same cost as one backward pass), updates the
    weights if the scheme wants to on that step, and adds each term's gradient norm to
    ``info["grad_norms"]``: the step the history records.

    A per-point scheme (``scheme.per_point``, self-adaptive weights) gets one kind of step
    for all three: the point-weighted loss is differentiated with respect to the parameters
    (descent) and the point weights (ascent) in the same backward pass.

    With ``sharding`` (a ``training.sharding.DataParallel``) each step's batch is split
    across devices along its point axis; the results equal one device's up to rounding.

    With ``masked=True`` the plain and update steps are one and the same *masked* step: it
    takes the per-term gradients and computes the scheme's new weights on every step, but
    keeps them only where ``scheme.needs_grads(step)`` (a ``where``, no ``cond``). The
    weights follow the same schedule as with separate steps; the parameter gradient
    differs only by rounding (``sum_i w_i g_i`` instead of the gradient of the weighted
    sum). One kind of step scanned flat is faster on CPU than two kinds interleaved (see
    ``training.program.choose_schedule``).
    """
    if sharding is not None:
        sharding.check_batch(problem)
    kind = traits(scheme)  # what the scheme is, read once: the step below is built for it
    sampling.check_scheme(scheme)
    needed = kind.statistics
    unknown = [s for s in needed if s not in KERNEL_STATISTICS]
    if unknown:
        raise ValueError(f"scheme {type(scheme).__name__} needs unknown statistics {unknown}; known: {sorted(KERNEL_STATISTICS)}")
    wrap = lambda grads_fn: _step(grads_fn, problem, optimizer, dtype=dtype, sampling=sampling, sharding=sharding)  # noqa: E731
    if kind.per_point:
        step = wrap(point_weighted_gradients(problem, network, scheme))
        return (step, step, step) if observed else (step, step)
    adaptive = wrap(adaptive_gradients(problem, network, scheme, needed, masked=masked))
    steps = (adaptive, adaptive) if masked else (wrap(plain_gradients(problem, network)), adaptive)
    return (*steps, wrap(observed_gradients(problem, network, scheme, needed))) if observed else steps


def _step(grads_fn, problem: Problem, optimizer, *, dtype, sampling: Sampling, sharding):
    """``state -> (state, info)``: sample the step's points, take ``grads_fn``'s gradient and
    weights, apply the optimizer's update, and record the first non-finite step and term."""
    names = problem.term_names

    def step(state: TrainState):
        key, sub = jax.random.split(state.key)
        batch, points = sampling.batch(problem, state.points, sub, state.step, dtype)
        if sharding is not None:
            batch = sharding.split_batch(batch)
        info, grads, wstate = grads_fn(state.params, batch, state.weights, state.step)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = jax.tree_util.tree_map(lambda p, u: p + u.astype(p.dtype), state.params, updates)
        bad_step, bad_term = first_bad(state, info["losses"], wstate.weights, grads, names)
        new = dict(params=params, opt_state=opt_state, weights=wstate, key=key, step=state.step + 1, points=points)
        return state._replace(**new, bad_step=bad_step, bad_term=bad_term), info  # the rest (causal schedule) is kept

    return step


def make_step(problem: Problem, network, scheme, optimizer, dtype=jnp.float32, sampling: Sampling = Sampling(), sharding=None):
    """One step that asks the scheme at run time (``lax.cond``) whether to update weights.

    The general fallback; ``fit`` prefers a static schedule (see ``run_steps``), since a
    ``cond`` in the scanned loop costs as much as the step on CPU.
    """
    plain_step, update_step = make_steps(problem, network, scheme, optimizer, dtype, sampling=sampling, sharding=sharding)
    if scheme.needs_grads(0) is False:
        return plain_step
    return lambda state: jax.lax.cond(scheme.needs_grads(state.step), update_step, plain_step, state)


def run_steps(plain_step, update_step, period: int | None, state: TrainState, n: int, offset: int = 0) -> TrainState:
    """Run ``n`` steps with a static schedule: weights update when ``step % period == 0``.

    ``offset`` is the phase of the first step (its step number modulo ``period``); with
    ``period=None`` every step is plain. The schedule is unrolled into nested scans, so
    the compiled loop holds no ``cond``.
    """

    def repeat(fn, s, times):
        if times <= 0:
            return s
        if times == 1:
            return fn(s)[0]
        return jax.lax.scan(lambda c, _: (fn(c)[0], None), s, None, length=times)[0]

    if period is None:
        return repeat(plain_step, state, n)

    def cycle(s):
        return repeat(plain_step, update_step(s)[0], period - 1), None

    lead = min((period - offset % period) % period, n)  # plain steps up to the next update
    state = repeat(plain_step, state, lead)
    cycles, rest = divmod(n - lead, period)
    state = repeat(cycle, state, cycles)
    if rest:
        state = repeat(plain_step, update_step(state)[0], rest - 1)
    return state


__all__ = ["combine", "first_bad", "global_norm", "make_step", "make_steps", "per_term_grads", "run_steps"]
