"""The GPU benchmark script, run on CPU in its quick mode: a GPU session is rare and short,
so the script it runs must not have rotted in the meantime."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_script_runs_and_writes_every_part(tmp_path):
    out = tmp_path / "speed.json"
    env = {**os.environ, "SPEED_JSON": str(out), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "benchmarks/gpu.sh", "--quick", "--section", "gpu"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    gpu, graphs = results["gpu"], results["gpu_while_graphs"]
    for section in (gpu, graphs):
        assert section["batch_128"]["M1"] > 0 and section["batch_128"]["M2"] > 0
        assert section["full_40001_M2_seconds"] > 0 and section["full_run_details"]["traces"] == 2
        assert section["full_run_details"]["compile_seconds"] > 0
        ops = section["batch_128"]["details"]["compiled_ops"]["M2"]["update"]
        assert ops["dot"] > 0 and ops["fusion"] > 0
    assert "lanes" in gpu["skipped"] and gpu["seeds_2_vs_1"] > 0
    assert set(gpu["batch_128"]["schedules_M2"]) == {"M1", "M2_static", "M2_masked"}
    assert set(gpu["batch_128"]["taylor_modes_M2"]) == {"stacked", "streams", "off"}
    assert "WHILE,CONDITIONAL" in graphs["machine"]["xla_flags"] and "WHILE" not in gpu["machine"]["xla_flags"]


def test_gpu_script_runs_pinnacle_protocol_entries(tmp_path):
    """--pinnacle: the entries named, in float32 without TF32 (recorded), into the file given."""
    out = tmp_path / "pinnacle.json"
    env = {
        **os.environ,
        "PINNACLE_JSON": str(out),
        "PINNACLE_RUNS": "wave-1d:constant",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "benchmarks/gpu.sh", "--pinnacle", "--quick"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = json.loads(out.read_text())["wave-1d"]["protocol"]["constant"]["runs"]["1234"]
    assert run["matmul_precision"] == "highest" and run["status"] == "completed"


def test_the_time_to_accuracy_script_writes_the_frontier_shape(tmp_path):
    """benchmarks/frontier.py in its quick mode (a few LM iterations from scratch): the JSON has
    the shape the time-to-accuracy table is read from, its curve's times increase, and the
    figure is drawn."""
    out = tmp_path / "frontier.json"
    command = [
        sys.executable,
        "benchmarks/frontier.py",
        "--quick",
        "--problems",
        "klein-gordon",
        "--methods",
        "lm",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    entry = json.loads(out.read_text())["klein-gordon"]["methods"]["lm"]
    for key in ("config", "seeds", "final_l2", "min_l2", "seconds", "median_l2", "time_to", "params", "points", "device"):
        assert key in entry, key
    assert entry["seeds"] == [1234] and set(entry["time_to"]) == {"1e-2", "1e-3", "1e-4", "1e-5"}
    assert entry["params"] == 2 * 30 + 30 + 2 * (30 * 30 + 30) + 31  # 2-30-30-30-1
    times = [t for t, _ in entry["runs"]["1234"]["curve"]]
    assert times == sorted(times) and times[0] > 0
    assert (tmp_path / "frontier.png").exists()
