"""What one Levenberg-Marquardt iteration costs, estimated before training, and the checks on it.

With N residual rows, P parameters and b bytes per number (8 in float64), an iteration holds

    dense:   J (N P b), J^T J (P^2 b), its damped copy and Cholesky factor (2 P^2 b)
    kernel:  J (N P b), J J^T (N^2 b), its damped copy and Cholesky factor (2 N^2 b)

and computes (flops, a multiply-add counted as 2)

    dense:   2 N P^2 (J^T J) + P^3 / 3 (Cholesky) + 4 N P (J^T r, J h)
    kernel:  2 N^2 P (J J^T) + N^3 / 3 (Cholesky) + 4 N P
    both:    + JACOBIAN_FLOPS N P (the per-point reverse passes, a rough constant)

The seconds are flops over a FLOP rate: given, or measured once per process and dtype by
timing a 512 x 512 matrix product (a dense factorisation runs slower than a product, so
the estimate is a lower bound to within a small factor).

``check_cost`` raises ``LMMemoryError`` (a ``ValueError``) when the iteration would not fit in
``max_memory_gb`` (default 70% of physical memory), naming the configuration and the
largest row count and network width that would fit, and warns (``LMCostWarning``) when an
iteration is estimated slower than ``warn_seconds``.

Example:
    >>> cost = estimate(4000, 2000, "float64", "dense", flop_rate=1e10)
    >>> cost.parts["jacobian"], cost.parts["system"]  # 4000 x 2000 and 2000 x 2000 float64
    (64000000, 32000000)
    >>> round(cost.flops / 1e9, 1), round(cost.seconds, 2)
    (42.7, 4.27)
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

# Matmul-equivalent flops per entry of J for a PINN residual's per-point reverse pass: on
# Klein-Gordon 2-43-43-1 in float64 (second derivatives, N = 4,000, P = 2,065) J took 0.6 s
# on a 2-core CPU whose matrix product ran at 20 GFLOP/s, ~1,400 per entry. A rough constant.
JACOBIAN_FLOPS = 1000
MEMORY_FRACTION = 0.7


class LMMemoryError(ValueError):
    """A Levenberg-Marquardt iteration would need more memory than allowed."""


class LMCostWarning(UserWarning):
    """A Levenberg-Marquardt iteration is estimated to be slow."""


@dataclass(frozen=True)
class Cost:
    """The estimated memory (bytes, by array) and work of one iteration."""

    solver: str
    n_rows: int
    n_params: int
    parts: Mapping[str, int]
    flops: float
    seconds: float

    @property
    def bytes(self) -> int:
        return sum(self.parts.values())

    def describe(self) -> str:
        parts = ", ".join(f"{k} {_gb(v)}" for k, v in self.parts.items())
        return f"~{_gb(self.bytes)} ({parts}), ~{self.flops:.2g} flops, ~{self.seconds:.3g} s per iteration"


def estimate(n_rows: int, n_params: int, dtype="float64", solver: str = "dense", *, flop_rate: float | None = None) -> Cost:
    """Memory and flops of one iteration with N = ``n_rows`` rows and P = ``n_params`` (see the module docstring)."""
    if solver not in ("dense", "kernel"):
        raise ValueError(f"estimate: solver must be 'dense' or 'kernel' (resolve 'auto' first), got {solver!r}")
    N, P, b = int(n_rows), int(n_params), jnp.dtype(dtype).itemsize
    side = P if solver == "dense" else N
    parts = {"jacobian": N * P * b, "system": side * side * b, "factor": 2 * side * side * b}
    gram = 2.0 * N * P * P if solver == "dense" else 2.0 * N * N * P
    flops = gram + side**3 / 3 + 4.0 * N * P + JACOBIAN_FLOPS * N * P
    rate = measured_flop_rate(str(jnp.dtype(dtype))) if flop_rate is None else float(flop_rate)
    return Cost(solver, N, P, parts, flops, flops / rate)


@functools.cache
def measured_flop_rate(dtype: str = "float64", n: int = 512) -> float:
    """Flops per second of a jitted ``n x n`` matrix product on the default device (best of 3)."""
    a = jnp.ones((n, n), dtype) / n
    product = jax.jit(lambda x: x @ x)
    product(a).block_until_ready()
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        product(a).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / max(best, 1e-9)


def physical_memory() -> int:
    """Bytes of physical memory (``os.sysconf``)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def memory_budget(max_memory_gb: float | None = None) -> int:
    """Bytes an iteration may use: ``max_memory_gb``, else 70% of physical memory."""
    return int(max_memory_gb * 2**30) if max_memory_gb is not None else int(MEMORY_FRACTION * physical_memory())


