"""benchmarks/pinnacle.py's bookkeeping (no training): candidates per problem, the error curve it
records, the candidates table, --best starting from a completed screening run, and two scripts
(one per core) merging their runs into one results file."""

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from bench_scripts import load_script

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return load_script("pinnacle", "pinnacle_bench")


def test_every_candidate_names_a_committed_config_of_its_problem():
    script = _script()
    assert set(script.CANDIDATES) == set(script.MODULES)
    for problem, names in script.CANDIDATES.items():
        for name in names:
            assert (ROOT / script.config_path(problem, name)).is_file(), (problem, name)


def test_curve_keeps_first_and_last_record_and_prefers_the_joint_error():
    script = _script()
    history = {"step": np.arange(1, 101) * 10, "l2": np.ones(100), "l2re": 1.0 / np.arange(1, 101)}
    curve = script.curve(history, points=5)
    assert [s for s, _ in curve] == [10, 260, 510, 750, 1000]  # indices 0, 24.75 -> 25, 49.5 -> 50, 74.25 -> 74, 99
    assert curve[-1][1] == 1.0 / 100 and curve[0][1] == 1.0
    assert script.curve({"step": np.array([5]), "l2": np.array([0.5])}) == [[5, 0.5]]


def _results(status):
    run = {"l2re": 2e-3, "seconds": 90.0, "steps": 500, "status": status, "points": {"res": 10}, "device": "cpu"}
    return {"wave-1d": {"candidates": [{"name": "lm", "config": "configs/pinnacle/wave-1d-lm.toml", "runs": {"1234": run}}]}}


def test_best_reuses_a_completed_screening_run_only():
    script = _script()
    done = _results("completed")
    script.reuse_screening(done, "wave-1d", "configs/pinnacle/wave-1d-lm.toml", force=False)
    assert done["wave-1d"]["best"]["runs"]["1234"]["l2re"] == 2e-3
    stopped = _results("stopped")  # stopped by the wall-time budget: not the config's own result
    script.reuse_screening(stopped, "wave-1d", "configs/pinnacle/wave-1d-lm.toml", force=False)
    assert stopped["wave-1d"]["best"]["runs"] == {}
    other = _results("completed")
    script.reuse_screening(other, "wave-1d", "configs/pinnacle/wave-1d-lm400.toml", force=False)
    assert other["wave-1d"]["best"]["runs"] == {}
    seeds = _results("completed")  # a candidate screened on seed 2 too: --best then trains seed 1 only
    lm = seeds["wave-1d"]["candidates"][0]
    lm["runs"]["2"] = dict(lm["runs"]["1234"], l2re=3e-3)
    lm["runs"]["7"] = dict(lm["runs"]["1234"], l2re=9e-3)  # not one of --best's seeds
    script.reuse_screening(seeds, "wave-1d", "configs/pinnacle/wave-1d-lm.toml", force=False)
    assert {k: v["l2re"] for k, v in seeds["wave-1d"]["best"]["runs"].items()} == {"1234": 2e-3, "2": 3e-3}
    assert seeds["wave-1d"]["best"]["seeds"] == [1234, 2] and seeds["wave-1d"]["best"]["median"] == 2.5e-3


def test_table_lists_every_screened_candidate():
    text = _script().table(_results("stopped"))
    assert "| wave-1d | `configs/pinnacle/wave-1d-lm.toml` | 2.00e-03 | 90 | 500 | stopped |" in text


