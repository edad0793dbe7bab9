"""pinnbalance: physics-informed neural networks that do not fail, on JAX.

Gradient-adaptive loss weighting (Wang, Teng & Perdikaris 2021) and friends, with the
whole training loop compiled on device.
"""

from pinnbalance.methods import METHODS, Method
from pinnbalance.nn import MLP, count_params, mlp_for
from pinnbalance.problems import PROBLEMS, Box, Problem, Term, klein_gordon
from pinnbalance.training import DivergenceError, FitResult, TrainConfig, fit, fit_runs, fit_seeds
from pinnbalance.weighting import (
    NTK,
    Constant,
    GradNorm,
    GradNorm2026,
    LearningRateAnnealing,
    ReLoBRaLo,
    SelfAdaptive,
    SoftAdapt,
    WeightingScheme,
)

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "MLP",
    "NTK",
    "PROBLEMS",
    "Box",
    "Constant",
    "DivergenceError",
    "FitResult",
    "GradNorm",
    "GradNorm2026",
    "LearningRateAnnealing",
    "Method",
    "Problem",
    "ReLoBRaLo",
    "SelfAdaptive",
    "SoftAdapt",
    "Term",
    "TrainConfig",
    "WeightingScheme",
    "__version__",
    "count_params",
    "fit",
    "fit_runs",
    "fit_seeds",
    "klein_gordon",
    "mlp_for",
]
