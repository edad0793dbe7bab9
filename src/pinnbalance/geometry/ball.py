"""Balls ``|x - c| <= r`` in any dimension, sampled exactly.

Interior: a direction ``g / |g|`` with ``g ~ N(0, I_d)`` (uniform on the sphere, by rotation
invariance of the Gaussian) times the radius ``r U^(1/d)``, ``U ~ U(0, 1)``: then
``P(|x - c| <= s) = (s / r)^d``, the volume fraction of the ball of radius s. Boundary:
``c + r g / |g|`` with outward normal ``g / |g| = (x - c) / r``. Measures:

    |B| = pi^(d/2) r^d / Gamma(d/2 + 1),     |dB| = 2 pi^(d/2) r^(d-1) / Gamma(d/2)

(in 1-D the boundary is two points, of count 2). One boundary piece, ``"boundary"``.

Example:
    >>> import math
    >>> disk = Disk((0.0, 0.0), 2.0)
    >>> math.isclose(disk.measure().value, 4 * math.pi), math.isclose(disk.boundary_measure().value, 4 * math.pi)
    (True, True)
    >>> Ball((0.0, 0.0, 0.0), 1.0).names
    ('x', 'y', 'z')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.geometry import arrays
from pinnbalance.geometry.base import Geometry, Patch, Proposal
from pinnbalance.geometry.box import check_names
from pinnbalance.geometry.errors import GeometryError
from pinnbalance.geometry.measure import Measure


@dataclass(frozen=True)
class Ball(Geometry):
    """The closed ball of ``radius`` around ``center`` (its length is the dimension)."""

    center: tuple[float, ...]
    radius: float
    names: tuple[str, ...] | None = None

    def __post_init__(self):
        center = tuple(float(v) for v in self.center)
        radius = float(self.radius)
        if not center or not all(math.isfinite(v) for v in center):
            raise GeometryError(
                f"{type(self).__name__} center must be a non-empty sequence of finite numbers, got {self.center!r}"
            )
        if not (math.isfinite(radius) and radius > 0):
            raise GeometryError(f"{type(self).__name__} radius must be a positive finite number, got {self.radius!r}")
        object.__setattr__(self, "center", center)
        object.__setattr__(self, "radius", radius)
        object.__setattr__(self, "names", check_names(self.names, len(center), type(self).__name__))

    def inside(self, points: jax.Array) -> jax.Array:
        points = self.check_points(points)
        xp = arrays.namespace(points)
        offset = points - xp.asarray(self.center, points.dtype)
        return xp.sum(offset**2, axis=-1) <= self.radius**2

    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return tuple(c - self.radius for c in self.center), tuple(c + self.radius for c in self.center)

    def volume(self) -> float:
        d = self.dim
        return math.pi ** (d / 2) * self.radius**d / math.gamma(d / 2 + 1)

    def surface(self) -> float:
        d = self.dim
        return 2 * math.pi ** (d / 2) * self.radius ** (d - 1) / math.gamma(d / 2)

    def _directions(self, key: jax.Array, n: int, dtype) -> jax.Array:
        g = arrays.normal(key, (n, self.dim), dtype)
        return g / arrays.namespace(key).linalg.norm(g, axis=-1, keepdims=True)

    def _uniform(self, key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        k_dir, k_rad = arrays.split(key)
        radii = self.radius * arrays.uniform(k_rad, (n, 1), dtype) ** (1.0 / self.dim)
        return arrays.namespace(key).asarray(self.center, dtype) + radii * self._directions(k_dir, n, dtype)

    def _sphere(self, key: jax.Array, n: int, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
        normals = self._directions(key, n, dtype)
        return arrays.namespace(key).asarray(self.center, dtype) + self.radius * normals, normals

    def proposal(self) -> Proposal:
        return Proposal(self._uniform, self.volume(), exact=True)

    def patches(self) -> tuple[Patch, ...]:
        return (Patch("boundary", self._sphere, Measure(self.surface())),)


@dataclass(frozen=True)
class Disk(Ball):
    """A two-dimensional ``Ball``: ``Disk((cx, cy), r)``."""

    def __post_init__(self):
        if len(tuple(self.center)) != 2:
            raise GeometryError(f"Disk center must have 2 coordinates, got {self.center!r}; use Ball for other dimensions")
        super().__post_init__()
