"""Unknowns in training: vmapped seeds equal seeds trained alone; a run folder records them
(history, summary, figure) and a resumed run equals a straight one, unknowns included."""

import json

import jax.numpy as jnp
import numpy as np

from pinnbalance import TrainConfig, mlp_for
from pinnbalance.cli import main
from pinnbalance.derivatives import axis_derivatives
from pinnbalance.io import read_history_csv
from pinnbalance.problems import Box, Problem, Scalar, Term, data_term, observations_from_arrays, uniform
from pinnbalance.training import fit, fit_seeds
from pinnbalance.weighting import SCHEMES

BOX = Box((0.0,), (1.0,), ("x",))


def inverse_problem():
    """-k u'' = f with f = 0.5 pi^2 sin(pi x): u = sin(pi x) for the true k = 0.5, observed at 11 points."""

    def res(u, z, *, k):
        return -k * axis_derivatives(u, z)[2][0] - 0.5 * jnp.pi**2 * jnp.sin(jnp.pi * z[0])

    xs = np.linspace(0.0, 1.0, 11)[:, None]
    data = data_term(observations_from_arrays(xs, np.sin(np.pi * xs[:, 0])))
    terms = {"res": Term(res, uniform(BOX), 16), "data": data}
    unknowns = {"k": Scalar(1.0, positive=True, learning_rate=1e-2)}
    return Problem("inverse", BOX, terms, exact=lambda z: jnp.sin(jnp.pi * z[0]), unknowns=unknowns, exact_unknowns={"k": 0.5})


def test_vmapped_seeds_equal_seeds_trained_alone():
    problem, scheme = inverse_problem(), SCHEMES["lr-annealing"]()
    net = mlp_for(BOX, (8,))
    config = TrainConfig(steps=30, log_every=10, chunk_logs=3, dtype="float64", eval_grid=20, eval_points=50)
    together = fit_seeds(problem, net, scheme, config, [1, 2], progress=False)
    for seed, result in zip([1, 2], together):
        alone = fit(problem, net, scheme, TrainConfig(**{**config.__dict__, "seed": seed}), progress=False)
        np.testing.assert_allclose(result.history["unknown/k"], alone.history["unknown/k"], rtol=1e-12)
        np.testing.assert_allclose(result.params["unknowns"]["k"], alone.params["unknowns"]["k"], rtol=1e-12)
    k = together[0].history["unknown/k"]
    assert k[0] != k[-1] and together[0].history["unknown/k"][-1] != together[1].history["unknown/k"][-1]


RUN = """
[problem]
name = "poisson-inverse"
[network]
hidden = [8]
[sampling]
batch_size = 16
[train]
steps = {steps}
log_every = 10
chunk_logs = 2
checkpoint_every = 20
dtype = "float64"
[unknowns.k]
init = 2.0
learning_rate = 0.01
[output]
dir = "{out}"
"""


def test_a_run_records_the_unknowns_and_resumes_them(tmp_path):
    straight, half = tmp_path / "a.toml", tmp_path / "b.toml"
    straight.write_text(RUN.format(steps=40, out=(tmp_path / "straight").as_posix()))
    half.write_text(RUN.format(steps=20, out=(tmp_path / "half").as_posix()))
    assert main(["run", str(straight), "--no-progress"]) == 0
    assert main(["run", str(half), "--no-progress"]) == 0
    assert main(["run", str(half), "--set", "train.steps=40", "--resume", str(tmp_path / "half"), "--no-progress"]) == 0
    a, b = read_history_csv(tmp_path / "straight" / "history.csv"), read_history_csv(tmp_path / "half" / "history.csv")
    assert a["unknown/k"][0] < 2.0 and a["unknown/k"][0] > 1.9  # exp(log 2) after one step at rate 1e-2
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    summary = json.loads((tmp_path / "half" / "summary.json").read_text())
    k = summary["unknowns"]["k"]
    assert k != 2.0 and summary["unknown_errors"]["k"] == abs(k - 0.5) / 0.5
    assert (tmp_path / "half" / "unknowns.png").exists()
