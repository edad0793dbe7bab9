"""The command line end to end on a short run, and its one-line errors."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pinnbalance.cli import main
from pinnbalance.io import load_run


def test_list_names_problems_methods_schemes_networks_and_optimizers(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in (
        "klein-gordon",
        "FILE.py:FUNC",
        "M1",
        "M2",
        "M2-unweighted",
        "constant",
        "lr-annealing",
        "grad-norm-2026",
        "piratenet",
        "soap",
        "[lbfgs]",
        "[lm]",
        "[causal]",
        "least-squares",
    ):
        assert name in out


def test_a_reader_that_stops_early_gets_no_traceback():
    """``pinnbalance list | head -1``: the pipe's reading end closes before the listing is
    written; the command ends without Python's BrokenPipeError traceback."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as a user's shell runs it
    command = [sys.executable, "-m", "pinnbalance.cli", "list"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # as head does once it has its line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1 and err == "", err


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["reproduce", "kleingordon"],
            "problem 'kleingordon' is unknown (did you mean 'klein-gordon'?); valid problems: klein-gordon",
        ),
        (["reproduce", "klein-gordon", "--methods", "M1,M9"], "unknown method(s) ['M9']; valid methods: M1, M2, M2-unweighted"),
        (["reproduce", "klein-gordon", "--seeds", "1,1"], "seed listed twice"),
    ],
)
def test_bad_arguments_give_one_line_errors(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_step_count_is_rejected(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "klein-gordon", "--steps", "-5"])
    assert exc.value.code == 2
    assert "expected a positive integer, got -5" in capsys.readouterr().err


