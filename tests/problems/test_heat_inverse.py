"""PINNacle's heat inverse problem (HInv): the closed forms solve the PDE and the conditions,
the observation file is the exact u plus the stated noise, the stacked (u, a) L2RE against
hand computations, and the conductivity network sees (x, y) only."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance.component_metrics import component_errors, final_component_metrics
from pinnbalance.data import pinnacle_file
from pinnbalance.derivatives import gradient
from pinnbalance.metrics import predict
from pinnbalance.nn import MLP
from pinnbalance.nn.with_unknowns import FieldWithUnknowns, with_unknowns
from pinnbalance.problems import PROBLEMS, heat_inverse
from pinnbalance.problems.base import residuals, sample_batch, term_residuals
from pinnbalance.problems.heat_inverse import A_ROW, exact_a, exact_u, stacked_quantity

PI = np.pi


@pytest.fixture(scope="module")
def problem():
    return heat_inverse(batch_size=256)


@pytest.fixture(scope="module")
def small():
    """HInv with a small network for a (2 -> 4 -> 1), to initialise quickly."""
    return heat_inverse(a_width=4, a_depth=1)


def init(problem, network, seed):
    return jax.jit(lambda key: with_unknowns(problem, network).init(key, jnp.float64))(jax.random.PRNGKey(seed))


def exact_field(u=exact_u, a=exact_a):
    """The truth as the trainer hands it to residuals: u carrying the unknown a."""
    return FieldWithUnknowns(u, {"a": a})


def test_registered_with_its_terms_and_no_exact_solution(problem):
    assert PROBLEMS["heat-inverse"] is heat_inverse
    assert problem.term_names == ("res", "a_bc", "data") and problem.reference == "res"
    assert problem.exact is None  # nothing could fit a reference: the observations are the only data on u
    assert problem.domain.names == ("x", "y", "t")


def test_exact_u_and_a_zero_the_pde_and_the_condition_on_a(problem):
    batch = jax.jit(lambda k: sample_batch(problem, k, jnp.float64))(jax.random.PRNGKey(0))
    r = jax.jit(lambda b: residuals(problem, exact_field(), b))(batch)
    assert float(jnp.max(jnp.abs(r["res"]))) < 1e-8  # f is the closed form's source, by autodiff
    assert float(jnp.max(jnp.abs(r["a_bc"]))) < 1e-14  # a* = 2 where sin(pi x) sin(pi y) = 0
    walls = np.asarray(batch["a_bc"])[:, :3]
    assert np.all((np.abs(walls[:, 0]) == 1.0) | (np.abs(walls[:, 1]) == 1.0))  # the spatial boundary only
    assert np.all((walls[:, 2] >= 0.0) & (walls[:, 2] <= 1.0)) and walls[:, 2].std() > 0.2  # at all times


def test_the_pde_residual_sees_a_and_its_gradient(problem):
    # with a = 2 (constant): u_t - 2 lap u = (4 pi^2 - 1) u*, so res = -pi^2 e^-t (2 s^2 - cx^2 sy^2 - sx^2 cy^2)
    z = jnp.array([0.3, -0.45, 0.6])
    x, y, t = 0.3, -0.45, 0.6
    sx, sy, cx, cy = np.sin(PI * x), np.sin(PI * y), np.cos(PI * x), np.cos(PI * y)
    expected = -(PI**2) * np.exp(-t) * (2 * sx**2 * sy**2 - cx**2 * sy**2 - sx**2 * cy**2)
    got = problem.terms["res"].residual(exact_u, z, a=lambda p: 2.0 + 0.0 * p[0])
    assert float(got) == pytest.approx(expected, rel=1e-12)
    # a = x (a_x = 1, a_y = 0) and u = x^2 + t: u_t - (a u_x)_x - (a u_y)_y = 1 - (x * 2x)_x = 1 - 4x
    res = problem.terms["res"].residual(lambda p: p[0] ** 2 + p[2], z, a=lambda p: p[0])
    f = (4 * PI**2 - 1) * sx * sy + PI**2 * (2 * sx**2 * sy**2 - cx**2 * sy**2 - sx**2 * cy**2)
    assert float(res) == pytest.approx(1 - 4 * x - np.exp(-t) * f, rel=1e-12)


def test_observations_are_the_exact_u_plus_the_stated_noise(problem):
    rows = np.asarray(problem.terms["data"].sampler(jax.random.PRNGKey(0), 2500, jnp.float64))
    assert rows.shape == (2500, 4)  # x, y, t, u_observed: every row every step
    np.testing.assert_array_equal(rows[:, :3], np.loadtxt(pinnacle_file("heatinv_points.dat")))
    x, y, t, observed = rows.T
    noise = observed - np.exp(-t) * np.sin(PI * x) * np.sin(PI * y)
    assert abs(noise.mean()) < 0.01 and 0.095 < noise.std() < 0.105 and np.abs(noise).max() < 0.5  # N(0, 0.1^2), n = 2500
    np.testing.assert_allclose(noise, np.random.default_rng(20240601).normal(0.0, 0.1, 2500), atol=1e-12)  # the header's seed
    r = term_residuals(problem.terms["data"], exact_field(), jnp.asarray(rows))
    np.testing.assert_allclose(np.asarray(r)[:, 0], -noise, atol=1e-12)


def test_evaluation_rows(problem):
    points, ref = (np.asarray(v) for v in problem.reference_data)
    u_rows, a_rows = points[:9900], points[9900:]
    centres = -1 + (2 * np.arange(30) + 1) / 30
    assert sorted(set(np.round(u_rows[:, 2], 12))) == [k / 10 for k in range(11)]
    assert len({tuple(p) for p in np.round(u_rows, 12)}) == 9900
    np.testing.assert_allclose(np.unique(u_rows[:, 0]), centres, atol=1e-15)
    assert np.all(a_rows[:, 2] == A_ROW) and len({tuple(p) for p in a_rows[:, :2]}) == 900
    np.testing.assert_array_equal(ref[:9900, 1], 0.0)
    np.testing.assert_array_equal(ref[9900:, 0], 0.0)


def _stacked(problem, u, a):
    points, ref = problem.reference_data
    pred = jax.vmap(lambda z: stacked_quantity(exact_field(u, a), z))(jnp.asarray(points))
    return {k: float(v) for k, v in component_errors(pred, jnp.asarray(ref), problem.components).items()}


def test_joint_metric_is_zero_on_the_truth_and_a_hand_computation_on_a_shift(problem):
    assert max(_stacked(problem, exact_u, exact_a).values()) < 1e-14  # numpy and XLA sines differ in the last bit
    # u* + 0.1 at the 9,900 u nodes, a* - 0.2 at the 900 a nodes. On the 30 cell centres of
    # [-1, 1]: sum sin(pi x_i) = 0 and sum sin^2(pi x_i) = 15, so with s = sin(pi x) sin(pi y),
    # sum s = 0, sum s^2 = 225: sum a*^2 = 4 * 900 + 225 = 3825, sum u*^2 = 225 sum_k e^(-0.2 k).
    errors = _stacked(problem, lambda z: exact_u(z) + 0.1, lambda z: exact_a(z) - 0.2)
    u_sq = 225 * (1 - np.exp(-2.2)) / (1 - np.exp(-0.2))
    assert errors["l2re"] == pytest.approx(np.sqrt((9900 * 0.01 + 900 * 0.04) / (u_sq + 3825)), rel=1e-12)
    assert errors["l2/u"] == pytest.approx(np.sqrt(9900 * 0.01 / u_sq), rel=1e-12)
    assert errors["l2/a"] == pytest.approx(np.sqrt(900 * 0.04 / 3825), rel=1e-12)


def test_the_unknown_field_sees_x_and_y_only(problem, small):
    spec = problem.unknowns["a"]
    assert spec.indices(problem.domain.names, "a") == (0, 1) and spec.network.layers == (2, 50, 50, 50, 50, 50, 1)
    net = with_unknowns(small, MLP((3, 4, 1)))
    params = init(small, MLP((3, 4, 1)), 0)
    a = jax.jit(lambda z: net.values(params)["a"](z))
    z = jnp.array([0.2, -0.7, 0.1])
    values = [float(a(z.at[2].set(t))) for t in (0.0, 0.5, 1.0, A_ROW)]
    assert values == [values[0]] * 4 and float(a(z.at[0].set(0.5))) != values[0]
    grad = jax.jit(lambda z: gradient(a, z))(z)
    assert float(grad[2]) == 0.0 and float(jnp.abs(grad[:2]).min()) > 0.0


def test_metrics_through_the_wrapped_network_and_final_parameters(small):
    problem, net = small, MLP((3, 4, 1))
    params = init(problem, net, 1)
    points, ref = problem.reference_data
    pred = np.asarray(predict(with_unknowns(problem, net), params, jnp.asarray(points), problem))
    wrapped = with_unknowns(problem, net)
    u = jax.vmap(wrapped.field(params))(jnp.asarray(points[:9900]))
    a = jax.vmap(wrapped.values(params)["a"])(jnp.asarray(points[9900:]))
    diff = np.concatenate([np.asarray(u) - ref[:9900, 0], np.asarray(a) - ref[9900:, 1]])
    hand = np.linalg.norm(diff) / np.linalg.norm(np.concatenate([ref[:9900, 0], ref[9900:, 1]]))
    final = final_component_metrics(problem, net, params)  # given the bare network, as run folders call it
    assert final["final_l2re"] == pytest.approx(hand, rel=1e-12)
    np.testing.assert_array_equal(pred[:9900, 1], 0.0)
    with pytest.raises(TypeError, match=r"for_problem\(problem, network\)"):
        stacked_quantity(net.field(params["network"]), jnp.asarray(points[0]))


@pytest.mark.parametrize("method", ["constant", "lr-annealing", "lr-annealing-pinnacle", "ntk", "annealing-lbfgs"])
def test_protocol_configs_follow_the_spec(method):
    from pathlib import Path

    from pinnbalance import config as cfg

    run = cfg.load(Path(__file__).parents[2] / "configs" / "pinnacle" / f"heat-inverse-{method}.toml")  # checked, not built
    assert run.problem.name == "heat-inverse" and dict(run.problem.parameters) == {"a_width": 50, "a_depth": 5}
    assert tuple(run.network.hidden) == (50,) * 5 and run.network.activation == "tanh"
    # PINNacle's x4 points for HInv (4 x 8,192 interior, 4 x 2,048 boundary) in every file; every observation
    assert dict(run.batch_size) == {"res": 4 * 8192, "a_bc": 4 * 2048, "data": 2500}
    assert run.train.steps == 20000 and run.train.learning_rate == 1e-3 and run.train.optimizer_name == "adam"
    assert run.train.sampling == "fixed" and run.train.dtype == "float32"
