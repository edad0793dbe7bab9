"""Sweeps: grid expansion, seed grouping, validation, a local end-to-end sweep, resume, and Ray = local."""

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from pinnbalance.cli import main
from pinnbalance.io import read_history_csv
from pinnbalance.sweep import LocalExecutor, RayExecutor, SweepError, from_dict, load_sweep, plan, run_sweep
from pinnbalance.sweep.executors import import_ray
from pinnbalance.sweep.jobs import job_names

M1 = (Path(__file__).resolve().parents[1] / "configs" / "klein-gordon-m1.toml").as_posix()
SHORT = {"train": {"steps": 200, "log_every": 20, "chunk_logs": 5, "checkpoint_every": 100}, "network": {"hidden": [20, 20]}}

SWEEP = f"""
base = "{M1}"

[set]
train.steps = 200
train.log_every = 20
train.chunk_logs = 5
train.checkpoint_every = 100
network.hidden = [20, 20]

[grid]
"weighting.scheme" = {{schemes}}
"train.seeds" = [1234, 1]
"""


def spec(grid, random=None, base=None):
    data = {"set": {**SHORT, **(base or {})}, "grid": grid}
    if random:
        data["random"] = random
    return from_dict(data)


# ---- expansion, grouping, names (pure) ----------------------------------------------------
def test_grid_is_the_cartesian_product_and_seeds_group_into_one_job():
    jobs = plan(
        spec({"weighting.scheme": ["constant", "ntk"], "optimizer.learning_rate": [1e-3, 1e-4], "train.seeds": [7, 8, 9]})
    )
    assert [j.name for j in jobs] == [
        "scheme=constant,learning_rate=0.001",
        "scheme=constant,learning_rate=0.0001",
        "scheme=ntk,learning_rate=0.001",
        "scheme=ntk,learning_rate=0.0001",
    ]
    assert all(j.seeds == (7, 8, 9) for j in jobs)
    assert jobs[3].data["weighting"]["scheme"] == "ntk" and jobs[3].data["optimizer"]["learning_rate"] == 1e-4
    assert jobs[3].data["train"]["seeds"] == [7, 8, 9] and jobs[3].data["train"]["steps"] == 200
    assert jobs[3].config("x").seeds == (7, 8, 9)


def test_seed_lists_concatenate_and_base_seeds_apply_when_not_swept():
    assert [j.seeds for j in plan(spec({"train.seeds": [[1, 2], [3]], "optimizer.learning_rate": [1e-3]}))] == [(1, 2, 3)]
    jobs = plan(spec({"optimizer.learning_rate": [1e-3, 2e-3]}, base={"train": {**SHORT["train"], "seeds": [5, 6]}}))
    assert [j.seeds for j in jobs] == [(5, 6), (5, 6)]


def test_bare_and_quoted_dotted_keys_are_the_same():
    quoted = plan(spec({"weighting.scheme": ["constant", "ntk"]}))
    bare = plan(spec({"weighting": {"scheme": ["constant", "ntk"]}}))
    assert [(j.name, j.data) for j in quoted] == [(j.name, j.data) for j in bare]


def test_names_are_readable_exact_and_unique():
    keys = ["optimizer.learning_rate", "network.hidden", "weighting.beta", "problem.parameters.beta", "weighting"]
    values = [
        {"optimizer.learning_rate": 3e-05, "network.hidden": [20, 20]},
        {"weighting.beta": 0.9, "problem.parameters.beta": 0.0},
        {"weighting": {"scheme": "lr-annealing", "beta": 0.9}},
        {"weighting": {"scheme": "a/b"}},
        {"weighting": {"scheme": "a_b"}},
    ]
    assert job_names(values, keys) == [
        "learning_rate=3e-05,hidden=20-20",
        "weighting.beta=0.9,problem.parameters.beta=0.0",
        "weighting=lr-annealing+beta-0.9",
        "weighting=a_b",
        "weighting=a_b-2",
    ]


