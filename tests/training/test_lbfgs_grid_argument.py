"""The L-BFGS chunk takes the evaluation grid and the exact values as arguments: the compiled
program holds no copy of them as constants (a grid of 10,000 points folded into every compiled
chunk would enlarge the program and its compile time, and pin one grid per compilation)."""

import re
import types

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.problems import Box, Problem, Term, uniform
from pinnbalance.training import TrainConfig, fit
from pinnbalance.training import lbfgs as lbfgs_module
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.weighting import Constant

GRID = 64  # evaluation points of the 1-D toy problem (TrainConfig.eval_grid)


class Line:
    def init(self, key, dtype=jnp.float64):
        return {"a": jnp.asarray(0.3, dtype), "b": jnp.asarray(-0.2, dtype)}

    def field(self, params):
        return lambda z: params["a"] * z[0] + params["b"]


def largest_constant(mlir: str) -> int:
    """Elements of the largest dense constant in a lowered (StableHLO) program."""
    shapes = re.findall(r"stablehlo\.constant dense<.*?> : tensor<((?:\d+x)+)[a-z]+\d+>", mlir)
    return max((int(np.prod([int(d) for d in s.rstrip("x").split("x")])) for s in shapes), default=1)


def test_the_compiled_chunk_holds_no_grid_constant(monkeypatch):
    lowered = []

    def spy_jit(fun, **kwargs):
        compiled = jax.jit(fun, **kwargs)

        def call(*args):
            lowered.append(compiled.lower(*args).as_text())
            return compiled(*args)

        return call

    monkeypatch.setattr(lbfgs_module, "jax", types.SimpleNamespace(**{**vars(jax), "jit": spy_jit}))
    box = Box((0.0,), (1.0,), ("x",))
    terms = {
        "res": Term(lambda u, z: u(z) - 2.0 * z[0] ** 2, uniform(box), 16),
        "bcs": Term(lambda u, z: u(z) - 1.0, uniform(box), 8),
    }
    problem = Problem("toy", box, terms, exact=lambda z: 2.0 * z[0] ** 2)
    config = TrainConfig(
        steps=10, log_every=10, sampling="fixed", dtype="float64", eval_grid=GRID, lbfgs=LBFGS(max_iters=4, log_every=2)
    )
    result = fit(problem, Line(), Constant(), config, progress=False)
    assert lowered and result.extra["lbfgs"]["iterations"] == 4  # the phase ran, through the spied jit
    assert all(largest_constant(text) < GRID for text in lowered), [largest_constant(t) for t in lowered]
    assert any(f"tensor<{GRID}x1xf64>" in text for text in lowered)  # the grid is there, as an argument
