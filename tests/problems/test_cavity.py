"""Lid-driven cavity: the finite-difference reference against Ghia et al. (1982) and its own
grid convergence, and the PINN terms against derivatives written out by hand (float64)."""

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import trapezoid

from pinnbalance import config as cfg
from pinnbalance.metrics import evaluation_grid, predict, relative_l2
from pinnbalance.nn import MLP, ModifiedMLP
from pinnbalance.problems import PROBLEMS, Box, lid_driven_cavity, residuals, sample_batch
from pinnbalance.problems import cavity_reference as ref
from pinnbalance.problems.cavity import PUBLISHED, ghia_differences, momentum, speed, velocity

RE = 100.0


def vmap(fn):
    """``jax.jit(jax.vmap(fn))``: one compiled program instead of thousands of eager ops."""
    return jax.jit(jax.vmap(fn))


def all_residuals(problem, field, batch):
    """``residuals`` compiled once."""
    return jax.jit(lambda b: residuals(problem, field, b))(batch)


POINTS = jnp.asarray(np.random.default_rng(3).uniform(0, 1, size=(40, 2)), jnp.float64)
A, B = 1.3, 0.7  # frequencies of the closed-form test field


@pytest.fixture(scope="module")
def problem():
    return lid_driven_cavity(batch_size=32)  # the default 100 x 100 reference (199 x 199 solve, cached)


# ---- the finite-difference reference -----------------------------------------------------


def test_ghia_tables_as_typed_in():
    """17 points each, ordered from the moving/far wall inwards, wall values at the ends."""
    for coords, values in ((ref.GHIA_RE100_Y, ref.GHIA_RE100_U), (ref.GHIA_RE100_X, ref.GHIA_RE100_V)):
        assert len(coords) == len(values) == 17
        assert np.all(np.diff(coords) < 0) and coords[0] == 1.0 and coords[-1] == 0.0 and 0.5 in coords
    assert ref.GHIA_RE100_U[0] == 1.0 and ref.GHIA_RE100_U[-1] == 0.0  # lid, bottom
    assert ref.GHIA_RE100_V[0] == ref.GHIA_RE100_V[-1] == 0.0
    assert min(ref.GHIA_RE100_U) == -0.21090 and min(ref.GHIA_RE100_V) == -0.24533 and max(ref.GHIA_RE100_V) == 0.17527


@pytest.mark.parametrize("n", [65, 129])
def test_centre_lines_agree_with_ghia(n):
    """Measured: 0.0059 (n = 65), 0.0084 (n = 129), 0.0090 (n = 257): the solver converges to
    a limit about 0.009 from Ghia's table (their own discretisation error, see the module doc)."""
    flow = ref.solve_cavity(RE, n)
    assert ref.ghia_error(flow) < 0.01
    du, dv = ref.centreline_differences(flow)
    assert du.shape == dv.shape == (17,)
    assert abs(du[0]) < 1e-12 and abs(du[-1]) < 1e-12  # the wall values are exact


def test_centre_lines_converge_at_second_order():
    """Differences between successive grids shrink by ~4 when h halves (measured 4.06)."""
    flows = [ref.solve_cavity(RE, n) for n in (65, 129, 257)]

    def gap(coarse, fine):
        mc, mf = coarse.n // 2, fine.n // 2
        return max(np.abs(coarse.u[mc] - fine.u[mf][::2]).max(), np.abs(coarse.v[:, mc] - fine.v[:, mf][::2]).max())

    g1, g2 = gap(flows[0], flows[1]), gap(flows[1], flows[2])
    assert g2 < 1e-3
    assert 3.0 < g1 / g2 < 5.5
    assert flows[2].psi.min() == pytest.approx(-0.1035, abs=5e-4)  # primary vortex strength


