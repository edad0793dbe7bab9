"""A problem of the user's own file, named ``my_pde.py:factory``, trains from the command line
(``pinnbalance run`` with resume, ``compare``) with nothing registered, and each way that name
can be wrong gets a one-line error naming the part that failed."""

import doctest
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from pinnbalance import config as cfg
from pinnbalance.cli import main
from pinnbalance.io import read_history_csv
from pinnbalance.problems import PROBLEMS, external
from pinnbalance.problems.external import ProblemNameError, declaration, find_factory, is_external, make_problem, short_name

# -u'' = k^2 pi^2 sin(k pi x) on [0, 1], u(0) = u(1) = 0: u = sin(k pi x)
USER_PDE = '''
import jax
import jax.numpy as jnp

from helpers import forcing  # a neighbour of this file: its folder is on sys.path
from pinnbalance import Problem, Term
from pinnbalance.derivatives import axis_derivatives
from pinnbalance.problems import Box, stacked, uniform


def poisson_1d(k: int = 1):
    """-u'' = (k pi)^2 sin(k pi x) on [0, 1], u = 0 at both ends."""
    domain = Box((0.0,), (1.0,), ("x",))

    def exact(z):
        return jnp.sin(k * jnp.pi * z[0])

    def res(u, z):
        return -axis_derivatives(u, z)[2][0] - forcing(k, z[0])

    def ends(u, zs):
        return jax.vmap(u)(zs)

    sides = stacked([uniform(domain, {"x": 0.0}), uniform(domain, {"x": 1.0})])
    terms = {"res": Term(res, uniform(domain)), "bcs": Term(ends, sides)}
    return Problem("poisson-1d", domain, terms, exact=exact, parameters={"k": k})


def not_a_problem():
    return 42


PROBLEM = poisson_1d(k=3)  # a problem given as an object, not a factory


NOT_A_FUNCTION = 3
'''
HELPERS = """
import jax.numpy as jnp


def forcing(k, x):
    return (k * jnp.pi) ** 2 * jnp.sin(k * jnp.pi * x)
"""
CONFIG = """
[problem]
name = "{name}"
parameters = {{ k = 2 }}

[network]
hidden = [16, 16]

[weighting]
scheme = "constant"

[sampling]
batch_size = {{ res = 64, bcs = 8 }}
mode = "fixed"

[lm]
max_iters = {iters}
log_every = 5
dtype = "float64"

[train]
steps = 0
dtype = "float64"

[output]
dir = "{out}"
"""

TWO_DEVICES = """
[problem]
name = "pde.py:poisson_1d"

[network]
hidden = [8]

[sampling]
batch_size = { res = 32, bcs = 4 }

[train]
steps = 20
seeds = [1, 2]
devices = 2
log_every = 10
chunk_logs = 1
checkpoint_every = 10

[output]
dir = "two"
"""


