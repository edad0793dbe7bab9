"""``[network] normalization = "none"``: the network sees the coordinates as they are, as DeepXDE's FNN
(and so PINNacle's protocol) does; checked against a forward pass written out by hand."""

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = [
    ROOT / f"configs/pinnacle/poisson-2d-holes-{m}.toml" for m in ("constant", "lr-annealing", "lr-annealing-pinnacle", "ntk")
]


def forward(params, z):
    """tanh layers then a linear output, on the raw point ``z``: u = W_L^T tanh(... tanh(W_1^T z + b_1) ...) + b_L."""
    h = np.asarray(z)
    for layer in params[:-1]:
        h = np.tanh(h @ np.asarray(layer["W"]) + np.asarray(layer["b"]))
    return (h @ np.asarray(params[-1]["W"]) + np.asarray(params[-1]["b"]))[0]


def test_none_feeds_the_raw_coordinates():
    config = load(PROTOCOL[0], ["network.hidden=[7, 5]"])
    network = config.build_network(config.build_problem())
    assert network.input_mean is None and network.input_std is None
    params = network.init(jax.random.PRNGKey(3), jnp.float64)
    for z in ([0.5, -0.5], [0.1, 0.37], [-0.45, 0.0]):
        np.testing.assert_allclose(network.apply(params, jnp.asarray(z, jnp.float64)), forward(params, z), rtol=1e-12)


def test_exact_normalises_and_none_is_a_valid_choice_only():
    zscored = load(PROTOCOL[0], ['network.normalization="exact"'])
    assert zscored.build_network(zscored.build_problem()).input_std is not None
    with pytest.raises(ConfigError, match="network.normalization"):
        load(PROTOCOL[0], ['network.normalization="raw"'])


@pytest.mark.parametrize("path", PROTOCOL, ids=lambda p: p.stem)
def test_the_poisson_protocol_configs_use_raw_inputs(path):
    config = load(path)
    assert config.network.normalization == "none"
