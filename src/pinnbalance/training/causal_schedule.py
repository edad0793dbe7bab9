"""Causal weighting in the trainer: the eps schedule carried in the training state.

A problem made by ``weighting.causal.causal_problem`` has one term whose loss is a
``CausalReduce`` (Wang, Sankaran & Perdikaris 2024, arXiv:2203.07404): over M time slices,

    L_causal = (1/M) sum_i w_i L_i,    w_i = exp(-eps sum_{k<i} L_k)    (w under stop_gradient).

The paper's Algorithm 1 trains with each eps of an increasing list in turn (e.g. 1e-2, 1e-1,
1, 10, 100), moving to the next one when ``min_i w_i > delta`` (delta = 0.99: the residual is
small at every time for this eps) or after at most N_iter iterations. Here:

- the position in the list lives in ``TrainState.causal = {"index", "since"}`` (int32: the
  eps in use, and the step at which it began), so vmapped runs, checkpoints and resume carry
  it like the parameters; every step computes its loss with ``eps_values[index]``;
- the rule is checked at the recorded steps (the first step of each ``log_every`` block), on
  that step's own batch and parameters, i.e. with the weights its loss used: the next eps
  when ``min_i w_i > delta``, or when ``steps_per_eps`` steps have passed at this eps (the
  paper's N_iter; None: the weight rule only). The paper checks every iteration, so a move
  comes here up to ``log_every - 1`` steps later (and ``steps_per_eps`` counts in whole
  blocks); the last eps is kept once reached (the paper stops training there);
- each record holds ``causal.eps`` (the eps the recorded step used), ``causal.w_min`` and the
  slice weights ``causal.w_<i>``: the history's columns ``causal/eps``, ``causal/w_min`` and
  ``causal/w_<i>`` (NaN on the records of a later L-BFGS phase);
- an L-BFGS phase minimises the loss without causal weighting (``lbfgs_problem``: its line
  search needs a fixed function), with a ``CausalLBFGSWarning``; a Levenberg-Marquardt phase
  applies the causal weights, held fixed within each iteration, and goes on with the schedule
  (``lm.causal``), its records holding the same ``causal`` columns.

Term weighting is separate: any scheme weights the causal term's loss as any other term's.

Example:
    >>> from pinnbalance.problems import wave
    >>> from pinnbalance.weighting.causal import Causal, causal_problem
    >>> problem = causal_problem(wave(), Causal(slices=4, eps=0.01, eps_schedule=(0.1, 1.0)))
    >>> name, reduce = causal_term(problem)
    >>> name, reduce.causal.eps_values, sorted(initial_causal(problem))
    ('res', (0.01, 0.1, 1.0), ['index', 'since'])
"""

from __future__ import annotations

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.losses import point_losses
from pinnbalance.weighting.causal import CausalReduce, CausalState


def causal_term(problem) -> tuple[str, CausalReduce] | None:
    """``(name, reduce)`` of the problem's causal term, or None; more than one is refused."""
    found = [(n, t.reduce) for n, t in problem.terms.items() if isinstance(t.reduce, CausalReduce)]
    if len(found) > 1:
        raise ValueError(f"problem {problem.name!r} has causal weighting on terms {[n for n, _ in found]}; give it one term only")
    return found[0] if found else None


def initial_causal(problem) -> dict:
    """The schedule's state before step 0: ``{"index": 0, "since": 0}`` (``{}`` without a causal term)."""
    if causal_term(problem) is None:
        return {}
    return {"index": jnp.zeros((), jnp.int32), "since": jnp.zeros((), jnp.int32)}


def current_eps(reduce: CausalReduce, cstate: dict, dtype) -> jax.Array:
    """``eps_values[index]`` in ``dtype``."""
    return reduce.causal.current_eps(CausalState(cstate["index"]), dtype)


def problem_at(problem, cstate: dict, dtype):
    """``problem`` with its causal term's loss at the eps of ``cstate`` (traced inside a step)."""
    name, reduce = causal_term(problem)
    term = dataclasses.replace(problem.terms[name], reduce=reduce.at(current_eps(reduce, cstate, dtype)))
    return dataclasses.replace(problem, terms={**problem.terms, name: term})


def follow_schedule(problem, build, dtype):
    """The step(s) ``build(problem)`` makes, each computing with the eps of its state.

    ``build`` maps a problem to one step (``state -> (state, info)``) or a tuple of them; each
    returned step rebuilds its own when traced, on the problem at ``state.causal``'s eps (the
    eps is then a traced value: one compiled program follows the whole schedule). Without a
    causal term: ``build(problem)`` itself.
    """
    built = build(problem)
    if causal_term(problem) is None:
        return built

    def following(i):
        def step(state):
            steps = build(problem_at(problem, state.causal, dtype))
            return (steps if i is None else steps[i])(state)

        return step

    return following(None) if callable(built) else tuple(following(i) for i in range(len(built)))


