"""Gradient-norm balancing (Wang, Wang, Bhartari & Perdikaris 2023, "An expert's guide to
training physics-informed neural networks", arXiv:2308.08468, Sec. on loss balancing).

Every ``period`` steps, with ``n_i = ||grad L_i||`` the global L2 norm of term i's
(unweighted) loss gradient over the leaves chosen by ``leaves`` (all parameters):

    lam_hat_i = N / (n_i + eps * mean_j n_j),   N = sum_j n_j  (``numerator="sum"``)
                                                  or mean_j n_j (``numerator="mean"``)
    lam_i    <- alpha * lam_i + (1 - alpha) * lam_hat_i          (``ema``, alpha on the OLD value)
    lam_i    <- min(max(lam_i, w_min), w_max)                    (only if w_min / w_max are set)

All terms are weighted, the residual included. With steady norms and ``eps = 0`` the rule
settles where every weighted gradient has the same norm: ``lam_i n_i = N`` for all i.

Paper vs published code (jaxpi), both available as fields:

- the paper's formula has the SUM of the norms in the numerator (``numerator="sum"``, our
  default); jaxpi divides the MEAN (``numerator="mean"``), M times smaller weights for M
  terms, which only rescales the total loss (Adam is nearly invariant to that);
- jaxpi adds ``1e-5 * mean_j n_j`` to the denominator (``eps=1e-5``); the paper adds
  nothing (``eps=0``, our default): a zero norm then gives an infinite proposal and the
  update is held (``WeightState.held`` counts it), as for any non-finite statistic;
- the gradients are those of the unweighted term losses, which is what the trainer
  passes to ``update`` and what both paper and code use.

Period: the paper updates every f = 1000 steps. Our default is ``period=100``, because
the trainer runs a schedule without a run-time ``cond`` only when the period divides
``log_every`` (default 100); ``period=1000`` reproduces the paper with a ``cond`` in the
loop. The weights start at ``initial`` (default 1 for every term, as jaxpi).

The 2026 preset, ``GradNorm2026`` (registered as ``"grad-norm-2026"``), is the recipe of
the 2026 jaxpi2 configurations: the weights are recomputed every 1,000 steps
(``period=1000``) and smoothed with momentum 0.9, the EMA weight on the OLD value
(``alpha=0.9``: lam <- 0.9 lam + 0.1 lam_hat); every other field keeps ``GradNorm``'s
default (sum numerator, ``eps=0``, all leaves, weights starting at 1). It is a subclass
that changes defaults only, so any field can still be overridden, e.g.
``GradNorm2026(numerator="mean", eps=1e-5)`` for jaxpi's mean numerator. With the
trainer's default ``log_every=100`` a 1,000-step period runs with a ``cond`` in the loop;
a ``log_every`` that is a multiple of 1,000 avoids it.

Not to be confused with GradNorm of Chen et al. (2018), which learns the weights by
gradient descent on a gradient-norm loss.

Example:
    >>> import jax.numpy as jnp
    >>> scheme = GradNorm(alpha=0.0)
    >>> state = scheme.init(("res", "bcs"))
    >>> grads = {"res": {"W": jnp.array([[3.0, 4.0]])}, "bcs": {"W": jnp.array([[1.0, 0.0]])}}
    >>> {k: round(float(v), 6) for k, v in scheme.update(state, grads, {}, 0).weights.items()}
    {'res': 1.2, 'bcs': 6.0}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import jax
import jax.numpy as jnp

from pinnbalance.problems.base import check_names
from pinnbalance.weighting.base import WeightState, hold_if_not_finite, initial_state
from pinnbalance.weighting.checks import check_choice, check_period, check_terms
from pinnbalance.weighting.clipping import check_bounds, clip_weights
from pinnbalance.weighting.ema import check_ema_weight
from pinnbalance.weighting.hyper import ema_of, hyper_leaves
from pinnbalance.weighting.statistics import L2_NORM, LEAF_FILTERS


@dataclass(frozen=True)
class GradNorm:
    """Weights ``sum_j ||g_j|| / ||g_i||`` (global L2 gradient norms) with an EMA, every ``period`` steps."""

    alpha: float = 0.9
    period: int = 100
    numerator: Literal["sum", "mean"] = "sum"
    eps: float = 0.0
    leaves: str = "all"
    initial: Mapping[str, float] = field(default_factory=dict)
    w_min: float | None = None
    w_max: float | None = None
    name = "grad-norm"
    hyperparameters = ("alpha", "eps")  # leaves of the state (weighting.hyper)
    ema_weights = ("alpha",)

    def __post_init__(self):
        check_ema_weight(self.alpha, "alpha")
        check_period(self.period)
        check_choice("numerator", self.numerator, ("sum", "mean"))
        if not self.eps >= 0:
            raise ValueError(f"eps (relative to the mean gradient norm) must be >= 0, got {self.eps}")
        if self.leaves not in LEAF_FILTERS:
            raise ValueError(f"unknown leaves filter {self.leaves!r}; valid: {sorted(LEAF_FILTERS)}")
        check_bounds(self.w_min, self.w_max)

    def init(self, term_names, dtype=jnp.float32) -> WeightState:
        check_names(self.initial, term_names)
        return initial_state(term_names, self.initial, dtype, hyper_leaves(self, dtype))

    def needs_grads(self, step):
        return step % self.period == 0

    def norms(self, term_grads: Mapping[str, object]) -> dict[str, jax.Array]:
        """``{term: ||grad L_term||}`` over the selected leaves."""
        select = LEAF_FILTERS[self.leaves]
        return {name: L2_NORM(select(grads)) for name, grads in term_grads.items()}

    def update(self, state: WeightState, term_grads, term_losses, step) -> WeightState:
        check_terms(term_grads, state.weights, "term_grads")
        norms = self.norms(term_grads)
        stacked = jnp.stack(list(norms.values()))
        total = jnp.sum(stacked) if self.numerator == "sum" else jnp.mean(stacked)
        floor = state.hyper["eps"] * jnp.mean(stacked)
        lam_hat = {name: total / (n + floor) for name, n in norms.items()}
        new = clip_weights(ema_of(state, state.weights, lam_hat, "alpha"), self.w_min, self.w_max)
        return hold_if_not_finite(state, new)


@dataclass(frozen=True)
class GradNorm2026(GradNorm):
    """``GradNorm`` with the 2026 jaxpi2 preset: updates every 1,000 steps, momentum 0.9 (module docstring).

    Example:
        >>> scheme = GradNorm2026()
        >>> scheme.period, scheme.alpha, scheme.name
        (1000, 0.9, 'grad-norm-2026')
    """

    alpha: float = 0.9
    period: int = 1000
    name = "grad-norm-2026"
