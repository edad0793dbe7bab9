"""A run folder's files about an ensemble (``[ensemble] members = K``, ``pinnbalance.ensemble``).

Beside each member's own folder (``seed_<S>/``, as for any multi-seed run), the run folder gets:

- ``summary.json`` entry ``"ensemble"``: ``members``, ``seeds``, the mean prediction's ``l2re``
  and per-component errors (``components``), each member's ``member_l2re`` (and
  ``member_components``), ``spread`` (the members' std at an evaluation point, its norm over
  the components, averaged over the points) and ``relative_spread`` (``ensemble.spread``);
- ``ensemble.npz``: ``points`` (the evaluation points), ``mean``, ``std`` and ``reference``
  there, the compared quantity's (``metrics.predict``), written atomically;
- ``ensemble.png``: the mean and the std of each output component on a plane, when the domain
  is 2-D (the solution on its bounding box) or has a field unknown of two coordinates (the field
  on its inputs' box; then the solution too, at the first time if the third coordinate is ``t``:
  for heat-inverse u at t = 0 and a). Written when matplotlib is installed.

A member that diverged is left out of the mean (``left_out`` lists its seed).

Example:
    >>> solution_plane(("x", "y", "t")), solution_plane(("t", "x")), solution_plane(("x", "y", "z"))
    ((0, 1), (0, 1), None)
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jax
import numpy as np

from pinnbalance.ensemble import ensemble_evaluation, member_values, stack_params
from pinnbalance.io import write_npz
from pinnbalance.metrics import evaluation_grid
from pinnbalance.nn.hard import for_problem
from pinnbalance.nn.with_unknowns import solution_network, solution_params
from pinnbalance.problems.unknowns import FieldUnknown

NPZ, FIGURE = "ensemble.npz", "ensemble.png"


def write_ensemble(run_dir: str | Path, problem, network, results, seeds, grid_n: int = 100) -> dict:
    """Write ``ensemble.npz`` (and ``ensemble.png``) of the members ``results`` into ``run_dir``;
    return the summary's ``"ensemble"`` entry."""
    kept = [i for i, r in enumerate(results) if not r.divergence]
    if not kept:
        return {"members": 0, "seeds": [], "left_out": list(seeds)}
    stacked = stack_params([results[i].params for i in kept])
    dtype = jax.tree_util.tree_leaves(stacked)[0].dtype
    points, reference = (np.asarray(a) for a in evaluation_grid(problem, grid_n, dtype))
    mean, std, errors = ensemble_evaluation(problem, network, stacked, points, reference)
    write_npz(Path(run_dir) / NPZ, {"points": points, "mean": mean, "std": std, "reference": reference})
    entry = {"members": len(kept), "seeds": [seeds[i] for i in kept]} | errors
    if len(kept) < len(results):
        entry["left_out"] = [s for i, s in enumerate(seeds) if i not in kept]
    panels = ensemble_fields(problem, network, stacked, grid_n)
    if panels and importlib.util.find_spec("matplotlib") is not None:  # an extra: ensemble.npz holds the numbers
        plot_ensemble(panels, Path(run_dir) / FIGURE)
    return entry


def ensemble_line(entry: dict) -> str:
    """The summary's ``"ensemble"`` entry in one line, for the command line.

    Example:
        >>> ensemble_line({"members": 2, "l2re": 0.025, "member_l2re": [0.03, 0.032], "spread": 0.01})
        'ensemble of 2: l2re 2.500e-02 (members 3.000e-02 .. 3.200e-02), spread 1.000e-02'
    """
    if not entry.get("members"):
        return f"ensemble: every member diverged ({entry.get('left_out')})"
    members = entry["member_l2re"]
    return (
        f"ensemble of {entry['members']}: l2re {entry['l2re']:.3e} (members {min(members):.3e} .. {max(members):.3e}), "
        f"spread {entry['spread']:.3e}"
    )


def solution_plane(coordinates: tuple[str, ...]) -> tuple[int, int] | None:
    """The two coordinates the solution's panels span: both of a 2-D domain, the two besides
    ``t`` of a 3-D space-time one (held at its first instant); None otherwise."""
    if len(coordinates) == 2:
        return (0, 1)
    if len(coordinates) == 3 and "t" in coordinates:
        i, j = (k for k, c in enumerate(coordinates) if c != "t")
        return (i, j)
    return None


