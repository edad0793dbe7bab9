"""One training step, pure: sample, differentiate, re-weight, update.

On steps where the scheme wants per-term gradients, each term is differentiated on its
own. Terms are evaluated at disjoint point sets, so the per-term forward and backward
passes together cost the same as one pass of the weighted total; the parameter gradient
of that step is then ``sum_i w_i g_i`` with the freshly updated weights, so no second
backward pass is made. On other steps a single backward pass of the weighted loss is
taken.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.kernel import STATISTICS as KERNEL_STATISTICS
from pinnbalance.kernel import term_statistics
from pinnbalance.losses import point_losses, term_loss, term_losses, weighted_sum
from pinnbalance.problems.base import Problem
from pinnbalance.training.sampling import Sampling
from pinnbalance.training.state import TrainState


def per_term_grads(loss_fns, params):
    """``(losses, grads)``: each term's loss and its own gradient, ``{name: ...}``.

    ``loss_fns`` maps each term name to ``params -> scalar loss``. Each term is
    differentiated separately (no work is shared between terms, since their points
    differ), which costs no more than one backward pass of their sum.
    """
    pairs = {name: jax.value_and_grad(fn)(params) for name, fn in loss_fns.items()}
    return {n: v for n, (v, _) in pairs.items()}, {n: g for n, (_, g) in pairs.items()}


def global_norm(tree) -> jax.Array:
    """``sqrt(sum of squares)`` over every leaf of a pytree."""
    return jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree_util.tree_leaves(tree)))


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
    ``training.fit.choose_schedule``).
    """
    names = problem.term_names
    if sharding is not None:
        sharding.check_batch(problem)
    per_point = getattr(scheme, "per_point", False)
    if per_point and not sampling.fixed:
        raise ValueError(
            f"{type(scheme).__name__} attaches a weight to each collocation point, so the points must stay fixed: "
            "use fixed sampling (TrainConfig(sampling='fixed'), or [sampling] mode = \"fixed\" in a run config)"
        )
    needed = tuple(getattr(scheme, "statistics_needed", ()))
    unknown = [s for s in needed if s not in KERNEL_STATISTICS]
    if unknown:
        raise ValueError(f"scheme {type(scheme).__name__} needs unknown statistics {unknown}; known: {sorted(KERNEL_STATISTICS)}")

    def loss_fn(params, batch):
        return term_losses(problem, network, params, batch)

    def plain(params, batch, wstate, step):
        def total(p):
            losses = loss_fn(p, batch)
            return weighted_sum(losses, wstate.weights), losses

        (_, losses), grads = jax.value_and_grad(total, has_aux=True)(params)
        return {"losses": losses}, grads, wstate

    def term_gradients(params, batch):
        fns = {n: (lambda p, n=n: term_loss(problem, network, p, batch[n], n)) for n in names}
        return per_term_grads(fns, params)

    def reweight(wstate, term_grads, losses, step, params, batch):
        if needed:  # e.g. NTK traces: computed only on update steps, only for schemes that ask
            stats = term_statistics(needed, problem, network, params, batch)
            return scheme.update(wstate, term_grads, losses, step, stats)
        return scheme.update(wstate, term_grads, losses, step)

    def adaptive(params, batch, wstate, step):
        losses, term_grads = term_gradients(params, batch)
        updated = reweight(wstate, term_grads, losses, step, params, batch)
        if masked:  # every step runs this one: keep the new weights only on the scheme's update steps
            keep = scheme.needs_grads(step)
            updated = jax.tree_util.tree_map(lambda new, old: jnp.where(keep, new, old), updated, wstate)
        return {"losses": losses}, combine(term_grads, updated.weights), updated

    def observe(params, batch, wstate, step):
        losses, term_grads = term_gradients(params, batch)
        wants = scheme.needs_grads(step)
        if wants is not False:
            wstate = jax.lax.cond(wants, lambda w: reweight(w, term_grads, losses, step, params, batch), lambda w: w, wstate)
        norms = {n: global_norm(term_grads[n]) for n in names}
        return {"losses": losses, "grad_norms": norms}, combine(term_grads, wstate.weights), wstate

    def point_weighted(params, batch, wstate, step):
        # each term: (1/N) sum_j m(lam_j) |r_j|^2, differentiated in theta and lam together
        lam = wstate.memory["lambda"]

        def term_fn(p, lam_n, n):
            per_point = point_losses(problem, network, p, batch[n], n)
            plain_loss = jnp.mean(per_point)
            weighted = plain_loss if lam_n is None else jnp.mean(scheme.point_mask(lam_n) * per_point)
            return weighted, plain_loss

        losses, param_grads, lam_grads = {}, {}, {}
        for n in names:
            if n in lam:
                (_, losses[n]), (param_grads[n], lam_grads[n]) = jax.value_and_grad(term_fn, argnums=(0, 1), has_aux=True)(
                    params, lam[n], n
                )
            else:
                (_, losses[n]), param_grads[n] = jax.value_and_grad(term_fn, has_aux=True)(params, None, n)
        ones = {n: 1.0 for n in names}
        info = {"losses": losses, "grad_norms": {n: global_norm(param_grads[n]) for n in names}}
        return info, combine(param_grads, ones), scheme.ascend(wstate, lam_grads)

    def wrap(grads_fn):
        def step(state: TrainState):
            key, sub = jax.random.split(state.key)
            batch, points = sampling.batch(problem, state.points, sub, state.step, dtype)
            if sharding is not None:
                batch = sharding.split_batch(batch)
            info, grads, wstate = grads_fn(state.params, batch, state.weights, state.step)
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
            params = jax.tree_util.tree_map(lambda p, u: p + u.astype(p.dtype), state.params, updates)
            bad_step, bad_term = first_bad(state, info["losses"], wstate.weights, grads, names)
            return TrainState(params, opt_state, wstate, key, state.step + 1, bad_step, bad_term, points), info

        return step

    if per_point:
        step = wrap(point_weighted)
        return (step, step, step) if observed else (step, step)
    steps = (wrap(adaptive),) * 2 if masked else (wrap(plain), wrap(adaptive))
    return (*steps, wrap(observe)) if observed else steps


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
