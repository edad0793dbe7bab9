"""Shape code written once for two array libraries: JAX for sampling, NumPy for the estimates.

A shape's ``inside(points)`` and its samplers ``sample(key, n, dtype)`` take their array
functions from ``namespace(points)`` and their random draws from the functions below, which
dispatch on the argument:

* a JAX array or PRNG key gives ``jax.numpy`` / ``jax.random``: traceable, so sampling runs
  inside the compiled training step and under ``vmap``;
* a NumPy array or a ``numpy.random.Generator`` gives NumPy: the fixed-key Monte-Carlo counts
  of CSG measures and acceptance rates (``geometry.estimate``) run on the host.

Why two: run eagerly, JAX compiles one small XLA program per primitive and shape, a third of
a second each on a busy core, and a box minus four disks needed ~70 of them (about 30 s) just
to be built; the same vectorised NumPy operations take milliseconds and compile nothing. On
the JAX side the draws are the calls the shapes made before, so sampled points are unchanged.

Example:
    >>> import numpy as np
    >>> points = uniform(np.random.default_rng(0), (4, 2), np.float32)
    >>> namespace(points) is np, points.dtype, points.shape
    (True, dtype('float32'), (4, 2))
"""

from __future__ import annotations

from types import ModuleType

import jax
import jax.numpy as jnp
import numpy as np


def is_host(x) -> bool:
    """Whether ``x`` (an array or a key) belongs to the NumPy side: a NumPy array or scalar, or a ``numpy.random.Generator``."""
    return isinstance(x, np.ndarray | np.generic | np.random.Generator)


def namespace(x) -> ModuleType:
    """``numpy`` for NumPy arrays and generators, else ``jax.numpy``."""
    return np if is_host(x) else jnp


def split(key, num: int = 2):
    """``num`` independent keys: ``jax.random.split``, or ``Generator.spawn`` on the host."""
    return tuple(key.spawn(num)) if is_host(key) else jax.random.split(key, num)


def uniform(key, shape: tuple[int, ...], dtype):
    """Uniform draws on ``[0, 1)`` of ``shape`` and ``dtype`` (float32 or float64 on the host)."""
    if is_host(key):
        return key.random(shape, dtype=np.dtype(dtype))
    return jax.random.uniform(key, shape, dtype)


def normal(key, shape: tuple[int, ...], dtype):
    """Standard normal draws of ``shape`` and ``dtype`` (float32 or float64 on the host)."""
    if is_host(key):
        return key.standard_normal(shape, dtype=np.dtype(dtype))
    return jax.random.normal(key, shape, dtype)


def categorical(key, weights: np.ndarray, n: int):
    """``n`` indices drawn with probability proportional to the positive ``weights`` (a NumPy vector)."""
    if is_host(key):
        return key.choice(len(weights), size=n, p=np.asarray(weights, np.float64) / np.sum(weights))
    return jax.random.categorical(key, jnp.log(jnp.asarray(weights, jnp.float32)), shape=(n,))
