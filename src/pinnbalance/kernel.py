"""Neural tangent kernel statistics of the loss terms, without materialising the kernel.

For term i with residuals ``r_j`` (every point and component of its batch), the diagonal
block of the NTK is ``K_ii = J_i J_i^T`` with ``J_i = d r / d theta``. Its trace is the sum of
squared per-point gradient norms:

    tr(K_ii) = sum_j || d r_j / d theta ||^2

computed here by ``vmap`` over points of the reverse-mode Jacobian of one point's residual
vector: memory ``n_points x components x n_params``, never ``n_points^2``.

A term's loss is a mean over its ``n_i`` points (``losses``), so the kernel that moves it is that
of ``r_j / sqrt(n_i)``, whose trace is ``tr(K_ii) / n_i``, the mean of the diagonal
(``ntk_mean_diagonal``): unlike the trace, it does not grow with the number of points a term draws.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.problems.base import Problem, one_point_field, unknown_arguments


def ntk_trace(problem: Problem, network, params, points: jax.Array, name: str) -> jax.Array:
    """``tr(K_ii)`` of term ``name`` at ``points``.

    Example:
        >>> from pinnbalance import klein_gordon, mlp_for
        >>> problem = klein_gordon(batch_size=4)
        >>> net = mlp_for(problem.domain, (8,))
        >>> params = net.init(jax.random.PRNGKey(0))
        >>> float(ntk_trace(problem, net, params, jnp.zeros((4, 2)), "ics")) > 0
        True
    """
    term = problem.terms[name]

    def residual_at(p, x):
        u = network.field(p)
        return jnp.ravel(term.residual(one_point_field(u, term.description), x, **unknown_arguments(term, u)))

    jac = jax.vmap(jax.jacrev(residual_at), in_axes=(None, 0))(params, points)
    return sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(jac))


def ntk_mean_diagonal(problem: Problem, network, params, points: jax.Array, name: str) -> jax.Array:
    """``tr(K_ii) / n_i``: the mean over term ``name``'s ``n_i`` points (stacked boundary pieces
    counted each, as the loss's mean counts them) of the NTK's diagonal, summed over components.

    Example:
        >>> from pinnbalance import klein_gordon, mlp_for
        >>> problem = klein_gordon(batch_size=4)
        >>> net = mlp_for(problem.domain, (8,))
        >>> params = net.init(jax.random.PRNGKey(0))
        >>> x = jax.random.uniform(jax.random.PRNGKey(1), (4, 2))
        >>> twice = jnp.concatenate([x, x])  # the same points drawn twice: the trace doubles, the mean does not
        >>> bool(jnp.isclose(ntk_mean_diagonal(problem, net, params, twice, "ics"), ntk_mean_diagonal(problem, net, params, x, "ics")))
        True
    """
    return ntk_trace(problem, network, params, points, name) / (points.size // points.shape[-1])


STATISTICS = {"ntk_trace": ntk_trace, "ntk_mean_diagonal": ntk_mean_diagonal}


def term_statistics(names_needed, problem: Problem, network, params, batch) -> dict[str, dict[str, jax.Array]]:
    """``{statistic: {term: value}}`` for each statistic a scheme declares in ``statistics_needed``."""
    return {s: {n: STATISTICS[s](problem, network, params, batch[n], n) for n in problem.term_names} for s in names_needed}
