"""Compiled training: the state pytree, one pure step, and ``fit`` over scanned chunks."""

from pinnbalance.training.config import TrainConfig
from pinnbalance.training.fit import fit, fit_runs, fit_seeds, train
from pinnbalance.training.loop import Callback, Progress, run_chunks
from pinnbalance.training.program import chunk_plan
from pinnbalance.training.results import DivergenceError, FitResult, Interrupted
from pinnbalance.training.sharding import DataParallel
from pinnbalance.training.state import TrainState
from pinnbalance.training.step import make_step, per_term_grads

__all__ = [
    "Callback",
    "DataParallel",
    "DivergenceError",
    "FitResult",
    "Interrupted",
    "Progress",
    "TrainConfig",
    "TrainState",
    "chunk_plan",
    "fit",
    "fit_runs",
    "fit_seeds",
    "make_step",
    "per_term_grads",
    "run_chunks",
    "train",
]
