"""PINNacle's learning-rate annealing (its ``LR_Adaptor``) as our scheme, against its formula by hand.

PINNacle's rule, read from its source (``src/optimizer/lr_adaptor.py``), every step, for each
boundary term i with the current weight lam_i and the unweighted term loss L_i:

    lam_hat_i = max_theta |dL_pde/dtheta| / (mean_theta |dL_i/dtheta| * lam_i),
    lam_i    <- (1 - alpha) lam_i + alpha lam_hat_i,        alpha = 0.1,

max and mean over EVERY parameter entry pooled (biases included, ``sum |g| / count``). Dividing
by lam_i makes it our ``grad_of="weighted"`` (mean|d(lam_i L_i)| = lam_i mean|dL_i|), not
"unweighted"; the pooled mean is ``POOLED_MEAN_ABS``.
"""

from pathlib import Path

import jax.numpy as jnp
import numpy as np

from pinnbalance.config import load
from pinnbalance.weighting import LearningRateAnnealing, all_leaves, weight_matrices
from pinnbalance.weighting.statistics import POOLED_MEAN_ABS, STATISTICS

ROOT = Path(__file__).resolve().parents[2]


def toy_grads():
    """A 2 -> 3 -> 1 network's per-term gradients (biases large, so counting them matters)."""
    f = lambda a: jnp.asarray(a, jnp.float64)  # noqa: E731
    return {
        "res": [{"W": f([[1, -2, 3], [0.5, 0, -7]]), "b": f([100, 0, 0])}, {"W": f([[4], [-1], [2]]), "b": f([0])}],
        "outer": [{"W": f([[0.1, -0.1, 0.1], [0.1, 0.1, -0.1]]), "b": f([10, 0, 0])}, {"W": f([[1], [2], [-3]]), "b": f([0])}],
    }


def test_pooled_mean_counts_every_entry_once():
    g = toy_grads()["res"]
    # weight matrices: |g| = 1, 2, 3, 0.5, 0, 7 and 4, 1, 2 -> 20.5 over 9 entries
    np.testing.assert_allclose(POOLED_MEAN_ABS(weight_matrices(g)), 20.5 / 9, rtol=1e-14)
    # every leaf: + the biases 100, 0, 0 and 0 -> 120.5 over 13 entries
    np.testing.assert_allclose(POOLED_MEAN_ABS(all_leaves(g)), 120.5 / 13, rtol=1e-14)
    assert STATISTICS["pooled_mean_abs"] is POOLED_MEAN_ABS


def test_one_update_is_pinnacles_formula():
    scheme = LearningRateAnnealing(period=1, leaves="all", term_statistic=POOLED_MEAN_ABS, initial={"outer": 2.0})
    state = scheme.update(scheme.init(("res", "outer"), jnp.float64), toy_grads(), {}, 0)
    max_res = 100.0  # a bias entry: PINNacle takes the max over every parameter
    mean_outer = (0.6 + 10 + 6) / 13  # 6 x 0.1 + 10 (bias) + 1 + 2 + 3, over 6 + 3 + 3 + 1 entries
    lam_hat = max_res / (mean_outer * 2.0)
    np.testing.assert_allclose(state.weights["outer"], 0.9 * 2.0 + 0.1 * lam_hat, rtol=1e-9)


def test_the_pinnacle_protocol_configs_run_that_rule():
    for problem in ("poisson-2d-holes",):
        config = load(ROOT / f"configs/pinnacle/{problem}-lr-annealing-pinnacle.toml")
        scheme = config.build_scheme(config.build_problem())
        assert (scheme.grad_of, scheme.period, scheme.leaves, scheme.beta) == ("weighted", 1, "all", 0.9)
        assert scheme.term_statistic is POOLED_MEAN_ABS and scheme.reference_statistic.name == "max_abs"
