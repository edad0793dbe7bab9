"""Tests run with 64-bit support on, so float64 checks are possible; code under test
still chooses its dtype explicitly (float32 by default), which this also checks."""

import jax

jax.config.update("jax_enable_x64", True)
