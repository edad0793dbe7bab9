"""The dense and kernel damped steps are the ridge (Tikhonov) least-squares solution, and the same step."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from pinnbalance.lm import (
    DenseSolver,
    KernelSolver,
    LevenbergMarquardt,
    lm_init,
    lm_step,
    predicted_decrease,
)

HERE = Path(__file__).parent


@pytest.mark.parametrize("shape", [(6, 9), (9, 6)])
def test_dense_and_kernel_steps_are_the_ridge_solution(shape):
    rng = np.random.default_rng(0)
    J, r, mu = rng.normal(size=shape), rng.normal(size=shape[0]), 0.3
    # argmin ||r + J h||^2 + mu ||h||^2 as an ordinary least-squares problem [J; sqrt(mu) I] h = [-r; 0]
    stacked = np.concatenate([J, np.sqrt(mu) * np.eye(shape[1])])
    expected = np.linalg.lstsq(stacked, np.concatenate([-r, np.zeros(shape[1])]), rcond=None)[0]
    for solver in (DenseSolver, KernelSolver):
        h = solver.prepare(jnp.asarray(J), jnp.asarray(r)).step(mu)
        np.testing.assert_allclose(h, expected, atol=1e-12)
        decrease = np.sum(r**2) - np.sum((r + J @ np.asarray(h)) ** 2)
        np.testing.assert_allclose(predicted_decrease(h, J.T @ r, mu), decrease, rtol=1e-10)


def test_dense_and_kernel_solvers_take_the_same_lm_step(kg):
    problem, network, params, points = kg(hidden=(10, 10), points=(30, 10, 10))  # N = 70 < P = 151
    weights = {"res": 1.0, "ics": 10.0, "bcs": 10.0}
    steps = []
    for solver in ("dense", "kernel"):
        settings = LevenbergMarquardt(damping=1e-2, solver=solver)
        step = jax.jit(
            lambda p, s=settings: lm_step(problem, network, lm_init(problem, network, p, points, weights, s), points, weights, s)
        )
        steps.append(step(params))
    dense, kernel = (ravel_pytree(s.params)[0] for s in steps)
    assert not np.allclose(dense, ravel_pytree(params)[0])  # a step was taken
    np.testing.assert_allclose(dense, kernel, rtol=0, atol=1e-10)
    np.testing.assert_allclose(steps[0].damping, steps[1].damping, rtol=1e-10)
