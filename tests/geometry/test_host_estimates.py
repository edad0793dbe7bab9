"""The Monte-Carlo counts on the host: NumPy and JAX agree on ``inside``, the host draws follow
the shapes' laws, measures match closed forms within their error, the counts are fixed, and
building and measuring a CSG geometry compiles nothing (it compiled ~76 programs, ~30 s)."""

import contextlib
import doctest
import importlib
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.geometry import Ball, Box, Disk, Polygon, SpaceTime
from pinnbalance.problems.poisson_2d_holes import holed_square


def close(measure, exact) -> bool:
    """Within 4 standard errors (and rounding: a count where every proposal landed has stderr 0)."""
    return abs(measure.value - exact) <= 4 * measure.stderr + 1e-12 * abs(exact)


L_SHAPE = Polygon([(0, 0), (2, 0), (2, 1), (1, 1), (1, 2), (0, 2)])  # three unit cells, area 3


@contextlib.contextmanager
def compiles():
    """The names of the XLA programs compiled in the block."""
    names = []

    def listen(event, seconds, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            names.append(kwargs.get("fun_name"))

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


SHAPES = {
    "box": Box((0.0, -1.0), (2.0, 1.0)),
    "ball": Ball((0.0, 0.0, 1.0), 1.5),
    "l-shape": L_SHAPE,
    "union": Disk((0.0, 0.0), 1.0) | Disk((1.0, 0.0), 1.0),
    "lens": Disk((0.0, 0.0), 1.0) & Disk((1.0, 0.0), 1.0),
    "holed": holed_square(),
    "cylinder": SpaceTime(Disk((0.0, 0.0), 1.0) - Disk((0.3, 0.0), 0.2), 0.0, 1.0),
}


@pytest.mark.parametrize("name", SHAPES)
def test_inside_on_numpy_points_is_numpy_and_agrees_with_jax(name):
    geom = SHAPES[name]
    lower, upper = (np.asarray(b) for b in geom.bounds())
    points = lower - 0.2 + (upper - lower + 0.4) * np.random.default_rng(0).random((4096, geom.dim))
    host = geom.inside(points)
    assert isinstance(host, np.ndarray) and host.dtype == bool and host.shape == (4096,)
    np.testing.assert_array_equal(host, np.asarray(geom.inside(jnp.asarray(points))))
    assert 0 < host.sum() < 4096


def test_inside_on_numpy_by_hand():
    assert L_SHAPE.inside(np.array([[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5], [2.5, 0.5]])).tolist() == [
        True,
        True,
        True,
        False,  # the notch
        False,
    ]
    holed = SHAPES["holed"]
    assert holed.inside(np.array([[0.0, 0.0], [0.3, 0.3], [0.3, 0.41], [-0.3, -0.19], [0.5, 0.5]])).tolist() == [
        True,
        False,  # a hole's centre
        True,  # just outside a hole (radius 0.1)
        True,
        True,  # the closed square's corner
    ]


def test_host_draws_follow_the_shapes_laws(chi_square):
    rng = np.random.default_rng(7)
    n = 20_000
    disk = Disk((1.0, -1.0), 2.0)
    points = disk.proposal().sample(rng, n, np.float32)
    assert isinstance(points, np.ndarray) and points.dtype == np.float32 and points.shape == (n, 2)
    r2 = np.sum((points - np.array([1.0, -1.0])) ** 2, axis=1) / 4.0  # (r / R)^2 is uniform on [0, 1]
    ok, stat, bound = chi_square(np.histogram(r2, bins=10, range=(0, 1))[0], np.ones(10))
    assert ok, (stat, bound)
    cells = L_SHAPE.proposal().sample(rng, n, np.float32)
    cell = np.floor(cells[:, 0]).astype(int) + 2 * np.floor(cells[:, 1]).astype(int)  # cells 0, 1, 2 (3 is the notch)
    ok, stat, bound = chi_square(np.bincount(cell, minlength=4)[:3], np.ones(3))
    assert ok and not np.any(cell == 3), (stat, bound)
    [circle] = disk.patches()
    x, normal = circle.propose(rng, n, np.float32)
    np.testing.assert_allclose(np.linalg.norm(x - np.array([1.0, -1.0]), axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(normal, (x - np.array([1.0, -1.0])) / 2.0, atol=1e-6)
    x_max = Box((0.0, 0.0, 0.0), (1.0, 2.0, 3.0)).patches()[1]
    x, normal = x_max.propose(rng, 100, np.float32)
    assert np.all(x[:, 0] == 1.0) and np.all(normal == np.array([1.0, 0.0, 0.0]))


def test_measures_of_a_disk_minus_an_overlapping_disk_match_the_closed_forms():
    # Unit disks at distance 1 cross at (1/2, +-sqrt(3)/2): the lens is 2 pi / 3 - sqrt(3) / 2,
    # the hole's arc inside the domain spans 120 degrees, the outer circle keeps 240 degrees.
    bitten = Disk((0.0, 0.0), 1.0) - Disk((1.0, 0.0), 1.0).named("bite")
    assert close(bitten.measure(), math.pi / 3 + math.sqrt(3) / 2)
    assert close(bitten.boundary_measure("bite"), 2 * math.pi / 3)
    assert close(bitten.boundary_measure("boundary"), 4 * math.pi / 3)
    assert 0 < bitten.measure().stderr < 4e-3  # pi sqrt(p (1 - p) / 2**18), p ~ 0.61: the check is tight


def test_holed_square_measures_are_fixed_and_right():
    area, holes = 1.0 - 4 * math.pi * 0.1**2, 4 * 2 * math.pi * 0.1
    first = holed_square()
    measured = (first.measure(), first.boundary_measure("holes"), first.boundary_measure("outer"))
    assert close(measured[0], area) and measured[0].samples == 2**18
    assert close(measured[1], holes) and close(measured[2], 4.0)
    again = holed_square()  # counts asked in the other order: each has its own fixed seed
    assert (again.boundary_measure("outer"), again.boundary_measure("holes"), again.measure()) == measured[::-1]


def test_building_and_measuring_compile_nothing():
    with compiles() as names:
        holed = holed_square()
        holed.measure(), holed.boundary_measure("holes")
        bitten = L_SHAPE - Disk((1.0, 1.0), 0.5)
        bitten.measure(), bitten.boundary_measure()
    assert names == []
    assert close(bitten.measure(), 3.0 - 3 * math.pi * 0.25 / 4)  # the disk covers 3 of the 4 quarters at (1, 1)


def test_eager_sampling_is_one_program_and_equals_jit():
    ring, key = Disk((0.0, 0.0), 1.0) - Disk((0.2, 0.0), 0.5).named("hole"), jax.random.PRNGKey(0)
    with compiles() as names:
        points, normals = ring.sample_boundary(key, 48, jnp.float32, piece="hole")
        ring.sample_boundary(key, 48, jnp.float32, piece="hole")
    assert len(names) == 1 and "_boundary_mixture" in names[0], names  # once: the second call reuses it
    np.testing.assert_allclose(np.linalg.norm(points - np.array([0.2, 0.0]), axis=1), 0.5, rtol=1e-5)
    jitted = jax.jit(lambda k: ring.sample_boundary(k, 48, jnp.float32, piece="hole"))(key)
    np.testing.assert_array_equal(points, jitted[0])
    np.testing.assert_array_equal(normals, jitted[1])


def test_a_cylinder_drilled_through_counts_its_trimmed_time_slices_on_the_host():
    drilled = SpaceTime(Disk((0.0, 0.0), 1.0), 0.0, 1.0) - Box((-0.2, -0.2, -1.0), (0.2, 0.2, 2.0), ("x", "y", "t")).named(
        "shaft"
    )
    with compiles() as names:
        initial, shaft = drilled.boundary_measure("initial"), drilled.boundary_measure("shaft")
    assert names == []
    assert close(initial, math.pi - 0.4**2) and initial.stderr > 0  # the disk less the square at t = 0
    assert close(shaft, 4 * 0.4 * 1.0)  # the four side walls within 0 <= t <= 1; the ends lie outside
    assert close(drilled.measure(), math.pi - 0.4**2)


@dataclass(frozen=True)
class JaxOnlyBox(Box):
    """A user's shape whose sampler calls ``jax.random`` directly (it cannot take a NumPy generator)."""

    def _uniform(self, key, n, dtype=jnp.float32):
        lo, hi = jnp.asarray(self.lower, dtype), jnp.asarray(self.upper, dtype)
        return lo + (hi - lo) * jax.random.uniform(key, (n, self.dim), dtype)


def test_a_jax_only_sampler_is_drawn_eagerly_in_jax():
    plate = JaxOnlyBox((0.0, 0.0), (2.0, 1.0)) - Disk((1.0, 0.5), 0.25).named("hole")
    assert close(plate.measure(), 2.0 - math.pi / 16)
    assert close(plate.boundary_measure("hole"), math.pi / 2) and close(plate.boundary_measure("x_min"), 1.0)
    assert plate.sample_interior(jax.random.PRNGKey(0), 32).shape == (32, 2)


@pytest.mark.parametrize("module", ["arrays", "estimate"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(f"pinnbalance.geometry.{module}"))
    assert result.attempted > 0 and result.failed == 0
