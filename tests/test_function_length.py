"""Issue 16's limit on the shape of the code: no function in src/pinnbalance over 60 lines."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "long_functions", Path(__file__).resolve().parent.parent / "tools" / "long_functions.py"
)
long_functions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(long_functions)


def test_no_function_in_the_package_is_longer_than_60_lines():
    assert long_functions.long_functions(60) == []
