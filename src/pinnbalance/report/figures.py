"""Figures a user looks at to trust a run: fields, losses, errors and weights vs step.

Every function takes plain arrays and writes one PNG atomically; matplotlib is an
optional dependency (``pip install "pinnbalance[plot]"``).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pinnbalance.io import atomic_write_bytes


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only), or an ``ImportError`` naming the extra to install."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError('figures need matplotlib: pip install "pinnbalance[plot]"') from err
    return plt


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as a PNG (120 dpi) atomically, then close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    pyplot().close(fig)
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
    ``u_pred`` of shape ``(n0, n1)``; on a 1-D domain, ``points`` ``(n, 1)`` and ``u_exact``,
    ``u_pred`` ``(n,)`` or ``(n, k)``, drawn as curves (``drawable`` says which predictions can be).
    """
    plt = pyplot()
    methods = list(predictions)
    fig, axes = plt.subplots(len(methods), 3, figsize=(14, 3.6 * len(methods)), squeeze=False)
    for row, method in zip(axes, methods):
        p = predictions[method]
        if "axis0" not in p:
            _curves(row, p, method, names[0])
            continue
        extent = [p["axis0"][0], p["axis0"][-1], p["axis1"][0], p["axis1"][-1]]
        err = np.abs(p["u_pred"] - p["u_exact"])
        rel = np.linalg.norm(p["u_pred"] - p["u_exact"]) / np.linalg.norm(p["u_exact"])
        _field(row[0], p["u_exact"], extent, "exact u", names)
        _field(row[1], p["u_pred"], extent, f"{method}: predicted u", names)
        _field(row[2], err, extent, f"{method}: |error| (rel. L2 {rel:.2e})", names)
    fig.tight_layout()
    return save_figure(fig, path)


def drawable(prediction: Mapping[str, np.ndarray]) -> bool:
    """Whether ``fields`` can draw ``prediction``: a 2-D grid, or points of a 1-D domain."""
    return "axis0" in prediction or np.shape(prediction.get("points"))[1:] == (1,)


def _curves(row, p, method: str, name: str) -> None:
    """Exact / predicted / |error| of a 1-D domain's points, in x order."""
    order = np.argsort(p["points"][:, 0])
    x, exact, pred = p["points"][order, 0], p["u_exact"][order], p["u_pred"][order]
    rel = np.linalg.norm(pred - exact) / np.linalg.norm(exact)
    row[0].plot(x, exact)
    row[1].plot(x, exact, "k--", lw=1, label="exact")
    row[1].plot(x, pred, label="predicted")
    row[1].legend()
    row[2].semilogy(x, np.abs(pred - exact) + np.finfo(float).tiny)
    titles = ("exact u", f"{method}: predicted u", f"{method}: |error| (rel. L2 {rel:.2e})")
    for ax, title in zip(row, titles):
        ax.set_title(title)
        ax.set_xlabel(name)
        ax.grid(alpha=0.3)


def step_axes(ax, *, ylabel: str | None = None, title: str | None = None) -> None:
    """Label, grid and legend a plot over training steps."""
    ax.set_xlabel("step")
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()


def _finish(fig, ax, ylabel: str, path: str | Path) -> Path:
    """Label, grid and legend a step-axis plot, then write it."""
    step_axes(ax, ylabel=ylabel)
    fig.tight_layout()
    return save_figure(fig, path)


def _per_method(histories, key, ax, label_suffix=""):
    for method, h in histories.items():
        if key in h:
            ax.semilogy(h["step"], h[key], label=f"{method}{label_suffix}", lw=1)


