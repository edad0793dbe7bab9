"""Figures a user looks at to trust a run: fields, losses, errors and weights vs step.

Every function takes plain arrays and writes one PNG atomically; matplotlib is an
optional dependency (``pip install "pinnbalance[plot]"``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pinnbalance.io import atomic_write_bytes


def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError('figures need matplotlib: pip install "pinnbalance[plot]"') from err
    return plt


def _save(fig, path: str | Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    _plt().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def _field(ax, values, extent, title, names, cmap="jet"):
    im = ax.imshow(values.T, origin="lower", extent=extent, aspect="auto", cmap=cmap)
    ax.set_title(title)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.figure.colorbar(im, ax=ax)


def fields(predictions: Mapping[str, Mapping[str, np.ndarray]], names: tuple[str, str], path: str | Path) -> Path:
    """Rows of exact / predicted / |error| panels, one row per method.

    ``predictions[method]`` holds ``axis0``, ``axis1`` (grid coordinates), ``u_exact`` and
    ``u_pred`` of shape ``(n0, n1)``.
    """
    plt = _plt()
    methods = list(predictions)
    fig, axes = plt.subplots(len(methods), 3, figsize=(14, 3.6 * len(methods)), squeeze=False)
    for row, method in zip(axes, methods):
        p = predictions[method]
        extent = [p["axis0"][0], p["axis0"][-1], p["axis1"][0], p["axis1"][-1]]
        err = np.abs(p["u_pred"] - p["u_exact"])
        rel = np.linalg.norm(p["u_pred"] - p["u_exact"]) / np.linalg.norm(p["u_exact"])
        _field(row[0], p["u_exact"], extent, "exact u", names)
        _field(row[1], p["u_pred"], extent, f"{method}: predicted u", names)
        _field(row[2], err, extent, f"{method}: |error| (rel. L2 {rel:.2e})", names)
    fig.tight_layout()
    return _save(fig, path)


def _finish(fig, ax, ylabel: str, path: str | Path) -> Path:
    """Label, grid and legend a step-axis plot, then write it."""
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def _per_method(histories, key, ax, label_suffix=""):
    for method, h in histories.items():
        if key in h:
            ax.semilogy(h["step"], h[key], label=f"{method}{label_suffix}", lw=1)


def losses(histories: Mapping[str, Mapping[str, np.ndarray]], terms: tuple[str, ...], path: str | Path) -> Path:
    """Each term's unweighted (minibatch) loss vs step, one panel per term, one line per method."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(terms), figsize=(5 * len(terms), 3.8), squeeze=False)
    for ax, term in zip(axes[0], terms):
        _per_method(histories, f"loss_{term}", ax)
        ax.set_title(f"L_{term}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return _save(fig, path)


def l2_error(
    histories: Mapping[str, Mapping[str, np.ndarray]], path: str | Path, published: Mapping[str, float] | None = None
) -> Path:
    """Relative L2 error vs step, one line per method; dashed lines at published minima."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _per_method(histories, "l2", ax)
    for i, (method, value) in enumerate((published or {}).items()):
        ax.axhline(value, ls="--", lw=0.8, color=f"C{i}", label=f"{method} published min {value:.2e}")
    return _finish(fig, ax, "relative L2 error", path)


def weights(histories: Mapping[str, Mapping[str, np.ndarray]], terms: tuple[str, ...], path: str | Path) -> Path:
    """Loss weights vs step for the given terms, one line per method and term."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = ["-", "--", ":", "-."]
    for i, (method, h) in enumerate(histories.items()):
        for j, term in enumerate(terms):
            ax.semilogy(h["step"], h[f"weight_{term}"], styles[j % 4], color=f"C{i}", label=f"{method}: w_{term}", lw=1)
    return _finish(fig, ax, "weight", path)


def seed_spread(histories_by_method: Mapping[str, list[Mapping[str, np.ndarray]]], path: str | Path) -> Path:
    """Relative L2 error vs step per method: median over seeds and the min-max band."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (method, hs) in enumerate(histories_by_method.items()):
        l2 = np.stack([h["l2"] for h in hs])
        step = hs[0]["step"]
        ax.fill_between(step, l2.min(0), l2.max(0), color=f"C{i}", alpha=0.25)
        ax.semilogy(step, np.median(l2, 0), color=f"C{i}", label=f"{method} (median, range over {len(hs)} seeds)")
    return _finish(fig, ax, "relative L2 error", path)
