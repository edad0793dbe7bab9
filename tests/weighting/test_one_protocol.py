"""One declaration of what a term scheme is: ``WeightingScheme`` (the exported name) is
``weighting.interface.TermScheme``, and every registered scheme satisfies its protocol."""

import pinnbalance
import pinnbalance.weighting.base as base
from pinnbalance.weighting import SCHEMES, WeightingScheme
from pinnbalance.weighting.interface import PointScheme, TermScheme, per_point


def test_the_exported_protocol_is_the_interface_one():
    assert pinnbalance.WeightingScheme is WeightingScheme is TermScheme
    assert not any(getattr(v, "_is_protocol", False) for v in vars(base).values() if isinstance(v, type))  # none left there
    assert {"init", "needs_grads", "update"} <= set(vars(TermScheme))  # the three methods, declared once


def test_every_registered_scheme_is_a_term_or_a_point_scheme():
    for name, cls in SCHEMES.items():
        scheme = cls()
        assert isinstance(scheme, PointScheme if per_point(scheme) else TermScheme), name
