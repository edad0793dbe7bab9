"""Observed data: files read back to the numbers written, bad files named by file and line,
and the data term's loss equal to the mean squared misfit computed by hand."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.losses import term_losses
from pinnbalance.nn import MLP
from pinnbalance.problems import Box, Problem, Term, uniform
from pinnbalance.problems.base import sample_batch
from pinnbalance.problems.observations import (
    ObservationError,
    Observations,
    data_term,
    load_observations,
    observations_from_arrays,
)

BOX = Box(lower=(0.0, -1.0), upper=(1.0, 1.0), names=("t", "x"))
POINTS = [[0.0, -1.0], [0.5, 0.25], [1.0, 1.0]]
VALUES = [[1.5, -2.0], [0.125, 3.0], [-4.0, 0.0625]]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- formats ---------------------------------------------------------------------------


def test_csv_with_header_and_comments(tmp_path):
    path = write(
        tmp_path, "obs.csv", "# made by hand\n# second comment\nt,x,u,v\n0,-1,1.5,-2\n0.5,0.25,0.125,3\n\n1,1,-4,0.0625\n"
    )
    obs = load_observations(path, coords=("t", "x"), values=("u", "v"), domain=BOX)
    np.testing.assert_array_equal(obs.points, POINTS)
    np.testing.assert_array_equal(obs.values, VALUES)
    assert obs.lines == (4, 5, 7)  # the editor's line numbers, blank line skipped
    swapped = load_observations(path, coords=("x", "t"), values="v")
    np.testing.assert_array_equal(swapped.points, np.array(POINTS)[:, ::-1])
    np.testing.assert_array_equal(swapped.values, np.array(VALUES)[:, 1:])


def test_csv_without_header_by_index(tmp_path):
    path = write(tmp_path, "obs.csv", "0,-1,1.5,-2\n0.5,0.25,0.125,3\n1,1,-4,0.0625\n")
    obs = load_observations(path, coords=(0, 1))  # values: every other column
    np.testing.assert_array_equal(obs.points, POINTS)
    np.testing.assert_array_equal(obs.values, VALUES)


def test_savetxt_header_in_a_comment(tmp_path):
    path = tmp_path / "obs.csv"
    np.savetxt(path, np.concatenate([POINTS, VALUES], axis=1), delimiter=",", header="t,x,u,v")
    obs = load_observations(path, coords=("t", "x"), values="u")
    np.testing.assert_array_equal(obs.points, POINTS)
    np.testing.assert_array_equal(obs.values[:, 0], np.array(VALUES)[:, 0])


def test_whitespace_columns_with_percent_comments(tmp_path):
    """PINNacle's COMSOL exports: % header lines, whitespace columns, no usable header."""
    text = "% Model: made.mph\n% Nodes: 3\n% t    x    u (1) @ a=1    u (1) @ a=2\n"
    text += "0     -1      1.5     -2\n0.5   0.25    0.125   3\n1  \t 1  -4    6.25E-2\n"
    obs = load_observations(write(tmp_path, "obs.dat", text), coords=(0, 1))
    np.testing.assert_array_equal(obs.points, POINTS)
    np.testing.assert_array_equal(obs.values, VALUES)
    assert obs.lines == (4, 5, 6)


def test_npz_keys_columns_and_matrices(tmp_path):
    path = tmp_path / "obs.npz"
    p, v = np.array(POINTS), np.array(VALUES)
    np.savez(path, t=p[:, 0], x=p[:, 1], uv=v, other=np.zeros(7))
    obs = load_observations(path, coords=("t", "x"), values="uv", components=(0, 2))
    np.testing.assert_array_equal(obs.points, POINTS)
    np.testing.assert_array_equal(obs.values, VALUES)
    assert obs.components == (0, 2) and obs.lines is None


def test_from_arrays_one_dimensional_inputs():
    obs = observations_from_arrays([0.0, 1.0, 2.0], [3.0, 4.0, 5.0])
    assert obs.points.shape == (3, 1) and obs.values.shape == (3, 1) and obs.points.dtype == np.float64


