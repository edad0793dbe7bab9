"""Wave problem: exact solution, terms and their grouping against closed forms (float64)."""

from pathlib import Path
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import config as cfg
from pinnbalance.derivatives import axis_derivatives
from pinnbalance.losses import term_loss
from pinnbalance.problems import PROBLEMS, residuals, sample_batch, wave
from pinnbalance.problems.wave import PUBLISHED, exact_solution, initial_displacement

POINTS = jnp.asarray(np.random.default_rng(3).uniform(0, 1, size=(50, 2)), jnp.float64)  # (t, x)
EPS = 1e-3


def published_formula(z, c=2.0, a=0.5):
    """The paper's (and its code's) u = sin(pi x) cos(c pi t) + a sin(2 c pi x) cos(4 c pi t)."""
    t, x = z[0], z[1]
    return jnp.sin(jnp.pi * x) * jnp.cos(c * jnp.pi * t) + a * jnp.sin(2 * c * jnp.pi * x) * jnp.cos(4 * c * jnp.pi * t)


def phi(z):
    """A known perturbation, nonzero on every piece: (1 + t)^2 (1 + x)^3."""
    return (1 + z[0]) ** 2 * (1 + z[1]) ** 3


def wave_operator(u, z, c):
    _, _, second = axis_derivatives(u, z)
    return second[0] - c**2 * second[1]


def test_exact_solution_is_the_published_one_at_c_2():
    np.testing.assert_allclose(jax.vmap(exact_solution)(POINTS), jax.vmap(published_formula)(POINTS), rtol=0, atol=1e-14)


def test_published_formula_solves_the_equation_only_at_c_2():
    """Why the second mode is written sin(4 pi x): the published sin(2 c pi x) fails off c = 2."""
    at_2 = jax.vmap(lambda z: wave_operator(published_formula, z, 2.0))(POINTS)
    np.testing.assert_allclose(at_2, 0.0, atol=1e-9)
    at_3 = jax.vmap(lambda z: wave_operator(lambda y: published_formula(y, c=3.0), z, 3.0))(POINTS)
    assert np.max(np.abs(at_3)) > 1.0


@pytest.mark.parametrize("c, a", [(2.0, 0.5), (1.3, 0.25), (3.0, 1.0)])
def test_exact_solution_satisfies_the_pde_and_its_data_for_any_c(c, a):
    u = lambda z: exact_solution(z, c, a)
    np.testing.assert_allclose(jax.vmap(lambda z: wave_operator(u, z, c))(POINTS), 0.0, atol=1e-9)
    x = POINTS[:, 1]
    t = POINTS[:, 0]
    zeros = jnp.zeros_like(x)
    np.testing.assert_allclose(jax.vmap(u)(jnp.stack([zeros, x], 1)), initial_displacement(x, a), atol=1e-14)
    np.testing.assert_allclose(jax.vmap(u)(jnp.stack([t, zeros], 1)), 0.0, atol=1e-14)
    np.testing.assert_allclose(jax.vmap(u)(jnp.stack([t, zeros + 1], 1)), 0.0, atol=1e-14)