def test_whole_tables_sweep_options_that_one_scheme_takes():
    jobs = plan(spec({"weighting": [{"scheme": "constant"}, {"scheme": "lr-annealing", "beta": 0.5}]}))
    assert [j.name for j in jobs] == ["weighting=constant", "weighting=lr-annealing+beta-0.5"]
    assert jobs[1].config("x").weighting.options == {"beta": 0.5}


def test_random_samples_are_reproducible_in_range_and_cross_the_grid():
    random = {
        "n": 3,
        "seed": 7,
        "optimizer.learning_rate": {"log_uniform": [1e-4, 1e-2]},
        "weighting.beta": {"uniform": [0.5, 0.9]},
    }
    jobs = plan(spec({"train.seeds": [1, 2], "weighting.scheme": ["lr-annealing"]}, random))
    again = plan(spec({"train.seeds": [1, 2], "weighting.scheme": ["lr-annealing"]}, random))
    assert len(jobs) == 3 and [j.values for j in jobs] == [j.values for j in again]
    assert all(j.seeds == (1, 2) for j in jobs)
    for j in jobs:
        assert 1e-4 <= j.values["optimizer.learning_rate"] <= 1e-2 and 0.5 <= j.values["weighting.beta"] <= 0.9
        assert f"learning_rate={j.values['optimizer.learning_rate']!r}" in j.name
    other = plan(spec({"weighting.scheme": ["lr-annealing"]}, {**random, "seed": 8}))
    assert [j.values for j in other] != [j.values for j in jobs]


def test_sweep_file_base_is_relative_to_the_file_and_set_overrides_it(tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(M1, tmp_path / "base.toml")
    path = tmp_path / "sub" / "s.toml"
    path.write_text('base = "../base.toml"\n[set]\ntrain.steps = 100\n[grid]\noptimizer.learning_rate = [1e-3]\n')
    s = load_sweep(path, ["train.log_every=50", "train.chunk_logs=2", "train.checkpoint_every=100"])
    config = plan(s)[0].config("x")
    assert config.train.steps == 100 and config.train.log_every == 50 and config.weighting.scheme == "constant"
    assert "output" not in s.base  # the sweep decides the folders


# ---- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, message",
    [
        ({"gird": {}}, "unknown key 'gird' (did you mean 'grid'?)"),
        ({}, "nothing to sweep"),
        ({"grid": {}}, "nothing to sweep"),
        ({"grid": {"weighting.scheme": []}}, "'weighting.scheme' has no values"),
        ({"grid": {"weighting.scheme": "ntk"}}, "must be a list of values"),
        ({"grid": {"wieghting.scheme": ["ntk"]}}, "unknown section 'wieghting' (did you mean 'weighting'?)"),
        ({"grid": {"output.dir": ["a", "b"]}}, "every run in its own folder"),
        ({"grid": {"weighting.scheme": ["ntk", "ntk"]}}, "lists the value 'ntk' twice"),
        ({"grid": {"train.seeds": [1, "2"]}}, "takes integer seeds"),
        ({"grid": {"train.seeds": [1, [1, 2]]}}, "seed 1 appears twice"),
        ({"random": {"optimizer.learning_rate": {"log_uniform": [1e-4, 1e-2]}}}, "[random] needs n"),
        ({"random": {"n": 2, "optimizer.learning_rate": {"loguniform": [1e-4, 1e-2]}}}, "did you mean 'log_uniform'"),
        ({"random": {"n": 2, "optimizer.learning_rate": {"log_uniform": [0, 1e-2]}}}, "log_uniform needs low > 0"),
        ({"random": {"n": 2, "train.seeds": {"choice": [1, 2]}}}, "cannot draw 'train.seeds'"),
        (
            {"grid": {"weighting.beta": [0.5]}, "random": {"n": 1, "weighting.beta": {"uniform": [0.1, 0.2]}}},
            "both in [grid] and in [random]",
        ),
    ],
)
def test_bad_sweep_files_are_refused_with_the_key(data, message):
    with pytest.raises(SweepError) as err:
        plan(from_dict(data))
    assert message in str(err.value)


