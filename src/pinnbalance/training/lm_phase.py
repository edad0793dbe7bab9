"""The Levenberg-Marquardt phase of a training: after the first-order steps (and L-BFGS, if
set), or from scratch (``TrainConfig(steps=0, lm=...)``), resumable from its checkpoints.

Every run takes its own LM iterations, one run after another, through ONE set of compiled
programs (``lm.program.lm_programs``): runs differ only in arrays, so several seeds compile
once, and each seed's numbers are those of the seed trained alone (a dense solve per
iteration keeps a CPU's cores busy on its own, so vmapping runs would gain little there).
The point set is the run's own under fixed sampling, else ``settings.points`` points per
term (default: each term's batch size) drawn once from the run's key; with
``settings.resample_every = k`` a fresh set is drawn every k iterations (the loss is then
re-evaluated on it, the damping carries over; see ``lm.settings``). The weights are the
run's under ``weights = "frozen"`` (each term's rows scaled by the square root of its weight,
so every scheme's weights carry over), else as the settings say.

The host loop runs chunks of ``log_every`` iterations and hands a ``Progress`` to the
training's callbacks after each, as the first phase does: its ``state`` is an
``LMCheckpoint`` (``training.lm_checkpoint``), its ``steps_done`` the first phase's steps plus
the iterations done, and ``due`` says when a checkpoint is due (every
``settings.checkpoint_every`` iterations, and at the end). A callback that sets
``progress.stop`` stops the phase after that chunk, its checkpoint written; ``lm_phase``
given such a checkpoint goes on where it stopped, equal to a straight run.

Records join the history in the first phase's shape, numbered after its steps; the reason
each run stopped, its iterations, seconds, solver and cost estimate go in
``FitResult.extra["lm"]``, with the wall seconds since the phase began at each record
(``record_seconds``: compilation included; a resumed phase counts the seconds before it).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.lm import LevenbergMarquardt, holdout
from pinnbalance.lm.causal import entering_schedule, leaving_schedule
from pinnbalance.lm.loop import REASONS, cast_floats, phase_dtype, solver_and_cost
from pinnbalance.lm.program import lm_programs
from pinnbalance.problems.base import sample_batch
from pinnbalance.training.lm_checkpoint import LMCheckpoint
from pinnbalance.training.loop import Progress
from pinnbalance.training.results import run_slice
from pinnbalance.unknown_records import GROUPS as UNKNOWN_GROUPS

RECORD_KEYS = ("step", "l2", "losses", "weights", "grad_norms", "causal")  # the first phase's record shape
POINTS_STREAM = 13  # the phase's point set: folded from the run's key


def lm_points(problem, state, settings: LevenbergMarquardt, dtype, draw: int = 0) -> dict:
    """The point set of one run for this phase: its fixed set (under fixed sampling) or
    ``settings.points`` per term drawn from its key; ``draw`` > 0 is the draw-th fresh set
    of ``settings.resample_every``."""
    if state.points and draw == 0:
        return state.points
    source = problem if settings.points is None else problem.with_batch_sizes(settings.points)
    key = jax.random.fold_in(state.key, POINTS_STREAM)
    return sample_batch(source, key if draw == 0 else jax.random.fold_in(key, draw), dtype)


def lm_phase(
    problem, network, progress: Progress, settings: LevenbergMarquardt, evaluation, *, runs, callbacks=(), first=None, lbfgs=None
):
    """``(state, info)``: every run of ``progress.state`` (``runs`` stacked, or None for one)
    trained by LM, from the ``TrainState`` entering the phase or from an ``LMCheckpoint``.

    ``progress`` is updated in place (records appended to ``chunks``, ``stop``,
    ``steps_done``); ``first`` is the first phase's end state (default: the entering state),
    ``lbfgs`` the L-BFGS phase's ``extra`` (kept in the checkpoints). ``info`` is a list per
    key, an entry per run (one for a single run).
    """
    grid, exact = evaluation
    start = progress.state if isinstance(progress.state, LMCheckpoint) else _fresh(progress.state, first, settings, lbfgs)
    n = 1 if runs is None else runs
    entries = [run_slice(start.entry, None if runs is None else i) for i in range(n)]
    dtype = phase_dtype(settings, jax.tree_util.tree_leaves(entries[0].params)[0].dtype)
    weights = [{k: jnp.asarray(w, dtype) for k, w in settings.fixed_weights(dict(e.weights.weights)).items()} for e in entries]
    grid, exact = (None, None) if grid is None else (grid.astype(dtype), exact.astype(dtype))
    programs = lm_programs(problem, network, settings)
    points, states = _starting_runs(
        problem, start, entries, weights, settings=settings, dtype=dtype, programs=programs, runs=runs
    )
    solver, cost = solver_and_cost(problem, network, states[0].params, points[0], settings=settings, dtype=dtype, runs=n)
    fresh = settings.holdout_fresh  # lm.holdout: held-out rows of a term, a fresh draw, or None
    held = (
        _held_fresh(problem, entries, weights, settings, dtype, programs)
        if fresh
        else _held_rows(problem, network, entries, settings, dtype)
    )
    loop = _Loop(problem, programs, settings, entries, weights, (grid, exact), dtype, held=held)
    record_seconds = loop.run(progress, start, points, states, callbacks, runs=runs)
    ends = [_end(e, s, settings) for e, s in zip(entries, loop.states)]
    estimate = {"bytes": cost.bytes, "flops": cost.flops, "seconds_per_iteration": cost.seconds}
    info = {
        "reason": [REASONS[int(s.reason)] for s in loop.states],
        "iterations": [int(s.iteration) for s in loop.states],
        "seconds": [loop.seconds] * n,
        "rejected": [int(s.rejected) for s in loop.states],
        "solver": [solver] * n,
        "estimate": [estimate] * n,
        "record_seconds": [record_seconds] * n,
    }
    if loop.held is not None:  # the held-out loss that picked each run's parameters (lm.holdout)
        info["holdout_loss"] = [sel.best for sel in loop.selections]
        info["holdout_iteration"] = [sel.at for sel in loop.selections]
    return (ends[0] if runs is None else _stack(ends)), info


def _fresh(entry, first, settings: LevenbergMarquardt, lbfgs) -> LMCheckpoint:
    """The checkpoint skeleton of a phase that starts now (its LM state and points filled in later)."""
    dtype = phase_dtype(settings, jax.tree_util.tree_leaves(entry.params)[0].dtype)
    lead = np.shape(entry.step)
    if lbfgs is None:
        info = jnp.full(lead + (3,), jnp.nan, dtype)
    else:
        rows = [[REASONS.index(r), i, lbfgs["seconds"]] for r, i in zip(lbfgs["reason"], lbfgs["iterations"])]
        info = jnp.asarray(rows[0] if not lead else rows, dtype)
    zero = jnp.zeros(lead, jnp.int32)
    return LMCheckpoint(entry if first is None else first, entry, None, None, zero, jnp.zeros(lead, dtype), info)


def _starting_runs(problem, start: LMCheckpoint, entries, weights, *, settings, dtype, programs, runs):
    """Each run's point set and LM state to go on from: the checkpoint's, or new ones."""
    if start.lm is None:
        points = [
            _training_points(cast_floats(lm_points(problem, e, settings, dtype), dtype), settings, run=i)
            for i, e in enumerate(entries)
        ]
        schedules = [entering_schedule(e.causal) for e in entries]  # causal weighting: the eps reached ({} without)
        states = [programs.init(cast_floats(e.params, dtype), p, w, c) for e, p, w, c in zip(entries, points, weights, schedules)]
        return points, states
    picks = [None] if runs is None else range(runs)
    points = [run_slice(start.points, i) for i in picks]
    states = [_reopen(run_slice(start.lm, i), settings) for i in picks]
    return points, states


def _training_points(points: dict, settings: LevenbergMarquardt, *, run: int) -> dict:
    """``points`` less run ``run``'s held-out rows of ``settings.holdout_term`` (all of them without one)."""
    if settings.holdout_term is None:
        return points
    return holdout.split_points(points, settings.holdout_term, settings.holdout_fraction, settings.fold_seed(run))[0]


