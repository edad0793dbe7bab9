"""Constant weights: the standard PINN (method M1 with all weights 1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import jax.numpy as jnp

from pinnbalance.problems.base import check_names
from pinnbalance.weighting.base import WeightState, initial_state


@dataclass(frozen=True)
class Constant:
    """Fixed weights ``w_i`` (1 for every term not named in ``weights``).

    Example:
        >>> Constant({"bcs": 10.0}).init(("res", "ics", "bcs")).weights["bcs"]
        Array(10., dtype=float32, weak_type=True)
    """

    weights: Mapping[str, float] = field(default_factory=dict)
    name = "constant"

    def init(self, term_names, dtype=jnp.float32) -> WeightState:
        check_names(self.weights, term_names)
        return initial_state(term_names, self.weights, dtype)

    def needs_grads(self, step) -> bool:
        return False

    def update(self, state: WeightState, term_grads, term_losses, step) -> WeightState:
        return state
