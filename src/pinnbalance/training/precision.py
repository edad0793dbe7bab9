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


def phase_dtype(settings, run_dtype):
    """The dtype a second-order phase computes in: ``settings.dtype`` (an ``LBFGS`` or
    ``LevenbergMarquardt``), or the run's (None); float64 needs 64-bit JAX."""
    if settings.dtype is None:
        return jnp.dtype(run_dtype)
    dtype = jnp.dtype(settings.dtype)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError(
            f"{type(settings).__name__}(dtype='float64') needs 64-bit JAX: jax.config.update('jax_enable_x64', True) before "
            "training, or dtype=None to run in the parameters' dtype"
        )
    return dtype


def cast_floats(tree, dtype):
    """Every floating leaf of ``tree`` as ``dtype``; integer leaves (counters) stay."""
    return jax.tree_util.tree_map(lambda x: x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x, tree)
