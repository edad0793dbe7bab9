"""A small Klein-Gordon case for the Levenberg-Marquardt tests, as a fixture."""

import jax
import jax.numpy as jnp
import pytest

from pinnbalance.nn import mlp_for
from pinnbalance.problems import klein_gordon, sample_batch


def kg_case(hidden=(10, 10), points=(200, 50, 50), key=0):
    problem = klein_gordon().with_batch_sizes(dict(zip(("res", "ics", "bcs"), points)))
    network = mlp_for(problem.domain, hidden=hidden)
    params = network.init(jax.random.PRNGKey(key), jnp.float64)
    return problem, network, params, sample_batch(problem, jax.random.PRNGKey(key + 1), jnp.float64)


@pytest.fixture
def kg():
    """``kg(hidden, points=(res, ics, bcs), key)`` -> problem, network, float64 params, points."""
    return kg_case
