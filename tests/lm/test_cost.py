"""The cost estimate against XLA's measured memory, and the errors and warnings built on it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pinnbalance
from pinnbalance.lm import (
    LevenbergMarquardt,
    LMCostWarning,
    LMMemoryError,
    check_cost,
    estimate,
    train_lm,
)

HERE = Path(__file__).parent


def test_memory_estimate_matches_the_measured_peak_of_one_iteration():
    """The increase of peak RSS when the compiled iteration runs is the estimate, within 30%.

    The baseline is the peak of the same fresh process after compiling the program: XLA's
    compilation alone raises RSS by ~200 MB over a bare ``import jax``, more than the arrays
    measured here, so a trivial-op baseline would measure the compiler, not the iteration."""

    src = str(Path(pinnbalance.__file__).parents[1])  # this checkout's sources, in the worker too
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]), "JAX_PLATFORMS": "cpu"}
    worker = subprocess.run(
        [sys.executable, str(HERE / "memory_worker.py")], env=env, capture_output=True, text=True, timeout=300
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    compiled, run = (int(v) for v in worker.stdout.split()[-2:])
    measured = run - compiled
    expected = estimate(4000, 2065, "float64", "dense", flop_rate=1e10).bytes  # J 66 MB, J^T J 34 MB, factor 68 MB
    assert abs(measured - expected) < 0.3 * expected, (run / 1e6, compiled / 1e6, expected / 1e6)


def test_too_large_error_names_the_largest_configuration_that_fits(kg):
    problem, network, params, points = kg(hidden=(10, 10), points=(200, 50, 50))  # N = 400, P = 151
    settings = LevenbergMarquardt(max_memory_gb=0.0007)
    budget = int(0.0007 * 2**30)
    with pytest.raises(LMMemoryError) as error:
        train_lm(problem, network, params, points, settings, weights={"res": 1.0, "ics": 1.0, "bcs": 1.0})
    message = str(error.value)
    assert "N=400" in message and "P=151" in message and "max_memory_gb" in message
    rows = int(re.search(r"at most N=(\d+) rows fit", message).group(1))
    width, n_params = (int(v) for v in re.search(r"hidden width of at most (\d+) fits \(P=(\d+)\)", message).groups())
    fits = lambda n, p: estimate(n, p, "float64", "dense", flop_rate=1.0).bytes <= budget  # noqa: E731
    assert fits(rows, 151) and not fits(rows + 1, 151)
    assert n_params == 3 * width + (width + 1) * width + width + 1  # an MLP 2-w-w-1
    wider = 3 * (width + 1) + (width + 2) * (width + 1) + width + 2
    assert fits(400, n_params) and not fits(400, wider)


def test_slow_iteration_warns_with_the_estimate():
    cost = estimate(1000, 1000, "float64", "dense", flop_rate=1e6)  # ~3e9 flops at 1 MFLOP/s
    with pytest.warns(LMCostWarning, match="N=1000 rows, P=1000"):
        check_cost(cost, LevenbergMarquardt(warn_seconds=30))


def test_estimate_counts_the_arrays_of_each_solver():
    dense, kernel = (estimate(300, 2000, "float64", s, flop_rate=1.0) for s in ("dense", "kernel"))
    assert dense.parts == {"jacobian": 300 * 2000 * 8, "system": 2000**2 * 8, "factor": 2 * 2000**2 * 8}
    assert kernel.parts == {"jacobian": 300 * 2000 * 8, "system": 300**2 * 8, "factor": 2 * 300**2 * 8}
    assert kernel.flops < dense.flops  # fewer rows than parameters: the kernel form is cheaper