def test_reproduce_writes_a_complete_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["reproduce", "klein-gordon", "--steps", "201", "--methods", "M1,M2", "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["problem"] == "klein-gordon" and summary["steps"] == 201 and summary["seed"] == 1234
    for m in ("M1", "M2"):
        entry = summary["methods"][m]
        assert set(entry["final_losses"]) == {"res", "ics", "bcs"}
        assert set(entry["final_weights"]) == {"res", "ics", "bcs"}
        assert entry["final_weights"]["res"] == 1.0  # annealing's reference keeps weight 1
        assert 0 < entry["min_l2"] <= entry["final_l2"] or entry["min_l2"] == entry["final_l2"]
        for f in ("history.csv", "params.npz", "network.json", "predictions.npz"):
            assert (out / m / f).exists()
    assert summary["methods"]["M1"]["final_weights"] == {"res": 1.0, "ics": 1.0, "bcs": 1.0}
    assert summary["methods"]["M2"]["final_weights"]["bcs"] > 1.0
    for f in (
        "config.json",
        "summary.md",
        "comparison.png",
        "fields_M1.png",
        "fields_M2.png",
        "losses.png",
        "l2.png",
        "weights.png",
    ):
        assert (out / f).exists(), f
    assert "| min relative L2 |" in (out / "summary.md").read_text()
    # the saved network reproduces the saved grid predictions
    model = load_run(out, "M2")
    with np.load(out / "M2" / "predictions.npz", allow_pickle=False) as pred:
        t, x = np.meshgrid(pred["axis0"], pred["axis1"], indexing="ij")
        u = model.u(np.stack([t.ravel(), x.ravel()], -1)).reshape(t.shape)
        np.testing.assert_allclose(u, pred["u_pred"], rtol=1e-5, atol=1e-6)
    # a second run into the same folder is refused, and nothing is touched
    before = (out / "summary.json").read_text()
    capsys.readouterr()
    assert main(argv) == 2
    assert "already holds files" in capsys.readouterr().err
    assert (out / "summary.json").read_text() == before


def test_several_seeds_give_aligned_lists(tmp_path):
    out = tmp_path / "seeds"
    argv = ["reproduce", "klein-gordon", "--steps", "101", "--methods", "M1", "--seeds", "3,4", "--out", str(out)]
    assert main([*argv, "--no-progress", "--no-figures"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    entry = summary["methods"]["M1"]
    assert entry["seeds"] == [3, 4] and len(entry["min_l2"]) == 2 and len(entry["final_losses"]["bcs"]) == 2
    assert entry["min_l2"][0] != entry["min_l2"][1]
    assert (out / "seed_3" / "M1" / "params.npz").exists()


def test_compare_writes_json_table_figures_and_report(tmp_path):
    out = tmp_path / "cmp"
    argv = ["compare", "klein-gordon", "--schemes", "constant,lr-annealing", "--seeds", "1,2", "--steps", "101"]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    summary = json.loads((out / "compare.json").read_text())
    assert summary["seeds"] == [1, 2] and set(summary["schemes"]) == {"constant", "lr-annealing"}
    for entry in summary["schemes"].values():
        assert len(entry["min_l2"]) == 2 and len(entry["final_l2"]) == 2 and entry["ms_per_step"] > 0
    assert summary["schemes"]["constant"]["overhead_vs_constant"] == 0.0
    assert summary["schemes"]["lr-annealing"]["final_weights"]["bcs"][0] > 1.0
    html = (out / "report.html").read_text()
    assert "<table>" in html and html.count("data:image/png;base64,") == 2
    assert "| lr-annealing |" in (out / "compare.md").read_text()


def test_compare_rejects_unknown_scheme(capsys):
    assert main(["compare", "klein-gordon", "--schemes", "ntk2"]) == 2
    assert "unknown scheme(s) ['ntk2']; valid schemes: constant, lr-annealing" in capsys.readouterr().err


def test_diagnose_finds_the_published_boundary_imbalance(tmp_path, capsys):
    """Klein-Gordon with equal weights: the boundary and initial gradients are far weaker
    than the residual's (the pathology of the 2021 study), and the verdict says so."""
    out = tmp_path / "diag"
    assert main(["diagnose", "klein-gordon", "--steps", "200", "--out", str(out)]) == 0
    report = json.loads((out / "diagnose.json").read_text())
    for term in ("ics", "bcs"):
        assert report["at_init"]["ratios"][term]["mean_over_mean"] > 10, term
    assert report["after_200_steps"]["ratios"]["bcs"]["mean_over_mean"] > 10
    assert "bcs term's gradients are" in report["verdict"] and "A gradient-based scheme is advised" in report["verdict"]
    assert (out / "gradients.png").exists()


def test_reproduce_writes_the_readme_main_jobs_files_and_figures(tmp_path):
    """The README's main job (``pinnbalance reproduce klein-gordon``), shortened: the table, the
    summary and every figure it promises are written (figures are the path tests skip most)."""
    out = tmp_path / "kg"
    assert main(["reproduce", "klein-gordon", "--methods", "M1", "--steps", "21", "--no-progress", "--out", str(out)]) == 0
    for name in ("summary.md", "summary.json", "comparison.png", "losses.png", "fields_M1.png"):
        assert (out / name).stat().st_size > 0, name


@pytest.mark.parametrize(
    "argv, summary, entry",
    [
        (["reproduce", "klein-gordon", "--methods", "M2", "--float64", "--no-figures"], "summary.json", ("methods", "M2")),
        (["compare", "klein-gordon", "--schemes", "lr-annealing"], "compare.json", ("schemes", "lr-annealing")),
    ],
    ids=["reproduce", "compare"],
)
def test_seeds_split_over_devices_equal_one_device(tmp_path, argv, summary, entry):
    """``--devices 2`` in a fresh process (no XLA_FLAGS): the CPU presents two devices, 3 seeds
    are padded to 4 for an even split, the padding's run is dropped, and each seed's numbers
    equal the one-device run's."""
    argv = [*argv, "--steps", "21", "--seeds", "5,6,7", "--no-progress"]
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}
    two = tmp_path / "two"
    done = subprocess.run(
        [sys.executable, "-m", "pinnbalance.cli", *argv, "--devices", "2", "--out", str(two)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert main([*argv, "--out", str(tmp_path / "one")]) == 0
    split, alone = (json.loads((tmp_path / d / summary).read_text()) for d in ("two", "one"))
    assert split["seeds"] == [5, 6, 7]
    split, alone = split[entry[0]][entry[1]], alone[entry[0]][entry[1]]
    assert len(split["min_l2"]) == 3
    tolerance = 1e-10 if "--float64" in argv else 1e-5  # compare trains in float32: rounding of 4 vs 3 vmapped seeds
    for key in ("min_l2", "final_l2"):
        np.testing.assert_allclose(split[key], alone[key], rtol=tolerance, err_msg=key)
    if argv[0] == "reproduce":
        assert json.loads((two / summary).read_text())["numerics"]["devices"] == 2
        assert sorted(p.name for p in two.glob("seed_*")) == ["seed_5", "seed_6", "seed_7"]


def test_more_devices_than_visible_is_refused(capsys):
    assert main(["reproduce", "klein-gordon", "--seeds", "1,2", "--devices", "64", "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert "--devices 64" in err and "are visible" in err
