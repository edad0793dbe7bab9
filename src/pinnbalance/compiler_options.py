"""Options pinnbalance gives XLA when it compiles a training program.

A PINN step at the founding experiment's size is dozens of small matrix products
(128 to 1,152 rows by 50 by 50) among elementwise kernels. On CPU, jaxlib 0.10 routes
some of those products through YNNPACK fusions by default. Turning that routing off, so
Eigen does the products, made the Klein-Gordon training step faster on a 2-core CPU, measured
side by side (``benchmarks/speed.py``, float32, medians): M1 1.19x and M2 1.31x at batch 128,
1.34x and 1.30x at batch 1,024. So on CPU, training programs are
compiled with ``xla_cpu_experimental_ynn_fusion_type`` set to nothing.

The options are per compiled program (``jax.jit(..., compiler_options=...)``), never a
global switch: other JAX code in the same process is left as it is. They are given only
where they help and are safe:

- only on the CPU backend (a GPU compile gets none);
- only if this jaxlib knows the option (probed once by compiling a tiny program), so an
  older or newer jaxlib without it trains with XLA's defaults instead of failing;
- not if the user set the same option in ``XLA_FLAGS`` (their choice wins);
- not if ``PINNBALANCE_COMPILER_OPTIONS=off`` (or ``0``, ``no``, ``false``): XLA's
  defaults, e.g. to compare.

Example:
    >>> from pinnbalance.compiler_options import compiler_options
    >>> options = compiler_options()
    >>> isinstance(options, dict)
    True
"""

from __future__ import annotations

import functools
import os

import jax
import jax.numpy as jnp

ENV = "PINNBALANCE_COMPILER_OPTIONS"
OFF = ("off", "0", "no", "false")
CPU_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}  # products by Eigen, not YNNPACK fusions


@functools.cache
def supported(name: str, value: str) -> bool:
    """Whether this jaxlib's CPU compiler accepts option ``name=value`` (one tiny compile, cached)."""
    try:
        x = jax.device_put(jnp.zeros(1), jax.devices("cpu")[0])  # committed to the CPU: compiled for it
        jax.jit(lambda x: x + 1).lower(x).compile({name: value})
    except Exception:  # unknown option or value: XLA raises; training then uses the defaults
        return False
    return True


def compiler_options(backend: str | None = None) -> dict[str, str]:
    """The options to compile a training program with on ``backend`` (default: JAX's).

    Empty off CPU, when turned off by ``PINNBALANCE_COMPILER_OPTIONS``, or for an option
    the user already set in ``XLA_FLAGS`` or this jaxlib does not know.
    """
    backend = backend or jax.default_backend()
    if backend != "cpu" or os.environ.get(ENV, "").strip().lower() in OFF:
        return {}
    flags = os.environ.get("XLA_FLAGS", "")
    return {name: value for name, value in CPU_OPTIONS.items() if f"--{name}" not in flags and supported(name, value)}
