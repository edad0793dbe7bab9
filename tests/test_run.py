"""Runs that can be stopped, resumed and audited (checkpoints, signals, divergence)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pinnbalance import config as cfg
from pinnbalance.cli import main
from pinnbalance.io import read_history_csv

SMALL = """
[network]
hidden = [16, 16]
[sampling]
batch_size = 32
[train]
steps = {steps}
seeds = {seeds}
log_every = 10
chunk_logs = 2
checkpoint_every = 20
[output]
dir = "{out}"
"""


def write_config(tmp_path, steps=80, seeds="[1234]", out="run", name="c.toml", extra=""):
    path = tmp_path / name
    path.write_text(SMALL.format(steps=steps, seeds=seeds, out=(tmp_path / out).as_posix()) + extra)
    return path


def test_run_writes_config_versions_checkpoint_and_summary(tmp_path):
    path = write_config(tmp_path)
    assert main(["run", str(path), "--no-progress"]) == 0
    run = tmp_path / "run"
    for f in ("config.toml", "versions.json", "checkpoint.npz", "summary.json", "history.csv", "params.npz"):
        assert (run / f).exists(), f
    assert cfg.load(run / "config.toml") == cfg.load(path)
    assert json.loads((run / "versions.json").read_text())["jax"]
    numerics = json.loads((run / "summary.json").read_text())["numerics"]
    assert numerics["dtype"] == "float32" and numerics["matmul_precision"] == "default"
    # what the backend decided is recorded: on this CPU the masked schedule and the streams mode
    assert numerics["choices"] == {"backend": "cpu", "update_schedule": "masked", "taylor_mode": "streams"}


@pytest.mark.parametrize("seeds", ["[1234]", "[3, 4]"])
def test_resume_equals_an_uninterrupted_run(tmp_path, seeds):
    """2N steps straight == N steps, then resume for N more: bit-identical on CPU."""
    straight = write_config(tmp_path, steps=80, seeds=seeds, out="straight", name="a.toml")
    assert main(["run", str(straight), "--no-progress"]) == 0
    half = write_config(tmp_path, steps=40, seeds=seeds, out="half", name="b.toml")
    assert main(["run", str(half), "--no-progress"]) == 0
    assert main(["run", str(half), "--set", "train.steps=80", "--resume", str(tmp_path / "half"), "--no-progress"]) == 0
    sub = "" if seeds == "[1234]" else "seed_4"
    a = read_history_csv(tmp_path / "straight" / sub / "history.csv")
    b = read_history_csv(tmp_path / "half" / sub / "history.csv")
    assert list(b["step"]) == list(range(0, 80, 10))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    with np.load(tmp_path / "straight" / sub / "params.npz") as pa, np.load(tmp_path / "half" / sub / "params.npz") as pb:
        for k in pa.files:
            np.testing.assert_array_equal(pa[k], pb[k])


def test_resume_with_fixed_points_and_self_adaptive_weights(tmp_path):
    """The fixed point set, the point weights and their optimizer state survive a resume bit for bit."""
    sets = ["--set", 'sampling.mode="fixed"', "--set", "sampling.resample_every=30", "--set", 'weighting.scheme="self-adaptive"']
    straight = write_config(tmp_path, steps=80, out="straight", name="a.toml")
    assert main(["run", str(straight), *sets, "--no-progress"]) == 0
    half = write_config(tmp_path, steps=40, out="half", name="b.toml")
    assert main(["run", str(half), *sets, "--no-progress"]) == 0
    assert main(["run", str(half), *sets, "--set", "train.steps=80", "--resume", str(tmp_path / "half"), "--no-progress"]) == 0
    a = read_history_csv(tmp_path / "straight" / "history.csv")
    b = read_history_csv(tmp_path / "half" / "history.csv")
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert a["weight_res"][-1] != a["weight_res"][0]


def test_resume_refuses_another_configuration(tmp_path, capsys):
    path = write_config(tmp_path, steps=40)
    assert main(["run", str(path), "--no-progress"]) == 0
    code = main(["run", str(path), "--set", "train.steps=80", "--set", "weighting.beta=0.5", "--resume", str(tmp_path / "run")])
    assert code == 2
    assert "only train.steps, train.devices, train.checkpoint_every, [lbfgs] and [lm] may change" in capsys.readouterr().err


def test_resume_redoes_the_lbfgs_phase_with_new_settings(tmp_path, capsys):
    """A finished run, resumed with another [lbfgs] section, redoes only that phase: the result
    equals a straight run with those settings, bit for bit on CPU."""
    lbfgs = "[lbfgs]\nmax_iters = {n}\npoints = 24\nlog_every = 5\ngrad_tol = 0.0\n"
    straight = write_config(tmp_path, steps=40, out="straight", name="a.toml", extra=lbfgs.format(n=10))
    assert main(["run", str(straight), "--no-progress"]) == 0
    first = write_config(tmp_path, steps=40, out="redo", name="b.toml", extra=lbfgs.format(n=5))
    assert main(["run", str(first), "--no-progress"]) == 0
    assert json.loads((tmp_path / "redo" / "summary.json").read_text())["lbfgs"]["iterations"] == 5
    # the same settings again: nothing to do
    assert main(["run", str(first), "--resume", str(tmp_path / "redo"), "--no-progress"]) == 2
    assert "change [lbfgs]/[lm] to redo that phase" in capsys.readouterr().err
    redo = ["run", str(first), "--set", "lbfgs.max_iters=10", "--resume", str(tmp_path / "redo"), "--no-progress"]
    assert main(redo) == 0
    assert json.loads((tmp_path / "redo" / "summary.json").read_text())["lbfgs"]["iterations"] == 10
    assert cfg.load(tmp_path / "redo" / "config.toml").train.lbfgs.max_iters == 10  # the folder says what produced it
    a = read_history_csv(tmp_path / "straight" / "history.csv")
    b = read_history_csv(tmp_path / "redo" / "history.csv")
    assert list(a["step"]) == list(b["step"]) and a["step"][-1] == 50
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_divergence_names_step_term_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    path = write_config(tmp_path, steps=200, extra='[optimizer]\nname = "sgd"\nlearning_rate = 1e6\n')
    assert main(["run", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "training diverged" in err and "became non-finite" in err and "at step" in err
    assert "Kept on disk:" in err
    assert not (tmp_path / "run" / "summary.json").exists()


def test_sigterm_finishes_the_chunk_writes_a_checkpoint_and_says_how_to_resume(tmp_path):
    path = write_config(tmp_path, steps=200_000)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinnbalance.cli", "run", str(path), "--no-progress"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    checkpoint = tmp_path / "run" / "checkpoint.npz"
    deadline = time.time() + 240
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.5)
    assert checkpoint.exists(), "no checkpoint written in time"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "SIGTERM received" in err and "--resume" in err
    from pinnbalance.training.checkpoint import read_manifest

    step = read_manifest(checkpoint)["step"]
    assert 0 < step < 200_000 and step % 20 == 0
    # it resumes from there
    assert main(["run", str(path), "--set", f"train.steps={step + 20}", "--resume", str(tmp_path / "run"), "--no-progress"]) == 0
    assert read_manifest(checkpoint)["step"] == step + 20


def test_same_config_bit_identical_histories(tmp_path):
    a = write_config(tmp_path, out="a", name="a.toml")
    b = write_config(tmp_path, out="b", name="b.toml")
    assert main(["run", str(a), "--no-progress"]) == 0 and main(["run", str(b), "--no-progress"]) == 0
    ha, hb = read_history_csv(tmp_path / "a" / "history.csv"), read_history_csv(tmp_path / "b" / "history.csv")
    for key in ha:
        np.testing.assert_array_equal(ha[key], hb[key])
    assert Path(tmp_path / "a" / "history.csv").read_bytes() == Path(tmp_path / "b" / "history.csv").read_bytes()


@pytest.mark.parametrize(
    "network", ['type = "modified-mlp"\nhidden = [8, 8]\nrwf = [1.0, 0.1]', 'type = "fourier"\nhidden = [8]']
)
def test_other_architectures_run_end_to_end_and_load(tmp_path, network):
    from pinnbalance.io import load_run

    path = write_config(tmp_path, steps=20)
    path.write_text(path.read_text().replace("[network]\nhidden = [16, 16]", "[network]\n" + network))
    assert main(["run", str(path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert np.isfinite(summary["final_l2"])
    model = load_run(tmp_path / "run")
    with np.load(tmp_path / "run" / "predictions.npz") as pred:
        t, x = np.meshgrid(pred["axis0"], pred["axis1"], indexing="ij")
        u = model.u(np.stack([t.ravel(), x.ravel()], -1)).reshape(t.shape)
        np.testing.assert_allclose(u, pred["u_pred"], rtol=1e-5, atol=1e-6)
    assert model.coordinates == ("t", "x") and np.isfinite(model.derivative([[0.5, 0.5]], "x", order=2)).all()


def test_a_diverged_run_among_shared_ones_is_written_and_named(tmp_path):
    """Two configurations trained as one program (``run_shared``), one with an SGD rate that
    blows up: both folders get their outputs; the diverged one's summary names the seed, step
    and term, the healthy one's says it completed."""
    from pinnbalance.run import run_shared

    sgd = '[optimizer]\nname = "sgd"\nlearning_rate = {rate}\ndecay_rate = 1.0\n'
    good = cfg.load(write_config(tmp_path, steps=40, name="good.toml", extra=sgd.format(rate=1e-4)))
    bad = cfg.load(write_config(tmp_path, steps=40, name="bad.toml", extra=sgd.format(rate=1e12)))
    summaries = run_shared([good, bad], [tmp_path / "good", tmp_path / "bad"], progress=False)
    assert summaries[0]["status"] == "completed" and "diverged" not in summaries[0]
    assert summaries[1]["status"] == "diverged"
    [named] = json.loads((tmp_path / "bad" / "summary.json").read_text())["diverged"]
    assert named["seed"] == 1234 and named["step"] >= 0 and named["term"]
    for folder in ("good", "bad"):
        assert (tmp_path / folder / "history.csv").exists() and (tmp_path / folder / "params.npz").exists()
    assert np.isfinite(read_history_csv(tmp_path / "good" / "history.csv")["l2"]).all()


