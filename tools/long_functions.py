"""Functions in src/pinnbalance longer than a limit (default 60 lines, docstring included).

python tools/long_functions.py [LIMIT]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def long_functions(limit: int = 60) -> list[tuple[str, str, int]]:
    """``(file, function, lines)`` for every function or method over ``limit`` lines."""
    out = []
    for path in sorted((ROOT / "src" / "pinnbalance").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    out.append((str(path.relative_to(ROOT)), node.name, lines))
    return out


if __name__ == "__main__":
    found = long_functions(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
    for file, name, lines in found:
        print(f"{lines:4d}  {file}:{name}")
    raise SystemExit(1 if found else 0)
