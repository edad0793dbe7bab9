"""A fixed fresh draw of collocation points picks the iteration an LM phase ends with
(``LevenbergMarquardt.holdout_fresh``, ``lm.holdout.fresh_points``).

The case: u'' = -pi^2 sin(pi x) on [-1, 1] with u(+-1) = 0 (solution sin(pi x)), 6 interior
collocation points and a 1-16-16-1 MLP (321 parameters, far more than the 8 rows): LM drives the
residual at the 6 points to ~0 while the network is free to bend between them. The phase must
train exactly as without the held-out draw (the draw is never trained on) and end with the
parameters of the record where the weighted loss on the fresh draw was lowest.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import Constant, TrainConfig, fit
from pinnbalance.derivatives import axis_derivatives
from pinnbalance.lm import LevenbergMarquardt
from pinnbalance.lm.holdout import fresh_points
from pinnbalance.lm.residuals import residual_vector
from pinnbalance.nn import mlp_for
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.domain import Box, uniform

BOX = Box((-1.0,), (1.0,), ("x",))
LM = LevenbergMarquardt(max_iters=40, log_every=5, resample_every=5, holdout_fresh=True)
WEIGHTS = {"res": 1.0, "bc": 1.0}


def _res(u, z):
    _, _, d2u = axis_derivatives(u, z)
    return d2u[0] + jnp.pi**2 * jnp.sin(jnp.pi * z[0])


def _walls(key, n, dtype=jnp.float32):
    return jnp.where(jnp.arange(n) % 2 == 0, -1.0, 1.0).astype(dtype)[:, None]


def _problem():
    terms = {"res": Term(_res, uniform(BOX), 6, "u'' + pi^2 sin(pi x)"), "bc": Term(lambda u, z: u(z), _walls, 2, "u(+-1)")}
    return Problem("poisson-1d-few", BOX, terms, exact=lambda z: jnp.sin(jnp.pi * z[0]))


def _fit(settings):
    config = TrainConfig(steps=0, lm=settings, dtype="float64", log_every=5, chunk_logs=1, seed=0)
    net = mlp_for(BOX, (16, 16))
    return net, fit(_problem(), net, Constant(), config, progress=False)


def _fresh_loss(net, result):
    """The weighted loss sum_i w_i r_i^2 on the fresh draw, recomputed from the returned parameters and key."""
    points = fresh_points(_problem(), result.state.key, jnp.float64)
    return float(jnp.sum(residual_vector(_problem(), net, result.params, points, WEIGHTS) ** 2))


def test_the_fresh_draw_is_new_points_of_every_term():
    problem, key = _problem(), jax.random.PRNGKey(3)
    draw = fresh_points(problem, key, jnp.float64)
    assert draw["res"].shape == (6, 1) and draw["bc"].shape == (2, 1)
    np.testing.assert_array_equal(draw["res"], fresh_points(problem, key, jnp.float64)["res"])  # fixed: the same every record
    trained = problem.terms["res"].sampler(jax.random.fold_in(key, 13), 6, jnp.float64)
    assert not np.any(np.isclose(np.asarray(draw["res"])[:, None, 0], np.asarray(trained)[None, :, 0]))


def test_the_phase_ends_at_the_lowest_fresh_loss_of_an_unchanged_training():
    net, picked = _fit(LM)
    info = picked.extra["lm"]
    at = info["holdout_iteration"]
    assert 0 < at < info["iterations"]  # the fresh-point loss rose again before the end
    np.testing.assert_allclose(_fresh_loss(net, picked), info["holdout_loss"], rtol=1e-10)
    _, stopped = _fit(dataclasses.replace(LM, holdout_fresh=False, max_iters=at))  # no draw: the same iterations
    _, full = _fit(dataclasses.replace(LM, holdout_fresh=False))
    for a, b in zip(jax.tree_util.tree_leaves(picked.params), jax.tree_util.tree_leaves(stopped.params)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    assert info["holdout_loss"] < _fresh_loss(net, full)  # the end of the run is worse between the points ...
    assert stopped.history["l2"][-1] < full.history["l2"][-1]  # ... and so is its error against sin(pi x)


def test_settings_name_the_conflict():
    with pytest.raises(ValueError, match="set one of them"):
        LevenbergMarquardt(holdout_fresh=True, holdout_term="data")
    with pytest.raises(ValueError, match="holdout_fresh must be true or false"):
        LevenbergMarquardt(holdout_fresh="yes")
    assert LevenbergMarquardt(holdout_fresh=True, patience=2).patience == 2
