"""heat_inverse(early_fraction, early_width): a share of the residual points in the early slab
0 <= t <= early_width, the rest uniform; 0 keeps the uniform sampler's exact points."""

import jax
import numpy as np
import pytest

from pinnbalance import config as cfg
from pinnbalance.problems.heat_inverse import heat_inverse

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_early_share_is_the_mixture_density():
    n, fraction, width = 4000, 0.25, 0.1
    z = np.asarray(heat_inverse(early_fraction=fraction, early_width=width).terms["res"].sampler(jax.random.PRNGKey(0), n))
    assert z.shape == (n, 3) and np.all(np.abs(z[:, :2]) <= 1) and np.all((z[:, 2] >= 0) & (z[:, 2] <= 1))
    assert np.all(z[-round(fraction * n) :, 2] <= width)  # the mixture's own rows, all in the slab
    # P(t <= width) = fraction + (1 - fraction) width = 0.325; binomial sd sqrt(0.325 0.675 / 4000) = 0.0074
    assert abs(np.mean(z[:, 2] <= width) - (fraction + (1 - fraction) * width)) < 4 * 0.0074


def test_zero_fraction_draws_the_uniform_points():
    key = jax.random.PRNGKey(3)
    a = heat_inverse().terms["res"].sampler(key, 64)
    b = heat_inverse(early_fraction=0.0, early_width=0.3).terms["res"].sampler(key, 64)
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_toml_parameters_and_a_bad_fraction():
    config = cfg.load(ROOT / "configs/pinnacle/heat-inverse-lm-holdout-small-early25.toml")
    assert config.problem.parameters["early_fraction"] == 0.25
    with pytest.raises(ValueError, match="fraction"):
        heat_inverse(early_fraction=1.0)
