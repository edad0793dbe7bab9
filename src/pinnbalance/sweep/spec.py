"""Sweep files: a base run configuration, a ``[grid]`` of values and optional ``[random]`` samples.

A sweep file::

    base = "../../configs/klein-gordon-m1.toml"    # a run TOML, relative to this file (optional)
    out = "runs/sweeps/kg-schemes"                 # where the runs go (optional; --out wins)

    [set]                                          # overrides of the base, for every run
    train.steps = 2001
    network.hidden = [20, 20]

    [grid]                                         # cartesian product of these values
    "weighting.scheme" = ["constant", "lr-annealing", "ntk"]
    "optimizer.learning_rate" = [1e-3, 3e-4]
    "train.seeds" = [1234, 1, 2]                   # one seed per value (or a list per value)

    [random]                                       # n joint draws, each combined with every grid point
    n = 4
    seed = 0
    "weighting.beta" = { uniform = [0.8, 0.99] }
    "optimizer.decay_rate" = { log_uniform = [0.5, 1.0] }

Keys are the dotted keys of a run configuration (see ``pinnbalance.config``); quoted
(``"train.steps"``) and bare (``train.steps``) dotted keys mean the same. A grid value may
be a whole table (``weighting = [{ scheme = "constant" }, { scheme = "ntk", period = 10 }]``)
to sweep options that only one scheme takes. Every key and value is checked by the run
configuration's own validation once the grid is expanded (``jobs.plan``).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pinnbalance import config as cfg

SEEDS_KEY = "train.seeds"
TOP_KEYS = ("base", "out", "set", "grid", "random")
SIGNIFICANT_DIGITS = 4  # random floats are rounded so that folder names show the exact value


class SweepError(ValueError):
    """A sweep file or one of its expanded runs is invalid; the message names the key and the fix."""


@dataclass(frozen=True)
class Distribution:
    """One ``[random]`` distribution: ``uniform``/``log_uniform`` [lo, hi], ``int_uniform`` [lo, hi]
    (both ends included) or ``choice`` [v1, v2, ...]."""

    kind: str
    args: tuple

    def sample(self, rng: np.random.Generator):
        if self.kind == "choice":
            return copy.deepcopy(self.args[int(rng.integers(len(self.args)))])
        lo, hi = self.args
        if self.kind == "int_uniform":
            return int(rng.integers(lo, hi + 1))
        if self.kind == "log_uniform":
            return _round(math.exp(rng.uniform(math.log(lo), math.log(hi))))
        return _round(rng.uniform(lo, hi))


DISTRIBUTIONS = ("uniform", "log_uniform", "int_uniform", "choice")


def _round(x: float) -> float:
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}")


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: base run data, the grid (dotted key -> values) and random distributions."""

    base: dict
    grid: dict[str, list] = field(default_factory=dict)
    random: dict[str, Distribution] = field(default_factory=dict)
    samples: int = 0
    random_seed: int = 0
    out: str | None = None
    source: str = "<dict>"

    @property
    def keys(self) -> list[str]:
        """The swept keys, grid first, in file order."""
        return [*self.grid, *self.random]

    def points(self) -> list[dict[str, Any]]:
        """Every point of the sweep: the grid's cartesian product times the random draws."""
        grid = [dict(zip(self.grid, combo)) for combo in itertools.product(*self.grid.values())]
        rng = np.random.default_rng(self.random_seed)
        draws = [{k: d.sample(rng) for k, d in self.random.items()} for _ in range(self.samples)] or [{}]
        return [{**g, **r} for g in grid for r in draws]


