"""A space-time cylinder ``space x [t0, t1]``, the time coordinate last (named ``"t"``).

Interior points are a spatial interior point and an independent uniform time. The boundary
pieces are

* ``"initial"``: the slice ``t = t0``, outward normal ``-e_t``, measure ``|space|``;
* ``"final"``: the slice ``t = t1``, outward normal ``+e_t``, measure ``|space|``;
* every spatial piece ``P`` lifted to ``P x [t0, t1]``: normal ``(n_P, 0)``, measure ``|P| (t1 - t0)``.

A PINN usually samples ``"initial"`` for the initial condition and the spatial pieces for
boundary conditions (``piece=space.pieces()``); ``piece=None`` samples all, ``"final"`` included.

Example:
    >>> from pinnbalance.geometry import Disk
    >>> cylinder = SpaceTime(Disk((0.0, 0.0), 1.0), 0.0, 2.0)
    >>> cylinder.names, cylinder.pieces()
    (('x', 'y', 't'), ('initial', 'final', 'boundary'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.geometry import arrays
from pinnbalance.geometry.base import Geometry, Patch, Proposal
from pinnbalance.geometry.errors import GeometryError


@dataclass(frozen=True)
class SpaceTime(Geometry):
    """``space x [t0, t1]`` with the time coordinate called ``time`` appended last."""

    space: Geometry
    t0: float
    t1: float
    time: str = "t"

    def __post_init__(self):
        if not isinstance(self.space, Geometry):
            raise GeometryError(f"SpaceTime space must be a geometry, got {type(self.space).__name__}")
        t0, t1 = float(self.t0), float(self.t1)
        if not (math.isfinite(t0) and math.isfinite(t1) and t0 < t1):
            raise GeometryError(f"SpaceTime needs finite t0 < t1, got t0={self.t0!r}, t1={self.t1!r}")
        if self.time in self.space.names:
            raise GeometryError(
                f"SpaceTime time coordinate {self.time!r} is already a spatial coordinate {list(self.space.names)}; pass time="
            )
        clash = {"initial", "final"} & set(self.space.pieces())
        if clash:
            raise GeometryError(
                f"the space has pieces named {sorted(clash)}, the names of the time slices; rename them with .named()"
            )
        object.__setattr__(self, "t0", t0)
        object.__setattr__(self, "t1", t1)

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.space.names, self.time)

    def inside(self, points: jax.Array) -> jax.Array:
        points = self.check_points(points)
        t = points[..., -1]
        return self.space.inside(points[..., :-1]) & (t >= self.t0) & (t <= self.t1)

    def bounds(self):
        lower, upper = self.space.bounds()
        return (*lower, self.t0), (*upper, self.t1)

    def _times(self, key: jax.Array, n: int, dtype) -> jax.Array:
        return self.t0 + (self.t1 - self.t0) * arrays.uniform(key, (n, 1), dtype)

    def proposal(self) -> Proposal:
        space = self.space.proposal()

        def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
            k_x, k_t = arrays.split(key)
            return arrays.namespace(key).concatenate([space.sample(k_x, n, dtype), self._times(k_t, n, dtype)], axis=-1)

        return Proposal(sample, space.measure * (self.t1 - self.t0), space.exact)

    def patches(self) -> tuple[Patch, ...]:
        slab = self.space.measure()
        slices = (Patch("initial", self._slice(self.t0, -1.0), slab), Patch("final", self._slice(self.t1, 1.0), slab))
        return slices + tuple(self._lifted(p) for p in self.space.patches())

    def _slice(self, t: float, sign: float):
        def propose(key: jax.Array, n: int, dtype=jnp.float32):
            xp = arrays.namespace(key)
            x = self.space.sample_interior(key, n, dtype)
            points = xp.concatenate([x, xp.full((n, 1), t, dtype)], axis=-1)
            normal = xp.asarray((0.0,) * (self.dim - 1) + (sign,), dtype)
            return points, xp.broadcast_to(normal, (n, self.dim))

        return propose

    def _lifted(self, patch: Patch) -> Patch:
        def propose(key: jax.Array, n: int, dtype=jnp.float32):
            xp = arrays.namespace(key)
            k_x, k_t = arrays.split(key)
            x, nx = patch.propose(k_x, n, dtype)
            return xp.concatenate([x, self._times(k_t, n, dtype)], axis=-1), xp.concatenate(
                [nx, xp.zeros((n, 1), dtype)], axis=-1
            )

        return Patch(patch.name, propose, patch.measure.scaled(self.t1 - self.t0), patch.trimmed)
