"""Run the README's Python examples in order, so the tour cannot drift from the API."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    out = capsys.readouterr().out.splitlines()
    assert out[2].split()[0] == "1.333333"  # Pigou: PoA 4/3
    assert abs(float(out[-1].split()[0]) - 90 / 50) < 1e-12  # the PoA-hat example: (60 + 30) / (20 + 30)
