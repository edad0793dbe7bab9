"""Load a benchmark script (benchmarks/NAME.py) as a module, for tests of its bookkeeping (no training)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str, module_name: str):
    """``benchmarks/{name}.py`` executed as the module ``module_name``."""
    spec = importlib.util.spec_from_file_location(module_name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
