"""The checks a run configuration leaves to the library: each library object refuses the bad
value itself, and the configuration re-raises its message under the TOML key's dotted path.

Also the size limit of issue 16: the configuration layer's code (``tools/count_config_lines.py``)
stays under 300 lines.
"""

import runpy
import tokenize
from pathlib import Path

import pytest

from pinnbalance import config as cfg
from pinnbalance.nn import fourier_for, mlp_for, modified_mlp_for, piratenet_for
from pinnbalance.problems import Box, check_batch_sizes, check_names
from pinnbalance.training.sampling import Sampling
from pinnbalance.weighting import LearningRateAnnealing, SelfAdaptive

ROOT = Path(__file__).resolve().parents[1]
TERMS = ("res", "ics", "bcs")


def test_batch_sizes_one_for_all_or_by_name():
    assert check_batch_sizes(64, TERMS) == {"res": 64, "ics": 64, "bcs": 64}
    assert check_batch_sizes({"bcs": 32}, TERMS) == {"bcs": 32}
    with pytest.raises(ValueError, match=r"^batch_size must be a positive integer, got 0$"):
        check_batch_sizes(0, TERMS)
    with pytest.raises(ValueError, match=r"^batch_size\['ics'\] must be a positive integer, got -1$"):
        check_batch_sizes({"ics": -1}, TERMS)
    with pytest.raises(KeyError, match=r"unknown batch size name\(s\) \['bsc'\] \(did you mean 'bcs'\?\)"):
        check_batch_sizes({"bsc": 8}, TERMS)


def test_a_misspelt_term_name_gets_the_closest_one_and_several_get_none():
    with pytest.raises(KeyError, match=r"\['ic'\] \(did you mean 'ics'\?\); valid term names are \['res', 'ics', 'bcs'\]"):
        check_names(["ic"], TERMS)
    with pytest.raises(KeyError, match=r"\['ic', 'bc'\]; valid term names are"):
        check_names(["ic", "bc"], TERMS)


@pytest.mark.parametrize("builder", [mlp_for, modified_mlp_for, fourier_for, piratenet_for])
@pytest.mark.parametrize("hidden", [(), (8, 0)])
def test_every_builder_refuses_empty_or_non_positive_hidden_widths(builder, hidden):
    box = Box((0.0, 0.0), (1.0, 1.0), ("t", "x"))
    with pytest.raises(ValueError, match=r"^hidden must list one positive width per hidden layer, e\.g\. \[50, 50\]; got \["):
        builder(box, hidden=hidden)


def test_point_weights_need_fixed_points():
    Sampling("fixed").check_scheme(SelfAdaptive())  # fine
    Sampling("random").check_scheme(LearningRateAnnealing())  # a term scheme: any sampling
    with pytest.raises(ValueError, match="SelfAdaptive attaches a weight to each collocation point"):
        Sampling("random").check_scheme(SelfAdaptive())


@pytest.mark.parametrize(
    "data, message",
    [
        ({"sampling": {"batch_size": {"ics": 0}}}, "sampling.batch_size['ics'] must be a positive integer, got 0"),
        ({"sampling": {"batch_size": -3}}, "sampling.batch_size must be a positive integer, got -3"),
        ({"weighting": {"scheme": "self-adaptive"}}, "[sampling]: SelfAdaptive attaches a weight to each collocation point"),
        (
            {"weighting": {"scheme": "lr-annealing", "term_statistic": "mean_abss"}},
            "weighting.term_statistic 'mean_abss' is unknown (did you mean 'mean_abs'?)",
        ),
        ({"weighting": {"scheme": "lr-annealing", "reference_statistic": 3}}, "weighting.reference_statistic must be a string"),
        ({"network": {"type": "piratenet", "hidden": []}}, "network.hidden must list one positive width per hidden layer"),
        ({"lbfgs": {"weights": "thawed"}}, "lbfgs.weights must be one of ['frozen', 'unit'] or a mapping"),
        ({"lm": {"weights": {"bsc": 1.0}}}, "lm.weights names term(s) ['bsc'] that the problem does not have"),
    ],
)
def test_library_errors_come_back_under_the_key_path(data, message):
    with pytest.raises(cfg.ConfigError) as err:
        cfg.from_dict(data)
    assert message in str(err.value)


def test_a_scheme_by_an_unknown_name_is_refused_with_a_suggestion():
    with pytest.raises(cfg.ConfigError, match=r"weighting.scheme 'constnt' is unknown \(did you mean 'constant'\?\)"):
        cfg.scheme_for("constnt", None)


def test_the_counter_skips_docstrings_comments_and_blank_lines(tmp_path):
    count = runpy.run_path(str(ROOT / "tools" / "count_config_lines.py"))["code_lines"]
    source = '"""Module\ndocstring."""\n\n# a comment\nX = (\n    1,  # two lines of code\n)\n\n\ndef f():\n    """One."""\n    return "not a\\n docstring"\n'
    assert count(source) == 5  # X = (, 1, ), def f, return
    path = tmp_path / "m.py"
    path.write_text(source)
    with tokenize.open(path) as f:  # the same text read back as Python reads it
        assert count(f.read()) == 5


def test_configuration_code_is_under_300_lines():
    counts = runpy.run_path(str(ROOT / "tools" / "count_config_lines.py"))["count"]()
    assert sum(counts.values()) < 300, counts
