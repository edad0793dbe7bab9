"""Tests run with 64-bit support on, so float64 checks are possible; code under test
still chooses its dtype explicitly (float32 by default), which this also checks.

Compiled programs the command line keeps (``pinnbalance.compile_cache``) go to a temporary
directory of this session, not the user's cache."""

import os
import tempfile

import jax

os.environ.setdefault("PINNBALANCE_COMPILE_CACHE", tempfile.mkdtemp(prefix="pinnbalance-test-xla-"))

jax.config.update("jax_enable_x64", True)
