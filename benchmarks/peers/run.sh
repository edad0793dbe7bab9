#!/usr/bin/env bash
# Time the peers (their own venv, made by setup.sh) and collect their medians into
# benchmarks/results/peers.json, which benchmarks/speed.py puts next to our numbers.
set -euo pipefail
cd "$(dirname "$0")/../.."
V=${PEERS_VENV:-/tmp/pinnbalance-peers-venv}
[ -x "$V/bin/python" ] || bash benchmarks/peers/setup.sh
mkdir -p benchmarks/peers/results
DDE_BACKEND=pytorch "$V/bin/python" benchmarks/peers/deepxde_kg.py --steps "${STEPS:-2000}" --repeats 5 --out benchmarks/peers/results/deepxde_kg.json
"$V/bin/python" benchmarks/peers/jinns_kg.py --steps "${STEPS:-2000}" --repeats 5 --out benchmarks/peers/results/jinns_kg.json
python3 - <<'PY'
import json, os, tempfile
out = {}
for lib, path in (("deepxde", "benchmarks/peers/results/deepxde_kg.json"), ("jinns", "benchmarks/peers/results/jinns_kg.json")):
    d = json.load(open(path))
    for m, r in d["results"].items():
        out[f"{lib}_{m}"] = {"median_ms_per_step": r["median_ms_per_step"], "min_ms_per_step": r["min_ms_per_step"],
                             "version": d["library_version"], "rel_l2_after_timing": r.get("rel_l2_100x100"), "notes": d.get("notes")}
fd, tmp = tempfile.mkstemp(dir="benchmarks/results")
with os.fdopen(fd, "w") as f:
    json.dump(out, f, indent=2)
os.replace(tmp, "benchmarks/results/peers.json")
print(json.dumps({k: v["median_ms_per_step"] for k, v in out.items()}))
PY
