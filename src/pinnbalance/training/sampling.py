"""Where each step's collocation points come from: fresh every step, or one fixed set.

- ``"random"`` (the published set-up): every step draws a fresh batch for every term.
- ``"fixed"``: one set of points per term is drawn before step 0 and used, whole, at every
  step (full-batch training); with ``resample_every = N`` the set is redrawn every N
  steps. Schemes that attach a weight to each point (self-adaptive weights) and
  deterministic optimizers (L-BFGS) need it.

The fixed set lives in the training state (``TrainState.points``), so it is vmapped with
the seeds, checkpointed and restored like everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

from pinnbalance.problems.base import Problem, sample_batch
from pinnbalance.weighting.interface import per_point

MODES = ("random", "fixed")


@dataclass(frozen=True)
class Sampling:
    """How collocation points are drawn (see the module docstring)."""

    mode: str = "random"
    resample_every: int | None = None

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"sampling mode must be one of {list(MODES)}, got {self.mode!r}")
        if self.resample_every is not None:
            if self.mode != "fixed":
                raise ValueError("resample_every applies to sampling mode 'fixed' only (random mode draws new points every step)")
            if not isinstance(self.resample_every, int) or self.resample_every < 1:
                raise ValueError(f"resample_every must be a positive integer or None, got {self.resample_every!r}")

    @property
    def fixed(self) -> bool:
        return self.mode == "fixed"

    def check_scheme(self, scheme) -> None:
        """Raise a ``ValueError`` if ``scheme`` attaches a weight to each point (self-adaptive
        weights) while the points are redrawn: a point's weight must stay with its point."""
        if per_point(scheme) and not self.fixed:
            raise ValueError(
                f"{type(scheme).__name__} attaches a weight to each collocation point, so the points must stay fixed: "
                "use fixed sampling (TrainConfig(sampling='fixed'), or [sampling] mode = \"fixed\" in a run config)"
            )

    def initial_points(self, problem: Problem, key: jax.Array, dtype=jnp.float32) -> dict[str, jax.Array]:
        """The fixed set (``{}`` in random mode), drawn from ``key``."""
        return sample_batch(problem, key, dtype) if self.fixed else {}

    def batch(self, problem: Problem, points, key: jax.Array, step: jax.Array, dtype=jnp.float32):
        """``(batch, points)``: this step's points and the fixed set to carry on.

        In fixed mode with ``resample_every`` the set is redrawn (from ``key``) at steps
        N, 2N, ...; in random mode ``key`` draws the batch and ``points`` stays empty.
        """
        if not self.fixed:
            return sample_batch(problem, key, dtype), points
        if self.resample_every is not None:
            fresh = sample_batch(problem, key, dtype)
            redraw = (step > 0) & (step % self.resample_every == 0)
            points = jax.tree_util.tree_map(lambda new, old: jnp.where(redraw, new, old), fresh, points)
        return points, points
