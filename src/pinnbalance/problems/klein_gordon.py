"""Nonlinear Klein-Gordon on [0, 1] x [0, 1] (Wang, Teng & Perdikaris 2021, section 4.2).

    u_tt + alpha u_xx + beta u + gamma u^k = f(t, x),   (t, x) in [0, 1]^2

with the manufactured solution ``u = x cos(5 pi t) + (t x)^3`` (or another one given as
``exact=``); the forcing f is derived from it by automatic differentiation, so changing
alpha, beta, gamma, k or the solution keeps the problem consistent. Terms (each one weight):

- ``res``: the PDE residual at interior points;
- ``ics``: ``u - u_exact`` and ``u_t`` at t = 0 (two components, one weight);
- ``bcs``: ``u - u_exact`` on x = 0 and on x = 1, each with its own batch (one weight).

Published (40,001 Adam steps, seed 1234): standard PINN min relative L2 1.73e-1,
gradient-adaptive weights 7.75e-3.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.derivatives import axis_derivatives, taylor1, unit
from pinnbalance.problems import manufactured
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.domain import Box, stacked, uniform
from pinnbalance.problems.manufactured import Solution

T, X = 0, 1


def exact_solution(z: jax.Array) -> jax.Array:
    """``u(t, x) = x cos(5 pi t) + (t x)^3`` at one point ``z = (t, x)``."""
    t, x = z[T], z[X]
    return x * jnp.cos(5 * jnp.pi * t) + (t * x) ** 3


def klein_gordon(
    alpha: float = -1.0,
    beta: float = 0.0,
    gamma: float = 1.0,
    k: int = 3,
    batch_size: int = 128,
    *,
    exact: Solution | None = None,
) -> Problem:
    """The Klein-Gordon problem of the founding experiment (defaults as published).

    ``exact``: another manufactured solution ``u(z)`` at one point ``z = (t, x)`` (any
    JAX-differentiable function; default ``exact_solution``). The forcing f, the initial
    data ``u(0, x)`` and ``u_t(0, x)`` and the boundary values are all derived from it, so
    the same PDE is posed with that solution.

    Example:
        >>> problem = klein_gordon()
        >>> problem.term_names
        ('res', 'ics', 'bcs')
        >>> other = klein_gordon(exact=lambda z: jnp.sin(z[0]) * z[1] ** 2)  # forcing follows the solution
    """
    domain = Box(lower=(0.0, 0.0), upper=(1.0, 1.0), names=("t", "x"))
    solution, parameters = manufactured.choose_solution(
        "klein_gordon", exact, exact_solution, {"alpha": alpha, "beta": beta, "gamma": gamma, "k": k}
    )

    def operator(u, z):
        """``u_tt + alpha u_xx + beta u + gamma u^k`` at z."""
        value, _, second = axis_derivatives(u, z)  # one sweep: u, grad u, (u_tt, u_xx)
        u_tt, u_xx = second[T], second[X]
        return u_tt + alpha * u_xx + beta * value + gamma * value**k

    def initial_velocity(z):
        if exact is None:  # the published solution's u_t(0, x) = 0 (the published constraint u_t = 0)
            return jnp.zeros((), z.dtype)
        return manufactured.axis_rate(solution, z, T)

    def ics(u, z):
        value, first = taylor1(u, z, unit(z, T)[None])  # u and u_t in one sweep
        return jnp.stack([value - solution(z), first[0] - initial_velocity(z)])

    terms = {
        "res": Term(
            manufactured.forced_residual(operator, solution), uniform(domain), batch_size, "PDE residual at interior points"
        ),
        "ics": Term(ics, uniform(domain, {"t": 0.0}), batch_size, "u and u_t at t = 0"),
        "bcs": Term(
            manufactured.dirichlet_residual(solution),
            stacked([uniform(domain, {"x": 0.0}), uniform(domain, {"x": 1.0})]),
            batch_size,
            "u on x = 0 and on x = 1 (one batch each)",
        ),
    }
    return manufactured.packaged_problem("klein-gordon", __doc__, domain, terms, exact=solution, parameters=parameters)


def forcing_closed_form(z: jax.Array, alpha: float = -1.0, beta: float = 0.0, gamma: float = 1.0, k: int = 3) -> jax.Array:
    """The forcing written out by hand, for tests: u_tt = -25 pi^2 x cos(5 pi t) + 6 t x^3, u_xx = 6 x t^3."""
    t, x = z[T], z[X]
    u = exact_solution(z)
    u_tt = -25 * jnp.pi**2 * x * jnp.cos(5 * jnp.pi * t) + 6 * t * x**3
    u_xx = 6 * x * t**3
    return u_tt + alpha * u_xx + beta * u + gamma * u**k


# Published results (Wang, Teng & Perdikaris 2021, Klein-Gordon, 40,001 steps, seed 1234).
PUBLISHED = {
    "M1": {"min_l2": 1.73e-1, "final_l2": 1.73e-1, "final_losses": {"res": 5.66e-1, "ics": 6.80e-3, "bcs": 1.49e-2}},
    "M2": {"min_l2": 7.75e-3, "final_l2": 1.05e-2, "final_losses": {"res": 1.08e-1, "ics": 4.05e-4, "bcs": 1.35e-5}},
}
