"""Unions, intersections and differences against closed forms: a disk with four holes (area by
Monte Carlo vs pi r^2 - 4 pi rho^2, boundary points on the circles, normals outward from the
domain and so INTO the holes, piece shares by length), a lens and a two-disk union, an L-shape."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.geometry import Box, Disk

KEY = jax.random.PRNGKey(3)
R, RHO = 1.0, 0.15
CENTERS = np.array([(0.5, 0.0), (-0.5, 0.0), (0.0, 0.5), (0.0, -0.5)])
TOLERANCE = 4  # standard errors: a Monte-Carlo measure within 4 of the exact value (two-sided miss probability 6e-5)


@pytest.fixture(scope="module")
def plate():
    domain = Disk((0.0, 0.0), R)
    for c in CENTERS:
        domain = domain - Disk(tuple(c), RHO).named("holes")
    return domain


def test_area_of_disk_with_four_holes_by_monte_carlo(plate):
    exact = math.pi * R**2 - 4 * math.pi * RHO**2
    area = plate.measure()
    assert not area.exact and area.stderr / exact < 2e-3  # the stated precision of the default 2**18 proposals
    assert abs(area.value - exact) < TOLERANCE * area.stderr, (area, exact)
    assert plate.pieces() == ("boundary", "holes")
    assert math.isclose(plate.boundary_measure("holes").value, 4 * 2 * math.pi * RHO)  # holes lie inside: none trimmed away
    assert math.isclose(plate.boundary_measure("boundary").value, 2 * math.pi * R)


def test_boundary_points_lie_on_circles_with_normals_out_of_the_domain(plate, chi_square):
    x, n = map(np.asarray, plate.sample_boundary(KEY, 4000, jnp.float64))
    assert not np.any(np.isnan(x))
    outer = np.isclose(np.linalg.norm(x, axis=1), R, atol=1e-12)
    assert np.allclose(n[outer], x[outer] / R, atol=1e-12)
    distance = np.linalg.norm(x[:, None, :] - CENTERS[None], axis=2)  # (n, 4)
    hole = np.argmin(distance, axis=1)
    on_hole = np.isclose(distance[np.arange(len(x)), hole], RHO, atol=1e-12)
    assert np.all(outer ^ on_hole)  # every point on exactly one circle
    radial = (x[on_hole] - CENTERS[hole[on_hole]]) / RHO
    assert np.allclose(n[on_hole], -radial, atol=1e-12)  # outward from the domain = into the hole
    assert np.all(np.asarray(plate.inside(x[on_hole] - 1e-6 * n[on_hole])))  # stepping back from a hole is in the domain
    counts = [int(outer.sum())] + [int(np.sum(on_hole & (hole == k))) for k in range(4)]
    ok, stat, bound = chi_square(counts, [R] + [RHO] * 4)  # shares of length: 2 pi R and 2 pi rho each
    assert ok, (stat, bound)


def test_interior_points_avoid_the_holes_and_cover_the_disk(plate):
    x = np.asarray(plate.sample_interior(KEY, 4000, jnp.float64))
    assert np.all(np.linalg.norm(x, axis=1) <= R)
    assert np.all(np.linalg.norm(x[:, None] - CENTERS[None], axis=2) > RHO)
    fraction_in_ring = np.mean(np.linalg.norm(x, axis=1) > 0.9)  # ring 0.9 < |x| < 1 holds no hole
    expected = math.pi * (1 - 0.81) / (math.pi - 4 * math.pi * RHO**2)
    assert abs(fraction_in_ring - expected) < 4 * math.sqrt(expected * (1 - expected) / 4000)


def test_lens_and_two_disk_union_against_circle_geometry():
    """Unit disks at distance 1 meet at 60 degrees from the line of centres: each keeps an arc of
    4 pi / 3 in the union and gives an arc of 2 pi / 3 to the lens of area 2 pi / 3 - sqrt(3) / 2."""
    a, b = Disk((0.0, 0.0), 1.0), Disk((1.0, 0.0), 1.0)
    lens_area = 2 * math.pi / 3 - math.sqrt(3) / 2
    lens, union = a & b, a | b
    for shape, area, perimeter in [(lens, lens_area, 4 * math.pi / 3), (union, 2 * math.pi - lens_area, 8 * math.pi / 3)]:
        assert shape.measure().within(area, 4), (shape.measure(), area)
        assert shape.boundary_measure().within(perimeter, 4), (shape.boundary_measure(), perimeter)
    x, n = map(np.asarray, union.sample_boundary(KEY, 4000, jnp.float64))
    from_a = np.isclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-12)
    assert np.all(np.linalg.norm(x[from_a] - [1.0, 0.0], axis=1) >= 1.0)  # no point of a's circle inside b
    assert np.allclose(n[from_a], x[from_a]) and np.allclose(n[~from_a], x[~from_a] - [1.0, 0.0])


def test_l_shape_from_boxes_drops_the_face_the_notch_shares_with_the_outer_box():
    """[0,1]^2 minus [0.5,1]^2: perimeter 4; the notch's inner faces have normals +x and +y."""
    l_shape = Box((0.0, 0.0), (1.0, 1.0)) - Box((0.5, 0.5), (1.0, 1.0)).named("notch")
    assert l_shape.boundary_measure().within(4.0, 4) and l_shape.boundary_measure("notch").within(1.0, 4)
    x, n = map(np.asarray, l_shape.sample_boundary(KEY, 4000, jnp.float64, piece="notch"))
    plus_x = np.all(n == [1.0, 0.0], axis=1)
    assert np.all(plus_x | np.all(n == [0.0, 1.0], axis=1))
    assert np.allclose(x[plus_x, 0], 0.5) and np.all(x[plus_x, 1] >= 0.5)
    adjacent = Box((0.0, 0.0), (1.0, 1.0)) | Box((1.0, 0.0), (2.0, 1.0))  # the shared face x = 1 is interior
    assert adjacent.boundary_measure().within(6.0, 4)
