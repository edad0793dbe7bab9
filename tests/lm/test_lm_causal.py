"""Causal weighting in Levenberg-Marquardt: the causal term's rows scaled by sqrt of the slice
weights, the loss the first-order trainer's, the weights held within an iteration, the eps
schedule moved on, the history's causal columns, and a resume through a checkpoint file
(float64; a time-dependent fit by a small network: no derivatives, so it compiles fast)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from pinnbalance import Constant, TrainConfig
from pinnbalance.lm import LevenbergMarquardt, jacobian, residual_vector
from pinnbalance.lm.causal import causal_lm_init, causal_lm_step, causal_row_weights
from pinnbalance.losses import term_losses, weighted_sum
from pinnbalance.nn import mlp_for
from pinnbalance.problems import Box, Problem, Term, uniform
from pinnbalance.training.causal_schedule import problem_at
from pinnbalance.training.checkpoint import load_checkpoint, read_manifest, save_checkpoint
from pinnbalance.training.fit import Interrupted, fit, initial_states, train
from pinnbalance.training.lm_checkpoint import resumed, template
from pinnbalance.weighting.causal import Causal, causal_problem

F64 = jnp.float64
WEIGHTS = {"res": 2.0, "ic": 5.0}


def target(z):
    return jnp.sin(3 * z[0]) * jnp.cos(2 * z[1]) + z[0]


def fit_problem(causal=Causal(slices=3, eps=0.5, eps_schedule=(2.0,))):
    """u(t, x) ~ target on [0, 1]^2 (term "res", made causal over t), and u = target + 0.1 at t in [0, 0.05]."""
    box = Box((0.0, 0.0), (1.0, 1.0), ("t", "x"))
    early = Box((0.0, 0.0), (0.05, 1.0), ("t", "x"))
    terms = {
        "res": Term(lambda u, z: u(z) - target(z), uniform(box), 24),
        "ic": Term(lambda u, z: u(z) - target(z) - 0.1, uniform(early), 6),
    }
    return causal_problem(Problem("fit", box, terms, exact=target), causal)


def setup(key=0):
    problem = fit_problem()
    network = mlp_for(problem.domain, (5,))
    params = network.init(jax.random.PRNGKey(key), F64)
    ic = jnp.stack([jnp.linspace(0.0, 0.05, 4), jnp.linspace(0.1, 0.9, 4)], axis=1)
    return problem, network, params, ic


def hand_rows(network, params, res, ic, eps):
    """The causal LM residual vector built by hand: slice losses L_i (3 slices of [0, 1] in t),
    w = (1, exp(-eps L_0), exp(-eps (L_0 + L_1))), row j of slice i times sqrt(lambda w_i / (3 n_i))."""
    u = jax.vmap(lambda z: network.apply(params, z))  # noqa: E731
    r = np.asarray(u(res) - jax.vmap(target)(res))
    index = np.minimum((np.asarray(res[:, 0]) * 3).astype(int), 2)
    L = [np.mean(r[index == i] ** 2) for i in range(3)]
    w = np.array([1.0, np.exp(-eps * L[0]), np.exp(-eps * (L[0] + L[1]))])
    n_i = np.array([np.sum(index == i) for i in range(3)])
    rows = np.sqrt(WEIGHTS["res"] * w[index] / (3 * n_i[index])) * r
    ic_rows = np.sqrt(WEIGHTS["ic"] / len(ic)) * np.asarray(u(ic) - jax.vmap(target)(ic) - 0.1)
    return np.concatenate([rows, ic_rows]), w


def test_equal_slices_give_rows_sqrt_w_times_the_residual():
    """Two points in each of three slices: the causal term's rows are sqrt(w_i) r_j sqrt(lambda / n)."""
    problem, network, params, ic = setup()
    res = jnp.array([[0.1, 0.2], [0.3, 0.7], [0.4, 0.1], [0.6, 0.5], [0.7, 0.9], [0.95, 0.3]])
    points, schedule = {"res": res, "ic": ic}, {"index": jnp.int32(1), "since": jnp.int32(0)}  # eps = 2
    rows, w, eps = causal_row_weights(problem, network, params, points, WEIGHTS, schedule)
    r = residual_vector(problem, network, params, points, rows)
    expected, w_hand = hand_rows(network, params, res, ic, 2.0)
    plain = np.asarray(jax.vmap(lambda z: network.apply(params, z) - target(z))(res))
    np.testing.assert_allclose(r[:6], np.sqrt(np.repeat(w_hand, 2)) * plain * np.sqrt(WEIGHTS["res"] / 6), rtol=1e-12)
    np.testing.assert_allclose(r, expected, rtol=1e-12)
    np.testing.assert_allclose(w, w_hand, rtol=1e-12)
    assert float(eps) == 2.0 and w_hand[2] < w_hand[1] < 1.0


