"""``pinnbalance diagnose``: measure the gradient imbalance between loss terms.

The pathology of Wang, Teng & Perdikaris (2021): the PDE residual's gradients are orders of
magnitude larger than the constraint terms', so gradient descent follows the residual and
the constraints are ignored. This module measures it directly, before and after a short
standard-PINN run on the problem's own batches:

- per term and per layer (weight matrices): max |g|, mean |g| and the L2 norm of the gradient
  of the term's UNWEIGHTED loss;
- per constraint term: the annealing ratio ``max|g_res| / mean|g_term|`` (the weight the
  unweighted rule would settle at; the weighted rule settles near its square root) and the
  ratio of mean magnitudes ``mean|g_res| / mean|g_term|``;
- histograms of log10 |g| per layer and term, as the 2021 paper shows them;
- a plain-language verdict.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.io import atomic_write_text, write_json
from pinnbalance.nn import mlp_for
from pinnbalance.nn.hard import for_problem
from pinnbalance.problems import sample_batch
from pinnbalance.problems.external import make_problem
from pinnbalance.report.figures import gradient_histograms
from pinnbalance.reproduce import prepare_out
from pinnbalance.training import TrainConfig, fit, gradients
from pinnbalance.weighting import Constant
from pinnbalance.weighting.statistics import weight_matrices

ADVISE_ABOVE = 10.0  # mean-gradient ratio above which a gradient-based scheme is advised


def term_gradients(problem, network, params, batch) -> dict[str, list[np.ndarray]]:
    """Each term's unweighted-loss gradient, as a list of weight-matrix gradients (one per layer)."""
    _, grads = jax.jit(lambda p: gradients.term_gradients(problem, network, p, batch))(params)
    return {n: [np.asarray(g) for g in weight_matrices(grads[n])] for n in problem.term_names}


def imbalance(problem, grads: dict[str, list[np.ndarray]]) -> dict:
    """Per-layer statistics and the ratios of the reference term to every other term."""
    layers = {
        n: [{"max_abs": float(np.abs(g).max()), "mean_abs": float(np.abs(g).mean()), "l2": float(np.linalg.norm(g))} for g in gs]
        for n, gs in grads.items()
    }
    ref = problem.reference
    max_ref = max(layer["max_abs"] for layer in layers[ref])
    mean = {n: float(np.mean([layer["mean_abs"] for layer in ls])) for n, ls in layers.items()}
    ratios = {
        n: {"annealing_max_over_mean": max_ref / mean[n], "mean_over_mean": mean[ref] / mean[n]} for n in layers if n != ref
    }
    return {"layers": layers, "mean_abs": mean, "ratios": ratios}


def verdict(problem, snapshots: list[dict]) -> str:
    """One paragraph a user can act on, from the worst imbalance over the snapshots."""
    ref = problem.reference
    lines = []
    for term in snapshots[0]["ratios"]:
        worst = max((s["ratios"][term] for s in snapshots), key=lambda r: max(r["mean_over_mean"], 1 / r["mean_over_mean"]))
        r, k = worst, worst["mean_over_mean"]
        if k >= ADVISE_ABOVE:
            lines.append(
                f"the {term} term's gradients are {k:.0f}x weaker than the {ref} term's (mean |g| over layers): "
                f"with equal weights training follows {ref} and neglects {term}. A gradient-based scheme is advised "
                f"(lr-annealing: its weight would settle near {np.sqrt(r['annealing_max_over_mean']):.0f} with weighted "
                f"gradients, {r['annealing_max_over_mean']:.0f} with unweighted ones)."
            )
        elif k <= 1 / ADVISE_ABOVE:
            lines.append(f"the {term} term's gradients are {1 / k:.0f}x STRONGER than the {ref} term's: {ref} is neglected.")
        else:
            lines.append(f"the {term} term is balanced against {ref} within a factor {max(k, 1 / k):.1f}.")
    return " ".join(s[0].upper() + s[1:] for s in lines)


def diagnose(
    problem_name: str = "klein-gordon", steps: int = 1000, seed: int = 1234, out="runs/diagnose", overwrite=False
) -> dict:
    """Measure at initialisation and after ``steps`` standard-PINN steps; write JSON, Markdown, figure."""
    problem = make_problem(problem_name)
    out = prepare_out(Path(out), overwrite)
    network = for_problem(problem, mlp_for(problem.domain))  # gradients of what trains: under a hard constraint, u
    config = dataclasses.replace(TrainConfig(), steps=steps, seed=seed)
    batch = sample_batch(problem, jax.random.PRNGKey(seed + 1), jnp.float32)
    init_params = network.init(jax.random.split(config.key(seed))[0])
    grads_init = term_gradients(problem, network, init_params, batch)
    result = fit(problem, network, Constant(), config, progress=False)
    grads_after = term_gradients(problem, network, result.params, batch)
    report = {
        "problem": problem.name,
        "seed": seed,
        "steps": steps,
        "reference": problem.reference,
        "at_init": imbalance(problem, grads_init),
        f"after_{steps}_steps": imbalance(problem, grads_after),
    }
    report["verdict"] = verdict(problem, [report["at_init"], report[f"after_{steps}_steps"]])
    write_json(out / "diagnose.json", report)
    atomic_write_text(out / "diagnose.md", markdown(report, steps))
    gradient_histograms(
        out / "gradients.png", {"initialisation": grads_init, f"after {steps} steps (constant weights)": grads_after}
    )
    return report


def markdown(report: dict, steps: int) -> str:
    lines = [f"# Gradient imbalance on {report['problem']} (seed {report['seed']})", "", report["verdict"], ""]
    lines += ["| term | when | max_res / mean_term | mean_res / mean_term |", "|---|---|---|---|"]
    for when in ("at_init", f"after_{steps}_steps"):
        for term, r in report[when]["ratios"].items():
            lines.append(
                f"| {term} | {when.replace('_', ' ')} | {r['annealing_max_over_mean']:.3g} | {r['mean_over_mean']:.3g} |"
            )
    return "\n".join(lines) + "\n"
