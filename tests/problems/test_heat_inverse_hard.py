"""heat-inverse with a = 2 on the walls as a hard constraint (``heat_inverse(a_hard=True)``, ``hard_wall``)."""

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.nn import MLP
from pinnbalance.nn.mlp import mlp_for
from pinnbalance.nn.with_unknowns import with_unknowns
from pinnbalance.problems.heat_inverse import A_WALL, hard_wall, heat_inverse


def test_a_is_two_on_every_wall_for_any_parameters_and_the_transform_inside():
    inner = MLP((2, 8, 8, 1))
    net = hard_wall(inner)
    s = np.linspace(-1.0, 1.0, 7)
    walls = np.concatenate(
        [np.stack([np.full(7, c), s], 1) for c in (-1.0, 1.0)] + [np.stack([s, np.full(7, c)], 1) for c in (-1.0, 1.0)]
    )
    inside = np.random.default_rng(0).uniform(-0.95, 0.95, (20, 2))
    for seed in range(3):
        params = net.init(jax.random.PRNGKey(seed), jnp.float64)
        a = jax.vmap(net.field(params))(jnp.asarray(walls))
        np.testing.assert_array_equal(np.asarray(a).ravel(), A_WALL)  # exact, not approximately
        raw = np.asarray(jax.vmap(lambda z: inner.apply(params, z))(jnp.asarray(inside))).ravel()
        factor = (1 - inside[:, 0] ** 2) * (1 - inside[:, 1] ** 2)
        got = np.asarray(jax.vmap(net.field(params))(jnp.asarray(inside))).ravel()
        np.testing.assert_allclose(got, 2.0 + factor * raw, rtol=1e-14)


def test_the_hard_problem_drops_the_wall_term_and_its_unknown_is_two_on_the_walls():
    soft, hard = heat_inverse(), heat_inverse(a_hard=True, a_width=10, a_depth=2)
    assert soft.term_names == ("res", "a_bc", "data") and hard.term_names == ("res", "data")
    net = with_unknowns(hard, mlp_for(hard.domain, (8,)))
    params = net.init(jax.random.PRNGKey(1), jnp.float64)
    a = net.field(params).unknowns["a"]
    for z in ([1.0, 0.2, 0.5], [0.3, -1.0, 0.9], [-1.0, -1.0, 0.0]):
        assert float(jnp.reshape(a(jnp.asarray(z)), ())) == A_WALL
    assert abs(float(jnp.reshape(a(jnp.asarray([0.1, 0.2, 0.5])), ())) - A_WALL) > 0  # free inside