def test_unequal_slices_and_the_jacobian_of_the_scaled_rows():
    """One, two and three points in the slices: rows sqrt(lambda w_i / (M n_i)) r_j; the per-point
    Jacobian with per-point row weights equals jacrev of the whole vector."""
    problem, network, params, ic = setup()
    res = jnp.array([[0.2, 0.2], [0.4, 0.7], [0.5, 0.1], [0.7, 0.5], [0.8, 0.9], [1.0, 0.3]])
    points, schedule = {"res": res, "ic": ic}, {"index": jnp.int32(0), "since": jnp.int32(0)}  # eps = 0.5
    rows, _, _ = causal_row_weights(problem, network, params, points, WEIGHTS, schedule)
    expected, _ = hand_rows(network, params, res, ic, 0.5)
    np.testing.assert_allclose(residual_vector(problem, network, params, points, rows), expected, rtol=1e-12)
    flat, unravel = ravel_pytree(params)
    whole = jax.jacrev(lambda t: residual_vector(problem, network, unravel(t), points, rows))(flat)
    for batch_size in (None, 4):
        J = jacobian(problem, network, params, points, rows, batch_size=batch_size)
        np.testing.assert_allclose(J, whole, rtol=0, atol=1e-13 * float(jnp.max(jnp.abs(whole))))


@pytest.mark.parametrize("index", [0, 1])
def test_the_lm_loss_is_the_first_order_causally_weighted_loss(index):
    """||r||^2 of the LM state equals sum_k lambda_k L_k with the causal term's L the first-order
    trainer's (1/M) sum_i w_i L_i at the schedule's eps, on random points (unequal slices)."""
    problem, network, params, _ = setup()
    points = {n: jnp.asarray(p, F64) for n, p in _points(problem).items()}
    schedule = {"index": jnp.int32(index), "since": jnp.int32(0)}
    state = causal_lm_init(problem, network, params, points, WEIGHTS, LevenbergMarquardt(), schedule)
    first_order = weighted_sum(term_losses(problem_at(problem, schedule, F64), network, params, points), WEIGHTS)
    by_hand, _ = hand_rows(network, params, points["res"], points["ic"], (0.5, 2.0)[index])
    np.testing.assert_allclose(state.loss, first_order, rtol=1e-12)
    np.testing.assert_allclose(state.loss, np.sum(by_hand**2), rtol=1e-12)


def _points(problem):
    from pinnbalance.problems import sample_batch

    return sample_batch(problem, jax.random.PRNGKey(3), F64)


