"""PINNacle's Wave 1d-C: ``u_tt - 4 u_xx = 0`` on [0, 1] x [0, 1] (Hao et al. 2024, arXiv 2306.08827).

    u(x, 0) = sin(pi x) + 0.5 sin(4 pi x),   u_t(x, 0) = 0,   u(0, t) = u(1, t) = 0,

exact solution ``u = sin(pi x) cos(2 pi t) + 0.5 sin(4 pi x) cos(8 pi t)`` (the NTK study's wave
with c = 2, ``problems.wave``, with PINNacle's coordinate order ``(x, t)`` and loss split).

Terms, one per equation and condition as PINNacle (DeepXDE) splits the loss:

- ``res``: ``u_tt - 4 u_xx`` at interior points;
- ``ic``: ``u(x, 0) - sin(pi x) - 0.5 sin(4 pi x)``;
- ``ic_t``: ``u_t(x, 0)``;
- ``bc``: ``u`` on x = 0 and x = 1 (one batch over both sides, uniform in boundary measure).

Evaluation: PINNacle's 2,500 uniform interior points, here the 50 x 50 cell centres of
[0, 1]^2 (``evaluation_points``), against the closed form. Published L2RE (mean of 3 runs,
5 x 100 tanh, Adam 1e-3, 20,000 steps): ``PUBLISHED``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from pinnbalance.derivatives import axis_derivatives, taylor1, unit
from pinnbalance.geometry import boundary_sampler, split_normal
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.domain import Box, uniform

X, T = 0, 1
C = 2.0  # wave speed: c^2 = 4

# PINNacle's main table (arXiv v2), L2RE, mean of 3 runs; "NTK" is PINNacle's NTK surrogate.
PUBLISHED = {"PINN": 5.88e-1, "PINN-w": 2.85e-1, "LRA": 3.61e-1, "NTK": 9.79e-2, "best": {"method": "NTK", "l2re": 9.79e-2}}


def exact_solution(z):
    """``sin(pi x) cos(2 pi t) + 0.5 sin(4 pi x) cos(8 pi t)`` at one point ``z = (x, t)``."""
    x, t = z[X], z[T]
    return jnp.sin(jnp.pi * x) * jnp.cos(C * jnp.pi * t) + 0.5 * jnp.sin(4 * jnp.pi * x) * jnp.cos(4 * C * jnp.pi * t)


def evaluation_points(n: int = 50) -> np.ndarray:
    """The ``n x n`` cell centres of [0, 1]^2 as ``(n^2, 2)`` rows ``(x, t)`` (x slowest)."""
    centres = (np.arange(n) + 0.5) / n
    x, t = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([x.ravel(), t.ravel()], axis=-1)


def res(u, z):
    _, _, second = axis_derivatives(u, z)
    return second[T] - C**2 * second[X]


def ic(u, z):
    x = z[X]
    return u(z) - (jnp.sin(jnp.pi * x) + 0.5 * jnp.sin(4 * jnp.pi * x))


def ic_t(u, z):
    _, first = taylor1(u, z, unit(z, T)[None])
    return first[0]


def bc(u, row):
    z, _ = split_normal(row)
    return u(z)


def wave_1d(batch_size: int = 128, evaluation_n: int = 50) -> Problem:
    """Wave 1d-C with PINNacle's terms (``res``, ``ic``, ``ic_t``, ``bc``) and evaluation points.

    Example:
        >>> problem = wave_1d()
        >>> problem.term_names, problem.reference_data[0].shape
        (('res', 'ic', 'ic_t', 'bc'), (2500, 2))
    """
    domain = Box((0.0, 0.0), (1.0, 1.0), ("x", "t"))
    terms = {
        "res": Term(res, uniform(domain), batch_size, "u_tt - 4 u_xx at interior points"),
        "ic": Term(ic, uniform(domain, {"t": 0.0}), batch_size, "u(x, 0) - sin(pi x) - 0.5 sin(4 pi x)"),
        "ic_t": Term(ic_t, uniform(domain, {"t": 0.0}), batch_size, "u_t(x, 0)"),
        "bc": Term(bc, boundary_sampler(domain, ("x_min", "x_max")), batch_size, "u on x = 0 and x = 1"),
    }
    points = evaluation_points(evaluation_n)
    values = np.sin(np.pi * points[:, 0]) * np.cos(2 * np.pi * points[:, 1])
    values += 0.5 * np.sin(4 * np.pi * points[:, 0]) * np.cos(8 * np.pi * points[:, 1])
    return Problem(
        name="wave-1d",
        domain=domain,
        terms=terms,
        exact=exact_solution,
        parameters={"c": C},
        components=("u",),
        description=__doc__.splitlines()[0],
        reference_data=(points, values),
    )
