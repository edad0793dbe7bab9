"""The interface every weighting scheme follows, in the manner of optax.

A scheme is a frozen description with two pure functions:

- ``init(term_names) -> WeightState``: the starting weights (and any buffers);
- ``update(state, term_grads, term_losses, step) -> WeightState``: new weights from
  per-term statistics; it sees each term's gradient pytree and loss, never the model,
  the trainer or the configuration.

and ``needs_grads(step) -> bool`` (traceable) saying on which steps ``update`` wants the
per-term gradients; the trainer computes them only then and reuses them for the
parameter update of that step. ``update`` is called on those steps only: a scheme whose
``needs_grads`` is the Python constant ``False`` is never updated.

Schemes that remember something between updates (previous losses, a call count) keep it
in ``WeightState.memory``, a pytree whose structure ``init`` fixes once and ``update``
never changes (the state is carried through ``lax.scan``/``lax.cond``).

The protocol itself, ``TermScheme`` (also exported as ``WeightingScheme``), and the point
schemes' ``PointScheme`` are declared in ``weighting.interface``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import jax
import jax.numpy as jnp


class WeightState(NamedTuple):
    """Current loss weights ``{term: scalar}``, the count of held (non-finite) updates, the
    scheme's ``memory`` between updates (``{}``, no leaves, for memoryless schemes), and its
    hyperparameters as arrays (``hyper``, see ``weighting.hyper``): the values ``update``
    computes with, so runs that differ only in them are one vmapped state."""

    weights: dict[str, jax.Array]
    held: jax.Array
    memory: dict = {}  # never mutated: updates build new dicts
    hyper: dict = {}


def initial_state(term_names, initial: Mapping[str, float], dtype=jnp.float32, hyper=None) -> WeightState:
    """A ``WeightState`` holding ``initial[name]`` (default 1) for every term, and ``hyper``."""
    return WeightState(
        weights={name: jnp.asarray(initial.get(name, 1.0), dtype) for name in term_names},
        held=jnp.zeros((), jnp.int32),
        hyper={} if hyper is None else hyper,
    )


def hold_if_not_finite(old: WeightState, proposed: Mapping[str, jax.Array], memory=None) -> WeightState:
    """Take ``proposed`` weights (and ``memory``) only if all are finite; otherwise keep ``old`` and count it.

    ``memory`` defaults to ``old.memory``; when given it must have the structure of
    ``old.memory``, and its leaves count in the finiteness test too (a non-finite loss
    is not remembered). Results keep the dtypes of ``old``, so the state can be carried
    through ``lax.scan`` unchanged in structure.
    """
    memory = old.memory if memory is None else memory
    values = [*proposed.values(), *jax.tree_util.tree_leaves(memory)]
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in values]))
    keep = lambda new, prev: jnp.where(finite, new, prev).astype(jnp.result_type(prev))
    weights = {name: keep(proposed[name], w) for name, w in old.weights.items()}
    memory = jax.tree_util.tree_map(keep, memory, old.memory)
    return WeightState(weights, old.held + (~finite).astype(jnp.int32), memory, old.hyper)
