"""docs/pinnacle.md: its "Results at a glance" table says what benchmarks/results/pinnacle.json holds."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGE = (ROOT / "docs" / "pinnacle.md").read_text()
RESULTS = json.loads((ROOT / "benchmarks" / "results" / "pinnacle.json").read_text())
NAMES = {
    "Burgers 1d-C": "burgers-1d",
    "Poisson 2d-C": "poisson-2d-holes",
    "NS 2d-C": "ns-2d-lid",
    "Wave 1d-C": "wave-1d",
    "HInv": "heat-inverse",
}


def glance_rows():
    """The rows of the "our best" table under "Results at a glance", as lists of cells."""
    section = PAGE.split("## Results at a glance", 1)[1].split("\n## ", 1)[0]
    table = section.split("**Our best**", 1)[1].split("**PINNacle's own protocol**", 1)[0]
    rows = [line.strip("|").split("|") for line in table.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[1:]]  # the first is the header


@pytest.mark.parametrize("row", glance_rows(), ids=lambda row: row[0])
def test_our_best_row_matches_the_results_file(row):
    name, median, config, published, ratio = row
    entry = RESULTS[NAMES[name]]
    best = entry["best"]
    assert best["seeds"] == [1234, 1, 2]
    assert config.strip("`") == Path(best["config"]).name
    assert float(median.split()[0]) == pytest.approx(best["median"], rel=5e-3)
    method, value = published.split()
    assert method.replace("L-BFGS", "LBFGS") == entry["published"]["best"]["method"]
    assert float(value) == pytest.approx(entry["published"]["best"]["l2re"], rel=5e-3)
    assert float(ratio.rstrip("x")) == pytest.approx(float(value) / float(median.split()[0]), abs=0.05)


def test_the_table_covers_the_five_problems():
    assert sorted(NAMES[row[0]] for row in glance_rows()) == sorted(RESULTS)
