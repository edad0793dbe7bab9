"""``[unknowns.NAME]`` with ``kind = "field"``: a TOML table builds the same ``FieldUnknown`` as the
Python form, reads back as written, takes ``--set`` overrides, is validated without a JAX
backend, and bad values are refused naming the key."""

import math
import re
import tomllib
from pathlib import Path

import pytest

from pinnbalance import config as cfg
from pinnbalance.nn import mlp_for
from pinnbalance.problems import Box, FieldUnknown, Scalar

ROOT = Path(__file__).resolve().parents[1]
BASE = {"problem": {"name": "heat-inverse"}, "network": {"hidden": [8]}}
PLANE = Box((-1.0, -1.0), (1.0, 1.0), ("x", "y"))  # heat-inverse's domain [-1, 1]^2 x [0, 1] in (x, y)

FIELD_TOML = """
[problem]
name = "heat-inverse"

[network]
hidden = [8]

[unknowns.a]
kind = "field"
inputs = ["x", "y"]
hidden = [20, 20]
activation = "sin"
positive = true
learning_rate = 3e-3
"""


def test_a_toml_field_builds_the_python_form(tmp_path):
    path = tmp_path / "field.toml"
    path.write_text(FIELD_TOML)
    built = cfg.load(path).build_problem().unknowns["a"]
    assert built == FieldUnknown(mlp_for(PLANE, (20, 20), "sin"), inputs=("x", "y"), positive=True, learning_rate=3e-3)


def test_a_field_of_x_alone_is_normalised_on_x_range():
    built = cfg.from_dict({**BASE, "unknowns": {"a": {"inputs": ["x"]}}}).build_problem().unknowns["a"]
    # x uniform on [-1, 1]: mean 0, std 2 / sqrt(12); the declared 5 x 50 tanh layers are kept
    assert built.inputs == ("x",) and built.network.layers == (1, 50, 50, 50, 50, 50, 1)
    assert built.network.input_mean == (0.0,) and built.network.input_std == pytest.approx((2 / math.sqrt(12),), rel=1e-12)
    assert built.network.activation == "tanh" and built.positive is False and built.learning_rate is None


def test_keys_left_out_keep_the_declared_field():
    declared = cfg.from_dict(BASE).build_problem().unknowns["a"]
    assert declared == FieldUnknown(mlp_for(PLANE, (50,) * 5), inputs=("x", "y"))  # heat-inverse's own (PINNacle's 5 x 50)
    only_rate = cfg.from_dict({**BASE, "unknowns": {"a": {"learning_rate": 1e-2}}}).build_problem().unknowns["a"]
    assert only_rate.network == declared.network and only_rate.inputs == ("x", "y") and only_rate.learning_rate == 1e-2
    wider = cfg.from_dict({**BASE, "unknowns": {"a": {"hidden": [16]}}}).build_problem().unknowns["a"]
    assert wider == FieldUnknown(mlp_for(PLANE, (16,)), inputs=("x", "y"))


def test_written_back_and_overridden_from_the_command_line(tmp_path):
    config = cfg.from_dict({**BASE, "unknowns": {"a": {"kind": "field", "inputs": ["y", "x"], "hidden": [6]}}})
    path = tmp_path / "c.toml"
    path.write_text(cfg.dumps(config))
    assert cfg.load(path) == config
    changed = cfg.load(path, ["unknowns.a.hidden=[4, 4]", "unknowns.a.positive=true"]).build_problem().unknowns["a"]
    assert changed == FieldUnknown(mlp_for(Box((-1.0, -1.0), (1.0, 1.0), ("y", "x")), (4, 4)), inputs=("y", "x"), positive=True)


def test_a_scalar_table_may_say_its_kind():
    data = {
        "problem": {"name": "poisson-inverse"},
        "network": {"hidden": [8]},
        "unknowns": {"k": {"kind": "scalar", "init": 2.0}},
    }
    assert cfg.from_dict(data).build_problem().unknowns["k"] == Scalar(2.0, positive=True)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"inputs": ["x", "z"]},
            r"unknowns\.a\.inputs: 'z' is not a coordinate of the problem; give names from \['x', 'y', 't'\]",
        ),
        ({"inputs": ["x", "x"]}, r"unknowns\.a\.inputs must name at least one coordinate, each once; got \['x', 'x'\]"),
        ({"inputs": []}, r"unknowns\.a\.inputs must name at least one coordinate"),
        (
            {"hidden": []},
            r"unknowns\.a\.hidden: hidden must list one positive width per hidden layer, e\.g\. \[50, 50\]; got \[\]",
        ),
        ({"hidden": [8, 0]}, r"unknowns\.a\.hidden: hidden must list one positive width"),
        ({"hidden": [8.5]}, r"unknowns\.a\.hidden\[0\] must be an integer, got 8\.5"),
        ({"learning_rate": -1e-3}, r"unknowns\.a\.learning_rate must be a positive number \(leave it out for \[optimizer\]'s\)"),
        ({"activation": "tanhh"}, r"unknowns\.a\.activation: unknown activation 'tanhh'; valid: \["),
        (
            {"kind": "scalar"},
            r"unknowns\.a\.kind is 'scalar', but the problem declares 'a' as a field unknown .* set kind = \"field\"",
        ),
        ({"kind": "vector"}, r"unknowns\.a\.kind must be \"scalar\" or \"field\", got 'vector'"),
        (
            {"init": 1.0},
            r"unknowns\.a\.init applies to the other kind of unknown; 'a' is a field unknown, whose keys are \['inputs'",
        ),
        ({"widths": [8]}, r"unknown key unknowns\.a\.'widths'; valid keys are \["),
        ({"inputs": "x"}, r"unknowns\.a\.inputs must be a list, got 'x'"),
    ],
)
def test_bad_field_tables_are_named(table, message):
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.from_dict({**BASE, "unknowns": {"a": table}})


def test_field_keys_on_a_scalar_and_unknown_names_are_named():
    base = {"problem": {"name": "poisson-inverse"}, "network": {"hidden": [8]}}
    with pytest.raises(cfg.ConfigError, match=r"unknowns\.k\.hidden applies to the other kind of unknown; 'k' is a scalar"):
        cfg.from_dict({**base, "unknowns": {"k": {"hidden": [8]}}})
    with pytest.raises(cfg.ConfigError, match=r"unknowns\.k\.kind is 'field', but the problem declares 'k' as a scalar unknown"):
        cfg.from_dict({**base, "unknowns": {"k": {"kind": "field"}}})
    with pytest.raises(cfg.ConfigError, match=r"unknown key unknowns\.'aa' \(did you mean 'a'\?\); valid keys are \['a'\]"):
        cfg.from_dict({**BASE, "unknowns": {"aa": {"hidden": [8]}}})


def test_the_guides_field_table_builds_its_python_form():
    text = (ROOT / "docs" / "inverse.md").read_text()
    section = text[text.index("## A field unknown from TOML\n") :]
    toml_block = re.search(r"^```toml\n(.*?)^```$", section, re.M | re.S).group(1)
    python_block = re.search(r"^```python\n(.*?)^```$", section, re.M | re.S).group(1)
    python_form = eval(python_block, {"FieldUnknown": FieldUnknown, "mlp_for": mlp_for, "Box": Box})
    assert cfg.from_dict(tomllib.loads(toml_block)).build_problem().unknowns["a"] == python_form
    assert python_form.network.layers == (2, 32, 32, 32, 1) and python_form.positive and python_form.learning_rate == 3e-3
