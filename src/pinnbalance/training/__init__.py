"""Compiled training: the state pytree, one pure step, and ``fit`` over scanned chunks."""

from pinnbalance.training.config import TrainConfig
from pinnbalance.training.fit import DivergenceError, FitResult, chunk_plan, fit, fit_seeds
from pinnbalance.training.sharding import DataParallel
from pinnbalance.training.state import TrainState
from pinnbalance.training.step import make_step, per_term_grads

__all__ = [
    "DataParallel",
    "DivergenceError",
    "FitResult",
    "TrainConfig",
    "TrainState",
    "chunk_plan",
    "fit",
    "fit_seeds",
    "make_step",
    "per_term_grads",
]
