"""Why SOAP runs vmapped over seeds differ from the same seeds run alone (issue 19's ~2e-7 in
tests/test_run_2026.py): not a batched eigh (on CPU, eigh and QR under vmap are bitwise the
unbatched ones), but the gradient. A batched matrix product rounds its last bit differently
(~2e-16 relative), and SOAP's first basis in the null space of a rank-deficient statistic
(L_1 = G_1 G_1^T for a leaf with |m - n| >= 2) is whatever eigh makes of that rounding: step 2's
Adam, being elementwise in that basis, then moves by O(1) of its size. Adam does not."""

import jax
import jax.numpy as jnp
import optax
import pytest

from pinnbalance.optim.soap import soap


def second_update(opt, g1, g2):
    state = opt.init(g1)
    _, state = opt.update(g1, state)
    return opt.update(g2, state)[0]


def relative_change(opt, shape):
    """How much step 2's update moves when the first gradient is perturbed by 1e-15 relative."""
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    g1, g2 = jax.random.normal(k1, shape, jnp.float64), jax.random.normal(k2, shape, jnp.float64)
    a = second_update(opt, g1, g2)
    b = second_update(opt, g1 * (1 + 1e-15 * jax.random.normal(k3, shape, jnp.float64)), g2)
    return float(jnp.max(jnp.abs(a - b)) / jnp.max(jnp.abs(a)))


@pytest.mark.parametrize("shape", [(2, 16), (4, 3)])
def test_adam_is_insensitive_to_the_last_bit_of_the_first_gradient(shape):
    assert relative_change(optax.adam(1e-2), shape) < 1e-13


def test_soap_is_insensitive_where_the_first_basis_is_unique_up_to_signs():
    """(4, 3): L_1 (4 x 4, rank 3) has a one-dimensional null space, R_1 (3 x 3) is full rank."""
    assert relative_change(soap(1e-2), (4, 3)) < 1e-10


def test_soap_moves_by_order_one_where_the_null_space_has_two_or_more_dimensions():
    """(2, 16): R_1 (16 x 16) has rank 2, so eigh's basis of its 14-dimensional null space is set by rounding."""
    assert relative_change(soap(1e-2), (2, 16)) > 1e-2
