"""Clipping weights to a range ``[w_min, w_max]``.

    w_i <- min(max(w_i, w_min), w_max)

Either bound may be None (open on that side). Only finite weights are clipped: NaN and
+-inf pass unchanged, so that ``hold_if_not_finite`` still sees them and holds the update
(clipping never turns a failed statistic into a bound).

Example:
    >>> import jax.numpy as jnp
    >>> {k: float(v) for k, v in clip_weights({"ics": jnp.array(500.0)}, None, 100.0).items()}
    {'ics': 100.0}
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp


def clip_weights(
    weights: Mapping[str, jax.Array], w_min: float | None = None, w_max: float | None = None
) -> dict[str, jax.Array]:
    """Each finite weight clipped to ``[w_min, w_max]``; None leaves that side open; non-finite ones pass unchanged."""
    if w_min is None and w_max is None:
        return dict(weights)
    return {name: jnp.where(jnp.isfinite(w), jnp.clip(w, min=w_min, max=w_max), w) for name, w in weights.items()}


def check_bounds(w_min: float | None, w_max: float | None) -> None:
    """Raise a ``ValueError`` unless each bound is None or a finite number, ``w_min >= 0`` and ``w_min <= w_max``."""
    for field, value in (("w_min", w_min), ("w_max", w_max)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)):
            raise ValueError(f"{field} must be a finite number or None (no bound), got {value!r}")
    if w_min is not None and w_min < 0:
        raise ValueError(f"w_min must be >= 0 (weights are not negative), got {w_min}")
    if w_min is not None and w_max is not None and w_min > w_max:
        raise ValueError(f"w_min must be <= w_max, got w_min={w_min} > w_max={w_max}")
