"""Accuracy metrics: relative L2 error on a grid (and the published cavity script's spectral-norm
ratio), and term losses on a fixed evaluation set."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.losses import term_losses
from pinnbalance.problems.base import Problem

EVAL_KEY = 20210101  # evaluation points are the same for every run, whatever its seed


def relative_l2(pred: jax.Array, exact: jax.Array) -> jax.Array:
    """``||pred - exact||_2 / ||exact||_2`` over all entries."""
    return jnp.linalg.norm(pred - exact) / jnp.linalg.norm(exact)


def relative_spectral_error(pred, exact) -> float:
    """``||pred - exact||_2 / ||exact||_2`` with the MATRIX 2-norm (largest singular value) of grids.

    Not the relative L2 error: for a 2-D array ``numpy.linalg.norm(a, 2)`` is the spectral
    norm, and that is what the published lid-driven cavity script computes on its 100 x 100
    velocity-magnitude grids (its 1-D problems pass ``(n, 1)`` columns, where the two norms
    agree). An error field that changes sign across the grid has a spectral norm well below
    its Frobenius (L2) norm, while a positive reference field's is close to it, so this
    ratio is smaller than the relative L2 error; it is reported to compare with the
    published cavity numbers like for like.

    Example:
        >>> relative_spectral_error([[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 2.0]])
        0.5
    """
    pred, exact = np.asarray(pred, np.float64), np.asarray(exact, np.float64)
    if pred.ndim != 2 or pred.shape != exact.shape:
        raise ValueError(f"need two grids (2-D arrays) of one shape, got {pred.shape} and {exact.shape}")
    return float(np.linalg.norm(pred - exact, 2) / np.linalg.norm(exact, 2))


def predict(network, params, points: jax.Array, problem: Problem | None = None) -> jax.Array:
    """The compared quantity at each row of ``points``: ``problem.quantity(u, z)`` when the
    problem defines one, else the network output ``u(z)``."""
    u = network.field(params)
    quantity = None if problem is None else problem.quantity
    if quantity is None:
        return jax.vmap(u)(points)
    return jax.vmap(lambda z: quantity(u, z))(points)


def evaluation_grid(problem: Problem, n: int = 100, dtype=jnp.float32) -> tuple[jax.Array, jax.Array]:
    """Where the error is measured and the reference values there.

    ``problem.reference_data`` when given (its own points), else the domain's own evaluation
    points (``evaluation_points(n)``: the ``n``-per-axis grid of a box; of another geometry,
    the points of its bounding box's grid that lie inside, never the corners outside it) and
    the exact solution on them.
    """
    if problem.reference_data is not None:
        points, values = problem.reference_data
        return jnp.asarray(points, dtype), jnp.asarray(values, dtype)
    if problem.exact is None:
        raise ValueError(
            f"problem {problem.name!r} has neither an exact solution nor reference data, so no error can be computed; "
            "give Problem(exact=...) or Problem(reference_data=(points, values))"
        )
    points = problem.domain.evaluation_points(n, dtype)
    return points, jax.vmap(problem.exact)(points)


def evaluation_set(problem: Problem, n: int = 10_000, dtype=jnp.float32) -> dict[str, jax.Array]:
    """``n`` points per term, drawn once from a fixed key (the same for every run)."""
    keys = jax.random.split(jax.random.PRNGKey(EVAL_KEY), len(problem.terms))
    return {name: term.sampler(k, n, dtype) for (name, term), k in zip(problem.terms.items(), keys)}


def evaluation_losses(problem: Problem, network, params, points: dict[str, jax.Array]) -> dict[str, float]:
    """Each term's unweighted loss on a fixed evaluation set (not a noisy minibatch)."""
    losses = jax.jit(lambda p, b: term_losses(problem, network, p, b))(params, points)
    return {name: float(losses[name]) for name in problem.term_names}
