"""Helmholtz problem: forcing, exact solution and terms against closed forms (float64)."""

from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import config as cfg
from pinnbalance.losses import term_loss
from pinnbalance.problems import PROBLEMS, helmholtz, residuals, sample_batch
from pinnbalance.problems.helmholtz import PUBLISHED, exact_solution, forcing_closed_form

POINTS = jnp.asarray(np.random.default_rng(2).uniform(-1, 1, size=(50, 2)), jnp.float64)
PARAMS = [{}, {"a1": 2.0, "a2": 3.0, "lam": 5.0}]
EPS = 1e-3


def phi(z):
    """A known perturbation: x^3 y^2, with phi_xx = 6 x y^2 and phi_yy = 2 x^3."""
    return z[0] ** 3 * z[1] ** 2


@pytest.mark.parametrize("params", PARAMS)
def test_forcing_by_autodiff_matches_closed_form(params):
    """q is derived by autodiff; the operator of the zero field is 0, so its residual is -q."""
    res = helmholtz(**params).terms["res"].residual
    zero_field = lambda z: jnp.zeros((), z.dtype)
    q_auto = -jax.vmap(lambda z: res(zero_field, z))(POINTS)
    q_hand = jax.vmap(lambda z: forcing_closed_form(z, **params))(POINTS)
    np.testing.assert_allclose(q_auto, q_hand, rtol=1e-12, atol=1e-10)
    # the closed form is (lam - (a1 pi)^2 - (a2 pi)^2) u: at the defaults, (1 - 17 pi^2) u
    if not params:
        u = jax.vmap(exact_solution)(POINTS)
        np.testing.assert_allclose(q_hand, (1 - 17 * np.pi**2) * u, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("params", PARAMS)
def test_exact_solution_zeroes_every_term(params):
    problem = helmholtz(**params, batch_size=64)
    batch = sample_batch(problem, jax.random.PRNGKey(0), jnp.float64)
    for name, r in residuals(problem, problem.exact, batch).items():
        np.testing.assert_allclose(r, 0.0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("params", PARAMS)
def test_perturbed_field_gives_the_known_residuals(params):
    """u = u_exact + eps phi: res = eps (phi_xx + phi_yy + lam phi), bcs = eps phi on each side."""
    problem = helmholtz(**params, batch_size=32)
    lam = problem.parameters["lam"]
    field = lambda z: problem.exact(z) + EPS * phi(z)
    batch = sample_batch(problem, jax.random.PRNGKey(1), jnp.float64)
    rs = residuals(problem, field, batch)
    x, y = batch["res"][:, 0], batch["res"][:, 1]
    expected_res = EPS * (6 * x * y**2 + 2 * x**3 + lam * x**3 * y**2)
    np.testing.assert_allclose(rs["res"][:, 0], expected_res, rtol=1e-8, atol=1e-10)
    sides = batch["bcs"]  # (n, 4, 2)
    expected_bcs = EPS * sides[..., 0] ** 3 * sides[..., 1] ** 2
    np.testing.assert_allclose(rs["bcs"], expected_bcs, rtol=1e-10, atol=1e-13)


def test_bcs_loss_is_the_sum_of_the_four_sides_mean_squares():
    problem = helmholtz(batch_size=16)
    field = lambda z: problem.exact(z) + EPS * phi(z)
    network = SimpleNamespace(field=lambda params: field)
    points = sample_batch(problem, jax.random.PRNGKey(2), jnp.float64)["bcs"]
    sides = EPS * points[..., 0] ** 3 * points[..., 1] ** 2
    expected = sum(np.mean(sides[:, k] ** 2) for k in range(4))
    np.testing.assert_allclose(term_loss(problem, network, None, points, "bcs"), expected, rtol=1e-12)


def test_terms_domain_and_where_points_lie():
    problem = helmholtz(batch_size=32)
    assert problem.term_names == ("res", "bcs") and problem.reference == "res"
    assert problem.domain.names == ("x", "y") and problem.domain.lower == (-1.0, -1.0) and problem.domain.upper == (1.0, 1.0)
    assert problem.parameters == {"a1": 1.0, "a2": 4.0, "lam": 1.0}
    assert {n: t.batch_size for n, t in problem.terms.items()} == {"res": 32, "bcs": 32}
    batch = sample_batch(problem, jax.random.PRNGKey(3))
    assert batch["res"].shape == (32, 2) and batch["res"].dtype == jnp.float32
    assert np.all(np.abs(batch["res"]) <= 1.0)
    bcs = np.asarray(batch["bcs"])
    assert bcs.shape == (32, 4, 2)
    # sides in the published order: y = -1, x = 1, y = 1, x = -1; the free coordinate spans [-1, 1]
    for k, (axis, value) in enumerate([(1, -1.0), (0, 1.0), (1, 1.0), (0, -1.0)]):
        assert np.all(bcs[:, k, axis] == value), k
        free = bcs[:, k, 1 - axis]
        assert free.min() < -0.5 and free.max() > 0.5 and np.all(np.abs(free) <= 1.0)
    assert not np.allclose(bcs[:, 0, 0], bcs[:, 2, 0])  # independent draws per side
    rs = residuals(problem, lambda z: jnp.zeros((), z.dtype), batch)
    assert rs["res"].shape == (32, 1) and rs["bcs"].shape == (32, 4)


def test_exact_solution_values():
    z = jnp.array([0.5, 0.125], jnp.float64)  # sin(pi/2) sin(pi/2) = 1
    assert float(exact_solution(z)) == pytest.approx(1.0, abs=1e-15)
    assert float(exact_solution(jnp.array([1.0, 0.3], jnp.float64))) == pytest.approx(0.0, abs=1e-15)


def test_registered_and_configs_hold_the_published_set_up():
    assert PROBLEMS["helmholtz"] is helmholtz
    assert PUBLISHED == {"M1": 1.40e-1, "M2": 7.43e-3, "M3": 1.97e-2, "M4": 2.54e-3}
    root = Path(__file__).resolve().parents[2] / "configs"
    configs = {m: cfg.load(root / f"helmholtz-{m}.toml") for m in ("m1", "m2", "m3", "m4")}
    for m, c in configs.items():
        assert c.problem.name == "helmholtz" and c.train.steps == 40_001 and c.batch_size == 128, m
        assert c.network.hidden == (50,) * 5 and c.network.activation == "tanh", m
        assert (c.train.learning_rate, c.train.decay_rate, c.train.decay_steps) == (1e-3, 0.9, 1000), m
    assert [configs[m].network.type for m in configs] == ["mlp", "mlp", "modified-mlp", "modified-mlp"]
    assert [configs[m].weighting.scheme for m in configs] == ["constant", "lr-annealing", "constant", "lr-annealing"]
    assert configs["m2"].weighting.options == {"grad_of": "weighted", "beta": 0.9, "period": 10}
    # M4: statistics over the gates and output layer, as the published M4 code
    assert configs["m4"].weighting.options == {"grad_of": "weighted", "beta": 0.9, "period": 10, "leaves": "without_encoders"}
