"""Methods: named presets of network + weighting scheme, as in the founding study.

- ``M1``: standard PINN, 5 x 50 tanh MLP, constant weights 1.
- ``M2``: the same network, learning-rate annealing with weighted-term gradients (as the
  published code; the reproduction default).
- ``M2-unweighted``: the same, with unweighted-term gradients (as the published formula).
- ``M3``: the modified MLP ("improved fully-connected architecture", ``nn.ModifiedMLP``),
  5 hidden layers of 50, tanh, constant weights 1.
- ``M4``: the modified MLP with learning-rate annealing, weighted-term gradients (as M2).

M3/M4 follow the published code's network: every hidden layer gated, encoder biases drawn
Glorot-normal (``encoder_bias="glorot"``). One difference remains in M4: the published
code takes the annealing statistics over the gated layers' and output weights only, while
``LearningRateAnnealing`` (leaves="weight_matrices") also counts the two encoder matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pinnbalance.nn import mlp_for, modified_mlp_for
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


def _published_modified_mlp(problem: Problem):
    return modified_mlp_for(problem.domain, hidden=(50,) * 5, activation="tanh", encoder_bias="glorot")


def _annealing(grad_of: str) -> Callable[[Problem], object]:
    """Learning-rate annealing against the problem's reference term, gradients of the ``grad_of`` terms."""
    return lambda p: LearningRateAnnealing(reference=p.reference, grad_of=grad_of)


METHODS: dict[str, Method] = {
    m.name: m
    for m in (
        Method("M1", "standard PINN: constant weights 1", _published_mlp, lambda p: Constant()),
        Method(
            "M2",
            "learning-rate annealing, gradients of the weighted terms (published code)",
            _published_mlp,
            _annealing("weighted"),
        ),
        Method(
            "M2-unweighted",
            "learning-rate annealing, gradients of the unweighted terms (published formula)",
            _published_mlp,
            _annealing("unweighted"),
        ),
        Method("M3", "modified MLP (improved architecture): constant weights 1", _published_modified_mlp, lambda p: Constant()),
        Method(
            "M4",
            "modified MLP + learning-rate annealing, gradients of the weighted terms (as M2)",
            _published_modified_mlp,
            _annealing("weighted"),
        ),
    )
}


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise KeyError(f"unknown method {name!r}; valid methods are {list(METHODS)}")
    return METHODS[name]