def _held_rows(problem, network, entries, settings: LevenbergMarquardt, dtype):
    """``(loss, [held rows per run], [the term's whole rows per run])``, or None without a held-out term."""
    term = settings.holdout_term
    if term is None:
        return None
    whole = [cast_floats(lm_points(problem, e, settings, dtype), dtype)[term] for e in entries]
    held = [
        holdout.split_points({term: w}, term, settings.holdout_fraction, settings.fold_seed(i))[1] for i, w in enumerate(whole)
    ]
    return holdout.held_loss(problem, network, term), held, whole


def _held_fresh(problem, entries, weights, settings: LevenbergMarquardt, dtype, programs):
    """``(loss, [(fresh points, weights) per run], None)``: the phase's weighted loss on a fixed fresh draw
    (``lm.holdout.fresh_points``), the ``_held_rows`` shape for ``_Loop._select``."""
    draws = [cast_floats(holdout.fresh_points(problem, e.key, dtype, settings.points), dtype) for e in entries]
    return (lambda params, held: programs.loss(params, *held)), list(zip(draws, weights)), None


def _reopen(state, settings: LevenbergMarquardt):
    """A resumed run stopped by ``max_iters`` goes on if ``max_iters`` has grown."""
    grown = (state.reason == REASONS.index("max_iters")) & (state.iteration < settings.max_iters)
    return state._replace(reason=jnp.where(grown, 0, state.reason).astype(state.reason.dtype))


