"""The two kinds of weighting scheme, and the one place the trainer reads what a scheme is.

- A **term scheme** (``TermScheme``) maps per-term statistics to one weight per term:
  ``init(term_names, dtype) -> WeightState``, ``needs_grads(step)`` (traceable: on which
  steps it wants the per-term gradients) and ``update(state, term_grads, term_losses, step
  [, stats])``. It may declare ``period`` (an int: it updates when ``step % period == 0``,
  which lets the trainer lay the schedule out statically) and ``statistics_needed`` (names
  of extra per-term statistics from ``pinnbalance.kernel``, e.g. the NTK traces, computed
  only on update steps and passed as ``stats``).
- A **point scheme** (``PointScheme``, ``per_point = True``) attaches a trainable weight to
  every collocation point (self-adaptive weights): ``init(term_names, dtype, sizes)``,
  ``point_mask(lam)`` (the factor of each point's squared residual) and ``ascend(state,
  lam_grads)`` (its own update from the gradient of the loss in the point weights).

``traits(scheme)`` reads these declarations once, when the trainer builds its step; an
attribute a scheme does not declare takes the default written in ``SchemeTraits``, so a
user's own scheme needs only the three methods of a term scheme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import jax

from pinnbalance.weighting.base import WeightState


@runtime_checkable
class TermScheme(Protocol):
    """Per-term weights from per-term statistics (see the module docstring)."""

    def init(self, term_names: tuple[str, ...], dtype=...) -> WeightState: ...

    def needs_grads(self, step: jax.Array) -> jax.Array | bool: ...

    def update(self, state: WeightState, term_grads: Mapping, term_losses: Mapping, step: jax.Array) -> WeightState: ...


WeightingScheme = TermScheme  # the name pinnbalance.WeightingScheme has always had: the same protocol, declared once


@runtime_checkable
class PointScheme(Protocol):
    """A trainable weight per collocation point (see the module docstring)."""

    per_point: bool

    def init(self, term_names: tuple[str, ...], dtype=..., sizes: Mapping[str, int] | None = None) -> WeightState: ...

    def point_mask(self, lam: jax.Array) -> jax.Array: ...

    def ascend(self, state: WeightState, lam_grads: Mapping[str, jax.Array]) -> WeightState: ...


@dataclass(frozen=True)
class SchemeTraits:
    """What the trainer needs to know of a scheme to build its step.

    ``per_point``: a point scheme; ``period``: the declared update period (None: irregular
    or unknown, asked step by step through ``needs_grads``); ``statistics``: the extra
    per-term statistics its update takes.
    """

    per_point: bool = False
    period: int | None = None
    statistics: tuple[str, ...] = ()


def traits(scheme) -> SchemeTraits:
    """The declared traits of ``scheme`` (defaults for what it does not declare)."""
    period = getattr(scheme, "period", None)
    return SchemeTraits(
        per_point=bool(getattr(scheme, "per_point", False)),
        period=period if isinstance(period, int) and not isinstance(period, bool) else None,
        statistics=tuple(getattr(scheme, "statistics_needed", ())),
    )


def per_point(scheme) -> bool:
    """Whether ``scheme`` is a point scheme."""
    return traits(scheme).per_point


def update_period(scheme) -> int | None:
    """The update period ``scheme`` declares, or None."""
    return traits(scheme).period


def cheap_update(scheme) -> bool:
    """A term scheme whose update needs no extra statistics (so computing it on every step
    and keeping it only on update steps costs little)."""
    t = traits(scheme)
    return not t.per_point and not t.statistics
