"""Accuracy metrics: relative L2 error on a grid, and term losses on a fixed evaluation set."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.losses import term_losses
from pinnbalance.problems.base import Problem

EVAL_KEY = 20210101  # evaluation points are the same for every run, whatever its seed


def relative_l2(pred: jax.Array, exact: jax.Array) -> jax.Array:
    """``||pred - exact||_2 / ||exact||_2`` over all entries."""
    return jnp.linalg.norm(pred - exact) / jnp.linalg.norm(exact)


def predict(network, params, points: jax.Array) -> jax.Array:
    """Network output at each row of ``points``."""
    return jax.vmap(network.field(params))(points)


def evaluation_grid(problem: Problem, n: int = 100, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
    """The ``n x n`` uniform grid of the domain and the exact solution on it."""
    if problem.exact is None:
        raise ValueError(f"problem {problem.name!r} has no exact solution, so no grid error can be computed")
    points = problem.domain.grid(n, dtype)
    return points, jax.vmap(problem.exact)(points)


def evaluation_set(problem: Problem, n: int = 10_000, dtype=jnp.float32) -> dict[str, jax.Array]:
    """``n`` points per term, drawn once from a fixed key (the same for every run)."""
    keys = jax.random.split(jax.random.PRNGKey(EVAL_KEY), len(problem.terms))
    return {name: term.sampler(k, n, dtype) for (name, term), k in zip(problem.terms.items(), keys)}


def evaluation_losses(problem: Problem, network, params, points: dict[str, jax.Array]) -> dict[str, float]:
    """Each term's unweighted loss on a fixed evaluation set (not a noisy minibatch)."""
    losses = jax.jit(lambda p, b: term_losses(problem, network, p, b))(params, points)
    return {name: float(losses[name]) for name in problem.term_names}
