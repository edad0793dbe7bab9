"""Every registered scheme fits the trainer's contract: pure, traceable, structure-stable."""

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnbalance.weighting as weighting
from pinnbalance.weighting import SCHEMES, Constant, SelfAdaptive

NAMES = ("res", "ics", "bcs")


def grads(dtype):
    f = lambda a: jnp.asarray(a, dtype)
    return {
        "res": [{"W": f([[1, -2], [0.5, 3]]), "b": f([0.1, 0])}, {"W": f([[4], [-1]]), "b": f([0.2])}],
        "ics": [{"W": f([[0.1, -0.1], [0.1, 0.2]]), "b": f([1, 0])}, {"W": f([[1], [2]]), "b": f([0.0])}],
        "bcs": [{"W": f([[0.02, 0.03], [0.02, 0.01]]), "b": f([0, 1])}, {"W": f([[-0.04], [0.05]]), "b": f([1])}],
    }


def call(scheme, state, g, losses, step):
    """``scheme.update``, with the kernel statistics the trainer would pass if it declares any
    (here a stand-in NTK trace per term: the squared norm of its toy gradient)."""
    if getattr(scheme, "statistics_needed", ()):
        traces = {n: sum(jnp.sum(x**2) for x in jax.tree_util.tree_leaves(g[n])) for n in g}
        return scheme.update(state, g, losses, step, {"ntk_mean_diagonal": traces})
    return scheme.update(state, g, losses, step)


def structure(state):
    return jax.tree_util.tree_structure(state), [(x.shape, x.dtype) for x in jax.tree_util.tree_leaves(state)]


def test_registry_names_match_the_classes():
    assert set(SCHEMES) == {
        "constant",
        "lr-annealing",
        "grad-norm",
        "grad-norm-2026",
        "softadapt",
        "relobralo",
        "ntk",
        "self-adaptive",
    }
    for name, cls in SCHEMES.items():
        assert cls.name == name
        assert cls.__name__ in weighting.__all__


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_scheme_runs_inside_jit_scan_and_cond_in_float32(name):
    """The trainer carries the WeightState through lax.scan and asks needs_grads through
    lax.cond: updates must keep the state's structure and dtypes, with a traced step."""
    scheme = SCHEMES[name]()
    state0 = scheme.init(NAMES, jnp.float32)
    g = grads(jnp.float32)

    def body(state, step):
        losses = {n: (1.0 + k) * jnp.exp(-0.01 * step.astype(jnp.float32)) for k, n in enumerate(NAMES)}
        new = jax.lax.cond(scheme.needs_grads(step), lambda s: call(scheme, s, g, losses, step), lambda s: s, state)
        return new, new.weights

    final, history = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(25, dtype=jnp.int32)))(state0)
    assert structure(final) == structure(state0)
    assert all(np.all(np.isfinite(np.asarray(w))) for w in history.values())
    assert int(final.held) == 0


def test_only_constant_and_per_point_weights_opt_out_of_statistic_updates():
    """Self-adaptive point weights move in their own ascent step, never through ``update``."""
    assert Constant().needs_grads(0) is False
    assert SelfAdaptive().needs_grads(0) is False and SelfAdaptive.per_point
    for cls in SCHEMES.values():
        if cls not in (Constant, SelfAdaptive):
            scheme = cls()
            assert scheme.needs_grads(0) is not False and isinstance(scheme.period, int)


@pytest.mark.parametrize("module", ["annealing", "clipping", "ema", "gradnorm", "ntk", "relobralo", "softadapt", "statistics"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"pinnbalance.weighting.{module}"))
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_vmap_over_runs_equals_a_loop_over_runs(name):
    """fit_seeds vmaps the whole state (and the step) over seeds."""
    scheme = SCHEMES[name]()
    g = grads(jnp.float64)
    runs = [({n: jnp.float64(1.0 + k + r) for k, n in enumerate(NAMES)}, jnp.int32(2 * r)) for r in range(3)]
    state = scheme.init(NAMES, jnp.float64)
    state = call(scheme, state, g, {n: jnp.float64(2.0) for n in NAMES}, 0)  # past the first (memory-filling) update
    loop = [call(scheme, state, g, losses, step) for losses, step in runs]
    stack = lambda xs: jax.tree_util.tree_map(lambda *a: jnp.stack(a), *xs)
    states = stack([state] * len(runs))
    batched = jax.vmap(lambda s, losses, step: call(scheme, s, g, losses, step))(
        states, stack([r[0] for r in runs]), stack([r[1] for r in runs])
    )
    for i, want in enumerate(loop):
        for n in NAMES:
            np.testing.assert_allclose(batched.weights[n][i], want.weights[n], rtol=1e-12)
