"""Geometry samplers with the project's signature ``sample(key, n, dtype) -> (n, ...)``.

``interior_sampler(geom)`` gives points of shape ``(n, d)``. ``boundary_sampler(geom, piece)``
gives ``(n, 2 d)``: the point in the first ``d`` columns and its OUTWARD unit normal in the
last ``d``, so that a term's ``residual(u, point)`` receives both in one row and splits them
with ``split_normal``. A Neumann condition ``du/dn = g`` reads

    def neumann(u, point):
        x, n = split_normal(point)
        return jnp.dot(jax.grad(u)(x), n) - g(x)

Example:
    >>> import jax
    >>> from pinnbalance.geometry import Disk
    >>> sample = boundary_sampler(Disk((0.0, 0.0), 2.0))
    >>> rows = sample(jax.random.PRNGKey(0), 5)
    >>> x, n = split_normal(rows)
    >>> rows.shape, bool(jnp.allclose(x, 2.0 * n, atol=1e-6))
    ((5, 4), True)
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from pinnbalance.geometry.base import Geometry
from pinnbalance.geometry.errors import GeometryError


def interior_sampler(geom: Geometry, *, oversample: float | None = None):
    """``sample(key, n, dtype) -> (n, d)``: uniform interior points (``Geometry.sample_interior``)."""

    def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        return geom.sample_interior(key, n, dtype, oversample=oversample)

    return sample


def boundary_sampler(geom: Geometry, piece: str | Sequence[str] | None = None, *, oversample: float | None = None):
    """``sample(key, n, dtype) -> (n, 2 d)``: boundary points of ``piece`` (all if None) with their outward normals appended.

    An unknown piece name raises a ``KeyError`` listing the valid ones now, not at the first draw.
    """
    geom._select(piece)  # validate the name(s) eagerly

    def sample(key: jax.Array, n: int, dtype=jnp.float32) -> jax.Array:
        points, normals = geom.sample_boundary(key, n, dtype, piece, oversample=oversample)
        return jnp.concatenate([points, normals], axis=-1)

    return sample


def split_normal(point: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(x, n)`` from a boundary row ``(x_1..x_d, n_1..n_d)`` (or a batch of them, last axis split in half)."""
    width = point.shape[-1]
    if width % 2:
        raise GeometryError(f"a boundary point with its normal has an even number of entries (2 d), got {width}")
    return point[..., : width // 2], point[..., width // 2 :]
