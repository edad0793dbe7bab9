#!/usr/bin/env bash
# GPU speed check for an NVIDIA H100/H200 (under 7 minutes). JAX with CUDA is assumed
# installed (with optax, numpy, tqdm); nothing is fetched. Writes the "gpu" section of
# benchmarks/results/speed.json (or $SPEED_JSON), keeping its "cpu" section:
#   M1 and M2 ms/step at batch 128 and 8,192; 64 vmapped seeds vs 1; M2's update-step
#   layouts (static / masked); second-derivative modes; and the wall time of a full
#   40,001-step M2 training.
#   bash benchmarks/gpu.sh            # on the GPU machine
#   bash benchmarks/gpu.sh --quick --section gpu   # anywhere: checks the script in seconds
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 - <<'PY'
import jax
print("jax", jax.__version__, "backend", jax.default_backend(), "devices", jax.devices())
PY
python3 benchmarks/speed.py --out "${SPEED_JSON:-benchmarks/results/speed.json}" "$@"
