"""Learning-rate annealing: weights from gradient statistics (Wang, Teng & Perdikaris 2021).

Every ``period`` steps, with the reference term r (the PDE residual, weight 1; for a system
written as one term per equation, ``reference`` may name them all: r is then their summed loss,
the residual loss of Wang et al.'s systems, and each keeps weight 1):

    lam_hat_i = S_ref(grad L_r) / (S_i(G_i) + eps)
    lam_i    <- beta * lam_i + (1 - beta) * lam_hat_i          (``ema``)
    lam_i    <- min(max(lam_i, w_min), w_max)                  (only if w_min / w_max are set)

where S_ref is ``reference_statistic`` (max of per-layer max |g|), S_i is
``term_statistic`` (mean of per-layer mean |g|), both over the leaves chosen by
``leaves`` (weight matrices only), and G_i is

- ``grad_of="weighted"``: the gradient of the weighted term ``lam_i * L_i``, as the
  published code differentiates it. Then S_i(G_i) = lam_i S_i(grad L_i), and with steady
  statistics the rule settles at ``lam = sqrt(S_ref / S_i)``;
- ``grad_of="unweighted"``: the gradient of ``L_i`` alone, as the published formula
  (Algorithm 1) writes it. It settles at ``lam = S_ref / S_i``.

The two differ in their fixed point, not only in speed; "weighted" is the default since it
is what reproduces the published numbers. "weighted" uses ``S_i(lam g) = lam S_i(g)``,
true of every statistic in ``statistics`` (of ``LogMean`` up to its ``tiny``).

Statistic variants (``ANNEALING_VARIANTS``, or ``LearningRateAnnealing.variant(name)``):

- ``"max/mean"``: ``MAX_ABS / MEAN_ABS``, the published rule and the default;
- ``"mean/mean"``: ``MEAN_ABS / MEAN_ABS``, a ratio of like statistics (settles where the
  terms' mean gradients match, not at the reference's extreme);
- ``"quantile/mean"``: ``Quantile(0.99) / MEAN_ABS``: the max replaced by the 99th
  percentile of the reference's |g| (pooled over the selected leaves), so one outlier
  entry cannot set the weights; the term statistic stays the published one;
- ``"log-mean"``: ``LogMean / LogMean``: ratio of geometric means of |g|, insensitive to
  the heavy tails that move both max and mean.

Only the published variant comes from the paper; the others are this library's options.

How the two statistics meet (``ratio``): ``"aggregate"`` (default) divides the statistic
of all selected leaves by the other's, as above and as the published Klein-Gordon and
Helmholtz code does; ``"max_per_layer"`` divides layer by layer and takes the largest
ratio, ``lam_hat_i = max_l S_ref(g_r^l) / S_i(G_i^l)``, as the published lid-driven cavity
code does (``max_l max|g_r^l| / mean|G_i^l|``). A layer where the term's gradient is small
sets the weight there, so it is at least the ratio of the layer holding the reference's
largest entry.

Timing, and how it differs from the published code: here the per-term gradients of the
update step are computed once, the weights are updated from them, and the same gradients,
combined with the NEW weights, make that step's parameter update (no second backward
pass). The published code takes the statistics on the update step's batch and applies
the new weights from the next step on. With a fresh uniform batch every step the two are
statistically equivalent.

If a statistic is not finite the weights are held and ``WeightState.held`` counts it.

Example:
    >>> scheme = LearningRateAnnealing()
    >>> state = scheme.init(("res", "ics", "bcs"))
    >>> sorted(state.weights)
    ['bcs', 'ics', 'res']
    >>> LearningRateAnnealing.variant("quantile/mean").reference_statistic.name
    'quantile_0.99'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import jax
import jax.numpy as jnp

from pinnbalance.problems.base import check_names
from pinnbalance.weighting.base import WeightState, initial_state
from pinnbalance.weighting.clipping import check_bounds
from pinnbalance.weighting.compose import chain, clip, smooth
from pinnbalance.weighting.ema import check_ema_weight
from pinnbalance.weighting.hyper import hyper_leaves
from pinnbalance.weighting.statistics import (
    LEAF_FILTERS,
    LOG_MEAN,
    MAX_ABS,
    MEAN_ABS,
    QUANTILE_99,
    Statistic,
    check_statistic,
)

ANNEALING_VARIANTS: dict[str, tuple[Statistic, Statistic]] = {
    "max/mean": (MAX_ABS, MEAN_ABS),
    "mean/mean": (MEAN_ABS, MEAN_ABS),
    "quantile/mean": (QUANTILE_99, MEAN_ABS),
    "log-mean": (LOG_MEAN, LOG_MEAN),
}


@dataclass(frozen=True)
class LearningRateAnnealing:
    """Gradient-statistics weights with an EMA, every ``period`` steps (see module doc)."""

    reference: str | tuple[str, ...] = "res"
    grad_of: Literal["weighted", "unweighted"] = "weighted"
    beta: float = 0.9
    period: int = 10
    eps: float = 1e-10
    reference_statistic: Statistic = MAX_ABS
    term_statistic: Statistic = MEAN_ABS
    leaves: str = "weight_matrices"
    ratio: Literal["aggregate", "max_per_layer"] = "aggregate"
    initial: Mapping[str, float] = field(default_factory=dict)
    w_min: float | None = None
    w_max: float | None = None
    name = "lr-annealing"
    hyperparameters = ("beta", "eps")  # leaves of the state (weighting.hyper): sweepable in one program
    ema_weights = ("beta",)

    def __post_init__(self):
        if self.grad_of not in ("weighted", "unweighted"):
            raise ValueError(f"grad_of must be 'weighted' or 'unweighted', got {self.grad_of!r}")
        check_ema_weight(self.beta, "beta")
        if int(self.period) < 1:
            raise ValueError(f"period must be a positive number of steps, got {self.period}")
        if self.ratio not in ("aggregate", "max_per_layer"):
            raise ValueError(f"ratio must be 'aggregate' or 'max_per_layer', got {self.ratio!r}")
        if self.leaves not in LEAF_FILTERS:
            raise ValueError(f"unknown leaves filter {self.leaves!r}; valid: {sorted(LEAF_FILTERS)}")
        check_statistic(self.reference_statistic, "reference_statistic")
        check_statistic(self.term_statistic, "term_statistic")
        check_bounds(self.w_min, self.w_max)

    @classmethod
    def variant(cls, name: str, **fields) -> LearningRateAnnealing:
        """The scheme with the statistic pair ``ANNEALING_VARIANTS[name]`` and any other ``fields``."""
        if name not in ANNEALING_VARIANTS:
            raise ValueError(f"unknown learning-rate annealing variant {name!r}; valid: {list(ANNEALING_VARIANTS)}")
        reference_statistic, term_statistic = ANNEALING_VARIANTS[name]
        return cls(reference_statistic=reference_statistic, term_statistic=term_statistic, **fields)

    @property
    def reference_terms(self) -> tuple[str, ...]:
        """The reference term(s): one name, or a group whose losses are summed (they keep their weights)."""
        return (self.reference,) if isinstance(self.reference, str) else tuple(self.reference)

    def _reference_grads(self, term_grads: Mapping[str, object]):
        """The gradient of the reference loss: of the one term, or of the group's summed losses."""
        return jax.tree_util.tree_map(lambda *g: sum(g), *(term_grads[n] for n in self.reference_terms))

    def init(self, term_names, dtype=jnp.float32) -> WeightState:
        if not self.reference_terms:
            raise ValueError("reference must name a term or a non-empty list of terms, e.g. 'res' or ['mom_x', 'mom_y']")
        for name in self.reference_terms:
            check_names(name, term_names, what="reference term")
        check_names(self.initial, term_names)
        return initial_state(term_names, self.initial, dtype, hyper_leaves(self, dtype))

    def needs_grads(self, step):
        return step % self.period == 0

    def statistics(self, state: WeightState, term_grads: Mapping[str, object]) -> tuple[jnp.ndarray, dict]:
        """``(S_ref, {term: S_i(G_i)})`` for the current gradients and weights."""
        select = LEAF_FILTERS[self.leaves]
        ref = self.reference_statistic(select(self._reference_grads(term_grads)))
        stats = {}
        for name, grads in term_grads.items():
            if name in self.reference_terms:
                continue
            s = self.term_statistic(select(grads))
            stats[name] = state.weights[name] * s if self.grad_of == "weighted" else s
        return ref, stats

    def layer_ratios(self, state: WeightState, term_grads: Mapping[str, object]) -> dict:
        """``{term: [S_ref(g_r^l) / S_i(G_i^l) for each selected leaf l]}`` (``ratio="max_per_layer"``)."""
        select = LEAF_FILTERS[self.leaves]
        ref = [self.reference_statistic([g]) for g in select(self._reference_grads(term_grads))]
        ratios = {}
        for name, grads in term_grads.items():
            if name in self.reference_terms:
                continue
            scale = state.weights[name] if self.grad_of == "weighted" else 1.0
            eps = state.hyper["eps"]
            ratios[name] = jnp.stack([r / (scale * self.term_statistic([g]) + eps) for r, g in zip(ref, select(grads))])
        return ratios

    def update(self, state: WeightState, term_grads, term_losses, step) -> WeightState:
        if self.ratio == "max_per_layer":
            lam_hat = {name: jnp.max(r) for name, r in self.layer_ratios(state, term_grads).items()}
        else:
            ref, stats = self.statistics(state, term_grads)
            lam_hat = {name: ref / (s + state.hyper["eps"]) for name, s in stats.items()}
        return chain(smooth("beta"), clip(self.w_min, self.w_max))(state, lam_hat)
