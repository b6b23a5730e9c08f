"""`gametheory reproduce` (what `make demo` runs) end to end on the default grids: every section runs, the
summary is valid JSON, and the paper table reads every section's summary (no 'not run' cells)."""

from __future__ import annotations

import json

from gametheory.cli import main


def test_reproduce_runs_every_section(tmp_path, capsys):
    assert main(["reproduce", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text())
    expected = {"latency", "resource", "caching", "routing", "regimes", "coupled", "dynamo", "paper"}
    assert expected <= set(summary)
    paper_table = out[out.index("Paper vs ours"):]
    assert "not run" not in paper_table
    assert list(tmp_path.glob("*.png"))
