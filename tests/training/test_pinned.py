"""The training core keeps its behaviour: short float64 trainings equal their pinned histories.

The pins (``data/pinned_histories.npz``) were written by ``pinned.py`` before the training
core was rebuilt (commit "Pin short float64 histories ..."); every history column, the
final parameters and the resumed run must agree to rtol 1e-12.
"""

import numpy as np
import pinned
import pytest


@pytest.mark.parametrize("case", list(pinned.CASES))
def test_history_equals_the_pinned_one(case):
    with np.load(pinned.PINNED) as data:
        want = {k: data[k] for k in data.files if k.startswith(f"{case}/")}
    got = pinned.compute([case])
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-300, err_msg=key)
