"""Why learning-rate annealing stalls on PINNacle's Poisson 2d-C: short probes with their traces.

Each variant trains ``configs/pinnacle/poisson-2d-holes-lr-annealing.toml``'s network (5 x 100 tanh,
Glorot normal, zero biases, Adam 1e-3, float32, fixed points) for a few thousand steps, and records
every ``--every`` steps the L2RE at the reference nodes, each term's loss and weight, and the
gradient statistics the annealing rule reads, on the run's own fixed points:

- ``S_ref``: max |d L_res / d theta| (over the weight matrices, as ours ships; ``S_ref_all``:
  over every parameter, as PINNacle's ``LR_Adaptor``);
- ``S_<term>``: mean |d L_term / d theta| of the unweighted boundary term (ours: mean of the
  per-layer means over the weight matrices; ``S_<term>_pooled``: PINNacle's, every parameter
  pooled, ``sum |g| / count``);
- ``lam_hat_<term>``: the proposal of the rule the variant runs (see ``RULES``).

Variants combine three axes (``--variants``, comma-separated ``RULE[:INPUTS[:SPLIT]]``):

- RULE (``RULES``): ``shipped`` (``LearningRateAnnealing()``: weighted, max/mean over weight
  matrices, beta 0.9, every 10 steps); ``pinnacle`` (PINNacle's ``LR_Adaptor`` as its source reads:
  lam_hat = max|g_res| / (mean|g_i| * lam_i), i.e. the WEIGHTED statistic, every step, alpha 0.1,
  every parameter, mean pooled over all entries); ``unweighted`` (the previous protocol config
  ``poisson-2d-holes-lr-annealing-pinnacle.toml``: grad_of = "unweighted", every step, all leaves);
  ``constant`` (weights 1).
- INPUTS: ``zscore`` (ours: (z - mean) / std of the square, so inputs span +-1.73) or ``raw``
  (PINNacle/DeepXDE's ``FNN``: the coordinates as they are, +-0.5).
- SPLIT: ``length`` (ours: boundary points in proportion to length, outer 4 : circles 0.8 pi) or
  ``deepxde`` (DeepXDE's nested ``CSGDifference``: each of the four differences draws half of its
  boundary points from the disk it removes, so the square keeps 1/16 of them and the circles, in
  PINNacle's order (0.3, 0.3), (-0.3, 0.3), (0.3, -0.3), (-0.3, -0.3), get 1/16, 1/8, 1/4, 1/2).

Example (one variant, 300 steps, about a minute on one core):

    python benchmarks/poisson_annealing_probe.py --variants shipped --steps 300 --out /tmp/p.json

The committed ``benchmarks/results/poisson_annealing_probe.json`` comes from the command in its
``command`` field (docs/pinnacle.md, "Poisson 2d-C under annealing: what happens").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.config import load
from pinnbalance.nn import MLP
from pinnbalance.problems.poisson_2d_holes import CENTRES, RADIUS
from pinnbalance.training.fit import train
from pinnbalance.training.gradients import term_gradients
from pinnbalance.training.loop import Callback
from pinnbalance.weighting import Constant, LearningRateAnnealing
from pinnbalance.weighting.statistics import MAX_ABS, all_leaves, pooled_abs, weight_matrices

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "configs/pinnacle/poisson-2d-holes-lr-annealing.toml"
OUTER_SHARE = {"length": 4.0 / (4.0 + 0.8 * np.pi), "deepxde": 1.0 / 16.0}
# DeepXDE's nested differences ((((square - d1) - d2) - d3) - d4): circle k's share of the circle points
CIRCLE_SHARES = np.array([1.0, 2.0, 4.0, 8.0]) / 15.0


@dataclass(frozen=True)
class PooledMeanAbs:
    """PINNacle's term statistic: ``sum |g| / count`` over every entry of the selected leaves."""

    name = "pooled_mean_abs"

    def __call__(self, leaves):
        return jnp.mean(pooled_abs(leaves))


RULES = {
    "shipped": lambda: LearningRateAnnealing(),
    "pinnacle": lambda: LearningRateAnnealing(period=1, leaves="all", term_statistic=PooledMeanAbs()),
    "unweighted": lambda: LearningRateAnnealing(grad_of="unweighted", period=1, leaves="all"),
    "constant": lambda: Constant(),
    # options of the scheme (not as it ships): a floor at 1, a large start, the per-layer ratio
    "shipped-wmin1": lambda: LearningRateAnnealing(w_min=1.0),
    "shipped-init10": lambda: LearningRateAnnealing(initial={"outer": 10.0, "holes": 10.0}),
    "shipped-per-layer": lambda: LearningRateAnnealing(ratio="max_per_layer"),
    "pinnacle-wmin1": lambda: LearningRateAnnealing(period=1, leaves="all", term_statistic=PooledMeanAbs(), w_min=1.0),
}


def parse_variant(text: str) -> tuple[str, str, str]:
    parts = text.split(":")
    rule, inputs, split = parts + ["zscore", "length"][len(parts) - 1 :] if len(parts) <= 3 else (text, "", "")
    if rule not in RULES or inputs not in ("zscore", "raw") or split not in OUTER_SHARE:
        raise SystemExit(
            f"bad variant {text!r}: RULE[:INPUTS[:SPLIT]] with RULE in {list(RULES)}, INPUTS zscore|raw, "
            f"SPLIT {'|'.join(OUTER_SHARE)}"
        )
    return rule, inputs, split


