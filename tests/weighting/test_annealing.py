"""Learning-rate annealing against hand-computed statistics on a toy gradient pytree."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.weighting import MAX_ABS, MEAN_ABS, Constant, LearningRateAnnealing, weight_matrices


def toy_grads():
    """Per-term gradients of a 2 -> 3 -> 1 network; biases are huge so that including
    them would change every statistic."""
    f = lambda a: jnp.asarray(a, jnp.float64)
    return {
        "res": [{"W": f([[1, -2, 3], [0.5, 0, -7]]), "b": f([100, 0, 0])}, {"W": f([[4], [-1], [2]]), "b": f([0])}],
        "ics": [{"W": f([[0.1, -0.1, 0.1], [0.1, 0.1, -0.1]]), "b": f([1000, 0, 0])}, {"W": f([[1], [2], [-3]]), "b": f([0])}],
        "bcs": [{"W": f(np.full((2, 3), 0.02)), "b": f([0, 0, 0])}, {"W": f(np.full((3, 1), -0.04)), "b": f([1e6])}],
    }


MAX_RES = 7.0  # max over layers of max |g|: layer 1 holds -7, biases excluded
MEAN_ICS = (0.1 + 2.0) / 2  # mean of per-layer means, not the global mean (0.733)
MEAN_BCS = (0.02 + 0.04) / 2
NAMES = ("res", "ics", "bcs")
EPS = 1e-10  # the published eps in lam_hat = max / (mean + eps)


def test_statistics_by_hand():
    g = toy_grads()
    assert float(MAX_ABS(weight_matrices(g["res"]))) == MAX_RES
    np.testing.assert_allclose(MEAN_ABS(weight_matrices(g["ics"])), MEAN_ICS, rtol=1e-12)
    np.testing.assert_allclose(MEAN_ABS(weight_matrices(g["bcs"])), MEAN_BCS, rtol=1e-12)
    assert float(MAX_ABS(g["res"][0]["b"][None])) == 100.0  # what counting biases would give


def test_one_update_unweighted_is_the_ema_of_max_over_mean():
    scheme = LearningRateAnnealing(grad_of="unweighted")
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    # EMA convention: new = beta * old + (1 - beta) * hat, beta = 0.9 on the OLD value
    np.testing.assert_allclose(state.weights["ics"], 0.9 * 1 + 0.1 * MAX_RES / (MEAN_ICS + EPS), rtol=1e-9)
    np.testing.assert_allclose(state.weights["bcs"], 0.9 * 1 + 0.1 * MAX_RES / (MEAN_BCS + EPS), rtol=1e-9)
    assert float(state.weights["res"]) == 1.0


def test_weighted_rule_divides_by_the_current_weight():
    scheme = LearningRateAnnealing(grad_of="weighted", initial={"ics": 2.0})
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    np.testing.assert_allclose(state.weights["ics"], 0.9 * 2 + 0.1 * MAX_RES / (2 * MEAN_ICS + EPS), rtol=1e-9)


def test_including_biases_changes_the_statistics():
    scheme = LearningRateAnnealing(grad_of="unweighted", leaves="all")
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    mean_ics_all = (0.1 + 1000 / 3 + 2.0 + 0.0) / 4
    np.testing.assert_allclose(state.weights["ics"], 0.9 + 0.1 * 100 / (mean_ics_all + EPS), rtol=1e-9)


@pytest.mark.parametrize("grad_of, scale", [("unweighted", 1.0), ("weighted", 2.0)])
def test_max_per_layer_ratio_is_the_largest_layer_ratio(grad_of, scale):
    """The published cavity rule: max over layers of max|g_r^l| / mean|G_i^l|, by hand."""
    scheme = LearningRateAnnealing(grad_of=grad_of, ratio="max_per_layer", initial={"ics": scale, "bcs": scale})
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    # res: layer maxima 7 and 4; ics layer means 0.1 and 2.0; bcs 0.02 and 0.04
    hat_ics = max(7 / (scale * 0.1 + EPS), 4 / (scale * 2.0 + EPS))  # 70 / scale; the aggregate rule: 7 / 1.05
    hat_bcs = max(7 / (scale * 0.02 + EPS), 4 / (scale * 0.04 + EPS))
    np.testing.assert_allclose(state.weights["ics"], 0.9 * scale + 0.1 * hat_ics, rtol=1e-9)
    np.testing.assert_allclose(state.weights["bcs"], 0.9 * scale + 0.1 * hat_bcs, rtol=1e-9)
    with pytest.raises(ValueError, match="ratio must be"):
        LearningRateAnnealing(ratio="per-layer")


@pytest.mark.parametrize("grad_of, power", [("unweighted", 1.0), ("weighted", 0.5)])
def test_fixed_points_on_constant_statistics(grad_of, power):
    """Unweighted settles at max/mean; weighted (gradient of lam * L) at sqrt(max/mean)."""
    scheme = LearningRateAnnealing(grad_of=grad_of)
    state = scheme.init(NAMES, jnp.float64)
    grads = toy_grads()
    for step in range(600):
        state = scheme.update(state, grads, {}, step)
    np.testing.assert_allclose(state.weights["ics"], (MAX_RES / MEAN_ICS) ** power, rtol=1e-6)
    np.testing.assert_allclose(state.weights["bcs"], (MAX_RES / MEAN_BCS) ** power, rtol=1e-6)


def test_every_period_schedule():
    steps = jnp.arange(35)
    wants = LearningRateAnnealing(period=10).needs_grads(steps)
    assert list(np.flatnonzero(wants)) == [0, 10, 20, 30]
    assert Constant().needs_grads(0) is False


def test_non_finite_statistics_hold_the_weights_and_count():
    scheme = LearningRateAnnealing()
    state = scheme.init(NAMES, jnp.float64)
    grads = toy_grads()
    grads["bcs"][0]["W"] = grads["bcs"][0]["W"].at[0, 0].set(jnp.nan)
    new = scheme.update(state, grads, {}, 0)
    assert int(new.held) == 1
    assert all(float(new.weights[n]) == 1.0 for n in NAMES)


def test_wrong_names_and_fields_are_rejected():
    with pytest.raises(KeyError, match="valid term names are"):
        LearningRateAnnealing(reference="pde").init(NAMES)
    with pytest.raises(KeyError, match=r"\['bsc'\]"):
        Constant({"bsc": 2.0}).init(NAMES)
    with pytest.raises(ValueError, match="beta"):
        LearningRateAnnealing(beta=1.0)
    with pytest.raises(ValueError, match="grad_of"):
        LearningRateAnnealing(grad_of="both")
    with pytest.raises(ValueError, match="leaves"):
        LearningRateAnnealing(leaves="biases")


def test_constant_keeps_given_weights():
    scheme = Constant({"bcs": 10.0})
    state = scheme.init(NAMES)
    assert float(state.weights["bcs"]) == 10.0 and float(state.weights["ics"]) == 1.0
    assert scheme.update(state, toy_grads(), {}, 0) is state


# ---- statistic variants, clipping, field checks ------------------------------------------

MEAN_RES = (13.5 / 6 + 7 / 3) / 2  # per-layer mean |g| of res: (1+2+3+0.5+0+7)/6 and (4+1+2)/3
Q99_RES = 4 + 0.92 * (7 - 4)  # |g| of res pooled and sorted: [0, .5, 1, 1, 2, 2, 3, 4, 7]; h = 0.99 * 8


def no_zero_grads():
    """toy_grads with res's exact zero replaced by 0.25, so that log-means need no tiny."""
    g = toy_grads()
    g["res"][0]["W"] = g["res"][0]["W"].at[1, 1].set(0.25)
    return g