# ---- bad inputs: file, line (1-based, as an editor shows it) and the fix ------------------


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.csv", "t,x,u\n0,0,1\n0.5,0.5\n", r"bad\.csv, line 3: 2 columns but the header has 3; give every row the same"),
        ("bad.csv", "t,x,u\n0,0,1\n0.5,0.5,nan\n", r"bad\.csv, line 3, column 3 \('u'\): 'nan' is not finite; remove the row"),
        ("bad.csv", "# c\nt,x,u\n0,0,1\n0.5,0.5,inf\n", r"bad\.csv, line 4, column 3 \('u'\): 'inf' is not finite"),
        ("bad.csv", "t,x,u\n0,0,1\n0.5,0.5,1.2.3\n", r"bad\.csv, line 3, column 3 \('u'\): '1\.2\.3' is not a number; data rows"),
        ("bad.dat", "% c\n0 0 1\n0.5 abc 1\n", r"bad\.dat, line 3, column 2: 'abc' is not a number"),
        ("bad.dat", "% c\n0 0 1\n\n0.5 0.5 1 7\n", r"bad\.dat, line 4: 4 columns but the first data row \(line 2\) has 3"),
        (
            "bad.csv",
            "t,x,u\n0,0,1\n2,0.5,1\n",
            r"bad\.csv, line 3: point \(2, 0\.5\) lies outside the domain t in \[0, 1\] x x in \[-1, 1\]",
        ),
        ("bad.csv", "", r"bad\.csv holds no data rows .*add one row of numbers per point"),
        ("bad.dat", "% only\n# comments\n\n", r"bad\.dat holds no data rows"),
        ("bad.csv", "t,x,u\n", r"bad\.csv has a header row \['t', 'x', 'u'\] but no data rows"),
    ],
)
def test_bad_text_files_name_file_line_and_fix(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    coords = ("t", "x") if text.startswith(("t,", "# c\nt")) else (0, 1)
    with pytest.raises(ObservationError, match=message):
        load_observations(path, coords=coords, domain=BOX)


def test_outside_a_domain_with_an_inside_method(tmp_path):
    class Disk:
        def inside(self, points):
            return np.sum(points**2, axis=1) <= 1.0

    path = write(tmp_path, "obs.dat", "0 0 1\n0.5 0.5 2\n0.9 0.9 3\n")
    with pytest.raises(ObservationError, match=r"obs\.dat, line 3: point \(0\.9, 0\.9\) lies outside .*1 of 3 points"):
        load_observations(path, coords=(0, 1), domain=Disk())


def test_npz_and_array_errors_give_rows(tmp_path):
    path = tmp_path / "obs.npz"
    np.savez(path, t=np.array([0.0, 0.5, 1.0]), u=np.array([1.0, 2.0, np.nan]))
    with pytest.raises(ObservationError, match=r"obs\.npz, row 3: value 1 is nan .*Remove those rows"):
        load_observations(path, coords=("t",), values="u")
    with pytest.raises(ObservationError, match=r"no array named \['v'\]; the archive holds \['t', 'u'\]"):
        load_observations(path, coords=("t",), values="v")
    with pytest.raises(ObservationError, match=r"3 points but 2 values"):
        observations_from_arrays([[0.0], [1.0], [2.0]], [1.0, 2.0])


def test_name_without_header_and_index_out_of_range(tmp_path):
    path = write(tmp_path, "obs.dat", "0 0 1\n")
    with pytest.raises(
        ObservationError, match=r"no header row, so column 'x' cannot be found by name; pick columns by 0-based index, 0 to 2"
    ):
        load_observations(path, coords=("x",))
    with pytest.raises(ObservationError, match=r"column index 5 but the rows have 3 columns"):
        load_observations(path, coords=(0, 5))


# ---- the data term ---------------------------------------------------------------------


def test_data_term_loss_is_the_mean_squared_misfit():
    """u(t, x) = t + 2 x at (0, 1), (1, 2), (2, 0) gives 2, 5, 2; observed 1, 5, 4: misfits 1, 0, -2."""
    obs = observations_from_arrays([[0.0, 1.0], [1.0, 2.0], [2.0, 0.0]], [1.0, 5.0, 4.0])
    term = data_term(obs)
    problem = Problem("fit", BOX, {"data": term}, reference="data")
    rows = sample_batch(problem, jax.random.PRNGKey(0), jnp.float64)["data"]

    class Field:  # a stand-in network with the interface losses use
        def field(self, params):
            return lambda z: z[0] + 2.0 * z[1]

    loss = term_losses(problem, Field(), None, {"data": rows})["data"]
    assert float(loss) == pytest.approx((1.0 + 0.0 + 4.0) / 3, rel=1e-15)


def test_data_term_with_an_mlp_matches_numpy():
    rng = np.random.default_rng(1)
    points, values = rng.uniform(-1, 1, (20, 2)), rng.normal(size=20)
    net = MLP((2, 8, 1))
    params = net.init(jax.random.PRNGKey(3), jnp.float64)
    pred = np.tanh(points @ np.asarray(params[0]["W"]) + np.asarray(params[0]["b"])) @ np.asarray(params[1]["W"])
    pred = pred[:, 0] + np.asarray(params[1]["b"])[0]
    term = data_term(observations_from_arrays(points, values))
    problem = Problem("fit", BOX, {"res": Term(lambda u, z: u(z), uniform(BOX), 4), "data": term})
    batch = sample_batch(problem, jax.random.PRNGKey(0), jnp.float64)
    loss = term_losses(problem, net, params, batch)["data"]
    assert float(loss) == pytest.approx(np.mean((pred - values) ** 2), rel=1e-12)


def test_components_pick_network_outputs():
    """A two-output field (t, 10 x); the data observe output 1 only: misfit 10 x - y."""
    obs = observations_from_arrays([[0.5, 0.1], [0.25, 0.3]], [2.0, 3.0], components=1)
    term = data_term(obs)
    rows = term.sampler(jax.random.PRNGKey(0), term.batch_size, jnp.float64)
    r = jax.vmap(lambda p: term.residual(lambda z: jnp.stack([z[0], 10.0 * z[1]]), p))(rows)
    np.testing.assert_allclose(np.asarray(r).ravel(), [1.0 - 2.0, 3.0 - 3.0], atol=1e-14)


def test_output_count_mismatch_is_a_clear_error():
    term = data_term(observations_from_arrays([[0.0]], [1.0]))
    with pytest.raises(ValueError, match=r"network gives 2 outputs but each row holds 1 observed value.*components="):
        term.residual(lambda z: jnp.stack([z[0], z[0]]), jnp.zeros(2))
    term = data_term(observations_from_arrays([[0.0]], [1.0], components=3))
    with pytest.raises(ValueError, match=r"components \(3,\) but the network gives 1 output"):
        term.residual(lambda z: z[0], jnp.zeros(2))


def test_full_batch_and_minibatch_shapes():
    points = np.arange(10.0)[:, None] / 10
    values = np.arange(10.0)[:, None] * 3
    obs = observations_from_arrays(points, values)
    full = data_term(obs)
    assert full.batch_size == 10
    table = np.concatenate([points, values], axis=1)
    np.testing.assert_array_equal(full.sampler(jax.random.PRNGKey(0), 10, jnp.float64), table)  # whole table, in order

    mini = data_term(obs, batch_size=4)
    rows = np.asarray(mini.sampler(jax.random.PRNGKey(1), 4, jnp.float32))
    assert mini.batch_size == 4 and rows.shape == (4, 2) and rows.dtype == np.float32
    ids = rows[:, 1] / 3
    assert len(set(ids)) == 4 and set(ids) <= set(range(10))  # distinct rows of the table, kept whole
    np.testing.assert_allclose(rows[:, 0], ids / 10, rtol=1e-6)

    big = np.asarray(mini.sampler(jax.random.PRNGKey(2), 23, jnp.float64))  # 2 whole copies + 3 distinct rows
    counts = np.bincount((big[:, 1] / 3).astype(int), minlength=10)
    assert big.shape == (23, 2) and counts.min() == 2 and counts.max() == 3 and counts.sum() == 23

    draws = [set(np.asarray(mini.sampler(k, 4, jnp.float64))[:, 1]) for k in jax.random.split(jax.random.PRNGKey(4), 5)]
    assert len({frozenset(d) for d in draws}) > 1  # the key changes the minibatch


def test_minibatch_size_from_the_problem():
    obs = observations_from_arrays(np.linspace(0, 1, 12)[:, None], np.ones(12))
    problem = Problem("fit", BOX, {"data": data_term(obs)}, reference="data").with_batch_sizes(5)
    assert sample_batch(problem, jax.random.PRNGKey(0))["data"].shape == (5, 2)


def test_works_inside_jit():
    rng = np.random.default_rng(2)
    obs = observations_from_arrays(rng.uniform(0, 1, (16, 2)), rng.normal(size=(16, 1)))
    net = MLP((2, 8, 1))
    problem = Problem("fit", BOX, {"data": data_term(obs, batch_size=8)}, reference="data")

    @jax.jit
    def loss(params, key):
        return term_losses(problem, net, params, sample_batch(problem, key, jnp.float64))["data"]

    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    key = jax.random.PRNGKey(5)
    rows = np.asarray(sample_batch(problem, key, jnp.float64)["data"])
    pred = np.asarray(jax.vmap(lambda z: net.apply(params, z))(jnp.asarray(rows[:, :2])))
    assert float(loss(params, key)) == pytest.approx(np.mean((pred - rows[:, 2]) ** 2), rel=1e-12)
    grads = jax.jit(jax.grad(loss))(params, key)
    assert all(np.isfinite(np.asarray(g)).all() for g in jax.tree_util.tree_leaves(grads))


def test_observations_are_checked_on_construction():
    with pytest.raises(ObservationError, match=re.escape("2 value column(s) but components=(0,) names 1 output(s)")):
        Observations(np.zeros((3, 1)), np.zeros((3, 2)), components=(0,))
    with pytest.raises(ValueError, match="batch_size must be a positive integer or None"):
        data_term(observations_from_arrays([[0.0]], [1.0]), batch_size=0)
