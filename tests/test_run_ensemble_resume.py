"""An ensemble run resumes as a multi-seed run does: its checkpoint holds every member (a lane
each), and a run stopped at step 10 and resumed to step 20 writes the ensemble files of a straight
20-step run. Another member count is another run: resuming with it is refused."""

import json

import numpy as np

from pinnbalance.cli import main
from pinnbalance.ensemble import member_seeds
from pinnbalance.training.checkpoint import read_manifest

CONFIG = """
[problem]
name = "poisson-inverse"
parameters = {{ observations = 4 }}
[network]
hidden = [8]
[sampling]
batch_size = 16
[train]
steps = {steps}
log_every = 5
chunk_logs = 2
checkpoint_every = 10
seeds = [11]
[ensemble]
members = 2
[output]
dir = "{out}"
"""


def _config(tmp_path, name, steps):
    path = tmp_path / f"{name}.toml"
    path.write_text(CONFIG.format(steps=steps, out=(tmp_path / name).as_posix()))
    return path


def test_an_interrupted_ensemble_resumes_to_the_straight_runs_files(tmp_path, capsys):
    assert main(["run", str(_config(tmp_path, "straight", 20)), "--no-progress"]) == 0
    half = _config(tmp_path, "half", 10)
    assert main(["run", str(half), "--no-progress"]) == 0
    manifest = read_manifest(tmp_path / "half" / "checkpoint.npz")
    assert manifest["step"] == 10 and manifest["seeds"] == list(member_seeds(11, 2))  # both members, as lanes
    capsys.readouterr()
    refused = ["run", str(half), "--set", "train.steps=20", "--set", "ensemble.members=3", "--resume", str(tmp_path / "half")]
    assert main([*refused, "--no-progress"]) == 2
    assert "ensemble.members: 2 in the run folder, 3 now" in capsys.readouterr().err
    assert main(["run", str(half), "--set", "train.steps=20", "--resume", str(tmp_path / "half"), "--no-progress"]) == 0
    a, b = (json.loads((tmp_path / f / "summary.json").read_text()) for f in ("straight", "half"))
    assert a["ensemble"].keys() == b["ensemble"].keys() and b["steps"] == 20
    for key in ("l2re", "member_l2re", "spread", "relative_spread"):
        np.testing.assert_allclose(b["ensemble"][key], a["ensemble"][key], rtol=1e-6, err_msg=key)
    with np.load(tmp_path / "straight" / "ensemble.npz") as fa, np.load(tmp_path / "half" / "ensemble.npz") as fb:
        for key in ("mean", "std"):
            np.testing.assert_allclose(fb[key], fa[key], rtol=1e-6, atol=1e-7, err_msg=key)
    assert (tmp_path / "half" / "ensemble.png").exists()  # a 2-D problem: u's mean and std
