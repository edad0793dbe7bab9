"""Rejection sampling with fixed shapes: under jit, vmapped over keys (equal to a loop), the
shortfall flag (NaN rows under a trace, an error eagerly), the samplers' (n, 2 d) rows with
split_normal, and evaluation points (the inside of a grid, never the bounding box)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.geometry import Box, Disk, Polygon, TooFewPointsError, boundary_sampler, interior_sampler, split_normal
from pinnbalance.geometry.rejection import candidates_needed

ANNULUS = Disk((0.0, 0.0), 1.0) - Disk((0.0, 0.0), 0.5).named("inner")  # area 3 pi / 4, a quarter of proposals rejected


def test_rejection_under_jit_has_fixed_shapes_and_vmap_equals_a_loop():
    sample = interior_sampler(ANNULUS)
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    batched = jax.jit(jax.vmap(lambda k: sample(k, 256, jnp.float64)))(keys)
    assert batched.shape == (3, 256, 2) and not np.any(np.isnan(np.asarray(batched)))
    single = jax.jit(lambda k: sample(k, 256, jnp.float64))
    looped = np.stack([np.asarray(single(k)) for k in keys])
    np.testing.assert_allclose(
        np.asarray(batched), looped, rtol=1e-12, atol=1e-14
    )  # vmap may fuse differently: equal to rounding
    radius = np.linalg.norm(np.asarray(batched), axis=-1)
    assert np.all((radius > 0.5) & (radius <= 1.0))

    rows = jax.jit(lambda k: boundary_sampler(ANNULUS, "inner")(k, 256, jnp.float64))(keys[0])
    x, n = split_normal(rows)
    assert rows.shape == (256, 4) and np.allclose(np.linalg.norm(np.asarray(x), axis=1), 0.5)
    assert np.allclose(np.asarray(n), -np.asarray(x) / 0.5)  # into the hole


def test_oversample_follows_the_stated_formula():
    n, p = 1000, 0.75
    s = (6 + math.sqrt(36 + 4 * n)) / 2
    assert candidates_needed(n, p) == math.ceil(s * s / p)
    assert candidates_needed(n, 1.0) == n


def test_shortfall_is_nan_under_jit_and_an_error_eagerly():
    too_few = jax.jit(lambda k: ANNULUS.sample_interior(k, 256, jnp.float64, oversample=1.0))(jax.random.PRNGKey(1))
    missing = np.isnan(np.asarray(too_few)).any(axis=1)
    assert missing.any() and np.all(missing[np.argmax(missing) :])  # the first rows are points, the rest NaN
    with pytest.raises(TooFewPointsError, match="oversample"):
        ANNULUS.sample_interior(jax.random.PRNGKey(1), 256, jnp.float64, oversample=1.0)


def test_evaluation_points_are_the_grid_points_inside():
    disk = Disk((0.0, 0.0), 1.0)
    points = np.asarray(disk.evaluation_points(101, jnp.float64))
    grid = np.linspace(-1, 1, 101)
    expected = sum(1 for a in grid for b in grid if a * a + b * b <= 1.0)  # count by hand
    assert points.shape == (expected, 2) and np.all(np.linalg.norm(points, axis=1) <= 1.0)
    assert abs(expected / 101**2 - math.pi / 4) < 0.02  # a quarter-pi of the box
    assert Box((0.0, 0.0), (1.0, 2.0)).evaluation_points(5).shape == (25, 2)
    triangle = np.asarray(Polygon([(0, 0), (1, 0), (0, 1)]).evaluation_points(11, jnp.float64))
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 11), np.linspace(0, 1, 11)), -1).reshape(-1, 2)
    strictly_inside = grid[(grid > 1e-9).all(1) & (grid.sum(1) < 1 - 1e-9)]  # 36 points; boundary points may go either way
    assert len(strictly_inside) == 36 and {tuple(p) for p in strictly_inside.round(9)} <= {tuple(p) for p in triangle.round(9)}
    assert np.all(triangle.sum(1) <= 1 + 1e-9)
