"""The Levenberg-Marquardt phase stopped and resumed, with fresh points, and for several seeds
(float64, a one-dimensional fit by a small network: no derivatives, so it compiles fast)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from small_fit import fit_problem

import pinnbalance.training.lm_phase as phase
from pinnbalance import Constant, TrainConfig
from pinnbalance.lm import LevenbergMarquardt
from pinnbalance.losses import term_losses, weighted_sum
from pinnbalance.nn import mlp_for
from pinnbalance.training import fit_seeds
from pinnbalance.training.checkpoint import load_checkpoint, read_manifest, save_checkpoint
from pinnbalance.training.fit import Interrupted, fit, initial_states, train
from pinnbalance.training.lm_checkpoint import LMCheckpoint, resumed, template
from pinnbalance.training.lm_phase import lm_points

LM = LevenbergMarquardt(max_iters=20, log_every=5, step_tol=0.0, checkpoint_every=10)
CONFIG = TrainConfig(steps=0, lm=LM, dtype="float64", eval_grid=16, log_every=5, chunk_logs=1)


def setup():
    problem = fit_problem()
    return problem, mlp_for(problem.domain, (6,))


def assert_same(a, b):
    assert a.extra["lm"]["iterations"] == b.extra["lm"]["iterations"] and a.extra["lm"]["reason"] == b.extra["lm"]["reason"]
    assert a.extra["lm"]["rejected"] == b.extra["lm"]["rejected"]
    assert list(a.history) == list(b.history)
    for key in a.history:
        np.testing.assert_allclose(a.history[key], b.history[key], rtol=1e-12, atol=0, err_msg=key)
    for x, y in zip(jax.tree_util.tree_leaves(a.state), jax.tree_util.tree_leaves(b.state)):
        plain = lambda v: jax.random.key_data(v) if jax.dtypes.issubdtype(v.dtype, jax.dtypes.prng_key) else v  # noqa: E731
        np.testing.assert_allclose(np.asarray(plain(x)), np.asarray(plain(y)), rtol=1e-12, atol=0)


def test_stopped_after_10_iterations_and_resumed_through_a_checkpoint_file_equals_20_straight(tmp_path, stop_in_lm_phase):
    """20 iterations straight == 10, a stop (the loop's signal path), the checkpoint written to
    and read back from a file, then 10 more: damping, nu, iteration count, points, history."""
    problem, net = setup()
    straight = fit(problem, net, Constant(), CONFIG, progress=False)
    assert straight.extra["lm"]["iterations"] == 20 and straight.extra["lm"]["reason"] == "max_iters"

    stop = stop_in_lm_phase(10)
    with pytest.raises(Interrupted) as err:
        train(problem, net, [(Constant(), CONFIG)], progress=False, callbacks=[stop])
    assert err.value.step == 10 and err.value.results[0].extra["lm"]["iterations"] == 10
    state, records, step = stop.saved
    meta = {"step": step, "config": {"lm": dataclasses.asdict(LM), "train": {"steps": 0}}, "phase": "lm"}
    save_checkpoint(tmp_path / "c.npz", state, records, meta)
    blank = initial_states(problem, net, [(Constant(), CONFIG)], stacked=False)
    manifest = read_manifest(tmp_path / "c.npz")
    loaded = load_checkpoint(tmp_path / "c.npz", template(blank, problem, net, manifest, runs=None))
    start = resumed(*loaded, meta["config"])
    assert isinstance(start.state, LMCheckpoint) and start.steps_done == 10
    assert int(start.state.lm.iteration) == 10 and float(start.state.lm.damping) == float(state.lm.damping)
    [again] = train(problem, net, [(Constant(), CONFIG)], progress=False, start=start)
    assert_same(again, straight)
    np.testing.assert_array_equal(again.history["step"], [5, 10, 15, 20])


def test_a_changed_lm_section_goes_on_from_the_first_phase_end_instead(stop_in_lm_phase):
    """A checkpoint of the LM phase resumed with other [lm] settings (here the damping) restarts
    the phase from the state that entered it, with the history before it."""
    problem, net = setup()
    stop = stop_in_lm_phase(10)
    with pytest.raises(Interrupted):
        train(problem, net, [(Constant(), CONFIG)], progress=False, callbacks=[stop])
    state, records, step = stop.saved
    saved = {"step": step, "config": {"lm": dataclasses.asdict(LM), "train": {"steps": 0}}}
    other = {"lm": {**saved["config"]["lm"], "damping": 1.0}, "train": {"steps": 0}}
    start = resumed(state, records, saved, other)
    assert start.steps_done == 0 and not isinstance(start.state, LMCheckpoint) and records["step"].shape == (2,)
    assert start.records["step"].shape == (0,)
    grown = {"lm": {**saved["config"]["lm"], "max_iters": 40}, "train": {"steps": 0}}  # max_iters may change
    assert isinstance(resumed(state, records, saved, grown).state, LMCheckpoint)


def test_resampling_draws_fresh_points_and_reevaluates_the_loss_there():
    """With resample_every = 5 the phase's points after 20 iterations are the 3rd fresh draw, the
    final loss is the weighted loss on them, and the run differs from the fixed-point one."""
    problem, net = setup()
    config = dataclasses.replace(CONFIG, lm=dataclasses.replace(LM, resample_every=5))
    fixed = fit(problem, net, Constant(), CONFIG, progress=False)
    fresh = fit(problem, net, Constant(), config, progress=False)
    assert fresh.extra["lm"]["iterations"] == 20
    first = lm_points(problem, fresh.state, config.lm, jnp.float64, draw=0)
    last = lm_points(problem, fresh.state, config.lm, jnp.float64, draw=3)
    assert not np.allclose(first["res"], last["res"])
    weights = fresh.state.weights.weights
    on_last = float(weighted_sum(term_losses(problem, net, fresh.params, last), weights))
    total = sum(fresh.history[f"loss_{n}"][-1] * 1.0 for n in problem.term_names)  # Constant: unit weights
    np.testing.assert_allclose(on_last, total, rtol=1e-10)
    assert not np.allclose(fixed.history["loss_res"], fresh.history["loss_res"])


def test_three_seeds_compile_the_phase_once_and_each_equals_its_run_alone(monkeypatch):
    problem, net = setup()
    built = []
    original = phase.lm_programs
    monkeypatch.setattr(phase, "lm_programs", lambda *a: built.append(original(*a)) or built[-1])
    together = fit_seeds(problem, net, Constant(), CONFIG, [1, 2, 3], progress=False)
    assert len(built) == 1 and built[0].chunk._cache_size() == 1 and built[0].init._cache_size() == 1
    for seed, res in zip([1, 2, 3], together):
        alone = fit(problem, net, Constant(), dataclasses.replace(CONFIG, seed=seed), progress=False)
        assert_same(res, alone)
    assert len({float(r.history["loss_res"][-1]) for r in together}) == 3  # the seeds differ