def advance(reduce: CausalReduce, cstate: dict, weights: jax.Array, steps_done: jax.Array) -> dict:
    """The schedule after a recorded step with slice ``weights``, ``steps_done`` steps in:
    the next eps if ``min_i w_i > delta`` (NaN: stay) or ``steps_done - since >= steps_per_eps``."""
    causal, index, since = reduce.causal, cstate["index"], cstate["since"]
    moved = causal.update(CausalState(index), weights).index
    if causal.steps_per_eps is not None:
        due = (steps_done - since >= causal.steps_per_eps) & (index < len(causal.eps_values) - 1)
        moved = jnp.where(due, index + 1, moved).astype(index.dtype)
    return {"index": moved, "since": jnp.where(moved != index, steps_done, since).astype(since.dtype)}


def schedule_check(problem, network, sampling, dtype):
    """``check(before, after) -> (after, record)`` for the recorded steps (None without a causal term).

    ``before``/``after``: the state before and after the recorded step. The step's batch is
    drawn again from ``before`` exactly as the step drew it (``training.step``), the slice
    weights computed at ``before``'s parameters with its eps; ``after`` gets the advanced
    schedule and ``record`` holds ``eps``, ``w_min`` and ``w_<i>``.
    """
    found = causal_term(problem)
    if found is None:
        return None
    name, reduce = found

    def check(before, after):
        _, sub = jax.random.split(before.key)
        batch, _ = sampling.batch(problem, before.points, sub, before.step, dtype)
        per_point = point_losses(problem, network, before.params, batch[name], name)
        eps = current_eps(reduce, before.causal, per_point.dtype)
        _, w = reduce.at(eps).weighted(per_point, batch[name])
        record = {"eps": eps, "w_min": jnp.min(w), **{f"w_{i}": w[i] for i in range(w.shape[0])}}
        return after._replace(causal=advance(reduce, before.causal, w, after.step)), record

    return check


class CausalLBFGSWarning(UserWarning):
    """An L-BFGS phase of a run with causal weighting minimises the loss without it."""


def lbfgs_problem(problem):
    """The problem an L-BFGS phase minimises: ``problem`` with its causal term's loss the plain mean
    of its squared residuals (every time slice weight 1), with a ``CausalLBFGSWarning``; ``problem``
    itself without causal weighting.

    Why: L-BFGS's line search and curvature pairs need the gradient of the very function whose
    values it compares, but the causal weights are recomputed at every evaluation under
    ``stop_gradient``, so with them the values and gradients it sees describe different functions.
    (The Levenberg-Marquardt phase does apply causal weights: it holds them fixed within each
    iteration, ``lm.causal``.)
    """
    found = causal_term(problem)
    if found is None:
        return problem
    name, _ = found
    warnings.warn(
        f"the L-BFGS phase minimises the loss without causal weighting: term {name!r} is its plain mean over the "
        "points (every time slice weight 1), not the eps schedule's weighted one. For causal weights after the "
        "first-order steps use a Levenberg-Marquardt phase ([lm]) instead of [lbfgs], or leave out [causal]",
        CausalLBFGSWarning,
        stacklevel=3,
    )
    term = dataclasses.replace(problem.terms[name], reduce=None)
    return dataclasses.replace(problem, terms={**problem.terms, name: term})


def causal_columns(records) -> dict[str, np.ndarray]:
    """The history's ``causal/<name>`` columns of one run's ``records`` (NaN where a record has
    none: the records of a phase after the first-order one); ``{}`` without causal records."""
    names = next((list(r["causal"]) for r in records if "causal" in r), None)
    if names is None:
        return {}
    out = {}
    for name in names:
        parts = [np.asarray(r["causal"][name], float) if "causal" in r else np.full(np.shape(r["step"]), np.nan) for r in records]
        out[f"causal/{name}"] = np.concatenate(parts)
    return out


def slice_weights(history) -> np.ndarray:
    """``(records, M)``: the slice weights of a history (``causal/w_<i>`` columns, in slice order)."""
    count = sum(1 for k in history if k.startswith("causal/w_") and k[len("causal/w_") :].isdigit())
    return np.stack([np.asarray(history[f"causal/w_{i}"]) for i in range(count)], axis=-1)
