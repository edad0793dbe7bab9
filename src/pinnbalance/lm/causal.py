"""Causal weighting in Levenberg-Marquardt: the causal term's rows scaled by their slice weights.

With causal weighting (Wang, Sankaran & Perdikaris 2024, arXiv:2203.07404; ``weighting.causal``)
the loss of the causal term (weight lambda, n points, M time slices, slice i holding n_i of them) is

    L_causal = (1/M) sum_i w_i L_i,   L_i = (1/n_i) sum_{j in i} |r_j|^2,   w_i = exp(-eps sum_{k<i} L_k),

with w under stop_gradient. Levenberg-Marquardt minimises a sum of squared rows, so the term's
rows of a point j in slice i are scaled by

    sqrt(lambda w_i / (M n_i))    (= sqrt(w_i) sqrt(lambda / n) when every slice holds n / M points)

and ``||r||^2`` is then ``lambda L_causal + (the other terms)``, the first-order trainer's
causally weighted loss at the same parameters and eps. In ``lm.residuals``' terms this is a
weight per point, ``lambda w_i n / (M n_i)``, on rows scaled by ``sqrt(weight / n)``.

Within one iteration the w_i are constants (as the first-order trainer stops their gradient):
each iteration computes them at its starting parameters with the eps of its state, re-evaluates
the loss ``||r||^2`` with them (the trials' gain ratios compare losses under these same
weights), and then takes the ordinary Levenberg-Marquardt iteration (``lm.loop.update``) on
rows scaled by them. After it the eps schedule moves as in the first-order trainer
(``training.causal_schedule.advance``): to the next eps when ``min_i w_i > delta`` (the weights
the iteration used), or after ``steps_per_eps`` iterations at one eps (here LM iterations, each
worth hundreds of first-order steps). The schedule's state ``{"index", "since"}`` lives in
``LMState.causal``: the phase starts at the eps the first-order phase reached (``since``
counting LM iterations from 0) and hands its position back to the ``TrainState`` at the end.

Example:
    >>> import jax.numpy as jnp
    >>> from pinnbalance.problems import wave
    >>> from pinnbalance.weighting.causal import Causal, causal_problem
    >>> reduce = causal_problem(wave(), Causal(slices=2, eps=1.0)).terms["res"].reduce
    >>> points = jnp.array([[0.1, 0.5], [0.2, 0.5], [0.9, 0.5]])  # (t, x); slices [0, 0.5), [0.5, 1]
    >>> weights, w = point_weights(reduce, jnp.array([1.0, 3.0, 5.0]), points, 1.0)
    >>> [round(float(v), 4) for v in w]  # L = (2, 5): w = (1, exp(-2))
    [1.0, 0.1353]
    >>> [round(float(v), 4) for v in weights]  # lambda w_i n / (M n_i): 3 / 4, 3 / 4, exp(-2) 3 / 2
    [0.75, 0.75, 0.203]
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp

from pinnbalance.lm.loop import LMState, init_state, update
from pinnbalance.lm.residuals import TermArrays, jacobian, residual_vector
from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.losses import point_losses
from pinnbalance.training.causal_schedule import advance, causal_term, current_eps, initial_causal
from pinnbalance.weighting.causal import CausalReduce, causal_weights, slice_index, slice_losses


def point_weights(reduce: CausalReduce, per_point: jax.Array, points: jax.Array, weight) -> tuple[jax.Array, jax.Array]:
    """``(weights, w)``: each point's weight ``lambda w_i n / (M n_i)`` (module docstring) and the
    slice weights ``w`` (``(M,)``), from the points' squared residuals ``per_point`` (``(n,)``) at
    ``reduce``'s eps; ``weight`` is the term's lambda."""
    times, slices = points[:, reduce.axis], reduce.causal.slices
    per_point = jax.lax.stop_gradient(per_point)
    w = causal_weights(slice_losses(per_point, times, t0=reduce.t0, t1=reduce.t1, slices=slices), reduce.eps)
    index = slice_index(times, t0=reduce.t0, t1=reduce.t1, slices=slices)
    counts = jax.ops.segment_sum(jnp.ones_like(per_point), index, num_segments=slices)  # >= 1 where a point is
    return weight * w[index] * (per_point.shape[0] / (slices * counts[index])), w


def causal_row_weights(problem, network, params, points: TermArrays, weights: Mapping, schedule: dict):
    """``(row_weights, w, eps)`` at ``params``: ``weights`` with the causal term's scalar replaced by its
    points' weights (``point_weights``) at the eps of ``schedule``, the slice weights and that eps."""
    name, reduce = causal_term(problem)
    per_point = point_losses(problem, network, params, points[name], name)
    eps = current_eps(reduce, schedule, per_point.dtype)
    row, w = point_weights(reduce.at(eps), per_point, points[name], jnp.asarray(weights[name], per_point.dtype))
    return {**weights, name: row}, w, eps


def causal_lm_init(
    problem, network, params, points: TermArrays, weights: Mapping, settings: LevenbergMarquardt, schedule: dict | None = None
) -> LMState:
    """The state at ``params`` with the schedule ``schedule`` (default: the first eps), its loss under
    the causal weights of that eps."""
    schedule = initial_causal(problem) if schedule is None or not schedule else schedule
    row, _, _ = causal_row_weights(problem, network, params, points, weights, schedule)
    loss = jnp.sum(residual_vector(problem, network, params, points, row) ** 2)
    return init_state(params, loss, settings)._replace(causal=schedule)


def causal_lm_step(problem, network, state: LMState, points: TermArrays, weights: Mapping, settings: LevenbergMarquardt):
    """One Levenberg-Marquardt iteration with the causal weights of its starting parameters, then the
    eps schedule moved on (module docstring)."""
    row, w, _ = causal_row_weights(problem, network, state.params, points, weights, state.causal)
    residual_fn = lambda p: residual_vector(problem, network, p, points, row)  # noqa: E731
    jacobian_fn = lambda p: jacobian(problem, network, p, points, row, batch_size=settings.batch_size)  # noqa: E731
    state = state._replace(loss=jnp.sum(residual_fn(state.params) ** 2))  # the loss under this iteration's weights
    new = update(state, residual_fn, jacobian_fn, settings)
    return new._replace(causal=advance(causal_term(problem)[1], state.causal, w, new.iteration))


def causal_record(problem, network, state: LMState, points: TermArrays, weights: Mapping) -> dict:
    """A record's ``causal`` part at ``state``: the eps in use, ``w_min`` and the slice weights ``w_<i>``
    (the history's ``causal/*`` columns, as the first-order trainer records them)."""
    _, w, eps = causal_row_weights(problem, network, state.params, points, weights, state.causal)
    return {"eps": eps, "w_min": jnp.min(w), **{f"w_{i}": w[i] for i in range(w.shape[0])}}


def entering_schedule(schedule: dict) -> dict:
    """The LM phase's schedule from the ``TrainState.causal`` entering it: the same eps, ``since`` = 0
    (it counts LM iterations); ``{}`` without causal weighting."""
    return {} if not schedule else {"index": schedule["index"], "since": jnp.zeros_like(schedule["since"])}


def leaving_schedule(schedule: dict, step) -> dict:
    """The ``TrainState.causal`` after the phase: the eps it reached, ``since`` as a step count
    (``step``: the steps before the phase); ``{}`` without causal weighting."""
    return (
        {} if not schedule else {"index": schedule["index"], "since": (step + schedule["since"]).astype(schedule["since"].dtype)}
    )
