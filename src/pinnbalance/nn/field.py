"""A network with its parameters bound: the field ``u(z)`` that residuals differentiate.

Architectures with a fast derivative path (``MLP``, ``PirateNet``) return a bound field from
``field(params)``; ``derivatives.taylor2``/``taylor1`` find its ``taylor2``/``taylor1`` methods
and push the derivative jets through the layers instead of nesting ``jvp``.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pinnbalance.nn import MLP
    >>> net = MLP((2, 8, 1))
    >>> u = BoundField(net, net.init(jax.random.PRNGKey(0)))
    >>> value, first = u.taylor1(jnp.array([0.1, 0.2]), jnp.eye(2))
    >>> bool(jnp.allclose(value, u(jnp.array([0.1, 0.2])))), first.shape
    (True, (2,))
"""

from __future__ import annotations

from dataclasses import dataclass

import jax

from pinnbalance.nn.dense import Layer


@dataclass(frozen=True)
class BoundField:
    """``network`` with ``params`` bound: callable as ``u(z)``, with the network's fast ``taylor2``/``taylor1``."""

    network: object
    params: list[Layer]

    def __call__(self, z: jax.Array) -> jax.Array:
        return self.network.apply(self.params, z)

    def taylor2(self, z: jax.Array, directions: jax.Array):
        return self.network.taylor2(self.params, z, directions)

    def taylor1(self, z: jax.Array, directions: jax.Array):
        return self.network.taylor1(self.params, z, directions)
