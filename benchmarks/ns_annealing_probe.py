"""What holds learning-rate annealing at zero flow on PINNacle's NS 2d-C: short probes of the protocol file.

Each variant runs ``configs/pinnacle/ns-2d-lid-lr-annealing.toml`` (PINNacle's network and optimizer,
the equations at shared points, fixed points) through ``pinnbalance run`` for ``--steps`` steps at a
quarter of PINNacle's point counts, with one change to its ``[weighting]`` (``VARIANTS``), and records
the L2RE and the weights of the lid and of the pressure gauge at a few steps. The question: does
the one-point gauge term, whose gradient is exactly zero at initialisation (a tanh network with zero
biases gives p(0, 0) = 0 on raw inputs, so its weight is first set to S_ref / eps ~ 1e8) and tiny
after, hold the flow still?

    python benchmarks/ns_annealing_probe.py --steps 3000            # about 3 minutes a variant on one core
    python benchmarks/ns_annealing_probe.py --steps 3000 --runs /tmp/nsw   # collect runs already made there

Results: ``benchmarks/results/ns_annealing_probe.json``; docs/weighting.md, "When balancing
gradients works against you".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from pinnbalance.io import read_history_csv, write_json

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "configs/pinnacle/ns-2d-lid-lr-annealing.toml"
QUARTER = (
    "sampling.batch_size={ mom_x = 2048, mom_y = 2048, continuity = 2048, "
    "lid_u = 128, lid_v = 128, wall_u = 384, wall_v = 384, gauge = 1 }"
)
VARIANTS = {  # name -> --set overrides of the protocol file
    "shipped": [],
    "constant": ['weighting.scheme="constant"'],
    "gauge-in-reference": ['weighting.reference=["mom_x", "gauge"]'],  # the gauge keeps weight 1
    "equations-reference": ['weighting.reference=["mom_x", "mom_y", "continuity"]'],  # as PINNacle's LRA
    "equations-gauge-reference": ['weighting.reference=["mom_x", "mom_y", "continuity", "gauge"]'],
    "w_max-1000": ["weighting.w_max=1000.0"],
    "w_max-10": ["weighting.w_max=10.0"],
    "w_min-1": ["weighting.w_min=1.0"],
    "w_min-1-w_max-10": ["weighting.w_min=1.0", "weighting.w_max=10.0"],
}
AT = (0, 800, 1700, 2500)


def run(name: str, folder: Path, steps: int) -> None:
    """Train one variant into ``folder`` unless it holds a finished run."""
    if (folder / "summary.json").exists():
        return
    sets = [f"train.steps={steps}", QUARTER, *VARIANTS[name]]
    command = [sys.executable, "-m", "pinnbalance.cli", "run", CONFIG, "--out", str(folder), "--no-progress", "--overwrite"]
    for item in sets:
        command += ["--set", item]
    print(f"{name}: {steps} steps ...", flush=True)
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def collect(folder: Path) -> dict:
    """L2RE and the lid's and gauge's weights at the steps ``AT`` and at the last record."""
    history = read_history_csv(folder / "history.csv")
    steps = history["step"].astype(int)
    picked = [i for i, s in enumerate(steps) if s in AT] + [len(steps) - 1]
    columns = {"l2re": "l2", "weight_lid_u": "weight_lid_u", "weight_gauge": "weight_gauge"}
    out = {key: {str(steps[i]): float(history[col][i]) for i in picked} for key, col in columns.items() if col in history}
    return out | {"seconds": json.loads((folder / "summary.json").read_text()).get("train_seconds")}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "ns-annealing-probe", help="one folder per variant")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ns_annealing_probe.json")
    args = p.parse_args(argv)
    names = [n for n in args.variants.split(",") if n]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        p.error(f"unknown variants {unknown}; valid: {', '.join(VARIANTS)}")
    results = {
        "config": CONFIG,
        "points": QUARTER.split("=", 1)[1].strip(),
        "steps": args.steps,
        "seed": 1234,
        "command": "python benchmarks/ns_annealing_probe.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "variants": {},
    }
    for name in names:
        run(name, args.runs / name, args.steps)
        results["variants"][name] = {"overrides": VARIANTS[name], **collect(args.runs / name)}
        print(name, {k: round(v, 3) for k, v in results["variants"][name]["l2re"].items()}, flush=True)
    if args.out.exists():  # variants not rerun, and runs recorded by hand ("long_runs"), are kept
        recorded = json.loads(args.out.read_text())
        results = {**recorded, **results, "variants": {**recorded.get("variants", {}), **results["variants"]}}
    write_json(args.out, results)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
