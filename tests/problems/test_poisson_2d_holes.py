"""PINNacle's Poisson 2d-C: boundary normals of the holed square, and the reference data."""

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.problems import poisson_2d_holes
from pinnbalance.problems.base import residuals
from pinnbalance.problems.poisson_2d_holes import CENTRES, RADIUS, file_reference


def test_poisson_normals_and_pieces():
    problem = poisson_2d_holes()
    holes = problem.terms["holes"].sampler(jax.random.PRNGKey(0), 256, jnp.float64)
    x, n = np.asarray(holes[:, :2]), np.asarray(holes[:, 2:])
    centre = np.array(CENTRES)[np.argmin(((x[:, None] - np.array(CENTRES)) ** 2).sum(-1), axis=1)]
    np.testing.assert_allclose(np.linalg.norm(x - centre, axis=1), RADIUS, atol=1e-12)
    np.testing.assert_allclose(n, -(x - centre) / RADIUS, atol=1e-12)  # out of the domain: into the hole
    outer = np.asarray(problem.terms["outer"].sampler(jax.random.PRNGKey(1), 256, jnp.float64))
    x, n = outer[:, :2], outer[:, 2:]
    assert np.allclose(np.max(np.abs(x), axis=1), 0.5)
    np.testing.assert_allclose(n, np.where(np.abs(x) == 0.5, np.sign(x), 0.0))
    inside = np.asarray(problem.terms["res"].sampler(jax.random.PRNGKey(2), 512, jnp.float64))
    assert np.all(((inside[:, None] - np.array(CENTRES)) ** 2).sum(-1) > RADIUS**2)
    batch = {"res": inside, "outer": outer, "holes": holes}
    r = residuals(problem, lambda z: 1.0 + z[0] * z[1] + z[0] ** 2 - z[1] ** 2, batch)  # harmonic
    assert float(jnp.max(jnp.abs(r["res"]))) < 1e-12


def test_poisson_reference_meets_the_boundary_data():
    points, values = file_reference()
    assert points.shape == (1246, 2) and values.shape == (1246,)
    on_square = np.isclose(np.max(np.abs(points), axis=1), 0.5)
    on_circle = np.isclose(np.min(np.linalg.norm(points[:, None] - np.array(CENTRES), axis=-1), axis=1), RADIUS, atol=1e-6)
    assert on_square.sum() > 50 and on_circle.sum() > 20
    np.testing.assert_allclose(values[on_square], 1.0, atol=1e-6)
    np.testing.assert_allclose(values[on_circle], 0.0, atol=1e-6)