def test_discrete_equations_hold_and_velocity_is_divergence_free():
    flow = ref.solve_cavity(RE, 129)
    ops = ref._operators(129)
    assert np.abs(ref._residual(ops, flow.psi.ravel(), flow.omega.ravel(), RE)).max() < 1e-6
    h = 1.0 / 128
    div = np.gradient(flow.u, h, axis=0) + np.gradient(flow.v, h, axis=1)
    assert np.abs(div[2:-2, 2:-2]).max() < 1e-10  # u = D_y psi, v = -D_x psi: central differences commute
    mid = 64  # no net flow through the centre lines (O(h^2) quadrature of a field steep at the lid)
    assert abs(trapezoid(flow.u[mid], flow.y)) < 5e-4 and abs(trapezoid(flow.v[:, mid], flow.x)) < 5e-5
    # walls: psi = 0, lid u = 1 (corners included), no slip elsewhere
    assert np.all(flow.psi[[0, -1], :] == 0) and np.all(flow.psi[:, [0, -1]] == 0)
    assert np.all(flow.u[:, -1] == 1.0) and np.all(flow.u[:, 0] == 0) and np.all(flow.u[[0, -1], :-1] == 0)
    assert np.all(flow.v[[0, -1], :] == 0) and np.all(flow.v[:, [0, -1]] == 0)
    assert flow.omega[64, -1] < -6  # the lid drives a clockwise (negative) vortex
    with pytest.raises(ValueError):
        flow.u[1, 1] = 0.0  # cached results are read-only


def test_higher_reynolds_numbers_converge_by_continuation():
    """Newton from rest fails at Re = 400 on this grid; from the Re = 200 flow it converges."""
    flow = ref.solve_cavity(400.0, 65)
    assert np.abs(ref._residual(ref._operators(65), flow.psi.ravel(), flow.omega.ravel(), 400.0)).max() < 1e-6
    assert flow.psi.min() < ref.solve_cavity(RE, 65).psi.min() - 0.005  # a stronger primary vortex


def test_solver_rejects_bad_input_with_the_fix():
    with pytest.raises(ValueError, match="odd grid size"):
        ref.centreline_differences(ref.solve_cavity(RE, 64))
    with pytest.raises(ValueError, match="Re = 100"):
        ref.centreline_differences(ref.solve_cavity(50.0, 33))
    with pytest.raises(ValueError, match="integer >= 5"):
        ref.solve_cavity(RE, 3)


def test_reference_speed_is_the_solver_field_on_shared_nodes():
    points, values = ref.reference_speed(RE, 65)  # 65 - 1 divides 129 - 1: every other node
    flow = ref.solve_cavity(RE, 129)
    grid = Box((0.0, 0.0), (1.0, 1.0), ("x", "y")).grid(65, jnp.float64)
    np.testing.assert_array_equal(points, np.asarray(grid))
    np.testing.assert_array_equal(values, flow.speed()[::2, ::2].ravel())
    assert points.dtype == values.dtype == np.float64
    assert ref.solver_size(100) == 199 and ref.solver_size(65) == 129 and ref.solver_size(129) == 129


# ---- the PINN problem ---------------------------------------------------------------------


def closed_form(z):
    """(psi, p) = (sin(A x) cos(B y) + x^3 y^2, cos x + x y^2)."""
    x, y = z[0], z[1]
    return jnp.stack([jnp.sin(A * x) * jnp.cos(B * y) + x**3 * y**2, jnp.cos(x) + x * y**2])


def closed_form_flow(z):
    """Velocity, its derivatives and the momentum residuals of ``closed_form``, by hand."""
    x, y = z[0], z[1]
    sa, ca, sb, cb = jnp.sin(A * x), jnp.cos(A * x), jnp.sin(B * y), jnp.cos(B * y)
    u = -B * sa * sb + 2 * x**3 * y
    v = -A * ca * cb - 3 * x**2 * y**2
    u_x, u_y = -A * B * ca * sb + 6 * x**2 * y, -(B**2) * sa * cb + 2 * x**3
    v_x, v_y = A**2 * sa * cb - 6 * x * y**2, A * B * ca * sb - 6 * x**2 * y
    u_xx, u_yy = A**2 * B * sa * sb + 12 * x * y, B**3 * sa * sb
    v_xx, v_yy = A**3 * ca * cb - 6 * y**2, A * B**2 * ca * cb - 6 * x**2
    p_x, p_y = -jnp.sin(x) + y**2, 2 * x * y
    r_u = u * u_x + v * u_y + p_x - (u_xx + u_yy) / RE
    r_v = u * v_x + v * v_y + p_y - (v_xx + v_yy) / RE
    return jnp.stack([u, v]), jnp.stack([r_u, r_v])


