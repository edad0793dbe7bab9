"""The Levenberg-Marquardt phase inside ``fit``: from scratch, after Adam, for several seeds."""

import dataclasses

import numpy as np

from pinnbalance import Constant, LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for
from pinnbalance.lm import LevenbergMarquardt
from pinnbalance.losses import term_losses, weighted_sum
from pinnbalance.training import fit_seeds
from pinnbalance.training.lm_phase import lm_points

LM = LevenbergMarquardt(max_iters=12, log_every=4)
CONFIG = TrainConfig(steps=0, lm=LM, dtype="float64", eval_grid=16, log_every=10, chunk_logs=1)


def _setup():
    problem = klein_gordon(batch_size=40)
    return problem, mlp_for(problem.domain, (8, 8))


def test_from_scratch_the_weighted_loss_falls_at_every_record_and_the_history_says_so():
    problem, net = _setup()
    result = fit(problem, net, Constant(), CONFIG, progress=False)
    np.testing.assert_array_equal(result.history["step"], [4, 8, 12])
    info = result.extra["lm"]
    assert info["reason"] == "max_iters" and info["iterations"] == 12 and info["solver"] in ("dense", "kernel")
    total = sum(result.history[f"loss_{n}"] for n in problem.term_names)  # unit weights
    assert np.all(np.diff(total) < 0)
    # the final parameters' weighted loss on the phase's own points is the last record's
    points = lm_points(problem, result.state, LM, np.float64)
    final = float(weighted_sum(term_losses(problem, net, result.params, points), result.state.weights.weights))
    np.testing.assert_allclose(final, total[-1], rtol=1e-10)


def test_after_adam_the_steps_go_on_and_the_weights_carry_over():
    problem, net = _setup()
    config = dataclasses.replace(CONFIG, steps=20)
    result = fit(problem, net, LearningRateAnnealing(), config, progress=False)
    np.testing.assert_array_equal(result.history["step"], [0, 10, 24, 28, 32])
    lra = result.history["weight_bcs"]
    assert lra[-1] == lra[-2] == lra[-3] != 1.0  # frozen: the annealed weight after Adam, unchanged by LM


def test_each_seed_trains_its_own_lm_phase_as_alone():
    problem, net = _setup()
    together = fit_seeds(problem, net, Constant(), CONFIG, [3, 4], progress=False)
    for seed, res in zip([3, 4], together):
        alone = fit(problem, net, Constant(), dataclasses.replace(CONFIG, seed=seed), progress=False)
        assert res.extra["lm"]["iterations"] == alone.extra["lm"]["iterations"]
        for key in alone.history:
            np.testing.assert_allclose(res.history[key], alone.history[key], rtol=1e-10, err_msg=key)
