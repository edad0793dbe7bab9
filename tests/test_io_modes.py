"""Result files get the permissions a plain open() would give them: 0o666 less the umask for a
new file, the old mode for a replaced one (mkstemp's 0o600 made results unreadable to others)."""

import os
import stat
from contextlib import contextmanager

import numpy as np
import pytest

from pinnbalance.io import atomic_write_bytes, atomic_write_text, write_json, write_npz


@contextmanager
def umask(mask):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_honour_the_umask(tmp_path, mask, expected):
    with umask(mask):
        written = [
            atomic_write_text(tmp_path / "a.txt", "x"),
            write_json(tmp_path / "b.json", {"a": 1}),
            write_npz(tmp_path / "c.npz", {"w": np.zeros(2)}),
        ]
        with open(tmp_path / "plain.txt", "w") as f:  # what a normal open gives
            f.write("x")
    assert mode(tmp_path / "plain.txt") == expected
    assert [mode(p) for p in written] == [expected] * 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.json", "c.npz", "plain.txt"]  # no temporaries left


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_replacing_a_file_keeps_its_mode(tmp_path):
    path = tmp_path / "summary.json"
    with umask(0o022):
        atomic_write_bytes(path, b"old")
        os.chmod(path, 0o640)
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and mode(path) == 0o640
