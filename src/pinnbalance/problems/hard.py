"""A problem's hard constraint: its network output becomes ``u(z) = g(z) + d(z) N(z)``.

A penalty term pulls the network towards a boundary or initial condition; a hard constraint
meets it exactly, for any parameters: with ``d`` zero where the condition holds (and
nowhere inside) and ``g`` equal to the prescribed values there, ``u = g`` wherever ``d = 0``.
A problem that declares one (``Problem(..., hard=HardConstraint(g=..., d=...))``) drops the
matching penalty terms, and everything that builds its network applies the transform
(``nn.hard``: training, predictions, saved run folders and ``load_run``), so a problem
written in a file trains hard-constrained from a TOML by its name alone.

``g(z)`` and ``d(z)`` take one point ``z`` and return a scalar, or one value per network
output to constrain components differently (``d = (x (1 - x), x (1 - x), 1)`` clamps u and v
on the walls x = 0, 1 and leaves p free). They are code, not data: a run folder records that
its network was trained under the problem's constraint, and reloading it rebuilds the problem.

Example:
    >>> import jax.numpy as jnp
    >>> hard = HardConstraint(g=lambda z: jnp.sin(jnp.pi * z[1]), d=lambda z: z[0])  # u(0, x) = sin(pi x)
    >>> float(hard.g(jnp.array([0.0, 0.5]))), float(hard.d(jnp.array([0.0, 0.5])))
    (1.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax

Transform = Callable[[jax.Array], jax.Array]  # one point z -> a scalar, or one value per output


def check_transform(owner: str, name: str, value) -> None:
    """A ``TypeError`` naming ``owner.name`` unless ``value`` is a function (of one point ``z``)."""
    if not callable(value):
        raise TypeError(f"{owner}.{name} must be a function of one point z, e.g. {name}=lambda z: z[1]; got {value!r}")


@dataclass(frozen=True)
class HardConstraint:
    """``u(z) = g(z) + d(z) N(z)``: ``g`` the prescribed values, ``d`` zero exactly where they
    are imposed and nonzero inside (see the module docstring)."""

    g: Transform
    d: Transform

    def __post_init__(self):
        for name in ("g", "d"):
            check_transform("HardConstraint", name, getattr(self, name))
