"""The Cole-Hopf solution of Burgers: converged quadrature, the PDE, the data, and PINNacle's file."""

import math

import numpy as np
import pytest

from pinnbalance.problems.burgers_1d import exact_reference, file_reference
from pinnbalance.problems.cole_hopf import NU, cole_hopf

rng = np.random.default_rng(0)
X, T = rng.uniform(-1, 1, 400), rng.uniform(0.05, 1, 400)


def test_quadrature_converged_to_1e_10():
    assert np.max(np.abs(cole_hopf(X, T) - cole_hopf(X, T, nodes=8001))) < 1e-10


def test_initial_and_boundary_data():
    x = np.linspace(-1, 1, 21)
    np.testing.assert_allclose(cole_hopf(x, np.zeros_like(x)), -np.sin(np.pi * x), atol=1e-15)
    np.testing.assert_allclose(cole_hopf(x, np.full_like(x, 1e-4)), -np.sin(np.pi * x), atol=2e-3)  # continuous at t = 0
    t = np.linspace(0.1, 1, 10)
    assert np.max(np.abs(cole_hopf(np.ones_like(t), t))) < 1e-12 and np.max(np.abs(cole_hopf(-np.ones_like(t), t))) < 1e-12
    np.testing.assert_allclose(cole_hopf(-X, T), -cole_hopf(X, T), atol=1e-12)  # odd in x


def test_pde_residual_by_finite_differences():
    # smooth region: central differences, h = 3e-4 (truncation ~ h^2 |u_xxxx| ~ 1e-6, rounding ~ 1e-13 / h^2)
    x, t = rng.uniform(-0.9, -0.2, 50), rng.uniform(0.1, 0.9, 50)
    h = 3e-4
    u = cole_hopf(x, t)
    u_t = (cole_hopf(x, t + h) - cole_hopf(x, t - h)) / (2 * h)
    u_x = (cole_hopf(x + h, t) - cole_hopf(x - h, t)) / (2 * h)
    u_xx = (cole_hopf(x + h, t) - 2 * u + cole_hopf(x - h, t)) / h**2
    residual = u_t + u * u_x - NU * u_xx
    assert np.max(np.abs(residual)) < 1e-5 * np.max(np.abs(u_t))


def test_pde_residual_near_the_shock():
    # at the shock (x ~ 0, t = 0.5) u_x ~ -150: finer steps, still a tiny residual relative to u u_x
    x, t, h = np.array([-0.01, 0.004, 0.02]), np.array([0.5, 0.6, 0.8]), 1e-4
    u = cole_hopf(x, t)
    u_t = (cole_hopf(x, t + h) - cole_hopf(x, t - h)) / (2 * h)
    u_x = (cole_hopf(x + h, t) - cole_hopf(x - h, t)) / (2 * h)
    u_xx = (cole_hopf(x + h, t) - 2 * u + cole_hopf(x - h, t)) / h**2
    assert np.max(np.abs(u_x)) > 10
    assert np.max(np.abs(u_t + u * u_x - NU * u_xx)) < 1e-3 * np.max(np.abs(u * u_x))


def test_pinnacle_file_is_1_33e_2_off_the_exact_solution():
    points, file_u = file_reference()
    _, exact = exact_reference()
    assert points.shape == (1111, 2) and file_u.shape == (1111,)
    l2re = math.sqrt(np.mean((file_u - exact) ** 2)) / math.sqrt(np.mean(exact**2))
    assert l2re == pytest.approx(1.33e-2, abs=5e-4)
    worst = np.argmax(np.abs(file_u - exact))
    assert np.abs(file_u - exact)[worst] == pytest.approx(0.088, abs=1e-3)
    assert points[worst, 1] == pytest.approx(0.4) and abs(points[worst, 0]) < 0.05  # at the shock
