"""The modified MLP (Wang, Teng & Perdikaris 2021): sizes, forward pass, presets M3/M4."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import derivatives
from pinnbalance.methods import METHODS
from pinnbalance.nn import ModifiedMLP, count_params
from pinnbalance.problems import klein_gordon


def test_parameter_count_by_hand():
    # encoders U, V: 2 (3*4 + 4); gate 1: 3*4 + 4; gate 2: 4*4 + 4; output: 4*2 + 2
    params = ModifiedMLP((3, 4, 4, 2)).init(jax.random.PRNGKey(0))
    assert count_params(params) == 2 * 16 + 16 + 20 + 10
    assert [p["W"].shape for p in params] == [(3, 4), (3, 4), (3, 4), (4, 4), (4, 2)]
    # the published (2, 50 x 5, 1): 3 (2*50 + 50) + 4 (50*50 + 50) + 50 + 1
    assert count_params(ModifiedMLP((2, *[50] * 5, 1)).init(jax.random.PRNGKey(0))) == 10_701


def numpy_forward(params, z, mean, std):
    """(1 - Z) U + Z V, by hand."""
    P = [{k: np.asarray(v) for k, v in p.items()} for p in params]
    x = (np.asarray(z) - mean) / std
    U = np.tanh(x @ P[0]["W"] + P[0]["b"])
    V = np.tanh(x @ P[1]["W"] + P[1]["b"])
    H = x
    for p in P[2:-1]:
        Z = np.tanh(H @ p["W"] + p["b"])
        H = (1 - Z) * U + Z * V
    return H @ P[-1]["W"] + P[-1]["b"]


def test_forward_pass_matches_hand_written_numpy():
    mean, std = np.array([0.5, -1.0]), np.array([0.3, 2.0])
    net = ModifiedMLP((2, 5, 5, 5, 1), "tanh", tuple(mean), tuple(std))
    params = net.init(jax.random.PRNGKey(4), jnp.float64)
    # non-zero biases, so that every bias enters the check
    keys = jax.random.split(jax.random.PRNGKey(9), len(params))
    params = [{**p, "b": 0.3 * jax.random.normal(k, p["b"].shape, jnp.float64)} for p, k in zip(params, keys)]
    for z in ([0.1, 0.2], [0.9, -3.0]):
        np.testing.assert_allclose(net.apply(params, jnp.array(z)), numpy_forward(params, z, mean, std)[0], rtol=1e-12)


def test_derivatives_are_physical_and_agree_with_reverse_mode():
    net = ModifiedMLP((2, 6, 6, 1), "tanh", (0.5, 0.5), (0.2, 0.4))
    params = net.init(jax.random.PRNGKey(1), jnp.float64)
    u, z = net.field(params), jnp.array([0.3, 0.6])
    _, grad, diag = derivatives.axis_derivatives(u, z)
    np.testing.assert_allclose(grad, jax.grad(u)(z), rtol=1e-12)
    np.testing.assert_allclose(diag, jnp.diag(jax.hessian(u)(z)), rtol=1e-10)


def test_encoder_biases_zero_or_glorot_as_published():
    h = 4000
    zeros = ModifiedMLP((2, h, 1)).init(jax.random.PRNGKey(0), jnp.float64)
    assert all(np.all(p["b"] == 0) for p in zeros)
    glorot = ModifiedMLP((2, h, 1), encoder_bias="glorot").init(jax.random.PRNGKey(0), jnp.float64)
    for p in glorot[:2]:  # xavier_init([1, h]) of the published code: std sqrt(2 / (1 + h))
        assert abs(np.std(p["b"]) / np.sqrt(2 / (1 + h)) - 1) < 0.05
    assert all(np.all(p["b"] == 0) for p in glorot[2:])
    np.testing.assert_array_equal(glorot[0]["W"], zeros[0]["W"])  # only the encoder biases differ


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"layers": (2, 5, 6, 1)}, "hidden widths must all be equal"),
        ({"layers": (2, 1)}, "input, hidden width"),
        ({"layers": (2, 5, 1), "activation": "tahn"}, "unknown activation 'tahn'"),
        ({"layers": (2, 5, 1), "encoder_bias": "xavier"}, "encoder_bias must be 'zeros' or 'glorot'"),
        ({"layers": (2, 5, 1), "input_std": (1.0,)}, "input_std has 1 entries"),
    ],
)
def test_bad_architecture_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ModifiedMLP(**kwargs)


def test_methods_m3_and_m4_use_the_published_sizes():
    problem = klein_gordon()
    for name in ("M3", "M4"):
        net = METHODS[name].network(problem)
        assert isinstance(net, ModifiedMLP) and net.layers == (2, 50, 50, 50, 50, 50, 1) and net.activation == "tanh"
        assert hash(net) == hash(METHODS[name].network(problem))
    assert type(METHODS["M3"].scheme(problem)).__name__ == "Constant"
    m4 = METHODS["M4"].scheme(problem)
    assert type(m4).__name__ == "LearningRateAnnealing" and m4.grad_of == "weighted" and m4.reference == "res"
