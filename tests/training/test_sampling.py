"""Fixed-collocation sampling: the same points every step, redrawn every N steps if asked."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import klein_gordon, mlp_for
from pinnbalance.training import TrainConfig
from pinnbalance.training.fit import initial_state
from pinnbalance.training.sampling import Sampling
from pinnbalance.training.step import make_steps
from pinnbalance.weighting import Constant


def batches_seen(sampling, steps):
    """The batch each step trains on, read back through the state's points."""
    problem = klein_gordon(batch_size=4)
    seen = []
    points = sampling.initial_points(problem, jax.random.PRNGKey(0))
    key = jax.random.PRNGKey(1)
    for step in range(steps):
        key, sub = jax.random.split(key)
        batch, points = sampling.batch(problem, points, sub, jnp.asarray(step))
        seen.append(np.asarray(batch["res"]))
    return seen


def test_fixed_points_do_not_change():
    seen = batches_seen(Sampling("fixed"), 4)
    for b in seen[1:]:
        np.testing.assert_array_equal(b, seen[0])


def test_fixed_points_are_redrawn_every_n_steps():
    seen = batches_seen(Sampling("fixed", resample_every=3), 7)
    same = [bool(np.array_equal(seen[i], seen[i - 1])) for i in range(1, 7)]
    assert same == [True, True, False, True, True, False]  # new sets at steps 3 and 6


def test_random_points_change_every_step():
    seen = batches_seen(Sampling("random"), 3)
    assert not np.array_equal(seen[0], seen[1])


def test_fixed_points_live_in_the_state_and_inside_the_domain():
    problem = klein_gordon(batch_size=16)
    net = mlp_for(problem.domain, (8,))
    config = TrainConfig(steps=3, sampling="fixed")
    import optax

    state = initial_state(problem, net, Constant(), optax.adam(1e-3), config, 5)
    assert set(state.points) == {"res", "ics", "bcs"} and state.points["bcs"].shape == (16, 2, 2)
    assert np.all(np.asarray(state.points["ics"])[:, 0] == 0.0)
    step, _ = make_steps(problem, net, Constant(), optax.adam(1e-3), sampling=config.sampling_spec())
    after = step(state)[0]
    for name in problem.term_names:
        np.testing.assert_array_equal(after.points[name], state.points[name])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"mode": "grid"}, "sampling mode"),
        ({"mode": "random", "resample_every": 5}, "fixed"),
        ({"mode": "fixed", "resample_every": 0}, "positive"),
    ],
)
def test_bad_sampling_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Sampling(**kwargs)
