"""Swept hyperparameters as arrays: several trainings that differ in a learning rate or a
weighting scheme's parameter, in one compiled program.

``fit_seeds`` vmaps over the whole training state. A value that the step only computes
with (the learning rate; a scheme's float parameters such as the EMA ``beta``) can ride
along as one more vmapped array, one entry per run ("lane"), instead of being baked into
the program as a constant: the runs then share one compilation and run side by side. A
value that shapes the program (an update ``period``, a network width, a batch size) cannot.

    values = {"learning_rate": [1e-3, 3e-3], "beta": [0.9, 0.99]}   # run i takes entry i

``grid(seeds, {name: candidates})`` builds the lanes of every combination.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np

LEARNING_RATE = "learning_rate"  # TrainConfig's; the optimizer is built from it per lane


def sweepable(scheme) -> tuple[str, ...]:
    """The names ``fit_seeds(values=...)`` accepts with ``scheme``: the learning rate and the
    scheme's float fields (a field whose default is an int, such as ``period``, or None, or a
    mapping, shapes the program or is not one number)."""
    names = [LEARNING_RATE]
    if dataclasses.is_dataclass(scheme):
        for f in dataclasses.fields(scheme):
            value = getattr(scheme, f.name)
            if isinstance(value, float) and f.name != LEARNING_RATE:
                names.append(f.name)
    return tuple(names)


def check_lanes(scheme, config, seeds: Sequence[int], values: Mapping[str, Sequence[float]]) -> dict[str, np.ndarray]:
    """Validate ``values`` against ``seeds`` (one entry per seed) and return them as float
    arrays. Each lane's values are checked by building that lane's config and scheme, so a
    bad value gets the same error as it would in a single run, with its lane named."""
    allowed = sweepable(scheme)
    unknown = [n for n in values if n not in allowed]
    if unknown:
        raise ValueError(
            f"cannot sweep {unknown} as arrays with {type(scheme).__name__}: the names that can are {list(allowed)} "
            "(other settings change the compiled program: train them as separate runs)"
        )
    out = {}
    for name, vals in values.items():
        vals = list(vals)
        if len(vals) != len(seeds):
            raise ValueError(f"values[{name!r}] has {len(vals)} entries but there are {len(seeds)} seeds: give one per seed")
        bad = [v for v in vals if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)]
        if bad:
            raise ValueError(f"values[{name!r}] must be finite numbers, got {bad}")
        out[name] = np.asarray(vals, dtype=np.float64)
    lanes = [(seed, *(float(out[n][i]) for n in out)) for i, seed in enumerate(seeds)]
    if len(set(lanes)) != len(lanes):
        raise ValueError(f"two runs have the same seed and values: {sorted(lanes)}; each run must differ")
    for i, (seed, lane) in enumerate(zip(seeds, per_run(out))):
        try:
            lane_config(config, lane)
            if scheme_part(lane):  # runs the scheme's own checks on the lane's values
                dataclasses.replace(scheme, **scheme_part(lane))
        except ValueError as err:
            raise ValueError(f"run {i} (seed {seed}, {lane}): {err}") from None
    return out


def per_run(values: Mapping[str, Sequence[float]]) -> list[dict[str, float]]:
    """``{name: one value per run}`` turned into one ``{name: value}`` per run."""
    n = len(next(iter(values.values()), ()))
    return [{name: float(v[i]) for name, v in values.items()} for i in range(n)]


def lane_optimizer(lane: Mapping[str, object], optimizer, optimizer_for):
    """The run's optimizer: ``optimizer_for(its learning rate)`` if the lane carries one, else
    ``optimizer``, the one all runs share."""
    return optimizer_for(lane[LEARNING_RATE]) if LEARNING_RATE in lane else optimizer


def scheme_part(lane: Mapping[str, object]) -> dict[str, object]:
    """The lane's values that belong to the weighting scheme."""
    return {n: v for n, v in lane.items() if n != LEARNING_RATE}


def lane_config(config, lane: Mapping[str, float]):
    """``config`` with the lane's learning rate (concrete values only: it is validated)."""
    if LEARNING_RATE in lane:
        return dataclasses.replace(config, learning_rate=float(lane[LEARNING_RATE]))
    return config


def scheme_with(scheme, lane: Mapping[str, object]):
    """A copy of the frozen ``scheme`` with fields set to the lane's values, which may be
    traced arrays. ``__post_init__`` (validation) is not run: ``check_lanes`` ran it on the
    concrete values before tracing."""
    part = scheme_part(lane)
    if not part:
        return scheme
    copy = object.__new__(type(scheme))
    for f in dataclasses.fields(scheme):
        object.__setattr__(copy, f.name, part.get(f.name, getattr(scheme, f.name)))
    return copy


def grid(seeds: Sequence[int], candidates: Mapping[str, Sequence[float]]) -> tuple[list[int], dict[str, list[float]]]:
    """Every combination of ``seeds`` and the candidate values: ``(seeds, values)`` for ``fit_seeds``.

    Example:
        >>> grid([1, 2], {"learning_rate": [1e-3, 3e-3]})
        ([1, 1, 2, 2], {'learning_rate': [0.001, 0.003, 0.001, 0.003]})
    """
    names = list(candidates)
    combos = list(itertools.product(seeds, *(candidates[n] for n in names)))
    return [c[0] for c in combos], {n: [c[1 + j] for c in combos] for j, n in enumerate(names)}
