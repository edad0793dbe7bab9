import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import derivatives
from pinnbalance.io import (
    TrainedModel,
    atomic_write_bytes,
    atomic_write_text,
    load_params,
    read_history_csv,
    save_params,
    write_history_csv,
)
from pinnbalance.nn import MLP


def test_params_round_trip_without_pickle(tmp_path):
    net = MLP((2, 7, 7, 1), "sin", (0.5, 0.5), (0.3, 0.3))
    params = net.init(jax.random.PRNGKey(0))
    save_params(tmp_path, net, params)
    with np.load(tmp_path / "params.npz", allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
    net2, params2 = load_params(tmp_path)
    assert net2 == net
    for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(params2)):
        np.testing.assert_array_equal(a, b)


def test_trained_model_evaluates_u_and_derivatives(tmp_path):
    net = MLP((2, 8, 1), "tanh", (0.5, 0.5), (0.2, 0.4))
    params = net.init(jax.random.PRNGKey(3), jnp.float64)
    model = TrainedModel(net, params, ("t", "x"))
    pts = np.array([[0.1, 0.2], [0.7, 0.9]])
    u = net.field(params)
    np.testing.assert_allclose(model.u(pts), [u(jnp.asarray(p)) for p in pts], rtol=1e-12)
    want = [jax.hessian(u)(jnp.asarray(p))[1, 1] for p in pts]
    np.testing.assert_allclose(model.derivative(pts, "x", order=2), want, rtol=1e-10)
    np.testing.assert_allclose(model.derivative(pts, 0), [derivatives.partial(u, jnp.asarray(p), 0) for p in pts], rtol=1e-12)
    with pytest.raises(KeyError, match=r"unknown coordinate 'y'; this model takes \['t', 'x'\]"):
        model.derivative(pts, "y")
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        model.u(np.zeros((3, 3)))


def test_history_csv_round_trip(tmp_path):
    h = {"step": np.array([0, 100]), "l2": np.array([1.5, 0.25])}
    write_history_csv(tmp_path / "h.csv", h)
    back = read_history_csv(tmp_path / "h.csv")
    np.testing.assert_array_equal(back["step"], [0, 100])
    np.testing.assert_array_equal(back["l2"], [1.5, 0.25])


def test_atomic_write_replaces_whole_file_and_leaves_no_temporaries(tmp_path):
    path = tmp_path / "summary.json"
    atomic_write_text(path, json.dumps({"a": 1}))
    atomic_write_text(path, json.dumps({"b": 2}))
    assert json.loads(path.read_text()) == {"b": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "summary.json"
    atomic_write_text(path, "old")
    with pytest.raises(TypeError):
        atomic_write_bytes(path, "a str, not bytes: fails inside the write")  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