class _Loop:
    """The host loop of the phase: chunks of ``log_every`` iterations over every run, callbacks between."""

    def __init__(self, problem, programs, settings, entries, weights, evaluation, dtype, *, held=None):
        self.problem, self.programs, self.settings = problem, programs, settings
        self.entries, self.weights, self.evaluation, self.dtype = entries, weights, evaluation, dtype
        self.states, self.seconds = [], 0.0
        self.held, self.selections = held, [holdout.Selection.start(settings.patience) for _ in entries]  # lm.holdout

    def run(self, progress: Progress, start: LMCheckpoint, points, states, callbacks, *, runs) -> list[float]:
        """Run until every run stopped or ``max_iters``; returns the record seconds of this session."""
        s = self.settings
        position = int(np.ravel(np.asarray(start.position))[0])
        base, began = progress.steps_done - position, time.perf_counter() - float(np.ravel(np.asarray(start.seconds))[0])
        self.states, last, record_seconds = list(states), {}, []
        progress.total, progress.stop = base + s.max_iters, None
        for cb in callbacks:
            cb.on_start(progress)
        try:
            while position < s.max_iters and any(int(st.reason) == 0 for st in self.states):
                length = min(s.log_every, s.max_iters - position)
                if s.resample_every and position and position % s.resample_every == 0:
                    points = self._resample(points, position // s.resample_every)
                records = [self._chunk(i, points[i], length, last) for i in range(len(self.states))]
                self._select()
                self.seconds = time.perf_counter() - began
                record_seconds.append(self.seconds)
                block = _as_block(records[0] if runs is None else _stack(records, np))
                done = position + length >= s.max_iters or all(int(st.reason) != 0 for st in self.states)
                if done:
                    self._selected()
                crossed = (position + length) // s.checkpoint_every > position // s.checkpoint_every
                position += length
                progress.state = start._replace(
                    lm=self._gather(self.states, runs),
                    points=self._gather(points, runs),
                    position=jnp.full(np.shape(start.position), position, jnp.int32),
                    seconds=jnp.full(np.shape(start.seconds), self.seconds, self.dtype),
                )
                progress.last, progress.steps_done, progress.due = block, base + position, crossed or done
                progress.chunks.append(block)
                for cb in callbacks:
                    cb.on_chunk(progress)
                if progress.stop is not None:
                    break
            self._selected()  # also when a callback stopped the phase (its checkpoint holds the last parameters)
        finally:
            for cb in callbacks:
                cb.on_end(progress)
            progress.due = None
        return record_seconds

    def _chunk(self, i: int, points, length: int, last: dict) -> dict:
        """Run ``i``'s next chunk and its record (a stopped run's last record, once it has one)."""
        if int(self.states[i].reason) != 0 and i in last:
            return last[i]
        first_step = jnp.asarray(self.entries[i].step, jnp.int32)
        self.states[i], rec = self.programs.chunk(self.states[i], points, self.weights[i], *self.evaluation, first_step, length)
        last[i] = {k: v for k, v in jax.device_get(rec).items() if k in RECORD_KEYS or k in UNKNOWN_GROUPS}
        return last[i]

    def _select(self) -> None:
        """After a chunk: each running run's held-out loss; ``patience`` records without a new lowest stop it."""
        if self.held is None:
            return
        loss, held, _ = self.held
        for i, st in enumerate(self.states):  # a run stopped earlier keeps its parameters: no new lowest there
            self.selections[i] = self.selections[i].update(float(loss(st.params, held[i])), st.params, int(st.iteration))
            if self.selections[i].exhausted and int(st.reason) == 0:
                self.states[i] = st._replace(reason=jnp.asarray(REASONS.index("held-out loss"), st.reason.dtype))

    def _selected(self) -> None:
        """At the end: every run's parameters at its lowest held-out loss."""
        for i, sel in enumerate(self.selections if self.held is not None else ()):
            if sel.params is not None:
                self.states[i] = self.states[i]._replace(params=sel.params)

    def _resample(self, points, draw: int) -> list:
        """A fresh point set for every running run, its loss re-evaluated there (non-finite: stop)."""
        out = []
        for i, (entry, st) in enumerate(zip(self.entries, self.states)):
            if int(st.reason) != 0:
                out.append(points[i])
                continue
            fresh = cast_floats(lm_points(self.problem, entry, self.settings, self.dtype, draw), self.dtype)
            if self.settings.holdout_term is not None:  # the held-out term's rows must not change, else they would be trained on
                term = self.settings.holdout_term
                holdout.same_rows(self.held[2][i], fresh[term], term)
                fresh = _training_points(fresh, self.settings, run=i)
            loss = self.programs.loss(st.params, fresh, self.weights[i])
            reason = jnp.where(jnp.isfinite(loss), st.reason, REASONS.index("non-finite loss")).astype(st.reason.dtype)
            self.states[i] = st._replace(loss=loss, reason=reason)
            out.append(fresh)
        return out

    @staticmethod
    def _gather(parts: list, runs):
        return parts[0] if runs is None else _stack(parts)


def _end(entry, state, settings: LevenbergMarquardt):
    """The run's ``TrainState`` after the phase: LM's parameters (in the run's dtype), the
    weights the phase used, the step count moved on by its iterations."""
    own = jax.tree_util.tree_leaves(entry.params)[0].dtype
    weights = settings.fixed_weights(dict(entry.weights.weights))
    used = entry.weights._replace(
        weights={n: jnp.asarray(w, jnp.asarray(entry.weights.weights[n]).dtype) for n, w in weights.items()}
    )
    causal = leaving_schedule(state.causal, entry.step)  # causal weighting: the eps the phase reached ({} without)
    return entry._replace(params=cast_floats(state.params, own), weights=used, step=entry.step + state.iteration, causal=causal)


def _stack(trees: list, xp=jnp):
    return jax.tree_util.tree_map(lambda *xs: xp.stack(xs), *trees)


def _as_block(record: dict) -> dict:
    """One record as a chunk's record of one block (a trailing axis of length 1)."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x)[..., None], record)
