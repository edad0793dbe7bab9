"""Loss-weighting schemes as small pure ``init`` / ``update`` transformations, and their parts."""

from pinnbalance.weighting.annealing import ANNEALING_VARIANTS, LearningRateAnnealing
from pinnbalance.weighting.base import WeightState, hold_if_not_finite
from pinnbalance.weighting.causal import Causal, CausalState, causal_loss, causal_weights, slice_losses
from pinnbalance.weighting.clipping import clip_weights
from pinnbalance.weighting.constant import Constant
from pinnbalance.weighting.ema import ema
from pinnbalance.weighting.gradnorm import GradNorm, GradNorm2026
from pinnbalance.weighting.interface import WeightingScheme  # = interface.TermScheme
from pinnbalance.weighting.ntk import NTK
from pinnbalance.weighting.relobralo import ReLoBRaLo
from pinnbalance.weighting.self_adaptive import SelfAdaptive, init_weights
from pinnbalance.weighting.softadapt import SoftAdapt
from pinnbalance.weighting.statistics import (
    L2_NORM,
    LEAF_FILTERS,
    LOG_MEAN,
    MAX_ABS,
    MEAN_ABS,
    QUANTILE_99,
    STATISTICS,
    LayerStatistic,
    LogMean,
    Quantile,
    Statistic,
    all_leaves,
    weight_matrices,
)

SCHEMES = {
    "constant": Constant,
    "lr-annealing": LearningRateAnnealing,
    "grad-norm": GradNorm,
    "grad-norm-2026": GradNorm2026,
    "softadapt": SoftAdapt,
    "relobralo": ReLoBRaLo,
    "ntk": NTK,
    "self-adaptive": SelfAdaptive,
}

__all__ = [
    "ANNEALING_VARIANTS",
    "L2_NORM",
    "LEAF_FILTERS",
    "LOG_MEAN",
    "MAX_ABS",
    "MEAN_ABS",
    "QUANTILE_99",
    "SCHEMES",
    "STATISTICS",
    "Causal",
    "CausalState",
    "Constant",
    "GradNorm",
    "GradNorm2026",
    "LayerStatistic",
    "LearningRateAnnealing",
    "LogMean",
    "NTK",
    "Quantile",
    "ReLoBRaLo",
    "SelfAdaptive",
    "SoftAdapt",
    "Statistic",
    "WeightState",
    "WeightingScheme",
    "all_leaves",
    "causal_loss",
    "causal_weights",
    "clip_weights",
    "ema",
    "hold_if_not_finite",
    "init_weights",
    "slice_losses",
    "weight_matrices",
]
