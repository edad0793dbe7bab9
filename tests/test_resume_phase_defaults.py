"""A checkpoint written inside the L-BFGS or LM phase by code whose settings class had fewer fields
(its manifest's [lbfgs]/[lm] table lacks them) goes on inside the phase when the current values
are those fields' defaults; a saved value that differs from the current one still redoes the
phase, and the resume says so in one line naming the key (training.resume_settings)."""

import copy
import doctest
import json

import numpy as np
import pytest

import pinnbalance.run as run_module
import pinnbalance.training.resume_settings as resume_settings
from pinnbalance import config as cfg
from pinnbalance.cli import main
from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.run import resumed_progress
from pinnbalance.training import lbfgs_checkpoint, lm_checkpoint
from pinnbalance.training.callbacks import INTERRUPTED
from pinnbalance.training.checkpoint import read_manifest
from pinnbalance.training.lbfgs_checkpoint import LBFGSCheckpoint
from pinnbalance.training.lm_checkpoint import LMCheckpoint
from pinnbalance.training.loop import Callback
from pinnbalance.training.state import TrainState

CONFIG = """
[network]
hidden = [6]
[weighting]
scheme = "constant"
[sampling]
batch_size = 16
[train]
dtype = "float64"
seeds = [1234]
steps = {steps}
log_every = 10
chunk_logs = 1
checkpoint_every = 10
{phase}
[output]
dir = "{out}"
"""
PHASES = {  # (first-order steps, the phase's table, the step where the "signal" comes inside the phase)
    "lbfgs": (10, "[lbfgs]\nmax_iters = 8\nlog_every = 4\ngrad_tol = 0.0", 14),
    "lm": (0, "[lm]\nmax_iters = 6\nlog_every = 2\ncheckpoint_every = 2\npoints = 12", 2),
}
OLDER = {  # fields an older settings class lacked (the LM holdout fields were added after the phase)
    "lbfgs": ("memory_size", "max_linesearch_steps"),
    "lm": ("holdout_fraction", "holdout_seed", "holdout_fresh"),
}
CHANGED = {  # a saved value other than the current one, and the line's words for it (TOML above: grad_tol = 0.0; damping's default 1e-3)
    "lbfgs": ("grad_tol", 1e-6, "lbfgs.grad_tol (1e-06 in the checkpoint, 0.0 now)"),
    "lm": ("damping", 1.0, "lm.damping (1.0 in the checkpoint, 0.001 now)"),
}


def run_config(tmp_path, text: str = "[lbfgs]\n[lm]\npoints = 12") -> cfg.RunConfig:
    path = tmp_path / "run.toml"
    path.write_text(CONFIG.format(steps=10, phase=text, out=(tmp_path / "out").as_posix()))
    return cfg.load(path)


def test_the_module_examples_hold():
    assert doctest.testmod(resume_settings).failed == 0


def test_keys_missing_from_a_saved_table_are_the_defaults_and_changes_are_named(tmp_path):
    """On ``RunConfig.to_dict()`` data: a saved table without fields that hold their defaults now
    (documented defaults: memory_size 50, holdout_fraction 0.2, holdout_seed 0, holdout_fresh
    false) continues both phases (the LM phase compares [lbfgs] too); a phase's own max_iters may
    grow, but L-BFGS's not under an LM checkpoint; a saved value that differs, a default-None field
    set now, an unknown saved key and a missing ambiguous key (lm.dtype may be None, defaults to
    "float64") do not, each named with both values."""
    now = run_config(tmp_path).to_dict()
    assert now["lbfgs"]["memory_size"] == 50 and now["lm"]["holdout_fraction"] == 0.2 and now["lm"]["points"] == 12
    saved = copy.deepcopy(now)
    for section, keys in OLDER.items():
        for key in keys:
            del saved[section][key]
    assert lbfgs_checkpoint.continues(saved, now) and lm_checkpoint.continues(saved, now)
    assert resume_settings.filled(saved["lm"], LevenbergMarquardt)["holdout_seed"] == 0
    grown = copy.deepcopy(now)
    grown["lm"]["max_iters"], grown["lbfgs"]["max_iters"] = 900, 9000  # each phase's own max_iters may grow
    assert lbfgs_checkpoint.continues(saved, grown) and lm_checkpoint.continues(saved, {**grown, "lbfgs": now["lbfgs"]})
    assert lm_checkpoint.changes(saved, grown) == ["lbfgs.max_iters (5000 in the checkpoint, 9000 now)"]  # L-BFGS ran before

    other = copy.deepcopy(saved)
    other["lbfgs"]["memory_size"], other["train"]["steps"] = 20, 5
    assert lbfgs_checkpoint.changes(other, now) == [
        "train.steps (5 in the checkpoint, 10 now)",
        "lbfgs.memory_size (20 in the checkpoint, 50 now)",
    ]
    assert lm_checkpoint.changes(other, now)[1] == "lbfgs.memory_size (20 in the checkpoint, 50 now)"

    older = copy.deepcopy(saved)
    del older["lm"]["points"], older["lm"]["dtype"]  # points: default None, so missing was None; dtype: ambiguous
    older["lm"]["retired"] = 1  # a key this code's class does not have
    assert lm_checkpoint.changes(older, now) == [
        "lm.points (None in the checkpoint, 12 now)",
        "lm.dtype (missing in the checkpoint, 'float64' now)",
        "lm.retired (1 in the checkpoint, missing now)",
    ]
    assert lm_checkpoint.changes(saved, {**now, "lm": None}) == ["[lm] (present in the checkpoint, absent now)"]


