"""Callbacks of the host loop (``training.loop.run_chunks``): progress, signals, divergence.

Each is a small object with ``on_start`` / ``on_chunk`` / ``on_end`` (``loop.Callback``);
the loop calls them in list order after every chunk. Checkpoints and TensorBoard files are
callbacks of the run folder (``pinnbalance.run``).

- ``ProgressBar``: a tqdm bar with the latest record's error, losses and weights (the median
  over runs when several train together).
- ``StopOnDivergence``: stops the loop once EVERY run has a non-finite step; a run that
  diverges among healthy ones is left to finish as NaN (vmapped runs are independent), and
  its status says so at the end.
- ``StopOnSignal``: turns SIGINT/SIGTERM into a stop between chunks (a second signal stops
  at once), restoring the previous handlers at the end.
- ``OnChunk``: any function of the ``Progress``, called after each chunk.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import numpy as np

from pinnbalance.training.loop import Callback, Progress

DIVERGED = "diverged"
INTERRUPTED = "interrupted"


class ProgressBar(Callback):
    """A tqdm progress bar over the steps, labelled ``label``; ``reference`` (the reference
    term) is left out of the weights shown while its weight is 1 (shown where a scheme moves it,
    as NTK does). A phase with nothing to do draws no bar.
    ``unit="it"`` counts a second-order phase's iterations from its start (the steps of the
    phases before it are not its own)."""

    def __init__(self, label: str = "training", reference: str | None = None, unit: str = "step"):
        self.label, self.reference, self.unit, self.bar, self.zero = label, reference, unit, None, 0

    def on_start(self, progress: Progress) -> None:
        from tqdm.auto import tqdm

        self.bar, self.zero = None, progress.steps_done if self.unit == "it" else 0
        if progress.total is not None and progress.total <= progress.steps_done:
            return  # nothing to do in this phase (e.g. steps = 0 before an LM phase)
        total = None if progress.total is None else progress.total - self.zero
        options = {"desc": self.label, "unit": self.unit, "dynamic_ncols": True, "mininterval": 0.5}
        self.bar = tqdm(initial=progress.steps_done - self.zero, total=total, **options)

    def on_chunk(self, progress: Progress) -> None:
        if self.bar is None:
            return
        rec = progress.last
        last = lambda v: float(np.median(np.asarray(v)[..., -1]))  # noqa: E731
        post = {"l2": f"{last(rec['l2']):.2e}"}
        post.update({f"L_{k}": f"{last(v):.1e}" for k, v in rec["losses"].items()})
        weights = {k: last(v) for k, v in rec["weights"].items()}  # the reference's too where the scheme moves it
        post.update({f"w_{k}": f"{w:.3g}" for k, w in weights.items() if k != self.reference or w != 1.0})
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(progress.steps_done - self.zero - self.bar.n)

    def on_end(self, progress: Progress) -> None:
        if self.bar is not None:
            self.bar.close()


class StopOnDivergence(Callback):
    """Stop the loop when every run has diverged (nothing healthy is left to train)."""

    def on_chunk(self, progress: Progress) -> None:
        if not progress.healthy().any():
            progress.stop = DIVERGED


class StopOnSignal(Callback):
    """SIGINT/SIGTERM stop the loop after the current chunk (a checkpoint callback later in
    the list still writes); a second signal raises ``KeyboardInterrupt`` at once."""

    def __init__(self):
        self.signal: str | None = None
        self.previous: dict = {}

    def _handler(self, signum, frame):
        if self.signal is not None:  # a second signal: stop now
            raise KeyboardInterrupt
        self.signal = signal.Signals(signum).name
        print(f"\n{self.signal} received: finishing the current chunk, then writing a checkpoint...", file=sys.stderr)

    def on_start(self, progress: Progress) -> None:
        self.previous = {s: signal.signal(s, self._handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def on_chunk(self, progress: Progress) -> None:
        if self.signal is not None and progress.stop is None and progress.steps_done < progress.total:
            progress.stop = INTERRUPTED

    def on_end(self, progress: Progress) -> None:
        for s, h in self.previous.items():
            signal.signal(s, h)


class OnChunk(Callback):
    """Call ``fn(progress)`` after every chunk."""

    def __init__(self, fn: Callable[[Progress], None]):
        self.fn = fn

    def on_chunk(self, progress: Progress) -> None:
        self.fn(progress)
