"""Bad Levenberg-Marquardt settings are errors that name the field; the modules' examples run."""

import doctest
import importlib
import re
from pathlib import Path

import pytest

from pinnbalance.lm import (
    LevenbergMarquardt,
)

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"max_iters": 0}, "max_iters"),
        ({"damping": 0.0}, "damping"),
        ({"damping": 1e12}, "min_damping <= damping <= max_damping"),
        ({"rule": "marquardt"}, "rule"),
        ({"increase": 0.5}, "increase"),
        ({"decrease": 1.5}, "decrease"),
        ({"grad_tol": -1.0}, "grad_tol"),
        ({"solver": "cg"}, "solver"),
        ({"dtype": "float16"}, "dtype"),
        ({"weights": "adaptive"}, "weights"),
        ({"weights": {"bcs": -1.0}}, "weights"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_memory_gb": 0}, "max_memory_gb"),
        ({"log_every": True}, "log_every"),
    ],
)
def test_bad_settings_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=re.escape(field)):
        LevenbergMarquardt(**kwargs)


@pytest.mark.parametrize("module", ["settings", "residuals", "solve", "damping", "cost", "loop"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"pinnbalance.lm.{module}"))
    assert result.failed == 0 and result.attempted > 0
