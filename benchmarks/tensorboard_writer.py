"""TensorBoard writers side by side: tensorboardX against pinnbalance's hand-written one.

    pip install "pinnbalance[tensorboard]"          # tensorboardX
    python benchmarks/tensorboard_writer.py         # -> benchmarks/results/tensorboard_writer.json
    python benchmarks/tensorboard_writer.py --rows 500 --repeats 1 --out /tmp/tb.json   # quick

For each writer: the import time it adds to a process that has already imported pinnbalance
(a fresh interpreter per repeat, min and median), the wall time to write a ``--rows``-row
training history of Klein-Gordon's 13 columns (per-term losses, weighted losses, weights,
gradient norms and the L2 error) and close the file, and the file size. Each file is read
back with pinnbalance's CRC-checking reader (``read_events``) and compared value by value, so both writers
are shown to write the same events. tensorboardX's version, release date (from its own
changelog in the package metadata) and wheel size are recorded beside them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pinnbalance.io import write_json  # noqa: E402
from pinnbalance.report.tensorboard import EventWriter, read_events, tag  # noqa: E402

TERMS = ("res", "bcs", "ics")
IMPORTS = {  # what each writer adds to a process that runs pinnbalance
    "hand_written": "import pinnbalance.report.tensorboard",
    "tensorboardX": "import tensorboardX",
}


def history(rows: int) -> dict[str, np.ndarray]:
    """A ``rows``-row history with the columns of a three-term run (values decay like a training's)."""
    rng = np.random.default_rng(0)
    steps = np.arange(rows) * 100
    h = {"step": steps, "l2": np.exp(-steps / (rows * 50.0))}
    for kind in ("loss", "weighted_loss", "weight", "grad_norm"):
        for t in TERMS:
            h[f"{kind}_{t}"] = np.exp(rng.normal(size=rows))
    return h


def import_seconds(statement: str, repeats: int) -> list[float]:
    """Seconds ``statement`` takes in a fresh interpreter that has imported pinnbalance first."""
    code = f"import time, pinnbalance; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        runs.append(float(out.stdout.strip()))
    return runs


def write_hand_written(logdir: Path, h: dict) -> Path:
    w = EventWriter(logdir)
    w.add_history(h)
    w.close()
    return w.path


def write_tensorboardx(logdir: Path, h: dict) -> Path:
    from tensorboardX import SummaryWriter

    w = SummaryWriter(str(logdir))
    steps = h["step"]
    for i in range(len(steps)):
        for k, v in h.items():
            if k != "step":
                w.add_scalar(tag(k), float(v[i]), int(steps[i]))
    w.close()
    return next(logdir.glob("events.*"))


def timed_write(write, h: dict, repeats: int) -> tuple[list[float], dict]:
    """Wall seconds of each repeat, and the size and events of the last file written."""
    seconds = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            t = time.perf_counter()
            path = write(Path(d), h)
            seconds.append(time.perf_counter() - t)
            size, events = path.stat().st_size, read_events(path)
    return seconds, {"bytes": size, "events": events}


def values_by_step(events: list[dict]) -> dict[int, dict[str, float]]:
    """Every scalar of a file, per step (tensorboardX writes one event per scalar, ours one per row)."""
    out: dict[int, dict[str, float]] = {}
    for e in events:  # protobuf leaves a zero step out of the bytes
        out.setdefault(e.get("step", 0), {}).update(e["values"])
    return {s: v for s, v in out.items() if v}


def release() -> dict:
    meta = importlib.metadata.metadata("tensorboardX")
    version = meta["Version"]
    found = re.search(rf"^{re.escape(version)} \((\d{{4}}-\d{{2}}-\d{{2}})\)", meta.get_payload() or "", re.MULTILINE)
    return {"version": version, "released": found.group(1) if found else None, "requires": meta.get_all("Requires-Dist")}


def _native_crc32c() -> bool:
    """Whether tensorboardX found the compiled ``crc32c`` package (else it checksums in pure Python, as we do)."""
    from tensorboardX import crc32c

    return crc32c._crc32c_native is not None


def summarise(seconds: list[float]) -> dict:
    return {"min": min(seconds), "median": statistics.median(seconds), "runs": seconds}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--wheel", type=Path, help="the tensorboardX wheel (`pip download --no-deps tensorboardX`), for its size")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/tensorboard_writer.json")
    args = parser.parse_args(argv)
    h = history(args.rows)
    load_before = os.getloadavg()[0]  # both writers are pure Python on one core: a busy machine slows both
    results = {"rows": args.rows, "columns": len(h) - 1, "repeats": args.repeats, "tensorboardX_package": release()}
    if args.wheel:
        results["tensorboardX_package"]["wheel_bytes"] = args.wheel.stat().st_size
    writers = {"hand_written": write_hand_written, "tensorboardX": write_tensorboardx}
    results["tensorboardX_package"]["native_crc32c"] = _native_crc32c()
    files = {}
    for name, write in writers.items():
        seconds, files[name] = timed_write(write, h, args.repeats)
        results[name] = {
            "import_seconds": summarise(import_seconds(IMPORTS[name], args.repeats)),
            "write_seconds": summarise(seconds),
            "file_bytes": files[name]["bytes"],
        }
    same = values_by_step(files["hand_written"]["events"]) == values_by_step(files["tensorboardX"]["events"])
    results["same_scalars"] = same
    results["python"] = sys.version.split()[0]
    results["cores"], results["load_average_1min"] = sorted(os.sched_getaffinity(0)), [load_before, os.getloadavg()[0]]
    section = "with_native_crc32c" if results["tensorboardX_package"]["native_crc32c"] else "pure_python_crc32c"
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    write_json(args.out, {**previous, section: results})  # one section per tensorboardX install
    print(json.dumps({k: v for k, v in results.items() if k != "tensorboardX_package"}, indent=1, default=str)[:2000])


if __name__ == "__main__":
    main()
