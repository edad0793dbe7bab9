"""Random weight factorisation: the same function at init, another parametrisation of it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import derivatives
from pinnbalance.nn import MLP, FourierFeatures, ModifiedMLP, count_params, init_dense, weight


def test_effective_weight_is_the_glorot_draw_it_was_factored_from():
    key = jax.random.PRNGKey(7)
    plain = init_dense(key, 5, 4, jnp.float64)
    fact = init_dense(key, 5, 4, jnp.float64, rwf=(1.0, 0.1))
    assert sorted(fact) == ["V", "b", "s"] and fact["s"].shape == (4,) and fact["V"].shape == (5, 4)
    # W = V diag(exp(s)): each output neuron's column of V is scaled by its own exp(s_j)
    np.testing.assert_allclose(np.asarray(fact["V"]) * np.exp(np.asarray(fact["s"]))[None, :], plain["W"], rtol=1e-14)
    np.testing.assert_allclose(weight(fact), plain["W"], rtol=1e-14)
    np.testing.assert_array_equal(fact["b"], 0.0)


def test_log_scales_are_normal_with_the_given_mean_and_spread():
    s = np.asarray(init_dense(jax.random.PRNGKey(0), 3, 20_000, jnp.float64, rwf=(0.5, 0.2))["s"])
    assert abs(s.mean() - 0.5) < 3 * 0.2 / np.sqrt(s.size)
    assert abs(s.std() / 0.2 - 1) < 0.02


@pytest.mark.parametrize(
    "plain, factorised",
    [
        (MLP((2, 6, 5, 1), input_mean=(0.5, 0.5)), MLP((2, 6, 5, 1), input_mean=(0.5, 0.5), rwf=(1.0, 0.1))),
        (ModifiedMLP((2, 6, 6, 1)), ModifiedMLP((2, 6, 6, 1), rwf=(1.0, 0.1))),
        (FourierFeatures((2, 6, 1), (1.0, 3.0), features=4), FourierFeatures((2, 6, 1), (1.0, 3.0), features=4, rwf=(1.0, 0.1))),
    ],
)
def test_every_architecture_computes_the_same_function_at_init(plain, factorised):
    key = jax.random.PRNGKey(3)
    p0, p1 = plain.init(key, jnp.float64), factorised.init(key, jnp.float64)
    for a, b in zip(p0, p1):
        np.testing.assert_allclose(weight(b), a["W"], rtol=1e-14)
    z = jnp.array([0.3, 0.8])
    np.testing.assert_allclose(factorised.apply(p1, z), plain.apply(p0, z), rtol=1e-12)
    # one extra number per output neuron of every layer
    assert count_params(p1) - count_params(p0) == sum(layer["b"].size for layer in p0)


def test_parameter_count_by_hand():
    # (2 -> 3): s 3 + V 6 + b 3; (3 -> 1): s 1 + V 3 + b 1
    assert count_params(MLP((2, 3, 1), rwf=(1.0, 0.1)).init(jax.random.PRNGKey(0))) == 12 + 5


def test_gradients_follow_the_chain_rule_through_the_factorisation():
    """dL/dV = dL/dW diag(exp(s)),  dL/ds_j = sum_i dL/dW_ij W_ij."""
    layer = init_dense(jax.random.PRNGKey(1), 3, 2, jnp.float64, rwf=(1.0, 0.1))
    x = jnp.array([0.3, -1.2, 0.7])

    def loss_w(W):
        return jnp.sum(jnp.tanh(x @ W + layer["b"]) ** 2)

    W = weight(layer)
    gW = jax.grad(loss_w)(W)
    g = jax.grad(lambda p: loss_w(weight(p)))(layer)
    np.testing.assert_allclose(g["V"], gW * jnp.exp(layer["s"]), rtol=1e-12)
    np.testing.assert_allclose(g["s"], jnp.sum(gW * W, axis=0), rtol=1e-12)


def test_mlp_fast_taylor_path_uses_the_effective_weights():
    net = MLP((2, 7, 7, 1), "tanh", (0.5, 0.5), (0.3, 0.4), rwf=(1.0, 0.1))
    params = net.init(jax.random.PRNGKey(5), jnp.float64)
    z = jnp.array([0.2, 0.7])
    fast = derivatives.axis_derivatives(net.field(params), z)
    generic = derivatives.axis_derivatives(lambda y: net.apply(params, y), z)
    for a, b in zip(fast, generic):
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("rwf, message", [((1.0,), "rwf must be None or \\(mu, sigma\\)"), ((1.0, -0.1), "must be >= 0")])
def test_bad_rwf_errors(rwf, message):
    with pytest.raises(ValueError, match=message):
        MLP((2, 3, 1), rwf=rwf)