GEO = {  # geometric means of the pooled |g| of the weight matrices of no_zero_grads()
    "res": (1 * 2 * 3 * 0.5 * 0.25 * 7 * 4 * 1 * 2) ** (1 / 9),
    "ics": (0.1**6 * 1 * 2 * 3) ** (1 / 9),
    "bcs": (0.02**6 * 0.04**3) ** (1 / 9),
}


@pytest.mark.parametrize(
    "variant, ref, mean_ics, mean_bcs",
    [
        ("max/mean", MAX_RES, MEAN_ICS, MEAN_BCS),
        ("mean/mean", MEAN_RES, MEAN_ICS, MEAN_BCS),
        ("quantile/mean", Q99_RES, MEAN_ICS, MEAN_BCS),
    ],
)
def test_one_update_of_each_variant(variant, ref, mean_ics, mean_bcs):
    scheme = LearningRateAnnealing.variant(variant, grad_of="unweighted")
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    np.testing.assert_allclose(state.weights["ics"], 0.9 + 0.1 * ref / (mean_ics + EPS), rtol=1e-9)
    np.testing.assert_allclose(state.weights["bcs"], 0.9 + 0.1 * ref / (mean_bcs + EPS), rtol=1e-9)
    assert float(state.weights["res"]) == 1.0


@pytest.mark.parametrize("grad_of, power", [("unweighted", 1.0), ("weighted", 0.5)])
def test_log_mean_variant_settles_at_the_ratio_of_geometric_means(grad_of, power):
    scheme = LearningRateAnnealing.variant("log-mean", grad_of=grad_of)
    state = scheme.init(NAMES, jnp.float64)
    for step in range(600):
        state = scheme.update(state, no_zero_grads(), {}, step)
    for name in ("ics", "bcs"):
        np.testing.assert_allclose(state.weights[name], (GEO["res"] / GEO[name]) ** power, rtol=1e-6)


