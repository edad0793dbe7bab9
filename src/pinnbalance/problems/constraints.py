"""Point constraints: a loss term that pins network outputs at a few fixed points.

A pressure known only up to a constant (incompressible flow with velocity boundary data) is
fixed by a gauge, e.g. ``p(0, 0) = 0``; a problem may also know a value at a sensor. The term

    L_point = (1/m) sum_j sum_c (u_{c}(z_j) - y_{j,c})^2

over the m fixed points ``z_j`` and the constrained output components c, is an ordinary
``Term`` (weighted, balanced and logged like the others): every step sees all m points.
It is the observation term of ``problems.observations`` on a table of m rows
(``data_term``), with the points given in code.

Example:
    >>> import jax, jax.numpy as jnp
    >>> gauge = point_constraint([[0.0, 0.0]], [0.0], components=2)  # p(0, 0) = 0, p the third output
    >>> u = lambda z: jnp.array([1.0, 2.0, 3.0 + z[0]])
    >>> rows = gauge.sampler(jax.random.PRNGKey(0), gauge.batch_size, jnp.float64)
    >>> jax.vmap(lambda r: gauge.residual(u, r))(rows).tolist()
    [[3.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

from pinnbalance.problems.base import Term
from pinnbalance.problems.observations import data_term, observations_from_arrays


def point_constraint(
    points, values, *, components: Sequence[int] | int | None = None, domain=None, description: str | None = None
) -> Term:
    """The term ``u_c(z_j) - y_j`` at fixed ``points`` ``(m, d)`` with ``values`` ``(m,)`` or ``(m, k)``.

    ``components``: the network outputs the values constrain (one int, or one per value
    column; None: all outputs). ``domain``: checks the points lie in it. The batch size is m
    (all points every step); a larger one set by a configuration repeats the table whole
    (a multiple of m: the same loss), see ``data_term``.
    """
    obs = observations_from_arrays(points, values, components=components, domain=domain, source="point constraint")
    comps = "all outputs" if obs.components is None else f"output(s) {list(obs.components)}"
    text = description or f"{comps} fixed at {obs.size} point(s)"
    return data_term(obs, description=text)
