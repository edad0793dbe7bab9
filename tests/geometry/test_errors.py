"""Bad input fails at construction with an error type and a message naming the value and the fix."""

import jax
import jax.numpy as jnp
import pytest

from pinnbalance.geometry import (
    Ball,
    Box,
    Disk,
    EmptyGeometryError,
    GeometryError,
    Interval,
    Polygon,
    SpaceTime,
    boundary_sampler,
)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: Disk((0.0, 0.0), 0.0), "radius must be a positive"),
        (lambda: Ball((0.0, 0.0, 0.0), -1.0), "radius must be a positive"),
        (lambda: Disk((0.0, 0.0, 0.0), 1.0), "Disk center must have 2 coordinates"),
        (lambda: Interval(1.0, 1.0), "lower bound 1.0 must be below upper bound 1.0"),
        (lambda: Box((0.0, 0.0), (1.0,)), "as many lower as upper"),
        (lambda: Box((0.0, 0.0), (1.0, 1.0), ("x", "x")), "distinct coordinate names"),
        (lambda: Polygon([(0, 0), (1, 1), (2, 2)]), "degenerate"),
        (lambda: Polygon([(0, 0), (1, 0)]), "at least 3"),
        (lambda: Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), "not simple"),  # a bow tie
        (lambda: Polygon([(0, 0), (1, 0), (1, 0), (0, 1)]), "coincide"),
        (lambda: Disk((0.0, 0.0), 1.0) - Ball((0.0, 0.0, 0.0), 0.5), "share their coordinates"),
        (lambda: Disk((0.0, 0.0), 1.0) - Disk((5.0, 0.0), 0.5), "outside the domain"),
        (lambda: SpaceTime(Disk((0.0, 0.0), 1.0), 1.0, 0.0), "t0 < t1"),
        (lambda: SpaceTime(Box((0.0, 0.0), (1.0, 1.0), ("x", "t")), 0.0, 1.0), "already a spatial coordinate"),
    ],
)
def test_bad_shapes_raise_geometry_errors(build, match):
    with pytest.raises(GeometryError, match=match):
        build()


def test_empty_interiors_are_detected_by_bounds_and_by_sampling():
    with pytest.raises(EmptyGeometryError, match="do not overlap"):
        Disk((0.0, 0.0), 1.0) & Disk((3.0, 0.0), 1.0)
    with pytest.raises(EmptyGeometryError, match="empty interior"):  # boxes overlap, disks do not (corners)
        Disk((0.0, 0.0), 1.0) & Disk((1.8, 1.8), 1.0)
    with pytest.raises(EmptyGeometryError, match="empty interior"):  # the hole swallows the domain
        Disk((0.0, 0.0), 1.0) - Box((-2.0, -2.0), (2.0, 2.0))


def test_a_hole_that_misses_the_domain_inside_its_bounding_box_is_an_error():
    with pytest.raises(GeometryError, match="does not meet the domain"):
        Disk((0.0, 0.0), 1.0) - Disk((0.9, 0.9), 0.2)  # in the bounding box's corner, outside the circle


def test_unknown_piece_and_wrong_point_dimension_name_the_valid_values():
    with pytest.raises(KeyError, match=r"x_min"):
        boundary_sampler(Box((0.0, 0.0), (1.0, 1.0)), "left")
    with pytest.raises(KeyError, match="cannot rename unknown"):
        Disk((0.0, 0.0), 1.0).named({"outer": "wall"})
    with pytest.raises(GeometryError, match="2 coordinates"):
        Disk((0.0, 0.0), 1.0).inside(jnp.zeros((4, 3)))
    with pytest.raises(GeometryError, match="2 coordinates"):
        jax.jit(Disk((0.0, 0.0), 1.0).inside)(jnp.zeros((4, 3)))
