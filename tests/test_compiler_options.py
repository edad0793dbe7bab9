"""The options training programs are compiled with: when they apply, and that they change
kernels, not numbers."""

import importlib

import jax
import numpy as np
import pytest

from pinnbalance import LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for
from pinnbalance.compiler_options import CPU_OPTIONS, ENV, compiler_options, supported

fit_module = importlib.import_module("pinnbalance.training.fit")  # the module, not the function it exports
program_module = importlib.import_module("pinnbalance.training.program")
NAME = next(iter(CPU_OPTIONS))


def test_cpu_options_apply_where_this_jaxlib_knows_them(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    expected = {n: v for n, v in CPU_OPTIONS.items() if supported(n, v)}
    assert compiler_options("cpu") == expected
    assert compiler_options("gpu") == {}  # a GPU compile gets XLA's defaults


def test_an_option_this_jaxlib_does_not_know_is_left_out():
    assert not supported("xla_cpu_no_such_option_anywhere", "")
    assert not supported(NAME, "not_an_enum_value")


@pytest.mark.parametrize("value", ["off", "OFF", "0", "no", "false"])
def test_turned_off_by_the_environment(monkeypatch, value):
    monkeypatch.setenv(ENV, value)
    assert compiler_options("cpu") == {}


def test_a_flag_the_user_set_wins(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("XLA_FLAGS", f"--xla_force_host_platform_device_count=1 --{NAME}=dot")
    assert NAME not in compiler_options("cpu")


def _chunk_text(problem, net, scheme, config):
    optimizer = config.optimizer()
    chunk = program_module.make_chunk(problem, net, scheme, optimizer, config, [0])
    state = fit_module.initial_state(problem, net, scheme, optimizer, config, 0)
    grid, exact = fit_module.evaluation_grid(problem, config.eval_grid, config.jnp_dtype)
    return chunk.lower(state, grid, exact, 1, 3).compile().as_text()


def test_the_training_program_is_compiled_with_them(monkeypatch):
    """With the option on, the chunk has no YNNPACK fusion; with XLA's defaults this jaxlib
    makes some (where it makes none by default, the option changes nothing to see)."""
    if not compiler_options("cpu"):
        pytest.fail(f"jaxlib {jax.__version__} does not know {NAME}: update CPU_OPTIONS for it")
    problem = klein_gordon(batch_size=16)
    net, scheme = mlp_for(problem.domain, (20, 20)), LearningRateAnnealing()
    config = TrainConfig(steps=3, log_every=3, eval_grid=10)
    ours = _chunk_text(problem, net, scheme, config)
    monkeypatch.setenv(ENV, "off")
    defaults = _chunk_text(problem, net, scheme, config)
    assert "ynn_fusion" not in ours
    assert "ynn_fusion" in defaults or ours == defaults


def test_same_training_with_and_without_them(monkeypatch):
    """The options pick other kernels for the same products: in float64 the trajectories
    agree to rounding (histories of losses, weights and L2 error)."""
    problem = klein_gordon(batch_size=32)
    net, scheme = mlp_for(problem.domain, (20, 20)), LearningRateAnnealing()
    config = TrainConfig(steps=60, log_every=10, eval_grid=20, dtype="float64")
    ours = fit(problem, net, scheme, config, progress=False)
    monkeypatch.setenv(ENV, "off")
    defaults = fit(problem, net, scheme, config, progress=False)
    for key in ("l2", "loss_res", "loss_ics", "loss_bcs", "weight_ics", "weight_bcs", "grad_norm_res"):
        np.testing.assert_allclose(ours.history[key], defaults.history[key], rtol=1e-9, err_msg=key)
