"""Loss-weighting schemes as small pure ``init`` / ``update`` transformations."""

from pinnbalance.weighting.annealing import LearningRateAnnealing
from pinnbalance.weighting.base import WeightingScheme, WeightState
from pinnbalance.weighting.constant import Constant
from pinnbalance.weighting.statistics import (
    LEAF_FILTERS,
    MAX_ABS,
    MEAN_ABS,
    STATISTICS,
    LayerStatistic,
    all_leaves,
    weight_matrices,
)

SCHEMES = {"constant": Constant, "lr-annealing": LearningRateAnnealing}

__all__ = [
    "LEAF_FILTERS",
    "MAX_ABS",
    "MEAN_ABS",
    "SCHEMES",
    "STATISTICS",
    "Constant",
    "LayerStatistic",
    "LearningRateAnnealing",
    "WeightState",
    "WeightingScheme",
    "all_leaves",
    "weight_matrices",
]
