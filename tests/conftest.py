"""Tests run with 64-bit support on, so float64 checks are possible; code under test
still chooses its dtype explicitly (float32 by default), which this also checks.

Compiled programs the command line keeps (``pinnbalance.compile_cache``) go to a temporary
directory of this session, not the user's cache."""

import os
import tempfile

import jax
import pytest

os.environ.setdefault("PINNBALANCE_COMPILE_CACHE", tempfile.mkdtemp(prefix="pinnbalance-test-xla-"))

jax.config.update("jax_enable_x64", True)

from pinnbalance.training.callbacks import INTERRUPTED  # noqa: E402  (after the environment above)
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


@pytest.fixture
def stop_in_lm_phase():
    """``StopInLMPhase``: ``stop_in_lm_phase(at)`` is a callback stopping an LM phase at step ``at``."""
    return StopInLMPhase
