"""The L-BFGS phase calls the training's callbacks after each chunk: progress, stop requests
(a budget, an interrupt), checkpoints inside the phase and resuming from them (float64, a
one-dimensional fit by a small network: no derivatives, so it compiles fast)."""

import dataclasses

import jax
import numpy as np
import pytest
from small_fit import fit_problem

from pinnbalance import Constant, TrainConfig
from pinnbalance.lm import LevenbergMarquardt
from pinnbalance.nn import mlp_for
from pinnbalance.training import Callback
from pinnbalance.training.callbacks import INTERRUPTED, ProgressBar
from pinnbalance.training.checkpoint import load_checkpoint, read_manifest, save_checkpoint
from pinnbalance.training.fit import Interrupted, _progress_bars, initial_states, train
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.training.lbfgs_checkpoint import LBFGSCheckpoint, manifest, resumed, template
from pinnbalance.training.loop import Progress
from pinnbalance.training.results import flatten_records

LOG = 5  # L-BFGS iterations per chunk
CONFIG = TrainConfig(
    steps=10, log_every=5, chunk_logs=1, dtype="float64", eval_grid=16, lbfgs=LBFGS(max_iters=20, log_every=LOG, grad_tol=0.0)
)


PROBLEM = fit_problem()
NET = mlp_for(PROBLEM.domain, (6,))


def runs(config=CONFIG, seeds=(1234,)):
    return [(Constant(), dataclasses.replace(config, seed=s)) for s in seeds]


def with_iters(n):
    return dataclasses.replace(CONFIG, lbfgs=dataclasses.replace(CONFIG.lbfgs, max_iters=n))


class Recorder(Callback):
    """What every call saw; ``stop_at``: ask the loop to stop with ``reason`` once ``steps_done``
    reaches it inside the L-BFGS phase, keeping what a checkpoint would hold (``saved``)."""

    def __init__(self, stop_at=None, reason="budget"):
        self.calls, self.starts, self.ends, self.stop_at, self.reason, self.saved = [], 0, 0, stop_at, reason, None

    def on_start(self, progress):
        self.starts += 1

    def on_chunk(self, progress):
        in_phase = isinstance(progress.state, LBFGSCheckpoint)
        self.calls.append((progress.steps_done, progress.total, in_phase, progress.due, np.ravel(progress.last["step"])))
        if in_phase and self.stop_at is not None and progress.steps_done >= self.stop_at and progress.stop is None:
            progress.stop = self.reason
            self.saved = (progress.state, flatten_records(progress.chunks), progress.steps_done)

    def on_end(self, progress):
        self.ends += 1


def leaves(tree):
    plain = lambda v: jax.random.key_data(v) if jax.dtypes.issubdtype(v.dtype, jax.dtypes.prng_key) else v  # noqa: E731
    return [np.asarray(plain(x)) for x in jax.tree_util.tree_leaves(tree)]


def assert_same_params(a, b):
    for x, y in zip(leaves(a.state.params), leaves(b.state.params), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=0)


