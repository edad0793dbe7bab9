"""Constructive solid geometry: union ``a | b``, intersection ``a & b``, difference ``a - b``.

    inside(a | b) = inside(a) or inside(b)
    inside(a & b) = inside(a) and inside(b)
    inside(a - b) = inside(a) and not inside(b)

Interior points are rejection-sampled with fixed shapes (``geometry.rejection``) from a
proposal that contains the result: the bounding box for a union, the operand with the smaller
proposal for an intersection, the first operand for a difference. Measures are Monte-Carlo
(``geometry.measure``). The boundary is made of the operands' pieces, trimmed by rule (*) of
``geometry.base``; a difference exposes the outer pieces and the hole's pieces with the normal
FLIPPED (outward from the domain, that is into the hole). Pieces keep their names; operands'
pieces of one name form one piece, so name holes apart: ``disk - Disk(c, r).named("hole")``.

Checked on construction (eagerly, with the fixed-key estimates): an intersection or a
difference with an empty interior raises ``EmptyGeometryError``; a difference whose hole does
not meet the domain (a no-op, usually a misplaced centre) raises ``GeometryError``.

Example:
    >>> import math
    >>> from pinnbalance.geometry import Box, Disk
    >>> ring = Disk((0.0, 0.0), 1.0) - Disk((0.0, 0.0), 0.5).named("inner")
    >>> ring.pieces(), round(ring.boundary_measure("inner").value / math.pi, 3)
    (('boundary', 'inner'), 1.0)
    >>> abs(ring.measure().value - 0.75 * math.pi) < 4 * ring.measure().stderr
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.geometry.base import Geometry, Patch, Proposal
from pinnbalance.geometry.box import Box
from pinnbalance.geometry.errors import EmptyGeometryError, GeometryError


@dataclass(frozen=True)
class _Binary(Geometry):
    a: Geometry
    b: Geometry

    def __post_init__(self):
        for operand in (self.a, self.b):
            if not isinstance(operand, Geometry):
                raise GeometryError(f"{type(self).__name__} operands must be geometries, got {type(operand).__name__}")
        if self.a.names != self.b.names:
            raise GeometryError(
                f"{type(self).__name__} operands must share their coordinates, got {list(self.a.names)} and {list(self.b.names)} "
                "(a dimension mismatch, or give both the same names=)"
            )

    @property
    def names(self) -> tuple[str, ...]:
        return self.a.names

    def patches(self) -> tuple[Patch, ...]:
        """Both operands' pieces, trimmed by rule (*) (a difference overrides this: its hole's normals flip)."""
        return self._trimmed(self.a.patches() + self.b.patches())

    def _trimmed(self, patches, flip: bool = False) -> tuple[Patch, ...]:
        return tuple(Patch(p.name, _flipped(p.propose) if flip else p.propose, p.measure, trimmed=True) for p in patches)

    def _check_overlap(self, error: type[GeometryError], message: str) -> None:
        """``error(message)`` unless the operands' bounding boxes overlap; then ``_check_interior``."""
        if _overlap(self.a, self.b) is None:
            raise error(message)
        self._check_interior()

    def _check_interior(self) -> None:
        if self._interior_landed == 0:
            lower, upper = self.bounds()
            raise EmptyGeometryError(
                f"{type(self).__name__} has an empty interior: none of the Monte-Carlo proposals in the box {lower}..{upper} "
                "landed inside; check the operands' positions and sizes"
            )


def _flipped(propose):
    def flipped(key: jax.Array, n: int, dtype=jnp.float32):
        points, normals = propose(key, n, dtype)
        return points, -normals

    return flipped


def _containing(proposal: Proposal) -> Proposal:
    """``proposal``'s sampler and measure as a proposal that only contains the result (``exact=False``)."""
    return Proposal(proposal.sample, proposal.measure, exact=False)


def _overlap(a: Geometry, b: Geometry) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The intersection of two bounding boxes, or None when it has no interior."""
    (alo, ahi), (blo, bhi) = a.bounds(), b.bounds()
    lower = tuple(max(x, y) for x, y in zip(alo, blo))
    upper = tuple(min(x, y) for x, y in zip(ahi, bhi))
    return (lower, upper) if all(lo < hi for lo, hi in zip(lower, upper)) else None


@dataclass(frozen=True)
class Union(_Binary):
    """Points in ``a`` or in ``b``."""

    def inside(self, points: jax.Array) -> jax.Array:
        return self.a.inside(points) | self.b.inside(points)

    def bounds(self):
        (alo, ahi), (blo, bhi) = self.a.bounds(), self.b.bounds()
        return tuple(map(min, alo, blo)), tuple(map(max, ahi, bhi))

    def proposal(self) -> Proposal:
        return _containing(Box(*self.bounds(), self.names).proposal())


@dataclass(frozen=True)
class Intersection(_Binary):
    """Points in both ``a`` and ``b``."""

    def __post_init__(self):
        super().__post_init__()
        self._check_overlap(
            EmptyGeometryError,
            f"Intersection is empty: the bounding boxes {self.a.bounds()} and {self.b.bounds()} do not overlap",
        )

    def inside(self, points: jax.Array) -> jax.Array:
        return self.a.inside(points) & self.b.inside(points)

    def bounds(self):
        return _overlap(self.a, self.b)

    def proposal(self) -> Proposal:
        pa, pb = self.a.proposal(), self.b.proposal()
        return _containing(pa if pa.measure <= pb.measure else pb)


@dataclass(frozen=True)
class Difference(_Binary):
    """Points in ``a`` and not in ``b``; ``b``'s pieces become holes with normals pointing into ``b``."""

    def __post_init__(self):
        super().__post_init__()
        self._check_overlap(
            GeometryError,
            f"Difference: the hole (bounds {self.b.bounds()}) lies outside the domain (bounds {self.a.bounds()}); "
            "it removes nothing, check its centre and size",
        )
        hole = range(len(self.a.patches()), len(self.patches()))
        if all(self._patch_landed_at(i) == 0 for i in hole):
            raise GeometryError(
                f"Difference: the hole {self.b!r} does not meet the domain's interior (none of its boundary is boundary of the "
                "result); it removes nothing, check its centre and size"
            )

    def inside(self, points: jax.Array) -> jax.Array:
        return self.a.inside(points) & ~self.b.inside(points)

    def bounds(self):
        return self.a.bounds()

    def proposal(self) -> Proposal:
        return _containing(self.a.proposal())

    def patches(self) -> tuple[Patch, ...]:
        return self._trimmed(self.a.patches()) + self._trimmed(self.b.patches(), flip=True)
