"""PINNacle's problems: exact solutions make residuals vanish, boundary normals, reference data."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.problems import PROBLEMS, burgers_1d, ns_2d_lid, wave_1d
from pinnbalance.problems.base import residuals, sample_batch
from pinnbalance.problems.ns_2d_lid import file_reference
from pinnbalance.problems.wave_1d import exact_solution


def test_registered():
    assert {"burgers-1d", "poisson-2d-holes", "ns-2d-lid", "wave-1d"} <= set(PROBLEMS)


def test_wave_exact_solution_zeroes_every_term_in_float64():
    problem = wave_1d()
    batch = jax.jit(lambda k: sample_batch(problem, k, jnp.float64))(jax.random.PRNGKey(0))
    r = residuals(problem, exact_solution, batch)
    for name, values in r.items():
        assert float(jnp.max(jnp.abs(values))) < 1e-10, name
    points, values = problem.reference_data
    assert points.shape == (2500, 2) and points.min() == 0.01 and points.max() == 0.99  # 50 x 50 cell centres
    np.testing.assert_allclose(values, np.asarray(jax.vmap(exact_solution)(jnp.asarray(points))), atol=1e-12)


def test_wave_terms_see_their_conditions():
    problem = wave_1d()
    z = jnp.array([0.25, 0.0])
    assert float(problem.terms["ic"].residual(lambda p: 0.0 * p[0], z)) == pytest.approx(
        -(np.sin(np.pi / 4) + 0.5 * np.sin(np.pi))
    )
    assert float(problem.terms["ic_t"].residual(lambda p: p[1] * 3.0, z)) == pytest.approx(3.0)  # u_t = 3
    rows = jax.jit(lambda k: problem.terms["bc"].sampler(k, 64, jnp.float64))(jax.random.PRNGKey(1))
    x, n = rows[:, 0], rows[:, 2:]
    assert set(np.unique(np.asarray(x))) <= {0.0, 1.0}
    np.testing.assert_array_equal(n[:, 0], jnp.where(x == 0.0, -1.0, 1.0))  # outward


def test_burgers_terms_with_closed_forms():
    problem = burgers_1d()
    # u = -sin(pi x) meets the initial condition; u = 0 on the walls meets bc; a travelling
    # u = 1 + 0 * ... constant solves the PDE exactly (u_t = u_x = u_xx = 0)
    batch = jax.jit(lambda k: sample_batch(problem, k, jnp.float64))(jax.random.PRNGKey(0))
    r = residuals(problem, lambda z: -jnp.sin(jnp.pi * z[0]), batch)
    assert float(jnp.max(jnp.abs(r["ic"]))) < 1e-14 and float(jnp.max(jnp.abs(r["bc"]))) < 1e-14
    assert float(jnp.max(jnp.abs(residuals(problem, lambda z: 1.0 + 0.0 * z[0], batch)["res"]))) == 0.0
    # u = x / (1 + t) solves the inviscid and viscous equation alike (u_xx = 0)
    assert float(jnp.max(jnp.abs(residuals(problem, lambda z: z[0] / (1 + z[1]), batch)["res"]))) < 1e-14
    assert problem.reference_data[0].shape == (1111, 2) and problem.reference_data[1].shape == (1111,)


def test_ns_residuals_by_hand():
    problem = ns_2d_lid()
    field = lambda z: jnp.stack([z[1] ** 2, z[0] ** 2, z[0] * z[1]])  # noqa: E731  u = y^2, v = x^2, p = x y
    z = jnp.array([0.3, 0.7], jnp.float64)
    x, y, nu = 0.3, 0.7, 0.01
    assert float(problem.terms["mom_x"].residual(field, z)) == pytest.approx(x**2 * 2 * y + y - 2 * nu, rel=1e-12)
    assert float(problem.terms["mom_y"].residual(field, z)) == pytest.approx(y**2 * 2 * x + x - 2 * nu, rel=1e-12)
    assert float(problem.terms["continuity"].residual(field, z)) == 0.0
    lid_flow = lambda z: jnp.stack([4 * z[0] * (1 - z[0]) * z[1] ** 9, 0.0 * z[0], 3.0 + z[0]])  # noqa: E731
    batch = jax.jit(lambda k: sample_batch(problem, k, jnp.float64))(jax.random.PRNGKey(0))
    r = residuals(problem, lid_flow, batch)
    assert float(jnp.max(jnp.abs(r["lid_u"]))) < 1e-14 and float(jnp.max(jnp.abs(r["lid_v"]))) == 0.0
    assert float(jnp.max(jnp.abs(r["wall_v"]))) == 0.0 and float(r["gauge"][0, 0]) == 3.0  # p(0, 0) = 3
    walls = np.asarray(batch["wall_u"])
    assert np.all(walls[:, 1] < 1.0) and np.allclose(np.abs(walls[:, 2:]).sum(1), 1.0)
    np.testing.assert_allclose(np.asarray(r["wall_u"])[:, 0], 4 * walls[:, 0] * (1 - walls[:, 0]) * walls[:, 1] ** 9, atol=1e-14)


def test_ns_reference_meets_the_boundary_data():
    points, values = file_reference()
    assert points.shape == (10201, 2) and values.shape == (10201, 3)
    lid = points[:, 1] == 1.0
    interior_lid = lid & (points[:, 0] > 0) & (points[:, 0] < 1)
    lid_u = 4 * points[interior_lid, 0] * (1 - points[interior_lid, 0])
    np.testing.assert_allclose(values[interior_lid, 0], lid_u, atol=3e-4)  # the FE solution meets it to 2.7e-4 (near corners)
    np.testing.assert_allclose(values[lid, 1], 0.0, atol=3e-4)  # FE boundary values: met to ~1e-4
    walls = (points[:, 0] == 0.0) | (points[:, 0] == 1.0) | (points[:, 1] == 0.0)
    np.testing.assert_allclose(values[walls & ~lid, :2], 0.0, atol=3e-4)
    gauge = (points[:, 0] == 0.0) & (points[:, 1] == 0.0)
    assert abs(values[gauge, 2][0]) < 1e-6
