"""Screens for heat-inverse ensembles -> benchmarks/results/heat_inverse_ensembles.json.

One screen trains K members of ``configs/pinnacle/heat-inverse-CONFIG.toml``, each a separate
training with ``train.seeds = [base * 1000 + i]`` and, with ``--folds``, its own held-out fold
(``lm.holdout_seed = i``), and records each member's L2RE (joint, u, a) and the L2RE of the mean
prediction of the first k members, k = 1 .. K. Screens of one set-up on the same base seed use the
same member seeds and folds, so set-ups compare paired (docs/pinnacle.md, "Heat inverse: seeds and
ensembles"). ``[ensemble] members = K`` in a configuration trains such members as lanes of one
program (seeds from ``ensemble.member_seeds``); this script keeps them apart to see each one.

    python benchmarks/heat_inverse_ensembles.py --config lm-holdout-small --base 1 --members 6 --folds \\
        --set lm.weights.data=5.0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

from frontier import timed_training  # noqa: E402

from pinnbalance.component_metrics import component_errors  # noqa: E402
from pinnbalance.io import write_json  # noqa: E402
from pinnbalance.metrics import predict  # noqa: E402
from pinnbalance.nn.hard import for_problem  # noqa: E402

RESULTS = HERE / "results" / "heat_inverse_ensembles.json"


def errors(pred: np.ndarray, ref: np.ndarray, components) -> dict:
    """``{"l2re", "u", "a"}``: PINNacle's joint L2RE and each column's own."""
    e = component_errors(pred, ref, components)
    return {"l2re": float(e["l2re"]), "u": float(e["l2/u"]), "a": float(e["l2/a"])}


def screen(config: str, base: int, members: int, folds: bool, overrides: list[str]) -> dict:
    """Train the members one by one; their errors and those of the mean of the first k."""
    path = f"configs/pinnacle/heat-inverse-{config}.toml"
    preds, out = (
        [],
        {"config": config, "base_seed": base, "overrides": " ".join(overrides), "members": [], "ensemble_by_size": []},
    )
    for i in range(members):
        seed = base * 1000 + i
        t = timed_training(path, [f"train.seeds=[{seed}]", *overrides, *([f"lm.holdout_seed={i}"] if folds else [])], None)
        points, ref = t.problem.reference_data
        full = for_problem(t.problem, t.network)
        preds.append(np.asarray(predict(full, t.result.params, np.asarray(points, t.tconf.jnp_dtype), t.problem), np.float64))
        ref = np.asarray(ref, np.float64)
        out["members"].append({"seed": seed, **errors(preds[-1], ref, t.problem.components), "seconds": t.wall})
        out["ensemble_by_size"].append({"members": i + 1, **errors(np.mean(preds, axis=0), ref, t.problem.components)})
        print(f"member {i} seed {seed}: {out['members'][-1]} | mean of {i + 1}: {out['ensemble_by_size'][-1]}", flush=True)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="lm-holdout-small")
    p.add_argument("--base", type=int, default=1234)
    p.add_argument("--members", type=int, default=6)
    p.add_argument("--folds", action="store_true", help="member i holds out its own fold (lm.holdout_seed = i)")
    p.add_argument("--set", action="append", default=[], help="an override key=value (repeatable)")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    result = screen(args.config, args.base, args.members, args.folds, args.set)
    data = json.loads(args.out.read_text()) if args.out.exists() else {"screens": []}
    data["screens"].append(result)
    write_json(args.out, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
