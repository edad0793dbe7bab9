"""Short trainings whose outcome still means something."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from pinnbalance import Constant, LearningRateAnnealing, TrainConfig, fit, klein_gordon, mlp_for
from pinnbalance.metrics import evaluation_losses, evaluation_set
from pinnbalance.problems import Problem, Term
from pinnbalance.training import DivergenceError, chunk_plan

SMALL = TrainConfig(steps=60, log_every=10, chunk_logs=2, eval_grid=20)


def small_run(scheme=None, config=SMALL, hidden=(16, 16), problem=None):
    problem = problem or klein_gordon(batch_size=32)
    return fit(problem, mlp_for(problem.domain, hidden), scheme or LearningRateAnnealing(), config, progress=False)


def test_chunk_plan_covers_every_step():
    assert chunk_plan(40_001, 100, 10) == [(10, 100)] * 40 + [(1, 1)]
    assert chunk_plan(65, 10, 2) == [(2, 10)] * 3 + [(1, 5)]
    for steps in (1, 7, 99, 100, 101, 1234):
        assert sum(n * b for n, b in chunk_plan(steps, 10, 3)) == steps


def test_no_recompilation_after_the_first_chunk():
    assert small_run().traces == 1  # three equal chunks: traced once
    assert small_run(config=dataclasses.replace(SMALL, steps=65)).traces == 2  # + the partial one


@pytest.mark.parametrize("precision", ["default", "highest"])
def test_later_chunk_shapes_compile_in_the_background_once(precision):
    """53 steps in chunks of 2 x 10 run as (2, 10) twice, then (1, 10) and (1, 3): the two later
    shapes compile in a background thread while the first trains, and the host loop finds them
    ready. Were the background programs not the ones the loop calls (other shapes, layouts, or
    matmul precision, which JAX holds per thread), the loop would trace them again: 5 traces."""
    from pinnbalance.training import fit_seeds

    config = dataclasses.replace(SMALL, steps=53, matmul_precision=precision)
    assert chunk_plan(53, 10, 2) == [(2, 10), (2, 10), (1, 10), (1, 3)]
    result = small_run(config=config)
    assert result.traces == 3
    assert 0 < result.compile_seconds < result.train_seconds
    problem = klein_gordon(batch_size=32)
    seeds = fit_seeds(problem, mlp_for(problem.domain, (16, 16)), LearningRateAnnealing(), config, [1, 2], progress=False)
    assert seeds[0].traces == 3


def test_history_records_every_log_step():
    result = small_run()
    np.testing.assert_array_equal(result.history["step"], [0, 10, 20, 30, 40, 50])
    terms = ("res", "ics", "bcs")
    want = {"step", "l2"} | {f"{k}_{t}" for k in ("loss", "weight", "weighted_loss", "grad_norm") for t in terms}
    assert set(result.history) == want
    np.testing.assert_allclose(result.history["weighted_loss_bcs"], result.history["weight_bcs"] * result.history["loss_bcs"])
    assert np.all(result.history["weight_res"] == 1.0)
    assert np.all(np.diff(result.history["weight_bcs"]) != 0)  # weights move on update steps


def test_recorded_gradient_norms_are_those_of_each_term():
    """The history's grad_norm at step 0 equals the norm of jax.grad of that term's loss on
    step 0's batch with the initial parameters (recomputed here from the seed)."""
    import jax

    from pinnbalance.losses import term_loss
    from pinnbalance.problems import sample_batch

    problem = klein_gordon(batch_size=32)
    net = mlp_for(problem.domain, (16, 16))
    config = dataclasses.replace(SMALL, dtype="float64", steps=10)
    result = fit(problem, net, Constant(), config, progress=False)
    init_key, data_key = jax.random.split(config.key(config.seed))
    params = net.init(init_key, jnp.float64)
    batch = sample_batch(problem, jax.random.split(data_key)[1], jnp.float64)
    for name in problem.term_names:
        g = jax.grad(lambda p, name=name: term_loss(problem, net, p, batch[name], name))(params)
        np.testing.assert_allclose(
            result.history[f"grad_norm_{name}"][0],
            np.sqrt(sum(np.sum(np.square(x)) for x in jax.tree_util.tree_leaves(g))),
            rtol=1e-10,
        )