def test_every_expanded_configuration_is_validated_before_training_naming_the_combination():
    with pytest.raises(SweepError) as err:
        plan(spec({"weighting.scheme": ["constant", "lr-annealing"], "optimizer.learning_rate": [1e-3, -1.0, -2.0]}))
    text = str(err.value)
    assert "4 of 6 runs have an invalid configuration" in text
    assert "run 'scheme=lr-annealing,learning_rate=-2.0' (weighting.scheme='lr-annealing', optimizer.learning_rate=-2.0" in text
    assert "optimizer.learning_rate must be > 0, got -2.0" in text


def test_misspelt_configuration_keys_get_did_you_mean():
    with pytest.raises(SweepError, match=r"unknown key train\.'stesp' \(did you mean 'steps'\?\)"):
        plan(spec({"train.stesp": [10]}))


def test_scheme_options_of_the_base_that_another_scheme_refuses_give_a_hint():
    with pytest.raises(SweepError) as err:
        plan(
            spec({"weighting.scheme": ["lr-annealing", "constant"]}, base={"weighting": {"scheme": "lr-annealing", "beta": 0.9}})
        )
    assert "run 'scheme=constant'" in str(err.value) and "sweep whole tables" in str(err.value)


def test_ray_import_error_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"pip install 'pinnbalance\[ray\]'"):
        import_ray()


def test_ray_tasks_ask_for_a_gpu_where_the_cluster_has_one():
    assert RayExecutor().resources({"CPU": 8.0, "GPU": 2.0}) == {"num_gpus": 1}
    assert RayExecutor(num_cpus=2).resources({"CPU": 8.0}) == {"num_cpus": 2}


# ---- end to end -------------------------------------------------------------------------------
def write_sweep(folder: Path, schemes=("constant", "lr-annealing"), name="s.toml") -> Path:
    path = folder / name
    path.write_text(SWEEP.format(schemes=json.dumps(list(schemes))))
    return path


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """Klein-Gordon, 2 schemes x 2 seeds, 200 steps, a 2-20-20-1 network, the local executor."""
    folder = tmp_path_factory.mktemp("sweep")
    path = write_sweep(folder)
    assert main(["sweep", str(path), "--out", str(folder / "local"), "--no-progress"]) == 0
    return path, folder / "local"


def metrics(results: dict) -> list:
    return [(r["name"], r["seeds"], r["min_l2"], r["final_l2"], r["final_weights"]) for r in results["runs"]]


def test_local_sweep_writes_run_folders_and_the_table(local_sweep):
    _, out = local_sweep
    results = json.loads((out / "results.json").read_text())
    assert results["executor"] == "local" and results["jobs"] == 2 and results["trainings"] == 4
    assert [r["name"] for r in results["runs"]] == ["scheme=constant", "scheme=lr-annealing"]
    for r in results["runs"]:
        assert r["status"] == "trained" and r["seeds"] == [1234, 1] and r["steps"] == 200
        assert r["values"] == {"weighting.scheme": r["scheme"]}
        assert len(r["min_l2"]) == len(r["final_l2"]) == 2 and all(0 < v < 10 for v in r["min_l2"]) and r["train_seconds"] > 0
        for seed in (1234, 1):
            history = read_history_csv(out / r["name"] / f"seed_{seed}" / "history.csv")
            assert history["l2"].min() == pytest.approx(r["min_l2"][r["seeds"].index(seed)], rel=1e-6)
    assert results["runs"][1]["final_weights"]["bcs"][0] != 1.0  # annealing moved the weights
    table = (out / "results.md").read_text()
    assert "| scheme=constant | constant | 1234,1 |" in table and "trained" in table
    assert (out / "report.html").read_text().startswith("<!doctype html>")
    assert json.loads((out / "plan.json").read_text())["jobs"][0]["seeds"] == [1234, 1]


