"""``training.precision.cast_floats``: the one cast both second-order phases use."""

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.training.precision import cast_floats


def test_floats_are_cast_and_counters_and_keys_stay():
    x = np.float32(0.1)  # not a float64 number: the way up is exact, the way back recovers it
    tree = {"w": jnp.full((2, 3), x), "b": [jnp.float32(-2.5)], "step": jnp.int32(7), "key": jax.random.key(0)}
    up = cast_floats(tree, jnp.float64)
    assert up["w"].dtype == jnp.float64 and up["b"][0].dtype == jnp.float64
    assert float(up["w"][0, 0]) == float(x) != 0.1  # float32's 0.1, widened exactly
    assert up["step"].dtype == jnp.int32 and int(up["step"]) == 7 and up["key"] is tree["key"]
    back = cast_floats(up, jnp.float32)
    assert jax.tree_util.tree_structure(back) == jax.tree_util.tree_structure(tree)
    assert back["w"].dtype == jnp.float32 and bool(jnp.all(back["w"] == tree["w"]))
