"""Every architecture trains where the MLP trains: ``fit`` compiles once and the loss falls.

Tiny networks, 200 steps, constant weights; the loss is the sum of the unweighted term
losses on a fixed evaluation set, before and after.
"""

import jax
import pytest

from pinnbalance import Constant, TrainConfig, fit, klein_gordon
from pinnbalance.metrics import evaluation_losses, evaluation_set
from pinnbalance.nn import fourier_for, mlp_for, modified_mlp_for
from pinnbalance.training.fit import initial_state

CONFIG = TrainConfig(steps=200, log_every=50, chunk_logs=2, eval_grid=10, learning_rate=3e-3)

BUILDERS = {
    "mlp-rwf": lambda box: mlp_for(box, (12, 12), rwf=(1.0, 0.1)),
    "modified-mlp": lambda box: modified_mlp_for(box, (12, 12)),
    "modified-mlp-rwf": lambda box: modified_mlp_for(box, (12, 12), rwf=(1.0, 0.1), encoder_bias="glorot"),
    "fourier": lambda box: fourier_for(box, (1.0, 2.0), 8, hidden=(12, 12)),
    "fourier-spatio-temporal": lambda box: fourier_for(box, (1.0,), 8, hidden=(12,), time_sigmas=(0.5, 1.0)),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_short_training_lowers_the_loss(name):
    problem = klein_gordon(batch_size=32)
    network = BUILDERS[name](problem.domain)
    points = evaluation_set(problem, 500)
    start = initial_state(problem, network, Constant(), CONFIG.optimizer(), CONFIG, CONFIG.seed).params
    result = fit(problem, network, Constant(), CONFIG, progress=False)
    before = sum(evaluation_losses(problem, network, start, points).values())
    after = sum(evaluation_losses(problem, network, result.params, points).values())
    # the Klein-Gordon residual (~1e4 at init, from the source term) dominates the total; a
    # 12-wide MLP lowers it by only ~3% in 200 steps, the Fourier and gated nets by 70-99%
    assert after < 0.99 * before, (before, after)
    assert result.traces == 1  # two equal chunks: compiled once
    assert jax.tree_util.tree_structure(result.params) == jax.tree_util.tree_structure(start)
