"""docs/weighting.md: its Python examples run as printed."""

import contextlib
import io
from pathlib import Path

import pytest

from test_docs_own_pde import fenced_blocks

PAGE = Path(__file__).parents[1] / "docs" / "weighting.md"
BLOCKS = fenced_blocks(PAGE.read_text())


@pytest.mark.parametrize("heading, code", BLOCKS, ids=[h for h, _ in BLOCKS])
def test_every_python_block_runs(heading, code):
    namespace = {"__name__": "weighting_example"}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(code, str(PAGE), "exec"), namespace)
    if "causal_problem" in code:
        assert namespace["result"].status == "completed"
        assert namespace["problem"].terms["res"].reduce is not None