def losses(histories: Mapping[str, Mapping[str, np.ndarray]], terms: tuple[str, ...], path: str | Path) -> Path:
    """Each term's unweighted (minibatch) loss vs step, one panel per term, one line per method."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(terms), figsize=(5 * len(terms), 3.8), squeeze=False)
    for ax, term in zip(axes[0], terms):
        _per_method(histories, f"loss_{term}", ax)
        ax.set_title(f"L_{term}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return save_figure(fig, path)


def l2_error(
    histories: Mapping[str, Mapping[str, np.ndarray]], path: str | Path, published: Mapping[str, float] | None = None
) -> Path:
    """Relative L2 error vs step, one line per method; dashed lines at published minima."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    _per_method(histories, "l2", ax)
    for i, (method, value) in enumerate((published or {}).items()):
        ax.axhline(value, ls="--", lw=0.8, color=f"C{i}", label=f"{method} published min {value:.2e}")
    return _finish(fig, ax, "relative L2 error", path)


def weights(histories: Mapping[str, Mapping[str, np.ndarray]], terms: tuple[str, ...], path: str | Path) -> Path:
    """Loss weights vs step for the given terms, one line per method and term."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    styles = ["-", "--", ":", "-."]
    for i, (method, h) in enumerate(histories.items()):
        for j, term in enumerate(terms):
            ax.semilogy(h["step"], h[f"weight_{term}"], styles[j % 4], color=f"C{i}", label=f"{method}: w_{term}", lw=1)
    return _finish(fig, ax, "weight", path)


def seed_spread(histories_by_method: Mapping[str, list[Mapping[str, np.ndarray]]], path: str | Path) -> Path:
    """Relative L2 error vs step per method: median over seeds and the min-max band."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for i, (method, hs) in enumerate(histories_by_method.items()):
        l2 = np.stack([h["l2"] for h in hs])
        step = hs[0]["step"]
        ax.fill_between(step, l2.min(0), l2.max(0), color=f"C{i}", alpha=0.25)
        ax.semilogy(step, np.median(l2, 0), color=f"C{i}", label=f"{method} (median, range over {len(hs)} seeds)")
    return _finish(fig, ax, "relative L2 error", path)


def scheme_figures(out: Path, problem, histories: dict) -> list[Path]:
    """``l2_by_scheme.png`` (median and range over seeds) and ``weights_by_scheme.png`` (each term's
    median weight) of ``histories[name] = [history per seed]``; none, with a warning, without matplotlib."""
    try:
        plt = pyplot()
    except ImportError as err:
        warnings.warn(f"{err}; skipping figures", stacklevel=2)
        return []
    paths = [seed_spread(histories, out / "l2_by_scheme.png")]
    others = [t for t in problem.term_names if t != problem.reference]
    fig, axes = plt.subplots(1, len(problem.term_names), figsize=(5 * len(problem.term_names), 3.8), squeeze=False)
    for ax, term in zip(axes[0], problem.term_names):
        for i, (name, hs) in enumerate(histories.items()):
            w = np.median(np.stack([h[f"weight_{term}"] for h in hs]), 0)
            ax.semilogy(hs[0]["step"], w, color=f"C{i}", lw=1, label=name)
        ax.set_title(f"weight of {term} (median over seeds)" + ("" if term in others else ", reference"))
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    paths.append(save_figure(fig, out / "weights_by_scheme.png"))
    return paths


def gradient_histograms(path: Path, snapshots: dict) -> None:
    """Histograms of log10 |dL_term/dW| per layer (columns) and snapshot (rows); nothing without matplotlib."""
    try:
        plt = pyplot()
    except ImportError:
        return
    n_layers = len(next(iter(next(iter(snapshots.values())).values())))
    fig, axes = plt.subplots(len(snapshots), n_layers, figsize=(3 * n_layers, 2.8 * len(snapshots)), squeeze=False)
    for row, (title, grads) in zip(axes, snapshots.items()):
        for layer, ax in enumerate(row):
            for i, (term, gs) in enumerate(grads.items()):
                vals = np.log10(np.abs(gs[layer]).ravel() + 1e-30)
                ax.hist(vals, bins=40, density=True, histtype="step", color=f"C{i}", label=term)
            ax.set_title(f"layer {layer + 1}", fontsize=9)
            ax.set_xlabel("log10 |dL/dW|", fontsize=8)
        row[0].set_ylabel(title, fontsize=8)
        row[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
