"""The library objects that configuration sections are now read onto directly: ``Causal``
takes ``[causal]``'s whole eps list and its term, checks names against a declaration, and
``Problem.with_unknowns`` sets ``[unknowns.NAME]``'s fields on a problem's scalars."""

import pytest

from pinnbalance.problems import Box, Problem, Scalar, Term, klein_gordon, uniform
from pinnbalance.weighting.causal import Causal, causal_problem


def test_an_eps_list_is_the_first_value_then_the_schedule():
    listed = Causal(slices=8, eps=[0.01, 0.1, 1.0])
    assert listed == Causal(slices=8, eps=0.01, eps_schedule=(0.1, 1.0))
    assert listed.eps_values == (0.01, 0.1, 1.0) and Causal(eps=(2.0,)).eps_values == (2.0,)
    with pytest.raises(ValueError, match="eps must list at least one causality parameter"):
        Causal(eps=())
    with pytest.raises(ValueError, match="eps_schedule must be empty"):
        Causal(eps=(0.1, 1.0), eps_schedule=(10.0,))  # two schedules: ambiguous
    with pytest.raises(ValueError, match="eps then eps_schedule must increase strictly"):
        Causal(eps=[1.0, 0.5])


def test_names_are_checked_against_terms_and_coordinates():
    Causal(term="ics").check(("res", "ics"), ("t", "x"))  # fine
    with pytest.raises(KeyError, match=r"term 'rs' is not a term of the problem; valid term names are \['res', 'ics'\]"):
        Causal(term="rs").check(("res", "ics"), ("t", "x"))
    with pytest.raises(KeyError, match=r"time 'tau' is not a coordinate .* its coordinates are \['t', 'x'\]"):
        Causal(time="tau").check(("res",), ("t", "x"))


def test_the_causal_term_defaults_to_the_reference_and_may_be_named():
    problem = klein_gordon()
    assert causal_problem(problem, Causal(slices=4)).terms["res"].reduce is not None
    made = causal_problem(problem, Causal(slices=4, term="ics"))
    assert made.terms["ics"].reduce is not None and made.terms["res"].reduce is None


def test_with_unknowns_replaces_only_the_given_fields():
    box = Box((0.0,), (1.0,), ("x",))
    problem = Problem(
        "p", box, {"res": Term(lambda u, z, *, k: k * u(z), uniform(box), 4)}, unknowns={"k": Scalar(1.0, positive=True)}
    )
    assert problem.with_unknowns({}).unknowns == problem.unknowns
    assert problem.with_unknowns({"k": {"init": 2.0}}).unknowns["k"] == Scalar(2.0, positive=True)
    with pytest.raises(ValueError, match="unknown 'k' is positive but initialised at -1.0"):  # checked again as a Problem
        problem.with_unknowns({"k": {"init": -1.0}})
    with pytest.raises(KeyError, match=r"problem 'p' has no unknown 'q'; its unknowns are \['k'\]"):
        problem.with_unknowns({"q": {"init": 1.0}})
    assert problem.unknowns["k"].init == 1.0  # the original is unchanged


def test_toml_files_round_trip_and_name_the_file(tmp_path):
    import tomllib

    from pinnbalance.io import read_toml, toml_text

    tables = {"train": {"steps": 10, "seeds": [1, 2], "dtype": "float64"}, "lbfgs": {"weights": {"bcs": 1e4}, "grad_tol": 1e-08}}
    assert tomllib.loads(toml_text(tables)) == tables
    (tmp_path / "a.toml").write_text(toml_text(tables))
    assert read_toml(tmp_path / "a.toml") == tables
    with pytest.raises(KeyError, match=r"sweep file .*b.toml does not exist"):
        read_toml(tmp_path / "b.toml", "sweep file", KeyError)


def test_overrides_leave_the_callers_nested_tables_alone():
    from pinnbalance.config import apply_overrides

    data = {"problem": {"name": "poisson-inverse"}, "unknowns": {"k": {"init": 1.0}}}
    changed = apply_overrides(data, ["unknowns.k.init=2.0"])
    assert changed["unknowns"]["k"]["init"] == 2.0 and data["unknowns"]["k"]["init"] == 1.0
