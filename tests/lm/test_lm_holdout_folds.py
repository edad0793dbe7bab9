"""Each run's own held-out fold (``LevenbergMarquardt.holdout_folds = "per-run"``).

Two runs of one program hold out rows of the same 40 observations. Under "shared" both train on
the rows ``split_rows(40, 0.25, seed)`` leaves; under "per-run" run i trains on those of
``seed + i``, exactly the rows (and then the numbers) of run i trained alone with
``holdout_seed = seed + i``. The training rows are read from the LM phase's checkpoints
(``LMCheckpoint.points``), which hold each run's training point set.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import Constant, TrainConfig
from pinnbalance.lm import LevenbergMarquardt
from pinnbalance.lm.holdout import split_rows
from pinnbalance.nn import mlp_for
from pinnbalance.problems.base import Problem
from pinnbalance.problems.domain import Box
from pinnbalance.problems.observations import data_term, observations_from_arrays
from pinnbalance.training.fit import train
from pinnbalance.training.lm_checkpoint import LMCheckpoint
from pinnbalance.training.loop import Callback

BOX = Box((-1.0,), (1.0,), ("x",))
N, FRACTION, SEED = 40, 0.25, 3
LM = LevenbergMarquardt(max_iters=10, log_every=5, holdout_term="data", holdout_fraction=FRACTION, holdout_seed=SEED)


def _samples():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-1.0, 1.0, N))
    return x[:, None], np.sin(3.0 * x) + 0.3 * rng.normal(size=N)


def _problem():
    x, y = _samples()
    terms = {"data": data_term(observations_from_arrays(x, y, domain=BOX))}
    return Problem("noisy-fit", BOX, terms, exact=lambda z: jnp.sin(3.0 * z[0]), reference="data")


class _TrainingRows(Callback):
    """Keeps the ``data`` rows each run trains on in the LM phase (its checkpoint's point set)."""

    rows = None

    def on_chunk(self, progress):
        if isinstance(progress.state, LMCheckpoint):
            self.rows = np.asarray(progress.state.points["data"])


def _train(settings, seeds):
    rows = _TrainingRows()
    runs = [(Constant(), TrainConfig(steps=0, lm=settings, dtype="float64", log_every=10, chunk_logs=1, seed=s)) for s in seeds]
    results = train(_problem(), mlp_for(BOX, (8, 8)), runs, vmapped=len(seeds) > 1, progress=False, callbacks=[rows])
    return results, rows.rows


def _expected_rows(seed):
    x, y = _samples()
    keep = split_rows(N, FRACTION, seed)[0]
    return np.concatenate([x[keep], y[keep, None]], axis=1)


def test_per_run_folds_hold_out_each_runs_own_rows_those_of_holdout_seed_plus_i():
    settings = dataclasses.replace(LM, holdout_folds="per-run")
    results, rows = _train(settings, seeds=(0, 1))
    assert rows.shape == (2, N - round(FRACTION * N), 2)
    for i in range(2):
        np.testing.assert_array_equal(rows[i], _expected_rows(SEED + i))
    assert not np.array_equal(rows[0], rows[1])  # different observations held out
    # run 1 is run 1 trained alone, its fold on holdout_seed + 1 under either setting (one run: lane 0)
    [alone], alone_rows = _train(dataclasses.replace(LM, holdout_seed=SEED + 1), seeds=(1,))
    np.testing.assert_array_equal(alone_rows, rows[1])
    assert results[1].extra["lm"]["holdout_iteration"] == alone.extra["lm"]["holdout_iteration"]
    for a, b in zip(jax.tree_util.tree_leaves(results[1].params), jax.tree_util.tree_leaves(alone.params)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_shared_folds_hold_out_the_same_rows_in_every_run():
    _, rows = _train(LM, seeds=(0, 1))
    for i in range(2):
        np.testing.assert_array_equal(rows[i], _expected_rows(SEED))


def test_fold_seed_and_the_settings_check():
    assert [LM.fold_seed(i) for i in range(3)] == [SEED] * 3
    assert [dataclasses.replace(LM, holdout_folds="per-run").fold_seed(i) for i in range(3)] == [SEED, SEED + 1, SEED + 2]
    with pytest.raises(ValueError, match=r"holdout_folds must be one of \['shared', 'per-run'\].*got 'per_run'"):
        LevenbergMarquardt(holdout_term="data", holdout_folds="per_run")
