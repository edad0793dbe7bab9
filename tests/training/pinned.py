"""Short float64 trainings whose histories are pinned before the training core is rebuilt.

``compute()`` trains each case and returns ``{case/key: array}``; the pinned copy lives in
``data/pinned_histories.npz`` beside this file and ``test_pinned.py`` compares a fresh run
with it (rtol 1e-12). Run as a script to write the file (or another, to compare two commits
bit for bit)::

    python tests/training/pinned.py OUT.npz

The cases cover every path the trainer has: constant weights (plain steps only), annealing
(static or masked update schedule), NTK (kernel statistics), self-adaptive point weights on a
fixed point set, an L-BFGS phase in float64, four runs of a swept learning rate and EMA weight in
one program, and a run resumed from its checkpoint.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from pinnbalance import config as cfg  # noqa: E402
from pinnbalance.io import read_history_csv  # noqa: E402
from pinnbalance.nn import mlp_for  # noqa: E402
from pinnbalance.problems import klein_gordon  # noqa: E402
from pinnbalance.run import run  # noqa: E402
from pinnbalance.training import TrainConfig, fit, fit_runs  # noqa: E402
from pinnbalance.training.lbfgs import LBFGS  # noqa: E402
from pinnbalance.weighting import NTK, Constant, LearningRateAnnealing, SelfAdaptive  # noqa: E402

PINNED = Path(__file__).parent / "data" / "pinned_histories.npz"
CONFIG = TrainConfig(steps=60, log_every=10, chunk_logs=2, eval_grid=16, dtype="float64")
RUN_TOML = """
[network]
hidden = [12, 12]
[sampling]
batch_size = 24
[train]
steps = {steps}
seeds = [5, 6]
dtype = "float64"
log_every = 10
chunk_logs = 2
checkpoint_every = 20
[output]
dir = "{out}"
"""


def _problem():
    return klein_gordon(batch_size=24)


def _network(problem):
    return mlp_for(problem.domain, (12, 12))


def _flat_params(params) -> np.ndarray:
    return np.concatenate([np.asarray(x).ravel() for x in jax.tree_util.tree_leaves(params)])


def _single(scheme, config=CONFIG) -> dict[str, np.ndarray]:
    problem = _problem()
    result = fit(problem, _network(problem), scheme, config, progress=False)
    return {**result.history, "params": _flat_params(result.params)}


def _lanes() -> dict[str, np.ndarray]:
    """Four runs (two learning rates x two EMA weights, seed 7) in one compiled program."""
    problem = _problem()
    runs = [
        (LearningRateAnnealing(beta=beta), TrainConfig(**{**CONFIG.__dict__, "seed": 7, "learning_rate": lr}))
        for lr in (1e-3, 3e-3)
        for beta in (0.9, 0.99)
    ]
    results = fit_runs(problem, _network(problem), runs, progress=False)
    out = {}
    for i, r in enumerate(results):
        out.update({f"lane{i}.{k}": v for k, v in r.history.items()})
        out[f"lane{i}.params"] = _flat_params(r.params)
    return out


def _resumed() -> dict[str, np.ndarray]:
    """Two seeds trained 40 steps by ``run``, then resumed from the checkpoint to 80."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(RUN_TOML.format(steps=40, out=(Path(tmp) / "run").as_posix()))
        run(cfg.load(path), progress=False)
        run(cfg.load(path, ["train.steps=80"]), Path(tmp) / "run", resume=True, progress=False)
        out = {}
        for seed in (5, 6):
            history = read_history_csv(Path(tmp) / "run" / f"seed_{seed}" / "history.csv")
            out.update({f"seed{seed}.{k}": np.asarray(v) for k, v in history.items()})
            with np.load(Path(tmp) / "run" / f"seed_{seed}" / "params.npz") as p:
                out[f"seed{seed}.params"] = np.concatenate([p[k].ravel() for k in sorted(p.files)])
        return out


CASES = {
    "m1": lambda: _single(Constant()),
    "m2": lambda: _single(LearningRateAnnealing()),
    "m2_static": lambda: _single(LearningRateAnnealing(), TrainConfig(**{**CONFIG.__dict__, "update_schedule": "static"})),
    "ntk": lambda: _single(NTK(period=10)),
    "self_adaptive": lambda: _single(SelfAdaptive(), TrainConfig(**{**CONFIG.__dict__, "sampling": "fixed"})),
    "lbfgs": lambda: _single(
        LearningRateAnnealing(), TrainConfig(**{**CONFIG.__dict__, "steps": 30, "lbfgs": LBFGS(max_iters=25, log_every=10)})
    ),
    "lanes": _lanes,
    "resume": _resumed,
}


def compute(cases=tuple(CASES)) -> dict[str, np.ndarray]:
    """``{case/key: array}`` for the named cases."""
    out = {}
    for case in cases:
        out.update({f"{case}/{k}": np.asarray(v) for k, v in CASES[case]().items()})
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PINNED
    target.parent.mkdir(parents=True, exist_ok=True)
    np.savez(target, **compute())
    print(f"wrote {target}")
