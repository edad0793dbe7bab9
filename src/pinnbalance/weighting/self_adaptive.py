"""Self-adaptive weights (McClenny & Braga-Neto 2023, "Self-adaptive physics-informed neural
networks", J. Comput. Phys. 474, 111722).

Every collocation point j of a weighted term i carries a trainable weight lam_ij, and the
loss becomes

    L(theta, lam) = sum_i (1/N_i) sum_j m(lam_ij) |r_i(p_ij; theta)|^2

with a mask m (here ``"square"``: m(lam) = lam^2, the paper's polynomial mask with q = 2;
or ``"identity"``; or ``"softplus"``). The network parameters descend L; the point weights
ASCEND it, so points the network fits badly gain weight:

    lam  <-  lam + eta * ascent_direction(dL/dlam),     dL/dlam_ij = m'(lam_ij) |r_ij|^2 / N_i

(``optimizer = "adam"``: Adam on -dL/dlam, as the paper; ``"sgd"``: the plain gradient step
written above). Points must stay the same from step to step for a weight to mean anything,
so these weights need the fixed-collocation sampling mode (``Sampling("fixed")``); with
``resample_every`` a weight stays with its slot when the points are redrawn.

Why its own interface: these weights are trained state, one per point, moved by their own
gradient, not a function of per-term gradient statistics, so they do not fit
``update(state, term_grads, term_losses, step)``. The trainer sees ``per_point = True`` and
calls ``init_points`` / ``mask`` / ``ascend`` instead. ``WeightState.weights`` holds each
term's MEAN mask value, for the history and plots (the loss uses the per-point values);
``WeightState.memory`` holds the point weights and their optimizer state.

Deviations to note: the paper trains with a fixed point set and then L-BFGS with the
weights frozen; its initial weights are problem-specific (e.g. uniform random draws, larger
on the initial condition); here they start at ``initial`` (per term, default 1) and the
ascent learning rate is an option (default 5e-3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import optax

from pinnbalance.problems.base import check_names
from pinnbalance.weighting.base import WeightState
from pinnbalance.weighting.interface import per_point

MASKS = {
    "square": lambda lam: lam**2,
    "identity": lambda lam: lam,
    "softplus": jax.nn.softplus,
}
OPTIMIZERS = {"adam": optax.adam, "sgd": optax.sgd}


@dataclass(frozen=True)
class SelfAdaptive:
    """Per-point weights trained by gradient ascent (see the module docstring).

    ``terms``: the terms that get point weights (default: all); the others keep weight 1.
    """

    terms: Sequence[str] | None = None
    learning_rate: float = 5e-3
    mask: str = "square"
    optimizer: str = "adam"
    initial: Mapping[str, float] = field(default_factory=dict)
    name = "self-adaptive"
    per_point = True

    def __post_init__(self):
        if self.mask not in MASKS:
            raise ValueError(f"SelfAdaptive.mask must be one of {list(MASKS)}, got {self.mask!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"SelfAdaptive.optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"SelfAdaptive.learning_rate must be > 0, got {self.learning_rate}")

    def weighted_terms(self, term_names) -> tuple[str, ...]:
        names = tuple(term_names) if self.terms is None else tuple(self.terms)
        check_names(names, term_names, what="self-adaptive term")
        return names

    def _ascent(self) -> optax.GradientTransformation:
        return OPTIMIZERS[self.optimizer](self.learning_rate)

    def init(self, term_names, dtype=jnp.float32, sizes: Mapping[str, int] | None = None) -> WeightState:
        """Point weights for ``sizes[term]`` points of each weighted term (all ``initial[term]``)."""
        check_names(self.initial, term_names)
        names = self.weighted_terms(term_names)
        if sizes is None:
            sizes = dict.fromkeys(term_names, 1)
        lam = {n: jnp.full((int(sizes[n]),), self.initial.get(n, 1.0), dtype) for n in names}
        memory = {"lambda": lam, "opt": self._ascent().init(lam)}
        return WeightState(self._means(lam, term_names, dtype), jnp.zeros((), jnp.int32), memory)

    def point_mask(self, lam: jax.Array) -> jax.Array:
        """``m(lam)``: the factor each point's squared residual is multiplied by."""
        return MASKS[self.mask](lam)

    def _means(self, lam, term_names, dtype):
        return {n: jnp.mean(self.point_mask(lam[n])).astype(dtype) if n in lam else jnp.ones((), dtype) for n in term_names}

    def needs_grads(self, step):
        return False  # no per-term statistics: the trainer's self-adaptive step handles these weights

    def update(self, state, term_grads, term_losses, step, stats=None):
        return state  # never called by the trainer (needs_grads is False); weights move in ``ascend``

    def ascend(self, state: WeightState, lam_grads: Mapping[str, jax.Array]) -> WeightState:
        """One ascent step of the point weights from ``dL/dlam`` (non-finite steps are held and counted)."""
        lam, opt = state.memory["lambda"], state.memory["opt"]
        negated = {n: -g for n, g in lam_grads.items()}  # optax minimises: ascend by descending -L
        updates, new_opt = self._ascent().update(negated, opt, lam)
        new_lam = optax.apply_updates(lam, updates)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in jax.tree_util.tree_leaves(new_lam)]))
        keep = lambda new, old: jnp.where(finite, new, old)
        new_lam = jax.tree_util.tree_map(keep, new_lam, lam)
        new_opt = jax.tree_util.tree_map(keep, new_opt, opt)
        weights = self._means(new_lam, tuple(state.weights), next(iter(state.weights.values())).dtype)
        return WeightState(weights, state.held + (~finite).astype(jnp.int32), {"lambda": new_lam, "opt": new_opt}, state.hyper)


def init_weights(scheme, problem, dtype=jnp.float32) -> WeightState:
    """The scheme's starting ``WeightState`` for ``problem``; per-point schemes get one weight
    per collocation point of each term (its batch size)."""
    if per_point(scheme):
        return scheme.init(problem.term_names, dtype, {n: t.batch_size for n, t in problem.terms.items()})
    return scheme.init(problem.term_names, dtype)
