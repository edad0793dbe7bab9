"""The EMA helper: new = beta * old + (1 - beta) * proposal, beta on the OLD value."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.weighting import ema
from pinnbalance.weighting.ema import check_ema_weight


def test_one_step_puts_beta_on_the_old_value():
    new = ema({"ics": jnp.float64(2.0), "bcs": jnp.float64(10.0)}, {"ics": 12.0, "bcs": 0.0}, 0.9)
    np.testing.assert_allclose(new["ics"], 0.9 * 2 + 0.1 * 12, rtol=1e-15)
    np.testing.assert_allclose(new["bcs"], 9.0, rtol=1e-15)


def test_ends_of_the_range():
    assert float(ema(jnp.float64(3.0), 5.0, 0.0)) == 5.0  # beta = 0 takes the proposal
    np.testing.assert_allclose(ema(jnp.float64(3.0), 5.0, 0.999), 3.002, rtol=1e-14)


def test_repeated_steps_follow_the_closed_form():
    """With a constant proposal p: x_n = p + beta^n (x_0 - p)."""
    x = jnp.float64(1.0)
    for _ in range(25):
        x = ema(x, 8.0, 0.8)
    np.testing.assert_allclose(x, 8.0 + 0.8**25 * (1.0 - 8.0), rtol=1e-13)


def test_weight_range_is_checked_with_the_convention_in_the_message():
    check_ema_weight(0.0)
    with pytest.raises(ValueError, match=r"alpha \(EMA weight on the old value: new = alpha \* old"):
        check_ema_weight(1.0, "alpha")
    with pytest.raises(ValueError, match="beta"):
        check_ema_weight(-0.1)
