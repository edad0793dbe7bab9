"""Checkpoints: the complete training state and history, in a file that cannot run code.

One ``.npz`` file holds every array leaf of the ``TrainState`` (parameters, optimizer
state, loss weights and their buffers, PRNG key, step, health), the history recorded so
far, and a JSON manifest (format version, step, configuration fingerprint). It is read
with ``allow_pickle=False`` and rebuilt onto a template state made from the run's own
configuration, so its structure is checked leaf by leaf, never trusted. Arrays are stored
whole (gathered from every device), so a checkpoint written on several devices restores on
one, and onto a template laid out on several devices it comes back in that layout. Writes are
atomic (temporary file, then rename): the previous checkpoint stays whole until the new
one is complete.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import jax
import numpy as np

from pinnbalance.io import atomic_write_bytes

FORMAT = "pinnbalance-checkpoint"
VERSION = 2  # 2: weighting schemes keep their hyperparameters in the state (WeightState.hyper)


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted, foreign or of another run."""


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _to_numpy(x) -> np.ndarray:
    return np.asarray(jax.random.key_data(x) if _is_key(x) else x)


def save_checkpoint(path: str | Path, state, records: dict, meta: dict) -> Path:
    """Write ``state`` (any pytree), ``records`` (a flat dict of arrays) and ``meta`` atomically."""
    arrays = {f"state/{i}": _to_numpy(x) for i, x in enumerate(jax.tree_util.tree_leaves(state))}
    arrays.update({f"records/{k}": np.asarray(v) for k, v in records.items()})
    manifest = {"format": FORMAT, "version": VERSION, **meta}
    arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def read_manifest(path: str | Path) -> dict:
    """The manifest of a checkpoint, with clear errors for anything that is not one."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}: the run folder holds none (was it written by `pinnbalance run`?)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "manifest" not in data.files:
                raise CheckpointError(f"{path} is a NumPy archive but not a pinnbalance checkpoint (no manifest)")
            manifest = json.loads(data["manifest"].tobytes().decode())
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}: {err}); it may be truncated or corrupted. "
            "Delete it to restart from scratch, or restore it from a copy."
        ) from None
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a pinnbalance checkpoint (format {manifest.get('format')!r})")
    if manifest.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {manifest.get('version')}; this pinnbalance reads {VERSION} "
            "(the training state's layout changed), so the run cannot resume from it: train it again. Its finished "
            "outputs (history, parameters, summary) still load with pinnbalance.io.load_run"
        )
    return manifest


def load_checkpoint(path: str | Path, template) -> tuple[object, dict, dict]:
    """``(state, records, manifest)`` with ``state`` rebuilt on ``template``'s structure.

    Every leaf must match the template's shape and dtype, else ``CheckpointError`` says
    which one differs (a checkpoint of another configuration).
    """
    path = Path(path)
    manifest = read_manifest(path)
    leaves, treedef = jax.tree_util.tree_flatten(template)
    try:
        with np.load(path, allow_pickle=False) as data:
            stored = [data[f"state/{i}"] for i in range(len(leaves))] if f"state/{len(leaves) - 1}" in data.files else None
            extra = f"state/{len(leaves)}" in data.files
            records = _records(data)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path} is truncated or corrupted ({type(err).__name__}: {err})") from None
    if stored is None or extra:
        raise CheckpointError(
            f"{path} holds a training state of another structure than this configuration's; was it written by another run?"
        )
    restored = []
    for i, (want, got) in enumerate(zip(leaves, stored)):
        expected = _to_numpy(want)
        if got.shape != expected.shape or got.dtype != expected.dtype:
            raise CheckpointError(
                f"{path}: state leaf {i} is {got.dtype}{list(got.shape)} but this configuration needs "
                f"{expected.dtype}{list(expected.shape)}; the checkpoint belongs to another configuration "
                "(network size, dtype, seeds or scheme differ)"
            )
        restored.append(_like(want, got))
    return jax.tree_util.tree_unflatten(treedef, restored), records, manifest


def _records(data) -> dict:
    """The history stored in an open checkpoint archive, ``{name: array}``."""
    return {k[len("records/") :]: data[k] for k in data.files if k.startswith("records/")}


def read_records(path: str | Path) -> tuple[dict, dict]:
    """``(records, manifest)`` of a checkpoint, without its training state (no template needed:
    what ``pinnbalance status`` reads of a run in progress)."""
    path = Path(path)
    manifest = read_manifest(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return _records(data), manifest
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as err:
        raise CheckpointError(f"{path} is truncated or corrupted ({type(err).__name__}: {err})") from None


def _like(want, got: np.ndarray):
    """``got`` as an array like the template leaf ``want``: a PRNG key if it is one, and laid
    out on the same devices if it spans several (a template placed by ``DataParallel``)."""
    value = jax.random.wrap_key_data(got, impl=jax.random.key_impl(want)) if _is_key(want) else jax.numpy.asarray(got)
    sharding = getattr(want, "sharding", None)
    if sharding is not None and len(sharding.device_set) > 1:
        value = jax.device_put(value, sharding)
    return value
