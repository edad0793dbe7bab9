"""Unknown parameters: declared by name, passed to the residuals that ask for them, stored as
their documented transform, differentiated like u, and bad declarations refused by name."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance.derivatives import axis_derivatives
from pinnbalance.losses import term_loss
from pinnbalance.nn import MLP
from pinnbalance.nn.with_unknowns import WithUnknowns, unknowns_optimizer, with_unknowns
from pinnbalance.problems import Box, FieldUnknown, Problem, Scalar, Term, uniform
from pinnbalance.problems.base import term_residuals
from pinnbalance.problems.unknowns import residual_unknowns
from pinnbalance.training.config import TrainConfig

LINE = Box((0.0,), (1.0,), ("x",))
PLANE = Box((0.0, 0.0), (1.0, 2.0), ("x", "t"))


def problem_with(residual, unknowns, box=LINE, **kwargs):
    return Problem("p", box, {"res": Term(residual, uniform(box), 4, "res")}, unknowns=unknowns, **kwargs)


def constant_net(value, inputs=1):
    """An MLP whose output is ``value`` everywhere (zero weights, last bias = value)."""
    net = MLP((inputs, 3, 1))
    params = jax.tree_util.tree_map(jnp.zeros_like, net.init(jax.random.PRNGKey(0), jnp.float64))
    params[-1]["b"] = jnp.array([value], jnp.float64)
    return net, params


# ---- declaring ------------------------------------------------------------------------


def test_residual_unknowns_are_the_required_keyword_only_parameters():
    def res(u, z, *, kappa, rho, c=2.0):
        return u(z)

    assert residual_unknowns(res) == ("kappa", "rho")
    assert residual_unknowns(lambda u, z: u(z)) == ()


def test_a_positive_scalar_is_stored_as_its_log_and_used_as_exp():
    k = Scalar(0.25, positive=True)
    raw = k.init_params(None, jnp.float64)
    assert float(raw) == math.log(0.25)
    assert float(k.value(raw)) == pytest.approx(0.25, rel=1e-15)
    free = Scalar(-3.0)
    assert float(free.value(free.init_params(None, jnp.float64))) == -3.0


def test_a_residual_asking_for_an_undeclared_unknown_is_refused_by_name():
    with pytest.raises(
        ValueError, match=r"term 'res' asks for unknown parameter\(s\) \['kapa'\].*declared unknowns: \['kappa'\]"
    ):
        problem_with(lambda u, z, *, kapa: kapa * u(z), {"kappa": Scalar(1.0)})
    with pytest.raises(ValueError, match=r"\['k'\].*declared unknowns: \[\]"):
        problem_with(lambda u, z, *, k: k * u(z), {})


def test_a_positive_unknown_initialised_at_or_below_zero_is_refused():
    with pytest.raises(ValueError, match=r"unknown 'k' is positive but initialised at -0.5; give a positive init"):
        problem_with(lambda u, z, *, k: k * u(z), {"k": Scalar(-0.5, positive=True)})
    with pytest.raises(ValueError, match="unknown 'k' is positive but initialised at 0"):
        problem_with(lambda u, z, *, k: k * u(z), {"k": Scalar(0, positive=True)})
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        problem_with(lambda u, z, *, k: k * u(z), {"k": Scalar(1.0, learning_rate=-1e-3)})


def test_a_field_unknown_with_inputs_that_are_not_coordinates_is_refused():
    with pytest.raises(
        ValueError, match=r"field unknown 'a': input 'y' is not a coordinate of the problem; give names from \['x', 't'\]"
    ):
        problem_with(lambda u, z, *, a: a(z) * u(z), {"a": FieldUnknown(MLP((1, 4, 1)), inputs=("y",))}, PLANE)
    with pytest.raises(ValueError, match=r"input 5 is not a coordinate"):
        problem_with(lambda u, z, *, a: a(z) * u(z), {"a": FieldUnknown(MLP((1, 4, 1)), inputs=(5,))}, PLANE)
    with pytest.raises(ValueError, match=r"its network maps 2 input\(s\).*build it with layers \(1, \.\.\., 1\)"):
        problem_with(lambda u, z, *, a: a(z) * u(z), {"a": FieldUnknown(MLP((2, 4, 1)), inputs=("x",))}, PLANE)


def test_exact_unknowns_must_name_unknowns():
    with pytest.raises(ValueError, match=r"exact_unknowns names 'q', not an unknown"):
        problem_with(lambda u, z, *, k: k * u(z), {"k": Scalar(1.0)}, exact_unknowns={"q": 1.0})


def test_problems_without_unknowns_keep_their_network_and_optimizer():
    problem = problem_with(lambda u, z: u(z), {})
    net, opt = MLP((1, 4, 1)), optax.adam(1e-3)
    assert with_unknowns(problem, net) is net
    assert unknowns_optimizer(net, opt, TrainConfig()) is opt


# ---- passing them in --------------------------------------------------------------------


def test_the_residual_receives_the_scalar_by_name():
    """r = k u(z) - 1 with u = 3 and k = exp(log 2) = 2: r = 5 at every point."""
    problem = problem_with(lambda u, z, *, k: k * u(z) - 1.0, {"k": Scalar(2.0, positive=True)})
    sol, sol_params = constant_net(3.0)
    net = with_unknowns(problem, sol)
    params = {"network": sol_params, "unknowns": {"k": jnp.log(jnp.asarray(2.0, jnp.float64))}}
    r = term_residuals(problem.terms["res"], net.field(params), jnp.linspace(0, 1, 4)[:, None])
    np.testing.assert_allclose(r, 5.0 * np.ones((4, 1)), rtol=1e-14)


def test_the_gradient_reaches_a_positive_unknown_through_exp():
    """L = (k - 3)^2 with k = exp(raw): dL/draw = 2 (k - 3) k, = -4 at k = 1."""
    problem = problem_with(lambda u, z, *, k: k - 3.0 + 0.0 * u(z), {"k": Scalar(1.0, positive=True)})
    net = with_unknowns(problem, constant_net(0.0)[0])
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    grads = jax.grad(lambda p: term_loss(problem, net, p, jnp.zeros((4, 1)), "res"))(params)
    assert float(grads["unknowns"]["k"]) == pytest.approx(-4.0, rel=1e-14)


def test_a_field_unknown_sees_only_its_inputs_and_differentiates_like_u():
    """a(x, t) = net(x): a_x is the network's derivative, a_t = 0, a = a at any t."""
    net_a = MLP((1, 6, 1))
    problem = problem_with(lambda u, z, *, a: a(z) * u(z), {"a": FieldUnknown(net_a, inputs=("x",))}, PLANE)
    net = with_unknowns(problem, MLP((2, 4, 1)))
    params = net.init(jax.random.PRNGKey(1), jnp.float64)
    a = net.field(params).unknowns["a"]
    z = jnp.array([0.3, 1.7])
    value, grad, _ = axis_derivatives(a, z)
    own = params["unknowns"]["a"]
    assert float(value) == pytest.approx(float(net_a.apply(own, z[:1])), rel=1e-14)
    assert float(grad[0]) == pytest.approx(float(jax.grad(lambda x: net_a.apply(own, x))(z[:1])[0]), rel=1e-12)
    assert float(grad[1]) == 0.0
    assert float(a(jnp.array([0.3, 0.1]))) == float(value)


