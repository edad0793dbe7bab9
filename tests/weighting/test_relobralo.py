"""ReLoBRaLo (Bischof & Kraus 2021) against its closed forms at the ends of rho and alpha."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.weighting import ReLoBRaLo

NAMES = ("res", "ics", "bcs")
SEQ = [  # losses at three consecutive update steps
    {"res": 1.0, "ics": 2.0, "bcs": 0.5},
    {"res": 0.8, "ics": 2.5, "bcs": 0.1},
    {"res": 0.9, "ics": 1.0, "bcs": 0.2},
]
T, EPS = 0.5, 1e-12


def losses(values):
    return {n: jnp.asarray(v, jnp.float64) for n, v in values.items()}


def bal(now, then):
    """M exp(L_i(t) / (T L_i(t') + eps)) / sum_j exp(L_j(t) / (T L_j(t') + eps)), by hand."""
    e = {n: math.exp(now[n] / (T * then[n] + EPS)) for n in NAMES}
    return {n: len(NAMES) * e[n] / sum(e.values()) for n in NAMES}


def run(scheme, seq=SEQ):
    state = scheme.init(NAMES, jnp.float64)
    states = []
    for step, values in enumerate(seq):
        state = scheme.update(state, None, losses(values), step)  # term_grads are ignored
        states.append(state)
    return states


def test_first_update_keeps_the_weights_and_remembers_the_losses():
    first = run(ReLoBRaLo(temperature=T), SEQ[:1])[0]
    assert all(float(first.weights[n]) == 1.0 for n in NAMES)
    assert {n: float(v) for n, v in first.memory["initial"].items()} == SEQ[0]
    assert {n: float(v) for n, v in first.memory["previous"].items()} == SEQ[0]


def test_rho_one_alpha_zero_is_the_softmax_of_relative_progress():
    """rho = 1, alpha = 0: lam_i(t) = M softmax_i(L_i(t) / (T L_i(t-1)))."""
    states = run(ReLoBRaLo(alpha=0.0, expected_rho=1.0, temperature=T))
    for t in (1, 2):
        want = bal(SEQ[t], SEQ[t - 1])
        for n in NAMES:
            np.testing.assert_allclose(states[t].weights[n], want[n], rtol=1e-12)


def test_second_update_takes_the_balance_alone_whatever_alpha():
    """As the reference code: the second update uses alpha = 0, rho = 1."""
    second = run(ReLoBRaLo(alpha=0.9, expected_rho=0.0, temperature=T), SEQ[:2])[1]
    want = bal(SEQ[1], SEQ[0])
    for n in NAMES:
        np.testing.assert_allclose(second.weights[n], want[n], rtol=1e-12)


def test_rho_one_keeps_the_history():
    """lam(t) = alpha lam(t-1) + (1 - alpha) bal(t, t-1)."""
    third = run(ReLoBRaLo(alpha=0.6, expected_rho=1.0, temperature=T))[2]
    previous, now = bal(SEQ[1], SEQ[0]), bal(SEQ[2], SEQ[1])
    for n in NAMES:
        np.testing.assert_allclose(third.weights[n], 0.6 * previous[n] + 0.4 * now[n], rtol=1e-12)


def test_rho_zero_looks_back_to_the_first_losses():
    """lam(t) = alpha bal(t, 0) + (1 - alpha) bal(t, t-1)."""
    third = run(ReLoBRaLo(alpha=0.6, expected_rho=0.0, temperature=T))[2]
    lookback, now = bal(SEQ[2], SEQ[0]), bal(SEQ[2], SEQ[1])
    for n in NAMES:
        np.testing.assert_allclose(third.weights[n], 0.6 * lookback[n] + 0.4 * now[n], rtol=1e-12)


def test_weights_keep_summing_to_the_number_of_terms():
    rng = np.random.default_rng(1)
    seq = [{n: rng.uniform(1e-3, 5.0) for n in NAMES} for _ in range(60)]
    for state in run(ReLoBRaLo(alpha=0.9, expected_rho=0.5), seq):
        np.testing.assert_allclose(sum(float(w) for w in state.weights.values()), 3.0, rtol=1e-12)
        assert all(float(w) > 0 for w in state.weights.values())


def test_lookback_is_a_pure_function_of_seed_and_step_with_the_right_frequency():
    scheme = ReLoBRaLo(expected_rho=0.7, seed=3)
    draws = np.array([bool(scheme.lookback(s)) for s in range(3000)])
    assert abs(draws.mean() - 0.7) < 0.03
    assert bool(scheme.lookback(123)) == bool(ReLoBRaLo(expected_rho=0.7, seed=3).lookback(123))
    other = np.array([bool(ReLoBRaLo(expected_rho=0.7, seed=4).lookback(s)) for s in range(3000)])
    assert (draws != other).any()
    assert all(bool(ReLoBRaLo(expected_rho=1.0).lookback(s)) for s in range(200))
    assert not any(bool(ReLoBRaLo(expected_rho=0.0).lookback(s)) for s in range(200))


def test_update_is_pure_the_same_inputs_give_the_same_state():
    scheme = ReLoBRaLo(alpha=0.5, expected_rho=0.5)
    state = run(scheme)[1]
    a = scheme.update(state, None, losses(SEQ[2]), 17)
    b = scheme.update(state, None, losses(SEQ[2]), 17)
    assert all(float(a.weights[n]) == float(b.weights[n]) for n in NAMES)


def test_zero_previous_loss_stays_finite_thanks_to_eps():
    states = run(ReLoBRaLo(alpha=0.0, expected_rho=1.0, temperature=T), [SEQ[0], {**SEQ[1], "bcs": 0.0}, SEQ[2]])
    assert int(states[-1].held) == 0
    np.testing.assert_allclose(states[-1].weights["bcs"], 3.0, rtol=1e-12)  # 0.2 / 1e-12 dominates the softmax


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_loss_holds_weights_and_memory_and_counts(bad):
    scheme = ReLoBRaLo(alpha=0.5, expected_rho=0.5, temperature=T)
    state = run(scheme, SEQ[:2])[1]
    new = scheme.update(state, None, losses({**SEQ[2], "ics": bad}), 2)
    assert int(new.held) == 1 and int(new.memory["updates"]) == 2
    assert all(float(new.weights[n]) == float(state.weights[n]) for n in NAMES)
    assert {n: float(v) for n, v in new.memory["previous"].items()} == SEQ[1]


def test_schedule_and_wrong_names_and_fields():
    assert ReLoBRaLo().needs_grads(0) is True
    assert list(np.flatnonzero(ReLoBRaLo(period=5).needs_grads(jnp.arange(12)))) == [0, 5, 10]
    with pytest.raises(KeyError, match=r"unknown term name\(s\) \['ic'\] and lacks \['ics'\]; valid term names are"):
        ReLoBRaLo().update(ReLoBRaLo().init(NAMES), None, losses({"res": 1.0, "ic": 1.0, "bcs": 1.0}), 0)
    for bad, match in [
        ({"alpha": 1.5}, "alpha"),
        ({"temperature": 0.0}, "temperature"),
        ({"expected_rho": -0.1}, "expected_rho"),
        ({"seed": 1.5}, "seed"),
        ({"period": 0}, "period"),
        ({"eps": -1.0}, "eps"),
    ]:
        with pytest.raises(ValueError, match=match):
            ReLoBRaLo(**bad)