def test_same_seed_identical_history_other_seed_differs():
    a, b = small_run(), small_run()
    for k in a.history:
        np.testing.assert_array_equal(a.history[k], b.history[k])
    c = small_run(config=dataclasses.replace(SMALL, seed=7))
    assert not np.array_equal(a.history["l2"], c.history["l2"])


def test_static_schedule_equals_the_lax_cond_schedule():
    """period 7 with log_every 70 runs a static schedule; log_every 10 falls back to
    lax.cond. Both must train the same trajectory (float64)."""
    scheme = LearningRateAnnealing(period=7)
    unmasked = dict(eval_grid=20, dtype="float64", update_schedule="static")
    static = small_run(scheme, TrainConfig(steps=141, log_every=70, chunk_logs=1, **unmasked))
    dynamic = small_run(scheme, TrainConfig(steps=141, log_every=10, chunk_logs=2, **unmasked))
    np.testing.assert_allclose(static.history["l2"], dynamic.history["l2"][::7], rtol=1e-9)
    np.testing.assert_allclose(static.history["weight_bcs"], dynamic.history["weight_bcs"][::7], rtol=1e-9)


@pytest.mark.parametrize("log_every", [70, 10])  # a static schedule; one that does not divide log_every (cond)
def test_masked_schedule_trains_the_unmasked_trajectory(log_every):
    """One kind of step (per-term gradients every step, new weights kept every 7th step) must
    train the trajectory of plain and update steps interleaved, in float64."""
    scheme = LearningRateAnnealing(period=7)
    config = TrainConfig(steps=141, log_every=log_every, chunk_logs=1, eval_grid=20, dtype="float64")
    static = small_run(scheme, dataclasses.replace(config, update_schedule="static"))
    masked = small_run(scheme, dataclasses.replace(config, update_schedule="masked"))
    for key in ("l2", "weight_bcs", "weight_ics", "loss_res"):
        np.testing.assert_allclose(masked.history[key], static.history[key], rtol=1e-9)
    for a, b in zip(jax.tree_util.tree_leaves(masked.params), jax.tree_util.tree_leaves(static.params)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
    assert np.all(np.diff(masked.history["weight_bcs"]) != 0)  # the weights did move


def test_auto_schedule_masks_cheap_updates_on_cpu_only():
    from pinnbalance.training.program import choose_schedule
    from pinnbalance.weighting import NTK

    lra, config = LearningRateAnnealing(), TrainConfig()
    assert choose_schedule(lra, config, "cpu") == (True, 10)
    assert choose_schedule(lra, config, "gpu") == (False, 10)
    assert choose_schedule(lra, dataclasses.replace(config, update_schedule="static"), "cpu") == (False, 10)
    assert choose_schedule(lra, dataclasses.replace(config, update_schedule="masked"), "gpu") == (True, 10)
    assert choose_schedule(NTK(), config, "cpu")[0] is False  # its update takes kernel traces: not every step
    assert choose_schedule(LearningRateAnnealing(period=1), config, "cpu") == (False, 1)  # nothing to mask
    assert choose_schedule(Constant(), config, "cpu") == (False, None)
    with pytest.raises(ValueError, match="update_schedule must be one of"):
        TrainConfig(update_schedule="cond")


def test_float64_reaches_every_array():
    result = small_run(config=dataclasses.replace(SMALL, dtype="float64"))
    import jax

    floats = [x for x in jax.tree_util.tree_leaves(result.state) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == jnp.float64 for x in floats)
    result32 = small_run()
    floats32 = [x for x in jax.tree_util.tree_leaves(result32.state) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert all(x.dtype == jnp.float32 for x in floats32)


def test_adaptive_weights_drive_the_boundary_loss_far_below_the_standard_pinn():
    """The founding claim at small scale: 500 steps of the published set-up, side by side.
    With constant weights the residual's gradients dominate and the boundary/initial
    losses stay large; annealing raises their weights and drives them down."""
    problem = klein_gordon()
    config = TrainConfig(steps=501)
    net = mlp_for(problem.domain)
    m1 = fit(problem, net, Constant(), config, progress=False)
    m2 = fit(problem, net, LearningRateAnnealing(), config, progress=False)
    points = evaluation_set(problem, 2000)
    l1 = evaluation_losses(problem, net, m1.params, points)
    l2 = evaluation_losses(problem, net, m2.params, points)
    assert l2["bcs"] < 0.05 * l1["bcs"], (l1, l2)
    assert l2["ics"] < 0.05 * l1["ics"], (l1, l2)
    assert m2.weights["bcs"] > 10 and m2.weights["ics"] > 3
    assert m2.history["l2"].min() < 0.5 * m1.history["l2"].min()


def test_divergence_is_reported_with_step_and_term():
    base = klein_gordon(batch_size=8)

    def bad(u, z):  # becomes NaN once u(0, x) drifts above 1e-3... here: always NaN
        return jnp.log(-1.0 - u(z) ** 2)

    terms = dict(base.terms)
    terms["trap"] = Term(bad, base.terms["ics"].sampler, 8)
    problem = Problem("trap", base.domain, terms, base.exact)
    with pytest.raises(DivergenceError, match=r"term 'trap' became non-finite .* at step 0") as err:
        small_run(Constant(), problem=problem)
    assert err.value.step == 0 and err.value.term == "term 'trap'"


def test_any_optax_optimizer_can_be_passed():
    problem = klein_gordon(batch_size=16)
    r = fit(problem, mlp_for(problem.domain, (8,)), Constant(), SMALL, optimizer=optax.sgd(1e-4), progress=False)
    assert np.isfinite(r.history["l2"]).all()


def test_vmapped_seeds_equal_separate_runs():
    """Many seeds in one compiled program give each seed's own run (float64, tight tolerance)."""
    from pinnbalance.training import fit_seeds

    config = dataclasses.replace(SMALL, dtype="float64")
    problem = klein_gordon(batch_size=32)
    net = mlp_for(problem.domain, (16, 16))
    together = fit_seeds(problem, net, LearningRateAnnealing(), config, [5, 1234, 9], progress=False)
    assert together[0].traces == 1
    for seed, res in zip([5, 1234, 9], together):
        alone = fit(problem, net, LearningRateAnnealing(), dataclasses.replace(config, seed=seed), progress=False)
        assert res.config.seed == seed
        for key in alone.history:
            np.testing.assert_allclose(res.history[key], alone.history[key], rtol=1e-8, atol=1e-12, err_msg=key)


def test_a_diverged_seed_among_several_does_not_stop_the_others():
    """Two runs in one program (float32), one with a learning rate that blows the cubic term of
    Klein-Gordon past float32's range: the healthy one trains to the end and matches its run
    alone; the other's status and divergence name its step and term."""
    from pinnbalance.training import fit_runs

    problem = klein_gordon(batch_size=16)
    net = mlp_for(problem.domain, (8,))
    runs = [(Constant(), dataclasses.replace(SMALL, seed=3, learning_rate=lr)) for lr in (1e-3, 1e12)]
    healthy, diverged = fit_runs(problem, net, runs, progress=False)
    assert healthy.status == "completed" and healthy.divergence is None
    assert diverged.status == "diverged" and diverged.divergence["step"] >= 0 and diverged.divergence["term"]
    alone = fit(problem, net, Constant(), runs[0][1], progress=False)
    np.testing.assert_array_equal(healthy.history["step"], alone.history["step"])
    np.testing.assert_allclose(healthy.history["l2"], alone.history["l2"], rtol=1e-4)


def test_every_seed_diverged_raises_with_every_result():
    from pinnbalance.training import fit_seeds

    problem = klein_gordon(batch_size=16)
    with pytest.raises(DivergenceError, match=r"\(seed 1\)") as err:
        fit_seeds(problem, mlp_for(problem.domain, (8,)), Constant(), SMALL, [1, 2], optimizer=optax.sgd(1e12), progress=False)
    assert [r.status for r in err.value.results] == ["diverged", "diverged"]


def test_what_train_cannot_do_is_refused_before_any_work():
    from pinnbalance.lm import LevenbergMarquardt
    from pinnbalance.training import train
    from pinnbalance.weighting import SelfAdaptive

    problem = klein_gordon(batch_size=8)
    net = mlp_for(problem.domain, (4,))
    runs = [(Constant(), dataclasses.replace(SMALL, seed=s)) for s in (1, 2)]
    with pytest.raises(ValueError, match="train got 2 runs: pass vmapped=True"):
        train(problem, net, runs, progress=False)
    config = dataclasses.replace(SMALL, sampling="fixed", lm=LevenbergMarquardt(max_iters=2, dtype=None))
    with pytest.raises(ValueError, match=r'SelfAdaptive keeps a weight per point.*weights = "unit"'):
        fit(problem, net, SelfAdaptive(), config, progress=False)
