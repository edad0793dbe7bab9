"""``run_shared(resume=True)`` goes on from checkpoints written inside the L-BFGS or the
Levenberg-Marquardt phase, as ``run`` does for one folder: the folders' slices are stacked back
into the one program's state (a configuration of two seeds and one of one seed) and the phase
continues to its end. That a stacked phase checkpoint goes on equal to a straight run is
tests/training/test_lbfgs_callbacks.py's (two seeds) and the single-folder tests'."""

import json

import jax
import numpy as np
import pytest

import pinnbalance.run as run_module
from pinnbalance import config as cfg
from pinnbalance.io import read_history_csv
from pinnbalance.run import NotShared, run_shared
from pinnbalance.training.callbacks import INTERRUPTED
from pinnbalance.training.checkpoint import read_manifest
from pinnbalance.training.lbfgs_checkpoint import LBFGSCheckpoint
from pinnbalance.training.lm_checkpoint import LMCheckpoint
from pinnbalance.training.loop import Callback
from pinnbalance.training.results import flatten_records

CONFIG = """
[network]
hidden = [6]
[weighting]
scheme = "constant"
[sampling]
batch_size = 16
[optimizer]
learning_rate = {rate}
[train]
dtype = "float64"
seeds = {seeds}
steps = {steps}
log_every = 10
chunk_logs = 1
checkpoint_every = 10
{phase}
[output]
dir = "{out}"
"""
PHASES = {  # (first-order steps, the phase's table, its iterations, the step where the "signal" comes)
    "lbfgs": (10, "[lbfgs]\nmax_iters = 12\nlog_every = 4\ngrad_tol = 0.0", 12, 14),
    "lm": (0, "[lm]\nmax_iters = 6\nlog_every = 2\ncheckpoint_every = 2\npoints = 12", 6, 2),
}


class SignalInPhase(Callback):
    """Stands in for ``StopOnSignal``: a "signal" once a later phase reaches step ``at``; keeps the
    one program's state and history there (``saved``)."""

    at, saved = None, None

    def on_chunk(self, progress):
        if isinstance(progress.state, (LBFGSCheckpoint, LMCheckpoint)) and progress.steps_done >= self.at and not progress.stop:
            progress.stop = INTERRUPTED
            SignalInPhase.saved = (progress.state, flatten_records(progress.chunks), progress.steps_done)


def pair(tmp_path, phase: str) -> tuple[list, list]:
    """Two configurations that may share one program (seeds and learning rates differ), their folders."""
    steps, table = PHASES[phase][:2]
    folders, configs = [tmp_path / "a", tmp_path / "b"], []
    for folder, rate, seeds in zip(folders, (1e-3, 3e-3), ([1, 2], [3])):
        path = tmp_path / f"{folder.name}.toml"
        path.write_text(CONFIG.format(rate=rate, seeds=seeds, steps=steps, phase=table, out=folder.as_posix()))
        configs.append(cfg.load(path))
    return configs, folders


def plain(x) -> np.ndarray:
    """An array leaf as NumPy (a typed PRNG key as its key data)."""
    return np.asarray(jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x)


@pytest.mark.parametrize("phase", ["lbfgs", "lm"])
def test_shared_runs_interrupted_inside_a_later_phase_resume_there(tmp_path, monkeypatch, phase):
    """Interrupted inside the phase: each folder's checkpoint is in the phase at the signal's step;
    stacked again they are the interrupted program's state and history, exactly; resumed, every
    run ends the phase (all its iterations, status completed); the finished pair is not shared
    again (nothing left)."""
    steps, _, iterations, at = PHASES[phase]
    configs, folders = pair(tmp_path, phase)
    with monkeypatch.context() as patch:
        patch.setattr(run_module, "StopOnSignal", SignalInPhase)
        patch.setattr(SignalInPhase, "at", at)
        with pytest.raises(run_module.RunInterrupted):
            run_shared(configs, folders, progress=False)
    state, records, step = SignalInPhase.saved
    assert all(read_manifest(f / "checkpoint.npz")["phase"] == phase for f in folders)
    problem = configs[0].build_problem()
    stacked = run_module._stacked_progress(configs, folders, problem, configs[0].build_network(problem))
    assert type(stacked.state) is type(state) and stacked.steps_done == step
    for a, b in zip(jax.tree_util.tree_leaves(stacked.state), jax.tree_util.tree_leaves(state), strict=True):
        np.testing.assert_array_equal(plain(a), plain(b))
    assert set(stacked.records) == set(records)
    for key in records:
        np.testing.assert_array_equal(stacked.records[key], records[key], err_msg=key)
    run_shared(configs, folders, progress=False, resume=True)
    for folder in folders:
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] == ("completed" if "seed" in summary else ["completed"] * 2)
        assert np.all(np.ravel(summary[phase]["iterations"]) == iterations)
    history = read_history_csv(folders[1] / "history.csv")  # the one-seed folder: its records to the phase's end
    assert history["step"][-1] == steps + iterations and np.all(np.diff(history["step"]) > 0)
    with pytest.raises(NotShared, match="nothing left"):
        run_shared(configs, folders, progress=False, resume=True)
