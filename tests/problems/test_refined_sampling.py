"""Band-refined interior sampling (``problems.refined``) and Burgers' shock band (``burgers_1d(shock_fraction=...)``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.problems import burgers_1d, sample_batch
from pinnbalance.problems.domain import Box, uniform
from pinnbalance.problems.refined import band, mixture

BOX = Box((-1.0, 0.0), (1.0, 1.0), ("x", "t"))


def test_the_band_share_matches_the_mixture_density():
    """P(|x| <= w) = (1 - f) w + f for the mixture of uniform(box) and uniform(band), box x in [-1, 1]."""
    f, w, n = 0.3, 0.1, 200_000
    z = np.asarray(mixture(uniform(BOX), uniform(band(BOX, "x", -w, w)), f)(jax.random.PRNGKey(0), n, jnp.float64))
    assert z.shape == (n, 2) and np.all(np.abs(z[-round(f * n) :, 0]) <= w)  # the extra rows come last, all in the band
    assert np.all((z[:, 1] >= 0.0) & (z[:, 1] <= 1.0)) and np.all(np.abs(z[:, 0]) <= 1.0)
    share = np.mean(np.abs(z[:, 0]) <= w)
    expected = (1 - f) * w + f  # (1 - f) of the points uniform on [-1, 1] (band share w), f all in the band
    assert share == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / n))


def test_burgers_shock_fraction_refines_only_the_residual_points_and_zero_changes_nothing():
    plain, refined = burgers_1d(batch_size=1000), burgers_1d(batch_size=1000, shock_fraction=0.5, shock_width=0.05)
    key = jax.random.PRNGKey(1)
    a, b, c = (
        sample_batch(plain, key),
        sample_batch(refined, key),
        sample_batch(burgers_1d(batch_size=1000, shock_fraction=0.0), key),
    )
    np.testing.assert_array_equal(a["res"], c["res"])  # the default sampler, unchanged
    assert np.mean(np.abs(np.asarray(b["res"])[:, 0]) <= 0.05) >= 0.5 > np.mean(np.abs(np.asarray(a["res"])[:, 0]) <= 0.05) + 0.3
    for name in ("ic", "bc"):
        np.testing.assert_array_equal(a[name], b[name])


def test_bad_bands_and_fractions_name_the_value():
    with pytest.raises(ValueError, match="inside the box along 'x'"):
        band(BOX, "x", -2.0, 0.1)
    with pytest.raises(ValueError, match=r"fraction must be in \[0, 1\)"):
        mixture(uniform(BOX), uniform(BOX), 1.0)