def test_a_run_merges_into_the_results_file_as_it_is_when_the_run_ends(tmp_path, monkeypatch):
    """Two scripts share pinnacle.json: what the other wrote while this one trained is kept."""
    script = _script()
    out = tmp_path / "pinnacle.json"
    out.write_text(json.dumps(_results("completed")))

    def train(path, seed, budget, quick, folder, extra=()):  # meanwhile the other script records its run
        with script.results_file(out) as results:
            results["wave-1d"]["candidates"].append({"name": "lm400", "config": "x.toml", "runs": {"1234": {}}})
        return {**_results("completed")["wave-1d"]["candidates"][0]["runs"]["1234"], "l2re": 5e-2}

    monkeypatch.setattr(script, "run_one", train)
    args = SimpleNamespace(out=out, force=False, quick=True, budget=None, runs=tmp_path, set=[])
    script.record("wave-1d", "protocol", "ntk", "configs/pinnacle/wave-1d-ntk.toml", 1234, args)
    results = json.loads(out.read_text())
    assert [c["name"] for c in results["wave-1d"]["candidates"]] == ["lm", "lm400"]
    assert results["wave-1d"]["protocol"]["ntk"]["median"] == 5e-2
    script.record("wave-1d", "protocol", "ntk", "configs/pinnacle/wave-1d-ntk.toml", 1234, args)  # recorded: skipped
    assert [c["name"] for c in json.loads(out.read_text())["wave-1d"]["candidates"]] == ["lm", "lm400"]


def test_set_overrides_reach_every_run(tmp_path, monkeypatch):
    """``--set`` (e.g. float32 without TF32 on a GPU) is passed to each training as an override."""
    script = _script()
    seen = []

    def train(path, seed, budget, quick, folder, extra=()):
        seen.append(extra)
        return _results("completed")["wave-1d"]["candidates"][0]["runs"]["1234"]

    monkeypatch.setattr(script, "run_one", train)
    precision = "train.matmul_precision='highest'"
    args = SimpleNamespace(out=tmp_path / "p.json", force=False, quick=True, budget=None, runs=tmp_path, set=[precision])
    script.record("wave-1d", "protocol", "ntk", "configs/pinnacle/wave-1d-ntk.toml", 1234, args)
    assert seen == [(precision,)]


def test_a_new_best_config_starts_its_seeds_over_and_keeps_the_old_runs_as_its_candidates():
    results = _results("completed")
    old = dict(results["wave-1d"]["candidates"][0]["runs"]["1234"], l2re=7e-3)
    results["wave-1d"]["best"] = {"config": "configs/pinnacle/wave-1d-lm400.toml", "runs": {"1": old}}
    _script().reuse_screening(results, "wave-1d", "configs/pinnacle/wave-1d-lm.toml", force=False)
    assert list(results["wave-1d"]["best"]["runs"]) == ["1234"]
    kept = [c for c in results["wave-1d"]["candidates"] if c["config"] == "configs/pinnacle/wave-1d-lm400.toml"]
    assert kept[0]["name"] == "lm400" and kept[0]["runs"]["1"]["l2re"] == 7e-3 and kept[0]["median"] == 7e-3


def test_merge_copies_the_runs_the_results_lack_and_keeps_their_own():
    script = _script()
    ours = _results("completed")
    theirs = _results("stopped")
    theirs["wave-1d"]["candidates"][0]["runs"]["1"] = dict(theirs["wave-1d"]["candidates"][0]["runs"]["1234"], l2re=4e-3)
    run = {"l2re": 0.3, "seconds": 9.0, "steps": 20000, "status": "completed", "points": {"res": 2048}, "device": "cpu"}
    theirs["wave-1d"]["protocol"] = {"constant": {"config": "configs/pinnacle/wave-1d-constant.toml", "runs": {"1234": run}}}
    added = script.merge_runs(ours, theirs)
    assert sorted(added) == ["wave-1d candidates lm seed 1", "wave-1d protocol constant seed 1234"]
    lm = ours["wave-1d"]["candidates"][0]
    assert lm["runs"]["1234"]["status"] == "completed"  # ours kept
    assert lm["seeds"] == [1234, 1] and lm["median"] == np.median([2e-3, 4e-3])
    assert ours["wave-1d"]["protocol"]["constant"]["median"] == 0.3
    assert script.merge_runs(ours, theirs) == []