def test_rerun_skips_finished_runs(local_sweep, tmp_path):
    path, out = local_sweep
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    mtimes = {p: p.stat().st_mtime_ns for p in copy.rglob("*") if p.is_file() and p.parent != copy}
    results = run_sweep(load_sweep(path), LocalExecutor(), copy, progress=False)
    assert [r["status"] for r in results["runs"]] == ["skipped", "skipped"]
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # no run folder file was touched
    assert metrics(results) == metrics(json.loads((out / "results.json").read_text()))


def test_unfinished_runs_continue_from_their_checkpoint(local_sweep, tmp_path):
    path, out = local_sweep
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = json.loads((out / "results.json").read_text())
    # killed after its final checkpoint, before its outputs: outputs are written, nothing retrains
    (copy / "scheme=constant" / "summary.json").unlink()
    results = run_sweep(load_sweep(path), LocalExecutor(), copy, progress=False)
    assert [r["status"] for r in results["runs"]] == ["resumed", "skipped"]
    assert metrics(results) == metrics(before)
    # more steps: the run goes on from its checkpoint at step 200 (only that job, via a one-scheme sweep)
    longer = load_sweep(write_sweep(tmp_path, ["constant"], "longer.toml"), ["train.steps=300"])
    (row,) = run_sweep(longer, LocalExecutor(), copy, progress=False)["runs"]
    assert row["status"] == "resumed" and row["steps"] == 300
    old = read_history_csv(out / "scheme=constant" / "seed_1" / "history.csv")
    new = read_history_csv(copy / "scheme=constant" / "seed_1" / "history.csv")
    assert list(new["step"]) == list(range(0, 300, 20))
    np.testing.assert_array_equal(new["l2"][: len(old["l2"])], old["l2"])


