"""The interface every weighting scheme follows, in the manner of optax.

A scheme is a frozen description with two pure functions:

- ``init(term_names) -> WeightState``: the starting weights (and any buffers);
- ``update(state, term_grads, term_losses, step) -> WeightState``: new weights from
  per-term statistics; it sees each term's gradient pytree and loss, never the model,
  the trainer or the configuration.

and ``needs_grads(step) -> bool`` (traceable) saying on which steps ``update`` wants the
per-term gradients; the trainer computes them only then and reuses them for the
parameter update of that step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol

import jax
import jax.numpy as jnp


class WeightState(NamedTuple):
    """Current loss weights ``{term: scalar}`` plus the count of held (non-finite) updates."""

    weights: dict[str, jax.Array]
    held: jax.Array


class WeightingScheme(Protocol):
    def init(self, term_names: tuple[str, ...], dtype=jnp.float32) -> WeightState: ...

    def needs_grads(self, step: jax.Array) -> jax.Array | bool: ...

    def update(
        self,
        state: WeightState,
        term_grads: Mapping[str, object],
        term_losses: Mapping[str, jax.Array],
        step: jax.Array,
    ) -> WeightState: ...


def initial_state(term_names, initial: Mapping[str, float], dtype=jnp.float32) -> WeightState:
    """A ``WeightState`` holding ``initial[name]`` (default 1) for every term."""
    return WeightState(
        weights={name: jnp.asarray(initial.get(name, 1.0), dtype) for name in term_names},
        held=jnp.zeros((), jnp.int32),
    )


def hold_if_not_finite(old: WeightState, proposed: Mapping[str, jax.Array]) -> WeightState:
    """Take ``proposed`` weights only if all are finite; otherwise keep ``old`` and count it."""
    finite = jnp.all(jnp.stack([jnp.isfinite(w) for w in proposed.values()]))
    weights = {name: jnp.where(finite, proposed[name], w) for name, w in old.weights.items()}
    return WeightState(weights, old.held + (~finite).astype(jnp.int32))
