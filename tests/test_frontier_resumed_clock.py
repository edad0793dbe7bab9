"""benchmarks/frontier.py resumes an Adam + Levenberg-Marquardt run with a clock whose marks match
its history: one time per record, never decreasing, whether the resume goes on inside the LM
phase or goes back to the first phase's end (a changed ``[lm]`` redoes the phase, and the clock
drops that phase's marks with its records), and when the process died between writing the clock
and the checkpoint."""

import sys
from pathlib import Path

import numpy as np
import pytest

from pinnbalance.training.lm_checkpoint import LMCheckpoint
from pinnbalance.training.loop import Progress

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import frontier  # noqa: E402

CONFIG = """
[problem]
name = "helmholtz"
[network]
hidden = [6]
[weighting]
scheme = "lr-annealing"
[sampling]
batch_size = 16
[lm]
max_iters = 16
log_every = 2
checkpoint_every = 4
points = {points}
[train]
dtype = "float64"
steps = 40
log_every = 10
chunk_logs = 2
checkpoint_every = 20
[output]
dir = "unused"
"""
RECORDS = 40 // 10 + 16 // 2  # Adam's records at steps 0, 10, 20, 30; one per LM chunk of 2 iterations


class Killed(Exception):
    """Stands in for the process being killed."""


def killing_clock(at: int):
    """A ``frontier.Clock`` whose process dies right after marking the chunk that reaches step ``at``
    inside the LM phase (before that chunk's checkpoint is written)."""

    class KillingClock(frontier.Clock):
        def on_chunk(self, progress):
            super().on_chunk(progress)
            if progress.steps_done >= at and isinstance(progress.state, LMCheckpoint):
                raise Killed

    return KillingClock


def config_file(tmp_path, points: int) -> str:
    path = tmp_path / f"adam-lm-{points}.toml"
    path.write_text(CONFIG.format(points=points))
    return str(path)  # absolute: frontier reads ROOT / path


def check_curve(run: dict) -> None:
    times = np.array([t for t, _ in run["curve"]])
    assert run["evaluations"] == len(run["curve"]) == RECORDS
    assert np.all(np.diff(times) >= 0), times


def test_evaluations_come_off_each_chunk_once():
    """Two records of a chunk ending at 1 s, one of a chunk ending at 3 s, 0.25 s an evaluation:
    the first two lose both of their chunk's evaluations (0.5 s), the third all three (0.75 s)."""
    np.testing.assert_allclose(frontier.without_evaluations(np.array([1.0, 1.0, 3.0]), 0.25), [0.5, 0.5, 2.25])


def test_kept_marks_follow_the_resumed_history():
    """Hand-made marks ``(steps done, seconds, second-order)``: inside the LM phase the marks up to the
    checkpoint's step stay; back at the first phase's end (step 40) every LM mark goes."""
    marks = [(0, 0.0, False), (20, 5.0, False), (40, 6.0, False), (42, 8.0, True), (44, 9.0, True), (46, 10.0, True)]
    inside = Progress(LMCheckpoint(*[None] * 7), steps_done=44)
    assert frontier.kept_marks(marks, inside) == marks[:5]
    assert frontier.kept_marks(marks, Progress(None, steps_done=40)) == marks[:3]
    assert frontier.kept_marks([list(m) for m in marks], Progress(None, steps_done=20)) == marks[:2]  # JSON gives lists


def test_record_times_refuse_marks_of_another_history():
    """12 records, 4 first-order and 8 LM, against 10 LM marks (2 kept from a phase the resume redid):
    an error naming the counts, not times shifted onto the wrong records."""

    class Result:
        history = {"step": np.array([0, 10, 20, 30, *range(42, 58, 2)])}
        extra = {}

    marks = [(0, 0.0, False), (20, 1.0, False), (40, 2.0, False), *[(42 + 2 * i, 3.0 + i, True) for i in range(10)]]
    with pytest.raises(ValueError, match="12 records, 4 of them the first phase's, and 10 marks of later phases"):
        frontier.record_times(Result(), marks)


def test_a_changed_lm_phase_resumed_from_the_first_phase_end_times_each_record(tmp_path, monkeypatch):
    """Killed inside the LM phase (its last checkpoint at step 52), then resumed with more LM points: the
    run goes back to Adam's end (step 40), redoes the phase, and has one time per record (the
    benchmark's crash: the old LM marks were kept, so the times outnumbered the records)."""
    folder = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr(frontier, "Clock", killing_clock(54))
        with pytest.raises(Killed):
            frontier.run_one(config_file(tmp_path, 20), 1234, None, folder=folder)
    check_curve(frontier.run_one(config_file(tmp_path, 24), 1234, None, folder=folder))


def test_a_kill_between_clock_and_checkpoint_resumes_inside_the_lm_phase(tmp_path, monkeypatch):
    """The clock is written before the checkpoint: a process killed between the two (at step 48)
    leaves marks past the checkpoint (step 44); the resume inside the LM phase drops them."""
    folder, path = tmp_path / "run", config_file(tmp_path, 20)
    writer = frontier.checkpoint_writer

    def dying_writer(run_dir, config):
        write = writer(run_dir, config)

        def maybe_write(progress):
            if progress.steps_done >= 48:
                raise Killed
            write(progress)

        return maybe_write

    with monkeypatch.context() as patch:
        patch.setattr(frontier, "checkpoint_writer", dying_writer)
        with pytest.raises(Killed):
            frontier.timed_training(path, [], None, folder)
    first = frontier.json.loads((folder / frontier.CLOCK).read_text())["marks"]
    assert first[-1][0] == 48  # the clock got past the checkpoint
    resumed = frontier.timed_training(path, [], None, folder)
    marks = resumed.clock.marks
    assert [m[0] for m in marks] == [0, 20, 40, *range(42, 58, 2)]
    assert marks[:5] == [tuple(m) for m in first[:5]]  # up to the checkpoint's step 44: the saved marks
    times = frontier.record_times(resumed.result, marks)
    assert len(times) == resumed.result.history["l2"].size == RECORDS
    assert np.all(np.diff(times) >= 0) and np.all(np.diff(times[4:]) > 0), times  # each LM record its own later chunk
