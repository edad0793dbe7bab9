"""Point constraints: the term's loss is the mean squared misfit at the fixed points."""

import jax
import jax.numpy as jnp
import pytest

from pinnbalance.problems.constraints import point_constraint


def test_gauge_loss_by_hand():
    term = point_constraint([[0.0, 0.0], [1.0, 0.5]], [0.0, 2.0], components=2)
    u = lambda z: jnp.array([9.0, 9.0, 1.0 + z[0]])  # noqa: E731  p(0,0) = 1, p(1, 0.5) = 2
    rows = term.sampler(jax.random.PRNGKey(0), term.batch_size, jnp.float64)
    r = jax.vmap(lambda p: term.residual(u, p))(rows)
    assert term.batch_size == 2
    assert float(jnp.mean(jnp.sum(r**2, axis=-1))) == pytest.approx((1.0**2 + 0.0**2) / 2)
    # a configuration's larger batch repeats the points whole: the same loss
    rows4 = term.sampler(jax.random.PRNGKey(1), 4, jnp.float64)
    r4 = jax.vmap(lambda p: term.residual(u, p))(rows4)
    assert float(jnp.mean(r4**2)) == pytest.approx(0.5)


def test_point_outside_domain_refused():
    from pinnbalance.geometry import Box

    with pytest.raises(ValueError, match="point constraint"):
        point_constraint([[2.0, 0.0]], [0.0], domain=Box((0.0, 0.0), (1.0, 1.0)))
