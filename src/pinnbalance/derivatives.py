"""Pointwise derivatives of a scalar field with respect to its physical coordinates.

A field is any function ``u(z) -> scalar`` of one point ``z`` of shape ``(d,)``. Input
normalisation lives inside the network, so differentiating ``u`` with respect to ``z``
already applies the chain rule (the 1/sigma factors): every derivative here is with
respect to the physical coordinates.

Second derivatives along one axis use forward mode twice (``jvp`` of ``jvp``): one
forward sweep carries u, its first and its second directional derivative together,
which is cheaper than reverse-over-reverse for a scalar output and a few directions.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

Field = Callable[[jax.Array], jax.Array]


def unit(z: jax.Array, axis: int) -> jax.Array:
    """The unit vector along ``axis`` with the shape and dtype of ``z``."""
    return jnp.zeros_like(z).at[axis].set(1)


def directional(u: Field, z: jax.Array, v: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(u, Du.v, D^2u[v, v])`` at ``z`` in one forward-mode sweep.

    Example:
        >>> import jax.numpy as jnp
        >>> u = lambda z: z[0] ** 3
        >>> [float(a) for a in directional(u, jnp.array([2.0]), jnp.array([1.0]))]
        [8.0, 12.0, 12.0]
    """

    def first(y):
        return jax.jvp(u, (y,), (v,))

    (value, d1), (_, d2) = jax.jvp(first, (z,), (v,))
    return value, d1, d2


def partial(u: Field, z: jax.Array, axis: int) -> jax.Array:
    """First partial derivative ``du/dz_axis`` at ``z`` (forward mode)."""
    return jax.jvp(u, (z,), (unit(z, axis),))[1]


def second_partial(u: Field, z: jax.Array, axis: int) -> jax.Array:
    """Pure second partial derivative ``d^2u/dz_axis^2`` at ``z`` (forward over forward)."""
    return directional(u, z, unit(z, axis))[2]


def value_and_axis_derivatives(u: Field, z: jax.Array, axis: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(u, du/dz_axis, d^2u/dz_axis^2)`` at ``z`` in one sweep."""
    return directional(u, z, unit(z, axis))


def gradient(u: Field, z: jax.Array) -> jax.Array:
    """Full gradient ``du/dz`` at ``z`` (reverse mode: one sweep for all d inputs)."""
    return jax.grad(u)(z)


def laplacian(u: Field, z: jax.Array) -> jax.Array:
    """Sum of pure second partials at ``z``."""
    return sum(second_partial(u, z, i) for i in range(z.shape[-1]))


def at_points(fn: Callable[[jax.Array], jax.Array], points: jax.Array) -> jax.Array:
    """Apply a pointwise function to every row of ``points`` (``vmap`` over the first axis).

    Example:
        >>> import jax.numpy as jnp
        >>> u = lambda z: z[0] * z[1] ** 2
        >>> at_points(lambda z: second_partial(u, z, 1), jnp.array([[1.0, 0.0], [3.0, 5.0]]))
        Array([2., 6.], dtype=float32)
    """
    return jax.vmap(fn)(points)
