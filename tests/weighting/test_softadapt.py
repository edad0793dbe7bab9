"""SoftAdapt (Heydari et al. 2019) against softmax weights computed by hand."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.weighting import SoftAdapt

NAMES = ("res", "ics", "bcs")
L0 = {"res": 1.0, "ics": 2.0, "bcs": 0.5}
L1 = {"res": 0.8, "ics": 2.5, "bcs": 0.1}
RATES = {"res": -0.2, "ics": 0.5, "bcs": -0.4}  # L1 - L0


def losses(values, dtype=jnp.float64):
    return {n: jnp.asarray(v, dtype) for n, v in values.items()}


def two_updates(scheme, first=L0, second=L1):
    state = scheme.init(NAMES, jnp.float64)
    state = scheme.update(state, None, losses(first), 0)  # term_grads are ignored
    return scheme.update(state, None, losses(second), scheme.period)


def softmax_by_hand(logits, prefactor=None):
    prefactor = prefactor or dict.fromkeys(logits, 1.0)
    z = sum(prefactor[n] * math.exp(v) for n, v in logits.items())
    return {n: prefactor[n] * math.exp(v) / z for n, v in logits.items()}


def test_first_update_keeps_uniform_weights_and_remembers_the_losses():
    scheme = SoftAdapt()
    state = scheme.update(scheme.init(NAMES, jnp.float64), None, losses(L0), 0)
    assert all(float(state.weights[n]) == pytest.approx(1 / 3, rel=1e-15) for n in NAMES)
    assert {n: float(v) for n, v in state.memory["previous"].items()} == L0
    assert int(state.memory["updates"]) == 1 and int(state.held) == 0


@pytest.mark.parametrize("beta", [0.1, 2.0, -3.0])
def test_original_variant_is_the_softmax_of_beta_times_the_rates(beta):
    state = two_updates(SoftAdapt(beta=beta))
    want = softmax_by_hand({n: beta * s for n, s in RATES.items()})
    for n in NAMES:
        np.testing.assert_allclose(state.weights[n], want[n], rtol=1e-12)


def test_normalized_variant_divides_the_rates_by_their_l1_norm():
    state = two_updates(SoftAdapt(beta=2.0, variant="normalized"))
    l1 = 0.2 + 0.5 + 0.4
    want = softmax_by_hand({n: 2.0 * s / (l1 + 1e-8) for n, s in RATES.items()})
    for n in NAMES:
        np.testing.assert_allclose(state.weights[n], want[n], rtol=1e-12)


def test_loss_weighted_variant_multiplies_by_the_current_loss():
    state = two_updates(SoftAdapt(beta=2.0, variant="loss-weighted"))
    want = softmax_by_hand({n: 2.0 * s for n, s in RATES.items()}, prefactor=L1)
    for n in NAMES:
        np.testing.assert_allclose(state.weights[n], want[n], rtol=1e-12)


@pytest.mark.parametrize("variant", ["original", "normalized", "loss-weighted"])
@pytest.mark.parametrize("sum_to, total", [("one", 1.0), ("terms", 3.0)])
def test_weights_sum_to_the_documented_total_along_a_run(variant, sum_to, total):
    scheme = SoftAdapt(beta=5.0, variant=variant, sum_to=sum_to)
    state = scheme.init(NAMES, jnp.float64)
    rng = np.random.default_rng(0)
    for step in range(20):
        state = scheme.update(state, None, losses({n: rng.uniform(0.01, 3.0) for n in NAMES}), step)
        np.testing.assert_allclose(sum(float(w) for w in state.weights.values()), total, rtol=1e-12)
        assert all(float(w) > 0 for w in state.weights.values())


def test_sum_to_terms_is_the_convex_weights_times_the_number_of_terms():
    one, terms = two_updates(SoftAdapt(beta=2.0)), two_updates(SoftAdapt(beta=2.0, sum_to="terms"))
    for n in NAMES:
        np.testing.assert_allclose(terms.weights[n], 3 * one.weights[n], rtol=1e-14)


def test_only_the_rates_count_and_beta_zero_is_uniform():
    """Adding a constant to one term's two losses leaves its rate, hence every weight, unchanged."""
    shifted = two_updates(SoftAdapt(beta=2.0), {**L0, "ics": 102.0}, {**L1, "ics": 102.5})
    plain = two_updates(SoftAdapt(beta=2.0))
    for n in NAMES:
        np.testing.assert_allclose(shifted.weights[n], plain.weights[n], rtol=1e-12)
    assert all(float(w) == pytest.approx(1 / 3, rel=1e-15) for w in two_updates(SoftAdapt(beta=0.0)).weights.values())


def test_positive_beta_favours_the_slowest_improving_term():
    w = two_updates(SoftAdapt(beta=1.0)).weights
    assert float(w["ics"]) > float(w["res"]) > float(w["bcs"])  # rates 0.5 > -0.2 > -0.4


def test_non_finite_loss_holds_weights_and_memory_and_counts():
    scheme = SoftAdapt(beta=2.0)
    state = scheme.update(scheme.init(NAMES, jnp.float64), None, losses(L0), 0)
    bad = scheme.update(state, None, losses({**L1, "bcs": float("nan")}), 1)
    assert int(bad.held) == 1 and int(bad.memory["updates"]) == 1
    assert all(float(bad.weights[n]) == float(state.weights[n]) for n in NAMES)
    assert {n: float(v) for n, v in bad.memory["previous"].items()} == L0
    good = scheme.update(bad, None, losses(L1), 2)  # resumes from the last finite losses
    np.testing.assert_allclose(good.weights["ics"], softmax_by_hand({n: 2.0 * s for n, s in RATES.items()})["ics"], rtol=1e-12)


def test_schedule_is_every_step_by_default():
    assert SoftAdapt().needs_grads(0) is True
    assert bool(jnp.all(SoftAdapt().needs_grads(jnp.arange(7))))
    assert list(np.flatnonzero(SoftAdapt(period=10).needs_grads(jnp.arange(25)))) == [0, 10, 20]


def test_wrong_names_and_fields_are_rejected():
    scheme = SoftAdapt()
    with pytest.raises(KeyError, match=r"unknown term name\(s\) \['bsc'\] and lacks \['bcs'\]; valid term names are"):
        scheme.update(scheme.init(NAMES), None, losses({"res": 1.0, "ics": 1.0, "bsc": 1.0}), 0)
    for bad, match in [
        ({"beta": float("nan")}, "beta"),
        ({"variant": "smooth"}, "variant"),
        ({"sum_to": "two"}, "sum_to"),
        ({"period": 0}, "period"),
        ({"eps": -1.0}, "eps"),
    ]:
        with pytest.raises(ValueError, match=match):
            SoftAdapt(**bad)
