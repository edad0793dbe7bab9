"""A run folder's Levenberg-Marquardt phase: its checkpoints, resuming inside it, and its summary."""

import json

import numpy as np

from pinnbalance.cli import main
from pinnbalance.io import read_history_csv
from pinnbalance.training.checkpoint import read_manifest

LM = "[lm]\nmax_iters = {n}\nlog_every = 4\npoints = 24\ncheckpoint_every = 4\n"
CONFIG = """
[network]
hidden = [16, 16]
[sampling]
batch_size = 32
[train]
steps = 0
seeds = [1234]
[output]
dir = "{out}"
"""


def write_config(tmp_path, out, name, extra):
    path = tmp_path / name
    path.write_text(CONFIG.format(out=(tmp_path / out).as_posix()) + extra)
    return path


def test_lm_phase_checkpoints_resume_with_more_iterations_and_equal_a_straight_run(tmp_path, capsys):
    """8 LM iterations straight == 4, then a resume of the folder with lm.max_iters = 8: the
    checkpoint is the phase's, and history and summary are those of the straight run."""
    straight = write_config(tmp_path, out="straight", name="a.toml", extra=LM.format(n=8))
    assert main(["run", str(straight), "--no-progress"]) == 0
    half = write_config(tmp_path, out="half", name="b.toml", extra=LM.format(n=4))
    assert main(["run", str(half), "--no-progress"]) == 0
    manifest = read_manifest(tmp_path / "half" / "checkpoint.npz")
    assert manifest["phase"] == "lm" and manifest["step"] == 4
    # the same settings again: nothing left to do
    assert main(["run", str(half), "--resume", str(tmp_path / "half"), "--no-progress"]) == 2
    assert "raise lm.max_iters to go on" in capsys.readouterr().err
    assert main(["run", str(half), "--set", "lm.max_iters=8", "--resume", str(tmp_path / "half"), "--no-progress"]) == 0
    assert read_manifest(tmp_path / "half" / "checkpoint.npz")["step"] == 8
    a = read_history_csv(tmp_path / "straight" / "history.csv")
    b = read_history_csv(tmp_path / "half" / "history.csv")
    assert list(a["step"]) == list(b["step"]) == [4, 8]
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=0, err_msg=key)
    sa, sb = (json.loads((tmp_path / f / "summary.json").read_text()) for f in ("straight", "half"))
    for key in ("reason", "iterations", "rejected", "solver"):
        assert sa["lm"][key] == sb["lm"][key], key
    assert sb["lm"]["iterations"] == 8 and sb["lm"]["seconds"] > 0 and len(sb["lm"]["record_seconds"]) == 1
