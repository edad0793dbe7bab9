"""``[unknowns.NAME]`` in a run configuration: it sets a packaged problem's scalar unknowns,
round-trips through the written config, and bad names, keys and values are named."""

import pytest

from pinnbalance import config as cfg
from pinnbalance.problems import Scalar

BASE = {"problem": {"name": "poisson-inverse"}, "network": {"hidden": [8]}}


def test_the_table_overrides_the_declared_unknown():
    config = cfg.from_dict({**BASE, "unknowns": {"k": {"init": 2.0, "learning_rate": 0.01}}})
    problem = config.build_problem()
    assert problem.unknowns["k"] == Scalar(2.0, positive=True, learning_rate=0.01)  # positive: the problem's own choice
    assert cfg.from_dict(BASE).build_problem().unknowns["k"] == Scalar(1.0, positive=True)


def test_the_written_configuration_reads_back_the_same(tmp_path):
    config = cfg.from_dict({**BASE, "unknowns": {"k": {"init": 2.0, "positive": False}}})
    path = tmp_path / "c.toml"
    path.write_text(cfg.dumps(config))
    assert cfg.load(path) == config


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kk": {"init": 1.0}}, r"unknown key unknowns.'kk' \(did you mean 'k'\?\); valid keys are \['k'\]"),
        ({"k": {"intt": 1.0}}, r"unknown key unknowns.k.'intt' \(did you mean 'init'\?\)"),
        ({"k": {"init": "one"}}, r"unknowns.k.init must be a number, got 'one'"),
        ({"k": {"learning_rate": 0.0}}, r"unknowns.k: unknown 'k': learning_rate must be a positive number"),
        (
            {"k": {"init": -1.0, "positive": True}},
            r"unknowns.k: unknown 'k' is positive but initialised at -1.0; give a positive init",
        ),
        ({"k": 1.0}, r"unknowns.k must be a table"),
    ],
)
def test_bad_tables_are_named(table, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.from_dict({**BASE, "unknowns": table})


def test_a_problem_without_unknowns_takes_no_table():
    with pytest.raises(cfg.ConfigError, match=r"unknown key unknowns.'k'; valid keys are \[\]"):
        cfg.from_dict({"unknowns": {"k": {"init": 1.0}}})


def test_a_negative_init_for_the_problems_positive_unknown_fails_when_built():
    config = cfg.from_dict({**BASE, "unknowns": {"k": {"init": -1.0}}})  # positive comes from the problem, not the file
    with pytest.raises(cfg.ConfigError, match=r"unknown 'k' is positive but initialised at -1.0"):
        config.build_problem()
