"""benchmarks/pinnacle_queue.sh carries unfinished protocol runs across sessions: ``save`` copies
each run folder that holds a checkpoint into benchmarks/results/pinnacle_inflight/, and a queue
started in a fresh checkout puts them back under runs/pinnacle-bench/ before it trains, so that
pinnacle.py resumes them. Run here on a copy of the script, with pinnacle.py replaced by a stub
that records what it found."""

import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "benchmarks" / "pinnacle_queue.sh"
STUB = """import sys, pathlib
found = sorted(str(p.relative_to("runs")) for p in pathlib.Path("runs").rglob("*") if p.is_file())
open("calls.txt", "a").write(" ".join(sys.argv[1:]) + " | " + ",".join(found) + "\\n")
"""


def checkout(root: Path) -> Path:
    (root / "benchmarks" / "results").mkdir(parents=True)
    shutil.copy(SCRIPT, root / "benchmarks" / "pinnacle_queue.sh")
    (root / "benchmarks" / "pinnacle.py").write_text(STUB)
    return root


def test_a_saved_run_resumes_in_a_fresh_checkout(tmp_path):
    old = checkout(tmp_path / "old")
    run = old / "runs" / "pinnacle-bench" / "ns-2d-lid-lr-annealing-seed1234"
    run.mkdir(parents=True)
    (run / "checkpoint.npz").write_bytes(b"step 7000")
    (run / "clock.json").write_text('{"seconds": 2100.0}')
    (old / "runs" / "pinnacle-bench" / "burgers-1d-constant-seed1234").mkdir()  # no checkpoint yet: nothing to keep
    subprocess.run(["bash", "benchmarks/pinnacle_queue.sh", "save"], cwd=old, check=True, capture_output=True)
    saved = old / "benchmarks" / "results" / "pinnacle_inflight"
    assert sorted(p.name for p in saved.iterdir()) == ["ns-2d-lid-lr-annealing-seed1234"]

    fresh = checkout(tmp_path / "fresh")
    shutil.copytree(saved, fresh / "benchmarks" / "results" / "pinnacle_inflight")
    subprocess.run(["bash", "benchmarks/pinnacle_queue.sh", "0", "ns-2d-lid"], cwd=fresh, check=True, capture_output=True)
    calls = (fresh / "calls.txt").read_text().splitlines()
    assert calls[0].startswith("--problems ns-2d-lid --methods lr-annealing")
    assert "pinnacle-bench/ns-2d-lid-lr-annealing-seed1234/checkpoint.npz" in calls[0]
    resumed = fresh / "runs" / "pinnacle-bench" / "ns-2d-lid-lr-annealing-seed1234" / "checkpoint.npz"
    assert resumed.read_bytes() == b"step 7000" and len(calls) == 4  # then the three other methods


def test_the_methods_and_seeds_queued_can_be_chosen(tmp_path):
    """PINNACLE_METHODS and PINNACLE_SEEDS replace the four methods and seed 1234, in that order."""
    root = checkout(tmp_path / "c")
    env = {**os.environ, "PINNACLE_METHODS": "lr-annealing", "PINNACLE_SEEDS": "1,2"}
    subprocess.run(["bash", "benchmarks/pinnacle_queue.sh", "1", "wave-1d,poisson-2d-holes"], cwd=root, env=env, check=True)
    calls = [line.split(" | ")[0] for line in (root / "calls.txt").read_text().splitlines()]
    assert calls == [
        "--problems wave-1d --methods lr-annealing --seeds 1,2 --budget 86400",
        "--problems poisson-2d-holes --methods lr-annealing --seeds 1,2 --budget 86400",
    ]
