"""Count the code lines of the configuration layer: lines holding code, not blank lines,
comments or docstrings.

Issue 16 asks that all configuration parsing and validation code together stay under 300
lines. That code is ``FILES``: the TOML layer (``config.py``) and the problem declarations it
checks names against without building a problem (``problems/declared.py``); the library
objects it constructs (``TrainConfig``, ``LBFGS``, the schemes) validate themselves and are
counted with the library.

A line counts when a token other than a comment, a newline or indentation starts or spans
it, and it is not inside a docstring (the first string statement of a module, class or
function).

Example (from the repository root)::

    python tools/count_config_lines.py          # prints each file's count and the total
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = (
    "src/pinnbalance/config.py",
    "src/pinnbalance/problems/declared.py",
)
LIMIT = 300
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}


def docstring_lines(source: str) -> set[int]:
    """Line numbers covered by docstrings of the module, its classes and functions."""
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def code_lines(source: str) -> int:
    """How many lines of ``source`` hold code (see the module docstring)."""
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in SKIP:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstring_lines(source))


def count(files=FILES) -> dict[str, int]:
    """``{file: code lines}`` for ``files`` (paths relative to the repository root)."""
    return {name: code_lines((ROOT / name).read_text()) for name in files}


def main() -> int:
    counts = count()
    for name, n in counts.items():
        print(f"{n:5d}  {name}")
    total = sum(counts.values())
    print(f"{total:5d}  total (limit: under {LIMIT})")
    return 0 if total < LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
