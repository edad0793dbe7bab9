"""SoftAdapt: weights from the recent rates of change of the losses (Heydari, Thompson &
Mehmood 2019, "SoftAdapt: techniques for adaptive loss weighting of neural networks with
multi-part loss functions", arXiv:1912.12355).

On every update step t (every ``period`` steps), with L_i(t) the term losses of that step
and L_i(t-) those of the previous update step:

    s_i = L_i(t) - L_i(t-)                                   (first-order rate of change)
    s_i <- s_i / (sum_j |s_j| + eps)                          (``variant="normalized"`` only)
    lam_i = c * f_i exp(beta s_i) / sum_j f_j exp(beta s_j)   (a softmax, shifted by max_j s_j)

with f_i = 1 (``variant="original"``, the default) or f_i = L_i(t)
(``variant="loss-weighted"``), and c = 1 (``sum_to="one"``: convex weights, as published)
or c = M, the number of terms (``sum_to="terms"``: the scale of constant weights 1).
``beta > 0`` gives more weight to the terms whose loss decreases slowest (or grows);
``beta < 0`` to those that improve fastest; ``beta = 0`` gives equal weights.

Choices where the paper leaves room:

- rates are first-order differences between consecutive update steps (the authors'
  package can use higher-order finite differences over a window of past losses); with
  ``period > 1`` the difference spans ``period`` steps and is not divided by it;
- "normalized" divides by the L1 norm of the rates, so the normalised rates lie in
  [-1, 1]; the authors' package divides by their signed sum, which is unbounded when the
  rates cancel;
- "loss-weighted" multiplies by the current loss L_i(t) (the package uses the mean over
  its window of past losses);
- the first update has no previous loss: the weights stay at their initial value, c / M
  each (the softmax of equal rates), and the losses are remembered.

Loss-only scheme: ``update`` ignores ``term_grads``. The trainer calls ``update`` only on
steps where ``needs_grads(step)`` is True (``step % period == 0``), and currently computes
the per-term gradients on those steps anyway; since the terms are differentiated
separately at disjoint points, that costs the same as one backward pass of the total loss.
``period=1`` (every step, as published) is the default.

State: ``WeightState.memory = {"previous": {term: L_i(t-)}, "updates": count}``. If a loss
or a weight is not finite, weights and memory are held and ``WeightState.held`` counts it.

Example:
    >>> import jax.numpy as jnp
    >>> scheme = SoftAdapt(beta=1.0)
    >>> state = scheme.init(("res", "bcs"))
    >>> state = scheme.update(state, {}, {"res": jnp.array(1.0), "bcs": jnp.array(1.0)}, 0)
    >>> state = scheme.update(state, {}, {"res": jnp.array(0.5), "bcs": jnp.array(1.0)}, 1)
    >>> round(float(state.weights["bcs"]), 4)  # exp(0) / (exp(-0.5) + exp(0))
    0.6225
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import jax
import jax.numpy as jnp

from pinnbalance.weighting.base import WeightState, hold_if_not_finite
from pinnbalance.weighting.checks import check_choice, check_eps, check_period, check_terms, nonempty_terms
from pinnbalance.weighting.hyper import hyper_leaves


@dataclass(frozen=True)
class SoftAdapt:
    """Softmax of the losses' recent rates of change, temperature ``beta`` (see module doc)."""

    beta: float = 0.1
    variant: Literal["original", "normalized", "loss-weighted"] = "original"
    sum_to: Literal["one", "terms"] = "one"
    period: int = 1
    eps: float = 1e-8
    name = "softadapt"
    hyperparameters = ("beta", "eps")  # leaves of the state (weighting.hyper)

    def __post_init__(self):
        if isinstance(self.beta, bool) or not isinstance(self.beta, int | float) or not math.isfinite(self.beta):
            raise ValueError(f"beta (softmax temperature on the rates) must be a finite number, got {self.beta!r}")
        check_choice("variant", self.variant, ("original", "normalized", "loss-weighted"))
        check_choice("sum_to", self.sum_to, ("one", "terms"))
        check_period(self.period)
        check_eps(self.eps)

    def init(self, term_names, dtype=jnp.float32) -> WeightState:
        names = nonempty_terms(term_names, "SoftAdapt")
        w = 1.0 / len(names) if self.sum_to == "one" else 1.0
        return WeightState(
            weights={n: jnp.asarray(w, dtype) for n in names},
            held=jnp.zeros((), jnp.int32),
            memory={"previous": {n: jnp.zeros((), dtype) for n in names}, "updates": jnp.zeros((), jnp.int32)},
            hyper=hyper_leaves(self, dtype),
        )

    def needs_grads(self, step):
        return step % self.period == 0

    def balance(self, losses: jax.Array, previous: jax.Array, hyper) -> jax.Array:
        """The weights (stacked in term order) from the current and previous losses (``hyper``:
        the state's hyperparameters)."""
        rates = losses - previous
        if self.variant == "normalized":
            rates = rates / (jnp.sum(jnp.abs(rates)) + hyper["eps"])
        logits = hyper["beta"] * rates
        if self.variant == "loss-weighted":
            e = losses * jnp.exp(logits - jnp.max(logits))
            w = e / jnp.sum(e)
        else:
            w = jax.nn.softmax(logits)
        return w * (1.0 if self.sum_to == "one" else losses.shape[0])

    def update(self, state: WeightState, term_grads, term_losses, step) -> WeightState:
        check_terms(term_losses, state.weights, "term_losses")
        names = list(state.weights)
        previous = state.memory["previous"]
        losses = jnp.stack([jnp.asarray(term_losses[n], previous[n].dtype) for n in names])
        w = self.balance(losses, jnp.stack([previous[n] for n in names]), state.hyper)
        seen = state.memory["updates"] > 0
        proposed = {n: jnp.where(seen, w[i], state.weights[n]) for i, n in enumerate(names)}
        memory = {"previous": {n: losses[i] for i, n in enumerate(names)}, "updates": state.memory["updates"] + 1}
        return hold_if_not_finite(state, proposed, memory)
