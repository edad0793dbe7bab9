#!/usr/bin/env bash
# GPU speed check for an NVIDIA H100/H200 (under 7 minutes). JAX with CUDA is assumed
# installed (with optax, numpy, tqdm); nothing is fetched. Writes the "gpu" section of
# benchmarks/results/speed.json (or $SPEED_JSON), keeping its "cpu" section:
#   M1 and M2 ms/step at batch 128 and 8,192; 64 vmapped seeds vs 1; M2's update-step
#   layouts (static / masked); second-derivative modes; and the wall time of a full
#   40,001-step M2 training. Then once more, M1/M2 and the full training only, with XLA's
#   command buffers (CUDA graphs) also capturing while loops and conditionals, so a scanned
#   chunk may launch as one graph: section "gpu_while_graphs" (skipped if that run fails).
#   bash benchmarks/gpu.sh            # on the GPU machine
#   bash benchmarks/gpu.sh --quick --section gpu   # anywhere: checks the script in seconds
# With --wave-2026 it runs instead the 2026 wave recipe (configs/wave-2026-gpu.toml: PirateNet,
# SOAP, grad-norm-2026, causal weighting, batch 4,096) for $WAVE_BUDGET seconds (default 240,
# compile included; the run stops after the chunk past it) and adds its error curve against
# wall time to benchmarks/results/frontier.json (or $FRONTIER_JSON) as wave's "gpu-2026" row:
#   bash benchmarks/gpu.sh --wave-2026
#   bash benchmarks/gpu.sh --wave-2026 --quick --out /tmp/q.json   # anywhere: 201 steps at batch 64
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 - <<'PY'
import jax
print("jax", jax.__version__, "backend", jax.default_backend(), "devices", jax.devices())
PY
if [[ "${1:-}" == "--wave-2026" ]]; then
    shift
    python3 benchmarks/frontier.py --problems wave --methods gpu-2026 --budget "${WAVE_BUDGET:-240}" --force \
        --out "${FRONTIER_JSON:-benchmarks/results/frontier.json}" "$@"
    exit
fi
out="${SPEED_JSON:-benchmarks/results/speed.json}"
python3 benchmarks/speed.py --out "$out" --skip lanes "$@"  # lanes: compile-bound on a GPU, and long
graphs="--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,WHILE,CONDITIONAL"
XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }$graphs" python3 benchmarks/speed.py --out "$out" --tag while_graphs \
    --skip seeds,schedules,lanes,floor,modes,optimizers "$@" || echo "the command-buffer variant failed; the main results stand" >&2
