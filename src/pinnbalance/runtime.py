"""Process-wide switches, set by entry points only (the CLI, a sweep worker, a script's top).

JAX holds some settings for the whole process: 64-bit arrays, the number of simulated CPU
devices, the compile cache. A library function that flips one mid-process changes every
other computation of the program behind its back, so none does: ``fit`` and ``run`` only
check (``require_x64``) and say which call to make, before any work.

Example:
    >>> from pinnbalance import runtime
    >>> from pinnbalance.training.config import TrainConfig
    >>> runtime.needs_x64(TrainConfig(dtype="float64"))
    True
"""

from __future__ import annotations

import jax


class RuntimeSettingError(RuntimeError):
    """A process-wide setting a training needs is off; the message names the call to make."""


def needs_x64(config) -> bool:
    """Whether a ``TrainConfig`` computes in float64 anywhere (its dtype, or a float64 L-BFGS or
    Levenberg-Marquardt phase)."""
    phases = [getattr(config, name, None) for name in ("lbfgs", "lm")]
    return config.dtype == "float64" or any(p is not None and p.dtype == "float64" for p in phases)


def enable_x64() -> None:
    """Turn on 64-bit JAX for this process (call before creating arrays you mean to keep)."""
    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)


def prepare(config) -> None:
    """What an entry point calls before training ``config`` (a ``TrainConfig``): 64-bit JAX if
    it computes in float64."""
    if needs_x64(config):
        enable_x64()


def require_x64(config) -> None:
    """Raise ``RuntimeSettingError`` if ``config`` computes in float64 but 64-bit JAX is off."""
    if needs_x64(config) and not jax.config.jax_enable_x64:
        raise RuntimeSettingError(
            "this training computes in float64 (train dtype, or an [lbfgs] or [lm] phase: Levenberg-Marquardt runs in "
            "float64 unless its dtype says otherwise) but 64-bit JAX is off: call "
            "pinnbalance.runtime.enable_x64() (or jax.config.update('jax_enable_x64', True)) at the start of "
            "your program, or set JAX_ENABLE_X64=1; the command line does it for you"
        )
