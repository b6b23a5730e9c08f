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


def test_demo_blocks_are_generated_from_a_run_summary(tmp_path):
    # the README's demo tables and run time are written by docs/figures/make_readme.py from one summary.json
    import importlib.util

    path = README.parent / "docs" / "figures" / "make_readme.py"
    spec = importlib.util.spec_from_file_location("make_readme", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    text = README.read_text()
    for begin, end in mod.BLOCKS.values():
        assert text.index(begin) < text.index(end)
    summary = {"latency": {"seconds": 2.0}, "paper": {"seconds": 0.5, "tables": [
        {"columns": ["claim", "paper", "ours", "source"], "rows": [["a", "b", "c", "latency"]]},
        {"columns": ["claim", "paper", "ours", "verdict", "source"], "rows": [["d", "e", "f", "holds", "regimes"]]}]}}
    blocks = mod.blocks(summary)
    assert "| a | b | c | latency |" in blocks["claims"]
    assert "| d | e | f | holds |" in blocks["predictions"] and "took 2 s of wall time" in blocks["predictions"]
    assert "s of CPU" not in blocks["predictions"]  # an older summary without CPU times: none invented
    summary["latency"].update(cpu_seconds=1.5, load_average=0.4)
    summary["paper"].update(cpu_seconds=0.25, load_average=1.2)
    timed = mod.blocks(summary)["predictions"]
    assert "2 s of CPU" in timed and "load average 0.4-1.2" in timed
    copy = tmp_path / "README.md"
    copy.write_text(text)
    mod.write(copy, blocks)
    again = copy.read_text()
    assert "| a | b | c | latency |" in again and again.count("<!-- demo:claims -->") == 1
