"""The gradient of one step, per kind of step: ``(params, batch, wstate, step) -> (info, grads, wstate)``.

- ``plain_gradients``: one backward pass of the weighted loss; the weights stay.
- ``adaptive_gradients``: each term's own gradient, new weights from the scheme's update,
  and the parameter gradient ``sum_i w_i g_i`` with the new weights (no second backward
  pass). With ``masked`` every step computes the update and keeps it only on the scheme's
  update steps.
- ``observed_gradients``: the recorded step: per-term gradients always (their norms go in
  ``info["grad_norms"]``), the weights updated only if the scheme wants to on that step.
- ``point_weighted_gradients``: a point scheme's step: the point-weighted loss
  differentiated in the parameters (descent) and the point weights (ascent) together.

Terms at disjoint point sets are evaluated one by one: their forward and backward passes
together cost the same as one pass of the weighted total. The equations of one system at
shared points (``problems.systems``) are evaluated once, and each term's gradient is one
row of the Jacobian of their losses (one forward pass, a batched backward pass).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.kernel import term_statistics
from pinnbalance.losses import group_losses, point_losses, term_losses, weighted_sum
from pinnbalance.problems.systems import evaluation_groups


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


def plain_gradients(problem, network):
    """One backward pass of ``sum_i w_i L_i``; the weights are kept."""

    def grads_fn(params, batch, wstate, step):
        def total(p):
            losses = term_losses(problem, network, p, batch)
            return weighted_sum(losses, wstate.weights), losses

        (_, losses), grads = jax.value_and_grad(total, has_aux=True)(params)
        return {"losses": losses}, grads, wstate

    return grads_fn


def term_gradients(problem, network, params, batch):
    """``(losses, grads)`` of every term on its points, in term order; a group of equations
    at shared points from one evaluation of their system (``jax.jacrev`` of its losses)."""
    losses, grads = {}, {}
    for names in evaluation_groups(problem.terms):
        fn = lambda p, names=names: group_losses(problem, network, p, batch, names)  # noqa: E731
        if len(names) == 1:
            (one,) = names
            losses[one], grads[one] = jax.value_and_grad(lambda p: fn(p)[one])(params)
        else:
            jac, values = jax.jacrev(lambda p: (lambda v: (v, v))(fn(p)), has_aux=True)(params)
            losses.update(values), grads.update(jac)
    return {n: losses[n] for n in problem.term_names}, {n: grads[n] for n in problem.term_names}


def reweight(problem, network, scheme, needed, wstate, term_grads, losses, step, params, batch):
    """The scheme's new weights; extra statistics (e.g. NTK traces) only for schemes that ask."""
    if needed:
        stats = term_statistics(needed, problem, network, params, batch)
        return scheme.update(wstate, term_grads, losses, step, stats)
    return scheme.update(wstate, term_grads, losses, step)


def adaptive_gradients(problem, network, scheme, needed, *, masked: bool):
    """Per-term gradients, the scheme's update, and ``sum_i w_i g_i`` with the new weights."""

    def grads_fn(params, batch, wstate, step):
        losses, term_grads = term_gradients(problem, network, params, batch)
        updated = reweight(problem, network, scheme, needed, wstate, term_grads, losses, step, params, batch)
        if masked:  # every step runs this one: keep the new weights only on the scheme's update steps
            keep = scheme.needs_grads(step)
            updated = jax.tree_util.tree_map(lambda new, old: jnp.where(keep, new, old), updated, wstate)
        return {"losses": losses}, combine(term_grads, updated.weights), updated

    return grads_fn


def observed_gradients(problem, network, scheme, needed):
    """Per-term gradients and their norms; the weights updated only where the scheme wants."""

    def grads_fn(params, batch, wstate, step):
        losses, term_grads = term_gradients(problem, network, params, batch)
        wants = scheme.needs_grads(step)
        if wants is not False:
            update = lambda w: reweight(problem, network, scheme, needed, w, term_grads, losses, step, params, batch)  # noqa: E731
            wstate = jax.lax.cond(wants, update, lambda w: w, wstate)
        norms = {n: global_norm(term_grads[n]) for n in problem.term_names}
        return {"losses": losses, "grad_norms": norms}, combine(term_grads, wstate.weights), wstate

    return grads_fn


def point_weighted_gradients(problem, network, scheme):
    """Each term ``(1/N) sum_j m(lam_j) |r_j|^2``, differentiated in theta and lam together;
    the point weights then take the scheme's ascent step."""
    names = problem.term_names

    def grads_fn(params, batch, wstate, step):
        lam = wstate.memory["lambda"]

        def term_fn(p, lam_n, n):
            per_point = point_losses(problem, network, p, batch[n], n)
            plain_loss = jnp.mean(per_point)
            weighted = plain_loss if lam_n is None else jnp.mean(scheme.point_mask(lam_n) * per_point)
            return weighted, plain_loss

        losses, param_grads, lam_grads = {}, {}, {}
        for n in names:
            if n in lam:
                both = jax.value_and_grad(term_fn, argnums=(0, 1), has_aux=True)(params, lam[n], n)
                (_, losses[n]), (param_grads[n], lam_grads[n]) = both
            else:
                (_, losses[n]), param_grads[n] = jax.value_and_grad(term_fn, has_aux=True)(params, None, n)
        ones = {n: 1.0 for n in names}
        info = {"losses": losses, "grad_norms": {n: global_norm(param_grads[n]) for n in names}}
        return info, combine(param_grads, ones), scheme.ascend(wstate, lam_grads)

    return grads_fn
