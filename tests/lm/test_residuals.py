"""The weighted residual vector is the weighted PINN loss; the per-point Jacobian is its full Jacobian."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from pinnbalance.lm import (
    jacobian,
    residual_vector,
)
from pinnbalance.losses import term_losses, weighted_sum

HERE = Path(__file__).parent


def test_squared_residual_vector_is_the_weighted_loss(kg):
    problem, network, params, points = kg(hidden=(8,), points=(40, 20, 10))
    weights = {"res": 1.0, "ics": 7.5, "bcs": 0.3}
    r = jax.jit(lambda p: residual_vector(problem, network, p, points, weights))(params)
    assert r.shape == (40 + 20 * 2 + 10 * 2,)
    expected = jax.jit(lambda p: weighted_sum(term_losses(problem, network, p, points), weights))(params)
    np.testing.assert_allclose(jnp.sum(r**2), expected, rtol=1e-12)


@pytest.mark.parametrize("batch_size", [None, 3])  # 3: lax.map in batches, with a remainder
def test_per_point_jacobian_equals_jacrev_of_the_whole_vector(kg, batch_size):
    problem, network, params, points = kg(hidden=(4,), points=(7, 5, 4))
    weights = {"res": 1.0, "ics": 3.0, "bcs": 0.5}
    flat, unravel = ravel_pytree(params)
    expected = jax.jit(jax.jacrev(lambda t: residual_vector(problem, network, unravel(t), points, weights)))(flat)
    J = jax.jit(lambda p: jacobian(problem, network, p, points, weights, batch_size=batch_size))(params)
    assert J.shape == (7 + 5 * 2 + 4 * 2, flat.size)
    np.testing.assert_allclose(J, expected, rtol=0, atol=1e-12 * float(jnp.max(jnp.abs(expected))))
