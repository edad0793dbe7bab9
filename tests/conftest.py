"""Tests run with 64-bit support on, so float64 checks are possible; code under test
still chooses its dtype explicitly (float32 by default), which this also checks.

Compiled programs are kept (``pinnbalance.compile_cache``) in one temporary directory per
pytest run, shared by its worker processes and the command lines they start, not in the
user's cache: many tests train the same small set-up, and a program one compiled another
loads (about a tenth of the suite's time on a 2-core CPU).

With pytest-xdist's ``--dist loadgroup`` (pyproject's addopts), each file that defines a
module- or session-scoped fixture runs whole in one worker, so its fixtures (trained
sweeps, a 4-device subprocess, worked examples) are built once per test run; every other
test is dealt out on its own."""

import os
import re
import tempfile

import jax
import pytest

_run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one pytest run
_shared = os.path.join(tempfile.gettempdir(), f"pinnbalance-test-xla-{_run}") if _run else None
os.environ.setdefault("PINNBALANCE_COMPILE_CACHE", _shared or tempfile.mkdtemp(prefix="pinnbalance-test-xla-"))

jax.config.update("jax_enable_x64", True)

from pinnbalance.compile_cache import enable_compile_cache  # noqa: E402  (after the environment above)

enable_compile_cache()  # with a size limit, so workers read and write entries under a file lock
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)  # the tests' programs are small

from pinnbalance.training.callbacks import INTERRUPTED  # noqa: E402
from pinnbalance.training.lm_checkpoint import LMCheckpoint  # noqa: E402
from pinnbalance.training.loop import Callback  # noqa: E402
from pinnbalance.training.results import flatten_records  # noqa: E402


class StopInLMPhase(Callback):
    """A training callback that stops the loop inside the Levenberg-Marquardt phase once
    ``steps_done`` reaches ``at`` (as a signal would), keeping what a checkpoint would hold:
    the state, the history, the manifest's step (``saved``)."""

    def __init__(self, at):
        self.at, self.saved = at, None

    def on_chunk(self, progress):
        if progress.steps_done >= self.at and progress.stop is None and isinstance(progress.state, LMCheckpoint):
            progress.stop = INTERRUPTED
            self.saved = (progress.state, flatten_records(progress.chunks), progress.steps_done)


def files_with_shared_fixtures(root) -> frozenset[str]:
    """The test files (paths as in node ids) that define a module- or session-scoped fixture:
    the ones that train a model or start a subprocess once for several tests."""
    shared = re.compile(r"scope=[\"'](module|session)[\"']")
    return frozenset(
        path.relative_to(root).as_posix() for path in (root / "tests").rglob("test_*.py") if shared.search(path.read_text())
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadgroup``: a scheduler that sends each file with shared fixtures whole to
    one worker (largest first), so they are built once, and every other test on its own. Other
    ``--dist`` modes are xdist's.

    xdist's own ``xdist_group`` mark would say this in each file, but pytest-xdist 3.8 no longer
    applies it under pytest 9's structured node ids (pytest-dev/pytest-xdist#1386): the tests of a
    marked file were dealt to both workers and each built the fixtures."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    together = files_with_shared_fixtures(config.rootpath)

    class FilesKeptTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path in together else nodeid

    return FilesKeptTogether(config, log)


@pytest.fixture
def stop_in_lm_phase():
    """``StopInLMPhase``: ``stop_in_lm_phase(at)`` is a callback stopping an LM phase at step ``at``."""
    return StopInLMPhase
