"""Enabling the compile cache and compiling prints no warning: a fresh install runs clean.

JAX's size-limited cache needs the ``filelock`` package; without it every compile warned
"Please install the `filelock` package". It is a runtime dependency now, and a process
without it (a --no-deps install) gets an unlimited cache instead of the warning. Each case
runs in a fresh process: JAX sets its cache up once per process."""

import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys, warnings
if {block}:
    sys.modules["filelock"] = None  # as if the package were not installed
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import jax
    from pinnbalance.compile_cache import enable_compile_cache
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # write even this tiny program
    enable_compile_cache({folder!r})
    assert float(jax.jit(lambda x: 2 * x + 1)(1.0)) == 3.0
    assert float(jax.jit(lambda x: 2 * x + 1)(2.0)) == 5.0
print("limit", jax.config.jax_compilation_cache_max_size)
print("warnings", [str(w.message) for w in caught])
"""


@pytest.mark.parametrize("block", [False, True], ids=["filelock", "without-filelock"])
def test_enabling_the_cache_emits_no_warning(tmp_path, block):
    folder = tmp_path / "xla"
    code = textwrap.dedent(SCRIPT.format(block=block, folder=str(folder)))
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "warnings []" in done.stdout, done.stdout
    assert "Warning" not in done.stderr, done.stderr
    assert ("limit -1" in done.stdout) == block  # the size limit only where filelock can enforce it
    assert any(folder.iterdir())  # the program was cached


def test_filelock_is_a_runtime_dependency():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.split(">")[0].split("=")[0].strip() == "filelock" for d in dependencies)
