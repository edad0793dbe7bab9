"""A run folder's L-BFGS phase: interrupted inside it, its checkpoint, resuming inside it, and
what is left to do once it finished."""

import json

import numpy as np

import pinnbalance.run as run_module
from pinnbalance.cli import main
from pinnbalance.io import read_history_csv
from pinnbalance.training.callbacks import INTERRUPTED
from pinnbalance.training.checkpoint import read_manifest
from pinnbalance.training.lbfgs_checkpoint import LBFGSCheckpoint
from pinnbalance.training.loop import Callback

CONFIG = """
[network]
hidden = [8]
[sampling]
batch_size = 16
[train]
steps = 20
log_every = 10
chunk_logs = 1
checkpoint_every = 10
seeds = [1234]
[lbfgs]
max_iters = 12
log_every = 4
grad_tol = 0.0
dtype = "float64"
[output]
dir = "{out}"
"""


class SignalInLBFGS(Callback):
    """Stands in for ``StopOnSignal``: a "signal" once the L-BFGS phase has done 4 iterations."""

    def on_chunk(self, progress):
        if isinstance(progress.state, LBFGSCheckpoint) and progress.steps_done >= 24 and progress.stop is None:
            progress.stop = INTERRUPTED


def test_interrupted_inside_lbfgs_resumes_there_and_equals_a_straight_run(tmp_path, monkeypatch, capsys):
    """12 iterations straight == 4, an interrupt (exit 130, the phase's checkpoint at step 24), a
    resume of the folder: history and summary are the straight run's; resuming the finished
    folder again says the phase has finished."""
    paths = {}
    for name in ("straight", "stopped"):
        paths[name] = tmp_path / f"{name}.toml"
        paths[name].write_text(CONFIG.format(out=(tmp_path / name).as_posix()))
    assert main(["run", str(paths["straight"]), "--no-progress"]) == 0
    with monkeypatch.context() as patch:
        patch.setattr(run_module, "StopOnSignal", SignalInLBFGS)
        assert main(["run", str(paths["stopped"]), "--no-progress"]) == 130
    manifest = read_manifest(tmp_path / "stopped" / "checkpoint.npz")
    assert manifest["phase"] == "lbfgs" and manifest["step"] == 24
    assert not (tmp_path / "stopped" / "summary.json").exists()
    assert main(["run", str(paths["stopped"]), "--resume", str(tmp_path / "stopped"), "--no-progress"]) == 0
    a, b = (read_history_csv(tmp_path / f / "history.csv") for f in ("straight", "stopped"))
    assert list(a["step"]) == list(b["step"]) == [0, 10, 24, 28, 32]
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=0, err_msg=key)
    sa, sb = (json.loads((tmp_path / f / "summary.json").read_text()) for f in ("straight", "stopped"))
    assert sa["lbfgs"]["reason"] == sb["lbfgs"]["reason"] == "max_iters"
    assert sa["lbfgs"]["iterations"] == sb["lbfgs"]["iterations"] == 12 and sb["status"] == "completed"
    assert read_manifest(tmp_path / "stopped" / "checkpoint.npz")["step"] == 32  # the phase's last chunk
    capsys.readouterr()
    assert main(["run", str(paths["stopped"]), "--resume", str(tmp_path / "stopped"), "--no-progress"]) == 2
    assert "finished its L-BFGS phase" in capsys.readouterr().err
