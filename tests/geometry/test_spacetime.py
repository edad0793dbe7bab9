"""Space-time cylinders: coordinates, pieces, the initial slice t = t0 with normal -e_t, the
lateral pieces (spatial boundary x time) with normals (n_x, 0), measures as products."""

import math

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.geometry import Box, Disk, SpaceTime

KEY = jax.random.PRNGKey(11)


def test_disk_cylinder_pieces_normals_and_measures(chi_square):
    c, r, t0, t1 = np.array([1.0, 0.0]), 0.5, 0.0, 2.0
    cyl = SpaceTime(Disk(tuple(c), r), t0, t1)
    assert cyl.names == ("x", "y", "t") and cyl.dim == 3
    assert cyl.pieces() == ("initial", "final", "boundary")
    assert math.isclose(cyl.measure().value, math.pi * r**2 * (t1 - t0))
    assert math.isclose(cyl.boundary_measure("initial").value, math.pi * r**2)
    assert math.isclose(cyl.boundary_measure("boundary").value, 2 * math.pi * r * (t1 - t0))
    assert cyl.bounds() == ((0.5, -0.5, 0.0), (1.5, 0.5, 2.0))

    x, n = map(np.asarray, cyl.sample_boundary(KEY, 4000, jnp.float64, piece="initial"))
    assert np.all(x[:, 2] == t0) and np.all(n == [0.0, 0.0, -1.0])
    assert np.all(np.linalg.norm(x[:, :2] - c, axis=1) <= r)

    x, n = map(np.asarray, cyl.sample_boundary(KEY, 4000, jnp.float64, piece="boundary"))
    assert np.allclose(np.linalg.norm(x[:, :2] - c, axis=1), r) and np.all((x[:, 2] >= t0) & (x[:, 2] <= t1))
    assert np.allclose(n[:, :2], (x[:, :2] - c) / r) and np.all(n[:, 2] == 0.0)
    counts, _ = np.histogram(x[:, 2], bins=8, range=(t0, t1))
    ok, stat, bound = chi_square(counts, np.ones(8))  # uniform in time
    assert ok, (stat, bound)

    x, n = map(np.asarray, cyl.sample_boundary(KEY, 4000, jnp.float64))  # all pieces: shares by measure
    shares = [np.sum(n[:, 2] == -1), np.sum(n[:, 2] == 1), np.sum(n[:, 2] == 0)]
    ok, stat, bound = chi_square(shares, [math.pi * r**2, math.pi * r**2, 2 * math.pi * r * (t1 - t0)])
    assert ok, (stat, bound)


def test_interval_in_time_with_renamed_time_coordinate_and_inside():
    strip = SpaceTime(Box((0.0,), (1.0,)), 0.0, 1.0, time="s")
    assert strip.names == ("x", "s") and strip.pieces() == ("initial", "final", "x_min", "x_max")
    assert strip.inside(jnp.array([[0.5, 0.5], [0.5, 1.5], [1.5, 0.5]])).tolist() == [True, False, False]
    x, n = map(np.asarray, strip.sample_boundary(KEY, 4000, jnp.float64, piece=("x_min", "x_max")))
    assert np.all((x[:, 0] == 0) == (n[:, 0] == -1)) and np.all((x[:, 0] == 1) == (n[:, 0] == 1))
