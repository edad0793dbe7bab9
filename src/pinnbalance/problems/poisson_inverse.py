"""Poisson inverse problem on [0, 1]^2: recover an unknown diffusivity k from observations of u.

    -k (u_xx + u_yy) = f(x, y),   (x, y) in [0, 1]^2,   u = 0 on the boundary,

with ``f = 2 k* pi^2 sin(pi x) sin(pi y)``, so that ``u* = sin(pi x) sin(pi y)`` solves it for
the true diffusivity ``k*`` (``k``, default 0.5). The network learns u and the scalar unknown
k (``problems.unknowns.Scalar``, positive, stored as log k) together from three terms, each
one weight:

- ``res``: the PDE residual ``-k (u_xx + u_yy) - f`` at interior points (k: the unknown);
- ``bcs``: ``u`` on the four sides (one batch each, the sum of their mean squares);
- ``data``: ``u - u*`` at ``observations``^2 interior points of a regular grid (all of them
  every step), the measurements that make k identifiable: without them, any k with the
  matching u = (k*/k) u* fits the PDE and the boundary.

The true k is ``exact_unknowns["k"]``, so the history holds k's trajectory (``unknown/k``) and
``summary.json`` its final value and relative error.

Example:
    >>> problem = poisson_inverse(k=0.5, k_init=1.0)
    >>> problem.term_names, sorted(problem.unknowns), problem.exact_unknowns
    (('res', 'bcs', 'data'), ['k'], {'k': 0.5})
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.derivatives import axis_derivatives
from pinnbalance.problems import manufactured
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.domain import Box, stacked, uniform
from pinnbalance.problems.observations import data_term, observations_from_arrays
from pinnbalance.problems.unknowns import Scalar

X, Y = 0, 1


def exact_solution(z: jax.Array) -> jax.Array:
    """``u*(x, y) = sin(pi x) sin(pi y)`` at one point ``z = (x, y)``."""
    return jnp.sin(jnp.pi * z[X]) * jnp.sin(jnp.pi * z[Y])


def poisson_inverse(k: float = 0.5, k_init: float = 1.0, observations: int = 10, batch_size: int = 128) -> Problem:
    """The Poisson inverse problem with true diffusivity ``k``, the unknown's initial value
    ``k_init`` (> 0), ``observations`` x ``observations`` observed interior points and
    ``batch_size`` points a step for the residual and for each side."""
    if not k > 0:
        raise ValueError(f"poisson_inverse: the true diffusivity k must be > 0, got {k!r}")
    if not isinstance(observations, int) or observations < 1:
        raise ValueError(f"poisson_inverse: observations must be a positive integer (points per axis), got {observations!r}")
    domain = Box(lower=(0.0, 0.0), upper=(1.0, 1.0), names=("x", "y"))

    k_true = k

    def res(u, z, *, k):  # k: the unknown (problems.unknowns), passed in by name
        return -k * jnp.sum(axis_derivatives(u, z)[2]) - 2.0 * k_true * jnp.pi**2 * exact_solution(z)

    ticks = (np.arange(observations) + 0.5) / observations  # cell centres: inside the square
    points = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)
    values = np.sin(np.pi * points[:, 0]) * np.sin(np.pi * points[:, 1])
    sides = [uniform(domain, {"y": 0.0}), uniform(domain, {"x": 1.0}), uniform(domain, {"y": 1.0}), uniform(domain, {"x": 0.0})]
    terms = {
        "res": Term(res, uniform(domain), batch_size, "PDE residual -k (u_xx + u_yy) - f at interior points"),
        "bcs": Term(manufactured.dirichlet_residual(exact_solution), stacked(sides), batch_size, "u on the four sides"),
        "data": data_term(
            observations_from_arrays(points, values, source="u* on a grid"), description="u - u* at observed points"
        ),
    }
    return Problem(
        name="poisson-inverse",
        domain=domain,
        terms=terms,
        exact=exact_solution,
        parameters={"k": k, "k_init": k_init, "observations": observations},
        description=__doc__.splitlines()[0],
        unknowns={"k": Scalar(k_init, positive=True)},
        exact_unknowns={"k": k},
    )
