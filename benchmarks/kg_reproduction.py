"""Regenerate the committed Klein-Gordon results (runs for ~10 minutes on 2 CPU cores).

    python benchmarks/kg_reproduction.py [--steps 40001] [--results benchmarks/results]

1. seed 1234, methods M1, M2, M2-unweighted -> results/kg_reproduction.json (summary.json
   shape) and results/kg_reproduction/ (figures, summary.md, histories, parameters);
2. seeds 1234,1,2,3,4 for M1 and M2 (each method's seeds in one vmapped program) ->
   results/kg_seeds.json and results/kg_seeds/ (summary.md, seed-spread figure).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pinnbalance import TrainConfig
from pinnbalance.io import write_json
from pinnbalance.reproduce import reproduce

HERE = Path(__file__).resolve().parent
SEEDS = [1234, 1, 2, 3, 4]


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    except OSError:
        return "unknown"


def copy_run(src: Path, dst: Path, keep_params: bool) -> None:
    """Figures, summaries and histories (and small parameter files) of a run folder."""
    if dst.exists():
        shutil.rmtree(dst)
    for f in src.rglob("*"):
        if f.is_file() and (f.suffix in (".png", ".md", ".csv", ".json") or (keep_params and f.name == "params.npz")):
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=40_001)
    p.add_argument("--results", type=Path, default=HERE / "results")
    args = p.parse_args(argv)
    config = dataclasses.replace(TrainConfig(), steps=args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "reproduction"
        summary = reproduce("klein-gordon", ["M1", "M2", "M2-unweighted"], [1234], config, run, progress=sys.stderr.isatty())
        summary["commit"] = commit()
        write_json(args.results / "kg_reproduction.json", summary)
        copy_run(run, args.results / "kg_reproduction", keep_params=True)
        seeds_run = Path(tmp) / "seeds"
        summary = reproduce("klein-gordon", ["M1", "M2"], SEEDS, config, seeds_run, progress=sys.stderr.isatty())
        out = {"steps": args.steps, "commit": commit()}
        for m, entry in summary["methods"].items():
            out[m] = {
                "seeds": entry["seeds"],
                "min_l2": entry["min_l2"],
                "min_l2_median": entry["min_l2_median"],
                "min_l2_range": entry["min_l2_range"],
                "final_l2": entry["final_l2"],
                "final_weights": entry["final_weights"],
                "train_seconds_all_seeds": entry["train_seconds"][0],
            }
        write_json(args.results / "kg_seeds.json", out)
        copy_run(seeds_run, args.results / "kg_seeds", keep_params=False)
    print(json.dumps({m: out[m]["min_l2"] for m in ("M1", "M2")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
