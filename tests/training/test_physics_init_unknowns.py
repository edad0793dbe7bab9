"""``[network] init = "least-squares"`` with an inverse problem's unknowns: u's output layer is
fitted on the boundary and observation points, the unknowns' parameters are left as they were."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from pinnbalance import TrainConfig
from pinnbalance import config as cfg
from pinnbalance.nn import piratenet_for
from pinnbalance.problems import poisson_inverse
from pinnbalance.training.fit import initial_state
from pinnbalance.training.physics_init import STREAM, LeastSquaresInit
from pinnbalance.weighting import Constant


def test_the_solution_layer_solves_the_normal_equations_and_the_unknowns_are_untouched():
    """With unknowns the params are {"network", "unknowns"}: W_out of u still satisfies
    Phi^T (Phi W - Y) = 0 on the data, every other layer is the random init's, and k = k_init."""
    problem = poisson_inverse(k_init=2.0, observations=4)
    net = piratenet_for(problem.domain, (8, 8), features=6)
    init = LeastSquaresInit(points=16)
    config = TrainConfig(steps=1, dtype="float64", least_squares=init)
    state = initial_state(problem, net, Constant(), optax.sgd(1e-3), config, 5)
    random = initial_state(problem, net, Constant(), optax.sgd(1e-3), TrainConfig(steps=1, dtype="float64"), 5)
    assert sorted(state.params) == ["network", "unknowns"]
    np.testing.assert_array_equal(state.params["unknowns"]["k"], np.log(2.0))  # stored as log k, as initialised
    x, y = init.data(problem, jax.random.fold_in(jax.random.split(config.key(5))[0], STREAM), jnp.float64)
    # bcs: 16 points on each of 4 sides; data: the 16 observed rows [x, y, u], their first 2 entries
    assert x.shape == (80, 2)
    np.testing.assert_allclose(y, np.sin(np.pi * x[:, 0]) * np.sin(np.pi * x[:, 1]), atol=1e-14)
    phi = np.asarray(jax.vmap(net.embed)(x))
    W = np.asarray(state.params["network"][-1]["W"])
    np.testing.assert_allclose(phi.T @ (phi @ W[:, 0] - np.asarray(y)), 0.0, atol=1e-9)
    for a, b in zip(state.params["network"][:-1], random.params["network"][:-1]):
        jax.tree.map(np.testing.assert_array_equal, a, b)
    u = jax.vmap(net.field(state.params["network"]))(x)
    u0 = jax.vmap(net.field(random.params["network"]))(x)
    assert np.linalg.norm(u - y) < 0.5 * np.linalg.norm(u0 - y)


def test_a_configuration_combines_least_squares_with_unknowns():
    data = {
        "problem": {"name": "poisson-inverse", "parameters": {"observations": 3}},
        "network": {"type": "piratenet", "hidden": [8], "piratenet_features": 4, "init": "least-squares", "init_points": 8},
        "unknowns": {"k": {"init": 3.0, "learning_rate": 1e-2}},
        "train": {"dtype": "float64"},
    }
    config = cfg.from_dict(data)
    problem = config.build_problem()
    train = config.train_config()
    assert train.least_squares == LeastSquaresInit(None, 8)
    state = initial_state(problem, config.build_network(problem), Constant(), config.train.optimizer(), train, train.seed)
    np.testing.assert_array_equal(state.params["unknowns"]["k"], np.log(3.0))
    x, y = train.least_squares.data(problem, jax.random.fold_in(jax.random.split(train.key(train.seed))[0], STREAM), jnp.float64)
    assert x.shape == (8 * 4 + 8, 2)  # bcs' four sides and the data rows' points
    net = config.build_network(problem)
    phi = np.asarray(jax.vmap(net.embed)(x))
    W = np.asarray(state.params["network"][-1]["W"])
    np.testing.assert_allclose(phi.T @ (phi @ W[:, 0] - np.asarray(y)), 0.0, atol=1e-9)
