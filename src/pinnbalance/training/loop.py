"""The host loop: run a compiled chunk program over a plan, calling callbacks between chunks.

    state, records = run_chunks(program, state, plan, callbacks)

``program(state, n_blocks, block_len) -> (state, record)`` is one compiled chunk (see
``training.program``); ``plan`` lists the chunks still to run as ``((n_blocks, block_len),
steps done after it)``. After each chunk the host fetches its record (the one host sync of
the chunk) and hands a ``Progress`` to every callback, in order. Side effects live in the
callbacks (progress bar, checkpoints, TensorBoard, signals, divergence; see
``training.callbacks``), in the manner of diffrax's progress meters: the loop knows none of
them. A callback stops the loop by setting ``progress.stop`` to a reason; later callbacks in
the list see it (a checkpoint is then written before the loop ends).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import numpy as np

from pinnbalance.training.state import TrainState


@dataclass
class Progress:
    """What the host knows after a chunk: the state, every record so far, steps done.

    ``records`` is the flat form (``training.results.flatten_records``) where a checkpoint
    holds it; inside the loop, ``chunks`` holds the records chunk by chunk and ``last`` the
    newest one. ``stop`` is None, or the reason a callback asked the loop to stop.
    """

    state: TrainState
    records: dict = field(default_factory=dict)
    steps_done: int = 0
    total: int = 0
    chunks: list = field(default_factory=list)
    last: dict | None = None
    stop: str | None = None
    due: bool | None = None  # a phase's own checkpoint schedule (the LM phase's); None: every checkpoint_every steps

    def healthy(self) -> np.ndarray:
        """Which runs have no non-finite step yet (one entry per run; one for a single run)."""
        return np.atleast_1d(np.asarray(self.state.bad_step) < 0)


class Callback:
    """Something the loop calls between chunks; override what you need.

    ``on_start(progress)`` before the first chunk, ``on_chunk(progress)`` after each (set
    ``progress.stop`` to stop the loop), ``on_end(progress)`` once the loop is done, stopped
    early or not.
    """

    def on_start(self, progress: Progress) -> None:
        pass

    def on_chunk(self, progress: Progress) -> None:
        pass

    def on_end(self, progress: Progress) -> None:
        pass


@dataclass
class LoopTimes:
    """Wall seconds of the loop and of its first chunk (compiling included)."""

    total: float = 0.0
    first_chunk: float = 0.0


def run_chunks(program, progress: Progress, plan, callbacks=()) -> LoopTimes:
    """Run the chunks of ``plan`` from ``progress`` (updated in place); return the times.

    ``program(state, n_blocks, block_len) -> (state, record)`` is called once per chunk.
    """
    times, begin = LoopTimes(), time.perf_counter()
    for cb in callbacks:
        cb.on_start(progress)
    try:
        for shape, position in plan:
            state, record = program(progress.state, *shape)
            progress.state, progress.last = state, jax.device_get(record)
            progress.chunks.append(progress.last)
            progress.steps_done = position
            times.first_chunk = times.first_chunk or time.perf_counter() - begin
            for cb in callbacks:
                cb.on_chunk(progress)
            if progress.stop is not None:
                break
    finally:
        times.total = time.perf_counter() - begin
        for cb in callbacks:
            cb.on_end(progress)
    return times
