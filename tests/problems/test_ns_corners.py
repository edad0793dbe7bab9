"""ns-2d-lid with a share of the equation points near the lid's corners (``ns_2d_lid(corner_fraction=...)``, ``top_corners``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.problems.base import sample_batch
from pinnbalance.problems.ns_2d_lid import ns_2d_lid, top_corners


def test_corner_offsets_follow_the_graded_law_on_both_corners():
    w, n = 0.1, 40_000
    z = np.asarray(top_corners(w)(jax.random.PRNGKey(0), n, jnp.float64))
    left, right = z[::2], z[1::2]
    assert (left[:, 0] <= w).all() and (right[:, 0] >= 1 - w).all() and (z[:, 1] >= 1 - w).all() and (z <= 1).all()
    offsets = np.concatenate([left[:, 0], 1 - right[:, 0], 1 - z[:, 1]])  # offset = w a^2: P(offset <= d) = sqrt(d / w)
    for d in (0.001, 0.01, 0.05):
        assert abs(np.mean(offsets <= d) - np.sqrt(d / w)) < 0.01
    with pytest.raises(ValueError, match="corner_width must be in"):
        top_corners(0.0)


def test_the_problem_draws_its_share_near_the_corners_and_stays_uniform_by_default():
    key, n = jax.random.PRNGKey(1), 2000
    refined = np.asarray(sample_batch(ns_2d_lid(n, corner_fraction=0.25, corner_width=0.1), key, jnp.float64)["mom_x"])
    plain = np.asarray(sample_batch(ns_2d_lid(n), key, jnp.float64)["mom_x"])

    def near(z):  # within 0.1 of (0, 1) or (1, 1): 2% of the square's area
        return (z[:, 1] >= 0.9) & ((z[:, 0] <= 0.1) | (z[:, 0] >= 0.9))

    assert near(refined[-500:]).all()  # the last round(0.25 n) rows: the corner share
    assert abs(near(refined[:-500]).mean() - 0.02) < 0.012 and abs(near(plain).mean() - 0.02) < 0.01  # the rest: uniform
    assert ns_2d_lid(n).terms["mom_x"].sampler is not None and ns_2d_lid(n).term_names == ns_2d_lid(n, 0.25).term_names
