import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.nn import MLP, count_params, mlp_for, normalization
from pinnbalance.problems import Box, klein_gordon


def test_published_network_has_10401_parameters():
    net = mlp_for(klein_gordon().domain)
    params = net.init(jax.random.PRNGKey(0))
    assert net.layers == (2, 50, 50, 50, 50, 50, 1)
    assert count_params(params) == 10_401
    assert sum(p["W"].size for p in params) == 10_150 and sum(p["b"].size for p in params) == 251


def test_glorot_normal_std_and_zero_biases():
    net = MLP((300, 500, 1))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    w = np.asarray(params[0]["W"])
    assert abs(w.std() / np.sqrt(2 / 800) - 1) < 0.01
    assert abs(w.mean()) < 3 * np.sqrt(2 / 800) / np.sqrt(w.size)
    # untruncated: a normal sample this large has values beyond 2 std (truncation would cut them)
    assert (np.abs(w) > 2 * np.sqrt(2 / 800)).mean() > 0.04
    assert all(np.all(p["b"] == 0) for p in params)


def test_normalisation_exact_and_sampled():
    box = Box((0.0, -1.0), (1.0, 3.0), ("t", "x"))
    mean, std = normalization(box)
    np.testing.assert_allclose(mean, [0.5, 1.0])
    np.testing.assert_allclose(std, [1 / np.sqrt(12), 4 / np.sqrt(12)])
    smean, sstd = normalization(box, samples=100_000)
    np.testing.assert_allclose(smean, mean, atol=0.02)
    np.testing.assert_allclose(sstd, std, rtol=0.01)


def test_apply_matches_hand_written_forward_pass():
    net = MLP((2, 3, 1), "tanh", (0.5, 0.5), (0.25, 0.5))
    params = net.init(jax.random.PRNGKey(2), jnp.float64)
    z = np.array([0.2, 0.9])
    h = np.tanh(((z - 0.5) / np.array([0.25, 0.5])) @ np.asarray(params[0]["W"]))
    want = h @ np.asarray(params[1]["W"])
    np.testing.assert_allclose(net.apply(params, jnp.asarray(z)), want[0], rtol=1e-12)


def test_bad_architecture_errors():
    with pytest.raises(ValueError, match="unknown activation 'tahn'"):
        MLP((2, 3, 1), "tahn")
    with pytest.raises(ValueError, match="at least two"):
        MLP((2,))
    with pytest.raises(ValueError, match="input_mean has 3 entries"):
        MLP((2, 3, 1), input_mean=(0.0, 0.0, 0.0))
