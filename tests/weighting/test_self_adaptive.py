"""Self-adaptive weights: one step against the closed-form gradients of a linear toy model."""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance.config import ConfigError, from_dict
from pinnbalance.problems import Box, Problem, Term, uniform
from pinnbalance.training import TrainConfig, fit
from pinnbalance.training.sampling import Sampling
from pinnbalance.training.state import initial_train_state
from pinnbalance.training.step import make_steps
from pinnbalance.weighting import SCHEMES, SelfAdaptive, init_weights


@dataclass(frozen=True)
class Line:
    """u(z) = a z: a one-parameter "network" whose gradients are written by hand."""

    def init(self, key, dtype=jnp.float64):
        return {"a": jnp.asarray(0.3, dtype)}

    def field(self, params):
        return lambda z: params["a"] * z[0]


def toy_problem(n=5):
    box = Box((0.0,), (1.0,), ("x",))
    terms = {
        "res": Term(lambda u, z: u(z) - 2.0 * z[0] ** 2, uniform(box), n),
        "bcs": Term(lambda u, z: u(z) - 1.0, uniform(box), n),
    }
    return Problem("toy", box, terms, exact=None)


@pytest.mark.parametrize("mask", ["square", "identity"])
def test_one_step_matches_the_closed_form(mask):
    problem, net = toy_problem(), Line()
    scheme = SelfAdaptive(learning_rate=0.7, optimizer="sgd", mask=mask, initial={"res": 1.5, "bcs": 2.0})
    lr = 0.1
    sampling = Sampling("fixed")
    points = sampling.initial_points(problem, jax.random.PRNGKey(3), jnp.float64)
    wstate = init_weights(scheme, problem, jnp.float64)
    # perturb the point weights so each point differs
    lam0 = {n: v * (1 + 0.1 * jnp.arange(5.0)) for n, v in wstate.memory["lambda"].items()}
    wstate = wstate._replace(memory={"lambda": lam0, "opt": scheme._ascent().init(lam0)})
    state = initial_train_state(net.init(None), optax.sgd(lr), wstate, jax.random.PRNGKey(0), points)
    step, _ = make_steps(problem, net, scheme, optax.sgd(lr), jnp.float64, sampling=sampling)
    new, info = step(state)

    a = 0.3
    m, dm = {"square": (lambda x: x**2, lambda x: 2 * x), "identity": (lambda x: x, lambda x: 1.0)}[mask]
    grad_a, expected_lam = 0.0, {}
    for name, target in (("res", lambda x: 2 * x**2), ("bcs", lambda x: 1.0)):
        x = np.asarray(points[name][:, 0])
        r = a * x - target(x)
        lam = np.asarray(lam0[name])
        grad_a += np.mean(m(lam) * 2 * r * x)
        expected_lam[name] = lam + 0.7 * dm(lam) * r**2 / len(x)  # ascent on dL/dlam
        np.testing.assert_allclose(info["losses"][name], np.mean(r**2), rtol=1e-12)
    np.testing.assert_allclose(new.params["a"], a - lr * grad_a, rtol=1e-12)
    for name in ("res", "bcs"):
        np.testing.assert_allclose(new.weights.memory["lambda"][name], expected_lam[name], rtol=1e-12)
        np.testing.assert_allclose(new.weights.weights[name], np.mean(m(expected_lam[name])), rtol=1e-12)
    assert int(new.weights.held) == 0


def test_only_named_terms_get_point_weights():
    problem = toy_problem()
    state = init_weights(SelfAdaptive(terms=("bcs",)), problem, jnp.float64)
    assert list(state.memory["lambda"]) == ["bcs"] and state.memory["lambda"]["bcs"].shape == (5,)
    assert float(state.weights["res"]) == 1.0
    with pytest.raises(KeyError, match="valid term names"):
        init_weights(SelfAdaptive(terms=("bc",)), problem)


def test_point_weights_need_fixed_sampling():
    problem = toy_problem()
    with pytest.raises(ValueError, match="fixed sampling"):
        make_steps(problem, Line(), SelfAdaptive(), optax.sgd(0.1))
    base = {"problem": {"name": "klein-gordon"}, "weighting": {"scheme": "self-adaptive"}}
    with pytest.raises(ConfigError, match='mode = "fixed"'):
        from_dict(base)
    assert from_dict({**base, "sampling": {"mode": "fixed"}}).train.sampling == "fixed"


def test_registered_and_trains_with_growing_weights():
    """Gradient ascent of a sum of squares only raises the weights (SGD ascent, square mask)."""
    assert SCHEMES["self-adaptive"] is SelfAdaptive
    from pinnbalance import klein_gordon, mlp_for

    problem = klein_gordon(batch_size=32)
    scheme = SelfAdaptive(optimizer="sgd", learning_rate=1e-6)
    result = fit(
        problem, mlp_for(problem.domain, (8,)), scheme, TrainConfig(steps=60, log_every=10, sampling="fixed"), progress=False
    )
    for name in problem.term_names:
        w = result.history[f"weight_{name}"]
        assert np.all(np.diff(w) >= 0) and w[-1] > 1.0
        assert np.all(np.asarray(result.state.weights.memory["lambda"][name]) >= 1.0)
