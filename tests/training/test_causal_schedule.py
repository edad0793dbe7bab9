"""Causal weighting in the trainer: the schedule's rule, the step's loss at the state's eps,
and the recorded weights being the ones the recorded step's loss used."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance import TrainConfig, mlp_for
from pinnbalance.losses import point_losses
from pinnbalance.problems import klein_gordon
from pinnbalance.training.causal_schedule import advance, causal_columns, causal_term, problem_at, schedule_check
from pinnbalance.training.fit import initial_state
from pinnbalance.training.step import make_steps
from pinnbalance.weighting import Constant
from pinnbalance.weighting.causal import Causal, causal_problem

CAUSAL = Causal(slices=4, eps=0.01, eps_schedule=(0.1, 1.0), steps_per_eps=50)


def state(index, since):
    return {"index": jnp.int32(index), "since": jnp.int32(since)}


def test_advance_moves_on_high_weights_or_after_steps_per_eps_and_keeps_the_last():
    reduce = causal_term(causal_problem(klein_gordon(), CAUSAL))[1]
    high, low = jnp.array([1.0, 0.999, 0.995, 0.991]), jnp.array([1.0, 0.9, 0.8, 0.7])
    moved = advance(reduce, state(0, 0), high, jnp.int32(11))
    assert (int(moved["index"]), int(moved["since"])) == (1, 11)  # min w = 0.991 > 0.99
    stay = advance(reduce, state(0, 0), low, jnp.int32(11))
    assert (int(stay["index"]), int(stay["since"])) == (0, 0)
    due = advance(reduce, state(1, 11), low, jnp.int32(61))  # 61 - 11 = 50 steps at eps 0.1
    assert (int(due["index"]), int(due["since"])) == (2, 61)
    assert int(advance(reduce, state(1, 11), low, jnp.int32(60))["index"]) == 1  # 49 steps: not yet
    last = advance(reduce, state(2, 61), high, jnp.int32(500))
    assert (int(last["index"]), int(last["since"])) == (2, 61)  # the last eps is kept
    nan = advance(reduce, state(0, 0), jnp.array([1.0, jnp.nan, 1.0, 1.0]), jnp.int32(11))
    assert int(nan["index"]) == 0
    # vmapped over runs at different positions
    runs = {"index": jnp.array([0, 1], jnp.int32), "since": jnp.array([0, 11], jnp.int32)}
    both = jax.vmap(lambda s, w: advance(reduce, s, w, jnp.int32(21)))(runs, jnp.stack([high, low]))
    assert both["index"].tolist() == [1, 1] and both["since"].tolist() == [21, 11]


def test_a_step_computes_its_loss_at_the_state_eps_and_the_record_holds_its_weights():
    """One step's causal loss equals (1/M) sum_i w_i L_i with L_i the slice means of its own
    batch's squared residuals and w_i = exp(-eps sum_{k<i} L_k), eps the state's (0.1 here);
    ``schedule_check`` reports those w_i and moves the schedule on (min w > 0.99 is false
    at this loss scale, but 50 steps have passed)."""
    problem = causal_problem(klein_gordon(batch_size=24), CAUSAL)
    network = mlp_for(problem.domain, (6,))
    config = TrainConfig(steps=1, dtype="float64", log_every=1)
    opt = optax.sgd(1e-3)
    s0 = initial_state(problem, network, Constant(), opt, config, 7)._replace(causal=state(1, 0), step=jnp.int32(49))
    [plain] = [make_steps(problem_at(problem, s0.causal, jnp.float64), network, Constant(), opt, jnp.float64)[0]]
    s1, info = jax.jit(plain)(s0)
    _, sub = jax.random.split(s0.key)  # the step's batch, drawn as the step draws it
    pts = config.sampling_spec().batch(problem, s0.points, sub, s0.step, jnp.float64)[0]["res"]
    sq = np.asarray(point_losses(problem, network, s0.params, pts, "res"))
    index = np.clip(np.floor(np.asarray(pts[:, 0]) * 4 / 1.0).astype(int), 0, 3)  # KG: t in [0, 1]
    slices = np.array([sq[index == i].mean() if np.any(index == i) else 0.0 for i in range(4)])
    w = np.exp(-0.1 * np.concatenate([[0.0], np.cumsum(slices[:-1])]))
    np.testing.assert_allclose(info["losses"]["res"], np.mean(w * slices), rtol=1e-12)
    s1 = s1._replace(causal=s0.causal)
    after, rec = jax.jit(schedule_check(problem, network, config.sampling_spec(), jnp.float64))(s0, s1)
    np.testing.assert_allclose([rec[f"w_{i}"] for i in range(4)], w, rtol=1e-12)
    assert float(rec["eps"]) == pytest.approx(0.1) and float(rec["w_min"]) == pytest.approx(w.min())
    assert (int(after.causal["index"]), int(after.causal["since"])) == (2, 50)


def test_history_columns_pad_records_of_later_phases_with_nan():
    rec = {"step": np.array([0, 10]), "causal": {"eps": np.array([0.1, 1.0]), "w_min": np.array([0.5, 0.9])}}
    later = {"step": np.array([20])}  # an L-BFGS phase's record: no causal part
    cols = causal_columns([rec, later])
    np.testing.assert_array_equal(cols["causal/eps"], [0.1, 1.0, np.nan])
    assert causal_columns([later]) == {}


def test_tensorboard_rows_carry_the_causal_columns(tmp_path):
    from pinnbalance.tensorboard import EventWriter, read_events, write_records

    writer = EventWriter(tmp_path)
    flat = {"step": np.array([0, 10]), "l2": np.array([1.0, 0.5]), "causal.eps": np.array([0.1, 1.0]), "causal.w_0": np.ones(2)}
    assert write_records([writer], flat, 0) == 2
    writer.close()
    rows = [e["values"] for e in read_events(next(tmp_path.glob("events*"))) if e.get("values")]
    assert [r["causal/eps"] for r in rows] == pytest.approx([0.1, 1.0]) and rows[0]["causal/w_0"] == 1.0
