"""Rectangular domains and the samplers that draw collocation points from them.

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
from dataclasses import dataclass

import jax
import jax.numpy as jnp

Sampler = Callable[[jax.Array, int, jnp.dtype], jax.Array]  # sample(key, n, dtype) -> (n, ...) points


@dataclass(frozen=True)
class Box:
    """An axis-aligned box ``prod_i [lower_i, upper_i]`` with named coordinates."""

    lower: tuple[float, ...]
    upper: tuple[float, ...]
    names: tuple[str, ...]

    def __post_init__(self):
        if not (len(self.lower) == len(self.upper) == len(self.names)):
            raise ValueError(
                f"Box needs one lower bound, one upper bound and one name per coordinate; got "
                f"{len(self.lower)} lower, {len(self.upper)} upper, {len(self.names)} names."
            )
        for name, lo, hi in zip(self.names, self.lower, self.upper):
            if not lo < hi:
                raise ValueError(f"Box coordinate {name!r}: lower bound {lo} must be below upper bound {hi}.")

    @property
    def dim(self) -> int:
        return len(self.names)

    def axis(self, name: str) -> int:
        """Index of the coordinate called ``name``."""
        if name not in self.names:
            raise KeyError(f"unknown coordinate {name!r}; this domain has {list(self.names)}")
        return self.names.index(name)

    def mean(self) -> tuple[float, ...]:
        """Mean of the uniform distribution on the box (per coordinate)."""
        return tuple((lo + hi) / 2 for lo, hi in zip(self.lower, self.upper))

    def std(self) -> tuple[float, ...]:
        """Standard deviation of the uniform distribution on the box: (hi - lo) / sqrt(12)."""
        return tuple((hi - lo) / 12**0.5 for lo, hi in zip(self.lower, self.upper))

    def grid(self, n: int, dtype=jnp.float32) -> jax.Array:
        """An ``n x ... x n`` uniform grid (endpoints included) as ``(n**dim, dim)`` points."""
        axes = [jnp.linspace(lo, hi, n, dtype=dtype) for lo, hi in zip(self.lower, self.upper)]
        mesh = jnp.meshgrid(*axes, indexing="ij")
        return jnp.stack([m.reshape(-1) for m in mesh], axis=-1)


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
