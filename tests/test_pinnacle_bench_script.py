"""benchmarks/pinnacle.py's bookkeeping (no training): candidates per problem, the error curve it
records, the candidates table, and --best starting from a completed screening run."""

from pathlib import Path

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


def test_table_lists_every_screened_candidate():
    text = _script().table(_results("stopped"))
    assert "| wave-1d | `configs/pinnacle/wave-1d-lm.toml` | 2.00e-03 | 90 | 500 | stopped |" in text
