"""Settings of the Levenberg-Marquardt phase: one frozen, validated, hashable description.

Every field is a plain number or string, so the lead's ``[lm]`` TOML table maps onto it one
to one. The meaning of each field is given where the algorithm uses it (``lm.loop``,
``lm.damping``, ``lm.solve``, ``lm.cost``); here only what values are allowed.

Example:
    >>> settings = LevenbergMarquardt(max_iters=200, solver="kernel", weights={"bcs": 10.0})
    >>> settings.fixed_weights({"res": 1.0, "bcs": 3.0})
    {'res': 1.0, 'bcs': 10.0}
    >>> LevenbergMarquardt(damping=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: LevenbergMarquardt.damping must be a finite number > 0 (the initial damping mu0), got -1.0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pinnbalance.training import weight_policy

POLICIES = weight_policy.POLICIES  # re-exported: the policy names
RULES = ("nielsen", "fixed")
SOLVERS = ("dense", "kernel", "auto")
DTYPES = (None, "float32", "float64")
FOLDS = ("shared", "per-run")  # holdout_folds: one split for every run, or run i's own on holdout_seed + i


@dataclass(frozen=True)
class LevenbergMarquardt(weight_policy.PolicyWeights):
    """Settings of a Levenberg-Marquardt run (defaults in brackets).

    - ``max_iters`` [500]: iterations, each one Jacobian and up to ``max_trials`` damped solves;
    - ``damping`` [1e-3]: the initial damping mu0 of ``(J^T J + mu I) h = -J^T r``;
    - ``rule`` ["nielsen"]: damping update, Nielsen's gain-ratio rule or ``"fixed"`` factors
      (``increase`` [10] on a rejected trial, ``decrease`` [0.1] on an accepted one);
    - ``min_damping`` [1e-15], ``max_damping`` [1e10]: bounds on mu; a rejected trial at
      ``max_damping`` ends the run with "no progress";
    - ``max_trials`` [20]: damped solves per iteration (one Jacobian) before it gives up;
    - ``grad_tol`` [0]: stop ("grad_tol") when ``||grad L||_2 = 2 ||J^T r||_2`` is at most this;
    - ``step_tol`` [1e-12]: stop ("no progress") on an accepted step with
      ``||h|| <= step_tol (||theta|| + step_tol)``;
    - ``loss_tol`` [0]: stop ("no progress") on an accepted step whose relative decrease
      ``(L - L_new) / L`` is at most this;
    - ``weights`` ["frozen"]: ``"frozen"`` (the weights given), ``"unit"`` (all 1) or a
      mapping ``{term: weight}`` (1 for terms it does not name), as the L-BFGS phase;
    - ``points`` [None]: points per term for a trainer that draws the fixed set (None: each
      term's batch size);
    - ``dtype`` ["float64"]: the precision of the phase (None: the run's dtype);
    - ``log_every`` [10]: iterations per compiled chunk, and per record;
    - ``solver`` ["dense"]: ``"dense"`` (P x P normal equations), ``"kernel"`` (N x N
      form, for N < P) or ``"auto"`` (the smaller of the two);
    - ``batch_size`` [None]: points per Jacobian batch (``lax.map``), None: all at once;
    - ``max_memory_gb`` [None]: memory allowed per iteration; None: 70% of physical memory;
    - ``warn_seconds`` [30]: warn before training when an iteration is estimated slower;
    - ``checkpoint_every`` [100]: iterations between the run folder's checkpoints during the
      phase (after the chunk in which the count reaches a multiple, and at the end). An LM
      iteration costs as much as hundreds of first-order steps, so it has its own interval
      rather than ``train.checkpoint_every``;
    - ``resample_every`` [None]: draw a fresh point set every this many iterations (a multiple
      of ``log_every``; None: one fixed set). After a draw the current loss is re-evaluated on
      the new points, so a trial is accepted only if it lowers the loss on the points it was
      computed on; the damping mu and Nielsen's nu carry over unchanged;
    - ``holdout_term`` [None]: hold out ``holdout_fraction`` [0.2] of this term's rows (a
      random choice on ``holdout_seed`` [0]), train on the rest and end with the parameters at
      the record where the held-out rows' loss was lowest (``lm.holdout``); ``patience``
      [None]: stop a run after this many records without a new lowest (None: run on);
    - ``holdout_folds`` ["shared"]: with several runs (seeds) in one program, ``"shared"`` holds
      out the same rows in every run, ``"per-run"`` the rows of run i's own random choice on
      ``holdout_seed + i`` (run 0's are the shared ones), so an ensemble's members are stopped by
      different observations;
    - ``holdout_fresh`` [False]: instead (for residual terms, whose points are redrawn), end
      with the parameters at the record where the weighted loss on a fixed FRESH draw of
      collocation points (the training draw's sizes, an independent key, never trained on)
      was lowest (``lm.holdout.fresh_points``); ``patience`` as above.
    """

    max_iters: int = 500
    damping: float = 1e-3
    rule: str = "nielsen"
    increase: float = 10.0
    decrease: float = 0.1
    min_damping: float = 1e-15
    max_damping: float = 1e10
    max_trials: int = 20
    grad_tol: float = 0.0
    step_tol: float = 1e-12
    loss_tol: float = 0.0
    weights: str | Mapping[str, float] = "frozen"
    points: int | None = None
    dtype: str | None = "float64"
    log_every: int = 10
    solver: str = "dense"
    batch_size: int | None = None
    max_memory_gb: float | None = None
    warn_seconds: float = 30.0
    checkpoint_every: int = 100
    resample_every: int | None = None
    holdout_term: str | None = None
    holdout_fraction: float = 0.2
    holdout_seed: int = 0
    patience: int | None = None
    holdout_fresh: bool = False
    holdout_folds: str = "shared"

    def __post_init__(self):
        for name in ("max_iters", "max_trials", "log_every", "checkpoint_every"):
            _positive_int(name, getattr(self, name))
        for name in ("points", "batch_size"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name), "or None")
        _positive("damping", self.damping, " (the initial damping mu0)")
        _positive("min_damping", self.min_damping)
        _positive("max_damping", self.max_damping)
        if not self.min_damping <= self.damping <= self.max_damping:
            raise ValueError(
                f"LevenbergMarquardt needs min_damping <= damping <= max_damping, got {self.min_damping!r} <= "
                f"{self.damping!r} <= {self.max_damping!r}; widen the bounds or move the initial damping inside them"
            )
        if self.rule not in RULES:
            raise ValueError(f"LevenbergMarquardt.rule must be one of {list(RULES)}, got {self.rule!r}")
        if not (_number(self.increase) and self.increase > 1):
            raise ValueError(
                f"LevenbergMarquardt.increase must be a number > 1 (damping factor on a rejected step), got {self.increase!r}"
            )
        if not (_number(self.decrease) and 0 < self.decrease < 1):
            raise ValueError(
                f"LevenbergMarquardt.decrease must be a number in (0, 1) (damping factor on an accepted step), got {self.decrease!r}"
            )
        for name in ("grad_tol", "step_tol", "loss_tol"):
            if not (_number(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"LevenbergMarquardt.{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        if self.solver not in SOLVERS:
            raise ValueError(
                f"LevenbergMarquardt.solver must be one of {list(SOLVERS)} ('dense': P x P normal equations, 'kernel': "
                f"N x N form for fewer rows than parameters), got {self.solver!r}"
            )
        if self.dtype not in DTYPES:
            raise ValueError(
                f"LevenbergMarquardt.dtype must be 'float32', 'float64' or None (the run's dtype), got {self.dtype!r}"
            )
        if self.max_memory_gb is not None:
            _positive("max_memory_gb", self.max_memory_gb, " or None (70% of physical memory)")
        _positive("warn_seconds", self.warn_seconds)
        if self.resample_every is not None:
            _positive_int("resample_every", self.resample_every, "or None")
            if self.resample_every % self.log_every:
                raise ValueError(
                    f"LevenbergMarquardt.resample_every ({self.resample_every}) must be a multiple of log_every "
                    f"({self.log_every}): points are redrawn between compiled chunks; e.g. resample_every = "
                    f"{self.log_every * max(1, round(self.resample_every / self.log_every))}"
                )
        weight_policy.check_policy("LevenbergMarquardt", self.weights, "the weight policy of the phase")
        self._check_holdout()

    def _check_holdout(self) -> None:
        if self.holdout_term is not None and not isinstance(self.holdout_term, str):
            raise ValueError(f"LevenbergMarquardt.holdout_term must be a term name or None, got {self.holdout_term!r}")
        if not (_number(self.holdout_fraction) and 0 < self.holdout_fraction < 1):
            raise ValueError(f"LevenbergMarquardt.holdout_fraction must be a number in (0, 1), got {self.holdout_fraction!r}")
        if not isinstance(self.holdout_seed, int) or isinstance(self.holdout_seed, bool) or self.holdout_seed < 0:
            raise ValueError(f"LevenbergMarquardt.holdout_seed must be an integer >= 0, got {self.holdout_seed!r}")
        if self.holdout_folds not in FOLDS:
            raise ValueError(
                f"LevenbergMarquardt.holdout_folds must be one of {list(FOLDS)} (one held-out choice for every run, or "
                f"run i's own on holdout_seed + i), got {self.holdout_folds!r}"
            )
        if not isinstance(self.holdout_fresh, bool):
            raise ValueError(f"LevenbergMarquardt.holdout_fresh must be true or false, got {self.holdout_fresh!r}")
        if self.holdout_fresh and self.holdout_term is not None:
            raise ValueError(
                f"LevenbergMarquardt: holdout_fresh and holdout_term={self.holdout_term!r} are two ways to pick the iterate; "
                "set one of them"
            )
        if self.patience is not None:
            _positive_int("patience", self.patience, "or None")
            if self.holdout_term is None and not self.holdout_fresh:
                raise ValueError(
                    "LevenbergMarquardt.patience counts records of a held-out loss: set holdout_term too (or holdout_fresh)"
                )

    def fold_seed(self, run: int) -> int:
        """The seed of run ``run``'s held-out choice: ``holdout_seed``, plus ``run`` under ``holdout_folds = "per-run"``."""
        return self.holdout_seed + (run if self.holdout_folds == "per-run" else 0)

    def check_terms(self, names) -> None:
        """The weights' and ``holdout_term``'s names must be terms the problem has (``names``)."""
        super().check_terms(names)
        if self.holdout_term is not None and self.holdout_term not in names:
            raise ValueError(
                f"LevenbergMarquardt.holdout_term={self.holdout_term!r} is not a term of the problem; its terms: {list(names)}"
            )

    __hash__ = weight_policy.settings_hash  # weights may be a dict


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(name: str, value, hint: str = "") -> None:
    if not (_number(value) and value > 0):
        raise ValueError(f"LevenbergMarquardt.{name} must be a finite number > 0{hint}, got {value!r}")


def _positive_int(name: str, value, alternative: str = "") -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"LevenbergMarquardt.{name} must be a positive integer{' ' + alternative if alternative else ''}, got {value!r}"
        )
