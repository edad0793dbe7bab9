"""The spectral-norm error ratio of the published cavity script against closed forms."""

import numpy as np
import pytest

from pinnbalance.metrics import relative_l2, relative_spectral_error


def test_spectral_ratio_of_rank_one_and_diagonal_grids():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=7), rng.normal(size=5)
    exact = np.outer(a, b)  # rank one: ||a b^T||_2 = |a| |b|
    error = np.diag([3.0, -4.0, 0.5, 0.0, 1.0])  # diagonal: the largest |entry|
    pred = exact.copy()
    pred[:5, :5] += error
    expected = 4.0 / (np.linalg.norm(a) * np.linalg.norm(b))
    assert relative_spectral_error(pred, exact) == pytest.approx(expected, rel=1e-12)


def test_spectral_ratio_is_below_the_l2_ratio_for_a_sign_changing_error():
    x = np.linspace(0.0, 1.0, 100)
    exact = np.ones((100, 100))  # ||.||_2 = ||.||_F = 100
    error = 0.01 * np.sign(np.sin(8 * np.pi * x))[:, None] * np.sign(np.sin(6 * np.pi * x))[None, :]
    # a +-0.01 checkerboard of rank one: spectral norm = Frobenius norm = 0.01 * 100 ...
    assert relative_spectral_error(exact + error, exact) == pytest.approx(float(relative_l2(exact + error, exact)), rel=1e-6)
    # ... but a random-sign error spreads over many singular values: its spectral norm is ~ 2 sqrt(n) * 0.01
    noise = 0.01 * np.random.default_rng(1).choice([-1.0, 1.0], size=(100, 100))
    spectral, l2 = relative_spectral_error(exact + noise, exact), float(relative_l2(exact + noise, exact))
    assert l2 == pytest.approx(0.01, rel=1e-6)
    assert 0.15 * l2 < spectral < 0.25 * l2  # 2 sqrt(100) * 0.01 / 100 = 0.2 * l2 (Marchenko-Pastur edge)


def test_spectral_ratio_rejects_non_grids():
    with pytest.raises(ValueError, match="2-D"):
        relative_spectral_error(np.ones(10), np.ones(10))
    with pytest.raises(ValueError, match="one shape"):
        relative_spectral_error(np.ones((3, 3)), np.ones((3, 4)))


def test_the_error_is_measured_on_the_domains_own_points_not_its_bounding_box():
    """A disk with a hole: the evaluation points are the grid points inside (none in the corners
    or the hole), so an error that lives only outside the domain is not counted."""
    import jax.numpy as jnp
    import numpy as np

    from pinnbalance.geometry import Disk, interior_sampler
    from pinnbalance.metrics import evaluation_grid
    from pinnbalance.problems import Problem, Term

    domain = Disk((0.0, 0.0), 1.0) - Disk((0.0, 0.0), 0.5)
    term = Term(lambda u, z: u(z), interior_sampler(domain), 16)
    problem = Problem("annulus", domain, {"res": term}, exact=lambda z: jnp.sum(z**2))
    points, exact = evaluation_grid(problem, 40, jnp.float64)  # no grid point on either circle
    radius = np.linalg.norm(np.asarray(points), axis=1)
    assert np.all(radius <= 1.0 + 1e-12) and np.all(radius >= 0.5 - 1e-12)
    grid = np.stack(np.meshgrid(np.linspace(-1, 1, 40), np.linspace(-1, 1, 40), indexing="ij"), -1).reshape(-1, 2)
    r = np.linalg.norm(grid, axis=1)
    assert np.min(np.abs(r - 1.0)) > 1e-5 and np.min(np.abs(r - 0.5)) > 1e-5
    assert len(points) == np.count_nonzero((r < 1.0) & (r > 0.5)) < 0.65 * 40**2  # area share 3pi/16 = 0.59
    np.testing.assert_allclose(np.asarray(exact), radius**2, rtol=1e-12)
