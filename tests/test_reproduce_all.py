"""`gametheory reproduce` (what `make demo` runs) end to end on the default grids: every section runs, the
summary is valid JSON, and the paper table reads every section's summary (no 'not run' cells)."""

from __future__ import annotations


def test_reproduce_runs_every_section(reproduce_run):
    summary, out, out_dir = reproduce_run
    expected = {"latency", "resource", "caching", "routing", "regimes", "experiment3", "coupled", "dynamo", "paper"}
    assert expected <= set(summary)
    paper_table = out[out.index("Paper vs ours"):]
    assert "not run" not in paper_table
    assert list(out_dir.glob("*.png"))


SETUPS = ("340b_1p2d", "70b_1p2d", "70b_1p5d")


def test_summary_contract_of_the_regimes_and_experiment3_sections(reproduce_run):
    # keys other tools read (issue "The paper's three regimes, from one engine model")
    summary, out, _ = reproduce_run
    reg, e3 = summary["regimes"], summary["experiment3"]  # the path: section -> setup -> key
    for name, section in summary.items():  # the earlier layout stays readable, with the same figures
        assert {k: section[k] for k in section["summary"]} == section["summary"], name
    cal = reg["calibration"]
    assert set(cal["parameters"]) == {"max_prefill_seqs", "output_tokens"} and isinstance(cal["observation"], str)
    for setup in SETUPS:
        s = reg[setup]
        lo, hi = s["knee_c_interval"]
        assert lo <= s["knee_c"] <= hi and s["knee_c_analytic"] > 0
        n = len(s["concurrency"])
        assert {64, 96, 128} <= set(s["concurrency"]) and max(s["concurrency"]) >= 8 * s["knee_c_analytic"]
        for key in ("poa_hat", "ttft_p99_ms", "itl_p50_ms", "throughput_rps"):
            assert len(s[key]) == n and all(v > 0 for v in s[key]), key
        e = e3[setup]
        for key in ("static_poa_hat", "adaptive_poa_hat", "throughput_change", "ttft_p99_static_ms",
                    "ttft_p99_adaptive_ms"):
            assert isinstance(e[key], float), key
    assert "predictions vs the paper" in out and "FAILS" in out  # failed predictions are said plainly


def test_each_section_records_its_time_and_grid(reproduce_run):
    # the per-section bar's ETA reads the previous run's times of the same grid (default or --full)
    summary, _, _ = reproduce_run
    for name, section in summary.items():
        assert section["seconds"] >= 0 and section["full"] is False, name
        assert section["cpu_seconds"] >= 0 and (section["load_average"] is None or section["load_average"] >= 0), name


def test_each_section_record_holds_the_fields_docs_index_lists(reproduce_run):
    # docs/index.md states the layout: key figures at the top level, next to exactly these record fields
    summary, _, _ = reproduce_run
    fields = {"title", "seconds", "cpu_seconds", "load_average", "full", "tables", "figures", "notes", "summary"}
    for name, section in summary.items():
        assert set(section) - set(section["summary"]) == fields, name
    assert summary["regimes"]["70b_1p5d"]["knee_c"] > 0  # the example path docs/index.md names
