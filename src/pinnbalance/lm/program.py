"""The compiled programs of a Levenberg-Marquardt phase, built once and shared by every run.

A phase needs three programs of (params or state, points, weights): the starting state
(``lm_init``), a chunk of iterations followed by one record (``lm_step`` scanned
``length`` times, a stopped state passed through by ``lax.cond``), and the loss on a point
set (to re-evaluate it after the points are redrawn). ``lm_programs`` jits them ONCE for a
(problem, network, settings); runs that differ only in their arrays (parameters, points,
weights, first step) then reuse the same compiled executables: several seeds compile once,
not once per seed, and each seed's numbers are those of a run alone (the same program on
the same inputs).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from pinnbalance import klein_gordon, mlp_for
    >>> from pinnbalance.lm import LevenbergMarquardt
    >>> from pinnbalance.problems import sample_batch
    >>> problem = klein_gordon(batch_size=8)
    >>> network = mlp_for(problem.domain, hidden=(4,))
    >>> programs = lm_programs(problem, network, LevenbergMarquardt(max_iters=2, dtype=None, log_every=2))
    >>> points = sample_batch(problem, jax.random.PRNGKey(1), jnp.float32)
    >>> weights = {n: jnp.float32(1.0) for n in problem.term_names}
    >>> state = programs.init(network.init(jax.random.PRNGKey(0), jnp.float32), points, weights)
    >>> state, rec = programs.chunk(state, points, weights, None, None, jnp.int32(0), 2)
    >>> int(state.iteration), bool(rec["loss"] <= programs.loss(network.init(jax.random.PRNGKey(0), jnp.float32), points, weights))
    (2, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from pinnbalance.compiler_options import compiler_options
from pinnbalance.lm.causal import causal_lm_init, causal_lm_step, causal_record
from pinnbalance.lm.loop import lm_init, lm_step, record
from pinnbalance.lm.residuals import residual_vector
from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.problems.base import Problem
from pinnbalance.training.causal_schedule import causal_term, problem_at


class LMPrograms(NamedTuple):
    """Jitted ``init(params, points, weights) -> LMState``, ``chunk(state, points, weights, grid,
    exact, first_step, length) -> (state, record)`` (``length`` static) and ``loss(params,
    points, weights) -> ||r||^2``."""

    init: Callable
    chunk: Callable
    loss: Callable


def lm_programs(problem: Problem, network, settings: LevenbergMarquardt) -> LMPrograms:
    """The three programs of a phase (see the module docstring), each compiled on first call.

    With causal weighting (a problem of ``weighting.causal.causal_problem``) the iterations are
    ``lm.causal``'s, ``init`` takes the eps schedule to start from as a fourth argument (default:
    the first eps) and each record holds its ``causal`` part."""
    causal = causal_term(problem) is not None
    start, iterate = (causal_lm_init, causal_lm_step) if causal else (lm_init, lm_step)

    def init(params, points, weights, schedule=None):
        return start(problem, network, params, points, weights, settings, *([schedule] if causal else []))

    def chunk(state, points, weights, grid, exact, first_step, length):
        def body(s, _):
            step = lambda s: iterate(problem, network, s, points, weights, settings)  # noqa: E731
            return jax.lax.cond(s.reason == 0, step, lambda s: s, s), None

        state = jax.lax.scan(body, state, None, length=length)[0]
        if not causal:
            return state, record(problem, network, state, points, weights, grid, exact, first_step)
        at_eps = problem_at(problem, state.causal, state.loss.dtype)  # term losses as the first-order records give them
        rec = record(at_eps, network, state, points, weights, grid, exact, first_step)
        return state, rec | {"causal": causal_record(problem, network, state, points, weights)}

    def loss(params, points, weights):
        return jnp.sum(residual_vector(problem, network, params, points, weights) ** 2)

    options = compiler_options()
    return LMPrograms(
        jax.jit(init, compiler_options=options),
        jax.jit(chunk, static_argnums=6, compiler_options=options),
        jax.jit(loss, compiler_options=options),
    )
