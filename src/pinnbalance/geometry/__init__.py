"""Domains beyond boxes: intervals, boxes, balls, polygons, their unions, intersections and
differences, and space-time cylinders, with jittable uniform sampling of the interior and of
NAMED boundary pieces together with their outward unit normals.

Why our own: the JAX PINN libraries checked (2026-12, ``pip download``) do not cover this.
``jinns`` 1.10 samples only hyper-rectangles (``CubicMeshPDEStatio``): no balls, polygons,
CSG or normals. ``pinnx`` 0.0.3 ports DeepXDE's geometry, which draws with NumPy's global
random state (not keyed, so neither jittable nor reproducible per seed) and brings brainstate
and brainunit with it; DeepXDE's own geometry is NumPy too. Here every sampler is a pure
function of a PRNG key with fixed output shapes, so it runs inside the compiled training step
and under ``vmap`` over seeds, and no dependency is added.

Every geometry gives ``dim``, ``names``, ``inside(points)``, ``bounds()``, ``mean()``/``std()``
(of the bounding box, for input normalisation), ``sample_interior(key, n, dtype)``,
``sample_boundary(key, n, dtype, piece=None) -> (points, normals)``, ``pieces()``,
``named(...)``, ``measure()``, ``boundary_measure(piece)`` and ``evaluation_points(n)``.
See docs/geometry.md.

Example:
    >>> import jax
    >>> from pinnbalance.geometry import Disk, SpaceTime, interior_sampler
    >>> domain = SpaceTime(Disk((0.0, 0.0), 1.0), 0.0, 1.0)
    >>> interior_sampler(domain)(jax.random.PRNGKey(0), 8).shape
    (8, 3)
"""

from pinnbalance.geometry.ball import Ball, Disk
from pinnbalance.geometry.base import Geometry, Patch, Proposal
from pinnbalance.geometry.box import Box, Interval
from pinnbalance.geometry.csg import Difference, Intersection, Union
from pinnbalance.geometry.errors import EmptyGeometryError, GeometryError, TooFewPointsError
from pinnbalance.geometry.measure import Measure
from pinnbalance.geometry.named import Named
from pinnbalance.geometry.polygon import Polygon
from pinnbalance.geometry.samplers import boundary_sampler, interior_sampler, split_normal
from pinnbalance.geometry.spacetime import SpaceTime

__all__ = [
    "Ball",
    "Box",
    "Difference",
    "Disk",
    "EmptyGeometryError",
    "Geometry",
    "GeometryError",
    "Intersection",
    "Interval",
    "Measure",
    "Named",
    "Patch",
    "Polygon",
    "Proposal",
    "SpaceTime",
    "TooFewPointsError",
    "Union",
    "boundary_sampler",
    "interior_sampler",
    "split_normal",
]
