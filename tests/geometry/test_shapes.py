"""Boxes, intervals, balls and polygons against closed forms: inside tests on hand-picked points,
measures, boundary points and outward normals, uniformity of interior and boundary draws."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.geometry import Ball, Box, Disk, Interval, Polygon

KEY = jax.random.PRNGKey(7)
F64 = jnp.float64


def test_box_inside_measures_pieces_and_normals(chi_square):
    box = Box((0.0, -1.0), (2.0, 1.0))
    points = jnp.array([[1.0, 0.0], [0.0, -1.0], [2.0001, 0.0], [1.0, 1.5]])
    assert box.inside(points).tolist() == [True, True, False, False]
    assert box.measure().value == 4.0 and box.measure().exact
    assert box.pieces() == ("x_min", "x_max", "y_min", "y_max")
    assert [box.boundary_measure(p).value for p in box.pieces()] == [2.0, 2.0, 2.0, 2.0]
    assert box.mean() == (1.0, 0.0) and np.allclose(box.std(), (2 / math.sqrt(12),) * 2)
    x, n = box.sample_boundary(KEY, 4000, F64)
    on_face = {  # which face each point lies on, from its normal, and the face equation it must satisfy
        "x_min": (n[:, 0] == -1) & (x[:, 0] == 0.0),
        "x_max": (n[:, 0] == 1) & (x[:, 0] == 2.0),
        "y_min": (n[:, 1] == -1) & (x[:, 1] == -1.0),
        "y_max": (n[:, 1] == 1) & (x[:, 1] == 1.0),
    }
    assert int(sum(np.asarray(m).sum() for m in on_face.values())) == 4000
    ok, stat, bound = chi_square([int(m.sum()) for m in on_face.values()], [1, 1, 1, 1])  # equal side lengths
    assert ok, (stat, bound)


def test_interval_ends_have_unit_count_and_normals_plus_minus_one():
    line = Interval(-1.0, 3.0, name="t")
    assert line.names == ("t",) and line.pieces() == ("t_min", "t_max")
    assert line.measure().value == 4.0 and line.boundary_measure().value == 2.0
    x, n = line.sample_boundary(KEY, 50, F64, piece="t_min")
    assert np.all(np.asarray(x) == -1.0) and np.all(np.asarray(n) == -1.0)
    assert line.inside(jnp.array([[-1.0], [3.0], [3.5]])).tolist() == [True, True, False]


def test_ball_measures_follow_the_gamma_formulas():
    for d, volume, surface in [
        (1, 2.0, 2.0),
        (2, math.pi, 2 * math.pi),
        (3, 4 * math.pi / 3, 4 * math.pi),
        (4, math.pi**2 / 2, 2 * math.pi**2),
    ]:
        r = 1.5
        ball = Ball((0.0,) * d, r)
        assert math.isclose(ball.measure().value, volume * r**d)
        assert math.isclose(ball.boundary_measure().value, surface * r ** (d - 1))


def test_disk_boundary_points_and_normals_and_uniform_angle(chi_square):
    c, r = np.array([0.3, -0.2]), 0.7
    disk = Disk(tuple(c), r)
    x, n = disk.sample_boundary(KEY, 6000, F64)
    x, n = np.asarray(x), np.asarray(n)
    assert np.allclose(np.linalg.norm(x - c, axis=1), r, atol=1e-12)
    assert np.allclose(n, (x - c) / r, atol=1e-12)
    angles = np.arctan2(x[:, 1] - c[1], x[:, 0] - c[0])
    counts, _ = np.histogram(angles, bins=12, range=(-math.pi, math.pi))
    ok, stat, bound = chi_square(counts, np.ones(12))
    assert ok, (stat, bound)
    assert disk.inside(jnp.array([[1.0, -0.2], [1.0001, -0.2], [0.3, 0.5]])).tolist() == [True, False, True]


def test_ball_interior_radius_law_in_three_dimensions(chi_square):
    """Uniform in a 3-ball: P(|x| <= s) = (s / r)^3, so radius shells [k/4, (k+1)/4] r hold ((k+1)^3 - k^3) / 64."""
    ball = Ball((0.0, 0.0, 0.0), 2.0)
    x = np.asarray(ball.sample_interior(KEY, 8000, F64))
    assert np.all(np.asarray(ball.inside(x)))
    counts, _ = np.histogram(np.linalg.norm(x, axis=1) / 2.0, bins=4, range=(0, 1))
    ok, stat, bound = chi_square(counts, [(k + 1) ** 3 - k**3 for k in range(4)])
    assert ok, (stat, bound)
    octants = np.unique((x > 0) @ np.array([1, 2, 4]), return_counts=True)[1]
    ok, stat, bound = chi_square(octants, np.ones(8))
    assert ok, (stat, bound)


L_SHAPE = [(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)]  # [0,2]^2 without the square [1,2]x[1,2]; counter-clockwise


def test_polygon_inside_area_perimeter_for_a_non_convex_l_shape():
    for vertices in (L_SHAPE, L_SHAPE[::-1]):  # either orientation
        poly = Polygon(vertices)
        inside = poly.inside(jnp.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5], [-0.1, 0.5], [2.5, 0.5]]))
        assert inside.tolist() == [True, True, True, False, False, False]
        assert poly.measure().value == 3.0 and poly.boundary_measure().value == 8.0
        tri = poly.triangles
        areas = 0.5 * np.abs(
            (tri[:, 1, 0] - tri[:, 0, 0]) * (tri[:, 2, 1] - tri[:, 0, 1])
            - (tri[:, 1, 1] - tri[:, 0, 1]) * (tri[:, 2, 0] - tri[:, 0, 0])
        )
        assert len(tri) == 4 and math.isclose(areas.sum(), 3.0)


def test_polygon_interior_is_uniform_over_unit_cells(chi_square):
    """The L-shape is three unit squares; cut each into quadrants: 12 cells of equal probability 1/12."""
    x = np.asarray(Polygon(L_SHAPE).sample_interior(KEY, 12000, F64))
    cell = np.floor(x * 2).astype(int)  # half-unit cells
    ids, counts = np.unique(cell[:, 0] * 4 + cell[:, 1], return_counts=True)
    expected = {i * 4 + j for i in range(4) for j in range(4) if not (i >= 2 and j >= 2)}
    assert set(ids.tolist()) == expected
    ok, stat, bound = chi_square(counts, np.ones(12))
    assert ok, (stat, bound)


def test_polygon_edges_normals_point_outward_and_pieces_follow_lengths(chi_square):
    poly = Polygon(L_SHAPE[::-1])  # clockwise: normals must still point out
    lengths = [poly.boundary_measure(p).value for p in poly.pieces()]
    assert lengths == [1.0, 1.0, 1.0, 1.0, 2.0, 2.0]  # edges (0,2)-(1,2), ..., (2,0)-(0,0), (0,0)-(0,2)
    x, n = poly.sample_boundary(KEY, 8000, F64)
    eps = 1e-6
    assert not np.any(np.asarray(poly.inside(x + eps * n))) and np.all(np.asarray(poly.inside(x - eps * n)))
    assert np.allclose(np.linalg.norm(np.asarray(n), axis=1), 1.0)
    counts = [int(np.sum(np.all(np.asarray(n) == u, axis=1))) for u in ([-1, 0], [0, -1], [1, 0], [0, 1])]
    ok, stat, bound = chi_square(counts, [2, 2, 2, 2])  # per direction: total edge length 2 each
    assert ok, (stat, bound)
