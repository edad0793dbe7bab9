"""ReLoBRaLo: relative loss balancing with random lookback (Bischof & Kraus 2021,
"Multi-objective loss balancing for physics-informed deep learning", arXiv:2110.09813).

On every update step t (every ``period`` steps), with M terms, L_i(t) the term losses of
that step, L_i(t-) those of the previous update step and L_i(0) those of the first:

    bal_i(t, t') = M exp(L_i(t) / (T L_i(t') + eps)) / sum_j exp(L_j(t) / (T L_j(t') + eps))
    hist_i(t)    = rho lam_i(t-) + (1 - rho) bal_i(t, 0)          (random lookback)
    lam_i(t)     = alpha hist_i(t) + (1 - alpha) bal_i(t, t-)

with temperature T (``temperature``), ``alpha`` the EMA weight on the history, and
rho ~ Bernoulli(``expected_rho``) (the paper's "saudade"): with probability
1 - expected_rho the history is replaced by the balance relative to the first losses.
Every bal sums to M, so the weights keep summing to M (they start at 1).

Randomness, kept pure: rho(step) = bernoulli(fold_in(key(seed), step), expected_rho), a
function of the ``seed`` field and the step number only, so ``update`` is a pure function
of its inputs (the same step gives the same draw, under ``jit`` and on every backend).
Runs vmapped over several training seeds therefore share one rho sequence unless each
gets its own ``seed``.

Choices where the paper leaves room (following the authors' reference implementation):

- ``eps = 1e-12`` in the denominators guards a zero loss (the paper's formula has none);
- start: the first update only remembers L(0) and keeps the weights (1); the second uses
  alpha = 0 and rho = 1, i.e. lam = bal(t, t-); the rule above applies from the third on;
- defaults alpha = 0.999, T = 0.1, expected_rho = 0.99 are the reference code's;
- ``period`` (default 1, every step as published): with ``period > 1``, "t-" is the
  previous update step, and rho is drawn on update steps only.

Loss-only scheme: ``update`` ignores ``term_grads``. The trainer calls ``update`` only on
steps where ``needs_grads(step)`` is True (``step % period == 0``), and currently computes
the per-term gradients on those steps anyway; since the terms are differentiated
separately at disjoint points, that costs the same as one backward pass of the total loss.

State: ``WeightState.memory = {"initial": {term: L_i(0)}, "previous": {term: L_i(t-)},
"updates": count}``. If a loss or a weight is not finite, weights and memory are held and
``WeightState.held`` counts it.

Example:
    >>> import jax.numpy as jnp
    >>> scheme = ReLoBRaLo(alpha=0.0, expected_rho=1.0, temperature=1.0)
    >>> state = scheme.init(("res", "bcs"))
    >>> for step, (r, b) in enumerate([(1.0, 1.0), (1.0, 2.0)]):
    ...     state = scheme.update(state, {}, {"res": jnp.array(r), "bcs": jnp.array(b)}, step)
    >>> round(float(state.weights["bcs"]), 4)  # 2 e^2 / (e^1 + e^2)
    1.4621
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.weighting.base import WeightState, hold_if_not_finite
from pinnbalance.weighting.checks import check_eps, check_period, check_terms, nonempty_terms
from pinnbalance.weighting.hyper import hyper_leaves


@dataclass(frozen=True)
class ReLoBRaLo:
    """Softmax of relative loss progress, with EMA ``alpha`` and random lookback (see module doc)."""

    alpha: float = 0.999
    temperature: float = 0.1
    expected_rho: float = 0.99
    seed: int = 0
    period: int = 1
    eps: float = 1e-12
    name = "relobralo"
    hyperparameters = ("alpha", "temperature", "eps")  # leaves of the state (weighting.hyper)

    def __post_init__(self):
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha (EMA weight on the history) must be in [0, 1], got {self.alpha}")
        if not self.temperature > 0:
            raise ValueError(f"temperature T must be > 0, got {self.temperature}")
        if not 0.0 <= self.expected_rho <= 1.0:
            raise ValueError(f"expected_rho (probability of keeping the history) must be in [0, 1], got {self.expected_rho}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        check_period(self.period)
        check_eps(self.eps)

    def init(self, term_names, dtype=jnp.float32) -> WeightState:
        names = nonempty_terms(term_names, "ReLoBRaLo")
        ones = lambda: {n: jnp.ones((), dtype) for n in names}
        memory = {"initial": ones(), "previous": ones(), "updates": jnp.zeros((), jnp.int32)}
        return WeightState(ones(), jnp.zeros((), jnp.int32), memory, hyper_leaves(self, dtype))

    def needs_grads(self, step):
        return step % self.period == 0

    def lookback(self, step) -> jax.Array:
        """rho(step): True (keep the history) with probability ``expected_rho``; pure in (seed, step)."""
        return jax.random.bernoulli(jax.random.fold_in(jax.random.key(self.seed), step), self.expected_rho)

    def balance(self, losses: jax.Array, reference: jax.Array, hyper) -> jax.Array:
        """``bal(t, t')`` stacked in term order: ``M softmax(L(t) / (T L(t') + eps))`` (``hyper``:
        the state's hyperparameters)."""
        return losses.shape[0] * jax.nn.softmax(losses / (hyper["temperature"] * reference + hyper["eps"]))

    def update(self, state: WeightState, term_grads, term_losses, step) -> WeightState:
        check_terms(term_losses, state.weights, "term_losses")
        names = list(state.weights)
        mem = state.memory
        stack = lambda d: jnp.stack([d[n] for n in names])
        losses = jnp.stack([jnp.asarray(term_losses[n], mem["previous"][n].dtype) for n in names])
        count = mem["updates"]
        initial = jnp.where(count == 0, losses, stack(mem["initial"]))
        previous = jnp.where(count == 0, losses, stack(mem["previous"]))
        # warm-up as the reference code: keep the weights, then take bal(t, t-) alone
        alpha = jnp.where(count == 0, 1.0, jnp.where(count == 1, 0.0, state.hyper["alpha"]))
        rho = jnp.where(count <= 1, 1.0, self.lookback(step).astype(losses.dtype))
        old = stack(state.weights)
        bal = lambda reference: self.balance(losses, reference, state.hyper)  # noqa: E731
        lam = rho * alpha * old + (1 - rho) * alpha * bal(initial) + (1 - alpha) * bal(previous)
        memory = {
            "initial": {n: initial[i] for i, n in enumerate(names)},
            "previous": {n: losses[i] for i, n in enumerate(names)},
            "updates": count + 1,
        }
        return hold_if_not_finite(state, {n: lam[i] for i, n in enumerate(names)}, memory)
