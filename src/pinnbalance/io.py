"""Files: atomic writes, parameters without pickle, and loading a finished run.

Every file is written to a temporary name in the same folder and renamed into place, so
a stopped process never leaves a half-written result. Parameters are stored as ``.npz``
arrays read with ``allow_pickle=False`` plus a JSON description of the network: loading
them can never execute code.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance import derivatives
from pinnbalance.nn.mlp import MLP


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def write_json(path: str | Path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, (np.generic, jax.Array)):
        return np.asarray(obj).tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray]) -> Path:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return atomic_write_bytes(path, buf.getvalue())


def write_history_csv(path: str | Path, history: Mapping[str, np.ndarray]) -> Path:
    """One row per logged step; columns are the history's keys."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    keys = list(history)
    writer.writerow(keys)
    for row in zip(*(np.asarray(history[k]).tolist() for k in keys)):
        writer.writerow(row)
    return atomic_write_text(path, buf.getvalue())


def read_history_csv(path: str | Path) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], np.array(rows[1:], dtype=float)
    return {k: body[:, i] for i, k in enumerate(header)}


def save_params(folder: str | Path, network: MLP, params) -> None:
    """``params.npz`` (arrays ``layer{i}.W``/``layer{i}.b``) and ``network.json``."""
    folder = Path(folder)
    arrays = {f"layer{i}.{name}": np.asarray(v) for i, layer in enumerate(params) for name, v in layer.items()}
    write_npz(folder / "params.npz", arrays)
    spec = {
        "type": "MLP",
        "layers": list(network.layers),
        "activation": network.activation,
        "input_mean": list(network.input_mean) if network.input_mean is not None else None,
        "input_std": list(network.input_std) if network.input_std is not None else None,
        "taylor_mode": network.taylor_mode,
    }
    write_json(folder / "network.json", spec)


def load_params(folder: str | Path) -> tuple[MLP, list[dict[str, jax.Array]]]:
    """The network description and parameters saved by ``save_params`` (no pickle)."""
    folder = Path(folder)
    spec = json.loads((folder / "network.json").read_text())
    if spec.get("type") != "MLP":
        raise ValueError(f"{folder / 'network.json'}: unsupported network type {spec.get('type')!r}")
    network = MLP(
        tuple(spec["layers"]),
        spec["activation"],
        tuple(spec["input_mean"]) if spec["input_mean"] is not None else None,
        tuple(spec["input_std"]) if spec["input_std"] is not None else None,
        spec.get("taylor_mode", "auto"),
    )
    with np.load(folder / "params.npz", allow_pickle=False) as data:
        n_layers = len(network.layers) - 1
        params = [{"W": jnp.asarray(data[f"layer{i}.W"]), "b": jnp.asarray(data[f"layer{i}.b"])} for i in range(n_layers)]
    return network, params


@dataclass(frozen=True)
class TrainedModel:
    """A trained network you can evaluate anywhere: ``u`` and its derivatives at points.

    Example:
        >>> model = load_run("runs/klein-gordon", "M2")            # doctest: +SKIP
        >>> model.u([[0.5, 0.5]]), model.derivative([[0.5, 0.5]], "x", order=2)  # doctest: +SKIP
    """

    network: MLP
    params: list
    coordinates: tuple[str, ...] = ()

    def _axis(self, axis: int | str) -> int:
        if isinstance(axis, str):
            if axis not in self.coordinates:
                raise KeyError(f"unknown coordinate {axis!r}; this model takes {list(self.coordinates)}")
            return self.coordinates.index(axis)
        return int(axis)

    def _points(self, points) -> jax.Array:
        dtype = self.params[0]["W"].dtype
        pts = jnp.atleast_2d(jnp.asarray(points, dtype))
        if pts.shape[-1] != self.network.layers[0]:
            raise ValueError(f"points must have shape (n, {self.network.layers[0]}), got {pts.shape}")
        return pts

    def u(self, points) -> np.ndarray:
        """The network output at each row of ``points``."""
        field = self.network.field(self.params)
        return np.asarray(jax.vmap(field)(self._points(points)))

    def derivative(self, points, axis: int | str, order: int = 1) -> np.ndarray:
        """``d^order u / d z_axis^order`` (order 1 or 2) at each row of ``points``."""
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order}")
        field, ax = self.network.field(self.params), self._axis(axis)
        fn = derivatives.partial if order == 1 else derivatives.second_partial
        return np.asarray(jax.vmap(lambda z: fn(field, z, ax))(self._points(points)))


def load_run(run_dir: str | Path, method: str, seed: int | None = None) -> TrainedModel:
    """Load the trained network of ``method`` from a run folder written by ``reproduce``."""
    run_dir = Path(run_dir)
    folder = run_dir / method if seed is None else run_dir / f"seed_{seed}" / method
    if not (folder / "params.npz").exists():
        found = sorted(p.parent.relative_to(run_dir).as_posix() for p in run_dir.rglob("params.npz"))
        raise FileNotFoundError(f"no trained parameters at {folder}; this run folder has: {found or 'none'}")
    network, params = load_params(folder)
    coords = ()
    config = run_dir / "config.json"
    if config.exists():
        coords = tuple(json.loads(config.read_text()).get("coordinates", ()))
    return TrainedModel(network, params, coords)
