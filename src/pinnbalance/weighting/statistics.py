"""Which gradient leaves count, and the per-term statistics computed over them.

A statistic reduces each selected leaf (one layer's weight matrix) to a number, then
aggregates across layers. The published learning-rate annealing rule uses

- reference term: ``max_l max_ij |g^l_ij|`` (``MAX_ABS``: max of per-layer maxima),
- other terms: ``(1/L) sum_l mean_ij |g^l_ij|`` (``MEAN_ABS``: mean of per-layer means),

so a small layer weighs as much as a large one in the mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp


def weight_matrices(tree) -> list[jax.Array]:
    """The leaves with two or more dimensions (weight matrices); biases are excluded."""
    return [leaf for leaf in jax.tree_util.tree_leaves(tree) if leaf.ndim >= 2]


def all_leaves(tree) -> list[jax.Array]:
    """Every leaf, biases included."""
    return jax.tree_util.tree_leaves(tree)


LEAF_FILTERS: dict[str, Callable] = {"weight_matrices": weight_matrices, "all": all_leaves}


@dataclass(frozen=True)
class LayerStatistic:
    """``aggregate([per_leaf(g) for g in leaves])`` over the selected leaves."""

    name: str
    per_leaf: Callable[[jax.Array], jax.Array]
    aggregate: Callable[[jax.Array], jax.Array]

    def __call__(self, leaves: list[jax.Array]) -> jax.Array:
        return self.aggregate(jnp.stack([self.per_leaf(g) for g in leaves]))


MAX_ABS = LayerStatistic("max_abs", lambda g: jnp.max(jnp.abs(g)), jnp.max)
MEAN_ABS = LayerStatistic("mean_abs", lambda g: jnp.mean(jnp.abs(g)), jnp.mean)
STATISTICS = {s.name: s for s in (MAX_ABS, MEAN_ABS)}
