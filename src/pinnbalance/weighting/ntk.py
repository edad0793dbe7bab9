"""NTK weighting (Wang, Yu & Perdikaris 2022, "When and why PINNs fail to train: a neural
tangent kernel perspective", J. Comput. Phys. 449, Algorithm 1).

The neural tangent kernel of the training residuals has one diagonal block per term,
``K_ii = J_i J_i^T`` with ``J_i`` the Jacobian of term i's residuals (every point, every
component) with respect to the parameters. Its trace measures how fast gradient descent
shrinks that term. Every ``period`` steps, on the current batch of ``n_i`` points per term:

    m_i = tr(K_ii) / n_i = mean_{points j of term i} || d r_j / d theta ||^2
    lam_hat_i = (sum_k m_k) / m_i
    lam_i    <- beta * lam_i + (1 - beta) * lam_hat_i    (beta = 0: the paper's plain assignment)

All terms are weighted, the residual included. The paper's Algorithm 1 writes
``tr(K) / tr(K_ii)`` and computes every block on a batch of the same size (300 points each in its
wave example's code, ``PINNsNTK_Wave1D.ipynb``); there the two agree. Our losses are means over
each term's points, so the kernel that moves term i is that of ``r_j / sqrt(n_i)``, with trace
``m_i``; raw traces would scale a term's weight by ``1 / n_i``, so a term's weight would depend
on how many points it draws (a one-point pressure gauge beside 8,192 interior points: x8,192).
jaxpi, the same group's later library, also takes the mean of each term's NTK diagonal. Until
2026-12-06 this scheme used raw traces; results made then say so.

The means are computed from per-point gradients (``vmap`` of the residual's reverse-mode
gradient over points, ``kernel.ntk_mean_diagonal``), never by materialising K. The scheme sees
only them: the trainer computes them on update steps because ``statistics_needed`` names them.

Deviation to note: the paper states the traces on the full training set; with fresh batches
each step they are taken on the current batch, as the issue that specified this scheme asks.

Example:
    >>> import jax.numpy as jnp
    >>> scheme = NTK()
    >>> state = scheme.init(("res", "bcs"))
    >>> stats = {"ntk_mean_diagonal": {"res": jnp.array(90.0), "bcs": jnp.array(10.0)}}
    >>> {k: round(float(v), 4) for k, v in scheme.update(state, {}, {}, 0, stats).weights.items()}
    {'res': 1.1111, 'bcs': 10.0}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import jax.numpy as jnp

from pinnbalance.problems.base import check_names
from pinnbalance.weighting.base import WeightState, initial_state
from pinnbalance.weighting.checks import check_period, check_terms
from pinnbalance.weighting.compose import chain, smooth
from pinnbalance.weighting.ema import check_ema_weight
from pinnbalance.weighting.hyper import hyper_leaves


@dataclass(frozen=True)
class NTK:
    """Weights ``sum_k m_k / m_i`` from the means ``m_i`` of the NTK's diagonal blocks, every ``period`` steps."""

    period: int = 100
    beta: float = 0.0
    initial: Mapping[str, float] = field(default_factory=dict)
    name = "ntk"
    hyperparameters = ("beta",)  # a leaf of the state (weighting.hyper)
    ema_weights = ("beta",)
    statistics_needed = ("ntk_mean_diagonal",)

    def __post_init__(self):
        check_period(self.period)
        check_ema_weight(self.beta)

    def init(self, term_names, dtype=jnp.float32) -> WeightState:
        check_names(self.initial, term_names)
        return initial_state(term_names, self.initial, dtype, hyper_leaves(self, dtype))

    def needs_grads(self, step):
        return step % self.period == 0

    def update(self, state: WeightState, term_grads, term_losses, step, stats=None) -> WeightState:
        if stats is None or "ntk_mean_diagonal" not in stats:
            raise ValueError(
                "NTK.update needs stats['ntk_mean_diagonal'] (each term's mean NTK diagonal); the trainer computes them"
            )
        means = stats["ntk_mean_diagonal"]
        check_terms(means, state.weights, "ntk_mean_diagonal")
        total = sum(means.values())
        proposed = {n: total / means[n] for n in state.weights}
        return chain(smooth("beta"))(state, proposed)
