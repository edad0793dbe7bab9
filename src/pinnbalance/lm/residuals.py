"""The weighted residual vector of a PINN loss and its Jacobian, built one point at a time.

All terms' residual rows are concatenated (in the problem's term order; within a term point
by point, each point's components together), term i's rows scaled by ``sqrt(w_i / n_i)``
with n_i its number of points, so that

    ||r(theta)||^2 = sum_i (w_i / n_i) sum_j sum_c r_ijc^2 = sum_i w_i L_i,

the weighted loss of ``losses.term_losses`` / ``losses.weighted_sum`` exactly. The
least-squares problem ``min ||r||^2`` is then the PINN training problem. A term's weight may
also be one per point (a vector ``w_ij`` of shape ``(n_i,)``): point j's rows are then scaled by
``sqrt(w_ij / n_i)``, so the term contributes ``(1 / n_i) sum_j w_ij sum_c r_ijc^2`` (causal
weighting uses this: ``lm.causal``).

The Jacobian ``J = dr / dtheta`` (N rows x P flattened parameters, ``ravel_pytree`` order)
is assembled from PER-POINT Jacobians: reverse mode (``jax.jacrev``) of ONE point's residual,
a vector of a few components, vmapped over the points. Reverse mode over the whole vmapped
residual instead would keep every point's intermediate values for N backward passes, tens of
GB at PINN sizes. With ``batch_size`` the points go through ``lax.map`` that many at a time,
so the transient memory of the per-point passes stays bounded; J itself is N P numbers.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pinnbalance.nn import mlp_for
    >>> from pinnbalance.problems import klein_gordon, sample_batch
    >>> problem = klein_gordon(batch_size=4)
    >>> network = mlp_for(problem.domain, hidden=(5,))
    >>> params = network.init(jax.random.PRNGKey(0), jnp.float32)
    >>> points = sample_batch(problem, jax.random.PRNGKey(1))
    >>> weights = {"res": 1.0, "ics": 1.0, "bcs": 1.0}
    >>> residual_vector(problem, network, params, points, weights).shape  # 4 res + 4 x 2 ics + 4 x 2 bcs
    (20,)
    >>> jax.jit(lambda p: jacobian(problem, network, p, points, weights))(params).shape  # P = 2 x 5 + 5 + 5 + 1
    (20, 21)
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from pinnbalance.problems.base import Problem, check_names, term_residuals, unknown_arguments

TermArrays = Mapping[str, jax.Array]
"""One array per term name: the points of each term, or each term's weight."""


def row_scales(problem: Problem, points: TermArrays, weights: TermArrays) -> dict[str, jax.Array]:
    """``sqrt(w_i / n_i)`` for every term (in its points' dtype): the factor on its residual rows
    (a vector of one factor per point where ``weights`` gives the term one weight per point)."""
    check_names(list(weights), problem.terms)
    check_names(list(points), problem.terms, what="points")
    missing = [n for n in problem.term_names if n not in weights or n not in points]
    if missing:
        raise KeyError(f"term(s) {missing} need both points and a weight; give every term of {list(problem.term_names)}")
    return {n: jnp.sqrt(jnp.asarray(weights[n], points[n].dtype) / points[n].shape[0]) for n in problem.term_names}


def residual_vector(problem: Problem, network, params, points: TermArrays, weights: TermArrays) -> jax.Array:
    """All terms' residuals as one vector of N rows, term i's scaled by ``sqrt(w_i / n_i)``."""
    scales = row_scales(problem, points, weights)
    u = network.field(params)
    rows = [_per_row(scales[n]) * term_residuals(term, u, points[n]) for n, term in problem.terms.items()]
    return jnp.concatenate([r.reshape(-1) for r in rows])


def _per_row(scale: jax.Array) -> jax.Array:
    """A term's factor against its ``(n, components)`` residuals: a scalar, or one per point as a column."""
    return scale[:, None] if jnp.ndim(scale) == 1 else scale


def row_counts(problem: Problem, network, params, points: TermArrays) -> dict[str, tuple[int, int]]:
    """``{term: (points, components per point)}``, from shapes only (nothing is computed)."""
    u = network.field(params)
    out = {}
    for n, term in problem.terms.items():
        shape = jax.eval_shape(lambda p, term=term: term_residuals(term, u, p), points[n]).shape
        out[n] = (int(shape[0]), int(shape[1]))
    return out


def jacobian(
    problem: Problem, network, params, points: TermArrays, weights: TermArrays, *, batch_size: int | None = None
) -> jax.Array:
    """``J = d residual_vector / d ravel_pytree(params)``, ``(N, P)``, point by point.

    Each point's residual (its components) is differentiated by ``jax.jacrev`` with respect
    to the flat parameters; the rows follow ``residual_vector``'s order.
    """
    scales = row_scales(problem, points, weights)
    flat, unravel = ravel_pytree(params)
    blocks = []
    for n, term in problem.terms.items():

        def one_point(p_scale, term=term):
            p, scale = p_scale

            def residual(theta):
                u = network.field(unravel(theta))
                return scale * jnp.reshape(term.residual(u, p, **unknown_arguments(term, u)), (-1,))

            return jax.jacrev(residual)(flat)  # (components, P)

        each = (points[n], jnp.broadcast_to(scales[n], points[n].shape[:1]))  # one factor per point
        block = jax.lax.map(one_point, each, batch_size=batch_size) if batch_size else jax.vmap(one_point)(each)
        blocks.append(block.reshape(-1, flat.shape[0]))
    return jnp.concatenate(blocks)
