"""Causal weighting (Wang, Sankaran & Perdikaris 2024): weights by hand, slicing, stop_gradient, eps schedule."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.problems import klein_gordon
from pinnbalance.weighting import Causal, CausalState, causal_loss, causal_weights, slice_losses
from pinnbalance.weighting.causal import slice_index


def test_three_slice_weights_by_hand():
    """L = [0.5, 0.2, 0.1], eps = 2: w = [1, exp(-2 * 0.5), exp(-2 * (0.5 + 0.2))] = [1, e^-1, e^-1.4]."""
    w = causal_weights(jnp.array([0.5, 0.2, 0.1], jnp.float64), 2.0)
    np.testing.assert_allclose(w, [1.0, math.exp(-1.0), math.exp(-1.4)], rtol=1e-15)
    # the last slice's own loss never enters any weight; eps = 0: no causality
    np.testing.assert_array_equal(
        causal_weights(jnp.array([0.5, 0.2, 99.0]), 2.0), causal_weights(jnp.array([0.5, 0.2, 0.1]), 2.0)
    )
    np.testing.assert_array_equal(causal_weights(jnp.array([0.5, 0.2, 0.1]), 0.0), [1.0, 1.0, 1.0])


def test_causal_loss_by_hand():
    """Two points per slice: L = [(1 + 3)/2, (0.5 + 1.5)/2, 0.25] = [2, 1, 0.25], eps = 0.5."""
    times = jnp.array([0.1, 0.2, 0.4, 0.5, 0.9], jnp.float64)
    losses = jnp.array([1.0, 3.0, 0.5, 1.5, 0.25], jnp.float64)
    loss, w = causal_loss(losses, times, t0=0.0, t1=1.2, slices=3, eps=0.5)  # slices [0, .4), [.4, .8), [.8, 1.2]
    want_w = [1.0, math.exp(-0.5 * 2), math.exp(-0.5 * 3)]
    np.testing.assert_allclose(w, want_w, rtol=1e-15)
    assert float(loss) == pytest.approx((2.0 * want_w[0] + 1.0 * want_w[1] + 0.25 * want_w[2]) / 3, rel=1e-14)


def test_slicing_puts_points_in_the_right_slice_edges_included():
    # t0 = 0, t1 = 1, M = 4: edges 0.25, 0.5, 0.75 are exact in binary
    times = jnp.array([0.0, 0.1, 0.25, 0.49, 0.5, 0.74, 0.75, 0.99, 1.0])
    assert slice_index(times, t0=0.0, t1=1.0, slices=4).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 3]
    # shifted window [2, 6], M = 4: slices of width 1; outside points go to the end slices
    times = jnp.array([2.0, 2.999, 3.0, 5.5, 6.0, 1.0, 7.0])
    assert slice_index(times, t0=2.0, t1=6.0, slices=4).tolist() == [0, 0, 1, 3, 3, 0, 3]
    # slice means: point losses equal to 10 * (true slice) + something averaging to zero
    losses = jnp.array([0.0, 2.0, 10.0, 30.0, 31.0, 29.0, 0.0, 30.0])
    t = jnp.array([0.1, 0.2, 0.3, 0.8, 0.9, 1.0, 0.0, 0.75])
    np.testing.assert_allclose(slice_losses(losses, t, t0=0.0, t1=1.0, slices=4), [2 / 3, 10.0, 0.0, 30.0])  # slice 2 empty: 0


def test_no_gradient_flows_through_the_weights():
    """dL_causal/dl_p = w_i / (M n_i) for a point p in slice i: the weights act as constants."""
    times = jnp.array([0.1, 0.2, 0.6, 0.7, 0.8], jnp.float64)
    losses = jnp.array([0.4, 0.8, 0.3, 0.1, 0.2], jnp.float64)
    eps, M = 3.0, 2
    grad = jax.grad(lambda p: causal_loss(p, times, t0=0.0, t1=1.0, slices=M, eps=eps)[0])(losses)
    w2 = math.exp(-eps * 0.6)  # L_1 = (0.4 + 0.8) / 2
    np.testing.assert_allclose(grad, [1 / 4, 1 / 4, w2 / 6, w2 / 6, w2 / 6], rtol=1e-14)
    # without stop_gradient the first slice's points would also get -eps w2 L_2 / (M n_1) from w2
    assert jnp.all(jax.grad(lambda s: jnp.sum(causal_weights(s, eps)))(jnp.array([0.6, 0.2])) == 0)


def test_eps_schedule_moves_on_when_every_weight_exceeds_delta_and_stays_at_the_last():
    causal = Causal(slices=3, eps=0.01, eps_schedule=(0.1, 1.0), delta=0.99)
    assert causal.eps_values == (0.01, 0.1, 1.0)
    state = causal.init()
    assert int(state.index) == 0 and state.index.dtype == jnp.int32
    low = jnp.array([1.0, 0.995, 0.98])  # min w = 0.98 <= delta: stay
    high = jnp.array([1.0, 0.999, 0.995])  # min w > delta: move on
    state = causal.update(state, low)
    assert int(state.index) == 0
    state = causal.update(state, high)
    assert int(state.index) == 1 and float(causal.current_eps(state)) == pytest.approx(0.1)
    state = causal.update(state, high)
    assert int(state.index) == 2 and float(causal.current_eps(state)) == pytest.approx(1.0)
    state = causal.update(state, high)  # the last eps is kept
    assert int(state.index) == 2
    assert int(causal.update(CausalState(jnp.int32(1)), jnp.array([1.0, jnp.nan, 1.0])).index) == 1  # NaN: stay
    assert int(causal.update(causal.init(), jnp.array([1.0, 0.99, 1.0])).index) == 0  # strictly greater
    constant = Causal()  # no schedule: eps stays
    assert int(constant.update(constant.init(), jnp.ones(32)).index) == 0 and float(constant.current_eps(constant.init())) == 1.0


def test_schedule_in_a_loop_with_a_shrinking_residual():
    """Residual losses that shrink over 'training': the schedule climbs only as the weights allow."""
    causal = Causal(slices=4, eps=1.0, eps_schedule=(10.0, 100.0))
    times = jnp.linspace(0.0, 1.0, 40)
    state, history = causal.init(), []
    for scale in [1.0, 1e-3, 1e-3, 1e-5, 1e-5]:
        _, w = causal.loss(state, scale * jnp.ones(40), times, t0=0.0, t1=1.0)
        # by hand: w_min = exp(-eps * 3 * scale)
        assert float(jnp.min(w)) == pytest.approx(math.exp(-causal.eps_values[int(state.index)] * 3 * scale), rel=1e-6)
        state = causal.update(state, w)
        history.append(int(state.index))
    # 1.0: exp(-3) < .99 stay; 1e-3: exp(-.003) > .99 -> 1; exp(-.03) < .99 stay; 1e-5: exp(-3e-4) -> 2; stays 2
    assert history == [0, 1, 1, 2, 2]


def test_jit_and_vmap_over_eps_and_states():
    times = jax.random.uniform(jax.random.PRNGKey(0), (50,), jnp.float64)
    losses = jax.random.uniform(jax.random.PRNGKey(1), (50,), jnp.float64)
    fn = jax.jit(lambda p, t, e: causal_loss(p, t, t0=0.0, t1=1.0, slices=5, eps=e))
    eps = jnp.array([0.1, 1.0, 10.0])
    batched_loss, batched_w = jax.vmap(fn, in_axes=(None, None, 0))(losses, times, eps)
    for k, e in enumerate(eps):
        loss, w = causal_loss(losses, times, t0=0.0, t1=1.0, slices=5, eps=float(e))
        np.testing.assert_allclose(batched_loss[k], loss, rtol=1e-14)
        np.testing.assert_allclose(batched_w[k], w, rtol=1e-14)
    # more causality, smaller weights
    assert bool(jnp.all(jnp.diff(batched_w[:, -1]) < 0))
    causal = Causal(slices=5, eps=0.1, eps_schedule=(1.0,))
    states = CausalState(jnp.array([0, 1], jnp.int32))  # two runs at different points of the schedule
    update = jax.jit(jax.vmap(causal.update))
    new = update(states, jnp.array([[1.0, 0.999, 0.999, 0.999, 0.999], [1.0, 0.5, 0.5, 0.5, 0.5]]))
    assert new.index.tolist() == [1, 1]
    step = jax.jit(jax.vmap(lambda s: causal.loss(s, losses, times, t0=0.0, t1=1.0)[0]))
    np.testing.assert_allclose(step(states), batched_loss[:2], rtol=1e-14)  # eps 0.1 and 1.0


def test_bounds_from_the_domain_and_bad_settings():
    box = klein_gordon().domain
    axis, t0, t1 = Causal().bounds(box)
    assert box.names[axis] == "t" and (t0, t1) == (box.lower[axis], box.upper[axis])
    with pytest.raises(KeyError, match="unknown coordinate 'tau'"):
        Causal(time="tau").bounds(box)
    with pytest.raises(ValueError, match="must increase strictly"):
        Causal(eps=1.0, eps_schedule=(0.5,))
    with pytest.raises(ValueError, match="delta"):
        Causal(delta=1.0)
    with pytest.raises(ValueError, match="slices"):
        Causal(slices=0)
    with pytest.raises(ValueError, match=r"shape \(n,\)"):
        slice_losses(jnp.ones((4, 1)), jnp.ones(4), t0=0.0, t1=1.0, slices=2)


def test_a_causal_problem_trains_its_residual_by_the_causal_loss():
    """``causal_problem``: the residual term's loss is (1/M) sum_i w_i L_i over time slices with
    w_i = exp(-eps sum_{k<i} L_k), computed here by hand in NumPy from the same per-point
    losses; the other terms keep their mean; a short fit with annealing trains it."""
    import dataclasses

    import numpy as np

    from pinnbalance import LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for
    from pinnbalance.losses import point_losses, term_loss
    from pinnbalance.problems import sample_batch
    from pinnbalance.weighting.causal import Causal, causal_problem

    base = klein_gordon(batch_size=64)
    problem = causal_problem(base, Causal(slices=4, eps=3.0))
    net = mlp_for(problem.domain, (8,))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    batch = sample_batch(problem, jax.random.PRNGKey(1), jnp.float64)
    per_point = np.asarray(point_losses(base, net, params, batch["res"], "res"))
    t = np.asarray(batch["res"][:, 0])  # KG's coordinates are (t, x) on [0, 1]
    index = np.clip(np.floor(t * 4), 0, 3).astype(int)
    slices = np.array([per_point[index == i].mean() if np.any(index == i) else 0.0 for i in range(4)])
    weights = np.exp(-3.0 * np.concatenate([[0.0], np.cumsum(slices)[:-1]]))
    np.testing.assert_allclose(term_loss(problem, net, params, batch["res"], "res"), np.mean(weights * slices), rtol=1e-12)
    np.testing.assert_allclose(
        term_loss(problem, net, params, batch["ics"], "ics"), term_loss(base, net, params, batch["ics"], "ics")
    )
    config = TrainConfig(steps=30, log_every=10, chunk_logs=1, eval_grid=12, dtype="float64")
    result = fit(problem, net, LearningRateAnnealing(), config, progress=False)
    assert result.status == "completed" and np.all(np.isfinite(result.history["loss_res"]))
    assert dataclasses.replace(problem.terms["res"], reduce=None) == base.terms["res"]