def _grid(problem, axes: tuple[int, int], n: int, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(axis0, axis1, points)``: an ``n x n`` grid over the domain's bounding box in the two
    coordinates ``axes``, the other coordinates at their lower bound (``points``: ``(n^2, d)``)."""
    lower, upper = (np.asarray(b, np.float64) for b in problem.domain.bounds())
    axis0, axis1 = (np.linspace(lower[a], upper[a], n) for a in axes)
    points = np.tile(lower, (n * n, 1))
    g0, g1 = np.meshgrid(axis0, axis1, indexing="ij")
    points[:, axes[0]], points[:, axes[1]] = g0.ravel(), g1.ravel()
    return axis0, axis1, points.astype(dtype)


def _members(fn, stacked, points) -> np.ndarray:
    """``(K, n, c)``: ``fn(params)`` (a pointwise function) of each member at ``points``, float64."""
    return member_values(jax.jit(lambda p: jax.vmap(fn(p))(points).reshape(len(points), -1)), stacked)


def _panels(names: tuple[str, ...], values: np.ndarray, grid: tuple, labels: tuple[str, str], where: str = "") -> list[dict]:
    """One panel per column of ``values`` ``(K, n0 n1, c)``: the members' mean and std on the grid ``(axis0, axis1)``."""
    names = names if len(names) == values.shape[2] else tuple(f"{names[0]}{c}" for c in range(values.shape[2]))
    shape = (len(grid[0]), len(grid[1]))
    return [
        {"name": n + where, "axis0": grid[0], "axis1": grid[1], "labels": labels}
        | {"mean": v.mean(0).reshape(shape), "std": v.std(0).reshape(shape)}
        for n, v in zip(names, np.moveaxis(values, 2, 0))
    ]


def ensemble_fields(problem, network, stacked, n: int = 100) -> list[dict]:
    """The figure's panels: ``{"name", "axis0", "axis1", "labels", "mean", "std"}`` (``n x n`` grids)
    of the solution's outputs and of each field unknown of two coordinates; ``[]`` when neither
    the domain is 2-D nor a field unknown is a function of two coordinates."""
    full, names = for_problem(problem, network), tuple(problem.domain.names)
    fields = [(k, s) for k, s in getattr(full, "unknowns", ()) if isinstance(s, FieldUnknown) and len(_inputs(s, names)) == 2]
    dtype, panels = jax.tree_util.tree_leaves(stacked)[0].dtype, []
    plane = solution_plane(names)
    if plane is not None and (len(names) == 2 or fields):
        axis0, axis1, points = _grid(problem, plane, n, dtype)
        u = lambda p: solution_network(full).field(solution_params(full, p))  # noqa: E731
        where = "".join(f" at {c} = {points[0, k]:g}" for k, c in enumerate(names) if k not in plane)
        values, labels = _members(u, stacked, points), (names[plane[0]], names[plane[1]])
        panels += _panels(_output_names(problem), values, (axis0, axis1), labels, where)
    for name, spec in fields:
        i, j = (names.index(c) for c in _inputs(spec, names))
        axis0, axis1, points = _grid(problem, (i, j), n, dtype)
        a = lambda p, name=name: full.values(p)[name]  # noqa: E731
        panels += _panels((name,), _members(a, stacked, points), (axis0, axis1), (names[i], names[j]))
    return panels


def _inputs(spec: FieldUnknown, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(names[k] for k in spec.indices(names, "field"))


def _output_names(problem) -> tuple[str, ...]:
    """The solution's outputs' names: the problem's components when there is one per output, else ``u``
    (numbered ``u0``, ``u1``, ... for several outputs)."""
    components = tuple(getattr(problem, "components", ()) or ())
    return components if len(components) == problem.outputs else ("u",)


def plot_ensemble(panels: list[dict], path: str | Path) -> Path:
    """One row per panel: the members' mean and their standard deviation on the plane."""
    from pinnbalance.report.figures import pyplot, save_figure  # matplotlib only here

    plt = pyplot()
    fig, axes = plt.subplots(len(panels), 2, figsize=(10, 3.6 * len(panels)), squeeze=False)
    for (left, right), p in zip(axes, panels):
        extent = [p["axis0"][0], p["axis0"][-1], p["axis1"][0], p["axis1"][-1]]
        for ax, key, title, cmap in ((left, "mean", "ensemble mean of", "jet"), (right, "std", "members' std of", "magma")):
            image = ax.imshow(p[key].T, origin="lower", extent=extent, aspect="auto", cmap=cmap)
            ax.set_title(f"{title} {p['name']}")
            ax.set_xlabel(p["labels"][0])
            ax.set_ylabel(p["labels"][1])
            fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return save_figure(fig, path)
