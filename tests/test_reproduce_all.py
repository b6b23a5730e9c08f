"""`gametheory reproduce` (what `make demo` runs) end to end on the default grids: every section runs, the
summary is valid JSON, and the paper table reads every section's summary (no 'not run' cells)."""

from __future__ import annotations


def test_reproduce_runs_every_section(reproduce_run):
    summary, out, out_dir = reproduce_run
    expected = {"latency", "resource", "caching", "routing", "regimes", "coupled", "dynamo", "paper"}
    assert expected <= set(summary)
    paper_table = out[out.index("Paper vs ours"):]
    assert "not run" not in paper_table
    assert list(out_dir.glob("*.png"))
