"""Methods: named presets of network + weighting scheme, as in the founding study.

- ``M1``: standard PINN, 5 x 50 tanh MLP, constant weights 1.
- ``M2``: the same network, learning-rate annealing with weighted-term gradients (as the
  published code; the reproduction default).
- ``M2-unweighted``: the same, with unweighted-term gradients (as the published formula).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinnbalance.nn import mlp_for
from pinnbalance.problems.base import Problem
from pinnbalance.weighting import Constant, LearningRateAnnealing


@dataclass(frozen=True)
class Method:
    """A named pairing of a network builder and a weighting scheme."""

    name: str
    description: str
    network: Callable[[Problem], object]
    scheme: Callable[[Problem], object]


def _published_mlp(problem: Problem):
    return mlp_for(problem.domain, hidden=(50,) * 5, activation="tanh")


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("M1", "standard PINN: constant weights 1", _published_mlp, lambda p: Constant()),
        Method(
            "M2",
            "learning-rate annealing, gradients of the weighted terms (published code)",
            _published_mlp,
            lambda p: LearningRateAnnealing(reference=p.reference, grad_of="weighted"),
        ),
        Method(
            "M2-unweighted",
            "learning-rate annealing, gradients of the unweighted terms (published formula)",
            _published_mlp,
            lambda p: LearningRateAnnealing(reference=p.reference, grad_of="unweighted"),
        ),
    )
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise KeyError(f"unknown method {name!r}; valid methods are {list(METHODS)}")
    return METHODS[name]
