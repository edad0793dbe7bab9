"""A geometry with renamed boundary pieces (``geometry.named(...)``).

Renaming several pieces to one name merges them into one piece, sampled uniformly in
measure across them: ``box.named({"x_min": "walls", "x_max": "walls"})``.

Example:
    >>> from pinnbalance.geometry import Box, Disk
    >>> Box((0.0, 0.0), (1.0, 1.0)).named({"x_min": "inlet", "x_max": "outlet"}).pieces()
    ('inlet', 'outlet', 'y_min', 'y_max')
    >>> Disk((0.5, 0.5), 0.1).named("hole").pieces()
    ('hole',)
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.geometry.base import Geometry, Patch, Proposal
from pinnbalance.geometry.errors import GeometryError


@dataclass(frozen=True)
class Named(Geometry):
    """``base`` with its pieces renamed by ``rename`` (pairs ``(old, new)``; pieces not named keep their name)."""

    base: Geometry
    rename: tuple[tuple[str, str], ...]

    def __post_init__(self):
        valid = self.base.pieces()
        unknown = [old for old, _ in self.rename if old not in valid]
        if unknown:
            raise KeyError(f"cannot rename unknown boundary piece(s) {unknown}; this geometry's pieces are {list(valid)}")
        bad = [new for _, new in self.rename if not (isinstance(new, str) and new)]
        if bad:
            raise GeometryError(f"boundary piece names must be non-empty strings, got {bad!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return self.base.names

    def inside(self, points: jax.Array) -> jax.Array:
        return self.base.inside(points)

    def bounds(self):
        return self.base.bounds()

    def proposal(self) -> Proposal:
        return self.base.proposal()

    @property
    def _interior_landed(self) -> int:  # the same region and patches: reuse the base's fixed-seed counts
        return self.base._interior_landed

    def _patch_landed_at(self, index: int) -> int:
        return self.base._patch_landed_at(index)

    def patches(self) -> tuple[Patch, ...]:
        rename = dict(self.rename)
        return tuple(p.renamed(rename.get(p.name, p.name)) for p in self.base.patches())

    def evaluation_points(self, n: int = 100, dtype=jnp.float32) -> jax.Array:
        return self.base.evaluation_points(n, dtype)
