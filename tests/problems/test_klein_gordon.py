import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.problems import klein_gordon, residuals, sample_batch
from pinnbalance.problems.klein_gordon import exact_solution, forcing_closed_form

POINTS = jnp.asarray(np.random.default_rng(1).uniform(0, 1, size=(50, 2)), jnp.float64)


@pytest.mark.parametrize("params", [{}, {"alpha": -2.0, "beta": 0.5, "gamma": 2.0, "k": 2}])
def test_forcing_by_autodiff_matches_closed_form(params):
    """f is derived by autodiff of the exact solution; the residual of the exact solution
    is then u_tt + alpha u_xx + beta u + gamma u^k - f: compare with f written by hand."""
    problem = klein_gordon(**params)
    res = problem.terms["res"].residual
    zero_field = lambda z: jnp.zeros((), z.dtype)  # operator(0) = 0, so residual = -f
    f_auto = -jax.vmap(lambda z: res(zero_field, z))(POINTS)
    f_hand = jax.vmap(lambda z: forcing_closed_form(z, **params))(POINTS)
    np.testing.assert_allclose(f_auto, f_hand, rtol=1e-12, atol=1e-10)


def test_exact_solution_satisfies_every_term():
    problem = klein_gordon()
    batch = sample_batch(problem, jax.random.PRNGKey(0), jnp.float64)
    rs = residuals(problem, exact_solution, batch)
    for name, r in rs.items():
        np.testing.assert_allclose(r, 0.0, atol=1e-10, err_msg=name)


def test_terms_and_where_points_lie():
    problem = klein_gordon(batch_size=32)
    assert problem.term_names == ("res", "ics", "bcs")
    batch = sample_batch(problem, jax.random.PRNGKey(3))
    assert batch["res"].shape == (32, 2)
    assert np.all(batch["ics"][:, 0] == 0.0)
    assert batch["bcs"].shape == (32, 2, 2)
    assert np.all(batch["bcs"][:, 0, 1] == 0.0) and np.all(batch["bcs"][:, 1, 1] == 1.0)
    # the two sides get independent draws of t
    assert not np.allclose(batch["bcs"][:, 0, 0], batch["bcs"][:, 1, 0])
    rs = residuals(problem, lambda z: jnp.zeros(()), batch)
    assert rs["ics"].shape == (32, 2) and rs["bcs"].shape == (32, 2) and rs["res"].shape == (32, 1)


def test_wrong_term_names_are_rejected_with_the_valid_ones():
    problem = klein_gordon()
    with pytest.raises(KeyError, match=r"valid term names are \['res', 'ics', 'bcs'\]"):
        problem.with_batch_sizes({"bsc": 64})
    with pytest.raises(ValueError, match="positive"):
        problem.with_batch_sizes(0)
