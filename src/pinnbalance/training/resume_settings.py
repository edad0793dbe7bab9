"""Which settings of a later phase (``[lbfgs]``, ``[lm]``) changed between a checkpoint and a resume.

A checkpoint written inside the L-BFGS or LM phase keeps the run's configuration as plain data
(``RunConfig.to_dict()``, in its manifest), and a resume goes on inside the phase only if the
phase's settings are still the checkpoint's (``lbfgs_checkpoint.continues``,
``lm_checkpoint.continues``). A saved table lacks two kinds of keys: a field whose value was None
(``to_dict`` leaves None out) and a field added to the settings class after the checkpoint was
written. Compared as they stand, every new field with a default would count as a change, and every
older checkpoint would redo its phase. So both tables are first completed with the settings class's
defaults (``filled``): a key missing from the saved table means "the default of the code that
wrote it". That is the current default unless the default itself changed since; whoever changes a
field's default changes what older checkpoints are read to have said (raise the checkpoint format
version if that matters).

One kind of key stays ambiguous and is not filled: a field that may be None but whose default is
not (``LevenbergMarquardt.dtype``, default ``"float64"``): missing, it was None or a newer field. It
then counts as changed unless it is missing from both tables (the safe side: the phase is redone,
and ``notice`` says why).

Example:
    >>> from pinnbalance.training.lbfgs import LBFGS
    >>> changes({"max_iters": 10}, {"max_iters": 10, "memory_size": 50}, LBFGS, section="lbfgs")
    []
    >>> changes({"memory_size": 20}, {"memory_size": 50}, LBFGS, section="lbfgs")
    ['lbfgs.memory_size (20 in the checkpoint, 50 now)']
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from pinnbalance.training.loop import Progress

_ABSENT = object()  # a key in neither the table nor the defaults


def defaults(cls) -> dict:
    """The defaults of ``cls``'s fields that a key missing from a saved table stands for, as plain
    data (JSON's types, as ``RunConfig.to_dict()`` writes them): every field with a default except
    those that may be None but default to something else (see the module docstring)."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        else:
            continue  # a required field: its key is always written
        if value is None or "None" not in str(f.type):  # unambiguous: to_dict drops None, so a default None is None
            out[f.name] = json.loads(json.dumps(value))
    return out


def filled(table: dict, cls) -> dict:
    """``table`` (one section of ``RunConfig.to_dict()``) with its missing keys set to ``cls``'s defaults."""
    return defaults(cls) | table


def changes(saved: dict | None, now: dict | None, cls, *, section: str, ignore=()) -> list[str]:
    """The keys of one section (``cls``'s settings, None when the section is absent) that differ
    between a checkpoint's configuration ``saved`` and ``now``, after ``filled``; keys in
    ``ignore`` may change. Each entry names the key and both values; ``[]`` when none differs."""
    if saved is None or now is None:
        if saved is None and now is None:
            return []
        where = lambda t: "absent" if t is None else "present"  # noqa: E731
        return [f"[{section}] ({where(saved)} in the checkpoint, {where(now)} now)"]
    a, b = filled(saved, cls), filled(now, cls)
    names = [f.name for f in dataclasses.fields(cls)]
    keys = names + sorted((set(a) | set(b)) - set(names))  # field order, then keys the class no longer has
    show = lambda t, k: "missing" if k not in t else repr(t[k])  # noqa: E731
    return [
        f"{section}.{k} ({show(a, k)} in the checkpoint, {show(b, k)} now)"
        for k in keys
        if k not in ignore and a.get(k, _ABSENT) != b.get(k, _ABSENT)
    ]


def steps_change(saved: dict, now: dict) -> list[str]:
    """``["train.steps (...)"]`` if the first phase's length differs between ``saved`` and ``now``, else ``[]``."""
    a, b = saved["train"]["steps"], now["train"]["steps"]
    return [] if a == b else [f"train.steps ({a} in the checkpoint, {b} now)"]


def notice(phase: str, changed: list[str], *, step: int, first_step: int, where=None) -> str:
    """The line a resume prints when it redoes ``phase`` from the first phase's end (``first_step``)
    instead of going on inside it from its checkpoint at ``step``, because of ``changed``
    (``changes``' entries); ``where``: the run folder, if any.

        >>> print(notice("L-BFGS", ["lbfgs.grad_tol (1e-08 in the checkpoint, 0.0 now)"], step=24, first_step=20))
        resume: redoing the L-BFGS phase from the first phase's end (step 20), not going on from its checkpoint at step 24: changed lbfgs.grad_tol (1e-08 in the checkpoint, 0.0 now)
    """
    head = "resume" if where is None else f"resume of {where}"
    return (
        f"{head}: redoing the {phase} phase from the first phase's end (step {first_step}), "
        f"not going on from its checkpoint at step {step}: changed {'; '.join(changed)}"
    )


def redo_from_first(first, records: dict, saved_manifest: dict, changed: list[str], *, phase: str, where=None) -> Progress:
    """The ``Progress`` of a resume that redoes ``phase`` because of ``changed`` (``changes``' entries):
    the first phase's end ``first`` (a ``TrainState``) and the history up to it, after printing
    ``notice``'s line. The L-BFGS and LM checkpoints' ``resumed`` share it."""
    first_step = int(np.ravel(np.asarray(first.step))[0])
    print(notice(phase, changed, step=int(saved_manifest["step"]), first_step=first_step, where=where), flush=True)
    keep = np.ravel(np.asarray(records["step"]).reshape(-1, np.shape(records["step"])[-1])[0]) <= first_step
    return Progress(first, {k: np.asarray(v)[..., keep] for k, v in records.items()}, first_step)
