"""Swept learning rates and scheme parameters as vmapped arrays: equal to separate runs."""

import dataclasses

import numpy as np
import optax
import pytest

from pinnbalance import Constant, LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for
from pinnbalance.training import fit_seeds
from pinnbalance.training.lanes import grid, sweepable
from pinnbalance.weighting import NTK

CONFIG = TrainConfig(steps=40, log_every=10, chunk_logs=2, eval_grid=12, dtype="float64")
PROBLEM = klein_gordon(batch_size=24)
NET = mlp_for(PROBLEM.domain, (12, 12))


def test_each_lane_equals_its_own_run():
    """Three runs in one program, two on the same seed, each with its own learning rate and
    EMA beta, against three separate ``fit`` calls with those settings (float64): histories,
    weights and parameters agree to rounding. The learning rates and betas are far enough apart
    that a lane given another lane's values would not pass."""
    seeds = [7, 7, 8]
    values = {"learning_rate": [1e-3, 5e-3, 2e-3], "beta": [0.9, 0.5, 0.99]}
    scheme = LearningRateAnnealing(period=5)
    together = fit_seeds(PROBLEM, NET, scheme, CONFIG, seeds, values=values, progress=False)
    assert together[0].traces == 1  # two equal chunks, one program for all three runs
    for i, (seed, run) in enumerate(zip(seeds, together)):
        lr, beta = values["learning_rate"][i], values["beta"][i]
        assert run.config.learning_rate == lr and run.config.seed == seed
        assert run.extra["values"] == {"learning_rate": lr, "beta": beta}
        alone = fit(
            PROBLEM,
            NET,
            dataclasses.replace(scheme, beta=beta),
            dataclasses.replace(CONFIG, seed=seed, learning_rate=lr),
            progress=False,
        )
        for key in ("l2", "loss_res", "weight_ics", "weight_bcs", "grad_norm_res"):
            np.testing.assert_allclose(run.history[key], alone.history[key], rtol=1e-9, err_msg=f"run {i}: {key}")
        for a, b in zip(run.params, alone.params):
            np.testing.assert_allclose(a["W"], b["W"], rtol=1e-9, atol=1e-12)
    assert not np.allclose(together[0].history["weight_bcs"], together[1].history["weight_bcs"])


def test_grid_and_the_sweepable_names():
    assert grid([1, 2], {"beta": [0.9, 0.99], "learning_rate": [1e-3]}) == (
        [1, 1, 2, 2],
        {"beta": [0.9, 0.99, 0.9, 0.99], "learning_rate": [1e-3, 1e-3, 1e-3, 1e-3]},
    )
    assert sweepable(LearningRateAnnealing()) == ("learning_rate", "beta", "eps")
    assert "period" not in sweepable(NTK())  # an int: it shapes the compiled schedule


@pytest.mark.parametrize(
    ("values", "kwargs", "match"),
    [
        ({"period": [5, 10]}, {}, r"cannot sweep \['period'\].*'learning_rate', 'beta', 'eps'.*separate runs"),
        ({"width": [8, 16]}, {}, r"cannot sweep \['width'\]"),
        ({"beta": [0.9]}, {}, r"values\['beta'\] has 1 entries but there are 2 seeds"),
        ({"beta": [0.9, float("nan")]}, {}, r"values\['beta'\] must be finite numbers"),
        ({"beta": [0.9, 1.5]}, {}, r"run 1 \(seed 2, \{'beta': 1.5\}\): beta .* must be in \[0, 1\)"),
        ({"learning_rate": [1e-3, -1.0]}, {}, r"run 1 .*learning_rate must be > 0"),
        ({"learning_rate": [1e-3, 2e-3]}, {"optimizer": optax.sgd(1e-3)}, "pass optimizer=None"),
    ],
)
def test_bad_lanes_are_refused_by_name(values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_seeds(PROBLEM, NET, LearningRateAnnealing(), CONFIG, [1, 2], values=values, progress=False, **kwargs)


def test_runs_must_differ():
    with pytest.raises(ValueError, match="same seed and values"):
        fit_seeds(PROBLEM, NET, LearningRateAnnealing(), CONFIG, [1, 1], values={"beta": [0.9, 0.9]}, progress=False)
    with pytest.raises(ValueError, match="seeds must be distinct"):
        fit_seeds(PROBLEM, NET, LearningRateAnnealing(), CONFIG, [1, 1], progress=False)


def test_an_optimizer_of_ones_own_takes_each_runs_learning_rate():
    """``optimizer_for`` builds each run's optimizer from its rate (here plain SGD). A lane's
    rate arrives as a float32 array (see ``train_loop``), so the rates are powers of two,
    exact in float32, and the lanes equal separate float64 runs to 1e-9."""
    rates = [2.0**-16, 2.0**-13]
    runs = fit_seeds(
        PROBLEM,
        NET,
        LearningRateAnnealing(),
        CONFIG,
        [3, 3],
        values={"learning_rate": rates},
        optimizer_for=optax.sgd,
        progress=False,
    )
    for rate, run in zip(rates, runs):
        alone = fit(
            PROBLEM, NET, LearningRateAnnealing(), dataclasses.replace(CONFIG, seed=3), optimizer=optax.sgd(rate), progress=False
        )
        np.testing.assert_allclose(run.history["l2"], alone.history["l2"], rtol=1e-9)
    assert runs[0].history["l2"][-1] != runs[1].history["l2"][-1]


def test_a_scheme_of_ones_own_sweeps_the_learning_rate():
    """A weighting scheme that is no dataclass (a user's own) has nothing else to sweep."""

    class Fixed:
        def needs_grads(self, step):
            return False

        def init(self, term_names, dtype):
            return Constant().init(term_names, dtype)

        def update(self, state, term_grads, term_losses, step):
            return state

    assert sweepable(Fixed()) == ("learning_rate",)
    runs = fit_seeds(PROBLEM, NET, Fixed(), CONFIG, [1, 1], values={"learning_rate": [1e-3, 2e-3]}, progress=False)
    assert runs[0].config.learning_rate == 1e-3 and runs[1].history["l2"][-1] != runs[0].history["l2"][-1]
