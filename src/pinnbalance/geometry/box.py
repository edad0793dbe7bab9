"""Axis-aligned boxes ``prod_i [lower_i, upper_i]`` and intervals, sampled exactly.

Same fields and conventions as ``problems.domain.Box`` (``lower``, ``upper``, ``names``;
``axis``, ``mean``, ``std``, ``grid``), so it can stand in for it. The boundary pieces are
the faces ``<name>_min`` / ``<name>_max`` with outward normals ``-e_i`` / ``+e_i``; face i has
measure ``prod_{j != i} (upper_j - lower_j)`` (in 1-D each end point counts 1).

Example:
    >>> box = Box((0.0, 0.0), (2.0, 1.0))
    >>> box.names, box.pieces(), box.measure().value, box.boundary_measure("x_min").value
    (('x', 'y'), ('x_min', 'x_max', 'y_min', 'y_max'), 2.0, 1.0)
    >>> Interval(-1.0, 1.0, name="t").pieces()
    ('t_min', 't_max')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.geometry import arrays
from pinnbalance.geometry.base import Geometry, Patch, Proposal
from pinnbalance.geometry.errors import GeometryError
from pinnbalance.geometry.measure import Measure


def default_names(dim: int) -> tuple[str, ...]:
    """``x``; ``x, y``; ``x, y, z``; beyond three ``x1 ... xd``."""
    if dim <= 3:
        return ("x", "y", "z")[:dim]
    return tuple(f"x{i + 1}" for i in range(dim))


def check_names(names: Sequence[str] | None, dim: int, what: str) -> tuple[str, ...]:
    """``names`` as a tuple of ``dim`` distinct strings (``default_names`` when None)."""
    names = default_names(dim) if names is None else tuple(names)
    if len(names) != dim or len(set(names)) != dim or not all(isinstance(n, str) and n for n in names):
        raise GeometryError(f"{what} needs {dim} distinct coordinate names, got {names!r}")
    return names


@dataclass(frozen=True)
class Box(Geometry):
    """The box ``prod_i [lower_i, upper_i]`` with named coordinates (default ``x, y, z``)."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    names: tuple[str, ...] | None = None

    def __post_init__(self):
        lower, upper = tuple(float(v) for v in self.lower), tuple(float(v) for v in self.upper)
        if len(lower) != len(upper) or not lower:
            raise GeometryError(f"Box needs as many lower as upper bounds (at least one), got {lower} and {upper}")
        names = check_names(self.names, len(lower), "Box")
        for name, lo, hi in zip(names, lower, upper):
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
                raise GeometryError(f"Box coordinate {name!r}: lower bound {lo} must be below upper bound {hi} (both finite)")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "names", names)

    def inside(self, points: jax.Array) -> jax.Array:
        points = self.check_points(points)
        xp = arrays.namespace(points)
        lo, hi = xp.asarray(self.lower, points.dtype), xp.asarray(self.upper, points.dtype)
        return xp.all((points >= lo) & (points <= hi), axis=-1)

    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return self.lower, self.upper

    def proposal(self) -> Proposal:
        return Proposal(self._uniform, math.prod(hi - lo for lo, hi in zip(self.lower, self.upper)), exact=True)

    def _uniform(self, key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        xp = arrays.namespace(key)
        lo, hi = xp.asarray(self.lower, dtype), xp.asarray(self.upper, dtype)
        return lo + (hi - lo) * arrays.uniform(key, (n, self.dim), dtype)

    def patches(self) -> tuple[Patch, ...]:
        sides = [hi - lo for lo, hi in zip(self.lower, self.upper)]
        out = []
        for i, name in enumerate(self.names):
            area = Measure(math.prod(s for j, s in enumerate(sides) if j != i))
            out.append(Patch(f"{name}_min", self._face(i, self.lower[i], -1.0), area))
            out.append(Patch(f"{name}_max", self._face(i, self.upper[i], 1.0), area))
        return tuple(out)

    def _face(self, i: int, value: float, sign: float):
        def propose(key: jax.Array, n: int, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
            xp = arrays.namespace(key)
            points = xp.where(xp.arange(self.dim) == i, xp.asarray(value, dtype), self._uniform(key, n, dtype))
            normal = xp.asarray([sign if j == i else 0.0 for j in range(self.dim)], dtype)
            return points, xp.broadcast_to(normal, (n, self.dim))

        return propose

    def grid(self, n: int, dtype=jnp.float32) -> jax.Array:
        """An ``n x ... x n`` uniform grid (endpoints included) as ``(n**dim, dim)`` points."""
        axes = [jnp.linspace(lo, hi, n, dtype=dtype) for lo, hi in zip(self.lower, self.upper)]
        mesh = jnp.meshgrid(*axes, indexing="ij")
        return jnp.stack([m.reshape(-1) for m in mesh], axis=-1)

    def evaluation_points(self, n: int = 100, dtype=jnp.float32) -> jax.Array:
        """The whole grid: every point of a box's grid is inside (``grid(n)``)."""
        return self.grid(n, dtype)


def Interval(a: float, b: float, *, name: str = "x") -> Box:  # noqa: N802 (a constructor, named like the shape)
    """The interval ``[a, b]`` as a one-dimensional ``Box``; pieces ``<name>_min`` (normal -1), ``<name>_max`` (+1)."""
    return Box((a,), (b,), (name,))
