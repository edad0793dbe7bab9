"""Simple polygons in the plane: even-odd inside test, exact sampling by triangulation.

Interior points: the polygon is cut into triangles once (ear clipping, any simple polygon,
convex or not: a fan from one vertex only works for star-shaped ones); a triangle is picked
with probability proportional to its area, then a point uniform in it,
``A + u (B - A) + v (C - A)`` with ``(u, v)`` uniform on the unit square, reflected to
``(1 - u, 1 - v)`` when ``u + v > 1``. Boundary: edge ``i`` (from vertex i to i + 1) is the
piece ``edge_i`` of length ``|v_{i+1} - v_i|``; its outward normal is the edge direction
turned by -90 degrees for counter-clockwise vertices (+90 for clockwise). Area by the
shoelace formula ``|sum_i (x_i y_{i+1} - x_{i+1} y_i)| / 2``.

Example:
    >>> square = Polygon([(0, 0), (1, 0), (1, 1), (0, 1)])
    >>> square.measure().value, square.boundary_measure().value, square.pieces()
    (1.0, 4.0, ('edge_0', 'edge_1', 'edge_2', 'edge_3'))
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.geometry import arrays
from pinnbalance.geometry.base import Geometry, Patch, Proposal
from pinnbalance.geometry.box import check_names
from pinnbalance.geometry.errors import GeometryError
from pinnbalance.geometry.measure import Measure


def signed_area(v: np.ndarray) -> float:
    """Shoelace formula: positive for counter-clockwise vertices."""
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _cross(o: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def _segments_touch(p1, p2, q1, q2) -> bool:
    """Whether the closed segments p1p2 and q1q2 share a point (orientation tests, collinear overlap included)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True

    def on(a, b, c):  # c on segment ab, given collinear
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])

    return (
        (d1 == 0 and on(q1, q2, p1))
        or (d2 == 0 and on(q1, q2, p2))
        or (d3 == 0 and on(p1, p2, q1))
        or (d4 == 0 and on(p1, p2, q2))
    )


def check_simple(v: np.ndarray) -> None:
    """Raise ``GeometryError`` for zero-length edges, edges folding back, self-intersections or zero area."""
    k = len(v)
    for i in range(k):
        a, b, c = v[i], v[(i + 1) % k], v[(i + 2) % k]
        if np.array_equal(a, b):
            raise GeometryError(f"Polygon vertices {i} and {(i + 1) % k} coincide at {tuple(a)}; remove the repeat")
        if _cross(a, b, c) == 0 and np.dot(b - a, c - b) < 0:
            raise GeometryError(
                f"Polygon is degenerate: edges {i} and {(i + 1) % k} fold back onto each other at vertex {(i + 1) % k} (collinear vertices?)"
            )
    for i in range(k):
        for j in range(i + 2, k):
            if i == 0 and j == k - 1:
                continue  # adjacent through the closing vertex
            if _segments_touch(v[i], v[(i + 1) % k], v[j], v[(j + 1) % k]):
                raise GeometryError(f"Polygon is not simple: edge {i} meets edge {j}; give the vertices in boundary order")
    if abs(signed_area(v)) <= 1e-14 * float(np.max(np.abs(v))) ** 2:
        raise GeometryError("Polygon is degenerate: its area is zero (collinear vertices)")


def triangulate(v: np.ndarray) -> np.ndarray:
    """Ear clipping of a simple counter-clockwise polygon: ``(k - 2, 3)`` vertex indices (zero-area ears dropped)."""
    remaining, triangles = list(range(len(v))), []
    while len(remaining) > 3:
        for j in range(len(remaining)):
            a, b, c = remaining[j - 1], remaining[j], remaining[(j + 1) % len(remaining)]
            turn = _cross(v[a], v[b], v[c])
            if turn < 0:
                continue  # reflex vertex
            if turn > 0 and any(_in_closed_triangle(v[p], v[a], v[b], v[c]) for p in remaining if p not in (a, b, c)):
                continue
            if turn > 0:
                triangles.append((a, b, c))
            remaining.pop(j)
            break
        else:  # pragma: no cover - a simple polygon always has an ear (two-ears theorem)
            raise GeometryError("Polygon could not be triangulated; is it simple?")
    if _cross(*(v[i] for i in remaining)) > 0:
        triangles.append(tuple(remaining))
    return np.asarray(triangles, dtype=np.int64)


