"""A system's equations evaluated once: terms that share points and one residual function.

A system of PDEs (Navier-Stokes: two momentum equations and continuity) is often one function
that returns every equation's residual at a point. Giving each equation its own term (so that
each gets its own weight) and its own points evaluates the whole system, network derivatives
and all, once per term: three times the work for NS. Here the terms can share the work:

- ``Term(points_of="mom_x")``: the term takes ``mom_x``'s points (drawn once, used by both)
  instead of drawing its own, as DeepXDE (and so PINNacle) evaluates every equation at the
  same collocation points;
- ``Equation(system, i)``: the term's residual is row ``i`` of ``system(u, z)``.

Terms at the same points whose residuals are rows of the same ``system`` form a group
(``evaluation_groups``): ``losses.term_losses`` evaluates the system once for the group, and
``training.gradients.term_gradients`` takes each term's gradient from that one evaluation.
Each term is still a term everywhere else (its own weight, loss, history column); code that
evaluates terms one by one (the NTK statistics, Levenberg-Marquardt residuals) gets the same
values, without the saving.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax

from pinnbalance.derivatives import Field
from pinnbalance.problems.base import one_point_field, unknown_arguments


@dataclass(frozen=True)
class Equation:
    """Row ``index`` of ``system(u, z)``: one equation of a system, as a term's residual.

    ``system(u, z, **unknowns)`` returns the stacked residuals of every equation at one point
    (shape ``(k,)`` or ``(k, ...)``). Terms whose residuals are ``Equation``s of the same
    ``system`` (the same function object) at the same points are evaluated together.

    Example:
        >>> import jax.numpy as jnp
        >>> system = lambda u, z: jnp.stack([u(z) - 1.0, 2.0 * u(z)])
        >>> float(Equation(system, 1)(lambda z: 3.0, jnp.zeros(1)))
        6.0
    """

    system: Callable
    index: int

    def __call__(self, u: Field, z: jax.Array, **unknowns) -> jax.Array:
        return self.system(u, z, **unknowns)[self.index]

    @property
    def __signature__(self) -> inspect.Signature:  # the system's: unknowns are asked for by name there
        return inspect.signature(self.system)


def evaluation_groups(terms: Mapping[str, object]) -> list[tuple[str, ...]]:
    """The terms in evaluation groups, in term order: a group is every term that draws its
    points from the same term and whose residual is an ``Equation`` of the same system; any
    other term is a group of its own.

    Example:
        >>> from types import SimpleNamespace as T
        >>> f = lambda u, z: z
        >>> evaluation_groups({"a": T(residual=Equation(f, 0), points_of=None), "b": T(residual=Equation(f, 1), points_of="a"),
        ...                    "c": T(residual=f, points_of="a")})
        [('a', 'b'), ('c',)]
    """
    groups: dict[object, list[str]] = {}
    for name, term in terms.items():
        residual = term.residual
        key = (term.points_of or name, id(residual.system)) if isinstance(residual, Equation) else name
        groups.setdefault(key, []).append(name)
    return [tuple(names) for names in groups.values()]


def system_residuals(terms: Mapping[str, object], u: Field, points: jax.Array) -> dict[str, jax.Array]:
    """Each term of one evaluation group (``evaluation_groups``) at ``points``, as
    ``{name: (n, components)}`` like ``problems.base.term_residuals``, from one evaluation of
    their system."""
    first = next(iter(terms.values()))
    field, given = one_point_field(u, first.description), unknown_arguments(first, u)
    stacked = jax.vmap(lambda p: first.residual.system(field, p, **given))(points)  # (n, k, ...)
    return {name: stacked[:, term.residual.index].reshape(stacked.shape[0], -1) for name, term in terms.items()}
