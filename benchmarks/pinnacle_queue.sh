#!/usr/bin/env bash
# PINNacle's protocol runs (issue 17, part 5a), one at a time on the core given as $1 (default 0),
# in the order that matters most: our annealing as it ships on every problem first (the issue's
# "no worse than PINNacle's LRA"), then constant weights, annealing as PINNacle runs it (which tells
# whether its variant of the rule does better in our set-up), and NTK.
# A finished (problem, method) is skipped and a run in progress resumes from its checkpoint
# (runs/pinnacle-bench/), so this goes on across sessions. Touch benchmarks/STOP_PINNACLE to end it
# after the run in progress; kill it (and its python child) to stop at once: the next start resumes.
# $2 (default all five) restricts the queue to a comma-separated list of problems, so that two queues
# (one per core, disjoint problems) share the work: each run merges into pinnacle.json as the file is
# when it ends. Commit benchmarks/results/pinnacle.{json,md} as runs finish. --budget 86400: a protocol run goes to its step count
# (pinnacle.py's default 2-hour cap cut the first one at step 9,000 of 20,000 on a shared core).
#   nohup bash benchmarks/pinnacle_queue.sh 0 burgers-1d,ns-2d-lid > pinnacle0.log 2>&1 &
#   nohup bash benchmarks/pinnacle_queue.sh 1 wave-1d,poisson-2d-holes,heat-inverse > pinnacle1.log 2>&1 &
# A session's machine does not outlive it, so its runs in progress travel in git:
#   bash benchmarks/pinnacle_queue.sh save   # copies each unfinished run's folder (checkpoint, clock) to
#                                             # benchmarks/results/pinnacle_inflight/; commit that folder
# and a queue started later (in a fresh checkout too) resumes them from there. A finished run's copy
# there is ignored (pinnacle.py skips what pinnacle.json holds): delete it when you merge.
# PINNACLE_METHODS and PINNACLE_SEEDS (comma-separated) change the methods and seeds queued, e.g. more
# seeds of our annealing, for a median to set beside PINNacle's mean of three:
#   PINNACLE_METHODS=lr-annealing PINNACLE_SEEDS=1,2 bash benchmarks/pinnacle_queue.sh 1 wave-1d,poisson-2d-holes
set -u
cd "$(dirname "$0")/.."
inflight=benchmarks/results/pinnacle_inflight
if [ "${1:-}" = save ]; then
    for run in runs/pinnacle-bench/*/; do
        [ -e "$run/checkpoint.npz" ] || continue
        rm -rf "$inflight/$(basename "$run")" && mkdir -p "$inflight" && cp -r "$run" "$inflight/"
        echo "saved $run (checkpoint and clock) to $inflight/"
    done
    exit 0
fi
for run in "$inflight"/*/; do  # resume what an earlier session saved, unless this checkout is further on
    [ -d "$run" ] && [ ! -e "runs/pinnacle-bench/$(basename "$run")/checkpoint.npz" ] || continue
    mkdir -p runs/pinnacle-bench && rm -rf "runs/pinnacle-bench/$(basename "$run")" && cp -r "$run" runs/pinnacle-bench/
done
rm -f benchmarks/STOP_PINNACLE
core="${1:-0}"
problems="${2:-burgers-1d,wave-1d,ns-2d-lid,poisson-2d-holes,heat-inverse}"
methods="${PINNACLE_METHODS:-lr-annealing,constant,lr-annealing-pinnacle,ntk}"
for method in ${methods//,/ }; do
    for problem in ${problems//,/ }; do
        if [ -e benchmarks/STOP_PINNACLE ]; then echo "stopped: benchmarks/STOP_PINNACLE exists"; exit 0; fi
        taskset -c "$core" python benchmarks/pinnacle.py --problems $problem --methods $method \
            --seeds "${PINNACLE_SEEDS:-1234}" --budget 86400
    done
done
echo "queue done"
