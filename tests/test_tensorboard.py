"""The TensorBoard event writer: CRC-32C test vectors, protobuf framing, round trips."""

import struct

import numpy as np
import pytest

from pinnbalance.report.tensorboard import EventWriter, crc32c, encode_event, frame, read_events, tag


@pytest.mark.parametrize(
    "data, crc",
    [  # RFC 3720 (iSCSI) appendix B.4 test vectors, and the classic check value
        (b"123456789", 0xE3069283),
        (bytes(32), 0x8A9136AA),
        (b"\xff" * 32, 0x62A8AB43),
        (bytes(range(32)), 0x46DD794E),
    ],
)
def test_crc32c_matches_published_vectors(data, crc):
    assert crc32c(data) == crc


def test_event_bytes_follow_the_protobuf_wire_format():
    msg = encode_event(1.5, 300, {"l2": 0.25})
    # field 1 (double): key 0x09, then 8 little-endian bytes; field 2 (varint 300): 0x10 0xac 0x02
    assert msg[:9] == b"\x09" + struct.pack("<d", 1.5)
    assert msg[9:12] == b"\x10\xac\x02"
    value = b"\x0a\x02l2" + b"\x15" + struct.pack("<f", 0.25)  # tag (1, string), simple_value (2, float)
    assert msg[12:] == b"\x2a" + bytes([len(value) + 2]) + b"\x0a" + bytes([len(value)]) + value
    framed = frame(msg)
    assert struct.unpack("<Q", framed[:8])[0] == len(msg) and framed[12:-4] == msg


def test_history_round_trip_and_incremental_appends(tmp_path):
    w = EventWriter(tmp_path)
    history = {"step": np.array([0, 100, 200]), "l2": np.array([1.0, 0.5, np.nan]), "loss_res": np.array([3.0, 2.0, 1.0])}
    assert w.add_history({k: v[:2] for k, v in history.items()}) == 2
    assert w.add_history(history, start=2) == 3
    w.close()
    events = read_events(w.path)
    assert events[0]["file_version"] == "brain.Event:2"
    assert [e["step"] for e in events[1:]] == [0, 100, 200]
    assert events[2]["values"] == {"l2": 0.5, "loss/res": 2.0}
    assert events[3]["values"] == {"loss/res": 1.0}  # non-finite values are left out, not written as NaN


def test_corruption_is_detected(tmp_path):
    w = EventWriter(tmp_path)
    w.add_scalars(5, {"x": 1.0})
    w.close()
    data = bytearray(w.path.read_bytes())
    data[-6] ^= 0xFF
    w.path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupt"):
        read_events(w.path)


def test_tags_group_history_columns():
    assert [tag(c) for c in ("loss_res", "weighted_loss_bcs", "grad_norm_ics", "weight_bcs", "l2")] == [
        "loss/res",
        "weighted_loss/bcs",
        "grad_norm/ics",
        "weight/bcs",
        "l2",
    ]


def test_run_writes_the_history_as_events_after_each_chunk_and_on_resume(tmp_path):
    from pinnbalance.cli import main
    from pinnbalance.io import read_history_csv

    config = tmp_path / "c.toml"
    config.write_text(
        f"""
[network]
hidden = [8]
[sampling]
batch_size = 16
[train]
steps = 40
log_every = 10
chunk_logs = 2
checkpoint_every = 20
[output]
dir = "{(tmp_path / "run").as_posix()}"
"""
    )
    assert main(["run", str(config), "--no-progress", "--tensorboard"]) == 0
    assert (
        main(["run", str(config), "--set", "train.steps=60", "--resume", str(tmp_path / "run"), "--no-progress", "--tensorboard"])
        == 0
    )
    events = [e for f in sorted((tmp_path / "run" / "tensorboard").glob("events.*")) for e in read_events(f) if e["values"]]
    history = read_history_csv(tmp_path / "run" / "history.csv")
    assert [e["step"] for e in events] == [int(s) for s in history["step"]] == [0, 10, 20, 30, 40, 50]
    for event, l2, w in zip(events, history["l2"], history["weight_bcs"]):
        assert event["values"]["l2"] == pytest.approx(l2, rel=1e-6)
        assert event["values"]["weight/bcs"] == pytest.approx(w, rel=1e-6)