def batch_sizes(n_res: int, n_bc: int, split: str) -> dict[str, int]:
    outer = int(round(n_bc * OUTER_SHARE[split]))
    return {"res": n_res, "outer": outer, "holes": n_bc - outer}


def deepxde_holes_sampler(key, n, dtype=jnp.float32):
    """Circle points as DeepXDE's nested ``CSGDifference`` draws them: circle k (PINNacle's order,
    ``CENTRES``) gets ``CIRCLE_SHARES[k]`` of them, uniform in angle; the normal points into the hole."""
    k_circle, k_angle = jax.random.split(key)
    which = jax.random.choice(k_circle, 4, (n,), p=jnp.asarray(CIRCLE_SHARES))
    theta = 2 * jnp.pi * jax.random.uniform(k_angle, (n,), dtype)
    ray = jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=-1)
    points = jnp.asarray(CENTRES, dtype)[which] + RADIUS * ray
    return jnp.concatenate([points, -ray], axis=-1).astype(dtype)


def problem_for(config, sizes: dict[str, int], split: str):
    problem = config.build_problem().with_batch_sizes(sizes)
    if split != "deepxde":
        return problem
    holes = dataclasses.replace(problem.terms["holes"], sampler=deepxde_holes_sampler)
    return dataclasses.replace(problem, terms={**problem.terms, "holes": holes})


def gradient_statistics(problem, network, params, points) -> dict[str, float]:
    """The statistics both annealing rules read, from each term's own (unweighted) gradient."""
    _, grads = term_gradients(problem, network, params, points)
    out = {"S_ref": MAX_ABS(weight_matrices(grads["res"])), "S_ref_all": MAX_ABS(all_leaves(grads["res"]))}
    for name in ("outer", "holes"):
        per_layer = [jnp.mean(jnp.abs(g)) for g in weight_matrices(grads[name])]
        out[f"S_{name}"] = jnp.mean(jnp.stack(per_layer))
        out[f"S_{name}_pooled"] = jnp.mean(pooled_abs(all_leaves(grads[name])))
    return out


class Statistics(Callback):
    """After each chunk: the gradient statistics at the current parameters and fixed points."""

    def __init__(self, problem, network):
        self.rows = []
        self.fn = jax.jit(lambda params, points: gradient_statistics(problem, network, params, points))

    def on_chunk(self, progress):
        state = progress.state
        stats = self.fn(state.params, state.points)
        self.rows.append({"step": int(state.step), **{k: float(v) for k, v in stats.items()}})


def network_for(config, problem, inputs: str):
    network = config.build_network(problem)
    return network if inputs == "zscore" else MLP(network.layers, network.activation)  # DeepXDE's FNN: raw inputs


def probe(variant: str, *, steps: int, n_res: int, n_bc: int, seed: int, every: int) -> dict:
    rule, inputs, split = parse_variant(variant)
    sizes = batch_sizes(n_res, n_bc, split)
    overrides = [f"train.steps={steps}", f"train.log_every={every}", "train.chunk_logs=1", 'network.normalization="exact"']
    config = load(BASE, overrides)
    problem = problem_for(config, sizes, split)
    network = network_for(config, problem, inputs)
    tconf = config.train_config(seed)
    stats = Statistics(problem, network)
    start = time.perf_counter()
    (result,) = train(problem, network, [(RULES[rule](), tconf)], progress=False, callbacks=[stats])
    seconds = time.perf_counter() - start
    h = result.history
    trace = [
        {
            "step": int(s),
            "l2re": float(e),
            "loss": {n: float(h[f"loss_{n}"][i]) for n in problem.term_names},
            "weight": {n: float(h[f"weight_{n}"][i]) for n in problem.term_names},
        }
        for i, (s, e) in enumerate(zip(h["step"], h["l2"]))
    ]
    for row, stat in zip(trace[1:], stats.rows):  # the statistics at the end of each chunk = the next record's start
        row["stats_at_step"] = stat
    return {
        "variant": variant,
        "rule": rule,
        "inputs": inputs,
        "split": split,
        "points": sizes,
        "seed": seed,
        "steps": steps,
        "final_l2re": float(h["l2"][-1]),
        "final_weights": result.weights,
        "seconds": round(seconds, 1),
        "trace": trace,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="shipped,pinnacle,unweighted,constant")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--points", default="2048,512", help="interior,boundary point counts (PINNacle: 8192,2048)")
    parser.add_argument("--seeds", default="1234")
    parser.add_argument("--every", type=int, default=50, help="steps between records")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/poisson_annealing_probe.json"))
    args = parser.parse_args(argv)
    n_res, n_bc = (int(v) for v in args.points.split(","))
    out = Path(args.out)
    data = json.loads(out.read_text()) if out.exists() else {"what": __doc__.splitlines()[0], "runs": {}}
    for seed in (int(s) for s in args.seeds.split(",")):
        for variant in args.variants.split(","):
            key = f"{variant}|{n_res},{n_bc}|{args.steps}|{seed}"
            res = probe(variant, steps=args.steps, n_res=n_res, n_bc=n_bc, seed=seed, every=args.every)
            res["command"] = "python benchmarks/poisson_annealing_probe.py " + " ".join(sys.argv[1:] if argv is None else argv)
            res["device"] = f"{jax.default_backend()} ({platform.machine()}, 1 core)"
            data["runs"][key] = res
            w = {k: round(v, 4) for k, v in res["final_weights"].items()}
            print(f"{key}: final L2RE {res['final_l2re']:.4f} weights {w} ({res['seconds']} s)", flush=True)
            out.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