def test_variants_table_and_default_is_the_published_pair():
    assert LearningRateAnnealing().reference_statistic is MAX_ABS
    assert LearningRateAnnealing().term_statistic is MEAN_ABS
    default = LearningRateAnnealing()
    assert (default.w_min, default.w_max, default.beta, default.period, default.grad_of) == (None, None, 0.9, 10, "weighted")
    assert LearningRateAnnealing.variant("max/mean") == LearningRateAnnealing()
    with pytest.raises(ValueError, match=r"valid: \['max/mean', 'mean/mean', 'quantile/mean', 'log-mean'\]"):
        LearningRateAnnealing.variant("median")


def test_clipping_bounds_the_updated_weights():
    scheme = LearningRateAnnealing(grad_of="unweighted", w_min=2.0, w_max=5.0)
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    assert float(state.weights["ics"]) == 2.0  # 0.9 + 0.1 * 7 / 1.05 = 1.567, raised to w_min
    assert float(state.weights["bcs"]) == 5.0  # 0.9 + 0.1 * 7 / 0.03 = 24.2, lowered to w_max
    assert float(state.weights["res"]) == 1.0  # the reference is never clipped


def test_clipped_fixed_point_is_the_bound():
    scheme = LearningRateAnnealing(grad_of="unweighted", w_max=100.0)
    state = scheme.init(NAMES, jnp.float64)
    for step in range(300):
        state = scheme.update(state, toy_grads(), {}, step)
    np.testing.assert_allclose(state.weights["ics"], MAX_RES / MEAN_ICS, rtol=1e-6)  # 6.67, inside the range
    assert float(state.weights["bcs"]) == 100.0  # 233.3 unclipped


def test_clipping_does_not_hide_a_non_finite_statistic():
    scheme = LearningRateAnnealing.variant("quantile/mean", w_min=0.5, w_max=50.0)
    grads = toy_grads()
    grads["res"][1]["W"] = grads["res"][1]["W"].at[0, 0].set(jnp.inf)
    new = scheme.update(scheme.init(NAMES, jnp.float64), grads, {}, 0)
    assert int(new.held) == 1 and all(float(new.weights[n]) == 1.0 for n in NAMES)


def test_statistic_fields_take_objects_and_bounds_are_checked():
    with pytest.raises(TypeError, match="registered statistics"):
        LearningRateAnnealing(reference_statistic="max_abs")
    with pytest.raises(ValueError, match="w_min must be <= w_max"):
        LearningRateAnnealing(w_min=10.0, w_max=1.0)
    with pytest.raises(ValueError, match="w_min must be >= 0"):
        LearningRateAnnealing(w_min=-1.0)


@pytest.mark.parametrize("ratio", ["aggregate", "max_per_layer"])
def test_a_reference_group_is_the_summed_loss_of_its_terms(ratio):
    """reference = ("res", "ics"): S_ref reads the gradient of L_res + L_ics (Wang et al.'s residual
    loss of a system, one term per equation); both keep weight 1, and bcs gets what a single
    reference term carrying that summed gradient would give it."""
    g = toy_grads()
    summed = [{k: a[k] + b[k] for k in a} for a, b in zip(g["res"], g["ics"])]
    group = LearningRateAnnealing(reference=("res", "ics"), ratio=ratio)
    single = LearningRateAnnealing(reference="res", ratio=ratio)
    by_group = group.update(group.init(NAMES, jnp.float64), g, {}, 0)
    by_sum = single.update(single.init(("res", "bcs"), jnp.float64), {"res": summed, "bcs": g["bcs"]}, {}, 0)
    assert float(by_group.weights["res"]) == float(by_group.weights["ics"]) == 1.0
    np.testing.assert_allclose(by_group.weights["bcs"], by_sum.weights["bcs"], rtol=1e-12)
    if ratio == "aggregate":  # the summed matrices: layer 1's -7 - 0.1 = -7.1 is the largest entry (layer 2: 5, 1, -1)
        max_sum = 7.1
        np.testing.assert_allclose(by_group.weights["bcs"], 0.9 + 0.1 * max_sum / (MEAN_BCS + EPS), rtol=1e-9)
    with pytest.raises(KeyError, match="valid term names are"):
        LearningRateAnnealing(reference=("res", "pde")).init(NAMES)
    with pytest.raises(ValueError, match="non-empty"):
        LearningRateAnnealing(reference=()).init(NAMES)
