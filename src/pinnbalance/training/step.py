"""One training step, pure: sample, differentiate, re-weight, update.

On steps where the scheme wants per-term gradients, they come from one forward pass and
one batched backward pass (``vmap`` of the VJP over one-hot cotangents); the parameter
gradient of that step is then ``sum_i w_i g_i`` with the freshly updated weights, so no
second backward pass is made. On other steps a single backward pass of the weighted loss
is taken.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.losses import term_losses, weighted_sum
from pinnbalance.problems.base import Problem, sample_batch
from pinnbalance.training.state import TrainState


def per_term_grads(loss_fn, params, names: tuple[str, ...]):
    """``(losses, {name: grad of losses[name]})`` with one forward and one batched backward pass."""
    losses, vjp = jax.vjp(loss_fn, params)
    eye = jnp.eye(len(names), dtype=losses[names[0]].dtype)
    cotangents = {name: eye[i] for i, name in enumerate(names)}
    (stacked,) = jax.vmap(vjp)(cotangents)
    grads = {name: jax.tree_util.tree_map(lambda g, i=i: g[i], stacked) for i, name in enumerate(names)}
    return losses, grads


def combine(term_grads, weights) -> object:
    """``sum_i w_i g_i`` leaf by leaf."""
    names = list(term_grads)
    return jax.tree_util.tree_map(lambda *gs: sum(weights[n] * g for n, g in zip(names, gs)), *[term_grads[n] for n in names])


def first_bad(state: TrainState, losses, weights, grads, names) -> tuple[jax.Array, jax.Array]:
    """Update the record of the first non-finite step and term."""
    finite = [jnp.isfinite(losses[n]) & jnp.isfinite(weights[n]) for n in names]
    grad_ok = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in jax.tree_util.tree_leaves(grads)]))
    finite = jnp.stack([*finite, grad_ok])
    now_bad = ~jnp.all(finite)
    is_new = now_bad & (state.bad_step < 0)
    term = jnp.argmin(finite).astype(jnp.int32)
    return jnp.where(is_new, state.step, state.bad_step), jnp.where(is_new, term, state.bad_term)


def make_steps(problem: Problem, network, scheme, optimizer, dtype=jnp.float32):
    """Build ``(plain_step, update_step)``, each ``state -> (state, losses)``.

    ``plain_step`` keeps the weights and takes one backward pass of the weighted loss;
    ``update_step`` takes the per-term gradients, updates the weights from them and
    reuses them for the parameter update.
    """
    names = problem.term_names

    def loss_fn(params, batch):
        return term_losses(problem, network, params, batch)

    def plain(params, batch, wstate, step):
        def total(p):
            losses = loss_fn(p, batch)
            return weighted_sum(losses, wstate.weights), losses

        (_, losses), grads = jax.value_and_grad(total, has_aux=True)(params)
        return losses, grads, wstate

    def adaptive(params, batch, wstate, step):
        losses, term_grads = per_term_grads(lambda p: loss_fn(p, batch), params, names)
        wstate = scheme.update(wstate, term_grads, losses, step)
        return losses, combine(term_grads, wstate.weights), wstate

    def wrap(grads_fn):
        def step(state: TrainState):
            key, sub = jax.random.split(state.key)
            batch = sample_batch(problem, sub, dtype)
            losses, grads, wstate = grads_fn(state.params, batch, state.weights, state.step)
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
            params = jax.tree_util.tree_map(lambda p, u: p + u.astype(p.dtype), state.params, updates)
            bad_step, bad_term = first_bad(state, losses, wstate.weights, grads, names)
            return TrainState(params, opt_state, wstate, key, state.step + 1, bad_step, bad_term), losses

        return step

    return wrap(plain), wrap(adaptive)


def make_step(problem: Problem, network, scheme, optimizer, dtype=jnp.float32):
    """One step that asks the scheme at run time (``lax.cond``) whether to update weights.

    The general fallback; ``fit`` prefers a static schedule (see ``run_steps``), since a
    ``cond`` in the scanned loop costs as much as the step on CPU.
    """
    plain_step, update_step = make_steps(problem, network, scheme, optimizer, dtype)
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