def test_an_iteration_holds_its_weights_and_the_schedule_moves_when_every_weight_exceeds_delta():
    """The accepted step's loss is ||r||^2 under the weights of the iteration's START (not those at its
    end); eps moves on only when min w > delta: eps = 1e-6 then yes (w ~ 1), eps = 50 then no."""
    problem, network, params, _ = setup()
    points, settings = _points(problem), LevenbergMarquardt(max_iters=5)
    start = causal_lm_init(problem, network, params, points, WEIGHTS, settings, {"index": jnp.int32(1), "since": jnp.int32(0)})
    new = jax.jit(lambda s: causal_lm_step(problem, network, s, points, WEIGHTS, settings))(start)
    held, _, _ = causal_row_weights(problem, network, params, points, WEIGHTS, start.causal)
    moved, _, _ = causal_row_weights(problem, network, new.params, points, WEIGHTS, start.causal)
    loss = lambda p, rows: float(jnp.sum(residual_vector(problem, network, p, points, rows) ** 2))  # noqa: E731
    assert int(new.iteration) == 1 and float(new.loss) < float(start.loss)
    np.testing.assert_allclose(float(new.loss), loss(new.params, held), rtol=1e-12)
    assert abs(float(new.loss) - loss(new.params, moved)) > 1e-6 * float(new.loss)
    assert int(new.causal["index"]) == 1  # the last eps is kept

    tiny = fit_problem(Causal(slices=3, eps=1e-6, eps_schedule=(50.0, 60.0)))
    s = causal_lm_init(tiny, network, params, points, WEIGHTS, settings)
    for expected in (1, 1):  # eps 1e-6: every w > 0.99, next; eps 50: the later slices' w << 0.99, stay
        s = causal_lm_step(tiny, network, s, points, WEIGHTS, settings)
        assert int(s.causal["index"]) == expected and int(s.causal["since"]) == 1


LM = LevenbergMarquardt(max_iters=8, log_every=2, step_tol=0.0, checkpoint_every=4)
CONFIG = TrainConfig(steps=0, lm=LM, dtype="float64", eval_grid=8, log_every=5, chunk_logs=1)


def test_fit_records_the_causal_columns_after_adam_and_in_the_lm_phase():
    problem, network, _, _ = setup()
    config = dataclasses.replace(CONFIG, steps=10)
    result = fit(problem, network, Constant(), config, progress=False)
    h = result.history
    np.testing.assert_array_equal(h["step"], [0, 5, 12, 14, 16, 18])
    assert np.all(np.isfinite(h["causal/eps"])) and np.all(np.isfinite(h["causal/w_min"]))
    assert set(h["causal/eps"]) <= {0.5, 2.0} and np.all(h["causal/w_min"] <= 1.0)
    w = np.stack([h[f"causal/w_{i}"] for i in range(3)], axis=-1)
    np.testing.assert_allclose(h["causal/w_min"], w.min(axis=-1), rtol=0)
    eps_values = np.array([0.5, 2.0])
    assert float(h["causal/eps"][-1]) == eps_values[int(result.state.causal["index"])]


def test_stopped_and_resumed_through_a_checkpoint_file_equals_a_straight_run(tmp_path, stop_in_lm_phase):
    problem, network, _, _ = setup()
    straight = fit(problem, network, Constant(), CONFIG, progress=False)
    stop = stop_in_lm_phase(4)
    with pytest.raises(Interrupted):
        train(problem, network, [(Constant(), CONFIG)], progress=False, callbacks=[stop])
    state, records, step = stop.saved
    meta = {"step": step, "config": {"lm": dataclasses.asdict(LM), "train": {"steps": 0}}, "phase": "lm"}
    save_checkpoint(tmp_path / "c.npz", state, records, meta)
    blank = initial_states(problem, network, [(Constant(), CONFIG)], stacked=False)
    loaded = load_checkpoint(tmp_path / "c.npz", template(blank, problem, network, read_manifest(tmp_path / "c.npz"), runs=None))
    [again] = train(problem, network, [(Constant(), CONFIG)], progress=False, start=resumed(*loaded, meta["config"]))
    assert list(again.history) == list(straight.history)
    for key in straight.history:
        np.testing.assert_allclose(again.history[key], straight.history[key], rtol=1e-12, atol=0, err_msg=key)
    assert int(again.state.causal["index"]) == int(straight.state.causal["index"])
