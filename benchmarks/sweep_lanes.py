"""A learning-rate x beta sweep trained as one shared program vs run by run -> results/sweep_lanes.json.

    python benchmarks/sweep_lanes.py                    # examples/sweeps/kg-lr-beta.toml at 2,001 steps (~3 min)
    python benchmarks/sweep_lanes.py --steps 40001      # the published length (~35 min on 2 cores)

The sweep is ``examples/sweeps/kg-lr-beta.toml`` (M2, learning rate x EMA beta on a 3 x 3 grid,
seeds 1234 and 1: 9 runs, 18 trainings), executed twice by the local executor: with its runs
sharing one compiled program (the default) and with ``share=False`` (``--separate``), the
shared one first. Wall time includes compiling; the persistent compile cache is off, so
neither way reuses the other's programs. Both tables are kept: in float32 a vmapped program
rounds differently from a single run, so the per-run errors agree in distribution, not
digit by digit (``tests/test_sweep.py`` checks 1e-9 agreement in float64).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["PINNBALANCE_COMPILE_CACHE"] = "off"

from pinnbalance.io import write_json  # noqa: E402
from pinnbalance.run_folder import versions  # noqa: E402
from pinnbalance.sweep import LocalExecutor, load_sweep, run_sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "examples" / "sweeps" / "kg-lr-beta.toml"
RESULTS = Path(__file__).resolve().parent / "results" / "sweep_lanes.json"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=2001)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    spec = load_sweep(SWEEP, [f"train.steps={args.steps}"])
    ways = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, share in (("shared", True), ("separate", False)):
            begin = time.perf_counter()
            results = run_sweep(spec, LocalExecutor(), Path(tmp) / name, progress=False, share=share)
            ways[name] = {
                "wall_seconds": time.perf_counter() - begin,
                "min_l2": {r["name"]: r["min_l2"] for r in results["runs"]},
                "statuses": sorted({r["status"] for r in results["runs"]}),
            }
            print(f"{name}: {ways[name]['wall_seconds']:.1f} s", flush=True)
    write_json(
        args.out,
        {
            "sweep": str(SWEEP.relative_to(ROOT)),
            "steps": args.steps,
            "runs": 9,
            "trainings": 18,
            "separate_over_shared": ways["separate"]["wall_seconds"] / ways["shared"]["wall_seconds"],
            **ways,
            "cpu_count": os.cpu_count(),
            "versions": versions(),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
