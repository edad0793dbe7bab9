"""The composed tail of an update: EMA, clipping, then the non-finite hold, by hand."""

import jax.numpy as jnp
import numpy as np

from pinnbalance.weighting import GradNorm, LearningRateAnnealing
from pinnbalance.weighting.compose import chain, clip, smooth


def test_smooth_then_clip_then_hold_by_hand():
    state = LearningRateAnnealing(beta=0.75).init(("res", "ics", "bcs"), jnp.float64)
    finish = chain(smooth("beta"), clip(0.5, 3.0))
    new = finish(state, {"ics": jnp.asarray(5.0), "bcs": jnp.asarray(21.0)})
    # ics: 0.75 * 1 + 0.25 * 5 = 2.0 (inside the bounds); bcs: 0.75 + 5.25 = 6.0 -> clipped to 3
    assert {k: float(v) for k, v in new.weights.items()} == {"res": 1.0, "ics": 2.0, "bcs": 3.0}
    assert int(new.held) == 0


def test_a_non_finite_proposal_is_held_and_counted():
    state = GradNorm(alpha=0.5).init(("res", "bcs"), jnp.float64)
    new = chain(smooth("alpha"))(state, {"res": jnp.asarray(3.0), "bcs": jnp.asarray(jnp.nan)})
    np.testing.assert_array_equal([float(new.weights["res"]), float(new.weights["bcs"])], [1.0, 1.0])
    assert int(new.held) == 1


def test_the_ema_weight_comes_from_the_state_not_the_scheme_object():
    """Two states of one scheme type with other betas: the same chain smooths each with its own."""
    a = LearningRateAnnealing(beta=0.5).init(("res", "bcs"), jnp.float64)
    b = LearningRateAnnealing(beta=0.9).init(("res", "bcs"), jnp.float64)
    finish = chain(smooth("beta"))
    assert float(finish(a, {"bcs": jnp.asarray(3.0)}).weights["bcs"]) == 2.0
    np.testing.assert_allclose(float(finish(b, {"bcs": jnp.asarray(3.0)}).weights["bcs"]), 1.2, rtol=1e-15)
