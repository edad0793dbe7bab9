"""Equations of one system at shared points (problems.systems): drawn once, evaluated once, and
the same losses and gradients as evaluating each term on its own."""

import dataclasses
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import LearningRateAnnealing, TrainConfig, fit, mlp_for
from pinnbalance.losses import term_loss, term_losses
from pinnbalance.problems import Problem, Term, ns_2d_lid
from pinnbalance.problems.base import sample_batch
from pinnbalance.problems.domain import Box, uniform
from pinnbalance.problems.systems import Equation, evaluation_groups
from pinnbalance.problems.unknowns import residual_unknowns
from pinnbalance.training.gradients import term_gradients
from pinnbalance.training.program import choose_schedule

LINE = Box((0.0,), (2.0,), ("x",))


def sine_system(u, z):
    """u - sin x and u' - cos x: both vanish for u = sin x."""
    value, slope = jax.jvp(u, (z,), (jnp.ones_like(z),))
    return jnp.stack([value - jnp.sin(z[0]), slope - jnp.cos(z[0])])


def sine_problem(shared=True, **sizes):
    terms = {
        "value": Term(Equation(sine_system, 0), uniform(LINE), sizes.get("value", 50)),
        "slope": Term(Equation(sine_system, 1), uniform(LINE), sizes.get("slope", 50), points_of="value" if shared else None),
    }
    return Problem(name="sine", domain=LINE, terms=terms, reference="value")


# u = a sin x: the residuals are (a - 1) sin x and (a - 1) cos x
SCALED_SINE = SimpleNamespace(field=lambda p: lambda z: p["a"] * jnp.sin(z[0]))


def test_a_system_at_shared_points_gives_closed_form_losses_and_gradients():
    problem = sine_problem()
    batch = sample_batch(problem, jax.random.PRNGKey(0), jnp.float64)
    x = batch["value"][:, 0]
    np.testing.assert_array_equal(batch["slope"], batch["value"])
    params = {"a": jnp.asarray(1.5)}
    losses = term_losses(problem, SCALED_SINE, params, batch)
    assert float(losses["value"]) == pytest.approx(0.25 * np.mean(np.sin(x) ** 2), rel=1e-12)
    assert float(losses["slope"]) == pytest.approx(0.25 * np.mean(np.cos(x) ** 2), rel=1e-12)
    losses, grads = term_gradients(problem, SCALED_SINE, params, batch)  # dL/da = 2 (a - 1) mean(sin^2 or cos^2)
    assert float(grads["value"]["a"]) == pytest.approx(np.mean(np.sin(x) ** 2), rel=1e-12)
    assert float(grads["slope"]["a"]) == pytest.approx(np.mean(np.cos(x) ** 2), rel=1e-12)
    assert list(losses) == list(grads) == ["value", "slope"]


def test_shared_points_leave_the_other_terms_draws_as_they_were():
    key = jax.random.PRNGKey(3)
    shared, own = sample_batch(sine_problem(), key), sample_batch(sine_problem(shared=False), key)
    np.testing.assert_array_equal(shared["value"], own["value"])
    assert not np.array_equal(own["slope"], own["value"])


def test_ns_equations_evaluated_together_match_each_evaluated_alone():
    """The grouped path (one evaluation of the NS system, a Jacobian of its three losses) against
    each term's own loss and gradient, float64, on a 2 x 16 network."""
    problem = ns_2d_lid(batch_size=40, shared_points=True)
    assert evaluation_groups(problem.terms)[0] == ("mom_x", "mom_y", "continuity")
    network = mlp_for(problem.domain, (16, 16), outputs=3)
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), network.init(jax.random.PRNGKey(0)))
    batch = sample_batch(problem, jax.random.PRNGKey(1), jnp.float64)
    losses, grads = term_gradients(problem, network, params, batch)
    for name in problem.term_names:
        alone, alone_grad = jax.value_and_grad(lambda p, n=name: term_loss(problem, network, p, batch[n], n))(params)
        assert float(losses[name]) == pytest.approx(float(alone), rel=1e-12)
        assert float(term_losses(problem, network, params, batch)[name]) == pytest.approx(float(alone), rel=1e-12)
        for a, b in zip(jax.tree_util.tree_leaves(grads[name]), jax.tree_util.tree_leaves(alone_grad)):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def test_annealing_on_a_shared_system_trains_the_same_masked_or_static():
    """Masked steps take every term's gradient from the Jacobian of the grouped losses, static
    plain steps one backward pass of their weighted sum: the same training, float64."""
    problem, scheme = ns_2d_lid(batch_size=32, shared_points=True), LearningRateAnnealing(reference="mom_x")
    config = TrainConfig(steps=30, log_every=10, chunk_logs=1, dtype="float64", sampling="fixed")
    assert choose_schedule(scheme, config, "cpu", problem=problem) == (False, 10)  # auto: static here
    assert choose_schedule(scheme, config, "cpu", problem=ns_2d_lid()) == (True, 10)

    def run(schedule):
        network = mlp_for(problem.domain, (12, 12), outputs=3)
        return fit(problem, network, scheme, dataclasses.replace(config, update_schedule=schedule), progress=False)

    static, masked = run("static"), run("masked")
    for key in ("loss_mom_y", "loss_continuity", "weight_mom_y", "weight_wall_u", "l2re"):
        np.testing.assert_allclose(masked.history[key], static.history[key], rtol=1e-9)
    assert np.all(np.diff(static.history["weight_mom_y"]) != 0)  # the weights did move


def test_an_equation_asks_for_its_systems_unknowns():
    def system(u, z, *, kappa):
        return jnp.stack([u(z) * kappa, u(z)])

    assert residual_unknowns(Equation(system, 1)) == ("kappa",)


def test_a_borrowed_size_follows_the_lender_unless_named():
    problem = sine_problem().with_batch_sizes({"value": 64})
    assert problem.terms["slope"].batch_size == 64
    with pytest.raises(
        ValueError, match=r"term 'slope': points_of='value' uses 'value'.s points, so it has its batch size \(64\), not 8"
    ):
        sine_problem().with_batch_sizes({"value": 64, "slope": 8})


@pytest.mark.parametrize(
    "points_of, match",
    [
        ("slop", r"points_of='slop' must name another of its terms \['value', 'extra'\]"),
        ("slope", r"points_of='slope' must name another of its terms"),
        ("extra", r"borrows from a term that borrows itself; name the term that draws: 'value'"),
    ],
)
def test_wrong_points_of_is_refused_by_name(points_of, match):
    terms = dict(sine_problem().terms)
    terms["extra"] = Term(lambda u, z: u(z), uniform(LINE), 50, points_of="value")
    terms["slope"] = dataclasses.replace(terms["slope"], points_of=points_of)
    with pytest.raises(ValueError, match=match):
        Problem(name="sine", domain=LINE, terms=terms, reference="value")


def test_the_module_examples_run():
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module("pinnbalance.problems.systems")).failed == 0
