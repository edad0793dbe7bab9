"""Exponential moving average with the convention written out.

    new = beta * old + (1 - beta) * proposal

``beta`` is the weight on the OLD value (optax, Wang et al. 2021 and jaxpi use this
convention; some papers call the same number 1 - beta). ``beta = 0`` takes the proposal,
``beta -> 1`` freezes the old value.

Example:
    >>> ema({"ics": 1.0}, {"ics": 11.0}, beta=0.75)
    {'ics': 3.5}
"""

from __future__ import annotations

import jax


def ema(old, proposal, beta):
    """``beta * old + (1 - beta) * proposal``, leaf by leaf over matching pytrees (dicts of weights, scalars)."""
    return jax.tree_util.tree_map(lambda o, p: beta * o + (1 - beta) * p, old, proposal)


def check_ema_weight(value: float, field: str = "beta") -> None:
    """Raise a ``ValueError`` unless ``0 <= value < 1`` (1 would never move from the initial value)."""
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"{field} (EMA weight on the old value: new = {field} * old + (1 - {field}) * proposal) "
            f"must be in [0, 1), got {value}"
        )
