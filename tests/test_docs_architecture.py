"""docs/architecture.md: its callback example runs as printed and stops where it says."""

import contextlib
import io
from pathlib import Path

from test_docs_own_pde import fenced_blocks

PAGE = Path(__file__).parents[1] / "docs" / "architecture.md"


def test_the_callback_example_runs_and_stops_early():
    [(_, code)] = fenced_blocks(PAGE.read_text())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(PAGE), "exec"), {"__name__": "architecture_example"})
    status, *reason, steps = out.getvalue().split()
    assert status == "stopped" and " ".join(reason) == "no improvement" and int(steps) < 2000
