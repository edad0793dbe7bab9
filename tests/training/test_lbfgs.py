"""The L-BFGS phase: it reaches the closed-form least-squares minimiser of a linear toy model."""

import dataclasses
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.problems import Box, Problem, Term, uniform
from pinnbalance.training import TrainConfig, fit, fit_seeds
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.weighting import Constant


@dataclass(frozen=True)
class Line:
    """u(z) = a z + b: the weighted loss is quadratic in (a, b), so its minimiser is closed-form."""

    def init(self, key, dtype=jnp.float64):
        return {"a": jnp.asarray(0.3, dtype), "b": jnp.asarray(-0.2, dtype)}

    def field(self, params):
        return lambda z: params["a"] * z[0] + params["b"]


def toy_problem():
    box = Box((0.0,), (1.0,), ("x",))
    terms = {
        "res": Term(lambda u, z: u(z) - 2.0 * z[0] ** 2, uniform(box), 16),
        "bcs": Term(lambda u, z: u(z) - 1.0, uniform(box), 8),
    }
    return Problem("toy", box, terms, exact=lambda z: 2.0 * z[0] ** 2)


def least_squares(points, weights):
    """argmin_{a,b} sum_i w_i mean_j (a x_ij + b - y_ij)^2 by the normal equations."""
    rows, rhs = [], []
    for name, target in (("res", lambda x: 2 * x**2), ("bcs", lambda x: np.ones_like(x))):
        x = np.asarray(points[name][:, 0])
        scale = np.sqrt(weights[name] / len(x))
        rows.append(scale * np.stack([x, np.ones_like(x)], 1))
        rhs.append(scale * target(x))
    return np.linalg.lstsq(np.concatenate(rows), np.concatenate(rhs), rcond=None)[0]


@pytest.mark.parametrize("policy", ["frozen", "unit", {"bcs": 1000.0}])
def test_reaches_the_weighted_least_squares_minimiser(policy):
    weights = {"res": 1.0, "bcs": 30.0}
    config = TrainConfig(
        steps=20,
        log_every=10,
        sampling="fixed",
        dtype="float64",
        lbfgs=LBFGS(max_iters=60, grad_tol=1e-9, log_every=5, weights=policy),
    )
    result = fit(toy_problem(), Line(), Constant(weights), config, progress=False)
    used = (
        {"frozen": weights, "unit": {"res": 1.0, "bcs": 1.0}}.get(policy) if isinstance(policy, str) else {"res": 1.0, **policy}
    )
    expected = least_squares(result.state.points, used)
    np.testing.assert_allclose([result.params["a"], result.params["b"]], expected, rtol=1e-7)
    info = result.extra["lbfgs"]
    assert info["reason"] == "grad_tol" and 0 < info["iterations"] < 60
    # the history goes on after the first phase, numbered after its steps
    steps = result.history["step"]
    assert steps[0] == 0 and steps[-1] == 20 + info["iterations"] and np.all(np.diff(steps) > 0)
    assert result.history["l2"][-1] < result.history["l2"][1]
    assert result.weights["bcs"] == used["bcs"] and result.weights["res"] == 1.0


def test_stops_at_max_iters_and_draws_points_when_sampling_is_random():
    config = TrainConfig(steps=10, log_every=10, dtype="float64", lbfgs=LBFGS(max_iters=2, grad_tol=0.0, log_every=5))
    result = fit(toy_problem(), Line(), Constant(), config, progress=False)
    assert result.extra["lbfgs"]["reason"] == "max_iters" and result.extra["lbfgs"]["iterations"] == 2


def test_vmapped_seeds_each_refine():
    config = TrainConfig(steps=10, log_every=10, sampling="fixed", dtype="float64", lbfgs=LBFGS(max_iters=60, grad_tol=1e-9))
    for result in fit_seeds(toy_problem(), Line(), Constant(), config, [1, 2], progress=False):
        expected = least_squares(result.state.points, {"res": 1.0, "bcs": 1.0})
        np.testing.assert_allclose([result.params["a"], result.params["b"]], expected, rtol=1e-7)
        assert result.extra["lbfgs"]["reason"] == "grad_tol"


