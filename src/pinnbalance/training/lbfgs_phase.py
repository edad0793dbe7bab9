"""The L-BFGS phase of a training with its callbacks: progress, stop requests, checkpoints.

``training.lbfgs.refine`` runs the iterations in chunks of ``log_every``; here the host hands
a ``Progress`` to the training's callbacks after each chunk, as the first phase and the LM phase
do: ``steps_done`` is the first phase's steps plus the iterations done, ``total`` the first
phase's steps plus ``max_iters``, ``last`` the chunk's record (in the first phase's record shape,
every run's), ``state`` an ``LBFGSCheckpoint`` (``training.lbfgs_checkpoint``: what a
checkpoint written now holds) and ``due`` True at the phase's last chunk (so a phase that
stops early on its own still leaves a checkpoint) and None before it (a checkpoint every
``checkpoint_every`` steps, L-BFGS iterations counted as steps). A callback that sets
``progress.stop`` ends the phase after that chunk: its runs keep the parameters reached and
the stop reason "running"; ``train`` then records the request (``FitResult.extra["stop"]``,
status "stopped", or ``Interrupted``) and runs no later phase. Given such a checkpoint the phase
goes on where it stopped, equal to a straight run; a run that stopped at ``max_iters`` goes on
when that has grown (``lbfgs_checkpoint.reopened``).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.training.causal_schedule import lbfgs_problem
from pinnbalance.training.lbfgs import refine, stopped
from pinnbalance.training.lbfgs_checkpoint import LBFGSCheckpoint, reopened
from pinnbalance.training.loop import Progress


def lbfgs_phase(problem, network, scheme, progress: Progress, config, evaluation, *, vmapped: bool, callbacks=()):
    """``(state, info)``: every run of ``progress.state`` (a ``TrainState`` entering the phase, or
    an ``LBFGSCheckpoint`` to go on from) refined by L-BFGS as ``config.lbfgs`` says.

    ``progress`` is updated in place (records appended to ``chunks``, ``steps_done``, ``stop``;
    ``state`` is the returned ``TrainState`` at the end). ``info`` holds, per run, why it
    stopped and its iterations, and the phase's wall seconds (a resumed phase counts the
    seconds before it).
    """
    settings, saved = config.lbfgs, progress.state if isinstance(progress.state, LBFGSCheckpoint) else None
    entry = progress.state if saved is None else saved.entry
    position = 0 if saved is None else int(np.ravel(np.asarray(saved.position))[0])
    before = 0.0 if saved is None else float(np.ravel(np.asarray(saved.seconds))[0])
    hook = _Hook(progress, entry, progress.steps_done - position, time.perf_counter() - before, callbacks)
    progress.total, progress.stop = hook.base + settings.max_iters, None
    for cb in callbacks:
        cb.on_start(progress)
    try:
        with jax.default_matmul_precision(config.matmul_precision):
            state, _, reasons, iters = refine(
                lbfgs_problem(problem),  # without causal weighting (a warning says so)
                network,
                scheme,
                entry,
                settings,
                *evaluation,
                config.jnp_dtype,
                vmapped,
                on_chunk=hook,
                resume=None if saved is None else (reopened(saved.carry, settings), position),
            )
    finally:
        for cb in callbacks:
            cb.on_end(progress)
        progress.due = None
    progress.state = state
    return state, {
        "reason": reasons,
        "iterations": iters,
        "seconds": time.perf_counter() - hook.began,
        "weights": settings.weights,
    }


class _Hook:
    """``refine``'s ``on_chunk``: the chunk's record joins the history, then the callbacks run."""

    def __init__(self, progress: Progress, entry, base: int, began: float, callbacks):
        self.progress, self.entry, self.base, self.began, self.callbacks = progress, entry, base, began, callbacks

    def __call__(self, carry, record, position: int) -> bool:
        p, lead = self.progress, np.shape(self.entry.step)
        block = jax.tree_util.tree_map(lambda x: np.asarray(x)[..., None], record)  # one record as a chunk of one block
        p.state = LBFGSCheckpoint(
            self.entry,
            carry,
            jnp.full(lead, position, jnp.int32),
            jnp.full(lead, time.perf_counter() - self.began, jnp.asarray(carry[4]).dtype),
        )
        p.last, p.steps_done = block, self.base + position
        p.chunks.append(block)
        done = p.steps_done >= p.total or stopped(carry)
        p.due = True if done else None
        for cb in self.callbacks:
            cb.on_chunk(p)
        return p.stop is not None
