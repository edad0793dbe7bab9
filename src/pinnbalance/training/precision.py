"""A second-order phase's own precision: the state cast to the phase's dtype and back.

L-BFGS (``training.lbfgs``) and Levenberg-Marquardt (``lm.loop``) may run in float64 after a
float32 first phase: parameters, points and weights are cast up, and the parameters cast back
to the run's dtype afterwards. Integer leaves (step counters) and PRNG keys stay as they
are, so a cast tree keeps its structure and its counters.

Example:
    >>> import jax.numpy as jnp
    >>> tree = cast_floats({"w": jnp.ones(2, jnp.float32), "step": jnp.int32(3)}, jnp.float16)
    >>> tree["w"].dtype, tree["step"].dtype
    (dtype('float16'), dtype('int32'))
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def cast_floats(tree, dtype):
    """Every floating leaf of ``tree`` as ``dtype``; integer leaves (counters) stay."""
    return jax.tree_util.tree_map(lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree)
