"""A problem's hard constraint (``Problem(hard=HardConstraint(g, d))``): every network trained on
it meets the constraint exactly, in ``fit``, in run folders written from a TOML and reloaded
with ``load_run``; ``wave(hard=True)`` meets its initial and wall data exactly."""

import json
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnbalance import TrainConfig, fit, mlp_for
from pinnbalance.cli import main
from pinnbalance.io import load_params
from pinnbalance.metrics import evaluation_grid, relative_l2
from pinnbalance.nn import MLP
from pinnbalance.nn.hard import HardConstrained, for_problem
from pinnbalance.nn.with_unknowns import WithUnknowns, with_unknowns
from pinnbalance.problems import PROBLEMS, Box, HardConstraint, Problem, Term, uniform
from pinnbalance.problems.external import is_external
from pinnbalance.problems.wave import exact_solution, initial_displacement, wave
from pinnbalance.run_folder import load_run
from pinnbalance.weighting import Constant

# -u'' = (k pi)^2 sin(k pi x) on [0, 1]; u = x (1 - x) N meets u(0) = u(1) = 0: no boundary term
USER_PDE = """
import jax.numpy as jnp

from pinnbalance import Problem, Term
from pinnbalance.derivatives import axis_derivatives
from pinnbalance.problems import Box, HardConstraint, uniform


def poisson_hard(k: int = 1):
    domain = Box((0.0,), (1.0,), ("x",))

    def res(u, z):
        return -axis_derivatives(u, z)[2][0] - (k * jnp.pi) ** 2 * jnp.sin(k * jnp.pi * z[0])

    hard = HardConstraint(g=lambda z: 0.0, d=lambda z: z[0] * (1 - z[0]))
    exact = lambda z: jnp.sin(k * jnp.pi * z[0])  # noqa: E731
    return Problem("poisson-hard", domain, {"res": Term(res, uniform(domain))}, exact=exact, hard=hard)
"""
CONFIG = """
[problem]
name = "pde.py:poisson_hard"
parameters = { k = 2 }

[network]
hidden = [16, 16]

[sampling]
batch_size = 32

[train]
steps = 5
log_every = 5

[output]
dir = "hard"
"""
ENDS = np.array([[0.0], [1.0]])


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A folder holding ``pde.py``, made the current directory (its module and name go with the test)."""
    (tmp_path / "pde.py").write_text(USER_PDE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name in [n for n in PROBLEMS if is_external(n)]:
        del PROBLEMS[name]
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def test_a_file_problem_with_a_hard_constraint_runs_from_a_toml_and_reloads_exact_on_the_walls(user_folder):
    """The saved network is marked and reloads through ``load_run`` under the problem's transform
    (u = 0 exactly at both ends; the summary's error is the reloaded network's), from a
    ``pinnbalance run`` folder and a ``reproduce`` one; ``load_params`` without the constraint
    says how to load it. (Accuracy under a constraint: tests/test_docs_own_pde.py.)"""
    (user_folder / "run.toml").write_text(CONFIG)
    assert main(["run", "run.toml", "--no-progress"]) == 0
    summary = json.loads((user_folder / "hard" / "summary.json").read_text())
    model = load_run(user_folder / "hard")
    assert isinstance(model.network, HardConstrained)
    assert model.u(ENDS).ravel().tolist() == [0.0, 0.0]
    x = np.linspace(0.0, 1.0, 100)[:, None]
    error = float(relative_l2(jnp.asarray(model.u(x).ravel()), jnp.sin(2 * jnp.pi * jnp.asarray(x[:, 0]))))
    np.testing.assert_allclose(summary["final_l2"], error, rtol=1e-4)  # the final params', not step 0's record
    with pytest.raises(ValueError, match=r"hard constraint u = g\(z\) \+ d\(z\) N\(z\).*load_run"):
        load_params(user_folder / "hard")
    assert main(["reproduce", "pde.py:poisson_hard", "--steps", "3", "--methods", "M1", "--out", "rep"]) == 0
    assert load_run(user_folder / "rep", "M1").u(ENDS).ravel().tolist() == [0.0, 0.0]
    assert (user_folder / "rep" / "fields_M1.png").exists()  # a 1-D domain's fields: curves


def test_fit_trains_a_plain_network_under_the_problems_constraint():
    """``fit`` given a plain MLP trains ``u = u0(x) + ...``: the reported error is that of the
    transformed network, which meets the initial displacement exactly."""
    problem = wave(hard=True, residual_batch_size=32)
    network = mlp_for(problem.domain, (8,))
    config = TrainConfig(steps=11, log_every=10, dtype="float64", seed=0)  # the record at step 10: the final params
    result = fit(problem, network, Constant(), config, progress=False)
    u = for_problem(problem, network).field(result.params)
    points, exact = evaluation_grid(problem, config.eval_grid, jnp.float64)
    np.testing.assert_allclose(result.history["l2"][-1], float(relative_l2(jax.vmap(u)(points), exact)), rtol=1e-10)
    plain = float(relative_l2(jax.vmap(network.field(result.params))(points), exact))
    assert abs(plain - result.history["l2"][-1]) > 0.1  # not the untransformed network's error
    x = jnp.linspace(0.0, 1.0, 9)
    np.testing.assert_allclose(jax.vmap(u)(jnp.stack([0 * x, x], 1)), initial_displacement(x), atol=1e-15)


def initial_and_wall_data(u, t_or_x):
    """``(u(0, s), u_t(0, s), u(s, 0), u(s, 1))`` at the values ``s`` of ``t_or_x``."""
    on = lambda t, x: jax.vmap(lambda a, b: u(jnp.stack([a, b])))(t, x)  # noqa: E731
    zero, one = jnp.zeros_like(t_or_x), jnp.ones_like(t_or_x)
    rate = jax.vmap(lambda x: jax.jvp(lambda t: u(jnp.stack([t, x])), (0.0,), (1.0,))[1])(t_or_x)
    return on(zero, t_or_x), rate, on(t_or_x, zero), on(t_or_x, one)


@pytest.mark.parametrize("case", ["standing waves", "manufactured"])
def test_hard_wave_meets_initial_and_wall_data_for_any_network(case):
    """Random networks under ``wave(hard=True)``'s transform take the solution's initial
    displacement and velocity and its wall values (closed forms), while the residual is the only term."""
    s = jnp.linspace(0.0, 1.0, 11, dtype=jnp.float64)
    if case == "standing waves":
        problem, solution = wave(hard=True), exact_solution
    else:  # nonzero walls and initial velocity: s = sin(t + 2x) + t x^2
        solution = lambda z: jnp.sin(z[0] + 2 * z[1]) + z[0] * z[1] ** 2  # noqa: E731
        problem = wave(hard=True, exact=solution)
    assert problem.term_names == ("res",)
    want = initial_and_wall_data(solution, s)
    for seed in range(2):
        net = for_problem(problem, mlp_for(problem.domain, (8, 8)))
        u = net.field(net.init(jax.random.PRNGKey(seed), jnp.float64))
        for got, expected in zip(initial_and_wall_data(u, s), want):
            np.testing.assert_allclose(got, expected, atol=1e-13)
        inside = jnp.array([0.5, 0.3])
        assert abs(float(u(inside) - solution(inside))) > 1e-6  # the network still acts inside


def test_a_toml_asks_for_the_hard_wave_by_its_parameter():
    """The hard wave's terms are ``res`` alone: a batch size for the ``u`` term it leaves out is
    refused, naming the key, when the problem is built (loading a configuration builds no problem)."""
    from pinnbalance import config as cfg

    config = cfg.from_dict({"problem": {"name": "wave", "parameters": {"hard": True}}})
    problem = config.build_problem()
    assert problem.term_names == ("res",) and problem.hard is not None
    stale = cfg.from_dict({"problem": {"name": "wave", "parameters": {"hard": True}}, "sampling": {"batch_size": {"u": 10}}})
    with pytest.raises(cfg.ConfigError, match=r"sampling.batch_size.*\['u'\].*valid term names are \['res'\]"):
        stale.build_problem()
    with pytest.raises(cfg.ConfigError, match="problem.parameters.hard"):
        cfg.from_dict({"problem": {"name": "wave", "parameters": {"hard": 1.0}}})


def test_for_problem_wraps_once_and_keeps_a_network_of_ones_own():
    problem = wave(hard=True)
    net = for_problem(problem, MLP((2, 4, 1)))
    assert isinstance(net, HardConstrained) and for_problem(problem, net) is net
    own = HardConstrained(MLP((2, 4, 1)), g=lambda z: 1.0, d=lambda z: z[0])
    assert for_problem(problem, own) is own
    assert for_problem(wave(), MLP((2, 4, 1))) == MLP((2, 4, 1))  # no constraint: as it is


def test_the_heat_inverse_hard_wall_saves_from_a_run_and_reloads_with_its_constraint(tmp_path):
    """``a_hard = true`` from a TOML: the run writes a's network (marked); it reloads with
    ``hard=WALL`` and is 2 on the walls."""
    from pinnbalance.problems.heat_inverse import A_WALL, WALL

    (tmp_path / "h.toml").write_text(
        '[problem]\nname = "heat-inverse"\nparameters = { a_hard = true, a_width = 4, a_depth = 1 }\n'
        "[network]\nhidden = [4]\n[train]\nsteps = 2\nlog_every = 1\n[sampling]\nbatch_size = 8\n"
        f'[output]\ndir = "{tmp_path / "out"}"\n'
    )
    assert main(["run", str(tmp_path / "h.toml"), "--no-progress"]) == 0
    network, params = load_params(tmp_path / "out" / "unknowns" / "a", hard=WALL)
    a = network.field(params)
    assert [float(jnp.reshape(a(jnp.array(z)), ())) for z in ([1.0, 0.3], [0.2, -1.0])] == [A_WALL, A_WALL]


def test_least_squares_initialisation_is_refused_under_a_constraint():
    from pinnbalance.nn import piratenet_for
    from pinnbalance.training.physics_init import LeastSquaresInit

    problem = wave(hard=True)
    network = for_problem(problem, piratenet_for(problem.domain, (8, 8, 8), features=8))
    params = network.init(jax.random.PRNGKey(0), jnp.float64)
    with pytest.raises(ValueError, match=r'hard constraint the output is g \+ d N.*init = "random"'):
        LeastSquaresInit(points=8).apply(problem, network, params, jax.random.PRNGKey(1), jnp.float64)


def test_an_inverse_problem_under_a_constraint_trains_its_unknown_and_saves_the_marked_network(tmp_path):
    """A scalar unknown beside a hard constraint: the network carries both (unknowns outside,
    the transform inside), ``fit`` trains k, and the solution network saves marked."""
    from pinnbalance.io import save_params
    from pinnbalance.problems import Scalar
    from pinnbalance.unknown_outputs import solution_view

    box = Box((0.0,), (1.0,), ("x",))
    res = lambda u, z, *, k: k * u(z) - jnp.sin(jnp.pi * z[0])  # noqa: E731
    hard = HardConstraint(g=lambda z: 0.0, d=lambda z: z[0] * (1 - z[0]))
    exact = lambda z: jnp.sin(jnp.pi * z[0]) / 3  # k = 3  # noqa: E731
    terms = {"res": Term(res, uniform(box), 16)}
    problem = Problem("p", box, terms, exact=exact, unknowns={"k": Scalar(2.0)}, hard=hard)
    net = for_problem(problem, MLP((1, 4, 1)))
    assert isinstance(net, WithUnknowns) and isinstance(net.network, HardConstrained)
    result = fit(problem, MLP((1, 4, 1)), Constant(), TrainConfig(steps=3, log_every=1, dtype="float64"), progress=False)
    u = net.field(result.params)
    assert float(u(jnp.array([1.0]))) == 0.0 and float(u.unknowns["k"]) != 2.0
    carried = with_unknowns(problem, MLP((1, 4, 1)))  # built for the unknowns only: the transform still goes inside
    assert for_problem(problem, carried) == net and for_problem(problem, net) == net
    solution, solved = solution_view(net, result)
    save_params(tmp_path, solution, solved.params)
    reloaded, params = load_params(tmp_path, hard=hard)
    assert float(reloaded.field(params)(jnp.array([0.0]))) == 0.0


def test_bad_constraints_are_named():
    box = Box((0.0,), (1.0,), ("x",))
    terms = {"res": Term(lambda u, z: u(z), uniform(box))}
    with pytest.raises(TypeError, match=r"HardConstraint\.d must be a function of one point z"):
        HardConstraint(g=lambda z: 0.0, d=0.5)
    with pytest.raises(TypeError, match=r"hard must be a HardConstraint\(g=\.\.\., d=\.\.\.\).*got tuple"):
        Problem("p", box, terms, hard=(lambda z: 0.0, lambda z: z[0]))
    problem = Problem("p", box, terms, hard=HardConstraint(g=lambda z: 0.0, d=lambda z: z[0]))
    assert isinstance(for_problem(problem, MLP((1, 4, 1))), HardConstrained)
    assert not isinstance(for_problem(problem, MLP((1, 4, 1))), WithUnknowns)
