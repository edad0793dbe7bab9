"""Rejection sampling with FIXED shapes, so it runs under ``jit`` and ``vmap``.

Draw ``m`` candidates (a static number), mark the ones to keep, and take the first ``n``
kept in draw order with ``jnp.nonzero(keep, size=n)``. The candidates are i.i.d., and which
ones are taken depends only on the marks, so the taken points are i.i.d. from the target.

How many candidates: with acceptance probability ``p`` the number landed is Binomial(m, p),
of mean ``m p`` and standard deviation below ``sqrt(m p)``. Asking the mean to exceed ``n``
by ``z = 6`` standard deviations,

    m p - z sqrt(m p) >= n   <=>   m = ceil(s^2 / p),   s = (z + sqrt(z^2 + 4 n)) / 2,

so the oversample factor is ``m / n ~ (1 + z / sqrt(n)) / p``: 1.2 / p for n = 1000,
1.06 / p for n = 10 000. ``p`` is a Monte-Carlo estimate; a 4-standard-error safety margin
is taken off it first (``safe_acceptance``). A shortfall then has probability ~1e-9.

If fewer than ``n`` land anyway: outside a trace ``TooFewPointsError`` is raised; under
``jit``/``vmap`` the missing rows are NaN, so a loss built on them is NaN and the training
loop's first-non-finite record names the term (failures are data inside jit).

Example:
    >>> import jax, jax.numpy as jnp
    >>> candidates = jnp.arange(10.0)[:, None]
    >>> take_first(candidates, candidates[:, 0] % 3 == 0, 3)[0][:, 0].tolist()
    [0.0, 3.0, 6.0]
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from pinnbalance.geometry.errors import TooFewPointsError

Z_SIGMAS = 6.0


def candidates_needed(n: int, acceptance: float, z: float = Z_SIGMAS) -> int:
    """``m = ceil(s^2 / p)`` with ``s = (z + sqrt(z^2 + 4 n)) / 2`` (module docstring); ``n`` when ``p = 1``."""
    if acceptance >= 1.0:
        return n
    if acceptance <= 0.0:
        raise TooFewPointsError("rejection sampling with acceptance 0: no candidate can land; the region is empty")
    s = (z + math.sqrt(z * z + 4.0 * n)) / 2.0
    return max(n, math.ceil(s * s / acceptance))


def safe_acceptance(landed: int, samples: int, sigmas: float = 4.0) -> float:
    """A lower confidence bound on the acceptance ``p = landed / samples``: ``p - sigmas * se``, at least ``p / 2``."""
    p = landed / samples
    return max(p - sigmas * math.sqrt(p * (1.0 - p) / samples), p / 2.0)


def take_first(candidates: jax.Array, keep: jax.Array, n: int) -> tuple[jax.Array, jax.Array]:
    """The first ``n`` rows of ``candidates`` where ``keep`` holds, and how many were kept.

    Rows past the number kept are NaN (see the module docstring). Shapes are fixed:
    ``candidates`` is ``(m, k)``, ``keep`` is ``(m,)``, the result ``(n, k)``.
    """
    index = jnp.nonzero(keep, size=n, fill_value=0)[0]
    landed = jnp.sum(keep)
    taken = candidates[index]
    valid = jnp.arange(n) < landed
    return jnp.where(valid[:, None], taken, jnp.nan), landed


def check_landed(landed: jax.Array, n: int, what: str, candidates: int) -> None:
    """Raise ``TooFewPointsError`` when fewer than ``n`` landed, unless traced (then NaN rows flag it)."""
    if isinstance(landed, jax.core.Tracer):
        return
    if int(landed) < n:
        raise TooFewPointsError(
            f"{what}: only {int(landed)} of {candidates} candidates landed, {n} were asked for; "
            f"pass a larger oversample= factor (now {candidates / n:.2f})"
        )
