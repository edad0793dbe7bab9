"""The Levenberg-Marquardt iteration against closed forms, steps computed by hand in numpy, and a
short Klein-Gordon run (float64)."""

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.lm import (
    LevenbergMarquardt,
    lm_init,
    lm_step,
    residual_vector,
    train_lm,
)
from pinnbalance.metrics import evaluation_grid
from pinnbalance.problems import Box, Problem, Term, sample_batch, uniform

HERE = Path(__file__).parent


# ---------------------------------------------------------------- toy models


@dataclass(frozen=True)
class Features:
    """u(z) = theta . phi(z) with phi = (1, 2x - 1, cos pi x, sin 4 pi x): the residuals are linear in theta."""

    def init(self, key=None, dtype=jnp.float64):
        return {"theta": jnp.array([0.5, -1.0, 0.2, 0.3], dtype)}

    def field(self, params):
        return lambda z: (
            jnp.stack([jnp.ones_like(z[0]), 2 * z[0] - 1, jnp.cos(jnp.pi * z[0]), jnp.sin(4 * jnp.pi * z[0])]) @ params["theta"]
        )


def phi(x):
    return np.stack([np.ones_like(x), 2 * x - 1, np.cos(np.pi * x), np.sin(4 * np.pi * x)], 1)


def linear_problem():
    box = Box((0.0,), (1.0,), ("x",))
    terms = {
        "res": Term(lambda u, z: u(z) - jnp.exp(z[0]), uniform(box), 12),
        "bcs": Term(lambda u, z: u(z) - 2.0, uniform(box), 5),
    }
    return Problem("linear", box, terms)


@dataclass(frozen=True)
class Exponential:
    """u(x) = exp(a x) + b; a point is (x, y) and its residual u(x) - y."""

    def field(self, params):
        return lambda z: jnp.exp(params["a"] * z[0]) + params["b"]


def exponential_problem():
    box = Box((0.0, 0.0), (1.0, 1.0), ("x", "y"))
    return Problem("exp", box, {"fit": Term(lambda u, p: u(p[:1]) - p[1], uniform(box), 3)}, reference="fit")


X, Y = np.array([0.0, 0.5, 1.0]), np.array([1.2, 1.9, 3.1])


def exponential_points():
    return {"fit": jnp.asarray(np.stack([X, Y], 1))}


# ---------------------------------------------------------------- closed forms


def test_linear_least_squares_reaches_the_lstsq_solution():
    problem, network = linear_problem(), Features()
    points = sample_batch(problem, jax.random.PRNGKey(3), jnp.float64)
    weights = {"res": 1.0, "bcs": 30.0}
    rows, rhs = [], []
    for name, target in (("res", np.exp), ("bcs", lambda x: np.full_like(x, 2.0))):
        x = np.asarray(points[name][:, 0])
        scale = np.sqrt(weights[name] / len(x))
        rows.append(scale * phi(x))
        rhs.append(scale * target(x))
    expected = np.linalg.lstsq(np.concatenate(rows), np.concatenate(rhs), rcond=None)[0]

    settings = LevenbergMarquardt(damping=1e-10, max_iters=10, grad_tol=1e-9, log_every=1)
    params, records, info = train_lm(problem, network, network.init(), points, settings, weights=weights)
    np.testing.assert_allclose(params["theta"], expected, rtol=0, atol=1e-10)
    assert info["reason"] == "grad_tol" and info["iterations"] <= 3 and info["rejected"] == 0


def test_linear_residual_has_gain_ratio_one_so_nielsen_divides_damping_by_three():
    problem, network = linear_problem(), Features()
    points = sample_batch(problem, jax.random.PRNGKey(3), jnp.float64)
    weights = {"res": 1.0, "bcs": 1.0}
    settings = LevenbergMarquardt(damping=0.5)
    state = lm_step(
        problem, network, lm_init(problem, network, network.init(), points, weights, settings), points, weights, settings
    )
    # the quadratic model is exact, rho = 1: mu max(1/3, 1 - 1) = mu / 3
    np.testing.assert_allclose(state.damping, 0.5 / 3, rtol=1e-12)
    assert int(state.rejected) == 0 and int(state.iteration) == 1


# ---------------------------------------------------------------- one step by hand


def hand_step(a, b, mu, nu, weight, rule, max_trials=20, increase=10.0, decrease=0.1):
    """One iteration of the module docstring's algorithm, written out in numpy."""
    s = np.sqrt(weight / len(X))

    def r(a, b):
        return s * (np.exp(a * X) + b - Y)

    theta, loss = np.array([a, b]), np.sum(r(a, b) ** 2)
    J = s * np.stack([X * np.exp(a * X), np.ones_like(X)], 1)
    g = J.T @ r(a, b)
    rejected = 0
    for _ in range(max_trials):
        h = np.linalg.solve(J.T @ J + mu * np.eye(2), -g)
        new = np.sum(r(*(theta + h)) ** 2)
        rho = (loss - new) / (h @ (mu * h - g))
        ok = new < loss
        if rule == "nielsen":
            mu, nu = (mu * max(1 / 3, 1 - (2 * rho - 1) ** 3), 2.0) if ok else (mu * nu, 2 * nu)
        else:
            mu = mu * (decrease if ok else increase)
        if ok:
            return theta + h, new, mu, nu, rejected
        rejected += 1
    return theta, loss, mu, nu, rejected