def test_a_failed_run_is_a_row_and_the_others_go_on(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(
        "[set]\nnetwork.hidden = [4]\ntrain.steps = 20\ntrain.log_every = 10\ntrain.chunk_logs = 2\ntrain.checkpoint_every = 20\n"
        'train.seeds = [1]\noptimizer.name = "sgd"\n[grid]\n"optimizer.learning_rate" = [1e-3, 1e12]\n'
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    runs = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["trained", "failed"] and "non-finite" in runs[1]["error"]
    assert "1 run(s) failed: learning_rate=1000000000000.0" in capsys.readouterr().err


def test_dry_run_lists_runs_and_trains_nothing(local_sweep, tmp_path, capsys):
    path, out = local_sweep
    assert main(["sweep", str(path), "--out", str(out), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "2 runs, 4 trainings" in text and "scheme=constant  seeds [1234, 1]  [done]" in text
    assert main(["sweep", str(path), "--out", str(tmp_path / "new"), "--dry-run"]) == 0
    assert "[new]" in capsys.readouterr().out and not (tmp_path / "new").exists()


def test_cli_reports_a_bad_sweep_file(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('[grid]\n"weighting.scheme" = []\n')
    assert main(["sweep", str(path)]) == 2
    assert "has no values" in capsys.readouterr().err


def test_ray_executor_gives_the_local_table(local_sweep, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'pinnbalance[ray]'")
    path, out = local_sweep
    # the workers get this process's JAX settings (tests run with x64 enabled, see conftest.py)
    with warnings.catch_warnings():  # Ray forks then execs: JAX's fork warning does not apply
        warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
        ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"JAX_ENABLE_X64": "1"}})
    try:
        results = run_sweep(load_sweep(path), RayExecutor(), tmp_path / "ray", progress=False)
    finally:
        ray.shutdown()
    local = json.loads((out / "results.json").read_text())
    assert results["executor"] == "ray" and [r["status"] for r in results["runs"]] == ["trained", "trained"]
    for a, b in zip(metrics(local), metrics(results)):
        assert a[:2] == b[:2]
        np.testing.assert_allclose(a[2], b[2], rtol=1e-5)
        np.testing.assert_allclose(a[3], b[3], rtol=1e-5)
        for term in a[4]:
            np.testing.assert_allclose(a[4][term], b[4][term], rtol=1e-5)


# ---- lanes: runs that differ in learning rate and beta share one program -------------------
M2 = (Path(__file__).resolve().parents[1] / "configs" / "klein-gordon-m2.toml").as_posix()
LANES = f"""
base = "{M2}"

[set]
train.steps = 60
train.log_every = 20
train.chunk_logs = 1
train.checkpoint_every = 20
train.dtype = "float64"
train.seeds = [1234, 1]
network.hidden = [12, 12]
sampling.batch_size = 32

[grid]
"optimizer.learning_rate" = [1e-3, 4e-3]
"weighting.beta" = [0.9, 0.5]
"""


@pytest.fixture(scope="module")
def lanes_sweep(tmp_path_factory):
    """4 runs (learning rate x beta) x 2 seeds of M2, float64: one compiled program of 8 lanes."""
    folder = tmp_path_factory.mktemp("lanes")
    path = folder / "lanes.toml"
    path.write_text(LANES)
    assert main(["sweep", str(path), "--out", str(folder / "out"), "--no-progress"]) == 0
    return path, folder / "out"


def test_runs_that_differ_in_learning_rate_and_beta_share_one_program(lanes_sweep, tmp_path):
    """Each run of the shared program equals the same run trained alone (float64, 1e-9):
    min and final L2, final weights and the whole L2 history of every seed."""
    from pinnbalance.run import run

    path, out = lanes_sweep
    results = json.loads((out / "results.json").read_text())
    names = [r["name"] for r in results["runs"]]
    assert len(names) == 4 and results["trainings"] == 8
    for job, row in zip(plan(load_sweep(path)), results["runs"]):
        assert row["status"] == "trained" and sorted(row["shared_program_with"]) == sorted(set(names) - {row["name"]})
        alone = run(job.config(str(tmp_path / job.name)), tmp_path / job.name, progress=False)
        np.testing.assert_allclose(row["min_l2"], alone["min_l2"], rtol=1e-9)
        np.testing.assert_allclose(row["final_l2"], alone["final_l2"], rtol=1e-9)
        for term, w in alone["final_weights"].items():
            np.testing.assert_allclose(row["final_weights"][term], w, rtol=1e-9)
        for seed in job.seeds:
            shared = read_history_csv(out / job.name / f"seed_{seed}" / "history.csv")
            own = read_history_csv(tmp_path / job.name / f"seed_{seed}" / "history.csv")
            np.testing.assert_allclose(shared["l2"], own["l2"], rtol=1e-9)
    assert results["runs"][0]["final_weights"]["bcs"] != results["runs"][3]["final_weights"]["bcs"]


def test_runs_of_a_shared_program_resume_together_as_they_would_alone(lanes_sweep, tmp_path):
    """More steps for the finished lanes sweep: the four runs resume from their own checkpoints
    (step 60) as one program again, and end where each would resuming alone (float64, 1e-9)."""
    path, out = lanes_sweep
    together, alone = tmp_path / "together", tmp_path / "alone"
    shutil.copytree(out, together)
    shutil.copytree(out, alone)
    longer = load_sweep(path, ["train.steps=100"])
    rows = run_sweep(longer, LocalExecutor(), together, progress=False)["runs"]
    assert [r["status"] for r in rows] == ["resumed"] * 4 and all(len(r["shared_program_with"]) == 3 for r in rows)
    solo = run_sweep(longer, LocalExecutor(), alone, progress=False, share=False)["runs"]
    assert [r["status"] for r in solo] == ["resumed"] * 4 and not any("shared_program_with" in r for r in solo)
    for a, b in zip(rows, solo):
        np.testing.assert_allclose(a["final_l2"], b["final_l2"], rtol=1e-9)
        for seed in (1234, 1):
            old = read_history_csv(out / a["name"] / f"seed_{seed}" / "history.csv")
            new = read_history_csv(together / a["name"] / f"seed_{seed}" / "history.csv")
            own = read_history_csv(alone / a["name"] / f"seed_{seed}" / "history.csv")
            assert list(new["step"]) == [0, 20, 40, 60, 80]
            np.testing.assert_array_equal(new["l2"][:3], old["l2"][:3])
            np.testing.assert_allclose(new["l2"], own["l2"], rtol=1e-9)


def test_dry_run_says_which_runs_share_a_program(lanes_sweep, tmp_path, capsys):
    path, _ = lanes_sweep
    assert main(["sweep", str(path), "--out", str(tmp_path / "new"), "--dry-run"]) == 0
    assert capsys.readouterr().out.count("[new; one program with 3 other run(s) if all are new]") == 4
    assert main(["sweep", str(path), "--out", str(tmp_path / "new"), "--dry-run", "--separate"]) == 0
    assert capsys.readouterr().out.count("  [new]") == 4


def test_separate_trains_every_run_alone(tmp_path):
    path = tmp_path / "betas.toml"
    path.write_text(
        LANES.replace('"optimizer.learning_rate" = [1e-3, 4e-3]\n', "").replace("train.steps = 60", "train.steps = 20")
    )
    rows = run_sweep(load_sweep(path), LocalExecutor(), tmp_path / "alone", progress=False, share=False)["runs"]
    assert [r["status"] for r in rows] == ["trained", "trained"] and not any("shared_program_with" in r for r in rows)


def test_runs_that_differ_in_more_cannot_share_a_program(tmp_path):
    from pinnbalance import config as cfg
    from pinnbalance.run import NotShared, run_shared

    a = cfg.load(M2, ["network.hidden=[8]", "train.steps=20"])
    b = cfg.load(M2, ["network.hidden=[16]", "train.steps=20", "optimizer.learning_rate=0.002"])
    with pytest.raises(NotShared, match="run 1 differs from run 0 in more than what runs of one program may: network.hidden"):
        run_shared([a, b], [tmp_path / "a", tmp_path / "b"], progress=False)
    assert not (tmp_path / "a").exists()  # refused before anything was written


def test_a_run_folder_in_the_way_fails_that_run_and_the_others_share_nothing_but_train(tmp_path):
    """One job's folder holds a stray file: the shared program is given up, that job is a
    failed row naming the folder, and the other job trains alone."""
    path = tmp_path / "betas.toml"
    path.write_text(
        LANES.replace('"optimizer.learning_rate" = [1e-3, 4e-3]\n', "").replace("train.steps = 60", "train.steps = 20")
    )
    out = tmp_path / "out"
    (out / "beta=0.5").mkdir(parents=True)
    (out / "beta=0.5" / "notes.txt").write_text("mine")
    rows = run_sweep(load_sweep(path), LocalExecutor(), out, progress=False)["runs"]
    assert [(r["name"], r["status"]) for r in rows] == [("beta=0.9", "trained"), ("beta=0.5", "failed")]
    assert "already holds files" in rows[1]["error"] and "shared_program_with" not in rows[0]


def test_a_local_sweep_gives_a_cpu_the_devices_its_runs_ask_for(tmp_path):
    """``pinnbalance sweep`` in a fresh process without XLA_FLAGS: a run with train.devices = 2
    gets two simulated CPU devices (its seeds split over them) and one with 1 trains as before."""
    import os
    import subprocess
    import sys

    sweep = tmp_path / "devices.toml"
    text = SWEEP.replace("{schemes}", '["constant"]').replace('"train.seeds" = [1234, 1]', '"train.devices" = [1, 2]')
    sweep.write_text(
        text.replace("[set]\n", "[set]\ntrain.seeds = [1234, 1]\ntrain.steps = 20\n").replace("train.steps = 200\n", "")
    )
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}
    command = [sys.executable, "-m", "pinnbalance.cli", "sweep", str(sweep), "--out", str(tmp_path / "out"), "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    runs = json.loads((tmp_path / "out" / "results.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["trained", "trained"]
    devices = sorted(json.loads((tmp_path / "out" / r["name"] / "summary.json").read_text())["numerics"]["devices"] for r in runs)
    assert devices == [1, 2]
