"""docs/geometry.md: every python block runs as printed, in order, in one fresh namespace."""

import re
from pathlib import Path

GUIDE = Path(__file__).parents[2] / "docs" / "geometry.md"


def test_guide_blocks_run():
    text = GUIDE.read_text()
    blocks = [(m.start(1), m.group(1)) for m in re.finditer(r"^```python\n(.*?)^```$", text, flags=re.M | re.S)]
    assert len(blocks) == 2
    namespace: dict = {}
    for start, code in blocks:
        exec(compile("\n" * text[:start].count("\n") + code, str(GUIDE), "exec"), namespace)  # line numbers are the guide's
    assert namespace["residuals"].shape == (256,)
