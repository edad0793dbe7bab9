"""Everything a user needs for the ten-line example imports from the top-level package,
every weighting scheme included (``from pinnbalance import NTK`` used to fail)."""

import pinnbalance
from pinnbalance import weighting


def test_every_weighting_scheme_is_exported_at_the_top():
    for cls in weighting.SCHEMES.values():
        assert getattr(pinnbalance, cls.__name__) is cls
        assert cls.__name__ in pinnbalance.__all__
    from pinnbalance import NTK, Constant, GradNorm, LearningRateAnnealing, ReLoBRaLo, SelfAdaptive, SoftAdapt  # noqa: F401


def test_all_names_exist():
    missing = [name for name in pinnbalance.__all__ if not hasattr(pinnbalance, name)]
    assert missing == []
