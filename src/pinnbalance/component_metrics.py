"""Errors of multi-output problems: each component's relative L2 and PINNacle's joint L2RE.

For predictions ``P`` and reference values ``R`` at n points with k components (columns),

    L2RE         = sqrt(mean_jc (P_jc - R_jc)^2) / sqrt(mean_jc R_jc^2)      (all components flattened)
    l2/<name_c>  = ||P_:c - R_:c||_2 / ||R_:c||_2                            (one column)

PINNacle (Hao et al. 2024, arXiv 2306.08827, "L2RE") flattens every output together, so
for Navier-Stokes ``(u, v, p)`` the components with the largest values dominate; the
per-component errors show what the joint number hides. With the same count of entries in
numerator and denominator the means cancel, so the joint L2RE equals the library's
``metrics.relative_l2`` of the flattened arrays; for one component all three agree.

A problem names its compared components in ``Problem.components`` (e.g. ``("u", "v", "p")``);
``component_errors`` then gives ``{"l2re": ..., "l2/u": ..., ...}``, jittable, and the
training history and the run summary carry those keys beside ``l2`` (whose meaning does not
change: the relative L2 error of the problem's compared quantity).

Example:
    >>> import jax.numpy as jnp
    >>> pred = jnp.array([[1.0, 0.0], [1.0, 2.0]])
    >>> ref = jnp.array([[1.0, 1.0], [1.0, 1.0]])
    >>> {k: round(float(v), 4) for k, v in component_errors(pred, ref, ("u", "v")).items()}
    {'l2re': 0.7071, 'l2/u': 0.0, 'l2/v': 1.0}
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from pinnbalance.metrics import evaluation_grid, predict
from pinnbalance.nn.hard import for_problem


def joint_l2re(pred: jax.Array, ref: jax.Array) -> jax.Array:
    """PINNacle's L2RE: ``sqrt(mean((pred - ref)^2)) / sqrt(mean(ref^2))`` over all entries flattened."""
    pred, ref = jnp.ravel(pred), jnp.ravel(ref)
    return jnp.sqrt(jnp.mean((pred - ref) ** 2)) / jnp.sqrt(jnp.mean(ref**2))


def _columns(values: jax.Array, k: int, what: str) -> jax.Array:
    values = jnp.asarray(values)
    values = values[:, None] if values.ndim == 1 else values
    if values.ndim != 2 or values.shape[1] != k:
        raise ValueError(
            f"{what} has shape {tuple(values.shape)} but {k} component name(s) were given; "
            "give one column per named component, shape (n, k)"
        )
    return values


def component_errors(pred: jax.Array, ref: jax.Array, names: Sequence[str]) -> dict[str, jax.Array]:
    """``{"l2re": joint, "l2/<name>": per column}`` for ``(n, k)`` arrays (``(n,)`` when k = 1); ``{}`` without names."""
    names = tuple(names)
    if not names:
        return {}
    pred, ref = _columns(pred, len(names), "the prediction"), _columns(ref, len(names), "the reference")
    out = {"l2re": joint_l2re(pred, ref)}
    for c, name in enumerate(names):
        out[f"l2/{name}"] = jnp.linalg.norm(pred[:, c] - ref[:, c]) / jnp.linalg.norm(ref[:, c])
    return out


def final_component_metrics(problem, network, params, grid_n: int = 100) -> dict[str, float]:
    """``{"final_l2re": ..., "final_l2/<name>": ...}`` of ``params`` on the problem's evaluation
    points (its reference data, or its exact solution on the grid); ``{}`` for a problem
    without named ``components``."""
    names = tuple(getattr(problem, "components", ()) or ())
    if not names:
        return {}
    dtype = jax.tree_util.tree_leaves(params)[0].dtype
    points, ref = evaluation_grid(problem, grid_n, dtype)
    network = for_problem(problem, network)  # params of a problem with unknowns carry them; its quantity may read them
    errors = component_errors(predict(network, params, points, problem), ref, names)
    return {f"final_{k}": float(v) for k, v in errors.items()}