def rewrite_manifest(path, edit) -> None:
    """``edit(config)`` on the configuration a checkpoint's manifest holds, the arrays unchanged
    (as if older code had written it)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    manifest = json.loads(arrays["manifest"].tobytes().decode())
    edit(manifest["config"])
    arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


class SignalInPhase(Callback):
    """Stands in for ``StopOnSignal``: a "signal" once a later phase reaches step ``at``."""

    at = None

    def on_chunk(self, progress):
        if isinstance(progress.state, (LBFGSCheckpoint, LMCheckpoint)) and progress.steps_done >= self.at and not progress.stop:
            progress.stop = INTERRUPTED


@pytest.mark.parametrize("phase", ["lbfgs", "lm"])
def test_an_older_checkpoint_goes_on_inside_the_phase_and_a_changed_value_redoes_it(tmp_path, monkeypatch, capsys, phase):
    """A run folder interrupted inside the phase, its manifest's table without ``OLDER``'s keys:
    the resume starts inside the phase at the checkpoint's step (its state: the phase's checkpoint)
    and prints nothing about a redo. The manifest's table with ``CHANGED``'s value instead: the resume
    starts at the first phase's end (a plain ``TrainState``, the history cut there) and prints one
    line naming the folder and the key with both values."""
    steps, table, at = PHASES[phase]
    folder, path = tmp_path / phase, tmp_path / f"{phase}.toml"
    path.write_text(CONFIG.format(steps=steps, phase=table, out=folder.as_posix()))
    with monkeypatch.context() as patch:
        patch.setattr(run_module, "StopOnSignal", SignalInPhase)
        patch.setattr(SignalInPhase, "at", at)
        assert main(["run", str(path), "--no-progress"]) == 130
    checkpoint = folder / "checkpoint.npz"
    assert read_manifest(checkpoint)["phase"] == phase and read_manifest(checkpoint)["step"] == at
    rewrite_manifest(checkpoint, lambda c: [c[phase].pop(key) for key in OLDER[phase]])
    config = cfg.load(path)
    problem = config.build_problem()
    built = (problem, config.build_network(problem), config.build_scheme(problem), config.train.optimizer())
    capsys.readouterr()

    start = resumed_progress(config, folder, *built)
    assert isinstance(start.state, (LBFGSCheckpoint, LMCheckpoint)) and start.steps_done == at
    assert "redoing" not in capsys.readouterr().out

    key, value, words = CHANGED[phase]
    rewrite_manifest(checkpoint, lambda c: c[phase].update({key: value}))
    start = resumed_progress(config, folder, *built)
    assert isinstance(start.state, TrainState) and start.steps_done == steps
    assert np.all(np.asarray(start.records["step"]) <= steps)
    lines = [line for line in capsys.readouterr().out.splitlines() if "redoing" in line]
    assert len(lines) == 1 and str(folder) in lines[0] and lines[0].endswith(f"changed {words}")
