"""Which gradient leaves count, and the per-term statistics computed over them.

A statistic maps the selected leaves of one term's gradient (by default the weight
matrices) to one non-negative number. Two kinds:

- ``LayerStatistic``: reduce each leaf (one layer) to a number, then aggregate across
  layers. The published learning-rate annealing rule uses
  ``MAX_ABS = max_l max_ij |g^l_ij|`` for the reference term and
  ``MEAN_ABS = (1/L) sum_l mean_ij |g^l_ij|`` (mean of per-layer means, so a small layer
  weighs as much as a large one) for the others. ``L2_NORM = sqrt(sum_l sum_ij (g^l_ij)^2)``
  is the global Euclidean norm of the selected leaves.
- pooled statistics: all entries of the selected leaves pooled into one vector ``a = |g|``
  (each entry counts once, whatever its layer): ``Quantile(q)``, the q-quantile of ``a``;
  ``LogMean()``, the geometric mean ``exp(mean(log(a + tiny)))``; ``POOLED_MEAN_ABS``, the
  arithmetic mean ``sum |g| / count`` (PINNacle's ``LR_Adaptor`` term statistic, over every
  parameter; with ``leaves="all"`` it is dominated by the large hidden matrices, where
  ``MEAN_ABS`` gives the small first and last layers as much say as a 100 x 100 one).

Every statistic here is positively homogeneous, ``S(c g) = c S(g)`` for ``c > 0``
(``LogMean`` up to its ``tiny``), which the "weighted" annealing rule relies on.

Example:
    >>> import jax.numpy as jnp
    >>> float(L2_NORM([jnp.array([[3.0, 0.0]]), jnp.array([[0.0], [4.0]])]))
    5.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import jax
import jax.numpy as jnp


def weight_matrices(tree) -> list[jax.Array]:
    """The leaves with two or more dimensions (weight matrices); biases are excluded."""
    return [leaf for leaf in jax.tree_util.tree_leaves(tree) if leaf.ndim >= 2]


def all_leaves(tree) -> list[jax.Array]:
    """Every leaf, biases included."""
    return jax.tree_util.tree_leaves(tree)


def without_encoders(tree) -> list[jax.Array]:
    """Weight matrices of every layer but the first two: for the modified MLP (``nn.modified_mlp``,
    layers ``[U, V, gates..., output]``) the gates and the output layer, its two encoders
    excluded, as the published M4 code takes its annealing statistics."""
    if not isinstance(tree, (list, tuple)) or len(tree) < 3:
        raise ValueError(
            "leaves 'without_encoders' expects the modified MLP's parameter list [U, V, gates..., output]; "
            "use 'weight_matrices' for other networks"
        )
    return weight_matrices(list(tree[2:]))


LEAF_FILTERS: dict[str, Callable] = {"weight_matrices": weight_matrices, "all": all_leaves, "without_encoders": without_encoders}


class Statistic(Protocol):
    """What a scheme needs of a statistic: a ``name`` and ``leaves -> scalar``."""

    name: str

    def __call__(self, leaves: list[jax.Array]) -> jax.Array: ...


def _check_leaves(leaves, name: str) -> list[jax.Array]:
    if len(leaves) == 0:  # len, not truthiness: an array of leaves is accepted too
        raise ValueError(f"statistic {name!r} got no gradient leaves: the leaf filter selected none (try leaves='all')")
    return leaves


def pooled_abs(leaves: list[jax.Array]) -> jax.Array:
    """``|g|`` of every entry of ``leaves``, flattened into one vector."""
    return jnp.concatenate([jnp.abs(g).ravel() for g in leaves])


@dataclass(frozen=True)
class LayerStatistic:
    """``aggregate([per_leaf(g) for g in leaves])`` over the selected leaves."""

    name: str
    per_leaf: Callable[[jax.Array], jax.Array]
    aggregate: Callable[[jax.Array], jax.Array]

    def __call__(self, leaves: list[jax.Array]) -> jax.Array:
        leaves = _check_leaves(leaves, self.name)
        return self.aggregate(jnp.stack([self.per_leaf(g) for g in leaves]))


@dataclass(frozen=True)
class Quantile:
    """The ``q``-quantile of ``|g|`` pooled over the selected leaves.

    Linear interpolation between order statistics (NumPy's default): with the ``n``
    sorted values ``a_(0) <= ... <= a_(n-1)`` and ``h = q (n - 1)``, it is
    ``a_(floor h) + (h - floor h) (a_(floor h + 1) - a_(floor h))``. ``q = 1`` is the max.
    A NaN entry makes the result NaN.
    """

    q: float

    def __post_init__(self):
        if not 0.0 <= self.q <= 1.0:
            raise ValueError(f"quantile q must be in [0, 1], got {self.q}")

    @property
    def name(self) -> str:
        return f"quantile_{self.q:g}"

    def __call__(self, leaves: list[jax.Array]) -> jax.Array:
        return jnp.quantile(pooled_abs(_check_leaves(leaves, self.name)), self.q)


@dataclass(frozen=True)
class LogMean:
    """The geometric mean ``exp(mean(log(|g| + tiny)))`` of ``|g|`` pooled over the selected leaves.

    ``tiny`` keeps an exact zero entry finite (``log(tiny)`` instead of ``-inf``); None
    (the default) takes the smallest positive normal number of the gradients' dtype
    (about 1.2e-38 in float32, 2.2e-308 in float64), so it changes no non-zero entry.
    """

    tiny: float | None = None
    name = "log_mean"

    def __post_init__(self):
        if self.tiny is not None and not self.tiny > 0:
            raise ValueError(f"LogMean tiny must be > 0 (or None for the dtype's smallest normal), got {self.tiny}")

    def __call__(self, leaves: list[jax.Array]) -> jax.Array:
        a = pooled_abs(_check_leaves(leaves, self.name))
        tiny = jnp.finfo(a.dtype).tiny if self.tiny is None else self.tiny
        return jnp.exp(jnp.mean(jnp.log(a + tiny)))


@dataclass(frozen=True)
class PooledMeanAbs:
    """The mean of ``|g|`` over every entry of the selected leaves: ``sum_l sum_ij |g^l_ij| / sum_l n_l``."""

    name = "pooled_mean_abs"

    def __call__(self, leaves: list[jax.Array]) -> jax.Array:
        return jnp.mean(pooled_abs(_check_leaves(leaves, self.name)))


MAX_ABS = LayerStatistic("max_abs", lambda g: jnp.max(jnp.abs(g)), jnp.max)
MEAN_ABS = LayerStatistic("mean_abs", lambda g: jnp.mean(jnp.abs(g)), jnp.mean)
L2_NORM = LayerStatistic("l2_norm", lambda g: jnp.sum(jnp.square(g)), lambda s: jnp.sqrt(jnp.sum(s)))
QUANTILE_99 = Quantile(0.99)
LOG_MEAN = LogMean()
POOLED_MEAN_ABS = PooledMeanAbs()
STATISTICS: dict[str, Statistic] = {s.name: s for s in (MAX_ABS, MEAN_ABS, L2_NORM, QUANTILE_99, LOG_MEAN, POOLED_MEAN_ABS)}


def check_statistic(value, field: str) -> None:
    """Raise a ``TypeError`` naming the registered statistics if ``value`` is not a statistic object."""
    if isinstance(value, str) or not callable(value) or not isinstance(getattr(value, "name", None), str):
        raise TypeError(
            f"{field} must be a statistic object (e.g. STATISTICS[{value!r}] or Quantile(0.95)), got {value!r}; "
            f"registered statistics: {sorted(STATISTICS)}"
        )
