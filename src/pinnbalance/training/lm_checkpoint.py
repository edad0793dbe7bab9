"""Checkpoints written during the Levenberg-Marquardt phase, and how a run resumes from one.

During the phase a run folder's checkpoint holds an ``LMCheckpoint`` instead of a bare
``TrainState``: the first phase's end state (what a checkpoint held before the phase), the
state that entered the phase (after L-BFGS, if any), the LM state of every run (parameters
in the phase's dtype, damping mu, Nielsen's nu, iterations, stop reason, loss, rejected
trials), the phase's current point set, the iterations done (``position``), the phase's
wall seconds so far and the L-BFGS phase's outcome. The history so far (every phase's
records) is the checkpoint's records, as always. Its manifest says ``"phase": "lm"``.

A resume goes on inside the phase when the configuration is the checkpoint's own, except
``[lm]`` fields that do not change the iterations (``CONTINUE_CHANGES``: ``max_iters`` may
grow, so a run stopped by it goes on); the iterations are then those of a straight run.
Any other change (``train.steps``, ``[lbfgs]``, other ``[lm]`` fields) goes on from the first
phase's end with the history up to it, as from a checkpoint written before the phase, and
prints one line naming the keys that changed. A key the checkpoint's table lacks (a field added
since it was written) is read as its default (``resume_settings``), so a new field does not redo
the phase.

Example:
    >>> manifest({"not": "an LM checkpoint"})
    {}
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.lm.loop import REASONS, LMState, cast_floats, phase_dtype
from pinnbalance.lm.settings import LevenbergMarquardt
from pinnbalance.training import resume_settings
from pinnbalance.training.causal_schedule import initial_causal
from pinnbalance.training.lbfgs import LBFGS
from pinnbalance.training.loop import Progress
from pinnbalance.training.results import run_slice
from pinnbalance.training.state import TrainState

PHASE = "lm"  # the manifest's "phase" of a checkpoint written during the LM phase
CONTINUE_CHANGES = ("max_iters", "checkpoint_every", "warn_seconds", "max_memory_gb")  # [lm] keys a resume may change


class LMCheckpoint(NamedTuple):
    """What a checkpoint of the LM phase holds (see the module docstring); every leaf has the
    runs' leading axis when several runs train together."""

    first: TrainState  # the first phase's end: resumes that change the configuration go on from here
    entry: TrainState  # the state that entered the phase (after L-BFGS)
    lm: LMState  # the phase's own state, in its dtype
    points: dict  # the phase's current point set, in its dtype
    position: jax.Array  # int32: iterations done (chunks of log_every), the same for every run
    seconds: jax.Array  # the phase's wall seconds so far (compilation included)
    lbfgs: jax.Array  # (3,): the L-BFGS phase's stop reason index, iterations and seconds; NaN without one


def manifest(state) -> dict:
    """The manifest entries that mark a checkpoint of ``state`` as one of the LM phase (``{}`` otherwise)."""
    return {"phase": PHASE} if isinstance(state, LMCheckpoint) else {}


def in_phase(manifest_or_progress) -> bool:
    """Whether a checkpoint's manifest (or a resumed ``Progress``) is one of the LM phase."""
    if isinstance(manifest_or_progress, Progress):
        return isinstance(manifest_or_progress.state, LMCheckpoint)
    return manifest_or_progress.get("phase") == PHASE


