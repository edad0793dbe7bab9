"""TensorBoard event files: moved to ``pinnbalance.report.tensorboard``; this name stays for code
that imports ``pinnbalance.tensorboard`` (as docs/training.md names it)."""

from pinnbalance.report.tensorboard import EventWriter, read_events, run_writers, tag, write_records

__all__ = ["EventWriter", "read_events", "run_writers", "tag", "write_records"]
