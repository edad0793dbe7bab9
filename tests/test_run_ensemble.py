"""A run with ``[ensemble]`` through the command line: a tiny heat-inverse (u and the field a(x, y)),
two members trained by a few Levenberg-Marquardt iterations, each stopped by its own held-out
observations (``holdout_folds = "per-run"``).

``ensemble.npz`` is checked against the members' own files: each member's predictions are
recomputed from its ``params.npz`` (u) and ``unknowns/a/params.npz`` (a), and their mean and
population std must be the file's; the summary's errors must follow from the file's mean and
reference by PINNacle's formula, and each member's from its own folder's summary.
"""

import json
import tomllib

import numpy as np

from pinnbalance import config as cfg
from pinnbalance.cli import main
from pinnbalance.ensemble import member_seeds
from pinnbalance.io import load_params
from pinnbalance.metrics import predict
from pinnbalance.nn.with_unknowns import with_unknowns

CONFIG = """
[problem]
name = "heat-inverse"
parameters = {{ evaluation_n = 6 }}
[network]
hidden = [8]
[unknowns.a]
hidden = [8]
[sampling]
batch_size = 16
[lm]
max_iters = 4
log_every = 2
points = 16
holdout_term = "data"
holdout_folds = "per-run"
[train]
steps = 0
seeds = [5]
[ensemble]
members = 2
[output]
dir = "{out}"
"""


def _member_prediction(problem, folder, points):
    net, u_params = load_params(folder)
    _, a_params = load_params(folder / "unknowns" / "a")
    full = with_unknowns(problem, net)
    params = {"network": u_params, "unknowns": {"a": a_params}}
    return np.asarray(predict(full, params, np.asarray(points, np.float32), problem), np.float64)


def test_ensemble_run_writes_the_members_mean_and_std_and_their_errors(tmp_path, capsys):
    path, out = tmp_path / "ens.toml", tmp_path / "run"
    path.write_text(CONFIG.format(out=out.as_posix()))
    assert main(["run", str(path), "--no-progress"]) == 0
    assert "ensemble of 2: l2re" in capsys.readouterr().out
    seeds = list(member_seeds(5, 2))
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["train"]["seeds"] == [5] and saved["ensemble"] == {"members": 2}  # the one seed, as given
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["ensemble"]
    assert summary["seeds"] == entry["seeds"] == seeds and entry["members"] == 2
    problem = cfg.load(out / "config.toml").build_problem()
    with np.load(out / "ensemble.npz") as f:
        points, mean, std, reference = f["points"], f["mean"], f["std"], f["reference"].astype(np.float64)
    np.testing.assert_allclose(reference, problem.reference_data[1], rtol=1e-6, atol=1e-7)  # in the run's float32
    members = np.stack([_member_prediction(problem, out / f"seed_{s}", points) for s in seeds])
    assert mean.shape == std.shape == (problem.reference_data[1].shape[0], 2)
    np.testing.assert_allclose(mean, members.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, np.abs(members[0] - members[1]) / 2, rtol=1e-5, atol=1e-6)  # K = 2: |q1 - q2| / 2
    # PINNacle's L2RE of the mean over both columns, and each column's own
    l2re = np.linalg.norm(mean - reference) / np.linalg.norm(reference)
    np.testing.assert_allclose(entry["l2re"], l2re, rtol=1e-10)
    for c, name in enumerate(("u", "a")):
        col = np.linalg.norm(mean[:, c] - reference[:, c]) / np.linalg.norm(reference[:, c])
        np.testing.assert_allclose(entry["components"][name], col, rtol=1e-10)
    np.testing.assert_allclose(entry["member_l2re"], summary["final_l2re"], rtol=1e-4)  # each member's own summary
    np.testing.assert_allclose(entry["spread"], np.linalg.norm(std, axis=1).mean(), rtol=1e-10)
    assert entry["member_l2re"][0] != entry["member_l2re"][1] and entry["spread"] > 0
    assert (out / "ensemble.png").stat().st_size > 0  # u at t = 0 and a: mean and std
    assert summary["lm"]["holdout_loss"][0] != summary["lm"]["holdout_loss"][1]  # each member's own held-out rows