def template(first: TrainState, problem, network, saved_manifest: dict, *, runs: int | None) -> LMCheckpoint:
    """An ``LMCheckpoint`` of the structure, shapes and dtypes (zeros) of the one whose manifest is
    ``saved_manifest`` (its ``[lm]`` settings decide them), to load it onto; ``first`` is the
    run's ``TrainState`` template (``runs`` stacked, or None for one run)."""
    from pinnbalance.training.lm_phase import lm_points  # the phase builds on this module

    settings = LevenbergMarquardt(**saved_manifest["config"]["lm"])
    one = run_slice(first, None if runs is None else 0)
    dtype = phase_dtype(settings, jax.tree_util.tree_leaves(one.params)[0].dtype)
    shapes = jax.eval_shape(lambda s: lm_points(problem, s, settings, dtype), one)
    lead = () if runs is None else (runs,)
    zeros = lambda tree: jax.tree_util.tree_map(lambda x: jnp.zeros(lead + tuple(x.shape), x.dtype), tree)  # noqa: E731
    scalar = lambda d: jnp.zeros(lead, d)  # noqa: E731
    lm = LMState(
        params=zeros(cast_floats(one.params, dtype)),
        damping=scalar(dtype),
        nu=scalar(dtype),
        iteration=scalar(jnp.int32),
        reason=scalar(jnp.int32),
        loss=scalar(dtype),
        rejected=scalar(jnp.int32),
        causal=zeros(initial_causal(problem)),  # causal weighting's eps schedule ({} without)
    )
    return LMCheckpoint(first, first, lm, zeros(shapes), scalar(jnp.int32), scalar(dtype), jnp.zeros(lead + (3,), dtype))


def changes(saved: dict, now: dict) -> list[str]:
    """What differs between configuration data ``saved`` (a checkpoint's) and ``now``
    (``RunConfig.to_dict()``) that stops a resume from going on inside the LM phase: ``train.steps``,
    ``[lbfgs]``, ``[lm]`` but ``CONTINUE_CHANGES``; keys a saved table lacks are its settings'
    defaults (``resume_settings.filled``). ``[]``: it goes on inside the phase."""
    if saved.get("lm") is None:  # no settings to go on with (not written by this phase)
        return ["[lm] (absent in the checkpoint)"]
    lm = resume_settings.changes(saved["lm"], now.get("lm"), LevenbergMarquardt, section="lm", ignore=CONTINUE_CHANGES)
    lbfgs = resume_settings.changes(saved.get("lbfgs"), now.get("lbfgs"), LBFGS, section="lbfgs")
    return resume_settings.steps_change(saved, now) + lbfgs + lm


def continues(saved: dict, now: dict) -> bool:
    """Whether a checkpoint of the LM phase written under configuration data ``saved`` goes on
    inside the phase under ``now`` (``RunConfig.to_dict()``; see the module docstring and ``changes``)."""
    return not changes(saved, now)


def resumed(state: LMCheckpoint, records: dict, saved_manifest: dict, now: dict, *, where=None) -> Progress:
    """The ``Progress`` a run resumes from after loading an LM checkpoint: inside the phase if the
    configuration ``now`` continues it, else the first phase's end and its history, after printing
    one line that names the changed keys (``where``: the run folder, for that line)."""
    if not (changed := changes(saved_manifest["config"], now)):
        return Progress(state, records, int(saved_manifest["step"]))
    return resume_settings.redo_from_first(
        state.first, records, saved_manifest, changed, phase="Levenberg-Marquardt", where=where
    )


def nothing_left(progress: Progress, train, written: bool) -> str | None:
    """Why a resume inside the LM phase has nothing to do (None if it has): every run stopped
    or reached ``max_iters`` (``train.lm``'s), and the outputs are written. ``train`` is the
    ``[train]`` settings, as ``lbfgs_checkpoint.nothing_left`` takes them."""
    settings = train.lm
    lm, position = progress.state.lm, int(np.ravel(np.asarray(progress.state.position))[0])
    going_on = (np.asarray(lm.reason) == 0) | (
        (np.asarray(lm.reason) == REASONS.index("max_iters")) & (np.asarray(lm.iteration) < settings.max_iters)
    )
    if written and (position >= settings.max_iters or not going_on.any()):
        return (
            f"the Levenberg-Marquardt phase has finished ({position} iterations); raise lm.max_iters to go on, "
            "or change [lm] to redo the phase"
        )
    return None


def lbfgs_extra(state: LMCheckpoint, lbfgs_settings) -> dict:
    """``FitResult.extra["lbfgs"]`` of a run resumed inside the LM phase (what the L-BFGS phase did)."""
    info = np.asarray(state.lbfgs).reshape(-1, 3)
    return {
        "reason": [REASONS[int(r)] for r in info[:, 0]],
        "iterations": [int(i) for i in info[:, 1]],
        "seconds": float(info[0, 2]),
        "weights": lbfgs_settings.weights,
    }