def test_a_run_with_an_lm_section_trains_from_scratch_and_says_why_it_stopped(tmp_path):
    """``[lm]`` with ``train.steps = 0``: Levenberg-Marquardt alone, from the initial parameters,
    in float64; the summary records its stop reason and iterations, the history its records,
    and the configuration round-trips through the run folder."""
    extra = "[lm]\nmax_iters = 8\nlog_every = 4\npoints = 24\n"
    path = write_config(tmp_path, steps=0, extra=extra)
    assert main(["run", str(path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["lm"]["reason"] == "max_iters" and summary["lm"]["iterations"] == 8
    history = read_history_csv(tmp_path / "run" / "history.csv")
    assert list(history["step"]) == [4, 8]
    assert cfg.load(tmp_path / "run" / "config.toml") == cfg.load(path)


def test_the_summary_gives_every_terms_weight_the_references_too(tmp_path):
    """NTK weights the reference term as well (tr K / tr K_res): summary.json must not drop it."""
    path = write_config(tmp_path, steps=40, extra='[weighting]\nscheme = "ntk"\n')
    assert main(["run", str(path), "--no-progress"]) == 0
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    history = read_history_csv(tmp_path / "run" / "history.csv")
    weights, reference = summary["final_weights"], "res"  # the default problem's reference term
    assert set(weights) == {k.removeprefix("weight_") for k in history if k.startswith("weight_")}
    assert weights[reference] == pytest.approx(float(history[f"weight_{reference}"][-1]))
    assert weights[reference] != pytest.approx(1.0)  # NTK moved it