def test_the_field_unknown_initialises_apart_from_the_network():
    """The solution network's parameters are the plain network's own draw from the same key."""
    problem = problem_with(lambda u, z, *, a: a(z) * u(z), {"a": FieldUnknown(MLP((1, 4, 1)), inputs=("x",))}, PLANE)
    sol = MLP((2, 4, 1))
    net = with_unknowns(problem, sol)
    assert isinstance(net, WithUnknowns)
    key = jax.random.PRNGKey(3)
    for mine, plain in zip(jax.tree_util.tree_leaves(net.init(key)["network"]), jax.tree_util.tree_leaves(sol.init(key))):
        np.testing.assert_array_equal(mine, plain)


# ---- their own learning rate -------------------------------------------------------------


def test_each_unknown_steps_at_its_own_learning_rate():
    """SGD: one step moves each part by -rate * gradient; k at 0.5, q at the network's 0.25."""
    problem = problem_with(lambda u, z, *, k, q: k * q * u(z), {"k": Scalar(1.0, learning_rate=0.5), "q": Scalar(2.0)})
    config = TrainConfig(optimizer_name="sgd", learning_rate=0.25, dtype="float64")
    net = with_unknowns(problem, MLP((1, 2, 1)))
    opt = unknowns_optimizer(net, config.optimizer(), config)
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    grads = jax.tree_util.tree_map(jnp.ones_like, params)
    updates, state = opt.update(grads, opt.init(params), params)
    assert float(updates["unknowns"]["k"]) == -0.5
    assert float(updates["unknowns"]["q"]) == -0.25
    assert all(np.all(leaf == -0.25) for leaf in jax.tree_util.tree_leaves(updates["network"]))
    rates = {label: float(s.inner_state.hyperparams["learning_rate"]) for label, s in state.inner_states.items()}
    assert rates == {"network": 0.25, "unknown/k": 0.5, "unknown/q": 0.25}  # each rate a leaf of the state (sweeps)
