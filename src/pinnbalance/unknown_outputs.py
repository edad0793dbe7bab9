"""A run folder's files about the unknown parameters (inverse problems).

For a problem with unknowns, each run (seed) folder gets, beside the solution's files:

- ``summary.json`` entries ``"unknowns"`` (each scalar's final value) and, where the problem
  gives ``exact_unknowns``, ``"unknown_errors"``: ``|k - k*| / |k*|`` for a scalar, the
  relative L2 error on the evaluation grid for a field;
- ``unknowns/<name>/params.npz`` and ``network.json`` of each field unknown (``io.load_params``
  reads them back);
- ``unknowns.png``: each scalar's value (and its true value, dashed) and each field's error
  against the step (written when matplotlib is installed).

The history (``history.csv``) holds the trajectories, ``unknown/<name>`` and
``unknown_l2/<name>`` (``unknown_records``). Nothing is written for a problem without unknowns.

Example:
    >>> import numpy as np
    >>> scalar_error(0.75, 0.5)  # |k - k*| / |k*|
    0.5
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import jax
import numpy as np

from pinnbalance.io import save_params
from pinnbalance.metrics import evaluation_grid, relative_l2
from pinnbalance.nn.with_unknowns import WithUnknowns, solution_network, solution_params, with_unknowns
from pinnbalance.problems.unknowns import FieldUnknown


def scalar_error(value: float, exact: float) -> float:
    """``|value - exact| / |exact|`` (the absolute error when ``exact`` is 0)."""
    return abs(value - exact) / (abs(exact) or 1.0)


def solution_view(network, result):
    """``(solution network, result with the solution network's params)``: what the solution's
    own files (parameters, predictions) are written from; ``(network, result)`` without unknowns."""
    if not isinstance(network, WithUnknowns):
        return network, result
    state = result.state._replace(params=solution_params(network, result.state.params))
    return solution_network(network), dataclasses.replace(result, state=state)


def unknown_summary(problem, network, params, grid_n: int = 100) -> dict:
    """``{"unknowns": {scalar: value}, "unknown_errors": {name: error}}`` of ``params`` (groups left
    out when empty); ``{}`` without unknowns. Field errors are on the ``grid_n``-point evaluation grid."""
    network = with_unknowns(problem, network)  # the unknowns alone: a hard constraint does not change them
    if not isinstance(network, WithUnknowns):
        return {}
    values, specs = network.values(params), dict(network.unknowns)
    scalars = {n: float(v) for n, v in values.items() if not isinstance(specs[n], FieldUnknown)}
    errors = {}
    for name, exact in problem.exact_unknowns.items():
        if name in scalars:
            errors[name] = scalar_error(scalars[name], float(exact))
        else:
            grid = evaluation_grid(problem, grid_n, jax.tree_util.tree_leaves(params)[0].dtype)[0]
            errors[name] = float(relative_l2(jax.vmap(values[name])(grid), jax.vmap(exact)(grid)))
    out = {"unknowns": scalars, "unknown_errors": errors}
    return {k: v for k, v in out.items() if v}


def write_unknowns(folder: str | Path, problem, network, result, grid_n: int = 100) -> dict:
    """Write a run's unknowns (field parameters, figure) into ``folder``; return its summary entries."""
    network = with_unknowns(problem, network)  # the unknowns alone: a hard constraint does not change them
    if not isinstance(network, WithUnknowns):
        return {}
    folder = Path(folder)
    for name, spec in network.unknowns:
        if isinstance(spec, FieldUnknown):
            (folder / "unknowns" / name).mkdir(parents=True, exist_ok=True)
            save_params(folder / "unknowns" / name, spec.network, result.params["unknowns"][name])
    if importlib.util.find_spec("matplotlib") is not None:  # an extra: without it the history holds the same numbers
        plot_unknowns(result.history, problem.exact_unknowns, folder / "unknowns.png")
    return unknown_summary(problem, network, result.params, grid_n)


def plot_unknowns(history, exact, path: str | Path) -> Path | None:
    """One panel per unknown: a scalar's value vs step (its true value dashed), a field's
    relative L2 error vs step (log scale). None when the history has no unknown columns."""
    columns = [k for k in history if k.startswith(("unknown/", "unknown_l2/"))]
    if not columns:
        return None
    from pinnbalance.report.figures import pyplot, save_figure, step_axes  # matplotlib only here

    plt = pyplot()
    fig, axes = plt.subplots(1, len(columns), figsize=(4.5 * len(columns), 3.6), squeeze=False)
    for ax, key in zip(axes[0], columns):
        kind, name = key.split("/", 1)
        if kind == "unknown":
            ax.plot(history["step"], history[key], lw=1.2, label=name)
            if name in exact:
                ax.axhline(float(exact[name]), ls="--", color="k", lw=0.8, label=f"true {float(exact[name]):g}")
        else:
            ax.semilogy(history["step"], np.asarray(history[key]), lw=1.2, label=f"rel. L2 error of {name}")
        step_axes(ax, title=name)
    fig.tight_layout()
    return save_figure(fig, path)
