"""Bad files and bad input: each gives one clear paragraph, never a traceback, and
leaves existing files intact. (Configuration-value cases live in test_config.py.)"""

import shutil

import numpy as np
import pytest

from pinnbalance.cli import main
from pinnbalance.training.checkpoint import CheckpointError, read_manifest

CONFIG = """
[network]
hidden = [8]
[sampling]
batch_size = 16
[train]
steps = 20
log_every = 10
chunk_logs = 1
checkpoint_every = 10
[output]
dir = "{out}"
"""


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished small run to break in various ways (copied per test)."""
    root = tmp_path_factory.mktemp("finished")
    path = root / "c.toml"
    path.write_text(CONFIG.format(out=(root / "run").as_posix()))
    assert main(["run", str(path), "--no-progress"]) == 0
    return root


@pytest.fixture
def run_copy(finished, tmp_path):
    shutil.copytree(finished / "run", tmp_path / "run")
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(out=(tmp_path / "run").as_posix()))
    return path, tmp_path / "run"


def resume(path, run, capsys, *extra):
    code = main(["run", str(path), "--set", "train.steps=40", "--resume", str(run), "--no-progress", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("pinnbalance: error:") and "Traceback" not in err
    return err


def corrupt(ckpt, how):
    data = ckpt.read_bytes()
    if how == "truncated":
        ckpt.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        ckpt.write_bytes(b"")
    elif how == "garbage":
        ckpt.write_bytes(b"\x00\x01 not a zip file at all" * 100)
    elif how == "flipped":
        mid = len(data) // 2
        ckpt.write_bytes(data[:mid] + bytes(b ^ 0xFF for b in data[mid : mid + 64]) + data[mid + 64 :])


@pytest.mark.parametrize(
    "how, message",
    [
        ("truncated", "truncated or corrupted"),
        ("empty", "truncated or corrupted"),
        ("garbage", "truncated or corrupted"),
        ("flipped", "corrupted"),
    ],
)
def test_damaged_checkpoint(run_copy, capsys, how, message):
    path, run = run_copy
    ckpt = run / "checkpoint.npz"
    corrupt(ckpt, how)
    before = ckpt.read_bytes()
    err = resume(path, run, capsys)
    assert message in err
    assert ckpt.read_bytes() == before  # nothing rewritten


def test_foreign_npz_is_not_a_checkpoint(run_copy, capsys):
    path, run = run_copy
    np.savez(run / "checkpoint.npz", a=np.zeros(3))
    assert "not a pinnbalance checkpoint (no manifest)" in resume(path, run, capsys)


def test_checkpoint_of_another_format_version(run_copy):
    _, run = run_copy
    manifest = np.frombuffer(b'{"format": "pinnbalance-checkpoint", "version": 99}', dtype=np.uint8)
    np.savez(run / "checkpoint.npz", manifest=manifest)
    with pytest.raises(CheckpointError, match="format version 99"):
        read_manifest(run / "checkpoint.npz")


def test_checkpoint_of_another_network(run_copy, tmp_path, capsys):
    path, run = run_copy
    other = tmp_path / "other"
    p2 = tmp_path / "o.toml"
    p2.write_text(CONFIG.format(out=other.as_posix()).replace("hidden = [8]", "hidden = [9]"))
    assert main(["run", str(p2), "--no-progress"]) == 0
    shutil.copy(other / "checkpoint.npz", run / "checkpoint.npz")
    assert "belongs to another configuration" in resume(path, run, capsys)


def test_missing_checkpoint(run_copy, capsys):
    path, run = run_copy
    (run / "checkpoint.npz").unlink()
    assert "no checkpoint at" in resume(path, run, capsys)


def test_resume_of_a_folder_that_is_no_run(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(out=(tmp_path / "x").as_posix()))
    (tmp_path / "empty").mkdir()
    assert "is not a pinnbalance run folder" in resume(path, tmp_path / "empty", capsys)


def test_resume_when_already_done(run_copy, capsys):
    path, run = run_copy
    code = main(["run", str(path), "--resume", str(run), "--no-progress"])
    assert code == 2 and "already trained 20 of 20 steps" in capsys.readouterr().err


def test_existing_output_folder_is_refused_and_untouched(run_copy, capsys):
    path, run = run_copy
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main(["run", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "already holds files" in err and "--overwrite" in err and "--resume" in err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_output_path_is_a_file(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("keep me")
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(out=target.as_posix()))
    assert main(["run", str(path), "--no-progress"]) == 2
    assert "is not a folder" in capsys.readouterr().err and target.read_text() == "keep me"


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        ("[train\n", "is not valid TOML"),
        (b"\xff\xfe\x00binary", "is not a text file"),
        ("[train]\nsteps = 0\n", "train.steps must be a positive integer, got 0"),
    ],
)
def test_bad_configuration_files(tmp_path, capsys, content, message):
    path = tmp_path / "c.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    assert main(["run", str(path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_override(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(out=(tmp_path / "r").as_posix()))
    assert main(["run", str(path), "--set", "train.steps"]) == 2
    assert "--set expects key.path=value" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["reproduce", "klein-gordon", "--methods", "M7"], "unknown method(s) ['M7']"),
        (["compare", "klein-gordon", "--schemes", "softadapt,ntk9"], "unknown scheme(s) ['ntk9']"),
        (["compare", "heat"], "problem 'heat' is unknown"),
    ],
)
def test_bad_command_line_names(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_checkpoint_with_pickled_objects_is_refused(run_copy, capsys):
    """An archive that needs pickle to load is never unpickled."""
    path, run = run_copy
    from pinnbalance.training.checkpoint import VERSION

    text = f'{{"format": "pinnbalance-checkpoint", "version": {VERSION}, "step": 10}}'.encode()
    manifest = np.frombuffer(text, dtype=np.uint8)
    np.savez(run / "checkpoint.npz", manifest=manifest, **{"state/0": np.array([object()], dtype=object)})
    err = resume(path, run, capsys)
    assert "truncated or corrupted" in err or "another structure" in err


# ---- reference data files (pinnbalance.problems.load_reference) -------------------------

TX = {"t": np.array([0.0, 0.5, 1.0]), "x": np.array([0.0, 0.25, 0.5])}
GRID_WITH_INF = {"t": np.arange(2.0), "x": np.arange(2.0), "u": np.array([[0.0, np.inf], [0, 0]])}

# case: (error type, file name, text or the arrays of an .npz, what the message says: the problem, then the fix)
BAD_REFERENCE_FILES = {
    "missing file": (FileNotFoundError, "none.npz", None, ["none.npz does not exist", "check the path"]),
    "unknown type": (ValueError, "ref.txt", "t,x,u\n0,0,1\n", ["unknown reference file type '.txt'", "save it as .npz", ".csv"]),
    "misspelt name": (
        KeyError,
        "ref.npz",
        {**TX, "U": np.ones(3)},
        ["no array named ['u']", "(did you mean 'U'?)", "Pass the names"],
    ),
    "absent name": (
        KeyError,
        "ref.npz",
        {"t": TX["t"], "z": TX["x"], "u": np.ones(3)},
        ["no array named ['x']", "it holds ['t', 'z', 'u']"],
    ),
    "csv not comma": (KeyError, "ref.csv", "t;x;u\n0;0;1\n", ["no column named ['t', 'x', 'u']", "separate the names by commas"]),
    "ragged npz": (
        ValueError,
        "ref.npz",
        {**TX, "u": np.ones(4)},
        ["ragged shapes", "t (3,), x (3,), u (4,)", "give either columns"],
    ),
    "xy grid": (
        ValueError,
        "ref.npz",
        {"t": np.zeros(2), "x": np.zeros(3), "u": np.zeros((3, 2))},
        ["indexing='xy'", "transpose"],
    ),
    "nan in npz": (
        ValueError,
        "ref.npz",
        {**TX, "u": np.array([1, np.nan, 2])},
        ["'u' has 1 non-finite", "at row 1", "remove those"],
    ),
    "inf in grid": (ValueError, "ref.npz", GRID_WITH_INF, ["non-finite", "grid point 1 (t = 0, x = 1)", "fix the solver output"]),
    "text in npz": (
        ValueError,
        "ref.npz",
        {**TX, "u": np.array(["a", "b", "c"])},
        ["'u' holds <U1 data, not numbers", "float array"],
    ),
    "not a zip": (ValueError, "ref.npz", "not a zip archive", ["not a readable .npz archive", "write it with numpy.savez"]),
    "text in csv": (
        ValueError,
        "ref.csv",
        "t,x,u\n0,0,1\n0.5,0.5,abc\n",
        ["line 3 (data row 2), column 'u': 'abc' is not a number", "numbers only"],
    ),
    "nan in csv": (
        ValueError,
        "ref.csv",
        "t,x,u\n0,nan,1\n",
        ["line 2 (data row 1), column 'x': 'nan' is not finite", "remove that row"],
    ),
    "ragged csv": (
        ValueError,
        "ref.csv",
        "t,x,u\n0,0,1\n0.5,0.5\n",
        ["line 3 (data row 2): 2 fields but the header has 3", "one number per column"],
    ),
    "empty csv": (ValueError, "ref.csv", "\n\n", ["is empty", "a header row of names"]),
    "header only": (ValueError, "ref.csv", "t,x,u\n", ["holds no points", "at least one row"]),
}


@pytest.mark.parametrize("case", BAD_REFERENCE_FILES)
def test_bad_reference_files(tmp_path, case):
    from pinnbalance.problems import load_reference

    error, name, content, messages = BAD_REFERENCE_FILES[case]
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    elif content is not None:
        np.savez(path, **content)
    with pytest.raises(error) as info:
        load_reference(path, ["t", "x"], "u")
    for message in messages:
        assert message in str(info.value)


@pytest.mark.parametrize(
    "coordinates, data, messages",
    [
        (["t"], TX, ["the domain has 2 coordinates ['t', 'x'] but 1 were named ['t']", "one file column per domain coordinate"]),
        (
            ["t", "x", "y"],
            {**TX, "y": np.zeros(3)},
            ["the domain has 2 coordinates", "but 3 were named", "in the order ['t', 'x']"],
        ),
        (["x", "t"], TX, ["in another order than the domain's ['t', 'x']", "pass them as ['t', 'x']"]),
        (
            ["t", "x"],
            {"t": np.array([0.0, 1.5, 2.0]), "x": np.array([0.0, 0.5, 0.5])},
            ["2 of 3 points lie outside the domain (t in [0, 1] x x in [0, 1]); the first is row 1: (t = 1.5, x = 0.5)", "crop"],
        ),
    ],
)
def test_reference_data_that_does_not_fit_the_domain(tmp_path, coordinates, data, messages):
    from pinnbalance.problems import Box, load_reference

    np.savez(tmp_path / "ref.npz", **data, u=np.ones(3))
    with pytest.raises(ValueError) as info:
        load_reference(tmp_path / "ref.npz", coordinates, "u", domain=Box((0.0, 0.0), (1.0, 1.0), ("t", "x")))
    for message in messages:
        assert message in str(info.value)


def test_reference_npz_with_pickled_objects_is_refused_unread(tmp_path):
    from pinnbalance.problems import load_reference

    np.savez(tmp_path / "ref.npz", **TX, u=np.array([object(), 1, 2], dtype=object))
    with pytest.raises(ValueError, match="an array holds Python objects .* save plain numeric arrays"):
        load_reference(tmp_path / "ref.npz", ["t", "x"], "u")