def check_cost(cost: Cost, settings, *, network=None, counts: Mapping[str, tuple[int, int]] | None = None, runs: int = 1) -> None:
    """Raise ``LMMemoryError`` if ``cost`` exceeds the memory budget; warn if it is slow.

    The warning gives the estimate per iteration and for the whole phase (``settings.max_iters``
    iterations of each of ``runs`` runs, taken one after another). ``counts``
    (``{term: (points, components)}``) and ``network`` (an architecture with
    ``layers``) let the error name the largest points per term and hidden width that fit.
    """
    budget = memory_budget(settings.max_memory_gb)
    if cost.bytes > budget:
        raise LMMemoryError(_too_large(cost, budget, network, counts))
    if cost.seconds > settings.warn_seconds:
        warnings.warn(
            f"Levenberg-Marquardt ({cost.solver} solver, N={cost.n_rows} rows, P={cost.n_params} parameters) is estimated "
            f"at {cost.describe()}, so up to ~{_duration(cost.seconds * settings.max_iters * runs)} for "
            f"max_iters={settings.max_iters}" + (f" x {runs} runs" if runs > 1 else "") + "; fewer points or a "
            "narrower network make it faster (warn_seconds sets when this warning appears)",
            LMCostWarning,
            stacklevel=3,
        )


def _duration(seconds: float) -> str:
    """``seconds`` in the largest unit that keeps the number readable: 45 s, 12 min, 3.2 h."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def _too_large(cost: Cost, budget: int, network, counts) -> str:
    itemsize = cost.parts["jacobian"] // max(cost.n_rows * cost.n_params, 1)
    fits = lambda n, p, solver=cost.solver: estimate(n, p, itemsize_dtype(itemsize), solver, flop_rate=1.0).bytes <= budget  # noqa: E731
    lines = [
        f"Levenberg-Marquardt with solver={cost.solver!r}, N={cost.n_rows} residual rows"
        + (f" ({_points(counts)})" if counts else "")
        + f" and P={cost.n_params} parameters needs {cost.describe()}, more than the {_gb(budget)} allowed (max_memory_gb)."
    ]
    rows = largest(lambda n: fits(n, cost.n_params), cost.n_rows)
    if rows:
        scaled = f" ({_points(counts, rows / cost.n_rows)})" if counts else ""
        lines.append(f"At P={cost.n_params}, at most N={rows} rows fit{scaled}.")
    else:
        lines.append(f"At P={cost.n_params} not even one row fits.")
    width = _largest_width(network, lambda p: fits(cost.n_rows, p))
    if width:
        lines.append(f"At N={cost.n_rows}, a hidden width of at most {width[0]} fits (P={width[1]}).")
    other = "kernel" if cost.solver == "dense" else "dense"
    if fits(cost.n_rows, cost.n_params, other):
        lines.append(f"solver={other!r} fits as it is.")
    lines.append("Or raise max_memory_gb if the machine has the memory.")
    return " ".join(lines)


def largest(fits, upper: int) -> int:
    """The largest n in [0, upper] with ``fits(n)`` (``fits`` monotone decreasing in n; 0 if none)."""
    lo, hi = 0, int(upper)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def _largest_width(network, fits_params) -> tuple[int, int] | None:
    """The largest common hidden width of ``network`` (and its parameter count) that fits, or None."""
    while hasattr(network, "network"):  # a wrapper (a hard constraint, the unknowns): the architecture inside
        network = network.network
    layers = getattr(network, "layers", None)
    if layers is None or len(layers) < 3:
        return None

    def params(width: int) -> int:
        net = dataclasses.replace(network, layers=(layers[0], *([width] * (len(layers) - 2)), layers[-1]))
        shapes = jax.eval_shape(lambda k: net.init(k), jax.random.PRNGKey(0))
        return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(shapes))

    try:
        width = largest(lambda w: w >= 1 and fits_params(params(w)), max(layers[1:-1]))
    except (TypeError, ValueError):  # an architecture whose layers do not take a common width
        return None
    return (width, params(width)) if width else None


def itemsize_dtype(itemsize: int) -> str:
    return {2: "float16", 4: "float32", 8: "float64"}[int(itemsize)]


def _points(counts: Mapping[str, tuple[int, int]], factor: float = 1.0) -> str:
    return ", ".join(f"{name}: {int(n * factor)} points x {c}" for name, (n, c) in counts.items())


def _gb(n: int) -> str:
    return f"{n / 2**30:.3g} GB"
