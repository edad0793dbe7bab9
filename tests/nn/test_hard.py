"""Hard constraints by an output transform: the condition holds exactly for any network."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.nn import MLP
from pinnbalance.nn.hard import HardConstrained


def u0(z):
    return jnp.sin(jnp.pi * z[0]) + 0.5 * jnp.sin(4 * jnp.pi * z[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_initial_condition_exact_for_any_network(seed):
    net = HardConstrained(MLP((2, 16, 16, 1)), g=u0, d=lambda z: z[1])  # u = u0(x) + t N(x, t)
    params = net.init(jax.random.PRNGKey(seed), jnp.float64)
    u = net.field(params)
    x = jnp.linspace(0.0, 1.0, 33, dtype=jnp.float64)
    on_t0 = jnp.stack([x, jnp.zeros_like(x)], axis=-1)
    np.testing.assert_array_equal(jax.vmap(u)(on_t0), jax.vmap(u0)(on_t0))
    inside = jnp.stack([x, jnp.full_like(x, 0.5)], axis=-1)  # off the boundary the network still acts
    assert float(jnp.max(jnp.abs(jax.vmap(u)(inside) - jax.vmap(u0)(inside)))) > 1e-3


def test_dirichlet_walls_and_derivatives_of_the_transform():
    # u = x (1 - x) N: zero on x = 0 and x = 1; u_x at x = 0 is N(0, y) (product rule, d'(0) = 1)
    inner = MLP((2, 8, 1))
    net = HardConstrained(inner, g=lambda z: 0.0, d=lambda z: z[0] * (1 - z[0]))
    params = net.init(jax.random.PRNGKey(3), jnp.float64)
    u = net.field(params)
    for y in (0.0, 0.3, 1.0):
        assert float(u(jnp.array([0.0, y]))) == 0.0 and float(u(jnp.array([1.0, y]))) == 0.0
        grad = jax.grad(u)(jnp.array([0.0, y]))
        assert float(grad[0]) == pytest.approx(float(inner.apply(params, jnp.array([0.0, y]))), rel=1e-12)


def test_per_output_transform_leaves_free_components_alone():
    inner = MLP((2, 8, 3))
    d = lambda z: jnp.array([z[1], z[1], 1.0])  # noqa: E731  u, v clamped on y = 0; p free
    g = lambda z: jnp.array([1.0, 0.0, 0.0])  # noqa: E731
    net = HardConstrained(inner, g=g, d=d)
    params = net.init(jax.random.PRNGKey(4), jnp.float64)
    z = jnp.array([0.4, 0.0])
    out, raw = net.apply(params, z), inner.apply(params, z)
    assert out.tolist()[:2] == [1.0, 0.0] and float(out[2]) == float(raw[2])
    assert net.layers == inner.layers
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(inner.init(jax.random.PRNGKey(4)))


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="HardConstrained.d must be a function"):
        HardConstrained(MLP((2, 4, 1)), g=lambda z: 0.0, d=1.0)
    net = HardConstrained(MLP((2, 4, 1)), g=lambda z: jnp.zeros(3), d=lambda z: 1.0)
    with pytest.raises(ValueError, match="one value per network output"):
        net.apply(net.init(jax.random.PRNGKey(0)), jnp.zeros(2))
