"""The errors geometry raises: one type per kind of mistake, so callers never match on text."""

from __future__ import annotations


class GeometryError(ValueError):
    """A shape that cannot be built as asked: a non-positive radius, a degenerate polygon,
    operands of different dimensions, a hole that misses the domain."""


class EmptyGeometryError(GeometryError):
    """A region with no interior: an intersection of disjoint shapes, a difference that
    removes everything, an evaluation grid with no point inside."""


class TooFewPointsError(GeometryError):
    """Rejection sampling kept fewer than the ``n`` points asked for (outside ``jit`` only:
    under a trace the missing rows are NaN instead, see ``geometry.rejection``)."""
