"""The training state: one pytree holding everything a step reads and writes."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from pinnbalance.weighting.base import WeightState


class TrainState(NamedTuple):
    """Parameters, optimizer state, loss weights, PRNG key, step counter and health.

    ``bad_step`` / ``bad_term`` hold the first step at which a term's loss or weight (or
    the parameter gradient, ``bad_term == len(terms)``) became non-finite; -1 while healthy.
    ``points`` is the fixed collocation set of fixed sampling (``{}`` when points are drawn
    fresh every step). ``causal`` is the eps schedule of causal weighting
    (``training.causal_schedule``: ``{"index", "since"}``; ``{}`` without it).
    """

    params: object
    opt_state: object
    weights: WeightState
    key: jax.Array
    step: jax.Array
    bad_step: jax.Array
    bad_term: jax.Array
    points: dict = {}
    causal: dict = {}


def initial_train_state(params, optimizer, weights: WeightState, key: jax.Array, points=None) -> TrainState:
    """The state before step 0."""
    minus_one = jnp.array(-1, jnp.int32)
    step = jnp.array(0, jnp.int32)
    return TrainState(params, optimizer.init(params), weights, key, step, minus_one, minus_one, {} if points is None else points)
