"""The problem zoo: published errors beside ours -> benchmarks/results/zoo.json (+ zoo.md, zoo.png).

For each problem, each published method's configuration (configs/PROBLEM-M*.toml) and our
candidate "best" configurations train over the same seeds (vmapped, one program each);
the reported error is the FINAL relative L2 error (for the cavity: of the velocity
magnitude against the finite-difference reference), median over seeds, with the min
beside it. Cavity entries also carry the published script's own measure (a spectral-norm
ratio, ``l2_spectral``), both measures against the published reference data, and the
centre-line differences from Ghia's tables (``benchmarks/cavity_check.py`` says why). "best" is the candidate with the lowest median (every candidate's numbers are
kept under "candidates", so the selection is visible); when a published set-up beats every
candidate, it is our best.

    python benchmarks/zoo.py                                  # everything (hours on 2 CPU cores)
    python benchmarks/zoo.py --problems helmholtz --methods M1,M2
    python benchmarks/zoo.py --problems wave --steps 20001    # shortened: the entry says so
    python benchmarks/zoo.py --quick                          # a few steps of everything: checks the script
    python benchmarks/zoo.py --readme                         # README's tables from zoo.json

Results MERGE into an existing zoo.json (entry by entry), so parts can run on different
machines (the wave's 500-wide network on a GPU); each entry records its device, steps and
wall time.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from pinnbalance import config as cfg  # noqa: E402
from pinnbalance import runtime  # noqa: E402
from pinnbalance.io import atomic_write_text, write_json  # noqa: E402
from pinnbalance.run import CHECKPOINT, RunInterrupted, run  # noqa: E402
from pinnbalance.training.checkpoint import read_manifest  # noqa: E402

SEEDS = [1234, 1, 2]


def published(problem: str) -> dict:
    """The published relative L2 errors of ``problem``'s methods (from its module's PUBLISHED)."""
    import importlib

    module = importlib.import_module(f"pinnbalance.problems.{problem.replace('-', '_')}")
    if problem == "klein-gordon":  # M1/M2 as in the reproduction study; M3/M4 from the same paper's table
        return {**{m: v["min_l2"] for m, v in module.PUBLISHED.items()}, "M3": 1.97e-2, "M4": 2.81e-3}
    return dict(module.PUBLISHED)


# the published methods' configurations, and our candidates for "best" among first-order training (+ L-BFGS);
# the time-to-accuracy winners in configs/*-best.toml (Levenberg-Marquardt) are benchmarks/frontier.py's
ZOO = {
    "klein-gordon": {
        "methods": {m: f"configs/klein-gordon-{m.lower()}.toml" for m in ("M1", "M2", "M3", "M4")},
        "best": ["configs/klein-gordon-adam-lbfgs.toml"],
    },
    "helmholtz": {
        "methods": {m: f"configs/helmholtz-{m.lower()}.toml" for m in ("M1", "M2", "M3", "M4")},
        "best": ["configs/helmholtz-adam-lbfgs.toml"],
    },
    "wave": {"methods": {"M1": "configs/wave-m1.toml", "NTK": "configs/wave-ntk.toml"}, "best": ["configs/wave-adam-lbfgs.toml"]},
    "cavity": {
        "methods": {m: f"configs/cavity-{m.lower()}.toml" for m in ("M1", "M2", "M4")},
        "best": ["configs/cavity-best.toml"],
    },
}


# configurations renamed after their entries were measured (issue 18 gave the *-best.toml names to the
# time-to-accuracy winners): the tables name the file that holds the measured set-up now
RENAMED = {f"configs/{p}-best.toml": f"configs/{p}-adam-lbfgs.toml" for p in ("klein-gordon", "helmholtz", "wave")}


def config_name(path: str) -> str:
    """The file name of the configuration an entry records, under its current name (``RENAMED``)."""
    return Path(RENAMED.get(path, path)).name


def device_name() -> str:
    d = jax.devices()[0]
    return getattr(d, "device_kind", d.platform) if d.platform != "cpu" else f"cpu ({platform.processor() or platform.machine()})"


def train(
    config_path: str, seeds, steps: int | None, out: Path, progress: bool, lbfgs_iters: int | None = None, resume: bool = False
) -> dict:
    """One configuration over ``seeds`` (one vmapped program); its zoo entry.

    With ``resume`` a run folder ``out`` holding a checkpoint of the same configuration (e.g. of
    a benchmark killed in its L-BFGS phase) goes on from it; the entry then says from which step
    and its wall time covers only the resumed part.
    """
    overrides = [f"train.seeds={json.dumps(list(seeds))}"]
    if steps is not None:
        overrides.append(f"train.steps={steps}")
    if lbfgs_iters is not None and cfg.load(ROOT / config_path).train.lbfgs is not None:
        overrides.append(f"lbfgs.max_iters={lbfgs_iters}")
    config = cfg.load(ROOT / config_path, overrides)
    runtime.prepare(config.train_config())
    resumed_at = None
    if resume and (out / CHECKPOINT).exists():
        resumed_at = int(read_manifest(out / CHECKPOINT)["step"])
        print(f"   resuming {out} from its checkpoint at step {resumed_at}", flush=True)
    begin = time.perf_counter()
    summary = run(config, out, overwrite=resumed_at is None, resume=resumed_at is not None, progress=progress)
    wall = time.perf_counter() - begin
    listed = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
    final = [float(x) for x in listed(summary["final_l2"])]
    entry = {
        "config": config_path,
        "seeds": list(seeds),
        "l2": final,
        "median_l2": float(np.median(final)),
        "min_over_seeds_l2": float(np.min(final)),
        "best_step_l2": [float(x) for x in listed(summary["min_l2"])],
        "steps": config.train.steps,
        "published_steps": cfg.load(ROOT / config_path).train.steps,
        "device": device_name(),
        "wall_seconds": wall,
    }
    if "lbfgs" in summary:
        entry["lbfgs"] = summary["lbfgs"]
    if config.problem.name == "cavity":
        entry.update(cavity_metrics(out, list(seeds)))
    if steps is not None and steps != entry["published_steps"]:
        entry["note"] = f"shortened: {steps} steps instead of the configuration's {entry['published_steps']}"
    if lbfgs_iters is not None and "lbfgs" in entry:
        entry["note"] = entry.get("note", "") + f"; L-BFGS capped at {lbfgs_iters} iterations"
    if resumed_at is not None:
        entry["resumed_at_step"] = resumed_at
        said = f"resumed from a checkpoint at step {resumed_at}: wall_seconds covers only the part after it"
        entry["note"] = f"{entry['note']}; {said}" if "note" in entry else said
    return entry


def cavity_metrics(out: Path, seeds: list[int]) -> dict:
    """Per seed: the published script's spectral-norm ratio against our reference, both
    metrics against the published reference data, and the centre-line differences from Ghia
    (``benchmarks/cavity_check.py`` says why)."""
    from cavity_check import network_errors

    per_seed = [network_errors(out, seed if len(seeds) > 1 else None) for seed in seeds]
    spectral = [e["ours_reference"]["spectral"] for e in per_seed]
    extra = {
        "l2_spectral": spectral,
        "median_l2_spectral": float(np.median(spectral)),
        "ghia_max_abs": [max(e["ghia_max_abs"].values()) for e in per_seed],
    }
    if "published_reference" in per_seed[0]:
        against = {k: [e["published_reference"][k] for e in per_seed] for k in ("l2", "spectral")}
        extra["published_reference"] = {
            **against,
            "median_l2": float(np.median(against["l2"])),
            "median_spectral": float(np.median(against["spectral"])),
        }
    return extra


def merge_write(path: Path, results: dict) -> None:
    """Write ``results`` into ``path`` entry by entry (atomic)."""
    old = json.loads(path.read_text()) if path.exists() else {}
    for problem, data in results.items():
        into = old.setdefault(problem, {"published": {}, "ours": {}})
        into["published"] = data["published"]
        for key, entry in data["ours"].items():
            into["ours"][key] = entry
        if data.get("candidates"):
            into.setdefault("candidates", {}).update(data["candidates"])
        # our best: the lowest median over everything run for this problem (candidates and published set-ups)
        pool = [*into.get("candidates", {}).values(), *(e for k, e in into["ours"].items() if k != "best")]
        if pool:
            into["ours"]["best"] = min(pool, key=lambda e: e["median_l2"])
    old["machine"] = {"note": "each entry records its own device, steps and wall time"}
    write_json(path, old)
    atomic_write_text(path.with_suffix(".md"), table(old))
    figure(old, path.with_suffix(".png"))


def table(zoo: dict) -> str:
    lines = [
        "| problem | method | published | ours: median final L2 (min) over seeds | steps | device |",
        "|---|---|---|---|---|---|",
    ]
    for problem, data in zoo.items():
        if problem == "machine":
            continue
        for key, e in data["ours"].items():
            pub = data["published"].get(key)
            pub_text = f"{pub:.2e}" if pub is not None else "-"
            name = f"best ({config_name(e['config'])})" if key == "best" else key
            lines.append(
                f"| {problem} | {name} | {pub_text} | {e['median_l2']:.2e} ({e['min_over_seeds_l2']:.2e}), {len(e['seeds'])} seeds"
                f"{_published_metric(e)} | {e['steps']}{' + L-BFGS' if 'lbfgs' in e else ''} | {e['device']} |"
            )
    return "\n".join(lines) + "\n"


ORDER = ("klein-gordon", "helmholtz", "wave", "cavity")
MARKS = {
    "zoo": ("<!-- zoo table: start -->", "<!-- zoo table: end -->"),
    "cavity": ("<!-- cavity table: start -->", "<!-- cavity table: end -->"),
}


def readme_tables(zoo: dict) -> dict[str, str]:
    """The README's two tables from zoo.json: every problem's methods and best (median [min]),
    and the cavity's measures against both references with Ghia's centre lines."""

    def where(e):
        device = "H200" if "H200" in e["device"] else ("2-core CPU" if e["device"].startswith("cpu") else e["device"])
        return device + (", + L-BFGS" if "lbfgs" in e else "")

    rows = ["| problem | method | published | ours: median [min] | where run |", "|---|---|---|---|---|"]
    for problem in [p for p in ORDER if p in zoo]:
        data = zoo[problem]
        for key in [*sorted(k for k in data["ours"] if k != "best"), "best"]:
            e = data["ours"][key]
            pub = data["published"].get(key)
            name = f"best: `{config_name(e['config'])}`" if key == "best" else key
            rows.append(
                f"| {problem} | {name} | {'-' if pub is None else f'{pub:.2e}'} | "
                f"{e['median_l2']:.2e} [{e['min_over_seeds_l2']:.2e}] | {where(e)} |"
            )
    cavity = [
        "| cavity | L2 vs our reference | published measure vs our reference | published measure vs published data "
        "| Ghia max abs diff (median) |",
        "|---|---|---|---|---|",
    ]
    ours = zoo.get("cavity", {}).get("ours", {})
    for key in [*sorted(k for k in ours if k != "best"), "best"]:
        e = ours.get(key, {})
        if "median_l2_spectral" not in e or "published_reference" not in e:
            continue
        pub = zoo["cavity"]["published"].get(key)
        name = (f"best (`{config_name(e['config'])}`)" if key == "best" else key) + (
            "" if pub is None else f" (published {pub:.2e})"
        )
        against = e["published_reference"]
        cavity.append(
            f"| {name} | {e['median_l2']:.2e} [{e['min_over_seeds_l2']:.2e}] | {e['median_l2_spectral']:.2e} | "
            f"{against['median_spectral']:.2e} [{min(against['spectral']):.2e}] | {np.median(e['ghia_max_abs']):.3f} |"
        )
    return {"zoo": "\n".join(rows), "cavity": "\n".join(cavity)}


def write_readme(zoo: dict, readme: Path) -> None:
    """Replace the text between each table's markers in ``readme`` (atomic; markers must exist)."""
    text = readme.read_text()
    for name, body in readme_tables(zoo).items():
        start, end = MARKS[name]
        if text.count(start) != 1 or text.count(end) != 1:
            raise SystemExit(f"{readme} needs exactly one '{start}' and one '{end}' line around the {name} table")
        head, rest = text.split(start)
        text = f"{head}{start}\n{body}\n{end}{rest.split(end)[1]}"
    atomic_write_text(readme, text)


