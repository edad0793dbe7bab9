"""TensorBoard events carry the unknowns' columns under the history's names: ``unknown/<name>``
(a scalar's value) and ``unknown_l2/<name>`` (a field's relative L2 error), both from the
chunk records and in a run written by ``pinnbalance run --tensorboard``."""

import math

import numpy as np
import pytest

from pinnbalance.report.tensorboard import EventWriter, read_events, write_records


def test_chunk_records_of_unknowns_become_their_history_tags(tmp_path):
    writers = [EventWriter(tmp_path / "s1"), EventWriter(tmp_path / "s2")]
    records = {  # two seeds (leading axis), two rows each, as flatten_records gives them
        "step": np.array([[0, 10], [0, 10]]),
        "l2": np.array([[1.0, 0.5], [2.0, 0.25]]),
        "losses.res": np.array([[4.0, 3.0], [5.0, 1.0]]),
        "unknowns.k": np.array([[1.0, 0.75], [1.0, 0.625]]),
        "unknown_errors.a": np.array([[0.5, 0.125], [0.25, 0.0625]]),
    }
    assert write_records(writers, records, 0) == 2
    for writer in writers:
        writer.close()
    s1, s2 = ([e["values"] for e in read_events(w.path) if e["values"]] for w in writers)
    assert s1 == [
        {"l2": 1.0, "loss/res": 4.0, "unknown/k": 1.0, "unknown_l2/a": 0.5},
        {"l2": 0.5, "loss/res": 3.0, "unknown/k": 0.75, "unknown_l2/a": 0.125},
    ]
    assert [v["unknown/k"] for v in s2] == [1.0, 0.625] and [v["unknown_l2/a"] for v in s2] == [0.25, 0.0625]


def inverse_problem():
    """-k (a u')' = f on [0, 1] with u = sin(pi x) observed, k a scalar and a(x) a field (true: 1)."""
    import jax.numpy as jnp

    from pinnbalance.derivatives import axis_derivatives
    from pinnbalance.nn import mlp_for
    from pinnbalance.problems import Box, FieldUnknown, Problem, Scalar, Term, data_term, observations_from_arrays, uniform

    box = Box((0.0,), (1.0,), ("x",))

    def res(u, z, *, k, a):
        a_value, a_grad, _ = axis_derivatives(a, z)
        _, u_grad, u_diag = axis_derivatives(u, z)
        return -k * (a_grad[0] * u_grad[0] + a_value * u_diag[0]) - jnp.pi**2 * jnp.sin(jnp.pi * z[0])

    xs = np.linspace(0.0, 1.0, 5)[:, None]
    data = data_term(observations_from_arrays(xs, np.sin(np.pi * xs[:, 0])))
    unknowns = {"k": Scalar(2.0, positive=True), "a": FieldUnknown(mlp_for(box, (3,)), inputs=("x",), positive=True)}
    terms = {"res": Term(res, uniform(box), 8), "data": data}
    exact_unknowns = {"k": 1.0, "a": lambda z: 1.0 + 0.0 * z[0]}
    return Problem(
        "inverse", box, terms, exact=lambda z: jnp.sin(jnp.pi * z[0]), unknowns=unknowns, exact_unknowns=exact_unknowns
    )


def test_a_training_logs_the_unknowns_columns_of_its_history(tmp_path):
    from pinnbalance import TrainConfig, mlp_for
    from pinnbalance.report.tensorboard import TensorBoardRows, run_writers
    from pinnbalance.training import train
    from pinnbalance.weighting import Constant

    problem = inverse_problem()
    board = TensorBoardRows(run_writers(tmp_path, [0]), None)
    runs = [(Constant(), TrainConfig(steps=20, log_every=10, chunk_logs=1, seed=0))]
    [result] = train(problem, mlp_for(problem.domain, (4,)), runs, progress=False, callbacks=[board])
    board.close([result])
    events = [e for e in read_events(board.writers[0].path) if e["values"]]
    assert [e["step"] for e in events] == list(result.history["step"]) == [0, 10]
    for column in ("unknown/k", "unknown_l2/a"):
        assert [e["values"][column] for e in events] == pytest.approx(list(result.history[column]), rel=1e-6)
    # the first record follows one Adam step, which moves log k by the rate 1e-3 against the gradient's sign
    first = events[0]["values"]["unknown/k"]
    assert min(abs(first - 2.0 * math.exp(sign * 1e-3)) for sign in (-1, 1)) < 2e-6  # float32 in the events
