"""`pinnbalance status`: what a run folder says about its training, checked against the files
the run itself wrote (history.csv, summary.json, the checkpoint's manifest)."""

import doctest
import json

import numpy as np
import pytest

from pinnbalance import run as run_module
from pinnbalance import run_status as run_status_module
from pinnbalance.cli import main
from pinnbalance.io import read_history_csv
from pinnbalance.run_status import StatusError, format_status, run_folders, run_status
from pinnbalance.training.callbacks import StopOnSignal
from test_run import write_config  # the short run configuration of tests/test_run.py


class StopAfterFirstChunk(StopOnSignal):
    """As if SIGTERM arrived before the first chunk ended: the run stops there and checkpoints."""

    def on_start(self, progress):
        super().on_start(progress)
        self.signal = "SIGTERM"


def test_a_finished_run_reports_its_last_record_and_final_error(tmp_path):
    assert main(["run", str(write_config(tmp_path)), "--no-progress"]) == 0
    status = run_status(tmp_path / "run")
    history = read_history_csv(tmp_path / "run" / "history.csv")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert status["state"] == "finished" and status["steps_done"] == status["steps"] == 80
    assert "resume" not in status and status["phase"] is None
    (row,) = status["seeds"]
    assert row["seed"] == 1234 and row["step"] == int(history["step"][-1])
    np.testing.assert_allclose(row["errors"]["l2"], history["l2"][-1], rtol=1e-6)
    best = int(np.argmin(history["l2"]))
    np.testing.assert_allclose(row["min_l2"], history["l2"][best], rtol=1e-6)
    assert row["min_l2_step"] == int(history["step"][best])
    for term in ("res", "ics", "bcs"):
        np.testing.assert_allclose(row["weights"][term], history[f"weight_{term}"][-1], rtol=1e-6)
    assert row["final"]["final_l2"] == summary["final_l2"]
    assert format_status(status).splitlines()[0].startswith(f"{(tmp_path / 'run').as_posix()}: finished, step 80 of 80")


def test_a_stopped_run_is_unfinished_and_its_resume_command_finishes_it(tmp_path, monkeypatch, capsys):
    path = write_config(tmp_path, steps=60)
    monkeypatch.setattr(run_module, "StopOnSignal", StopAfterFirstChunk)
    assert main(["run", str(path), "--no-progress"]) == 130
    monkeypatch.undo()
    status = run_status(tmp_path / "run")
    assert status["state"] == "unfinished" and (status["steps_done"], status["steps"]) == (20, 60)
    assert status["seeds"][0]["step"] == 10 and 0 <= status["checkpoint_age_seconds"] < 600
    capsys.readouterr()
    assert main(["status", str(tmp_path / "run")]) == 0
    text = capsys.readouterr().out
    assert "unfinished, step 20 of 60 (33%)" in text and "resume: pinnbalance run" in text
    command = status["resume"].split()
    assert command[:2] == ["pinnbalance", "run"]
    assert main([*command[1:], "--no-progress"]) == 0  # the printed command goes on to the end
    assert run_status(tmp_path / "run")["state"] == "finished"


def test_several_seeds_report_one_row_each_and_a_folder_of_runs_reports_every_run(tmp_path, capsys):
    assert main(["run", str(write_config(tmp_path, seeds="[1, 2]", out="a", name="a.toml")), "--no-progress"]) == 0
    assert main(["run", str(write_config(tmp_path, out="b", name="b.toml")), "--no-progress"]) == 0
    assert run_folders(tmp_path) == [tmp_path / "a", tmp_path / "b"]
    rows = run_status(tmp_path / "a")["seeds"]
    assert [r["seed"] for r in rows] == [1, 2]
    for row in rows:
        history = read_history_csv(tmp_path / "a" / f"seed_{row['seed']}" / "history.csv")
        np.testing.assert_allclose(row["errors"]["l2"], history["l2"][-1], rtol=1e-6)
    assert rows[0]["errors"]["l2"] != rows[1]["errors"]["l2"]
    capsys.readouterr()
    assert main(["status", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["run_dir"] for s in listed] == [(tmp_path / "a").as_posix(), (tmp_path / "b").as_posix()]


def test_a_run_that_ended_in_its_lm_phase_is_finished_and_says_so(tmp_path):
    """An LM phase counts iterations past train.steps: 0 Adam steps, then 4 LM iterations."""
    lm = "\n[lm]\nmax_iters = 4\nlog_every = 2\ncheckpoint_every = 2\n"
    path = write_config(tmp_path, steps=0)
    path.write_text(path.read_text().replace("steps = 0", 'steps = 0\ndtype = "float64"') + lm)
    assert main(["run", str(path), "--no-progress"]) == 0
    status = run_status(tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert status["state"] == "finished" and status["phase"] == "the Levenberg-Marquardt phase"
    assert status["steps_done"] == summary["lm"]["iterations"] == 4 and "resume" not in status
    assert "finished, ended in the Levenberg-Marquardt phase at step 4" in format_status(status)


def test_folders_without_a_run_get_an_error_that_says_what_is_missing(tmp_path, capsys):
    with pytest.raises(StatusError, match="is not a folder"):
        run_folders(tmp_path / "missing")
    with pytest.raises(StatusError, match="holds no run: neither checkpoint.npz nor summary.json"):
        run_folders(tmp_path)
    (tmp_path / "checkpoint.npz").write_bytes(b"not a zip")
    with pytest.raises(StatusError, match="truncated or corrupted"):
        run_status(tmp_path)
    (tmp_path / "summary.json").write_text('{"steps": 8')
    with pytest.raises(StatusError, match="summary.json is not valid JSON"):
        run_status(tmp_path)
    assert main(["status", str(tmp_path / "missing")]) == 2
    assert "pinnbalance: error:" in capsys.readouterr().err


def test_the_module_examples_run():
    assert doctest.testmod(run_status_module).failed == 0
