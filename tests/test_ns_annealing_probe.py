"""benchmarks/ns_annealing_probe.py: its variants are valid overrides of the protocol file, and it
reads a run's history at the steps it reports (no training here: a run folder is written by hand)."""

import importlib.util
import json
from pathlib import Path

import pytest

from pinnbalance.config import load

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("ns_annealing_probe", ROOT / "benchmarks" / "ns_annealing_probe.py")
probe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(probe)


@pytest.mark.parametrize("name", list(probe.VARIANTS))
def test_every_variant_loads_as_a_config(name):
    config = load(ROOT / probe.CONFIG, overrides=[probe.QUARTER, *probe.VARIANTS[name]])
    table = config.to_dict()
    assert table["sampling"]["batch_size"]["mom_x"] == 2048 and table["sampling"]["batch_size"]["gauge"] == 1
    assert table["weighting"]["scheme"] == ("constant" if name == "constant" else "lr-annealing")
    scheme = config.build_scheme(config.build_problem())
    scheme.init(("mom_x", "mom_y", "continuity", "lid_u", "lid_v", "wall_u", "wall_v", "gauge"))  # the reference names exist


def test_collect_reads_the_reported_steps_and_the_last_record(tmp_path):
    lines = ["step,l2,weight_lid_u,weight_gauge"] + [f"{s},{1 - s / 1e4},{s / 100},{1e8 / (s + 1)}" for s in range(0, 3000, 100)]
    (tmp_path / "history.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "summary.json").write_text(json.dumps({"train_seconds": 12.5}))
    got = probe.collect(tmp_path)
    assert list(got["l2re"]) == ["0", "800", "1700", "2500", "2900"]
    assert got["l2re"]["2900"] == pytest.approx(0.71) and got["weight_gauge"]["0"] == 1e8 and got["seconds"] == 12.5


def test_an_unknown_variant_is_named(capsys):
    with pytest.raises(SystemExit):
        probe.main(["--variants", "shipped,nope", "--out", "/dev/null"])
    assert "nope" in capsys.readouterr().err


def test_a_rerun_of_some_variants_keeps_the_others_and_the_long_runs(tmp_path):
    """Collecting two variants into a results file that holds others keeps those (and the
    hand-recorded long runs): only the variants named are replaced."""
    for name in ("constant", "w_max-10"):  # finished runs: summary.json present, so nothing trains
        folder = tmp_path / "runs" / name
        folder.mkdir(parents=True)
        (folder / "history.csv").write_text("step,l2\n0,1.5\n2900,0.25\n")
        (folder / "summary.json").write_text(json.dumps({"train_seconds": 3.0}))
    out = tmp_path / "probe.json"
    recorded = {"variants": {"shipped": {"l2re": {"2900": 1.21}}, "w_max-10": {"l2re": {"2900": 9.0}}}, "long_runs": {"x": 1}}
    out.write_text(json.dumps(recorded))
    assert probe.main(["--variants", "constant,w_max-10", "--runs", str(tmp_path / "runs"), "--out", str(out)]) == 0
    got = json.loads(out.read_text())
    assert got["long_runs"] == {"x": 1} and got["variants"]["shipped"] == {"l2re": {"2900": 1.21}}
    assert got["variants"]["w_max-10"]["l2re"]["2900"] == 0.25 and got["variants"]["constant"]["seconds"] == 3.0