def assert_same_run(a, b):
    """Same parameters, state, history and L-BFGS outcome (rtol 1e-12)."""
    assert a.extra["lbfgs"]["reason"] == b.extra["lbfgs"]["reason"]
    assert a.extra["lbfgs"]["iterations"] == b.extra["lbfgs"]["iterations"]
    assert list(a.history) == list(b.history)
    for key in a.history:
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-12, atol=0, err_msg=key)
    for x, y in zip(leaves(a.state), leaves(b.state), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def straight():
    """The straight run (10 first-order steps, then 20 L-BFGS iterations: 4 chunks) and what its
    callback saw."""
    rec = Recorder()
    [result] = train(PROBLEM, NET, runs(), progress=False, callbacks=[rec])
    return result, rec


@pytest.fixture(scope="module")
def ten_iterations():
    """The straight run with max_iters = 10: where a stop after chunk 2 must land."""
    return train(PROBLEM, NET, runs(with_iters(10)), progress=False)[0]


@pytest.fixture(scope="module")
def interrupted():
    """The run interrupted after the phase's chunk 2: the error, the callback, a progress bar over iterations."""
    rec, bar = Recorder(stop_at=20, reason=INTERRUPTED), ProgressBar("t", unit="it")
    with pytest.raises(Interrupted) as err:
        train(PROBLEM, NET, runs(), progress=False, callbacks=[rec, bar])
    return err.value, rec, bar


def test_callbacks_run_once_per_lbfgs_chunk_with_increasing_steps(straight):
    """2 first-order chunks, then 4 L-BFGS chunks: steps_done 15, 20, 25, 30 of 30, each chunk's
    record numbered so, a checkpoint due at the phase's last chunk; on_start/on_end per phase."""
    result, rec = straight
    phase = [c for c in rec.calls if c[2]]
    assert [c[0] for c in rec.calls if not c[2]] == [5, 10]
    assert [c[0] for c in phase] == [15, 20, 25, 30] and all(c[1] == 30 for c in phase)
    assert [int(c[4][-1]) for c in phase] == [15, 20, 25, 30]  # the record's step: 10 + iterations done
    assert [c[3] for c in phase] == [None, None, None, True]
    assert rec.starts == rec.ends == 2
    assert list(result.history["step"]) == [0, 5, 15, 20, 25, 30]  # first-phase records at a block's first step
    assert result.status == "completed" and result.extra["lbfgs"]["reason"] == "max_iters"
    assert result.extra["lbfgs"]["iterations"] == 20 and "stop" not in result.extra


def test_a_budget_stop_after_chunk_two_gives_the_run_with_max_iters_ten(ten_iterations):
    """A budget stop after 2 chunks: the parameters and history of max_iters = 10 (rtol 1e-12), the
    L-BFGS reason "running", status "stopped", ``extra["stop"]`` the callback's reason, no LM phase."""
    config = dataclasses.replace(CONFIG, lm=LevenbergMarquardt(max_iters=5, log_every=5))
    [result] = train(PROBLEM, NET, runs(config), progress=False, callbacks=[Recorder(stop_at=20)])
    assert result.status == "stopped" and result.extra["stop"] == "budget" and "lm" not in result.extra
    assert result.extra["lbfgs"]["reason"] == "running" and result.extra["lbfgs"]["iterations"] == 10
    assert ten_iterations.extra["lbfgs"]["reason"] == "max_iters"
    assert_same_params(result, ten_iterations)
    for key in ten_iterations.history:
        np.testing.assert_allclose(result.history[key], ten_iterations.history[key], rtol=1e-12, atol=0, err_msg=key)
    assert int(result.state.step) == 20


def test_an_interrupt_inside_the_phase_raises_interrupted_with_the_results(interrupted, ten_iterations):
    err, _, _ = interrupted
    assert err.step == 20
    [result] = err.results
    assert result.status == "interrupted" and result.extra["lbfgs"]["reason"] == "running"
    assert_same_params(result, ten_iterations)


def test_the_progress_bar_counts_the_iterations_done(interrupted):
    """The L-BFGS bar ("... (L-BFGS)", unit "it") counts from the phase's start to the iterations done."""
    _, [lbfgs_bar], _ = _progress_bars("run", None)
    assert lbfgs_bar.label == "run (L-BFGS)" and lbfgs_bar.unit == "it"
    _, _, bar = interrupted
    assert bar.bar.n == 10 and bar.bar.total == 20


def test_stopped_resumed_through_a_checkpoint_file_equals_the_straight_run(tmp_path, straight, interrupted):
    """Stopped after 2 chunks, the phase's checkpoint written to and read back from a file (the
    optax L-BFGS state with its curvature pairs), then resumed: the straight run's parameters,
    state, history and reasons."""
    state, records, step = interrupted[1].saved
    meta = {"step": step, "config": {"lbfgs": dataclasses.asdict(CONFIG.lbfgs), "train": {"steps": 10}}, **manifest(state)}
    save_checkpoint(tmp_path / "c.npz", state, records, meta)
    assert read_manifest(tmp_path / "c.npz")["phase"] == "lbfgs"
    like = template(initial_states(PROBLEM, NET, runs(), stacked=False), PROBLEM, NET, meta, runs=None)
    loaded, records, saved = load_checkpoint(tmp_path / "c.npz", like)
    start = resumed(loaded, records, saved, meta["config"])
    assert isinstance(start.state, LBFGSCheckpoint) and start.steps_done == 20
    [result] = train(PROBLEM, NET, runs(), progress=False, start=start)
    assert_same_run(result, straight[0])
    # another [lbfgs] (max_iters may grow): the phase is redone from the first phase's end, with the history up to it
    other = dict(meta["config"], lbfgs=dict(meta["config"]["lbfgs"], grad_tol=1e-3))
    back = resumed(loaded, records, saved, other)
    assert back.steps_done == 10 and list(back.records["step"]) == [0, 5]
    assert all((a == b).all() for a, b in zip(leaves(back.state), leaves(state.entry), strict=True))


def test_two_seeds_one_at_a_time_stopped_and_resumed_equal_the_straight_seeds():
    """Two seeds one at a time (the CPU's way): the callbacks see both seeds' chunks in the run-axis
    record shape; a stop and resume equals the straight two-seed run, seed by seed."""
    both = runs(seeds=(1, 2))
    straight = train(PROBLEM, NET, both, vmapped=True, progress=False)
    rec = Recorder(stop_at=20, reason=INTERRUPTED)
    with pytest.raises(Interrupted):
        train(PROBLEM, NET, both, vmapped=True, progress=False, callbacks=[rec])
    assert all(c[4].shape == (2,) for c in rec.calls)  # a record per seed
    state, records, step = rec.saved
    resumed_runs = train(PROBLEM, NET, both, vmapped=True, progress=False, start=Progress(state, records, step))
    for a, b in zip(resumed_runs, straight, strict=True):
        assert_same_run(a, b)
