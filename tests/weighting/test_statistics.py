"""Per-term gradient statistics against values computed by hand on a toy gradient pytree."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.weighting import (
    L2_NORM,
    LOG_MEAN,
    MAX_ABS,
    MEAN_ABS,
    QUANTILE_99,
    STATISTICS,
    LogMean,
    Quantile,
    all_leaves,
    weight_matrices,
)

TINY64 = np.finfo(np.float64).tiny


def grads(dtype=jnp.float64):
    """A 2 -> 3 -> 1 network's gradient; the first matrix holds an exact zero, biases are huge."""
    f = lambda a: jnp.asarray(a, dtype)
    return [{"W": f([[1, -2, 3], [0.5, 0, -7]]), "b": f([100, 0, 0])}, {"W": f([[4], [-1], [2]]), "b": f([0])}]


ABS_SORTED = [0, 0.5, 1, 1, 2, 2, 3, 4, 7]  # |g| of the two weight matrices, pooled and sorted


def test_l2_norm_is_the_global_norm_of_the_selected_leaves():
    g = grads()
    np.testing.assert_allclose(L2_NORM(weight_matrices(g)), math.sqrt(1 + 4 + 9 + 0.25 + 0 + 49 + 16 + 1 + 4), rtol=1e-14)
    np.testing.assert_allclose(L2_NORM(all_leaves(g)), math.sqrt(84.25 + 100**2), rtol=1e-14)


@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.9, 0.99, 1.0])
def test_quantile_interpolates_linearly_between_order_statistics(q):
    h = q * (len(ABS_SORTED) - 1)
    lo = math.floor(h)
    hi = min(lo + 1, len(ABS_SORTED) - 1)
    want = ABS_SORTED[lo] + (h - lo) * (ABS_SORTED[hi] - ABS_SORTED[lo])
    np.testing.assert_allclose(Quantile(q)(weight_matrices(grads())), want, rtol=1e-12, atol=1e-15)


def test_quantile_99_and_its_ends():
    wm = weight_matrices(grads())
    np.testing.assert_allclose(QUANTILE_99(wm), 4 + 0.92 * (7 - 4), rtol=1e-12)  # h = 0.99 * 8 = 7.92
    assert float(Quantile(1.0)(wm)) == float(MAX_ABS(wm)) == 7.0
    assert float(Quantile(0.0)(wm)) == 0.0


def test_log_mean_is_the_geometric_mean():
    f = jnp.float64
    leaves = [jnp.full((2, 3), 0.1, f), jnp.asarray([[1.0], [2.0], [-3.0]], f)]
    np.testing.assert_allclose(LOG_MEAN(leaves), (0.1**6 * 1 * 2 * 3) ** (1 / 9), rtol=1e-12)


def test_log_mean_keeps_a_zero_entry_finite_with_tiny():
    logs = [math.log(a) for a in ABS_SORTED if a > 0] + [math.log(TINY64)]
    np.testing.assert_allclose(LOG_MEAN(weight_matrices(grads())), math.exp(sum(logs) / 9), rtol=1e-12)
    want = math.exp(sum(math.log(a + 1e-3) for a in ABS_SORTED) / 9)
    np.testing.assert_allclose(LogMean(tiny=1e-3)(weight_matrices(grads())), want, rtol=1e-12)
    assert np.isfinite(float(LOG_MEAN(weight_matrices(grads(jnp.float32)))))


@pytest.mark.parametrize("name", sorted(STATISTICS))
def test_every_statistic_is_positively_homogeneous(name):
    stat = STATISTICS[name]
    g = weight_matrices(grads())
    g[0] = g[0].at[1, 1].set(0.25)  # no zero entry, so LogMean's tiny plays no part
    scaled = [3.7 * leaf for leaf in g]
    np.testing.assert_allclose(stat(scaled), 3.7 * stat(g), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(STATISTICS))
def test_a_nan_entry_makes_every_statistic_nan(name):
    g = weight_matrices(grads())
    g[1] = g[1].at[0, 0].set(jnp.nan)
    assert np.isnan(float(STATISTICS[name](g)))


@pytest.mark.parametrize("name", sorted(STATISTICS))
def test_statistics_keep_the_gradient_dtype(name):
    assert STATISTICS[name](weight_matrices(grads(jnp.float32))).dtype == jnp.float32


def test_registry_and_errors():
    assert set(STATISTICS) == {"max_abs", "mean_abs", "l2_norm", "quantile_0.99", "log_mean", "pooled_mean_abs"}
    assert float(MEAN_ABS(weight_matrices(grads()))) == pytest.approx((13.5 / 6 + 7 / 3) / 2, rel=1e-14)
    with pytest.raises(ValueError, match="no gradient leaves"):
        L2_NORM(weight_matrices({"b": jnp.zeros(3)}))
    with pytest.raises(ValueError, match=r"q must be in \[0, 1\]"):
        Quantile(1.5)
    with pytest.raises(ValueError, match="tiny must be > 0"):
        LogMean(tiny=0.0)


def test_without_encoders_keeps_the_modified_mlps_gates_and_output():
    import jax

    from pinnbalance.nn import ModifiedMLP
    from pinnbalance.weighting.statistics import LEAF_FILTERS

    params = ModifiedMLP((2, 4, 4, 1)).init(jax.random.PRNGKey(0))  # [U, V, gate_1, gate_2, output]
    kept = LEAF_FILTERS["without_encoders"](params)
    assert [k.shape for k in kept] == [(2, 4), (4, 4), (4, 1)]
    assert all(k is p["W"] for k, p in zip(kept, params[2:]))
    with pytest.raises(ValueError, match="weight_matrices"):
        LEAF_FILTERS["without_encoders"]({"W": params[0]["W"]})