def _in_closed_triangle(p, a, b, c) -> bool:
    """``p`` in the closed counter-clockwise triangle abc: a vertex on an ear's diagonal blocks it
    (clipping there would leave a pinched polygon whose next ear can cross the outside)."""
    return _cross(a, b, p) >= 0 and _cross(b, c, p) >= 0 and _cross(c, a, p) >= 0


@dataclass(frozen=True)
class Polygon(Geometry):
    """The closed region bounded by ``vertices`` (in boundary order, either orientation; not repeated at the end)."""

    vertices: tuple[tuple[float, float], ...]
    names: tuple[str, ...] | None = None

    def __post_init__(self):
        try:
            v = np.asarray(self.vertices, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise GeometryError(f"Polygon vertices must be a sequence of (x, y) pairs, got {self.vertices!r}") from error
        if v.ndim != 2 or v.shape[1] != 2 or len(v) < 3 or not np.all(np.isfinite(v)):
            raise GeometryError(f"Polygon needs at least 3 finite (x, y) vertices, got an array of shape {v.shape}")
        check_simple(v)
        object.__setattr__(self, "vertices", tuple((float(x), float(y)) for x, y in v))
        object.__setattr__(self, "names", check_names(self.names, 2, "Polygon"))

    @property
    def _array(self) -> np.ndarray:
        return np.asarray(self.vertices, dtype=np.float64)

    def inside(self, points: jax.Array) -> jax.Array:
        """Even-odd rule: a ray towards +x crosses the boundary an odd number of times."""
        points = self.check_points(points)
        xp = arrays.namespace(points)
        v = xp.asarray(self._array, points.dtype)
        a, b = v, xp.roll(v, -1, axis=0)
        x, y = points[..., 0:1], points[..., 1:2]
        straddles = (a[:, 1] > y) != (b[:, 1] > y)
        dy = xp.where(straddles, b[:, 1] - a[:, 1], 1.0)
        x_cross = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / dy
        crossings = xp.sum(straddles & (x < x_cross), axis=-1)
        return crossings % 2 == 1

    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        v = self._array
        return tuple(float(c) for c in v.min(0)), tuple(float(c) for c in v.max(0))

    def area(self) -> float:
        return abs(signed_area(self._array))

    @functools.cached_property
    def triangles(self) -> np.ndarray:
        """The ear-clipping triangulation as corner coordinates, ``(k - 2, 3, 2)`` (counter-clockwise corners)."""
        v = self._array
        ccw = v if signed_area(v) > 0 else v[::-1]
        return ccw[triangulate(ccw)]

    def proposal(self) -> Proposal:
        tri = self.triangles
        ab, ac = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
        areas = 0.5 * np.abs(ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0])

        def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
            xp = arrays.namespace(key)
            k_tri, k_uv = arrays.split(key)
            corners = xp.asarray(tri, dtype)[arrays.categorical(k_tri, areas, n)]
            uv = arrays.uniform(k_uv, (n, 2), dtype)
            uv = xp.where(xp.sum(uv, -1, keepdims=True) > 1, 1 - uv, uv)
            a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
            return a + uv[:, :1] * (b - a) + uv[:, 1:] * (c - a)

        return Proposal(sample, self.area(), exact=True)

    def patches(self) -> tuple[Patch, ...]:
        v = self._array
        orientation = 1.0 if signed_area(v) > 0 else -1.0
        out = []
        for i in range(len(v)):
            a, b = v[i], v[(i + 1) % len(v)]
            length = float(np.linalg.norm(b - a))
            normal = orientation * np.array([b[1] - a[1], a[0] - b[0]]) / length
            out.append(Patch(f"edge_{i}", _edge_sampler(a, b, normal), Measure(length)))
        return tuple(out)


def _edge_sampler(a: np.ndarray, b: np.ndarray, normal: np.ndarray):
    def propose(key: jax.Array, n: int, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
        xp = arrays.namespace(key)
        s = arrays.uniform(key, (n, 1), dtype)
        start, end = xp.asarray(a, dtype), xp.asarray(b, dtype)
        return start + s * (end - start), xp.broadcast_to(xp.asarray(normal, dtype), (n, 2))

    return propose