@pytest.mark.parametrize("params", [{}, {"c": 1.3, "a": 0.25}])
def test_exact_solution_zeroes_every_term(params):
    problem = wave(**params, batch_size=64, residual_batch_size=64)
    batch = sample_batch(problem, jax.random.PRNGKey(0), jnp.float64)
    rs = residuals(problem, problem.exact, batch)
    assert set(rs) == {"res", "u", "ut"}
    for name, r in rs.items():
        np.testing.assert_allclose(r, 0.0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("c", [2.0, 1.3])
def test_perturbed_field_gives_the_known_residuals(c):
    """u = u_exact + eps phi: res = eps (phi_tt - c^2 phi_xx), u = eps phi on each piece,
    ut = eps phi_t(0, x) = 2 eps (1 + x)^3."""
    problem = wave(c=c, batch_size=32, residual_batch_size=48)
    field = lambda z: problem.exact(z) + EPS * phi(z)
    batch = sample_batch(problem, jax.random.PRNGKey(1), jnp.float64)
    rs = residuals(problem, field, batch)
    t, x = batch["res"][:, 0], batch["res"][:, 1]
    expected_res = EPS * (2 * (1 + x) ** 3 - c**2 * 6 * (1 + t) ** 2 * (1 + x))
    np.testing.assert_allclose(rs["res"][:, 0], expected_res, rtol=1e-8, atol=1e-10)
    pieces = batch["u"]  # (n, 3, 2): t = 0, x = 0, x = 1
    expected_u = EPS * (1 + pieces[..., 0]) ** 2 * (1 + pieces[..., 1]) ** 3
    np.testing.assert_allclose(rs["u"], expected_u, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(rs["ut"][:, 0], 2 * EPS * (1 + batch["ut"][:, 1]) ** 3, rtol=1e-9, atol=1e-12)


def test_u_loss_is_the_sum_of_the_three_pieces_mean_squares():
    problem = wave(batch_size=16)
    network = SimpleNamespace(field=lambda params: lambda z: problem.exact(z) + EPS * phi(z))
    points = sample_batch(problem, jax.random.PRNGKey(2), jnp.float64)["u"]
    pieces = EPS * (1 + points[..., 0]) ** 2 * (1 + points[..., 1]) ** 3
    expected = sum(np.mean(pieces[:, k] ** 2) for k in range(3))
    np.testing.assert_allclose(term_loss(problem, network, None, points, "u"), expected, rtol=1e-12)


def test_terms_batch_sizes_domain_and_where_points_lie():
    problem = wave()
    assert problem.term_names == ("res", "u", "ut") and problem.reference == "res"
    assert problem.domain.names == ("t", "x") and problem.domain.lower == (0.0, 0.0) and problem.domain.upper == (1.0, 1.0)
    assert problem.parameters == {"c": 2.0, "a": 0.5}
    assert {n: t.batch_size for n, t in problem.terms.items()} == {"res": 300, "u": 100, "ut": 100}
    batch = sample_batch(problem, jax.random.PRNGKey(3))
    assert batch["res"].shape == (300, 2) and batch["ut"].shape == (100, 2)
    assert np.all((batch["res"] >= 0) & (batch["res"] <= 1))
    assert np.all(batch["ut"][:, 0] == 0.0)
    u = np.asarray(batch["u"])
    assert u.shape == (100, 3, 2)
    assert np.all(u[:, 0, 0] == 0.0) and np.all(u[:, 1, 1] == 0.0) and np.all(u[:, 2, 1] == 1.0)
    assert not np.allclose(u[:, 1, 0], u[:, 2, 0])  # independent draws per piece
    rs = residuals(problem, lambda z: jnp.zeros((), z.dtype), batch)
    assert rs["res"].shape == (300, 1) and rs["u"].shape == (100, 3) and rs["ut"].shape == (100, 1)


def test_bad_wave_speed_is_rejected():
    with pytest.raises(ValueError, match="wave speed c must be > 0"):
        wave(c=0.0)


def test_registered_and_configs_hold_the_published_set_up():
    assert PROBLEMS["wave"] is wave
    assert PUBLISHED["NTK"] == 3.86e-3
    root = Path(__file__).resolve().parents[2] / "configs"
    ntk, m1 = cfg.load(root / "wave-ntk.toml"), cfg.load(root / "wave-m1.toml")
    for c in (ntk, m1):
        assert c.problem.name == "wave" and dict(c.problem.parameters) == {"c": 2.0, "a": 0.5}
        assert c.network.hidden == (500, 500, 500) and c.network.activation == "tanh" and c.network.type == "mlp"
        assert c.train.steps == 80_001
        assert (c.train.learning_rate, c.train.decay_rate, c.train.decay_steps) == (1e-3, 0.9, 1000)
    assert ntk.weighting.scheme == "ntk" and ntk.weighting.options == {"period": 100, "beta": 0.0}
    assert m1.weighting.scheme == "constant"
    # the published NTK blocks are 300 x 300 for every term; the loss batches are 300 / 3 x 100 / 100
    assert ntk.batch_size == {"res": 300, "u": 100, "ut": 300}
    assert m1.batch_size == {"res": 300, "u": 100, "ut": 100}
