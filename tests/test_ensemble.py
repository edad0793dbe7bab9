"""Ensembles (``pinnbalance.ensemble``): the members' seeds, the mean and std of their
predictions, the errors, and the ``[ensemble]`` configuration.

The predictions are checked on members whose network is a constant: an MLP whose last layer
has zero weights and bias ``c_k`` outputs ``c_k`` everywhere, so the mean, the population std
and every error are hand-computable.
"""

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import config as cfg
from pinnbalance.ensemble import Ensemble, ensemble_errors, ensemble_prediction, member_seeds, spread, stack_params
from pinnbalance.nn import MLP
from pinnbalance.problems.base import Problem, Term
from pinnbalance.problems.domain import Box, uniform

BOX = Box((0.0, 0.0), (1.0, 1.0), ("x", "y"))
POINTS = jnp.asarray(np.random.default_rng(0).uniform(size=(7, 2)))


def _problem(components=("u", "v")):
    return Problem("toy", BOX, {"res": Term(lambda u, z: u(z), uniform(BOX))}, components=components, outputs=len(components))


def _constant_members(values):
    """Stacked params of MLPs (2 -> 3 -> c) that output the row ``values[k]`` everywhere."""
    net = MLP((2, 3, len(values[0])))
    members = []
    for c in values:
        hidden = {"W": jnp.ones((2, 3)), "b": jnp.zeros(3)}
        members.append([hidden, {"W": jnp.zeros((3, len(c))), "b": jnp.asarray(c, jnp.float64)}])
    return net, stack_params(members)


def test_member_seeds_follow_the_documented_rule():
    seeds = member_seeds(5, 4)
    words = np.random.SeedSequence(5).generate_state(4, dtype=np.uint32)
    assert seeds == tuple(int(w) & 0x7FFFFFFF for w in words)  # the low 31 bits: non-negative int32
    assert all(0 <= s < 2**31 for s in seeds) and len(set(seeds)) == 4
    assert member_seeds(5, 2) == seeds[:2]  # growing an ensemble keeps its first members
    assert member_seeds(6, 4) != seeds
    assert Ensemble(members=4, seed=5).seeds == seeds


def test_mean_and_population_std_of_constant_members():
    net, stacked = _constant_members([[1.0, 0.0], [2.0, 0.0], [4.0, 3.0]])
    mean, std = ensemble_prediction(_problem(), net, stacked, POINTS)
    assert mean.shape == std.shape == (7, 2)
    np.testing.assert_allclose(mean, np.tile([7 / 3, 1.0], (7, 1)), rtol=1e-14)
    # u: deviations -4/3, -1/3, 5/3 -> variance (16 + 1 + 25) / 27 = 14/9; v: -1, -1, 2 -> 6/3 = 2
    np.testing.assert_allclose(std, np.tile([math.sqrt(14 / 9), math.sqrt(2.0)], (7, 1)), rtol=1e-14)


def test_errors_of_the_mean_and_of_each_member_and_the_bias_variance_identity():
    net, stacked = _constant_members([[1.0, 0.0], [2.0, 0.0], [4.0, 3.0]])
    reference = np.tile([2.0, 1.0], (7, 1))
    errors = ensemble_errors(_problem(), net, stacked, POINTS, reference)
    # the mean (7/3, 1): u off by 1/3 of 2, v exact; jointly sqrt(1/9 / (4 + 1))
    assert errors["components"] == pytest.approx({"u": 1 / 6, "v": 0.0}, abs=1e-14)
    assert errors["l2re"] == pytest.approx(math.sqrt((1 / 9) / 5), rel=1e-13)
    # members: errors (-1, -1), (0, -1), (2, 2) against |r|^2 = 5 per point
    assert errors["member_l2re"] == pytest.approx([math.sqrt(2 / 5), math.sqrt(1 / 5), math.sqrt(8 / 5)], rel=1e-13)
    assert errors["member_components"]["u"] == pytest.approx([0.5, 0.0, 1.0], abs=1e-14)
    _, std = ensemble_prediction(_problem(), net, stacked, POINTS)
    s = spread(std, reference)
    assert s["spread"] == pytest.approx(math.sqrt(14 / 9 + 2.0), rel=1e-13)  # the same at every point
    # (1/K) sum_k l2re_k^2 = l2re(mean)^2 + relative_spread^2, exactly
    assert np.mean(np.square(errors["member_l2re"])) == pytest.approx(errors["l2re"] ** 2 + s["relative_spread"] ** 2, rel=1e-13)


def test_one_output_the_joint_error_is_the_relative_l2_error():
    net, stacked = _constant_members([[1.0], [3.0]])
    errors = ensemble_errors(_problem(("u",)), net, stacked, POINTS, np.full(7, 4.0))
    assert errors["l2re"] == pytest.approx(0.5, rel=1e-14) and errors["member_l2re"] == pytest.approx([0.75, 0.25], rel=1e-14)


def test_ensemble_section_expands_the_one_seed_and_writes_it_back():
    data = {"problem": {"name": "poisson-inverse"}, "train": {"seeds": [5]}, "ensemble": {"members": 3}}
    config = cfg.from_dict(data)
    assert config.seeds == member_seeds(5, 3) and config.ensemble == Ensemble(3, 5)
    d = config.to_dict()
    assert d["train"]["seeds"] == [5] and d["ensemble"] == {"members": 3}
    assert cfg.from_dict(d) == config  # the run folder's config.toml loads back to the same run
    assert config.train_config().seed == member_seeds(5, 3)[0]


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"ensemble": {"members": 1}},
            r"ensemble.members must be an integer >= 2 .* got 1; for one training leave \[ensemble\] out",
        ),
        (
            {"ensemble": {"members": 3}, "train": {"seeds": [1, 2]}},
            r"train.seeds = \[1, 2\], but .*ONE seed: set train.seeds = \[1\]",
        ),
        ({"ensemble": {}}, r"\[ensemble\] needs members = K"),
        ({"ensemble": {"member": 3}}, r"did you mean 'members'"),
        ({"ensemble": {"members": 3}, "train": {"seeds": [-1]}}, r"Ensemble.seed must be an integer >= 0"),
    ],
)
def test_bad_ensemble_sections_name_the_key_and_the_fix(data, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.from_dict({"problem": {"name": "poisson-inverse"}, **data})


def test_a_run_config_with_other_seeds_than_its_members_is_refused():
    config = cfg.from_dict({"problem": {"name": "poisson-inverse"}, "ensemble": {"members": 2}})
    with pytest.raises(cfg.ConfigError, match=r"seeds must be distinct, at least one \(\[ensemble\]: its members'\)"):
        dataclasses.replace(config, seeds=(1234,))
