#!/usr/bin/env bash
# The time-to-accuracy runs still to do, in order (issues 18 and 19), one heavy training at a time on
# core 1 so that other work can use core 0; a finished (problem, method, seed) is skipped, so this
# resumes where it stopped. Commit benchmarks/results/frontier.* as runs finish.
#   nohup bash benchmarks/frontier_queue.sh > frontier.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
B="taskset -c 1 python benchmarks/frontier.py"
$B --problems klein-gordon --methods lm --seeds 1234,1,2
$B --problems helmholtz --methods lm --seeds 1234,1,2
$B --problems wave --methods adam-lm --seeds 1234,1,2
$B --problems helmholtz --methods adam-lm --seeds 1234,1,2
$B --problems klein-gordon --methods adam-lm --seeds 1234
$B --problems klein-gordon --methods adam-mlp,soap-mlp,adam-piratenet,soap-piratenet --budget 600
$B --problems wave --methods adam-mlp,soap-mlp,adam-piratenet,soap-piratenet --budget 600
$B --problems wave --methods adam-mlp-causal,soap-mlp-causal,adam-piratenet-causal,soap-piratenet-causal --budget 600
$B --problems wave --methods adam-ntk,adam-annealing,lm --seeds 1234
$B --problems klein-gordon --methods adam-ntk,adam-annealing,best-lbfgs
$B --problems helmholtz --methods adam-ntk,adam-annealing,best-lbfgs
echo "queue done"
