"""From sweep points to jobs: seeds grouped into one vmapped training, readable folder names.

Two points that differ only in ``train.seeds`` are one job: the run machinery trains all of
a job's seeds in one compiled program (``fit_seeds``). Every job's configuration is
validated by ``config.from_dict`` before anything trains, and a failure names the job.

Example:
    >>> from pinnbalance.sweep.spec import from_dict
    >>> spec = from_dict({"grid": {"weighting.scheme": ["constant", "ntk"], "train.seeds": [1, 2]}})
    >>> [(job.name, job.seeds) for job in plan(spec)]
    [('scheme=constant', (1, 2)), ('scheme=ntk', (1, 2))]
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass

from pinnbalance import config as cfg
from pinnbalance.sweep.spec import SEEDS_KEY, SweepError, SweepSpec, set_path

MAX_NAME = 120  # characters of a folder name before it is shortened with a hash
UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]")


@dataclass(frozen=True)
class Job:
    """One training: the swept values (without seeds), its seeds and its run-config data."""

    name: str
    values: dict
    seeds: tuple[int, ...]
    data: dict  # run-configuration data (no [output]); validated by plan()

    def config(self, folder: str) -> cfg.RunConfig:
        """The validated run configuration writing to ``folder``."""
        return cfg.from_dict({**copy.deepcopy(self.data), "output": {"dir": str(folder)}})

    @property
    def trainings(self) -> int:
        return len(self.seeds)


def plan(spec: SweepSpec, *, check: bool = True) -> list[Job]:
    """Expand, group by everything but the seeds, name and (``check``) validate every job."""
    groups: dict[str, tuple[dict, list[int]]] = {}
    for point in spec.points():
        values = {k: v for k, v in point.items() if k != SEEDS_KEY}
        seeds = _seeds(point[SEEDS_KEY]) if SEEDS_KEY in point else _base_seeds(spec.base)
        key = json.dumps(values, sort_keys=True)
        _, group = groups.setdefault(key, (values, []))
        for s in seeds:
            if s in group:
                raise SweepError(f"seed {s} appears twice for the run {_describe(values)}; list each seed once")
            group.append(s)
    names = job_names([values for values, _ in groups.values()], spec.keys)
    jobs = []
    for name, (values, seeds) in zip(names, groups.values()):
        data = copy.deepcopy(spec.base)
        for k, v in values.items():
            set_path(data, k, v)
        set_path(data, SEEDS_KEY, list(seeds))
        jobs.append(Job(name, values, tuple(seeds), data))
    if check:
        validate(jobs)
    return jobs


def validate(jobs: list[Job]) -> None:
    """Validate every job's configuration; one error listing each job that fails."""
    problems = []
    for job in jobs:
        try:
            job.config(job.name)
        except (cfg.ConfigError, SweepError) as err:
            problems.append(f"run {job.name!r} ({_describe(job.values)}, seeds {list(job.seeds)}): {err}")
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
        hint = ""
        if any("weighting" in p for p in problems):
            hint = (
                "\nhint: a grid over weighting.scheme keeps the base's other [weighting] options; to sweep options that "
                'only one scheme takes, sweep whole tables: weighting = [{ scheme = "constant" }, { scheme = "lr-annealing", beta = 0.9 }]'
            )
        raise SweepError(f"{len(problems)} of {len(jobs)} runs have an invalid configuration:\n  " + "\n  ".join(shown) + hint)


def _seeds(value) -> list[int]:
    return [value] if isinstance(value, int) else list(value)


def _base_seeds(base: dict) -> list[int]:
    seeds = base.get("train", {}).get("seeds", list(cfg.RunConfig().seeds))
    return list(seeds) if isinstance(seeds, list) else seeds  # from_dict reports a bad value


def _describe(values: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items()) or "the base configuration"


def job_names(all_values: list[dict], keys: list[str]) -> list[str]:
    """Deterministic, readable folder names: ``scheme=ntk,learning_rate=0.001``.

    Each swept key appears by its last part unless two swept keys share it; values are
    written exactly (``repr`` of floats); unsafe characters become ``_``; a clash gets ``-2``.
    """
    keys = [k for k in keys if k != SEEDS_KEY]
    last = [k.split(".")[-1] for k in keys]
    short = {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last)}
    names, seen = [], set()
    for values in all_values:
        name = ",".join(f"{short[k]}={label(values[k])}" for k in keys if k in values) or "base"
        name = UNSAFE.sub("_", name)
        if len(name) > MAX_NAME:
            name = f"{name[: MAX_NAME - 9]}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"
        unique, i = name, 1
        while unique in seen:
            i += 1
            unique = f"{name}-{i}"
        seen.add(unique)
        names.append(unique)
    return names


def label(value) -> str:
    """A value as it appears in a folder name: ``0.001``, ``20-20``, ``ntk+period-10``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "-".join(label(v) for v in value)
    if isinstance(value, dict):
        lead = [label(value[k]) for k in ("scheme", "name", "type") if k in value]
        rest = [f"{k}-{label(v)}" for k, v in value.items() if k not in ("scheme", "name", "type")]
        return "+".join(lead + rest)
    return str(value)