def test_momentum_residual_matches_hand_derivatives(problem):
    res = problem.terms["res"].residual
    got = vmap(lambda z: res(closed_form, z))(POINTS)
    vel, expected = vmap(closed_form_flow)(POINTS)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vmap(lambda z: velocity(closed_form, z))(POINTS), vel, rtol=1e-13, atol=1e-14)
    # the velocity of any psi is divergence-free: u_x + v_y = psi_yx - psi_xy = 0 (by hand above too)
    div = vmap(lambda z: jnp.trace(jax.jacfwd(lambda y: velocity(closed_form, y))(z)))(POINTS)
    np.testing.assert_allclose(div, 0.0, atol=1e-12)


def test_quantity_is_the_velocity_magnitude(problem):
    got = vmap(lambda z: problem.quantity(closed_form, z))(POINTS)
    vel, _ = vmap(closed_form_flow)(POINTS)
    np.testing.assert_allclose(got, np.hypot(vel[:, 0], vel[:, 1]), rtol=1e-13)
    assert problem.quantity is speed


def nested_jacfwd_residual(f, z, re=RE):
    """The momentum residual from nested jacfwd of psi and p: an implementation independent
    of ``taylor1`` / ``axis_derivatives`` (and of a network's fast Taylor path)."""
    psi = lambda y: f(y)[0]
    d1 = jax.jacfwd(psi)(z)
    d2 = jax.jacfwd(jax.jacfwd(psi))(z)
    d3 = jax.jacfwd(jax.jacfwd(jax.jacfwd(psi)))(z)
    dp = jax.jacfwd(lambda y: f(y)[1])(z)
    u, v = d1[1], -d1[0]
    u_x, u_y, v_x, v_y = d2[1, 0], d2[1, 1], -d2[0, 0], -d2[0, 1]
    lap_u = d3[1, 0, 0] + d3[1, 1, 1]
    lap_v = -(d3[0, 0, 0] + d3[0, 1, 1])
    return jnp.stack([u * u_x + v * u_y + dp[0] - lap_u / re, u * v_x + v * v_y + dp[1] - lap_v / re])


@pytest.mark.parametrize("kind", ["mlp", "mlp-generic", "modified-mlp"])
def test_momentum_residual_of_networks_matches_nested_jacfwd(kind):
    """Through the MLP's fast Taylor path, the generic path and the modified MLP."""
    mean, std = (0.5, 0.5), (12**-0.5,) * 2
    if kind == "modified-mlp":
        net = ModifiedMLP((2, 20, 20, 2), "tanh", mean, std)
    else:
        net = MLP((2, 20, 20, 2), "tanh", mean, std, taylor_mode="off" if kind == "mlp-generic" else "auto")
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    u = net.field(params)
    got = vmap(lambda z: momentum(u, z, RE))(POINTS)
    expected = vmap(lambda z: nested_jacfwd_residual(lambda y: net.apply(params, y), z))(POINTS)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert got.shape == (POINTS.shape[0], 2)


def no_slip_field(z):
    """psi = x^2 (1 - x)^2 y^2 (1 - y)^2: u = v = 0 on all four walls (p arbitrary)."""
    x, y = z[0], z[1]
    return jnp.stack([x**2 * (1 - x) ** 2 * y**2 * (1 - y) ** 2, x * y])


def shear_field(z):
    """psi = y^3 - y^2: u = 3 y^2 - 2 y, v = 0, so u = 1 on the lid and 0 on the floor."""
    return jnp.stack([z[1] ** 3 - z[1] ** 2, jnp.zeros((), z.dtype)])


def test_boundary_residuals_by_wall(problem):
    """Walls in order lid, x = 0, x = 1, y = 0; residual (u - u_wall, v - v_wall) / sqrt(2)."""
    batch = sample_batch(problem, jax.random.PRNGKey(1), jnp.float64)
    walls = batch["bcs"]  # (n, 4, 2)
    s = 1 / math.sqrt(2)
    r = all_residuals(problem, no_slip_field, batch)["bcs"].reshape(-1, 4, 2)
    expected = np.zeros_like(r)
    expected[:, 0, 0] = -s  # no-slip everywhere: only the lid's u misses, by the lid speed
    np.testing.assert_allclose(r, expected, atol=1e-14)
    r = all_residuals(problem, shear_field, batch)["bcs"].reshape(-1, 4, 2)
    expected = np.zeros_like(r)  # lid and floor satisfied; the side walls see the shear profile
    for k in (1, 2):
        y = walls[:, k, 1]
        expected[:, k, 0] = s * (3 * y**2 - 2 * y)
    np.testing.assert_allclose(r, expected, atol=1e-13)
    # the loss of a field at rest is the published mean over u and v of the squared errors:
    # only the lid's u = 1 misses, so (1/n) sum (1^2 + 0^2) / 2 = 0.5
    rest = lambda z: jnp.zeros((2,), z.dtype)
    r = all_residuals(problem, rest, batch)["bcs"]
    assert float(jnp.mean(jnp.sum(r**2, axis=1))) == pytest.approx(0.5, rel=1e-14)


