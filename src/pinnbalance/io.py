"""Files: atomic writes, parameters without pickle, TOML files (read with errors naming the
file, plain data written back), and (re-exported) loading a finished run.

Every file is written to a temporary name in the same folder and renamed into place, so
a stopped process never leaves a half-written result. Parameters are stored as ``.npz``
arrays read with ``allow_pickle=False`` plus a JSON description of the network: loading
them can never execute code.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import secrets
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.nn import ARCHITECTURES
from pinnbalance.nn.hard import HardConstrained, constrained
from pinnbalance.problems.hard import HardConstraint


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and an atomic rename.

    The file gets the mode a plain ``open(path, "wb")`` would give it: an existing file's
    mode is kept, a new one is ``0o666 & ~umask`` (the kernel applies the umask when the
    temporary file is created; ``tempfile.mkstemp`` would force 0o600 instead).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            if path.exists():
                os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new file beside ``path``, opened exclusively with mode 0o666 (less the umask)."""
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}; remove stale .{path.name}.*.tmp files")


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def write_json(path: str | Path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_toml(path: str | Path, what: str = "TOML file", error: type[Exception] = ValueError) -> dict:
    """Parse the TOML file ``path``, raising ``error`` naming ``what`` and the path when it is
    missing, not TOML or not text (a run configuration's ``ConfigError``, a sweep's ``SweepError``)."""
    path = Path(path)
    if not path.exists():
        raise error(f"{what} {path} does not exist")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise error(f"{what} {path} is not valid TOML: {err}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not a text file; TOML is expected") from None


def toml_text(tables: Mapping[str, Mapping]) -> str:
    """``tables`` (plain data: ``{table: {key: value}}``, values scalars, lists or inline tables)
    as TOML text, one ``[table]`` each, blank lines between; floats by ``repr`` (``1e-08``,
    ``inf``), strings, integers and booleans as JSON writes them, which TOML reads the same.

    Example:
        >>> print(toml_text({"train": {"steps": 10, "seeds": [1, 2]}, "lbfgs": {"weights": {"bcs": 1e4}}}))
        [train]
        steps = 10
        seeds = [1, 2]
        <BLANKLINE>
        [lbfgs]
        weights = { bcs = 10000.0 }
        <BLANKLINE>
    """
    return "\n".join(
        f"[{name}]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in table.items()) for name, table in tables.items()
    )


def _toml_value(value) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else json.dumps(value)  # TOML reads JSON's strings, integers, booleans


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


NETWORK_TYPES = {cls.__name__: cls for cls in ARCHITECTURES.values()}
HARD_NOTE = "trained as u = g(z) + d(z) N(z) under a hard constraint (g and d: code); N is this network"


def save_params(folder: str | Path, network, params) -> None:
    """``params.npz`` and ``network.json``: any architecture in ``nn.ARCHITECTURES``, no pickle.

    ``network.json`` holds ``{"type": class name, **fields}`` (tuples as lists). ``params.npz``
    holds each layer's arrays as ``layer{i}.{name}`` (``W``/``b``, or ``s``/``V``/``b`` with
    random weight factorisation) and, for ``FourierFeatures``, the fixed frequency draws as
    ``fourier.G{k}`` (arrays, not JSON, so they reload bit for bit).

    A ``HardConstrained`` network (``nn.hard``) is saved as its inner network with the key
    ``"hard_constraint"`` added: ``g`` and ``d`` are code, the problem's, and ``load_params``
    needs them back (``load_run`` rebuilds the problem to get them).
    """
    folder = Path(folder)
    inner = network.network if isinstance(network, HardConstrained) else network
    arrays = {f"layer{i}.{name}": np.asarray(v) for i, layer in enumerate(params) for name, v in layer.items()}
    spec = {"type": type(inner).__name__}
    for f in dataclasses.fields(inner):
        value = getattr(inner, f.name)
        if f.name == "frequencies":
            arrays.update({f"fourier.G{k}": np.asarray(g, np.float64) for k, g in enumerate(value)})
        else:
            spec[f.name] = list(value) if isinstance(value, tuple) else value
    if inner is not network:
        spec["hard_constraint"] = HARD_NOTE
    write_npz(folder / "params.npz", arrays)
    write_json(folder / "network.json", spec)


def load_params(folder: str | Path, hard: HardConstraint | None = None) -> tuple[object, list[dict[str, jax.Array]]]:
    """The network description and parameters saved by ``save_params`` (no pickle).

    ``hard``: the ``HardConstraint`` the network was trained under, for a network saved with
    one (its ``network.json`` says so): it comes back ``HardConstrained`` (other networks
    ignore ``hard``). Raises ``ValueError`` if the description is unknown, if the arrays do
    not have the shapes that description initialises, or if a hard-constrained network is
    loaded without ``hard``.
    """
    folder = Path(folder)
    where = folder / "network.json"
    spec = json.loads(where.read_text())
    marked = spec.pop("hard_constraint", None) is not None
    if marked and hard is None:
        raise ValueError(
            f"{where}: this network was trained under a hard constraint u = g(z) + d(z) N(z), and g and d are code: "
            "load a run's network with pinnbalance.load_run(run folder), which rebuilds its problem, or pass the "
            "constraint, load_params(folder, hard=problem.hard)"
        )
    kind = spec.pop("type", None)
    if kind not in NETWORK_TYPES:
        raise ValueError(f"{where}: unsupported network type {kind!r}; known: {sorted(NETWORK_TYPES)}")
    cls = NETWORK_TYPES[kind]
    known = {f.name for f in dataclasses.fields(cls)} - {"frequencies"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"{where}: unknown field(s) {unknown} for {kind}; valid: {sorted(known)}")
    spec = {k: _tuples(v) for k, v in spec.items()}
    with np.load(folder / "params.npz", allow_pickle=False) as data:
        if "frequencies" in {f.name for f in dataclasses.fields(cls)}:
            n = sum(name.startswith("fourier.G") for name in data.files)
            spec["frequencies"] = tuple(data[f"fourier.G{k}"] for k in range(n))
        network = cls(**spec)
        params = _layers(data)
    _check_shapes(folder, network, params)
    return constrained(network, hard if marked else None), params


def saved_hard_constrained(folder: str | Path) -> bool:
    """Whether the network saved in ``folder`` was trained under a hard constraint (``save_params``)."""
    return json.loads((Path(folder) / "network.json").read_text()).get("hard_constraint") is not None


def _tuples(value):
    """JSON lists back to the tuples of a frozen description (nested lists too)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _layers(data) -> list[dict[str, jax.Array]]:
    layers: dict[int, dict[str, jax.Array]] = {}
    for name in data.files:
        if name.startswith("layer"):
            index, key = name[len("layer") :].split(".", 1)
            layers.setdefault(int(index), {})[key] = jnp.asarray(data[name])
    return [layers[i] for i in sorted(layers)]


def _check_shapes(folder: Path, network, params) -> None:
    dtype = jax.tree_util.tree_leaves(params)[0].dtype if params else jnp.float32
    expected = jax.eval_shape(lambda: network.init(jax.random.PRNGKey(0), dtype))
    got = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), params)
    if jax.tree_util.tree_structure(expected) != jax.tree_util.tree_structure(got) or expected != got:
        raise ValueError(
            f"{folder / 'params.npz'}: the arrays do not match the network in network.json ({type(network).__name__})"
        )


def __getattr__(name: str):
    """``TrainedModel`` and ``load_run`` live in ``pinnbalance.run_folder`` (the run folder's files);
    ``from pinnbalance.io import load_run`` keeps working. Imported on first use: ``run_folder``
    itself imports this module."""
    if name in ("TrainedModel", "load_run"):
        from pinnbalance import run_folder

        return getattr(run_folder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
