"""The unknown parameters in the training records and the history.

Each record (one per ``log_every`` steps, and per record of the L-BFGS and
Levenberg-Marquardt phases) holds, besides the losses and weights, every scalar unknown's
value (group ``"unknowns"``) and every field unknown's relative L2 error on the evaluation
grid against the problem's ``exact_unknowns`` when it gives one (group ``"unknown_errors"``),

    e_a = ||a(z_j) - a*(z_j)||_2 / ||a*(z_j)||_2 .

The history turns them into the columns ``unknown/<name>`` and ``unknown_l2/<name>``. A
problem without unknowns records nothing more, so its records are as before.

Example:
    >>> import numpy as np
    >>> records = [{"unknowns": {"k": np.array([1.0, 0.8])}}, {"unknowns": {"k": np.array([0.6])}}]
    >>> unknown_columns(records)
    {'unknown/k': array([1. , 0.8, 0.6])}
"""

from __future__ import annotations

import jax
import numpy as np

from pinnbalance.metrics import relative_l2
from pinnbalance.nn.with_unknowns import WithUnknowns
from pinnbalance.problems.unknowns import FieldUnknown

GROUPS = {"unknowns": "unknown/", "unknown_errors": "unknown_l2/"}  # record group -> history column prefix


def unknown_record(problem, network, params, grid) -> dict:
    """``{"unknowns": {scalar: value}, "unknown_errors": {field: relative L2}}`` of ``params``
    (groups left out when empty); ``{}`` for a network without unknowns."""
    if not isinstance(network, WithUnknowns):
        return {}
    values, specs = network.values(params), dict(network.unknowns)
    rec = {"unknowns": {n: v for n, v in values.items() if not isinstance(specs[n], FieldUnknown)}}
    rec["unknown_errors"] = {
        n: relative_l2(jax.vmap(values[n])(grid), jax.vmap(exact)(grid))
        for n, exact in problem.exact_unknowns.items()
        if isinstance(specs[n], FieldUnknown)
    }
    return {group: values for group, values in rec.items() if values}


def unknown_columns(records) -> dict[str, np.ndarray]:
    """The history columns ``unknown/<name>`` and ``unknown_l2/<name>`` of one run's records."""
    out = {}
    for group, prefix in GROUPS.items():
        for name in records[0].get(group, {}) if records else ():
            out[prefix + name] = np.concatenate([np.asarray(r[group][name]) for r in records])
    return out
