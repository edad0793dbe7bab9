"""Joint L2RE (PINNacle's metric) and per-component errors, against hand computations."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.component_metrics import component_errors, joint_l2re
from pinnbalance.metrics import relative_l2
from pinnbalance.training.results import flatten_records, history, unflatten_records


def test_joint_l2re_by_hand():
    # pred - ref = (0, 3, 0, 4) -> mean square 25/4; ref^2 = (1, 4, 9, 16) -> mean 30/4
    pred = jnp.array([[1.0, 5.0], [3.0, 8.0]], jnp.float64)
    ref = jnp.array([[1.0, 2.0], [3.0, 4.0]], jnp.float64)
    assert float(joint_l2re(pred, ref)) == pytest.approx(math.sqrt(25 / 30), rel=1e-14)
    errors = component_errors(pred, ref, ("u", "v"))
    assert float(errors["l2re"]) == pytest.approx(math.sqrt(25 / 30), rel=1e-14)
    assert float(errors["l2/u"]) == 0.0
    assert float(errors["l2/v"]) == pytest.approx(math.sqrt(25 / 20), rel=1e-14)  # (3^2 + 4^2) / (2^2 + 4^2)


def test_joint_is_dominated_by_the_large_component():
    # v is 100 times larger than u: a 100 % error in u barely moves the joint number
    ref = np.stack([np.ones(10), 100 * np.ones(10)], axis=1)
    pred = ref * np.array([0.0, 1.0])
    errors = component_errors(pred, ref, ("u", "v"))
    assert float(errors["l2/u"]) == pytest.approx(1.0)
    assert float(errors["l2re"]) == pytest.approx(1 / math.sqrt(1 + 100**2), rel=1e-12)


def test_one_component_agrees_with_relative_l2():
    rng = np.random.default_rng(0)
    ref, pred = rng.normal(size=50), rng.normal(size=50)
    errors = component_errors(pred, ref, ("u",))
    assert float(errors["l2re"]) == pytest.approx(float(relative_l2(pred, ref)), rel=1e-12)
    assert float(errors["l2/u"]) == pytest.approx(float(relative_l2(pred, ref)), rel=1e-12)


def test_no_names_no_keys_and_wrong_shape_refused():
    assert component_errors(np.ones(3), np.ones(3), ()) == {}
    with pytest.raises(ValueError, match="one column per named component"):
        component_errors(np.ones((3, 2)), np.ones((3, 2)), ("u", "v", "p"))


def _record(step, l2, extra):
    group = {"res": np.array([1.0])}
    return {"step": np.array([step]), "l2": np.array([l2]), "losses": group, "weights": group, "grad_norms": group, **extra}


def test_history_carries_component_columns_and_checkpoints_round_trip():
    records = [
        _record(0, 0.5, {"l2re": np.array([0.4]), "l2/u": np.array([0.3])}),
        _record(1, 0.2, {"l2re": np.array([0.1]), "l2/u": np.array([0.05])}),
    ]
    h = history(records, ("res",))
    assert h["l2re"].tolist() == [0.4, 0.1] and h["l2/u"].tolist() == [0.3, 0.05]
    back = unflatten_records(flatten_records(records))
    assert back["l2re"].tolist() == [0.4, 0.1] and back["l2/u"].tolist() == [0.3, 0.05]
    # a later phase without component errors: the column is dropped, never left short
    assert "l2re" not in history([*records, _record(2, 0.1, {})], ("res",))
