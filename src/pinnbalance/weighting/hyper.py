"""A weighting scheme's hyperparameters as leaves of its state.

A scheme names the float fields its ``update`` computes with in ``hyperparameters`` (e.g.
``("beta", "eps")``); ``init`` stores them in ``WeightState.hyper`` as arrays of the run's
dtype and ``update`` reads them from there, never from the scheme object. The scheme object
then holds only the program's structure (statistics, period, ...), and runs that differ only
in hyperparameter values are one vmapped state in one compiled program (``fit_runs``).

An EMA weight ``beta`` (``ema_weights``) also gets its complement ``1 - beta``, computed in
double precision when the state is made: ``beta * old + (1 - beta) * new`` then rounds in
float32 exactly as with the Python float the scheme was given (a float32 ``1 - beta``
would not).

Example:
    >>> import jax.numpy as jnp
    >>> from pinnbalance.weighting import LearningRateAnnealing
    >>> {k: round(float(v), 3) for k, v in hyper_leaves(LearningRateAnnealing(beta=0.8), jnp.float32).items()}
    {'beta': 0.8, 'eps': 0.0, '1-beta': 0.2}
"""

from __future__ import annotations

import jax.numpy as jnp


def hyperparameters(scheme) -> tuple[str, ...]:
    """The names of ``scheme``'s hyperparameters (none if it declares none)."""
    return tuple(getattr(scheme, "hyperparameters", ()))


def hyper_leaves(scheme, dtype) -> dict:
    """``{name: array}`` of ``scheme``'s hyperparameters (and EMA complements) in ``dtype``."""
    leaves = {name: jnp.asarray(getattr(scheme, name), dtype) for name in hyperparameters(scheme)}
    for name in getattr(scheme, "ema_weights", ()):
        leaves[f"1-{name}"] = jnp.asarray(1.0 - float(getattr(scheme, name)), dtype)
    return leaves


def ema_of(state, old, proposal, name: str):
    """``beta * old + (1 - beta) * proposal`` with the EMA weight ``name`` of ``state.hyper``."""
    beta, complement = state.hyper[name], state.hyper[f"1-{name}"]
    return {k: beta * old[k] + complement * proposal[k] for k in proposal}