def _published_metric(entry: dict) -> str:
    """The cavity's published metric beside its L2 error (median over seeds), when measured."""
    if "median_l2_spectral" not in entry:
        return ""
    text = f"; published metric {entry['median_l2_spectral']:.2e}"
    if "published_reference" in entry:
        text += f", vs published data {entry['published_reference']['median_spectral']:.2e}"
    return text


def figure(zoo: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = [p for p in zoo if p != "machine"]
    fig, axes = plt.subplots(1, len(problems), figsize=(4.2 * len(problems), 3.6), squeeze=False)
    for ax, problem in zip(axes[0], problems):
        data = zoo[problem]
        keys = list(dict.fromkeys([*data["published"], *data["ours"]]))
        x = np.arange(len(keys))
        pub = [data["published"].get(k, np.nan) for k in keys]
        ours = [data["ours"][k]["median_l2"] if k in data["ours"] else np.nan for k in keys]
        lo = [data["ours"][k]["min_over_seeds_l2"] if k in data["ours"] else np.nan for k in keys]
        hi = [max(data["ours"][k]["l2"]) if k in data["ours"] else np.nan for k in keys]
        spectral = [data["ours"].get(k, {}).get("median_l2_spectral", np.nan) for k in keys]
        ax.bar(x - 0.2, pub, 0.4, label="published", color="#bbbbbb")
        err = [np.subtract(ours, lo), np.subtract(hi, ours)]
        ax.bar(x + 0.2, ours, 0.4, yerr=err, label="ours (median, seed range)", color="#3b75af", capsize=3)
        if not np.all(np.isnan(spectral)):  # the cavity: also in the published script's measure
            ax.plot(x + 0.2, spectral, "v", color="#d62728", label="ours, published measure")
            ax.legend(fontsize=7)
        ax.set_xticks(x, keys)
        ax.set_yscale("log")
        ax.set_title(problem)
        ax.set_ylabel("relative L2 error")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", default=",".join(ZOO))
    parser.add_argument("--methods", default=None, help="comma-separated (e.g. M1,M2,best); default: all")
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--steps", type=int, default=None, help="shorten every training (recorded in the entry)")
    parser.add_argument("--out", default=str(HERE / "results" / "zoo.json"))
    parser.add_argument("--runs", default=str(HERE / "results" / "zoo"), help="where the run folders go")
    parser.add_argument("--lbfgs-iters", type=int, default=None, help="cap the L-BFGS phase (recorded in the entry)")
    parser.add_argument("--quick", action="store_true", help="a few steps of each, into a temporary folder")
    parser.add_argument("--merge", nargs="+", default=None, help="merge other zoo.json files (e.g. from a GPU) into --out")
    parser.add_argument(
        "--resume", action="store_true", help="go on from checkpoints left in --runs by an interrupted run of the same config"
    )
    parser.add_argument(
        "--readme", nargs="?", const=str(ROOT / "README.md"), default=None, help="rewrite the README's zoo tables from --out"
    )
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.readme:
        write_readme(json.loads(Path(args.out).read_text()), Path(args.readme))
        print(f"tables rewritten in {args.readme} from {args.out}")
        return 0
    if args.merge:
        for other in args.merge:
            data = json.loads(Path(other).read_text())
            merge_write(Path(args.out), {k: v for k, v in data.items() if k != "machine"})
        print(table(json.loads(Path(args.out).read_text())))
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    problems = [p for p in args.problems.split(",") if p]
    bad = [p for p in problems if p not in ZOO]
    if bad:
        parser.error(f"unknown problem(s) {bad}; valid: {list(ZOO)}")
    steps, out, runs, cap = args.steps, Path(args.out), Path(args.runs), args.lbfgs_iters
    if args.quick:
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="zoo-quick-"))
        steps, out, runs, cap = 200, tmp / "zoo.json", tmp / "runs", 5
    for problem in problems:
        spec = ZOO[problem]
        wanted = None if args.methods is None else set(args.methods.split(","))
        result = {problem: {"published": published(problem), "ours": {}}}
        for method, path in spec["methods"].items():
            if wanted is None or method in wanted:
                print(f"== {problem} {method}: {path}", flush=True)
                try:
                    result[problem]["ours"][method] = train(
                        path, seeds, steps, runs / problem / method, not args.no_progress, cap, args.resume
                    )
                except Exception as err:  # one failed set-up must not cost the others (a GPU run is budgeted)
                    if isinstance(err, RunInterrupted):  # SIGINT/SIGTERM: stop the whole benchmark
                        raise
                    print(f"!! {problem} {method} failed: {type(err).__name__}: {err}", flush=True)
                    continue
                merge_write(out, result)
        if wanted is None or "best" in wanted:
            result[problem]["candidates"] = {}
            for path in spec["best"]:
                if (ROOT / path).exists():
                    print(f"== {problem} best candidate: {path}", flush=True)
                    name = Path(path).stem
                    result[problem]["candidates"][name] = train(
                        path, seeds, steps, runs / problem / name, not args.no_progress, cap, args.resume
                    )
                    merge_write(out, result)
    print(table(json.loads(out.read_text())))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