@pytest.fixture
def user_folder(tmp_path, monkeypatch):
    """A folder holding ``pde.py`` (and the ``helpers.py`` it imports), made the current directory."""
    (tmp_path / "pde.py").write_text(USER_PDE)
    (tmp_path / "helpers.py").write_text(HELPERS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the folders loading puts there go with the test
    yield tmp_path
    for name in [n for n in PROBLEMS if is_external(n)]:  # so do its registrations and modules
        del PROBLEMS[name]
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


def test_a_file_factory_trains_from_a_toml_and_resumes(user_folder):
    """``name = "pde.py:poisson_1d"`` with ``k = 2``: Levenberg-Marquardt reaches the closed form
    sin(2 pi x); the run folder's config keeps the name, and a run cut at iteration 10 resumes
    from it to the uninterrupted run's history."""
    (user_folder / "run.toml").write_text(CONFIG.format(name="pde.py:poisson_1d", iters=40, out="straight"))
    assert main(["run", "run.toml", "--no-progress"]) == 0
    summary = json.loads((user_folder / "straight" / "summary.json").read_text())
    assert summary["problem"] == "poisson-1d" and summary["final_l2"] < 1e-3
    assert cfg.load(user_folder / "straight" / "config.toml").problem.name == "pde.py:poisson_1d"
    # the factory's parameter reached the problem: its exact solution is sin(2 pi x)
    problem = make_problem("pde.py:poisson_1d", {"k": 2})
    assert problem.parameters == {"k": 2} and math.isclose(float(problem.exact(np.array([0.25]))), 1.0)

    (user_folder / "cut.toml").write_text(CONFIG.format(name="pde.py:poisson_1d", iters=10, out="cut"))
    assert main(["run", "cut.toml", "--no-progress"]) == 0
    resumed = ["run", "run.toml", "--resume", "cut", "--no-progress"]
    assert main(resumed) == 0
    a, b = read_history_csv(user_folder / "straight" / "history.csv"), read_history_csv(user_folder / "cut" / "history.csv")
    np.testing.assert_allclose(b["l2"], a["l2"], rtol=1e-8)
    lm = json.loads((user_folder / "cut" / "summary.json").read_text())["lm"]
    assert lm["iterations"] == 40 and len(lm["record_seconds"]) == 6  # this session's records: iterations 15 to 40


def test_a_file_factory_run_and_sweep_get_the_devices_their_config_asks_for(user_folder):
    """``pinnbalance run``, then ``sweep`` (two schemes), in fresh processes, train.devices = 2,
    seeds 1 and 2: checking a configuration builds the user's problem (which starts JAX), so the
    devices are simulated before it; every run records two devices."""
    (user_folder / "two.toml").write_text(TWO_DEVICES)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}
    command = [sys.executable, "-m", "pinnbalance.cli", "run", "two.toml", "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((user_folder / "two" / "summary.json").read_text())
    assert summary["numerics"]["devices"] == 2 and summary["seeds"] == [1, 2]
    (user_folder / "sweep.toml").write_text('base = "two.toml"\n\n[grid]\n"weighting.scheme" = ["constant", "lr-annealing"]\n')
    command = [sys.executable, "-m", "pinnbalance.cli", "sweep", "sweep.toml", "--out", "swept", "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for run in json.loads((user_folder / "swept" / "results.json").read_text())["runs"]:
        assert run["status"] == "trained"
        assert json.loads((user_folder / "swept" / run["name"] / "summary.json").read_text())["numerics"]["devices"] == 2


def test_compare_takes_a_file_factory_and_names_its_folder_after_the_function(user_folder, capsys):
    argv = ["compare", "pde.py:poisson_1d", "--schemes", "constant", "--seeds", "1", "--steps", "20", "--no-progress"]
    assert main(argv) == 0
    table = json.loads((user_folder / "runs" / "compare-poisson_1d" / "compare.json").read_text())
    assert table["problem"] == "poisson-1d" and "constant" in table["schemes"]


def test_a_configuration_builds_the_problem_once_per_parameters(user_folder):
    """Validating a configuration builds an undeclared problem to read its names; again with
    the same parameters (a sweep validates each job several times) it is not built again."""
    (user_folder / "counted.py").write_text(
        USER_PDE + "\nBUILT = []\n\n\ndef counted(k: int = 1):\n    BUILT.append(k)\n    return poisson_1d(k)\n"
    )
    data = {"problem": {"name": "counted.py:counted", "parameters": {"k": 2}}, "sampling": {"batch_size": {"res": 8, "bcs": 2}}}
    first, again = cfg.from_dict(data), cfg.from_dict(data)
    module = sys.modules[find_factory("counted.py:counted").__module__]
    assert first == again and module.BUILT == [2]
    assert declaration("counted.py:counted", {"k": 3}).term_names == ("res", "bcs") and module.BUILT == [2, 3]


def test_a_module_level_problem_object_is_its_own_factory(user_folder):
    problem = make_problem("pde.py:PROBLEM")
    assert problem.parameters == {"k": 3} and math.isclose(float(problem.exact(np.array([1 / 6]))), 1.0, abs_tol=1e-12)
    with pytest.raises(cfg.ConfigError, match=r"unknown key problem.parameters.'k'; valid keys are \[\]"):
        cfg.from_dict({"problem": {"name": "pde.py:PROBLEM", "parameters": {"k": 2}}})


def test_a_file_named_like_a_module_does_not_stand_in_for_it(user_folder):
    """``json.py:poisson_1d``: the user's file loads under a name of its own; ``json`` stays the
    standard library's, and a second name for the same file reuses the loaded module."""
    (user_folder / "json.py").write_text(USER_PDE)
    factory = find_factory("json.py:poisson_1d")
    assert sys.modules["json"] is json and json.dumps([1]) == "[1]"
    assert factory.__module__ != "json" and sys.modules[factory.__module__].__file__ == str(user_folder / "json.py")
    assert find_factory("./json.py:poisson_1d") is factory


def test_a_dotted_module_in_the_current_directory(user_folder):
    package = user_folder / "mypdes"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "onedim.py").write_text(USER_PDE)
    factory = find_factory("mypdes.onedim:poisson_1d")
    assert factory is PROBLEMS["mypdes.onedim:poisson_1d"] and factory(k=1).name == "poisson-1d"


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.py:f", "no file missing.py (relative paths are from the current directory"),
        (
            "pde.py:poisson1d",
            "pde.py has no 'poisson1d' (did you mean 'poisson_1d'?); its functions and problems: poisson_1d, not_a_problem, PROBLEM",
        ),
        ("pde.py:PROBLM", "(did you mean 'PROBLEM'?)"),
        ("script.py:f", "loading script.py ran its code and it exited (script.py, line 4: SystemExit: 2); put what should"),
        ("mypdes.broken:f", "importing mypdes.broken failed: broken.py, line 1: ModuleNotFoundError: No module named 'pd_'"),
        ("pde.py:NOT_A_FUNCTION", "pde.py's 'NOT_A_FUNCTION' is not callable (int): name a function returning a Problem"),
        ("broken.py:f", "loading broken.py failed: broken.py, line 3: NameError: name 'undefined_name' is not defined"),
        ("syntax.py:f", "loading syntax.py failed: SyntaxError"),
        ("no_such_package.pdes:f", "no module 'no_such_package' in the current directory"),
        ("my pde:f", "'my pde' is neither a .py file nor a dotted module name"),
        ("poisson_1d", "valid problems: klein-gordon, helmholtz"),
        ("poisson_1d", "or a function of your own, e.g. 'my_pde.py:poisson_2d' (docs/own-pde.md)"),
    ],
)
def test_each_wrong_name_says_what_failed(user_folder, name, message):
    (user_folder / "broken.py").write_text("import math\n\nx = undefined_name + 1\n")
    (user_folder / "syntax.py").write_text("def f(:\n    pass\n")
    (user_folder / "script.py").write_text(
        "import argparse\n\nparser = argparse.ArgumentParser()\nparser.parse_args(['--nope'])\n"
    )
    (user_folder / "mypdes").mkdir()
    (user_folder / "mypdes" / "__init__.py").write_text("")
    (user_folder / "mypdes" / "broken.py").write_text("import pd_\n")
    with pytest.raises(ProblemNameError) as err:
        find_factory(name)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)  # as an unknown name always was
    assert name not in PROBLEMS


