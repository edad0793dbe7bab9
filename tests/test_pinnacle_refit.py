"""benchmarks/pinnacle.py's two-stage REFIT candidates (no training): the refit config is its held-out
candidate less the held-out rows, so that stage 2 starts from the same initialisation, draws the same
points and differs only in training on every observation for the k* iterations stage 1 picked."""

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench_scripts import load_script
from pinnbalance import config as cfg

ROOT = Path(__file__).resolve().parents[1]


SCRIPT = load_script("pinnacle", "pinnacle_bench_refit")
PAIRS = [(p, name, first) for p, names in SCRIPT.REFIT.items() for name, first in names.items()]


@pytest.mark.parametrize(("problem", "name", "first"), PAIRS)
def test_refit_config_is_its_holdout_config_without_the_held_out_rows(problem, name, first):
    refit = cfg.load(ROOT / SCRIPT.config_path(problem, name))
    held = cfg.load(ROOT / SCRIPT.config_path(problem, first))
    assert held.train.lm.holdout_term is not None and refit.train.lm.holdout_term is None and refit.train.lm.patience is None
    lm = replace(held.train.lm, holdout_term=None, patience=None, holdout_fraction=refit.train.lm.holdout_fraction)
    assert refit.train.lm == lm  # the same damping, weights, redraws, record interval
    same = replace(held, train=replace(held.train, lm=lm), output_dir=refit.output_dir)
    assert refit.to_dict() == same.to_dict()  # problem, networks, points, seeds, dtype: all the same
    assert name in SCRIPT.CANDIDATES[problem] and first in SCRIPT.CANDIDATES[problem]


def test_refit_iteration_reads_the_iteration_the_held_out_rows_picked(monkeypatch):
    calls = []

    def fake(path, overrides, budget, folder=None):
        calls.append((path, overrides))
        return SimpleNamespace(result=SimpleNamespace(extra={"lm": {"holdout_iteration": [65]}}), wall=80.0)

    monkeypatch.setattr(SCRIPT, "timed_training", fake)
    assert SCRIPT.refit_iteration("configs/pinnacle/heat-inverse-lm-holdout-small.toml", 7, None) == (65, 80.0)
    assert calls == [("configs/pinnacle/heat-inverse-lm-holdout-small.toml", ["train.seeds=[7]"])]
