"""benchmarks/pinnacle.py with ``[ensemble]`` (no training): a run entry's L2RE becomes the
members' mean prediction's, and ``"ensemble"`` records the members' errors and their spread.

The members are constant networks (last layer: zero weights, bias ``c_k``), so every number is
hand-computable: members 1 and 3 against the reference 2 have errors 1/2 each, their mean none.
"""

from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import pytest

from bench_scripts import load_script
from pinnbalance.nn import MLP
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.domain import Box, uniform

BOX = Box((0.0, 0.0), (1.0, 1.0), ("x", "y"))


def _member(c, seed):
    params = [{"W": jnp.ones((2, 3)), "b": jnp.zeros(3)}, {"W": jnp.zeros((3, 1)), "b": jnp.asarray([c], jnp.float64)}]
    return SimpleNamespace(params=params, config=SimpleNamespace(seed=seed))


def test_the_run_entry_holds_the_means_error_and_the_members():
    script = load_script("pinnacle", "pinnacle_bench_ensemble")
    problem = Problem("toy", BOX, {"res": Term(lambda u, z: u(z), uniform(BOX))}, components=("u",))
    points = np.random.default_rng(0).uniform(size=(5, 2))
    run = {"l2re": 9.0, "components": {"u": 9.0}, "steps": 10}
    mean = script.ensemble_run(run, problem, MLP((2, 3, 1)), [_member(1.0, 7), _member(3.0, 8)], (points, np.full(5, 2.0)))
    np.testing.assert_allclose(mean, 2.0, rtol=1e-14)
    assert run["l2re"] == pytest.approx(0.0, abs=1e-14) and run["components"] == {"u": pytest.approx(0.0, abs=1e-14)}
    entry = run["ensemble"]
    assert entry["members"] == 2 and entry["seeds"] == [7, 8] and run["steps"] == 10
    assert entry["member_l2re"] == pytest.approx([0.5, 0.5], rel=1e-14)
    assert entry["spread"] == pytest.approx(1.0, rel=1e-14) and entry["relative_spread"] == pytest.approx(0.5, rel=1e-14)
