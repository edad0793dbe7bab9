"""Several runs in one compiled program: runs that differ only in values their state carries.

A run is a ``(scheme, config)`` pair. What a step computes WITH, not what it is built of,
lives in the training state: the seed (parameters, points, PRNG key), the initial learning
rate (a leaf of the optimizer state, ``optax.inject_hyperparams``) and the weighting
scheme's hyperparameters (``WeightState.hyper``, see ``weighting.hyper``). Runs that differ
only in those share one compiled program: their states are stacked and vmapped
(``fit_runs``). Anything else (a period, a network width, a batch size) changes the program:
such runs train separately.

``sweep_runs(scheme, config, seeds, {name: candidates})`` builds every combination, each run
constructed (and validated) as its own scheme and config.

Example:
    >>> from pinnbalance import LearningRateAnnealing, TrainConfig
    >>> runs = sweep_runs(LearningRateAnnealing(), TrainConfig(), [1, 2], {"learning_rate": [1e-3, 3e-3]})
    >>> [(c.seed, c.learning_rate) for _, c in runs]
    [(1, 0.001), (1, 0.003), (2, 0.001), (2, 0.003)]
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

from pinnbalance.weighting.hyper import hyperparameters

LEARNING_RATE = "learning_rate"  # TrainConfig's: the optimizer's initial rate
RUN_VALUES = ("seed", LEARNING_RATE)  # a TrainConfig's fields that runs of one program may differ in


def sweepable(scheme) -> tuple[str, ...]:
    """The names runs of one program may differ in, besides the seed: the learning rate and
    ``scheme``'s hyperparameters."""
    return (LEARNING_RATE, *hyperparameters(scheme))


def sweep_runs(scheme, config, seeds: Sequence[int], candidates: Mapping[str, Sequence[float]]) -> list[tuple]:
    """Every combination of ``seeds`` and the candidate values, as ``(scheme, config)`` runs."""
    allowed = sweepable(scheme)
    unknown = [n for n in candidates if n not in allowed]
    if unknown:
        raise ValueError(
            f"cannot sweep {unknown} in one program with {type(scheme).__name__}: the names that can are {list(allowed)} "
            "(other settings change the compiled program: train them as separate runs)"
        )
    names = list(candidates)
    runs = []
    for seed, *values in itertools.product(seeds, *(candidates[n] for n in names)):
        chosen = dict(zip(names, values))
        rate = {LEARNING_RATE: chosen.pop(LEARNING_RATE)} if LEARNING_RATE in chosen else {}
        runs.append((dataclasses.replace(scheme, **chosen) if chosen else scheme, dataclasses.replace(config, seed=seed, **rate)))
    return runs


def program_differences(runs: Sequence[tuple]) -> list[str]:
    """What keeps ``runs`` from sharing one program: one line per run that differs from the
    first in more than its seed, learning rate and scheme hyperparameters (empty if none)."""
    scheme0, config0 = runs[0]
    differences = []
    for i, (scheme, config) in enumerate(runs[1:], 1):
        if type(scheme) is not type(scheme0) or _structure(scheme) != _structure(scheme0):
            differences.append(f"run {i}: another weighting scheme than run 0, not only other {list(hyperparameters(scheme0))}")
        fields = [f.name for f in dataclasses.fields(config) if f.name not in RUN_VALUES]
        other = [n for n in fields if getattr(config, n) != getattr(config0, n)]
        if other:
            differences.append(f"run {i}: other {', '.join(other)} than run 0")
    return differences


def check_runs(runs: Sequence[tuple]) -> None:
    """Raise ``ValueError`` unless ``runs`` can share one program (distinct, same structure)."""
    if not runs:
        raise ValueError("no runs to train: give at least one (scheme, config) pair")
    differences = program_differences(runs)
    if differences:
        raise ValueError("these runs cannot share one compiled program: " + "; ".join(differences))
    keys = [(repr(s), repr(c)) for s, c in runs]
    if len(set(keys)) != len(keys):
        raise ValueError("two runs are the same (seed, learning rate and scheme): each run must differ")


def _structure(scheme):
    """``scheme``'s fields but its hyperparameters: what must be equal for one program."""
    if not dataclasses.is_dataclass(scheme):
        return scheme
    return {f.name: getattr(scheme, f.name) for f in dataclasses.fields(scheme) if f.name not in hyperparameters(scheme)}
