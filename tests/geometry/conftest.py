"""Shared by the geometry tests: a chi-square goodness-of-fit check, as a fixture."""

import numpy as np
import pytest
from scipy.stats import chi2

LEVEL = 1e-4  # a correct sampler fails a check with this probability (the keys are fixed, so never flaky)


def chi_square_ok(counts, probabilities) -> tuple[bool, float, float]:
    """Pearson's X^2 = sum (c_i - N p_i)^2 / (N p_i) against the chi-square(k - 1) quantile at 1 - LEVEL."""
    counts, p = np.asarray(counts, np.float64), np.asarray(probabilities, np.float64)
    expected = counts.sum() * p / p.sum()
    statistic = float(np.sum((counts - expected) ** 2 / expected))
    bound = float(chi2.ppf(1 - LEVEL, len(counts) - 1))
    return statistic <= bound, statistic, bound


@pytest.fixture
def chi_square():
    return chi_square_ok
