"""The Levenberg-Marquardt phase of a training: after the first-order steps (and L-BFGS, if
set), or from scratch (``TrainConfig(steps=0, lm=...)``), on one fixed point set per run.

Each run takes its own LM iterations (``pinnbalance.lm.train_lm``), one after another: a
dense solve per iteration keeps a CPU's cores busy on its own, so vmapping runs would gain
nothing. The point set is the run's own under fixed sampling, else ``settings.points``
points per term (default: each term's batch size) drawn once from the run's key. The
weights are the run's under ``weights = "frozen"`` (each term's rows scaled by the square
root of its weight, so every scheme's weights carry over), else as the settings say.
Records join the history in the first phase's shape, numbered after its steps; the reason
each run stopped, its iterations, seconds, solver and cost estimate go in
``FitResult.extra["lm"]``, with the wall seconds since the phase began at each record
(``record_seconds``: compilation included).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.lm import LevenbergMarquardt, train_lm
from pinnbalance.problems.base import sample_batch
from pinnbalance.training.results import run_slice
from pinnbalance.unknown_records import GROUPS as UNKNOWN_GROUPS

RECORD_KEYS = ("step", "l2", "losses", "weights", "grad_norms")  # the first phase's record shape
POINTS_STREAM = 13  # the phase's point set: folded from the run's key


def lm_points(problem, state, settings: LevenbergMarquardt, dtype) -> dict:
    """The fixed point set of one run for this phase (see the module docstring)."""
    if state.points:
        return state.points
    source = problem if settings.points is None else problem.with_batch_sizes(settings.points)
    return sample_batch(source, jax.random.fold_in(state.key, POINTS_STREAM), dtype)


def lm_phase(problem, network, state, settings: LevenbergMarquardt, evaluation, *, runs: int | None):
    """``(state, records, info)``: every run of ``state`` (``runs`` stacked, or None for one)
    trained by LM; ``records`` in the first phase's shape, ``info`` a list per key (an entry
    per run, one for a single run)."""
    grid, exact = evaluation
    ends, per_run, infos = [], [], []
    for i in range(1) if runs is None else range(runs):
        s = run_slice(state, None if runs is None else i)
        dtype = jax.tree_util.tree_leaves(s.params)[0].dtype
        points = lm_points(problem, s, settings, dtype)
        params, records, info = train_lm(
            problem,
            network,
            s.params,
            points,
            settings,
            weights=s.weights.weights,
            grid=grid,
            exact=exact,
            first_step=int(s.step),
        )
        weights = settings.fixed_weights(dict(s.weights.weights))
        used = s.weights._replace(
            weights={n: jnp.asarray(w, jnp.asarray(s.weights.weights[n]).dtype) for n, w in weights.items()}
        )
        ends.append(s._replace(params=params, weights=used, step=s.step + info["iterations"]))
        per_run.append([{k: r[k] for k in (*RECORD_KEYS, *UNKNOWN_GROUPS) if k in r} for r in records])
        cost = info["estimate"]
        estimate = {"bytes": cost.bytes, "flops": cost.flops, "seconds_per_iteration": cost.seconds}
        infos.append({**info, "estimate": estimate, "record_seconds": [float(r["seconds"]) for r in records]})
    info = {k: [one[k] for one in infos] for k in infos[0]}  # a list per key, an entry per run
    if runs is None:
        return ends[0], [_as_block(r) for r in per_run[0]], info
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *ends), _stack_records(per_run), info


def _as_block(record: dict) -> dict:
    """One record as a chunk's record of one block (a trailing axis of length 1)."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x)[..., None], record)


def _stack_records(per_run: list[list[dict]]) -> list[dict]:
    """Runs' records stacked on a leading axis; a run that stopped early repeats its last record."""
    length = max(len(r) for r in per_run)
    rows = [[recs[min(k, len(recs) - 1)] for recs in per_run] for k in range(length)]
    return [_as_block(jax.tree_util.tree_map(lambda *xs: np.stack(xs), *row)) for row in rows]
