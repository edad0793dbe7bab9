"""Checkpoints written during the L-BFGS phase, and how a run resumes from one.

During the phase a run folder's checkpoint holds an ``LBFGSCheckpoint`` instead of a bare
``TrainState``: the state that entered the phase (the first phase's end, what a checkpoint
held before the phase), every run's L-BFGS carry (parameters in the phase's dtype, the optax
L-BFGS state with its curvature pairs and line-search state, iterations, stop reason, last
loss), the iterations done (``position``) and the phase's wall seconds so far. The phase's
point set and weights are not stored: they are drawn again from the entering state, as the
phase does at every chunk. The history so far is the checkpoint's records, as always; its
manifest says ``"phase": "lbfgs"``.

A resume goes on inside the phase when ``train.steps`` and ``[lbfgs]`` are the checkpoint's
own, except ``[lbfgs]`` fields that do not change the iterations (``CONTINUE_CHANGES``:
``max_iters`` may grow, so a run stopped by it goes on; ``[lm]``, which runs after, may change);
the iterations are then those of a straight run. Any other change goes on from the first phase's
end with the history up to it, as from a checkpoint written before the phase, and prints one line
naming the keys that changed. A key the checkpoint's table lacks (a field added since it was
written) is read as its default (``resume_settings``), so a new field does not redo the phase.

Example:
    >>> manifest({"not": "an L-BFGS checkpoint"})
    {}
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from pinnbalance.training import resume_settings
from pinnbalance.training.lbfgs import LBFGS, REASONS, start_carry, stopped
from pinnbalance.training.loop import Progress
from pinnbalance.training.precision import cast_floats, phase_dtype
from pinnbalance.training.results import run_slice
from pinnbalance.training.state import TrainState

PHASE = "lbfgs"  # the manifest's "phase" of a checkpoint written during the L-BFGS phase
CONTINUE_CHANGES = ("max_iters",)  # [lbfgs] keys a resume may change


class LBFGSCheckpoint(NamedTuple):
    """What a checkpoint of the L-BFGS phase holds (see the module docstring); every leaf has the
    runs' leading axis when several runs train together."""

    entry: TrainState  # the state that entered the phase (the first phase's end)
    carry: tuple  # (params, optax L-BFGS state, iterations, reason, last loss), in the phase's dtype
    position: jax.Array  # int32: iterations done (chunks of log_every), the same for every run
    seconds: jax.Array  # the phase's wall seconds so far (compilation included)


def manifest(state) -> dict:
    """The manifest entries that mark a checkpoint of ``state`` as one of the L-BFGS phase (``{}`` otherwise)."""
    return {"phase": PHASE} if isinstance(state, LBFGSCheckpoint) else {}


def in_phase(manifest_or_progress) -> bool:
    """Whether a checkpoint's manifest (or a resumed ``Progress``) is one of the L-BFGS phase."""
    if isinstance(manifest_or_progress, Progress):
        return isinstance(manifest_or_progress.state, LBFGSCheckpoint)
    return manifest_or_progress.get("phase") == PHASE


def template(first: TrainState, problem, network, saved_manifest: dict, *, runs: int | None) -> LBFGSCheckpoint:
    """An ``LBFGSCheckpoint`` of the structure, shapes and dtypes (zeros) of the one whose manifest
    is ``saved_manifest`` (its ``[lbfgs]`` settings decide them), to load it onto; ``first`` is the
    run's ``TrainState`` template (``runs`` stacked, or None for one run). ``problem`` and
    ``network`` are unused (the signature is ``lm_checkpoint.template``'s)."""
    settings = LBFGS(**saved_manifest["config"]["lbfgs"])
    one = run_slice(first, None if runs is None else 0)
    dtype = phase_dtype(settings, jax.tree_util.tree_leaves(one.params)[0].dtype)
    shapes = jax.eval_shape(start_carry(settings.optimizer(), dtype), one._replace(params=cast_floats(one.params, dtype)))
    lead = () if runs is None else (runs,)
    carry = jax.tree_util.tree_map(lambda x: jnp.zeros(lead + tuple(x.shape), x.dtype), shapes)
    return LBFGSCheckpoint(first, carry, jnp.zeros(lead, jnp.int32), jnp.zeros(lead, dtype))


def changes(saved: dict, now: dict) -> list[str]:
    """What differs between configuration data ``saved`` (a checkpoint's) and ``now``
    (``RunConfig.to_dict()``) that stops a resume from going on inside the L-BFGS phase:
    ``train.steps``, ``[lbfgs]`` but ``CONTINUE_CHANGES``; keys a saved table lacks are its
    settings' defaults (``resume_settings.filled``). ``[]``: it goes on inside the phase."""
    if saved.get("lbfgs") is None:  # no settings to go on with (not written by this phase)
        return ["[lbfgs] (absent in the checkpoint)"]
    lbfgs = resume_settings.changes(saved["lbfgs"], now.get("lbfgs"), LBFGS, section="lbfgs", ignore=CONTINUE_CHANGES)
    return resume_settings.steps_change(saved, now) + lbfgs


def continues(saved: dict, now: dict) -> bool:
    """Whether a checkpoint of the L-BFGS phase written under configuration data ``saved`` goes on
    inside the phase under ``now`` (``RunConfig.to_dict()``; see the module docstring and ``changes``)."""
    return not changes(saved, now)


def resumed(state: LBFGSCheckpoint, records: dict, saved_manifest: dict, now: dict, *, where=None) -> Progress:
    """The ``Progress`` a run resumes from after loading an L-BFGS checkpoint: inside the phase if
    the configuration ``now`` continues it, else the first phase's end and its history, after
    printing one line that names the changed keys (``where``: the run folder, for that line)."""
    if not (changed := changes(saved_manifest["config"], now)):
        return Progress(state, records, int(saved_manifest["step"]))
    return resume_settings.redo_from_first(state.entry, records, saved_manifest, changed, phase="L-BFGS", where=where)


def reopened(carry, settings: LBFGS):
    """``carry`` with the runs stopped by ``max_iters`` running again if ``settings.max_iters`` has
    grown past their iterations. Such a run's carry is the one a run with the larger ``max_iters``
    had at that iteration (a stop reason is the first condition that holds, ``max_iters`` the
    last checked), so it goes on as that run did."""
    params, opt_state, iters, reason, last = carry
    grown = (reason == REASONS.index("max_iters")) & (iters < settings.max_iters)
    return params, opt_state, iters, jnp.where(grown, 0, reason).astype(jnp.asarray(reason).dtype), last


def finished(state: LBFGSCheckpoint, settings: LBFGS) -> bool:
    """Whether the phase of this checkpoint has nothing left under ``settings``: ``max_iters`` done,
    or every run stopped (by ``max_iters`` only if it has not grown)."""
    position = int(np.ravel(np.asarray(state.position))[0])
    return position >= settings.max_iters or stopped(reopened(state.carry, settings))


def nothing_left(progress: Progress, train, written: bool) -> str | None:
    """Why a resume inside the L-BFGS phase has nothing to do (None if it has): the phase
    finished, no ``[lm]`` phase follows, and the outputs are written."""
    if written and train.lm is None and finished(progress.state, train.lbfgs):
        return (
            f"the run has trained its {train.steps} steps and finished its L-BFGS phase; raise train.steps to go on, "
            "or change [lbfgs]/[lm] to redo that phase (or add one after it)"
        )
    return None
