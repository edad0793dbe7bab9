"""Per-term mean-squared losses and their weighted sum.

L_i = mean_j sum_c r_{i,c}(p_j)^2,        L = sum_i w_i L_i

Terms that are equations of one system at shared points (``problems.systems``) are
evaluated together, once.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from pinnbalance.problems.base import Problem, term_residuals
from pinnbalance.problems.systems import evaluation_groups, system_residuals


def point_losses(problem: Problem, network, params, points: jax.Array, name: str) -> jax.Array:
    """One term's squared residual at each of its points, summed over components: ``(n,)``."""
    r = term_residuals(problem.terms[name], network.field(params), points)
    return jnp.sum(r**2, axis=-1)


def term_loss(problem: Problem, network, params, points: jax.Array, name: str, point_weights=None) -> jax.Array:
    """One term's loss at its points: the mean over points of the summed squares, each point's
    multiplied by ``point_weights`` when given (self-adaptive weights' m(lam)); a term with its
    own ``reduce`` (e.g. causal weighting over time slices) turns the per-point values into
    its loss instead of the mean."""
    per_point = point_losses(problem, network, params, points, name)
    per_point = per_point if point_weights is None else point_weights * per_point
    return reduce_term(problem, name, per_point, points)


def reduce_term(problem: Problem, name: str, per_point: jax.Array, points: jax.Array) -> jax.Array:
    """A term's loss from its per-point values: their mean, or the term's own ``reduce``."""
    reduce = problem.terms[name].reduce
    return jnp.mean(per_point) if reduce is None else reduce(per_point, points)


def group_losses(
    problem: Problem, network, params, batch: Mapping[str, jax.Array], names: tuple[str, ...]
) -> dict[str, jax.Array]:
    """The unweighted losses of one evaluation group (``problems.systems.evaluation_groups``),
    its system evaluated once: ``{name: scalar}``."""
    if len(names) == 1:
        return {names[0]: term_loss(problem, network, params, batch[names[0]], names[0])}
    points = batch[names[0]]
    rows = system_residuals({n: problem.terms[n] for n in names}, network.field(params), points)
    return {n: reduce_term(problem, n, jnp.sum(r**2, axis=-1), points) for n, r in rows.items()}


def term_losses(problem: Problem, network, params, batch: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
    """Each term's unweighted loss on ``batch``: ``{name: scalar}``, in term order."""
    losses = {}
    for names in evaluation_groups(problem.terms):
        losses.update(group_losses(problem, network, params, batch, names))
    return {name: losses[name] for name in problem.terms}


def weighted_sum(losses: Mapping[str, jax.Array], weights: Mapping[str, jax.Array]) -> jax.Array:
    """``sum_i w_i L_i`` over the terms of ``losses``."""
    return sum(weights[name] * loss for name, loss in losses.items())
