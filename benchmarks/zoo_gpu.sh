#!/usr/bin/env bash
# The zoo's GPU part (NVIDIA H100/H200, JAX with CUDA and optax installed, nothing fetched):
# the set-ups too slow for a 2-core CPU, in priority order, each result merged into
# $OUT/zoo.json as soon as it finishes (a time limit keeps what was done).
#   bash benchmarks/zoo_gpu.sh                      # on the GPU machine, OUT=<folder>
#   python benchmarks/zoo.py --merge OUT/zoo.json   # back here: into benchmarks/results/zoo.json
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OUT="${OUT:-/tmp/zoo-gpu}"
mkdir -p "$OUT"
zoo() { python3 benchmarks/zoo.py --out "$OUT/zoo.json" --runs /tmp/zoo-gpu-runs --no-progress "$@" 2>&1 | grep -v "^\s*$" | tail -4; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
zoo --problems wave --methods NTK,M1        # 500-wide network, 80,001 steps, 3 seeds vmapped
zoo --problems cavity --methods M4,best
zoo --problems helmholtz --methods M1,M2,M3,M4
zoo --problems wave --methods best
zoo --problems klein-gordon --methods M3,M4
zoo --problems cavity --methods M1,M2
