"""PirateNet's least-squares initialisation in the trainer (``TrainConfig.least_squares``)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance import TrainConfig, mlp_for
from pinnbalance.nn import piratenet_for
from pinnbalance.problems import klein_gordon
from pinnbalance.training.fit import initial_state
from pinnbalance.training.physics_init import STREAM, LeastSquaresInit
from pinnbalance.weighting import Constant


def test_the_output_layer_solves_the_normal_equations_on_the_initial_and_boundary_data():
    """After init, W_out minimises ||Phi W - Y|| on the data: Phi^T (Phi W - Y) = 0 (with b_out = 0
    and every gate 0, u = Phi W); the fit is far closer to the exact solution than the random start."""
    problem = klein_gordon()
    net = piratenet_for(problem.domain, (8, 8), features=6)
    init = LeastSquaresInit(points=40)
    config = TrainConfig(steps=1, dtype="float64", least_squares=init)
    state = initial_state(problem, net, Constant(), optax.sgd(1e-3), config, 5)
    random = initial_state(problem, net, Constant(), optax.sgd(1e-3), TrainConfig(steps=1, dtype="float64"), 5)
    init_key = jax.random.split(config.key(5))[0]
    x, y = init.data(problem, jax.random.fold_in(init_key, STREAM), jnp.float64)
    assert x.shape == (120, 2)  # 40 points of ics, 40 of each of the two sides of bcs (all terms but "res")
    np.testing.assert_allclose(y, jax.vmap(problem.exact)(x), rtol=1e-14)
    phi = np.asarray(jax.vmap(net.embed)(x))
    W = np.asarray(state.params[-1]["W"])
    np.testing.assert_allclose(phi.T @ (phi @ W[:, 0] - np.asarray(y)), 0.0, atol=1e-9)
    for a, b in zip(state.params[:-1], random.params[:-1]):  # every other layer as the random init left it
        jax.tree.map(np.testing.assert_array_equal, a, b)
    u = jax.vmap(net.field(state.params))(x)
    u0 = jax.vmap(net.field(random.params))(x)
    assert np.linalg.norm(u - y) < 0.5 * np.linalg.norm(u0 - y)


def test_the_data_and_the_refusals():
    problem = klein_gordon()
    x, _ = LeastSquaresInit(terms=("ics",), points=10).data(problem, jax.random.key(0))
    np.testing.assert_array_equal(x[:, 0], 0.0)  # ics: t = 0
    with pytest.raises(KeyError, match="unknown least-squares initialisation term"):
        LeastSquaresInit(terms=("ic",)).data(problem, jax.random.key(0))
    with pytest.raises(ValueError, match="has none"):
        LeastSquaresInit().data(dataclasses.replace(problem, exact=None), jax.random.key(0))
    with pytest.raises(ValueError, match="applies to a PirateNet"):
        net = mlp_for(problem.domain, (4,))
        LeastSquaresInit().apply(problem, net, net.init(jax.random.key(0)), jax.random.key(1))
    with pytest.raises(ValueError, match="positive integer"):
        LeastSquaresInit(points=0)
