"""Interior samplers that put a share of the points where the solution is hard: a band of a box.

A thin feature (Burgers' shock at x = 0, a boundary layer) holds few of the uniform points
that a PINN residual sees. ``mixture(base, extra, fraction)`` draws ``m = round(fraction n)``
of a batch of ``n`` from ``extra`` and the rest from ``base``; with ``base`` uniform on the
domain and ``extra`` uniform on a band ``B`` of measure ``|B|`` inside it, the density is

    p(z) = (1 - fraction) / |domain| + fraction 1_B(z) / |B|,

still positive everywhere (every region keeps its uniform share), ``fraction |domain| / |B|``
times higher inside the band. Shapes stay fixed (``m`` is a Python int), so it jits.

Example:
    >>> import jax
    >>> from pinnbalance.problems.domain import Box
    >>> box = Box((-1.0, 0.0), (1.0, 1.0), ("x", "t"))
    >>> sample = mixture(uniform(box), uniform(band(box, "x", -0.1, 0.1)), 0.25)
    >>> z = sample(jax.random.PRNGKey(0), 8)
    >>> z.shape, bool(jax.numpy.all(jax.numpy.abs(z[-2:, 0]) <= 0.1))  # the last round(0.25 * 8) = 2 rows in the band
    ((8, 2), True)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from pinnbalance.problems.domain import Box, Sampler, uniform

__all__ = ["band", "mixture", "uniform"]


def band(box: Box, name: str, lower: float, upper: float) -> Box:
    """``box`` with coordinate ``name`` restricted to ``[lower, upper]`` (which must lie inside it)."""
    axis = box.axis(name)
    if not box.lower[axis] <= lower < upper <= box.upper[axis]:
        raise ValueError(
            f"band({name!r}, {lower!r}, {upper!r}) must satisfy {box.lower[axis]} <= lower < upper <= {box.upper[axis]} "
            f"(inside the box along {name!r}); narrow the band"
        )
    lo, hi = list(box.lower), list(box.upper)
    lo[axis], hi[axis] = lower, upper
    return Box(tuple(lo), tuple(hi), box.names)


def mixture(base: Sampler, extra: Sampler, fraction: float) -> Sampler:
    """``round(fraction n)`` points from ``extra`` after ``n - round(fraction n)`` from ``base``; none from
    ``extra`` (``fraction`` 0, or ``n`` small): exactly ``base``'s points for the same key."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"mixture fraction must be in [0, 1) (the share drawn from the extra sampler), got {fraction!r}")

    def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        m = round(fraction * n)
        k1, k2 = jax.random.split(key)
        return jnp.concatenate([base(k1, n - m, dtype), extra(k2, m, dtype)]) if m else base(key, n, dtype)

    return sample
