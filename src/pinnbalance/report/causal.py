"""The figure of causal weighting: the slice weights and eps over training.

Left, the slice weights ``w_i`` (rows: time slices, earliest at the bottom; columns: the
recorded steps) as an image from 0 to 1, so the front of fitted times is seen moving up; right,
``min_i w_i`` and eps against the step (log scale), with the move threshold ``delta``. It reads
a history's ``causal/*`` columns (``training.causal_schedule``). Matplotlib is optional
(``pip install "pinnbalance[plot]"``).

Example (a history of three records over two slices)::

    import numpy as np
    h = {"step": np.array([0, 100, 200]), "causal/eps": np.array([0.1, 0.1, 1.0]),
         "causal/w_min": np.array([0.5, 0.995, 0.9]), "causal/w_0": np.ones(3),
         "causal/w_1": np.array([0.5, 0.995, 0.9])}
    causal_figure(h, "causal.png")
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pinnbalance.report.figures import pyplot, save_figure
from pinnbalance.training.causal_schedule import slice_weights


def causal_figure(history: Mapping[str, np.ndarray], path: str | Path, delta: float = 0.99) -> Path:
    """Write the slice weights and eps of ``history`` (a run's ``causal/*`` columns) to ``path``."""
    if "causal/eps" not in history:
        raise ValueError("this history has no causal/* columns: the run had no causal weighting ([causal] in its config)")
    plt = pyplot()
    steps = np.asarray(history["step"])
    keep = np.isfinite(np.asarray(history["causal/eps"], float))  # the first-order phase's records
    w = slice_weights(history)[keep]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    extent = (steps[keep][0], steps[keep][-1], -0.5, w.shape[1] - 0.5)
    image = left.imshow(w.T, origin="lower", aspect="auto", vmin=0.0, vmax=1.0, extent=extent, cmap="viridis")
    fig.colorbar(image, ax=left, label="slice weight w_i")
    left.set(xlabel="step", ylabel="time slice i (earliest at the bottom)", title="causal weights")
    right.semilogy(steps[keep], history["causal/eps"][keep], label="eps", color="C1")
    right.set(xlabel="step", ylabel="eps", title="eps schedule and min_i w_i")
    twin = right.twinx()
    twin.plot(steps[keep], history["causal/w_min"][keep], label="min_i w_i", color="C0")
    twin.axhline(delta, color="C0", linestyle=":", label=f"delta = {delta}")
    twin.set(ylabel="min_i w_i", ylim=(0.0, 1.05))
    lines = right.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    right.legend(lines, [ln.get_label() for ln in lines], loc="lower right", fontsize=8)
    return save_figure(fig, path)


def run_figure(folder: str | Path, history: Mapping[str, np.ndarray]) -> Path | None:
    """``folder/causal.png`` for a run with causal weighting (None: no causal columns, or no matplotlib)."""
    if "causal/eps" not in history:
        return None
    try:
        return causal_figure(history, Path(folder) / "causal.png")
    except ImportError:  # figures are optional; the history holds the numbers
        return None
