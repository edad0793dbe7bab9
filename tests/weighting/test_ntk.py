"""NTK weights: traces and mean diagonals against an explicitly built kernel, weights against the formula."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from pinnbalance import TrainConfig, fit, klein_gordon, mlp_for
from pinnbalance.kernel import ntk_mean_diagonal, ntk_trace, term_statistics
from pinnbalance.problems import sample_batch
from pinnbalance.weighting import NTK


def test_traces_equal_those_of_the_explicit_kernel():
    """Build J (all residuals of all terms stacked) with jacrev, K = J J^T, and compare
    the traces of its diagonal blocks with the per-point computation."""
    problem = klein_gordon(batch_size=5)
    net = mlp_for(problem.domain, (6, 6))
    params = net.init(jax.random.PRNGKey(2), jnp.float64)
    batch = sample_batch(problem, jax.random.PRNGKey(3), jnp.float64)
    flat, unravel = ravel_pytree(params)
    for name, term in problem.terms.items():

        def residuals(theta, term=term, name=name):
            u = net.field(unravel(theta))
            return jnp.concatenate([jnp.ravel(term.residual(u, x)) for x in batch[name]])

        J = jax.jacrev(residuals)(flat)
        K = J @ J.T
        np.testing.assert_allclose(ntk_trace(problem, net, params, batch[name], name), jnp.trace(K), rtol=1e-10)
        n = batch[name].size // batch[name].shape[-1]  # bcs: 5 points on each of 2 edges, 10 in its mean loss
        np.testing.assert_allclose(ntk_mean_diagonal(problem, net, params, batch[name], name), jnp.trace(K) / n, rtol=1e-10)


def test_weights_do_not_depend_on_how_many_points_a_term_draws():
    """The same points drawn twice (a batch of 2n) give the same loss, so the same weights; raw traces would halve them."""
    problem = klein_gordon(batch_size=6)
    net = mlp_for(problem.domain, (6, 6))
    params = net.init(jax.random.PRNGKey(2), jnp.float64)
    batch = sample_batch(problem, jax.random.PRNGKey(3), jnp.float64)
    doubled = batch | {"bcs": jnp.concatenate([batch["bcs"], batch["bcs"]])}
    scheme = NTK()
    weights = []
    for b in (batch, doubled):
        stats = term_statistics(scheme.statistics_needed, problem, net, params, b)
        weights.append(scheme.update(scheme.init(problem.term_names, jnp.float64), {}, {}, 0, stats).weights)
    for name in problem.term_names:
        np.testing.assert_allclose(weights[1][name], weights[0][name], rtol=1e-10)
    raw = [float(ntk_trace(problem, net, params, b["bcs"], "bcs")) for b in (batch, doubled)]
    assert raw[1] == pytest.approx(2 * raw[0])


def test_weights_are_the_summed_means_over_the_terms_mean_with_ema():
    traces = {"res": jnp.array(1e4, jnp.float64), "ics": jnp.array(50.0, jnp.float64), "bcs": jnp.array(2.0, jnp.float64)}
    total = 1e4 + 50.0 + 2.0
    state = NTK().init(("res", "ics", "bcs"), jnp.float64)
    new = NTK().update(state, {}, {}, 0, {"ntk_mean_diagonal": traces})
    for n, t in traces.items():
        np.testing.assert_allclose(new.weights[n], total / float(t), rtol=1e-12)
    smoothed = NTK(beta=0.9).update(
        NTK(beta=0.9).init(("res", "ics", "bcs"), jnp.float64), {}, {}, 0, {"ntk_mean_diagonal": traces}
    )
    np.testing.assert_allclose(smoothed.weights["bcs"], 0.9 + 0.1 * total / 2.0, rtol=1e-12)
    # the term with the smallest trace (slowest to train) gets the largest weight
    assert float(new.weights["bcs"]) > float(new.weights["ics"]) > float(new.weights["res"])


def test_non_finite_trace_holds_and_counts():
    state = NTK().init(("res", "bcs"), jnp.float64)
    new = NTK().update(state, {}, {}, 0, {"ntk_mean_diagonal": {"res": jnp.array(1.0), "bcs": jnp.array(0.0)}})
    assert int(new.held) == 1 and float(new.weights["bcs"]) == 1.0


def test_errors():
    with pytest.raises(ValueError, match="needs stats"):
        NTK().update(NTK().init(("res",)), {}, {}, 0)
    with pytest.raises(KeyError, match="valid term names"):
        NTK().update(NTK().init(("res", "bcs")), {}, {}, 0, {"ntk_mean_diagonal": {"res": 1.0, "bsc": 1.0}})
    with pytest.raises(ValueError, match="period"):
        NTK(period=0)


def test_ntk_trains_and_raises_the_weak_terms():
    problem = klein_gordon(batch_size=32)
    r = fit(
        problem,
        mlp_for(problem.domain, (16, 16)),
        NTK(period=10),
        TrainConfig(steps=41, log_every=10, chunk_logs=2, eval_grid=20),
        progress=False,
    )
    w = r.weights
    assert w["bcs"] > w["res"] and w["ics"] > w["res"]  # the residual's kernel dominates KG
    assert np.isfinite(r.history["l2"]).all()