def flatten(table: Mapping, is_leaf, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": v}}`` -> ``{"a.b": v}`` down to the values where ``is_leaf(value)``."""
    out = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and not is_leaf(value):
            out.update(flatten(value, is_leaf, f"{dotted}."))
        else:
            out[dotted] = value
    return out


def set_path(data: dict, dotted: str, value) -> None:
    """Set ``data[a][b][c] = value`` for ``"a.b.c"``, creating tables on the way."""
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        if not isinstance(node.get(part), dict):  # a scalar on the way is replaced, as TOML would
            node[part] = {}
        node = node[part]
    node[last] = copy.deepcopy(value)


def _check_key(where: str, dotted: str) -> None:
    section = dotted.split(".")[0]
    if section not in cfg.SECTIONS:
        raise SweepError(f"{where} key {dotted!r}: unknown section {section!r}{cfg._suggest(section, cfg.SECTIONS)}")
    if section == "output":
        raise SweepError(f"{where} key {dotted!r}: the sweep places every run in its own folder under the sweep's out")


def load_sweep(path: str | Path, overrides: list[str] = ()) -> SweepSpec:
    """Read a sweep file; ``overrides`` (``key.path=value``, as ``pinnbalance run --set``) change the base."""
    path = Path(path)
    data = cfg.read_toml(path, "sweep file", SweepError)
    try:
        return from_dict(data, path.parent, list(overrides), source=str(path))
    except (SweepError, cfg.ConfigError) as err:
        raise SweepError(f"{path}: {err}") from None


def from_dict(data: Mapping, root: Path = Path("."), overrides: list[str] = (), source: str = "<dict>") -> SweepSpec:
    """Validate parsed sweep TOML; ``root`` is the folder that ``base`` is relative to."""
    for key in data:
        if key not in TOP_KEYS:
            raise SweepError(f"unknown key {key!r}{cfg._suggest(key, TOP_KEYS)}; valid top-level keys are {list(TOP_KEYS)}")
    base = _base(data.get("base"), root)
    for dotted, value in flatten(_table(data, "set"), lambda v: False).items():
        _check_key("[set]", dotted)
        set_path(base, dotted, value)
    base = cfg.apply_overrides(copy.deepcopy(base), list(overrides))
    grid = _grid(_table(data, "grid"))
    random, samples, seed = _random(_table(data, "random"))
    for key in set(grid) & set(random):
        raise SweepError(f"key {key!r} is both in [grid] and in [random]; keep it in one")
    for text in overrides:
        key = text.split("=", 1)[0].strip()
        if key in grid or key in random:
            raise SweepError(f"--set {text!r}: {key!r} is swept by the sweep file; change its values there")
    if not grid and not random:
        raise SweepError(
            "nothing to sweep: give a [grid] (key -> list of values) or [random] samples; for one run use `pinnbalance run`"
        )
    out = data.get("out")
    if out is not None and not isinstance(out, str):
        raise SweepError(f"out must be a folder path (string), got {out!r}")
    return SweepSpec(base, grid, random, samples, seed, out, source)


def _table(data: Mapping, name: str) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise SweepError(f"[{name}] must be a table, got {value!r}")
    return value


def _base(base, root: Path) -> dict:
    if base is None:
        return {}
    if not isinstance(base, str):
        raise SweepError(f"base must be the path of a run TOML file (relative to the sweep file), got {base!r}")
    path = root / base
    if not path.exists():
        raise SweepError(f"base configuration {path} does not exist (base is relative to the sweep file)")
    data = cfg.read_toml(path, "base configuration", SweepError)
    data.pop("output", None)  # the sweep decides where each run goes
    return data


def _grid(table: dict) -> dict[str, list]:
    grid = flatten(table, lambda v: False)
    for key, values in grid.items():
        _check_key("[grid]", key)
        if not isinstance(values, list):
            raise SweepError(f"[grid] key {key!r} must be a list of values, e.g. [1e-3, 1e-4]; got {values!r}")
        if not values:
            raise SweepError(f"[grid] key {key!r} has no values; give at least one, or remove the key")
        labels = [repr(v) for v in values]
        for v, label in zip(values, labels):
            if labels.count(label) > 1:
                raise SweepError(f"[grid] key {key!r} lists the value {v!r} twice")
        if key == SEEDS_KEY:
            for v in values:
                if not (isinstance(v, int) and not isinstance(v, bool)) and not (
                    isinstance(v, list) and v and all(isinstance(s, int) and not isinstance(s, bool) for s in v)
                ):
                    raise SweepError(f"[grid] {SEEDS_KEY!r} takes integer seeds (or lists of them), got {v!r}")
    return grid


def _random(table: dict) -> tuple[dict[str, Distribution], int, int]:
    table = dict(table)
    if not table:
        return {}, 0, 0
    samples = table.pop("n", None)
    seed = table.pop("seed", 0)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise SweepError(f"[random] needs n = the number of samples (a positive integer), got {samples!r}")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise SweepError(f"[random] seed must be an integer, got {seed!r}")
    is_dist = lambda v: not any(isinstance(x, dict) for x in v.values())  # { kind = [...] }, the innermost table  # noqa: E731
    dists = {}
    for key, spec in flatten(table, is_dist).items():
        _check_key("[random]", key)
        if key == SEEDS_KEY:
            raise SweepError(f"[random] cannot draw {SEEDS_KEY!r}; list the seeds in [grid] or in the base")
        dists[key] = _distribution(key, spec)
    if not dists:
        raise SweepError('[random] names no key to draw, e.g. "optimizer.learning_rate" = { log_uniform = [1e-4, 1e-2] }')
    return dists, samples, seed


def _distribution(key: str, spec) -> Distribution:
    example = (
        '{ log_uniform = [1e-4, 1e-2] }, { uniform = [0.5, 0.99] }, { int_uniform = [1, 10] } or { choice = ["tanh", "sin"] }'
    )
    if not isinstance(spec, dict) or len(spec) != 1:
        raise SweepError(f"[random] {key!r} must be one distribution, e.g. {example}; got {spec!r}")
    kind, args = next(iter(spec.items()))
    if kind not in DISTRIBUTIONS:
        raise SweepError(
            f"[random] {key!r}: unknown distribution {kind!r}{cfg._suggest(kind, DISTRIBUTIONS)}; valid: {list(DISTRIBUTIONS)}"
        )
    if not isinstance(args, list) or not args:
        raise SweepError(f"[random] {key!r}: {kind} takes a list, e.g. {example}")
    if kind == "choice":
        return Distribution(kind, tuple(args))
    number = (int,) if kind == "int_uniform" else (int, float)
    if len(args) != 2 or not all(isinstance(a, number) and not isinstance(a, bool) for a in args) or not args[0] < args[1]:
        raise SweepError(f"[random] {key!r}: {kind} takes [low, high] with low < high, got {args!r}")
    if kind == "log_uniform" and args[0] <= 0:
        raise SweepError(f"[random] {key!r}: log_uniform needs low > 0, got {args!r}")
    return Distribution(kind, tuple(args))
