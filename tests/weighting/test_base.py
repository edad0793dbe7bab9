"""WeightState (two-argument construction still works) and hold_if_not_finite with memory."""

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.weighting import WeightState, hold_if_not_finite


def state(dtype=jnp.float64):
    return WeightState({"res": jnp.asarray(1.0, dtype), "bcs": jnp.asarray(2.0, dtype)}, jnp.zeros((), jnp.int32))


def test_two_positional_fields_still_build_a_state_with_empty_memory():
    s = state()
    assert s.memory == {}
    assert len(jax.tree_util.tree_leaves(s)) == 3  # two weights and the held count: memory adds no leaf
    assert s._replace(held=s.held + 1).held == 1


def test_finite_proposal_is_taken():
    new = hold_if_not_finite(state(), {"res": 1.0, "bcs": 5.0})
    assert float(new.weights["bcs"]) == 5.0 and int(new.held) == 0 and new.memory == {}


def test_non_finite_proposal_is_held_and_counted():
    new = hold_if_not_finite(state(), {"res": 1.0, "bcs": jnp.inf})
    assert float(new.weights["bcs"]) == 2.0 and int(new.held) == 1


def test_memory_is_taken_with_finite_values_and_held_with_the_weights():
    old = state()._replace(memory={"previous": {"res": jnp.float64(3.0)}, "updates": jnp.int32(4)})
    taken = hold_if_not_finite(old, {"res": 1.0, "bcs": 5.0}, {"previous": {"res": jnp.float64(7.0)}, "updates": jnp.int32(5)})
    assert float(taken.memory["previous"]["res"]) == 7.0 and int(taken.memory["updates"]) == 5
    held = hold_if_not_finite(old, {"res": 1.0, "bcs": 5.0}, {"previous": {"res": jnp.float64(jnp.nan)}, "updates": jnp.int32(5)})
    assert int(held.held) == 1  # a non-finite remembered loss holds everything
    assert float(held.weights["bcs"]) == 2.0
    assert float(held.memory["previous"]["res"]) == 3.0 and int(held.memory["updates"]) == 4


def test_results_keep_the_state_dtypes():
    new = hold_if_not_finite(state(jnp.float32), {"res": jnp.float64(1.0), "bcs": jnp.float64(np.pi)})
    assert all(w.dtype == jnp.float32 for w in new.weights.values())
