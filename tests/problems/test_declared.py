"""Each registered problem's declaration (what a configuration checks names against without
building the problem) is what building it gives."""

import pytest

from pinnbalance.problems import DECLARED, PROBLEMS, Declared


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_declaration_matches_the_built_problem(name):
    kwargs = {"reference_n": 9} if name == "cavity" else {}  # a coarse reference solve: the names do not depend on it
    assert Declared.of(PROBLEMS[name](**kwargs)) == DECLARED[name]


def test_every_shipped_problem_is_declared():
    assert {"klein-gordon", "helmholtz", "wave", "cavity"} <= set(DECLARED) and set(PROBLEMS) <= set(DECLARED)