@pytest.mark.parametrize("rule", ["nielsen", "fixed"])
@pytest.mark.parametrize("start", [(0.8, 0.3, 1e-2), (-2.0, 0.0, 1e-6)])  # first trial accepted / rejected
def test_one_step_equals_a_step_by_hand(rule, start):
    a, b, mu = start
    weight = 2.5
    expected = hand_step(a, b, mu, 2.0, weight, rule)
    problem, network, points = exponential_problem(), Exponential(), exponential_points()
    settings = LevenbergMarquardt(damping=mu, rule=rule, min_damping=1e-12)
    params = {"a": jnp.float64(a), "b": jnp.float64(b)}
    w = {"fit": weight}
    state = jax.jit(lambda p: lm_step(problem, network, lm_init(problem, network, p, points, w, settings), points, w, settings))(
        params
    )
    theta, loss, new_mu, new_nu, rejected = expected
    np.testing.assert_allclose([state.params["a"], state.params["b"]], theta, rtol=1e-12)
    np.testing.assert_allclose([state.loss, state.damping, state.nu], [loss, new_mu, new_nu], rtol=1e-12)
    assert int(state.rejected) == rejected and int(state.iteration) == 1 and int(state.reason) == 0
    assert (rejected > 0) == (start[0] < 0)  # both branches are exercised


def test_the_loss_never_increases_and_a_stopped_state_resumes_as_one_run():
    problem, network, points = exponential_problem(), Exponential(), exponential_points()
    settings = LevenbergMarquardt(damping=1e-6, max_iters=6, log_every=2)
    params = {"a": jnp.float64(4.0), "b": jnp.float64(-3.0)}
    step = jax.jit(lambda s: lm_step(problem, network, s, points, {"fit": 1.0}, settings))
    state, losses = lm_init(problem, network, params, points, {"fit": 1.0}, settings), []
    for _ in range(6):
        state = step(state)
        losses.append(float(state.loss))
    assert np.all(np.diff(losses) <= 0) and losses[-1] < losses[0]
    # train_lm (two compiled chunks of 3) ends where the hand-driven steps end
    end, records, info = train_lm(problem, network, params, points, settings, weights={"fit": 1.0})
    np.testing.assert_allclose([end["a"], end["b"]], [state.params["a"], state.params["b"]], rtol=1e-14)
    assert info["reason"] == "max_iters" and info["iterations"] == 6 and [r["step"] for r in records] == [2, 4, 6]


# ---------------------------------------------------------------- a real PINN


def test_klein_gordon_loss_falls_monotonically_and_tenfold(kg):
    problem, network, params, points = kg(hidden=(10, 10), points=(200, 50, 50))
    grid, exact = evaluation_grid(problem, 30, jnp.float64)
    weights = {"res": 1.0, "ics": 1.0, "bcs": 1.0}
    start = float(jax.jit(lambda p: jnp.sum(residual_vector(problem, network, p, points, weights) ** 2))(params))
    settings = LevenbergMarquardt(max_iters=40, log_every=1)
    end, records, info = train_lm(problem, network, params, points, settings, weights=weights, grid=grid, exact=exact)
    losses = np.array([start] + [r["loss"] for r in records])
    assert info["iterations"] == 40 and info["reason"] == "max_iters"
    assert np.all(np.diff(losses) <= 0), losses
    assert losses[-1] < losses[0] / 10
    last = records[-1]  # the recorded loss is the weighted sum of the recorded term losses
    np.testing.assert_allclose(last["loss"], sum(weights[n] * last["losses"][n] for n in weights), rtol=1e-10)
    assert np.isfinite(last["l2"]) and end[0]["W"].dtype == jnp.float64


def test_weights_naming_an_unknown_term_and_a_non_finite_start_are_reported():
    problem, network, points = exponential_problem(), Exponential(), exponential_points()
    with pytest.raises(ValueError, match=r"\['bcs'\].*its terms: \['fit'\]"):
        train_lm(problem, network, {"a": 1.0, "b": 0.0}, points, LevenbergMarquardt(weights={"bcs": 2.0}), weights={"fit": 1.0})
    params = {"a": jnp.float64(jnp.nan), "b": jnp.float64(0.0)}
    end, records, info = train_lm(problem, network, params, points, LevenbergMarquardt(), weights={"fit": 1.0})
    assert info["reason"] == "non-finite loss" and info["iterations"] == 0 and records == []
