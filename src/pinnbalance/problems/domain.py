"""Samplers that draw collocation points from a domain (the domains themselves: ``pinnbalance.geometry``).

A sampler is a pure function ``sample(key, n, dtype) -> points`` of shape ``(n, ...)``;
one point is whatever the term's residual takes (a coordinate vector, or a small stack
of them when one term groups several boundary pieces). The trainer calls it every step
with three positional arguments:

- ``key``: a JAX PRNG key (a fresh one each step and term);
- ``n``: how many points, a Python int (the term's batch size; static in the compiled program);
- ``dtype``: the run's float dtype (``jnp.float32`` or ``jnp.float64``): draw in it.

``Term`` checks the signature when it is built, so a ``sample(key, n)`` without the dtype
is a clear ``TypeError`` there rather than a failure inside training. Your own sampler::

    def disk(key, n, dtype=jnp.float32):  # uniform in the unit disk
        k1, k2 = jax.random.split(key)
        r = jnp.sqrt(jax.random.uniform(k1, (n,), dtype))
        theta = 2 * jnp.pi * jax.random.uniform(k2, (n,), dtype)
        return jnp.stack([r * jnp.cos(theta), r * jnp.sin(theta)], axis=-1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

from pinnbalance.geometry.box import Box  # the box of ``pinnbalance.geometry``: one Box, with every geometry's methods

__all__ = ["Box", "Sampler", "stacked", "uniform"]

Sampler = Callable[[jax.Array, int, jnp.dtype], jax.Array]  # sample(key, n, dtype) -> (n, ...) points


def uniform(box: Box, fixed: dict[str, float] | None = None) -> Sampler:
    """Uniform points in ``box``, with the coordinates named in ``fixed`` held at a value.

    ``uniform(box)`` samples the interior; ``uniform(box, {"t": 0.0})`` the face t = 0.
    """
    fixed = dict(fixed or {})
    for name in fixed:
        box.axis(name)  # raises a clear KeyError on a wrong coordinate name
    lower = jnp.array([fixed.get(nm, lo) for nm, lo in zip(box.names, box.lower)])
    upper = jnp.array([fixed.get(nm, hi) for nm, hi in zip(box.names, box.upper)])

    def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        u01 = jax.random.uniform(key, (n, box.dim), dtype=dtype)
        return lower.astype(dtype) + (upper - lower).astype(dtype) * u01

    return sample


def stacked(samplers: Sequence[Sampler]) -> Sampler:
    """Independent draws from several samplers, stacked as points of shape ``(k, d)``.

    Used when one term (one weight) groups several pieces, e.g. the boundaries x = 0 and
    x = 1, each with its own independent batch of ``n`` points. The term's residual gets
    one ``(k, d)`` stack per point and must map the network over it, ``jax.vmap(u)(zs)``;
    ``u(zs)`` is refused (``problems.base.one_point_field``).
    """

    def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        keys = jax.random.split(key, len(samplers))
        return jnp.stack([s(k, n, dtype) for s, k in zip(samplers, keys)], axis=1)

    return sample
