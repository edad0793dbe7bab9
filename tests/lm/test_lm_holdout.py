"""Held-out rows pick the iteration an LM phase ends with (``lm.holdout``, ``LevenbergMarquardt.holdout_term``).

The case: 40 noisy samples of sin(3 x) fitted by a 1-20-20-1 MLP (481 parameters, more than
the rows): Levenberg-Marquardt drives the training misfit down past the noise level, so the
misfit on held-out rows falls, then rises. A run that holds out 10 rows must end with the
parameters of a straight run on the other 30 rows stopped at the chosen record.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import Constant, TrainConfig, fit
from pinnbalance.lm import LevenbergMarquardt
from pinnbalance.lm.holdout import Selection, split_rows
from pinnbalance.losses import term_loss
from pinnbalance.nn import mlp_for
from pinnbalance.problems.base import Problem
from pinnbalance.problems.domain import Box
from pinnbalance.problems.observations import data_term, observations_from_arrays

BOX = Box((-1.0,), (1.0,), ("x",))
N, FRACTION, SEED = 40, 0.25, 3
LM = LevenbergMarquardt(max_iters=60, log_every=5, holdout_term="data", holdout_fraction=FRACTION, holdout_seed=SEED)


def _samples():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-1.0, 1.0, N))
    return x[:, None], np.sin(3.0 * x) + 0.3 * rng.normal(size=N)


def _problem(rows=None, batch_size=None):
    x, y = _samples()
    rows = np.arange(N) if rows is None else rows
    obs = observations_from_arrays(x[rows], y[rows], domain=BOX)
    terms = {"data": data_term(obs, batch_size=batch_size)}
    return Problem("noisy-fit", BOX, terms, exact=lambda z: jnp.sin(3.0 * z[0]), reference="data")


def _fit(problem, settings):
    config = TrainConfig(steps=0, lm=settings, dtype="float64", log_every=10, chunk_logs=1, seed=0)
    net = mlp_for(BOX, (20, 20))
    return net, fit(problem, net, Constant(), config, progress=False)


def _held_loss(net, params):
    x, y = _samples()
    _, held = split_rows(N, FRACTION, SEED)
    rows = jnp.asarray(np.concatenate([x[held], y[held, None]], axis=1))
    return float(term_loss(_problem(), net, params, rows, "data"))


def test_split_rows_is_a_fixed_disjoint_cover_of_the_rows():
    train, held = split_rows(10, 0.3, seed=1)
    assert len(held) == 3 and len(train) == 7
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(10))
    np.testing.assert_array_equal(held, split_rows(10, 0.3, seed=1)[1])  # the same split every time
    assert not np.array_equal(held, split_rows(10, 0.3, seed=2)[1])
    with pytest.raises(ValueError, match="holdout_fraction"):
        split_rows(3, 0.1, seed=0)  # round(0.3) = 0 rows held out


def test_selection_keeps_the_lowest_and_counts_records_since():
    s = Selection.start(patience=2)
    for loss, at in [(3.0, 5), (2.0, 10), (2.5, 15), (float("nan"), 20)]:
        s = s.update(loss, f"p{at}", at)
    assert (s.best, s.params, s.at, s.since, s.exhausted) == (2.0, "p10", 10, 2, True)
    assert not Selection.start().update(1.0, "p", 1).update(2.0, "q", 2).exhausted  # no patience: never


def test_the_phase_ends_at_the_lowest_held_out_loss_which_a_straight_run_confirms():
    net, picked = _fit(_problem(), LM)
    info = picked.extra["lm"]
    at = info["holdout_iteration"]
    assert info["iterations"] == 60 and 0 < at < 60  # the held-out misfit rose again before the end
    np.testing.assert_allclose(_held_loss(net, picked.params), info["holdout_loss"], rtol=1e-12)
    train, _ = split_rows(N, FRACTION, SEED)
    # the same 30 training rows without a held-out term: the same iterations, so stopped at `at` it gives the chosen parameters
    _, stopped = _fit(_problem(train), dataclasses.replace(LM, holdout_term=None, max_iters=at))
    _, full = _fit(_problem(train), dataclasses.replace(LM, holdout_term=None))
    chosen, same = jax.tree_util.tree_leaves(picked.params), jax.tree_util.tree_leaves(stopped.params)
    for a, b in zip(chosen, same):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    assert info["holdout_loss"] < _held_loss(net, full.params)  # the end of the run fits the held-out rows worse
    assert full.history["loss_data"][-1] < stopped.history["loss_data"][-1]  # ... while the training misfit fell on


def test_patience_stops_the_run_after_that_many_records_without_a_new_lowest():
    _, result = _fit(_problem(), dataclasses.replace(LM, patience=2))
    info = result.extra["lm"]
    assert info["reason"] == "held-out loss" and info["iterations"] == info["holdout_iteration"] + 2 * LM.log_every


def test_a_redraw_that_changes_the_held_out_terms_rows_is_refused():
    settings = dataclasses.replace(LM, resample_every=10)
    with pytest.raises(ValueError, match="would be trained on"):
        _fit(_problem(batch_size=30), settings)  # 30 random rows of 40 each draw


def test_settings_name_the_bad_value():
    with pytest.raises(ValueError, match="set holdout_term too"):
        LevenbergMarquardt(patience=3)
    with pytest.raises(ValueError, match=r"holdout_fraction must be a number in \(0, 1\)"):
        LevenbergMarquardt(holdout_term="data", holdout_fraction=1.0)
    with pytest.raises(ValueError, match="'dat' is not a term of the problem"):
        LevenbergMarquardt(holdout_term="dat").check_terms(("res", "data"))
