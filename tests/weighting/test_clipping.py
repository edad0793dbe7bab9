"""Clipping weights to [w_min, w_max]."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.weighting import clip_weights
from pinnbalance.weighting.clipping import check_bounds

W = {"res": jnp.float64(1.0), "ics": jnp.float64(0.01), "bcs": jnp.float64(500.0)}


def test_both_bounds():
    out = clip_weights(W, 0.1, 100.0)
    assert {k: float(v) for k, v in out.items()} == {"res": 1.0, "ics": 0.1, "bcs": 100.0}


def test_open_sides():
    assert {k: float(v) for k, v in clip_weights(W, None, 100.0).items()} == {"res": 1.0, "ics": 0.01, "bcs": 100.0}
    assert {k: float(v) for k, v in clip_weights(W, 0.1, None).items()} == {"res": 1.0, "ics": 0.1, "bcs": 500.0}
    assert clip_weights(W) == W


def test_non_finite_weights_pass_unchanged_so_the_update_is_still_held():
    out = clip_weights({"ics": jnp.float64(jnp.nan), "bcs": jnp.float64(jnp.inf), "res": jnp.float64(-jnp.inf)}, 0.1, 100.0)
    assert np.isnan(float(out["ics"]))
    assert float(out["bcs"]) == np.inf and float(out["res"]) == -np.inf


def test_bounds_are_validated():
    check_bounds(None, None)
    check_bounds(0.0, 0.0)
    with pytest.raises(ValueError, match="w_min must be <= w_max"):
        check_bounds(10.0, 1.0)
    with pytest.raises(ValueError, match="w_min must be >= 0"):
        check_bounds(-1.0, None)
    with pytest.raises(ValueError, match="w_max must be a finite number"):
        check_bounds(None, float("inf"))
    with pytest.raises(ValueError, match="w_min must be a finite number"):
        check_bounds("1", None)