def test_a_factory_that_returns_no_problem_is_named(user_folder, capsys):
    with pytest.raises(ProblemNameError, match=r"the factory returned 42 \(int\), not a pinnbalance Problem"):
        make_problem("pde.py:not_a_problem")
    bad = CONFIG.format(name="pde.py:not_a_problem", iters=5, out="bad").replace("parameters = { k = 2 }", "")
    (user_folder / "bad.toml").write_text(bad)
    assert main(["run", "bad.toml", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: problem.name 'pde.py:not_a_problem': the factory returned 42 (int)" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["diagnose", "pde.py:not_a_problem"]) == 2 and "returned 42 (int)" in capsys.readouterr().err
    assert not (user_folder / "bad").exists() and not (user_folder / "runs").exists()  # nothing half-written


def test_toml_and_command_line_errors_name_the_key(user_folder, capsys):
    with pytest.raises(cfg.ConfigError, match=r"problem.name 'pde.py:poisson_2d': pde.py has no 'poisson_2d'"):
        cfg.from_dict({"problem": {"name": "pde.py:poisson_2d"}})
    with pytest.raises(cfg.ConfigError, match=r"unknown key problem.parameters.'kk' \(did you mean 'k'\?\)"):
        cfg.from_dict({"problem": {"name": "pde.py:poisson_1d", "parameters": {"kk": 2}}})
    assert main(["reproduce", "pde.py:poisson", "--steps", "5"]) == 2
    assert "has no 'poisson'" in capsys.readouterr().err


def test_names_and_folders():
    assert is_external("pde.py:f") and is_external("C:\\work\\pde.py:f") and is_external("pkg.mod:f")
    assert not is_external("klein-gordon") and not is_external(":f") and not is_external("pde.py:")
    assert not is_external("C:\\work\\pde.py") and not is_external("pde.py:f-1")  # no Python name after the colon
    assert short_name("runs/pde.py:poisson_1d") == "poisson_1d" and short_name("wave-1d") == "wave-1d"


def test_the_module_doctest():
    assert doctest.testmod(external, optionflags=doctest.ELLIPSIS).failed == 0
