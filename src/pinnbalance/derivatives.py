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


def taylor2(u: Field, z: jax.Array, directions: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(u, [Du.v_k]_k, [D^2u[v_k, v_k]]_k)`` for each row ``v_k`` of ``directions``.

    A field that knows a faster way (``u.taylor2(z, directions)``, e.g. an MLP pushing
    value, first and second derivatives through its layers as one stacked array) is asked
    for it; otherwise forward over forward mode is vmapped over the directions (the
    primal does not depend on the direction, so it is computed once).
    """
    fast = getattr(u, "taylor2", None)
    if fast is not None:
        return fast(z, directions)
    values, first, second = jax.vmap(lambda v: directional(u, z, v))(directions)
    return values[0], first, second


def taylor1(u: Field, z: jax.Array, directions: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(u, [Du.v_k]_k)`` for each row ``v_k`` of ``directions`` (a field's fast path if it has one)."""
    fast = getattr(u, "taylor1", None)
    if fast is not None:
        return fast(z, directions)
    values, first = jax.vmap(lambda v: jax.jvp(u, (z,), (v,)))(directions)
    return values[0], first


def axis_derivatives(u: Field, z: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(u, gradient, diagonal of the Hessian)`` at ``z`` along the coordinate axes, in one sweep.

    Example:
        >>> import jax.numpy as jnp
        >>> u = lambda z: z[0] ** 2 * z[1]
        >>> value, grad, diag = axis_derivatives(u, jnp.array([3.0, 2.0]))
        >>> float(value), grad.tolist(), diag.tolist()
        (18.0, [12.0, 9.0], [4.0, 0.0])
    """
    return taylor2(u, z, jnp.eye(z.shape[-1], dtype=z.dtype))


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
