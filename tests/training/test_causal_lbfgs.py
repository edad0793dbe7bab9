"""An L-BFGS phase of a run with causal weighting minimises the plain loss and warns that it does."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import Constant, TrainConfig
from pinnbalance.losses import term_loss
from pinnbalance.nn import mlp_for
from pinnbalance.problems import Box, Problem, Term, sample_batch, uniform
from pinnbalance.training.causal_schedule import CausalLBFGSWarning, lbfgs_problem
from pinnbalance.training.fit import fit
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.weighting.causal import Causal, causal_problem


def target(z):
    return jnp.sin(3 * z[0]) + z[1]


def plain_problem():
    box = Box((0.0, 0.0), (1.0, 1.0), ("t", "x"))
    return Problem("fit", box, {"res": Term(lambda u, z: u(z) - target(z), uniform(box), 20)}, exact=target)


def test_the_lbfgs_problem_is_the_plain_mean_with_a_warning_and_no_warning_without_causal():
    plain = plain_problem()
    causal = causal_problem(plain, Causal(slices=4, eps=10.0))
    network = mlp_for(plain.domain, (4,))
    params = network.init(jax.random.PRNGKey(0), jnp.float64)
    points = sample_batch(plain, jax.random.PRNGKey(1), jnp.float64)["res"]
    with pytest.warns(CausalLBFGSWarning, match="'res' is its plain mean"):
        stripped = lbfgs_problem(causal)
    r = jax.vmap(lambda z: network.apply(params, z) - target(z))(points)
    np.testing.assert_allclose(term_loss(stripped, network, params, points, "res"), np.mean(np.asarray(r) ** 2), rtol=1e-12)
    assert term_loss(causal, network, params, points, "res") < 0.9 * term_loss(stripped, network, params, points, "res")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lbfgs_problem(plain) is plain


def test_fit_with_causal_and_lbfgs_warns_at_the_phase_start_and_records_no_causal_weights():
    problem = causal_problem(plain_problem(), Causal(slices=4, eps=1.0))
    config = TrainConfig(steps=10, log_every=5, chunk_logs=1, dtype="float64", eval_grid=8, lbfgs=LBFGS(max_iters=4, log_every=2))
    with pytest.warns(CausalLBFGSWarning):
        result = fit(problem, mlp_for(problem.domain, (4,)), Constant(), config, progress=False)
    np.testing.assert_array_equal(np.isnan(result.history["causal/eps"]), [False, False, True, True])
