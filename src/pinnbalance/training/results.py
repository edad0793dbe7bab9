"""What a training hands back: one ``FitResult`` per run, each with its own status.

A compiled program trains several runs side by side (seeds, or swept values); each ends
with its own status: ``"completed"``, ``"diverged"`` (a loss, weight or gradient became
non-finite: its first step and term are recorded in the state, see ``training.state``; or a
second-order phase's loss did), ``"interrupted"`` (stopped on request before the last step)
or ``"stopped"`` (a callback ended the loop early: its reason is in ``extra["stop"]``; the
phases after the first-order steps did not run). A diverged run does not stop
the others: vmapped runs are independent, so the healthy ones finish and are returned.

Records: each compiled chunk returns one record per ``log_every`` block (``{"step", "l2",
"losses": {term: ...}, "weights": {...}, "grad_norms": {...}}``, blocks on the last axis);
``flatten_records`` joins them for checkpoints and ``history`` turns them into the
per-term columns of ``FitResult.history``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from pinnbalance.training.causal_schedule import causal_columns
from pinnbalance.training.config import TrainConfig
from pinnbalance.training.state import TrainState
from pinnbalance.unknown_records import GROUPS as UNKNOWN_GROUPS
from pinnbalance.unknown_records import unknown_columns

RECORD_GROUPS = ("losses", "weights", "grad_norms")  # per-term quantities of each record
ERROR_KEYS = ("l2re",)  # with "l2/<name>": a multi-output problem's component errors (component_metrics)
STATUSES = ("completed", "diverged", "interrupted", "stopped")  # stopped: a callback's reason, in extra["stop"]


@dataclass
class FitResult:
    """What a training returns: final state, history (numpy arrays), timings and status.

    ``train_seconds`` is the wall time of the first-order phase, compiling included;
    ``compile_seconds`` the part of it the host spent compiling (or waiting for a chunk
    shape compiled in the background), so ``train_seconds - compile_seconds`` is training.
    ``status`` is one of ``STATUSES``; a diverged run's ``divergence`` holds ``{"step",
    "term"}``, the first step and term (or "the parameter gradient") that went non-finite.
    """

    state: TrainState
    history: dict[str, np.ndarray]
    train_seconds: float
    first_chunk_seconds: float
    traces: int
    term_names: tuple[str, ...]
    config: TrainConfig
    extra: dict = field(default_factory=dict)
    compile_seconds: float = 0.0
    status: str = "completed"
    divergence: dict | None = None

    @property
    def params(self):
        return self.state.params

    @property
    def weights(self) -> dict[str, float]:
        return {n: float(w) for n, w in self.state.weights.weights.items()}


class DivergenceError(RuntimeError):
    """Raised when a loss, weight or gradient became non-finite during training.

    ``result`` is the diverged run's ``FitResult`` (history up to the chunk where it went
    bad); ``results`` every run's, healthy ones included, when several trained together.
    """

    def __init__(self, step: int, term: str, result: FitResult, results: list[FitResult] | None = None):
        self.step, self.term, self.result = step, term, result
        self.results = [result] if results is None else results
        super().__init__(
            f"training diverged: {term} became non-finite (NaN or inf) at step {step}. "
            "Lower the learning rate, use float64, or check the problem's residuals; the "
            "history up to that chunk is in this error's .result."
        )


class Interrupted(RuntimeError):
    """Training stopped early on request (a signal); ``results`` holds the runs so far."""

    def __init__(self, step: int, results: list[FitResult]):
        self.step, self.results = step, results
        super().__init__(f"training interrupted after step {step}")


def divergence(state: TrainState, term_names) -> dict | None:
    """``{"step", "term"}`` of the first non-finite step of one run's ``state``, or None."""
    bad_step = int(state.bad_step)
    if bad_step < 0:
        return None
    names = [*term_names, "the parameter gradient"]
    term = names[int(state.bad_term)]
    return {"step": bad_step, "term": term if term.startswith("the") else f"term {term!r}"}


def flatten_records(records: list[dict]) -> dict[str, np.ndarray]:
    """Chunks' records joined along the block axis, as a flat dict of arrays."""
    flat: dict[str, list] = {}
    errors = shared_errors(records)
    for rec in records:
        for key in ("step", "l2", *errors):
            flat.setdefault(key, []).append(np.asarray(rec[key]))
        for group in (*RECORD_GROUPS, "causal", *UNKNOWN_GROUPS):  # causal, unknowns: only where a record has them
            for name, v in rec.get(group, {}).items():
                flat.setdefault(f"{group}.{name}", []).append(np.asarray(v))
    return {k: np.concatenate(v, axis=-1) for k, v in flat.items()}


def unflatten_records(flat: dict[str, np.ndarray]) -> dict:
    """The inverse of ``flatten_records`` (one record holding every block)."""
    rec: dict = {"step": flat["step"], "l2": flat["l2"], **{group: {} for group in RECORD_GROUPS}}
    rec |= {k: v for k, v in flat.items() if k in ERROR_KEYS or k.startswith("l2/")}  # component errors (component_metrics)
    for key, v in flat.items():
        if "." in key:
            group, name = key.split(".", 1)
            rec.setdefault(group, {})[name] = v
    return rec


def history(records, names) -> dict[str, np.ndarray]:
    """One run's records as columns: step, l2, then loss_, weight_, weighted_loss_ and
    grad_norm_ of every term."""
    cat = lambda get: np.concatenate([np.asarray(get(r)) for r in records])  # noqa: E731
    out = {"step": cat(lambda r: r["step"]), "l2": cat(lambda r: r["l2"])}
    out |= {key: cat(lambda r, key=key: r[key]) for key in shared_errors(records)}
    for n in names:
        out[f"loss_{n}"] = cat(lambda r, n=n: r["losses"][n])
    for n in names:
        out[f"weight_{n}"] = cat(lambda r, n=n: r["weights"][n])
    for n in names:  # the weight the step's parameter update used, times that step's loss
        out[f"weighted_loss_{n}"] = out[f"weight_{n}"] * out[f"loss_{n}"]
    for n in names:
        out[f"grad_norm_{n}"] = cat(lambda r, n=n: r["grad_norms"][n])
    # causal/eps, causal/w_min, causal/w_<i> (causal weighting); unknown/<name>, unknown_l2/<name> (unknowns)
    return out | causal_columns(records) | unknown_columns(records)


def shared_errors(records) -> list[str]:
    """The component error keys (``"l2re"``, ``"l2/<name>"``) every record has: a problem with
    named components records them in its first-order phase; a later phase that does not drops
    them from the joined history rather than leaving a column short."""
    keys = [k for k in (records[0] if records else {}) if k in ERROR_KEYS or k.startswith("l2/")]
    return [k for k in keys if all(k in r for r in records)]


def run_slice(tree, i: int | None):
    """Run ``i`` of a stacked (vmapped) pytree, or the tree itself for a single run (None)."""
    return tree if i is None else jax.tree_util.tree_map(lambda x: x[i], tree)


def raise_if_all_diverged(results: list[FitResult]) -> list[FitResult]:
    """``results`` unchanged, unless every run diverged: then ``DivergenceError`` (the first's
    step and term; a run among several is named by its seed)."""
    bad = [r for r in results if r.status == "diverged"]
    if not results or len(bad) < len(results):
        return results
    first = bad[0]
    label = first.divergence["term"] if len(results) == 1 else f"{first.divergence['term']} (seed {first.config.seed})"
    raise DivergenceError(first.divergence["step"], label, first, results)
