"""Gradient-norm balancing (Wang et al. 2023) against hand-computed norms."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.weighting import SCHEMES, GradNorm, GradNorm2026

NAMES = ("res", "ics", "bcs")


def toy_grads(scale=1.0):
    """Norms over all leaves: res 5 (3-4-5), ics 1, bcs 2 (its bias only)."""
    f = lambda a: scale * jnp.asarray(a, jnp.float64)
    return {
        "res": {"W": f([[3, 4]]), "b": f([0])},
        "ics": {"W": f([[1, 0]]), "b": f([0])},
        "bcs": {"W": f([[0, 0]]), "b": f([2])},
    }


NORMS = {"res": 5.0, "ics": 1.0, "bcs": 2.0}
SUM = 8.0


def test_one_update_is_the_ema_of_sum_over_norm():
    scheme = GradNorm()
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    for name in NAMES:  # alpha = 0.9 on the OLD value (1)
        np.testing.assert_allclose(state.weights[name], 0.9 + 0.1 * SUM / NORMS[name], rtol=1e-12)


def test_weighted_gradient_norms_are_equal_after_a_full_update():
    """alpha = 0: lam_i ||g_i|| = sum_j ||g_j|| for every term, the residual included."""
    scheme = GradNorm(alpha=0.0)
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    for name in NAMES:
        np.testing.assert_allclose(state.weights[name] * NORMS[name], SUM, rtol=1e-12)


def test_fixed_point_of_repeated_updates():
    scheme = GradNorm()
    state = scheme.init(NAMES, jnp.float64)
    for step in range(400):
        state = scheme.update(state, toy_grads(), {}, step)
    for name in NAMES:
        np.testing.assert_allclose(state.weights[name], SUM / NORMS[name], rtol=1e-9)


def test_global_norm_spans_every_selected_leaf():
    f = lambda a: jnp.asarray(a, jnp.float64)
    grads = {
        "res": [{"W": f([[1, 2], [2, 4]]), "b": f([1, 1])}, {"W": f([[2]]), "b": f([0])}],
        "bcs": [{"W": f([[3, 0], [0, 0]]), "b": f([0, 0])}, {"W": f([[4]]), "b": f([0])}],  # norm 5 either way
    }
    for leaves, n_res in (("all", math.sqrt(1 + 4 + 4 + 16 + 1 + 1 + 4)), ("weight_matrices", math.sqrt(1 + 4 + 4 + 16 + 4))):
        scheme = GradNorm(alpha=0.0, leaves=leaves)
        w = scheme.update(scheme.init(("res", "bcs"), jnp.float64), grads, {}, 0).weights
        np.testing.assert_allclose(w["res"], (n_res + 5.0) / n_res, rtol=1e-12)
        np.testing.assert_allclose(w["bcs"], (n_res + 5.0) / 5.0, rtol=1e-12)


def test_published_code_settings_mean_and_relative_eps():
    """jaxpi: mean_j n_j / (n_i + 1e-5 * mean_j n_j)."""
    scheme = GradNorm(alpha=0.0, numerator="mean", eps=1e-5)
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    mean = SUM / 3
    for name in NAMES:
        np.testing.assert_allclose(state.weights[name], mean / (NORMS[name] + 1e-5 * mean), rtol=1e-12)


def test_weights_do_not_depend_on_the_gradient_scale():
    scheme = GradNorm(alpha=0.0)
    a = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    b = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(1e-4), {}, 0)
    for name in NAMES:
        np.testing.assert_allclose(a.weights[name], b.weights[name], rtol=1e-12)


def test_clipping_and_initial_weights():
    scheme = GradNorm(alpha=0.5, w_max=3.0, initial={"ics": 4.0})
    state = scheme.update(scheme.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    assert float(state.weights["ics"]) == 3.0  # 0.5 * 4 + 0.5 * 8 = 6, lowered to w_max
    np.testing.assert_allclose(state.weights["res"], 0.5 + 0.5 * 8 / 5, rtol=1e-12)


def test_a_zero_or_non_finite_norm_holds_the_weights_and_counts():
    zero = GradNorm(leaves="weight_matrices")  # bcs's weight matrix gradient is zero: 8 / 0
    new = zero.update(zero.init(NAMES, jnp.float64), toy_grads(), {}, 0)
    assert int(new.held) == 1 and all(float(new.weights[n]) == 1.0 for n in NAMES)
    grads = toy_grads()
    grads["ics"]["W"] = grads["ics"]["W"].at[0, 1].set(jnp.nan)
    new = GradNorm(w_min=0.1, w_max=10.0).update(GradNorm().init(NAMES, jnp.float64), grads, {}, 0)
    assert int(new.held) == 1 and all(float(new.weights[n]) == 1.0 for n in NAMES)


def test_schedule_every_period():
    assert list(np.flatnonzero(GradNorm().needs_grads(jnp.arange(350)))) == [0, 100, 200, 300]
    assert list(np.flatnonzero(GradNorm(period=1000).needs_grads(jnp.arange(2500)))) == [0, 1000, 2000]


def test_wrong_names_and_fields_are_rejected():
    with pytest.raises(KeyError, match=r"valid term names are \['res', 'ics', 'bcs'\]"):
        GradNorm(initial={"bsc": 2.0}).init(NAMES)
    grads = toy_grads()
    grads["bsc"] = grads.pop("bcs")
    with pytest.raises(KeyError, match=r"unknown term name\(s\) \['bsc'\] and lacks \['bcs'\]; valid term names are"):
        GradNorm().update(GradNorm().init(NAMES), grads, {}, 0)
    for bad, match in [
        ({"alpha": 1.0}, "alpha"),
        ({"period": 0}, "period"),
        ({"period": 10.0}, "period"),
        ({"numerator": "median"}, "numerator"),
        ({"eps": -1.0}, "eps"),
        ({"leaves": "biases"}, "leaves"),
        ({"w_min": 2.0, "w_max": 1.0}, "w_min"),
    ]:
        with pytest.raises(ValueError, match=match):
            GradNorm(**bad)


def test_2026_preset_is_every_1000_steps_with_momentum_0_9_and_gradnorms_other_defaults():
    preset = GradNorm2026()
    assert (preset.period, preset.alpha) == (1000, 0.9)
    assert (preset.numerator, preset.eps, preset.leaves, dict(preset.initial)) == ("sum", 0.0, "all", {})
    assert list(np.flatnonzero(preset.needs_grads(jnp.arange(2500)))) == [0, 1000, 2000]
    assert SCHEMES["grad-norm-2026"] is GradNorm2026 and GradNorm2026(alpha=0.5).alpha == 0.5


def test_2026_preset_one_update_by_hand():
    """Norms 5, 1, 2 (sum 8); from weights 1: lam = 0.9 * 1 + 0.1 * 8 / n."""
    state = GradNorm2026().update(GradNorm2026().init(NAMES, jnp.float64), toy_grads(), {}, 0)
    expected = {"res": 0.9 + 0.8 / 5, "ics": 0.9 + 0.8 / 1, "bcs": 0.9 + 0.8 / 2}  # 1.06, 1.7, 1.3
    for name in NAMES:
        np.testing.assert_allclose(state.weights[name], expected[name], rtol=1e-12)


def test_2026_preset_is_built_by_name_from_a_config():
    from pinnbalance.config import scheme_for

    assert scheme_for("grad-norm-2026", problem=None) == GradNorm2026()
    assert scheme_for("grad-norm-2026", None, {"alpha": 0.8}).period == 1000