def test_seeds_one_at_a_time_equal_the_vmapped_phase():
    """The CPU default (each seed's L-BFGS on its own, results stacked) gives what the vmapped
    phase gives, records included, also when seeds stop after different iteration counts."""
    import jax
    import optax

    from pinnbalance.metrics import evaluation_grid
    from pinnbalance.training.fit import initial_states
    from pinnbalance.training.lbfgs import refine

    problem, config = toy_problem(), TrainConfig(sampling="fixed", dtype="float64")
    runs = [(Constant(), dataclasses.replace(config, seed=s)) for s in (1, 2, 3)]
    states = initial_states(problem, Line(), runs, optax.adam(1e-3))
    grid, exact = evaluation_grid(problem, 20, jnp.float64)
    settings = LBFGS(max_iters=60, grad_tol=1e-9, log_every=3)
    runs = {
        one: refine(problem, Line(), Constant(), states, settings, grid, exact, jnp.float64, True, one) for one in (True, False)
    }
    (a, recs_a, reasons_a, iters_a), (b, recs_b, reasons_b, iters_b) = runs[True], runs[False]
    assert reasons_a == reasons_b == ["grad_tol"] * 3 and iters_a == iters_b
    assert len(set(iters_a)) > 1  # the seeds stopped at different iterations: padded records
    for x, y in zip(jax.tree_util.tree_leaves((a.params, a.weights)), jax.tree_util.tree_leaves((b.params, b.weights))):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(a.step, b.step)
    assert len(recs_a) == len(recs_b)
    for ra, rb in zip(recs_a, recs_b):
        np.testing.assert_allclose(ra["l2"], rb["l2"], rtol=1e-10)
        np.testing.assert_array_equal(ra["step"], rb["step"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_iters": 0}, "max_iters"),
        ({"grad_tol": -1.0}, "grad_tol"),
        ({"weights": "adaptive"}, "weight policy"),
        ({"weights": {"bcs": -2.0}}, "finite number >= 0"),
        ({"weights": {"bcs": float("nan")}}, "finite number >= 0"),
        ({"weights": {"bcs": "high"}}, "term name -> number"),
    ],
)
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LBFGS(**kwargs)


def test_run_config_lbfgs_section_round_trips_and_runs(tmp_path):
    import json
    import tomllib

    from pinnbalance import config as cfg
    from pinnbalance.cli import main

    text = f"""
[network]
hidden = [8]
[sampling]
batch_size = 16
mode = "fixed"
[lbfgs]
max_iters = 30
points = 24
log_every = 10
[train]
steps = 20
log_every = 10
chunk_logs = 1
checkpoint_every = 10
[output]
dir = "{(tmp_path / "run").as_posix()}"
"""
    path = tmp_path / "c.toml"
    path.write_text(text)
    config = cfg.load(path)
    assert config.train.lbfgs == LBFGS(max_iters=30, log_every=10, points=24)
    (tmp_path / "again.toml").write_text(cfg.dumps(config))
    assert cfg.load(tmp_path / "again.toml") == config
    assert main(["run", str(path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["lbfgs"]["reason"] in ("max_iters", "grad_tol", "no progress") and summary["lbfgs"]["iterations"] >= 1
    with pytest.raises(cfg.ConfigError, match="max_iter.*did you mean 'max_iters'"):
        cfg.from_dict({"lbfgs": {"max_iter": 3}})
    with pytest.raises(cfg.ConfigError, match="weight policy"):
        cfg.from_dict({"lbfgs": {"weights": "moving"}})
    # fixed weights per term: a TOML table naming the problem's own terms, kept by a round trip
    fixed = cfg.from_dict({"lbfgs": {"weights": {"ics": 100.0}}})
    assert fixed.train.lbfgs.weights == {"ics": 100.0} and cfg.from_dict(tomllib.loads(cfg.dumps(fixed))) == fixed
    with pytest.raises(cfg.ConfigError, match=r"\['ic'\] that the problem does not have; its terms: \['res', 'ics', 'bcs'\]"):
        cfg.from_dict({"lbfgs": {"weights": {"ic": 100.0}}})


def test_float64_phase_after_a_float32_run_returns_float32_parameters():
    weights = {"res": 1.0, "bcs": 30.0}
    config = TrainConfig(steps=20, log_every=10, sampling="fixed", lbfgs=LBFGS(max_iters=60, grad_tol=1e-9, dtype="float64"))
    result = fit(toy_problem(), Line(), Constant(weights), config, progress=False)
    assert result.params["a"].dtype == jnp.float32 and result.state.points["res"].dtype == jnp.float32
    expected = least_squares({k: np.asarray(v, np.float64) for k, v in result.state.points.items()}, weights)
    np.testing.assert_allclose([result.params["a"], result.params["b"]], expected, rtol=1e-6)
    assert result.extra["lbfgs"]["reason"] == "grad_tol"
    with pytest.raises(ValueError, match="float32"):
        LBFGS(dtype="half")
