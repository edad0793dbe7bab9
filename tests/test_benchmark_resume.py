"""Long benchmark runs (benchmarks/frontier.py, benchmarks/pinnacle.py) resume inside a run: a
training cut at a checkpoint and continued from its folder ends where a straight one does, and
its clock goes on from the saved one."""

import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from pinnbalance.run_folder import RunError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import frontier  # noqa: E402

ADAM = "configs/klein-gordon-m2.toml"  # learning-rate annealing: its weights are state too
ADAM_SMALL = [
    "train.dtype='float64'",
    "network.hidden=[8, 8]",
    "sampling.batch_size=16",
    "train.log_every=10",
    "train.chunk_logs=2",
    "train.checkpoint_every=20",
    "weighting.period=5",
]
LM = "configs/frontier/klein-gordon-lm-small.toml"
LM_SMALL = [
    "network.hidden=[6, 6]",
    "sampling.batch_size={res = 40, ics = 10, bcs = 10}",
    "lm.log_every=2",
    "lm.checkpoint_every=4",
]


def _leaves(tree):
    return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


def _same_run(resumed, straight):
    for a, b in zip(_leaves(resumed.result.params), _leaves(straight.result.params), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert set(resumed.result.history) == set(straight.result.history)
    for key, values in straight.result.history.items():  # steps, losses, weights, errors: every record
        np.testing.assert_allclose(resumed.result.history[key], values, rtol=1e-12, atol=1e-14, err_msg=key)


def test_an_adam_run_cut_at_a_checkpoint_resumes_to_the_straight_run(tmp_path):
    folder = tmp_path / "run"
    first = frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=40"], None, folder)
    assert (folder / frontier.CLOCK).exists()
    resumed = frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=80"], None, folder)
    straight = frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=80"], None)
    _same_run(resumed, straight)
    assert resumed.clock.marks[: len(first.clock.marks)] == first.clock.marks  # the clock goes on from the saved one
    assert resumed.clock.marks[-1][1] > first.clock.marks[-1][1] and resumed.wall > first.wall


def test_a_run_resumes_with_another_checkpoint_frequency(tmp_path):
    """``train.checkpoint_every`` says when progress is saved, not what is trained: a long run may
    resume saving more often (a session that ends loses less), and ends where a straight run does."""
    folder = tmp_path / "run"
    frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=40"], None, folder)
    resumed = frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=80", "train.checkpoint_every=40"], None, folder)
    straight = frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=80"], None)
    _same_run(resumed, straight)


def test_an_lm_run_cut_at_a_checkpoint_resumes_to_the_straight_run(tmp_path):
    folder = tmp_path / "run"
    frontier.timed_training(LM, [*LM_SMALL, "lm.max_iters=8"], None, folder)
    resumed = frontier.timed_training(LM, [*LM_SMALL, "lm.max_iters=16"], None, folder)
    straight = frontier.timed_training(LM, [*LM_SMALL, "lm.max_iters=16"], None)
    _same_run(resumed, straight)
    assert resumed.result.history["l2"].size == straight.result.history["l2"].size


def test_a_changed_configuration_is_refused_with_its_differences(tmp_path):
    folder = tmp_path / "run"
    frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=20"], None, folder)
    with pytest.raises(RunError, match="different configuration.*batch_size"):
        frontier.timed_training(ADAM, [*ADAM_SMALL, "train.steps=40", "sampling.batch_size=32"], None, folder)
