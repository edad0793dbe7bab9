"""The fixed-key Monte-Carlo counts behind CSG measures and rejection rates, counted on the host.

A CSG geometry's measure is ``|P| k / N`` (``geometry.measure``) and its rejection sampler is
sized by the acceptance ``k / N``: ``k`` of ``N`` uniform proposals from a region ``P`` landed
inside. A trimmed boundary patch likewise keeps ``k`` of its ``N`` proposals by rule (*) of
``geometry.base``. The counts ``k`` are made here:

* in NumPy (``geometry.arrays``): the shapes' samplers draw from a ``numpy.random.Generator``
  and their ``inside`` runs on NumPy arrays, so nothing is compiled (eagerly in JAX, each
  primitive of a new shape was one compile: ~30 s to build a box minus four disks on a busy core);
* from a fixed seed per count, ``(ESTIMATE_KEY, stream)``: stream 0 for the interior, ``i + 1``
  for patch ``i``, so a count is the same in every run, whichever counts were asked for before;
* in float32 (the default training dtype), so rule (*)'s band is float32's.

A sampler written with ``jax.random`` only (a user's shape) still works: it is drawn eagerly in
JAX from a key fixed the same way, which is slower as it compiles; likewise an ``inside`` that
returns a JAX array. ``Geometry`` caches each count on first use.

Example:
    >>> from pinnbalance.geometry import Disk
    >>> ring = Disk((0.0, 0.0), 1.0) - Disk((0.0, 0.0), 0.5)
    >>> k = count_inside(ring, ring.proposal().sample, 2**16)
    >>> abs(k / 2**16 - 0.75) < 0.01  # the ring is 3/4 of the outer disk, its proposal region
    True
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

ESTIMATE_KEY = 20260117  # Monte-Carlo measures and acceptances use one fixed seed: the same numbers every run


def generator(stream: int) -> np.random.Generator:
    """The host generator of count ``stream``: seeded by ``(ESTIMATE_KEY, stream)``."""
    return np.random.default_rng((ESTIMATE_KEY, stream))


def draw(sample, stream: int, n: int):
    """``sample(key, n, float32)`` with the host generator of ``stream``, as column-major NumPy array(s).

    A sampler that only takes JAX keys (it calls ``jax.random`` directly, which raises
    ``TypeError`` on a generator) is drawn eagerly in JAX from ``fold_in(PRNGKey(ESTIMATE_KEY), stream)``.
    """
    try:
        out = sample(generator(stream), n, np.float32)
    except TypeError:
        with jax.ensure_compile_time_eval():
            out = sample(jax.random.fold_in(jax.random.PRNGKey(ESTIMATE_KEY), stream), n, jnp.float32)
    # Column-major: shapes reduce over the short coordinate axis (sums of squares, all), which
    # NumPy does 20-100 times faster when each coordinate is one contiguous column.
    return jax.tree.map(lambda a: np.asfortranarray(np.asarray(a)), out)


def count_inside(geom, sample, n: int) -> int:
    """How many of ``n`` fixed-seed draws of ``sample`` (stream 0) lie in ``geom``."""
    points = draw(sample, 0, n)
    with jax.ensure_compile_time_eval():  # an ``inside`` written in jax.numpy, asked inside a trace
        return int(np.count_nonzero(np.asarray(geom.inside(points))))


def count_boundary(geom, patch, index: int, n: int) -> int:
    """How many of ``n`` fixed-seed draws on ``patch`` (stream ``index + 1``) are boundary of ``geom`` by rule (*)."""
    points, normals = draw(patch.propose, index + 1, n)
    with jax.ensure_compile_time_eval():
        return int(np.count_nonzero(np.asarray(geom.on_boundary(points, normals))))
