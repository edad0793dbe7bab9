"""The tail of a term scheme's update as composable steps, in the manner of ``optax.chain``.

A term scheme proposes new weights ``lam_hat`` from its statistics; what happens next is the
same for every scheme and is composed, not rewritten in each ``update``:

    finish = chain(smooth("beta"), clip(w_min, w_max))      # then the non-finite hold
    return finish(state, lam_hat)

- ``smooth(name)``: ``beta * lam + (1 - beta) * lam_hat`` with the EMA weight ``name`` of the
  state's hyperparameters (``weighting.hyper``);
- ``clip(w_min, w_max)``: each finite weight into ``[w_min, w_max]`` (``weighting.clipping``);
- ``chain(*steps)``: the steps in order, then ``hold_if_not_finite``: the new weights (and
  ``memory``) are taken only if all are finite, else the old ones stay and the hold is counted.

A proposal may name only some terms (annealing leaves its reference term out): the others
keep their weights.

Example:
    >>> import jax.numpy as jnp
    >>> from pinnbalance.weighting import LearningRateAnnealing
    >>> state = LearningRateAnnealing(beta=0.5).init(("res", "bcs"), jnp.float64)
    >>> finish = chain(smooth("beta"), clip(None, 4.0))
    >>> {k: float(v) for k, v in finish(state, {"bcs": jnp.asarray(11.0)}).weights.items()}
    {'res': 1.0, 'bcs': 4.0}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pinnbalance.weighting.base import WeightState, hold_if_not_finite
from pinnbalance.weighting.clipping import clip_weights
from pinnbalance.weighting.hyper import ema_of

Step = Callable[[WeightState, Mapping], dict]  # (state, proposal) -> proposal


def smooth(name: str) -> Step:
    """EMA toward the proposal, with the EMA weight ``name`` of ``state.hyper``."""
    return lambda state, proposal: ema_of(state, state.weights, proposal, name)


def clip(w_min: float | None, w_max: float | None) -> Step:
    """Each finite proposed weight clipped to ``[w_min, w_max]`` (None: open on that side)."""
    return lambda state, proposal: clip_weights(proposal, w_min, w_max)


def chain(*steps: Step) -> Callable[..., WeightState]:
    """``finish(state, proposal, memory=None) -> WeightState``: ``steps`` in order, then the hold."""

    def finish(state: WeightState, proposal: Mapping, memory=None) -> WeightState:
        for step in steps:
            proposal = step(state, proposal)
        return hold_if_not_finite(state, {**state.weights, **proposal}, memory)

    return finish
