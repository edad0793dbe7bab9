"""Lid-driven cavity errors measured every way the published number could have been measured.

The published cavity errors (M1 2.71e-1, M2 2.49e-1, M4 3.42e-2) come from a script that
computes ``numpy.linalg.norm(E, 2) / numpy.linalg.norm(R, 2)`` on 100 x 100 GRIDS of the
velocity magnitude: for a 2-D array that is the ratio of SPECTRAL norms (largest singular
values), not the relative L2 error (``metrics.relative_spectral_error``). It also compares
against its own reference data (``reference_u.csv``, ``reference_v.csv`` of the published
code; the same 100 x 100 grid of the closed square, the lid's corners at u = 1), which is
kept here, as numbers, in ``benchmarks/data/cavity_published_reference.npz``.

So for a trained cavity network this script reports four numbers, each of the two metrics
against each of the two references, and the centre-line differences from Ghia, Ghia &
Shin (1982); and, once, how far our finite-difference reference is from the published one.

    python benchmarks/cavity_check.py                        # the two references compared
    python benchmarks/cavity_check.py RUN_DIR [RUN_DIR ...]  # + trained networks (pinnbalance run folders)

Writes ``benchmarks/results/cavity_check.json`` (``--out``). ``benchmarks/zoo.py`` calls
``network_errors`` for every cavity entry.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from pinnbalance.io import load_run, write_json  # noqa: E402
from pinnbalance.metrics import relative_spectral_error  # noqa: E402
from pinnbalance.problems.cavity import ghia_differences, speed  # noqa: E402
from pinnbalance.problems.cavity_reference import (  # noqa: E402
    GHIA_RE100_U,
    GHIA_RE100_V,
    GHIA_RE100_X,
    GHIA_RE100_Y,
    centreline_differences,
    reference_speed,
    solve_cavity,
)

PUBLISHED_DATA = HERE / "data" / "cavity_published_reference.npz"
N = 100  # the published evaluation grid: linspace(0, 1, 100) in x and y


def published_reference() -> tuple[np.ndarray, np.ndarray] | None:
    """``(u, v)`` of the published reference data on the 100 x 100 grid, indexed ``[i_x, j_y]``
    (as the CSV files: one row per x), or None when the data file is absent."""
    if not PUBLISHED_DATA.exists():
        return None
    data = np.load(PUBLISHED_DATA)
    return data["u"].astype(np.float64), data["v"].astype(np.float64)


def our_reference() -> np.ndarray:
    """Our finite-difference velocity magnitude on the same grid, ``[i_x, j_y]``."""
    _, values = reference_speed(100.0, N)
    return values.reshape(N, N)


def grid_errors(pred: np.ndarray, ref: np.ndarray) -> dict:
    """Relative L2 (Frobenius) and the published spectral-norm ratio of two speed grids."""
    return {
        "l2": float(np.linalg.norm(pred - ref) / np.linalg.norm(ref)),
        "spectral": relative_spectral_error(pred, ref),
    }


def _centre_lines(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid fields minus Ghia at Ghia's points (bicubic interpolation: 100 points put no grid
    line on 0.5)."""
    from scipy.interpolate import RectBivariateSpline

    x = np.linspace(0.0, 1.0, u.shape[0])
    u_line = RectBivariateSpline(x, x, u).ev(np.full(17, 0.5), np.asarray(GHIA_RE100_Y))
    v_line = RectBivariateSpline(x, x, v).ev(np.asarray(GHIA_RE100_X), np.full(17, 0.5))
    return u_line - np.asarray(GHIA_RE100_U), v_line - np.asarray(GHIA_RE100_V)


def references_compared() -> dict:
    """Our finite-difference reference against the published reference data."""
    ours = our_reference()
    flow = solve_cavity(100.0, 129)
    du, dv = centreline_differences(flow)
    out = {"ours_ghia_max_abs": {"u": float(np.abs(du).max()), "v": float(np.abs(dv).max()), "grid": 129}}
    published = published_reference()
    if published is None:
        out["published"] = f"absent: {PUBLISHED_DATA} not found"
        return out
    pu, pv = published
    pub_speed = np.hypot(pu, pv)
    du, dv = _centre_lines(pu, pv)
    out["published_ghia_max_abs"] = {"u": float(np.abs(du).max()), "v": float(np.abs(dv).max()), "grid": N}
    interior = (slice(1, -1), slice(1, -1))
    out["ours_vs_published"] = {
        **grid_errors(ours, pub_speed),
        "max_abs_speed": float(np.abs(ours - pub_speed).max()),
        "max_abs_speed_interior": float(np.abs(ours - pub_speed)[interior].max()),
        "l2_interior_below_y_0_9": float(np.linalg.norm((ours - pub_speed)[1:-1, 1:90]) / np.linalg.norm(pub_speed[1:-1, 1:90])),
    }
    return out


def network_errors(run_dir: str | Path, seed: int | None = None) -> dict:
    """A trained cavity network's errors: both metrics against both references, and Ghia."""
    model = load_run(run_dir, seed=seed)
    field = model.network.field(model.params)
    dtype = jax.tree_util.tree_leaves(model.params)[0].dtype
    grid, ours = reference_speed(100.0, N)  # the published 100 x 100 grid, x-major, and our values there
    pred = np.asarray(jax.jit(jax.vmap(lambda z: speed(field, z)))(jnp.asarray(grid, dtype)), np.float64).reshape(N, N)
    du, dv = ghia_differences(field)
    out = {
        "ours_reference": grid_errors(pred, ours.reshape(N, N)),
        "ghia_max_abs": {"u": float(jnp.abs(du).max()), "v": float(jnp.abs(dv).max())},
    }
    published = published_reference()
    if published is not None:
        out["published_reference"] = grid_errors(pred, np.hypot(*published))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", help="pinnbalance run folders of cavity trainings")
    parser.add_argument("--out", default=str(HERE / "results" / "cavity_check.json"))
    args = parser.parse_args(argv)
    result = {"references": references_compared(), "networks": {}}
    for run in args.runs:
        result["networks"][str(run)] = network_errors(run)
    write_json(args.out, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
