"""A dependency-free TensorBoard writer for training histories.

TensorBoard reads "event files": TFRecord-framed, protobuf-encoded ``Event`` messages. This
module writes the few message types a scalar log needs, by hand, so that neither
TensorFlow, PyTorch nor tensorboardX is required:

    record = uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)
    Event  = {1: wall_time (double), 2: step (int64), 3: file_version (string), 5: Summary}
    Summary = {1: repeated Value},   Value = {1: tag (string), 2: simple_value (float)}

``masked_crc32c(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2^32), with CRC-32C
(Castagnoli). Open the folder with ``tensorboard --logdir RUN/tensorboard``.

Example:
    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     w = EventWriter(d)
    ...     rows = w.add_history({"step": np.array([0, 100]), "l2": np.array([1.0, 0.5])})
    ...     w.close()
    ...     [(e["step"], e["values"]) for e in read_events(w.path)][1:]
    [(0, {'l2': 1.0}), (100, {'l2': 0.5})]
"""

from __future__ import annotations

import os
import socket
import struct
import time
from pathlib import Path

import numpy as np

from pinnbalance.training.loop import Callback, Progress
from pinnbalance.training.results import flatten_records
from pinnbalance.unknown_records import GROUPS as UNKNOWN_COLUMNS

_POLY = 0x82F63B78  # CRC-32C, reflected


def _table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``; ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint((number << 3) | wire)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _field(number, 2) + _varint(len(payload)) + payload


def encode_event(wall_time: float, step: int, values: dict[str, float] | None = None, file_version: str | None = None) -> bytes:
    """One serialized ``Event`` holding scalar ``values`` (or the file-version header)."""
    msg = _field(1, 1) + struct.pack("<d", wall_time) + _field(2, 0) + _varint(int(step))
    if file_version is not None:
        msg += _bytes_field(3, file_version.encode())
    if values:
        summary = b"".join(
            _bytes_field(1, _bytes_field(1, tag.encode()) + _field(2, 5) + struct.pack("<f", float(v)))
            for tag, v in values.items()
        )
        msg += _bytes_field(5, summary)
    return msg


def frame(data: bytes) -> bytes:
    """TFRecord framing of one record."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


class EventWriter:
    """Appends scalar events to one event file in ``logdir`` (created if needed)."""

    def __init__(self, logdir: str | Path):
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.pinnbalance"
        self.path = self.logdir / name
        self._file = open(self.path, "ab")  # noqa: SIM115 (kept open between chunks)
        self._file.write(frame(encode_event(time.time(), 0, file_version="brain.Event:2")))
        self._file.flush()

    def add_scalars(self, step: int, values: dict[str, float]) -> None:
        finite = {k: float(v) for k, v in values.items() if np.isfinite(v)}
        self._file.write(frame(encode_event(time.time(), step, finite)))

    def add_history(self, history: dict[str, np.ndarray], start: int = 0) -> int:
        """Write rows ``start:`` of a history (``step`` plus one column per scalar); return the row count."""
        steps = np.asarray(history["step"])
        for i in range(start, len(steps)):
            self.add_scalars(int(steps[i]), {tag(k): v[i] for k, v in history.items() if k != "step"})
        self._file.flush()
        return len(steps)

    def close(self) -> None:
        self._file.close()


def tag(column: str) -> str:
    """History column -> TensorBoard tag, grouped by kind (``loss_res`` -> ``loss/res``)."""
    for prefix in ("weighted_loss", "grad_norm", "loss", "weight"):
        if column.startswith(prefix + "_"):
            return f"{prefix}/{column[len(prefix) + 1 :]}"
    return column


def read_events(path: str | Path) -> list[dict]:
    """Parse an event file written here (checks both CRCs): ``[{"step", "wall_time", "values"}]``."""
    data = Path(path).read_bytes()
    events, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        (len_crc,) = struct.unpack_from("<I", data, pos + 8)
        if masked_crc32c(data[pos : pos + 8]) != len_crc:
            raise ValueError(f"{path}: corrupt record length at byte {pos}")
        body = data[pos + 12 : pos + 12 + length]
        (body_crc,) = struct.unpack_from("<I", data, pos + 12 + length)
        if masked_crc32c(body) != body_crc:
            raise ValueError(f"{path}: corrupt record at byte {pos}")
        events.append(_decode_event(body))
        pos += 16 + length
    return events


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, value


def _decode_event(buf: bytes) -> dict:
    event = {"values": {}}
    for number, value in _fields(buf):
        if number == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2:
            event["step"] = value
        elif number == 3:
            event["file_version"] = value.decode()
        elif number == 5:
            for _, v in _fields(value):
                parts = dict(_fields(v))
                event["values"][parts[1].decode()] = struct.unpack("<f", parts[2])[0]
    return event


RECORD_COLUMNS = {"losses": "loss", "weights": "weight", "grad_norms": "grad_norm"}


def run_writers(run_dir: str | Path, seeds) -> list[EventWriter]:
    """One writer per seed: ``RUN/tensorboard`` (one seed) or ``RUN/tensorboard/seed_<S>``."""
    base = Path(run_dir) / "tensorboard"
    return [EventWriter(base if len(seeds) == 1 else base / f"seed_{s}") for s in seeds]


def write_records(writers: list[EventWriter], records: dict[str, np.ndarray], start: int) -> int:
    """Write rows ``start:`` of a run's flat chunk records (``losses.res``, ...; a leading seed
    axis when there are several writers); return how many rows are written in all."""
    rows = start
    for i, writer in enumerate(writers):
        history = {}
        for key, v in records.items():
            group, _, name = key.partition(".")
            column = f"{RECORD_COLUMNS.get(group, group)}_{name}" if name else key
            column = f"causal/{name}" if group == "causal" else column  # causal weighting: its history's names
            column = UNKNOWN_COLUMNS[group] + name if group in UNKNOWN_COLUMNS else column  # unknown/k, unknown_l2/a
            history[column] = np.asarray(v)[i] if len(writers) > 1 else np.asarray(v)
        rows = writer.add_history(history, start)
    return rows


class TensorBoardRows(Callback):
    """Write the history rows recorded since the last chunk as TensorBoard events (one writer
    per seed); ``close(results)`` adds any rows no chunk handed over (every phase calls the
    callbacks per chunk now, so normally none)."""

    def __init__(self, writers, start: Progress | None):
        self.writers = writers
        self.written = np.shape(start.records["step"])[-1] if start is not None else 0  # rows already in the files

    def on_chunk(self, progress: Progress) -> None:
        self.written = write_records(self.writers, flatten_records(progress.chunks), self.written)

    def close(self, results) -> None:
        for writer, result in zip(self.writers, results):
            writer.add_history(result.history, self.written)
            writer.close()
