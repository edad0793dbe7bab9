"""Manufactured solutions: a packaged problem's data taken from a chosen exact solution.

A problem posed with a solution ``u*`` (``exact=`` of ``klein_gordon``, ``helmholtz`` and
``wave``) takes its forcing from its own operator N, ``f = N[u*]``, so that

    res(u, z) = N[u](z) - N[u*](z),     bc(u, z) = u(z) - u*(z),     u_t(z) - u*_t(z)

and ``u*`` solves the posed problem exactly (the method of manufactured solutions). The
forcing is derived by automatic differentiation, so any JAX-differentiable ``u*`` will do.

Example:
    >>> import jax.numpy as jnp
    >>> from pinnbalance.derivatives import axis_derivatives
    >>> laplacian = lambda u, z: jnp.sum(axis_derivatives(u, z)[2])
    >>> res = forced_residual(laplacian, lambda z: z[0] ** 2)  # f = 2
    >>> float(res(lambda z: z[0] ** 2 + z[1] ** 2, jnp.array([0.3, 0.4])))  # N[u] - f = 4 - 2
    2.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax

from pinnbalance.derivatives import taylor1, unit
from pinnbalance.problems.base import Problem, check_exact

Solution = Callable[[jax.Array], jax.Array]
"""A manufactured solution ``u(z)``: a scalar at one point ``z``."""


def choose_solution(
    problem: str, exact: Solution | None, default: Solution, parameters: Mapping[str, float], *, shaping=None, role: str = ""
) -> tuple[Solution, dict]:
    """``(solution, parameters)`` of a packaged problem: ``default`` with every parameter, or
    ``exact`` (checked to be a function of one point) with the parameters it leaves in use.

    ``shaping``: ``{name: default value}`` of the parameters that only shape the default
    solution (``role`` says how); ``exact`` replaces them, so they must keep their defaults
    (a ``ValueError`` otherwise) and are left out of the returned parameters.
    """
    shaping = dict(shaping or {})
    if exact is None:
        return default, dict(parameters)
    if any(parameters[name] != value for name, value in shaping.items()):
        given = ", ".join(f"{name} = {parameters[name]}" for name in shaping)
        raise ValueError(f"{problem}: {given} {role}, which exact= replaces; drop {' and '.join(shaping)}, or drop exact")
    return check_exact(exact, problem), {name: value for name, value in parameters.items() if name not in shaping}


def forced_residual(operator: Callable, solution: Solution) -> Callable:
    """``res(u, z) = N[u](z) - f(z)`` with the forcing ``f = N[solution]`` (``operator(u, z)`` is N[u] at z)."""

    def res(u, z):
        return operator(u, z) - operator(solution, z)

    return res


def dirichlet_residual(solution: Solution) -> Callable:
    """``bc(u, zs) = u(zs) - solution(zs)`` on a batch of boundary points, through ``vmap`` (not a Python loop)."""

    def bc(u, zs):
        return jax.vmap(u)(zs) - jax.vmap(solution)(zs)

    return bc


def axis_rate(u: Callable, z: jax.Array, axis: int) -> jax.Array:
    """``du/dz_axis`` at ``z`` in one forward sweep (e.g. ``u_t`` with ``axis`` the time axis)."""
    return taylor1(u, z, unit(z, axis)[None])[1][0]


def packaged_problem(name: str, doc: str, domain, terms, *, exact: Solution, parameters: Mapping[str, float]) -> Problem:
    """The ``Problem`` of a packaged problem module: described by the first line of its module
    docstring ``doc``, its accuracy measured against ``exact``, ``res`` its reference term."""
    return Problem(
        name=name,
        domain=domain,
        terms=terms,
        exact=exact,
        reference="res",
        parameters=parameters,
        description=doc.splitlines()[0],
    )
