"""The cavity's error without its evaluation grid's boundary nodes (benchmarks/frontier.py,
``INTERIOR``): the lid's corners are singular (u jumps from 1 to 0), so the time-to-accuracy
benchmark reports the relative L2 error over the interior nodes too."""

import sys
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.metrics import evaluation_grid
from pinnbalance.problems.cavity import lid_driven_cavity

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import frontier  # noqa: E402

M = 100  # the published evaluation grid: 100 x 100 nodes of the closed unit square


@pytest.fixture(scope="module")
def cavity():
    problem = lid_driven_cavity(reference_n=M)
    points, values = evaluation_grid(problem, dtype=jnp.float64)
    return problem, np.asarray(points), np.asarray(values)


def _by_index(m: int) -> np.ndarray:
    """Interior by node index on the x-major m x m grid: i and j both in 1 .. m - 2."""
    i, j = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    return ((i > 0) & (i < m - 1) & (j > 0) & (j < m - 1)).ravel()


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_the_cavity_mask_drops_exactly_the_nodes_on_the_walls(cavity, dtype):
    """Of the 100 x 100 = 10,000 nodes, 4 x 100 - 4 = 396 lie on a wall (x or y in {0, 1}, each
    corner counted once); the mask keeps the other 98 x 98 = 9,604, in float32 as in float64."""
    problem, _, _ = cavity
    points = np.asarray(evaluation_grid(problem, dtype=dtype)[0])
    mask = frontier.INTERIOR["cavity"](problem, points)
    on_wall = np.any((points == 0.0) | (points == 1.0), axis=-1)
    assert mask.shape == (M * M,)
    assert int(np.sum(~mask)) == 4 * M - 4 == 396
    assert int(np.sum(mask)) == (M - 2) ** 2 == 9604
    np.testing.assert_array_equal(mask, ~on_wall)
    np.testing.assert_array_equal(mask, _by_index(M))


def test_the_interior_error_is_the_relative_l2_over_the_inner_nodes(cavity):
    """A prediction 1% too fast inside and wrong by 1 on every wall node: the interior error is
    exactly 0.01 (||0.01 r|| / ||r||), whatever the walls; a random prediction's equals numpy's
    formula on the [1:-1, 1:-1] block of the grid."""
    problem, points, exact = cavity
    inner = _by_index(M)
    pred = np.where(inner, 1.01 * exact, exact + 1.0)
    out = frontier.interior_errors(problem, pred, exact, points)
    assert out["final_l2_interior"] == pytest.approx(0.01, rel=1e-12)
    whole = np.linalg.norm(pred - exact) / np.linalg.norm(exact)
    assert whole > 10 * out["final_l2_interior"]  # the boundary nodes dominate the whole grid's error

    pred = exact + np.random.default_rng(0).normal(scale=0.05, size=exact.shape)
    e, r = (pred - exact).reshape(M, M)[1:-1, 1:-1], exact.reshape(M, M)[1:-1, 1:-1]
    expected = np.sqrt(np.sum(e**2)) / np.sqrt(np.sum(r**2))
    assert frontier.interior_errors(problem, pred, exact, points)["final_l2_interior"] == pytest.approx(expected, rel=1e-12)


def test_only_the_cavity_has_an_interior_error():
    """Problems without an ``INTERIOR`` mask record nothing extra (their grids have no singular nodes)."""

    class Wave:
        name = "wave"

    assert frontier.interior_errors(Wave(), np.ones(4), np.ones(4), np.zeros((4, 2))) == {}
    assert set(frontier.INTERIOR) == {"cavity"}


def _run(final, interior=None):
    run = {"final_l2": final, "min_l2": final, "seconds": 10.0, "params": 5, "points": 7}
    run["time_to"] = {tol: None for tol in frontier.TOLERANCES}
    return run | ({} if interior is None else {"final_l2_interior": interior})


def test_the_summary_and_table_carry_the_median_interior_error():
    """Three seeds with interior errors 3e-3, 1e-3, 2e-3: their median 2e-3 is the method's
    ``median_l2_interior`` and shows in frontier.md; a method without them has no such field."""
    entry = {"seeds": [1234, 1, 2], "runs": {"1234": _run(3e-2, 3e-3), "1": _run(1e-2, 1e-3), "2": _run(2e-2, 2e-3)}}
    summary = frontier.summarize(entry)
    assert summary["median_l2_interior"] == 2e-3
    assert summary["median_l2"] == 2e-2
    assert "median_l2_interior" not in frontier.summarize({"seeds": [1234], "runs": {"1234": _run(1e-2)}})
    results = {"cavity": {"methods": {"lm": {**entry, **summary, "config": "configs/x.toml", "device": "cpu"}}}}
    assert "| 2.00e-02 (interior 2.00e-03) |" in frontier.table(results)