def test_terms_batches_and_shapes(problem):
    assert problem.term_names == ("res", "bcs") and problem.reference == "res"
    assert problem.outputs == 2 and problem.exact is None
    assert problem.parameters == {"re": 100.0, "reference_n": 100}
    batch = sample_batch(problem, jax.random.PRNGKey(3))
    assert batch["res"].shape == (32, 2) and batch["bcs"].shape == (32, 4, 2)
    walls = batch["bcs"]
    assert np.all(walls[:, 0, 1] == 1.0) and np.all(walls[:, 1, 0] == 0.0)
    assert np.all(walls[:, 2, 0] == 1.0) and np.all(walls[:, 3, 1] == 0.0)
    assert not np.allclose(walls[:, 0, 0], walls[:, 3, 0])  # independent draws per wall
    rs = all_residuals(problem, closed_form, batch)
    assert rs["res"].shape == (32, 2) and rs["bcs"].shape == (32, 8)
    assert set(PUBLISHED) == {"M1", "M2", "M4"} and PUBLISHED["M4"] == 3.42e-2
    assert PROBLEMS["cavity"] is lid_driven_cavity


def test_reference_data_and_error_of_a_network(problem):
    points, values = problem.reference_data
    assert points.shape == (100 * 100, 2) and values.shape == (100 * 100,)
    lid = points[:, 1] == 1.0
    np.testing.assert_array_equal(values[lid], 1.0)  # corners included, as the published reference
    others = (points[:, 0] == 0) | (points[:, 0] == 1) | (points[:, 1] == 0)
    np.testing.assert_array_equal(values[others & ~lid], 0.0)
    assert 0.0 < values[~lid].max() < 1.0
    pts32, vals32 = evaluation_grid(problem)  # the run's dtype
    assert pts32.dtype == vals32.dtype == jnp.float32
    # error of a network: the metric uses the velocity magnitude of its (psi, p) output
    net = MLP((2, 16, 2), "tanh", (0.5, 0.5), (0.3, 0.3))
    params = net.init(jax.random.PRNGKey(0), jnp.float64)
    some = jnp.asarray(points[::20])
    pred = predict(net, params, some, problem)
    expected = vmap(lambda z: speed(net.field(params), z))(some)
    np.testing.assert_allclose(pred, expected, rtol=1e-12)
    assert float(relative_l2(jnp.asarray(values), jnp.asarray(values))) == 0.0


@pytest.mark.parametrize("m", [1, 2, 4])
def test_configs_reproduce_the_published_setup(m):
    config = cfg.load(Path(__file__).resolve().parents[2] / "configs" / f"cavity-m{m}.toml")
    assert config.problem.name == "cavity" and config.network.hidden == (50, 50, 50)
    assert config.train.steps == 40001 and config.batch_size == 128
    assert config.network.type == ("modified-mlp" if m == 4 else "mlp")
    assert config.weighting.scheme == ("constant" if m == 1 else "lr-annealing")
    if m != 1:  # the published cavity code's weight: max over layers of the per-layer ratio
        assert config.build_scheme(config.build_problem()).ratio == "max_per_layer"
    built = config.build_problem()
    net = config.build_network(built)
    assert net.layers[-1] == 2 and built.terms["bcs"].batch_size == 128


def test_ghia_differences_of_a_closed_form_field():
    """psi = y^3 / 3 - x^2 / 2 gives u = psi_y = y^2 and v = -psi_x = x exactly."""
    field = lambda z: jnp.stack([z[1] ** 3 / 3 - z[0] ** 2 / 2, jnp.zeros_like(z[0])])  # noqa: E731
    du, dv = ghia_differences(field)
    y, x = np.asarray(ref.GHIA_RE100_Y), np.asarray(ref.GHIA_RE100_X)
    np.testing.assert_allclose(np.asarray(du), y**2 - np.asarray(ref.GHIA_RE100_U), atol=1e-6)
    np.testing.assert_allclose(np.asarray(dv), x - np.asarray(ref.GHIA_RE100_V), atol=1e-6)
