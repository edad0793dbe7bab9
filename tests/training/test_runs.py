"""Runs that differ in a learning rate or scheme hyperparameters, as one vmapped state in one
compiled program: equal to separate runs (float64)."""

import dataclasses

import numpy as np
import pytest

from pinnbalance import LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for
from pinnbalance.training import fit_runs
from pinnbalance.training.runs import check_runs, sweep_runs, sweepable
from pinnbalance.weighting import NTK, ReLoBRaLo

CONFIG = TrainConfig(steps=40, log_every=10, chunk_logs=2, eval_grid=12, dtype="float64")
PROBLEM = klein_gordon(batch_size=24)
NET = mlp_for(PROBLEM.domain, (12, 12))


def test_each_run_equals_its_own_training():
    """Three runs in one program, two on the same seed, each with its own learning rate and
    EMA beta, against three separate ``fit`` calls with those settings (float64): histories,
    weights and parameters agree to rounding. The learning rates and betas are far enough apart
    that a run given another run's values would not pass."""
    scheme = LearningRateAnnealing(period=5)
    settings = [(7, 1e-3, 0.9), (7, 5e-3, 0.5), (8, 2e-3, 0.99)]
    runs = [(dataclasses.replace(scheme, beta=b), dataclasses.replace(CONFIG, seed=s, learning_rate=lr)) for s, lr, b in settings]
    together = fit_runs(PROBLEM, NET, runs, progress=False)
    assert together[0].traces == 1  # two equal chunks, one program for all three runs
    for i, ((seed, lr, beta), run) in enumerate(zip(settings, together)):
        assert run.config.learning_rate == lr and run.config.seed == seed
        assert float(run.state.weights.hyper["beta"]) == beta
        alone = fit(PROBLEM, NET, runs[i][0], runs[i][1], progress=False)
        for key in ("l2", "loss_res", "weight_ics", "weight_bcs", "grad_norm_res"):
            np.testing.assert_allclose(run.history[key], alone.history[key], rtol=1e-9, err_msg=f"run {i}: {key}")
        for a, b in zip(run.params, alone.params):
            np.testing.assert_allclose(a["W"], b["W"], rtol=1e-9, atol=1e-12)
    assert not np.allclose(together[0].history["weight_bcs"], together[1].history["weight_bcs"])


def test_sweep_runs_and_the_sweepable_names():
    runs = sweep_runs(LearningRateAnnealing(), CONFIG, [1, 2], {"beta": [0.9, 0.99], "learning_rate": [1e-3]})
    assert [(c.seed, s.beta, c.learning_rate) for s, c in runs] == [
        (1, 0.9, 1e-3),
        (1, 0.99, 1e-3),
        (2, 0.9, 1e-3),
        (2, 0.99, 1e-3),
    ]
    assert sweepable(LearningRateAnnealing()) == ("learning_rate", "beta", "eps")
    assert "period" not in sweepable(NTK())  # an int: it shapes the compiled schedule
    assert sweepable(ReLoBRaLo()) == ("learning_rate", "alpha", "temperature", "eps")


def test_runs_that_cannot_share_a_program_are_refused_by_name():
    with pytest.raises(ValueError, match=r"cannot sweep \['period'\].*'learning_rate', 'beta', 'eps'.*separate runs"):
        sweep_runs(LearningRateAnnealing(), CONFIG, [1], {"period": [5, 10]})
    with pytest.raises(ValueError, match="beta"):  # the scheme's own check, on the run's value
        sweep_runs(LearningRateAnnealing(), CONFIG, [1], {"beta": [0.9, 1.5]})
    other_period = [(LearningRateAnnealing(), CONFIG), (LearningRateAnnealing(period=5), CONFIG)]
    with pytest.raises(ValueError, match="run 1: another weighting scheme than run 0"):
        check_runs(other_period)
    other_steps = [(NTK(), CONFIG), (NTK(), dataclasses.replace(CONFIG, steps=50))]
    with pytest.raises(ValueError, match="run 1: other steps than run 0"):
        check_runs(other_steps)
    with pytest.raises(ValueError, match="two runs are the same"):
        fit_runs(PROBLEM, NET, [(NTK(), CONFIG), (NTK(), CONFIG)], progress=False)
