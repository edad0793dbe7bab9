"""benchmarks/heat_inverse_ensembles.py's errors: PINNacle's joint L2RE over (u, a) and each column's own."""

import numpy as np

from bench_scripts import load_script


def test_errors_are_the_joint_and_the_column_l2re_by_hand():
    script = load_script("heat_inverse_ensembles", "heat_inverse_ensembles_bench")
    ref = np.array([[3.0, 0.0], [4.0, 0.0], [0.0, 2.0], [0.0, 2.0]])  # two u rows, two a rows (heat_inverse's layout)
    pred = ref + np.array([[0.3, 0.0], [0.0, 0.0], [0.0, 0.1], [0.0, -0.1]])
    e = script.errors(pred, ref, ("u", "a"))
    np.testing.assert_allclose(e["u"], 0.3 / 5.0, rtol=1e-12)  # sqrt(0.09) / sqrt(9 + 16)
    np.testing.assert_allclose(e["a"], np.sqrt(0.02) / np.sqrt(8.0), rtol=1e-12)
    np.testing.assert_allclose(e["l2re"], np.sqrt(0.09 + 0.02) / np.sqrt(25.0 + 8.0), rtol=1e-12)
