"""``[unknowns.NAME]``: set a packaged problem's scalar unknowns from a run configuration.

    [problem]
    name = "poisson-inverse"

    [unknowns.k]            # the problem's declared unknown k (problems.unknowns.Scalar)
    init = 2.0              # its initial value
    positive = true         # trained as exp(raw), so it stays > 0 (init must then be > 0)
    learning_rate = 1e-2    # its own rate (default: the network's [optimizer] rate)

Each key overrides the packaged problem's own choice; keys left out keep it. Names are checked
against the problem's declaration (``problems.declared``: no problem is built, no JAX backend
starts) and the values as ``Scalar`` checks them, each error naming its dotted key.

Example:
    >>> from pinnbalance.problems.declared import DECLARED
    >>> check_unknowns({"k": {"init": 2.0}}, DECLARED["poisson-inverse"], "poisson-inverse")
    {'k': {'init': 2.0}}
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping

from pinnbalance.problems.unknowns import Scalar

KEYS = {"init": "a number", "positive": "true or false", "learning_rate": "a positive number"}


def _error(text: str) -> Exception:
    from pinnbalance.config import ConfigError  # config imports this module

    return ConfigError(text)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_unknowns(table, declared, problem: str) -> dict[str, dict]:
    """``table`` (the ``[unknowns]`` section) as ``{name: {key: value}}``, after checking each name
    against ``declared.unknowns`` and each value's type; ``ConfigError`` names the key otherwise."""
    if not isinstance(table, Mapping):
        raise _error(f"[unknowns] must be a table of tables, e.g. [unknowns.k] init = 1.0; got {table!r}")
    valid = list(declared.unknowns)
    out = {}
    for name, given in table.items():
        if name not in valid:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _error(f"unknowns.{name}: problem {problem!r} has no scalar unknown {name!r}{hint}; its unknowns are {valid}")
        if not isinstance(given, Mapping):
            raise _error(f"unknowns.{name} must be a table, e.g. [unknowns.{name}] init = 1.0; got {given!r}")
        for key, value in given.items():
            _check_value(f"unknowns.{name}.{key}", key, value)
        if given.get("positive") and "init" in given and given["init"] <= 0:
            raise _error(
                f"unknowns.{name}.init = {given['init']!r} but positive = true needs init > 0; give a positive init "
                "or set positive = false"
            )
        out[name] = dict(given)
    return out


def _check_value(path: str, key: str, value) -> None:
    if key not in KEYS:
        close = difflib.get_close_matches(key, list(KEYS), n=1)
        raise _error(f"{path}: unknown key{f' (did you mean {close[0]!r}?)' if close else ''}; valid keys are {list(KEYS)}")
    ok = isinstance(value, bool) if key == "positive" else _number(value) and (key != "learning_rate" or value > 0)
    if not ok:
        raise _error(f"{path} must be {KEYS[key]}, got {value!r}")


def apply_unknowns(problem, overrides: Mapping[str, Mapping]):
    """``problem`` with each named scalar unknown's fields replaced by ``overrides`` (a new
    ``Problem``, checked again: a positive unknown with init <= 0 is a ``ValueError``)."""
    if not overrides:
        return problem
    unknowns = dict(problem.unknowns)
    for name, given in overrides.items():
        if not isinstance(unknowns.get(name), Scalar):
            raise ValueError(
                f"unknowns.{name}: problem {problem.name!r} has no scalar unknown {name!r}; its unknowns are {list(unknowns)}"
            )
        given = {k: float(v) if k != "positive" else v for k, v in given.items()}
        unknowns[name] = dataclasses.replace(unknowns[name], **given)
    return dataclasses.replace(problem, unknowns=unknowns)
