"""Every weighting scheme on Klein-Gordon, 40,001 steps, 5 seeds -> benchmarks/results/kg_compare*.

    python benchmarks/kg_compare.py                       # run all schemes (~40 min on 2 cores), then assemble
    python benchmarks/kg_compare.py --merge DIR [DIR ...]  # assemble finished `pinnbalance compare` folders
    python benchmarks/kg_compare.py --add DIR              # add a finished folder's schemes to the results

Writes results/kg_compare.json (the compare.json shape, every scheme), results/kg_compare/compare.md,
report.html and the figures of each compare folder (suffixed by folder when several).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from pinnbalance.compare import compare
from pinnbalance.io import atomic_write_text, write_json
from pinnbalance.report.html import html_report
from pinnbalance.report.tables import compare_table
from pinnbalance.training import TrainConfig
from pinnbalance.weighting import SCHEMES

HERE = Path(__file__).resolve().parent
SEEDS = [1234, 1, 2, 3, 4]


def merge(folders: list[Path], results: Path, note: str = "") -> dict:
    merged: dict = {}
    out = results / "kg_compare"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    figures = []
    for i, folder in enumerate(folders):
        data = json.loads((folder / "compare.json").read_text())
        if not merged:
            merged = {k: v for k, v in data.items() if k != "schemes"} | {"schemes": {}}
        elif (data["steps"], data["seeds"]) != (merged["steps"], merged["seeds"]):
            raise SystemExit(f"{folder}: steps/seeds differ from the first folder's; cannot merge")
        merged["schemes"].update(data["schemes"])
        for png in sorted(folder.glob("*.png")):
            target = out / (png.name if len(folders) == 1 else f"{png.stem}_{i + 1}.png")
            shutil.copy2(png, target)
            figures.append(target)
    merged["note"] = note or (
        "5 seeds on the 2-core CPU; ms_per_step is the whole vmapped 5-seed program per step, measured during each "
        "scheme's own training (noisy machine: compare overheads with benchmarks/results/speed.json)"
    )
    return write(merged, results, figures)


def write(merged: dict, results: Path, figures: list[Path]) -> dict:
    """kg_compare.json (overheads vs constant recomputed), compare.md and report.html."""
    constant = merged["schemes"].get("constant")
    if constant:
        for entry in merged["schemes"].values():
            entry["overhead_vs_constant"] = entry["ms_per_step"] / constant["ms_per_step"] - 1
    out = results / "kg_compare"
    write_json(results / "kg_compare.json", merged)
    table = compare_table(merged)
    atomic_write_text(out / "compare.md", table)
    atomic_write_text(out / "report.html", html_report(merged, table, figures))
    return merged


def add(folder: Path, results: Path, note: str) -> dict:
    """Add the schemes of one more finished compare folder to the committed results."""
    merged = json.loads((results / "kg_compare.json").read_text())
    data = json.loads((folder / "compare.json").read_text())
    if (data["steps"], data["seeds"]) != (merged["steps"], merged["seeds"]):
        raise SystemExit(f"{folder}: steps/seeds differ from the committed results'; cannot add")
    merged["schemes"].update(data["schemes"])
    merged["note"] = f"{merged['note']}; {note}" if note else merged["note"]
    out = results / "kg_compare"
    index = 1 + len(list(out.glob("l2_by_scheme_*.png")))
    for png in sorted(folder.glob("*.png")):
        shutil.copy2(png, out / f"{png.stem}_{index}.png")
    return write(merged, results, sorted(out.glob("*.png")))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--merge", nargs="+", type=Path, default=None)
    p.add_argument("--add", type=Path, default=None, help="a finished compare folder whose schemes join the results")
    p.add_argument("--note", default="", help="with --add: what that folder's runs were")
    p.add_argument("--steps", type=int, default=40_001)
    p.add_argument("--results", type=Path, default=HERE / "results")
    args = p.parse_args(argv)
    if args.add:
        merged = add(args.add, args.results, args.note)
    elif args.merge:
        merged = merge(args.merge, args.results)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            config = TrainConfig(steps=args.steps)
            compare("klein-gordon", list(SCHEMES), SEEDS, config, Path(tmp) / "all", progress=sys.stderr.isatty())
            merged = merge([Path(tmp) / "all"], args.results)
    print(compare_table(merged))
    return 0


if __name__ == "__main__":
    sys.exit(main())
