"""Reference data files read back to the arrays written: .npz columns, .npz grids, .csv.

(Bad files and their messages are in tests/test_bad_input.py.)"""

import numpy as np
import pytest

from pinnbalance.problems import Box, Problem, Term, load_reference, uniform

RNG = np.random.default_rng(0)
T = RNG.uniform(0, 1, 40)
X = RNG.uniform(-1, 1, 40)
U = np.sin(T) * X
V = np.cos(T) + X
DOMAIN = Box(lower=(0.0, -1.0), upper=(1.0, 1.0), names=("t", "x"))


def test_npz_columns_round_trip(tmp_path):
    path = tmp_path / "ref.npz"
    np.savez(path, t=T, x=X, u=U, v=V, extra=np.zeros(3))  # other arrays are ignored
    points, values = load_reference(path, ["t", "x"], "u", domain=DOMAIN)
    assert points.dtype == np.float64 and values.dtype == np.float64
    np.testing.assert_array_equal(points, np.stack([T, X], axis=1))
    np.testing.assert_array_equal(values, U)


def test_several_value_names_give_one_column_each(tmp_path):
    path = tmp_path / "ref.npz"
    np.savez(path, t=T, x=X, u=U, v=V)
    points, values = load_reference(path, ("t", "x"), ["v", "u"])
    assert values.shape == (40, 2)
    np.testing.assert_array_equal(values, np.stack([V, U], axis=1))


def test_coordinate_order_is_the_order_asked_for(tmp_path):
    path = tmp_path / "ref.npz"
    np.savez(path, t=T, x=X, u=U)
    points, _ = load_reference(path, ["x", "t"], "u")
    np.testing.assert_array_equal(points, np.stack([X, T], axis=1))


def test_integer_and_float32_arrays_become_float64(tmp_path):
    path = tmp_path / "ref.npz"
    np.savez(path, t=np.arange(4), x=np.arange(4, dtype=np.float32) / 4, u=np.ones(4, np.float32))
    points, values = load_reference(path, ["t", "x"], "u")
    assert points.dtype == values.dtype == np.float64
    np.testing.assert_array_equal(points, [[0, 0], [1, 0.25], [2, 0.5], [3, 0.75]])


def test_npz_grid_round_trip(tmp_path):
    """1-D axes + an (n_t, n_x) value array: u[i, j] belongs to (t_i, x_j) (indexing 'ij')."""
    t, x = np.linspace(0, 1, 5), np.linspace(-1, 1, 7)
    u = np.sin(t)[:, None] * x[None, :]
    path = tmp_path / "grid.npz"
    np.savez(path, t=t, x=x, u=u)
    points, values = load_reference(path, ["t", "x"], "u", domain=DOMAIN)
    assert points.shape == (35, 2) and values.shape == (35,)
    np.testing.assert_array_equal(values, u.reshape(-1))
    np.testing.assert_array_equal(points[:, 0].reshape(5, 7), np.repeat(t[:, None], 7, axis=1))
    np.testing.assert_array_equal(points[:, 1].reshape(5, 7), np.repeat(x[None, :], 5, axis=0))


def test_npz_grid_points_are_in_box_grid_order(tmp_path):
    n = 6
    axes = [np.linspace(lo, hi, n) for lo, hi in zip(DOMAIN.lower, DOMAIN.upper)]
    np.savez(tmp_path / "g.npz", t=axes[0], x=axes[1], u=np.zeros((n, n)))
    points, _ = load_reference(tmp_path / "g.npz", ["t", "x"], "u")
    np.testing.assert_allclose(points, np.asarray(DOMAIN.grid(n, np.float64)), rtol=0, atol=1e-15)


def test_npz_grid_with_three_coordinates_and_two_values(tmp_path):
    a, b, c = np.linspace(0, 1, 2), np.linspace(0, 1, 3), np.linspace(0, 1, 4)
    A, B, C = np.meshgrid(a, b, c, indexing="ij")
    np.savez(tmp_path / "g.npz", a=a, b=b, c=c, p=A + 10 * B + 100 * C, q=A * B * C)
    points, values = load_reference(tmp_path / "g.npz", ["a", "b", "c"], ["p", "q"])
    assert points.shape == (24, 3) and values.shape == (24, 2)
    np.testing.assert_allclose(values[:, 0], points @ [1, 10, 100])
    np.testing.assert_allclose(values[:, 1], points.prod(axis=1))


def test_npz_meshgrid_arrays_are_columns(tmp_path):
    """Coordinates saved as full meshgrid arrays (same shape as the values) are flattened alike."""
    t, x = np.linspace(0, 1, 3), np.linspace(-1, 1, 4)
    TT, XX = np.meshgrid(t, x)  # 'xy' indexing: any consistent layout works here
    np.savez(tmp_path / "m.npz", t=TT, x=XX, u=TT + 2 * XX)
    points, values = load_reference(tmp_path / "m.npz", ["t", "x"], "u")
    assert points.shape == (12, 2)
    np.testing.assert_array_equal(values, points[:, 0] + 2 * points[:, 1])


@pytest.mark.parametrize("header_prefix", ["", "# "])
def test_csv_round_trip(tmp_path, header_prefix):
    path = tmp_path / "ref.csv"
    np.savetxt(path, np.stack([U, T, X], axis=1), delimiter=",", header="u,t,x", comments=header_prefix, fmt="%.17g")
    points, values = load_reference(path, ["t", "x"], "u", domain=DOMAIN)
    np.testing.assert_array_equal(points, np.stack([T, X], axis=1))
    np.testing.assert_array_equal(values, U)


def test_csv_with_spaces_comments_and_blank_lines(tmp_path):
    path = tmp_path / "ref.CSV"
    path.write_text("t, x, u, v\n# a comment\n0.0, 0.5, 1.0, 2\n\n1e-1, -0.5, 3, 4\n")
    points, values = load_reference(path, ["t", "x"], ["u", "v"])
    np.testing.assert_array_equal(points, [[0.0, 0.5], [0.1, -0.5]])
    np.testing.assert_array_equal(values, [[1.0, 2.0], [3.0, 4.0]])


def test_points_on_the_boundary_within_tolerance_are_inside(tmp_path):
    np.savez(tmp_path / "r.npz", t=np.array([0.0, 1.0 + 1e-9]), x=np.array([-1.0, 1.0]), u=np.ones(2))
    points, _ = load_reference(tmp_path / "r.npz", ["t", "x"], "u", domain=DOMAIN)
    assert len(points) == 2


def test_loaded_data_fits_problem_reference_data(tmp_path):
    np.savez(tmp_path / "r.npz", t=T, x=X, u=U)
    data = load_reference(tmp_path / "r.npz", ["t", "x"], "u", domain=DOMAIN)
    term = Term(lambda u, z: u(z), uniform(DOMAIN))
    problem = Problem("demo", DOMAIN, {"res": term}, reference_data=data)
    assert problem.reference_data[0].shape == (40, 2)
