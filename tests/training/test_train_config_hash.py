"""``TrainConfig`` hashes (its ``optimizer_options`` is a dict): equal settings hash equal, so
configurations can be set members, dict keys and static arguments of ``jax.jit``."""

import dataclasses

import jax
import jax.numpy as jnp

from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.training import TrainConfig
from pinnbalance.training.lbfgs import LBFGS


def test_equal_configs_hash_equal_whatever_the_order_of_their_options():
    a = TrainConfig(optimizer_name="adamw", optimizer_options={"weight_decay": 1e-4, "b1": 0.9})
    b = TrainConfig(optimizer_name="adamw", optimizer_options={"b1": 0.9, "weight_decay": 1e-4})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.optimizer_options == {"weight_decay": 1e-4, "b1": 0.9}  # the constructor's dict, kept as given
    c = dataclasses.replace(a, optimizer_options={"weight_decay": 1e-3, "b1": 0.9})
    assert c != a and len({a, b, c}) == 2 and {a: "first"}[b] == "first"


def test_configs_with_phases_hash():
    phases = dict(lbfgs=LBFGS(weights={"bcs": 10.0, "ics": 2.0}), lm=LevenbergMarquardt(weights={"res": 1.0}))
    a = TrainConfig(optimizer_name="sgd", optimizer_options={"momentum": 0.9}, **phases)
    b = TrainConfig(optimizer_name="sgd", optimizer_options={"momentum": 0.9}, **phases)
    assert hash(a) == hash(b)
    assert hash(LBFGS(weights={"bcs": 10.0, "ics": 2.0})) == hash(LBFGS(weights={"ics": 2.0, "bcs": 10.0}))
    assert a != dataclasses.replace(a, lbfgs=LBFGS(weights={"bcs": 10.0}))


def test_a_config_is_a_static_argument_of_jit():
    calls = []

    def scaled(x, config):
        calls.append(config)  # runs once per trace
        return x * config.learning_rate

    scaled = jax.jit(scaled, static_argnums=1)
    a = TrainConfig(learning_rate=0.5, optimizer_name="adamw", optimizer_options={"weight_decay": 0.1})
    b = TrainConfig(learning_rate=0.5, optimizer_name="adamw", optimizer_options={"weight_decay": 0.1})
    assert float(scaled(jnp.float64(2.0), a)) == 1.0 and float(scaled(jnp.float64(2.0), b)) == 1.0
    assert len(calls) == 1  # b equals a: the compiled program is reused
