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
# With --pinnacle it runs PINNacle protocol entries (issue 17, part 5a) that the results file lacks,
# one after another, in float32 without TF32 (train.matmul_precision='highest', as on the CPU),
# while $PINNACLE_SECONDS (default 480) last; a run cut by that deadline keeps its checkpoint under
# runs/pinnacle-bench and resumes at the next call on the same machine. Entries: $PINNACLE_RUNS,
# PROBLEM:METHOD words (default: the ones the CPU queues reach last first). Results go to
# $PINNACLE_JSON (default benchmarks/results/pinnacle.json); copy it in here with pinnacle.py --merge:
#   cp benchmarks/results/pinnacle.json $OUT/ && PINNACLE_JSON=$OUT/pinnacle.json bash benchmarks/gpu.sh --pinnacle
#   PINNACLE_JSON=/tmp/p.json PINNACLE_RUNS=wave-1d:constant bash benchmarks/gpu.sh --pinnacle --quick   # anywhere
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
if [[ "${1:-}" == "--pinnacle" ]]; then
    shift
    default="ns-2d-lid:lr-annealing-pinnacle ns-2d-lid:ntk ns-2d-lid:constant poisson-2d-holes:lr-annealing-pinnacle"
    default+=" wave-1d:lr-annealing-pinnacle heat-inverse:lr-annealing-pinnacle burgers-1d:lr-annealing-pinnacle"
    default+=" poisson-2d-holes:ntk wave-1d:ntk heat-inverse:ntk burgers-1d:ntk"
    default+=" poisson-2d-holes:constant wave-1d:constant heat-inverse:constant burgers-1d:constant"
    end=$((SECONDS + ${PINNACLE_SECONDS:-480}))
    for entry in ${PINNACLE_RUNS:-$default}; do
        left=$((end - SECONDS))
        if ((left < 60)); then echo "pinnacle: deadline reached before $entry"; break; fi
        timeout "$left" python3 benchmarks/pinnacle.py --problems "${entry%%:*}" --methods "${entry##*:}" --seeds 1234 \
            --budget 86400 --set "train.matmul_precision='highest'" --out "${PINNACLE_JSON:-benchmarks/results/pinnacle.json}" \
            "$@" || echo "pinnacle: $entry stopped (status $?): its checkpoint resumes at the next call"
    done
    exit
fi
out="${SPEED_JSON:-benchmarks/results/speed.json}"
python3 benchmarks/speed.py --out "$out" --skip lanes "$@"  # lanes: compile-bound on a GPU, and long
graphs="--xla_gpu_enable_command_buffer=FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,WHILE,CONDITIONAL"
XLA_FLAGS="${XLA_FLAGS:+$XLA_FLAGS }$graphs" python3 benchmarks/speed.py --out "$out" --tag while_graphs \
    --skip seeds,schedules,lanes,floor,modes,optimizers "$@" || echo "the command-buffer variant failed; the main results stand" >&2
