"""The Game 1 reproduce section on the shipped B200 profile: runs end to end, and its numbers obey the
model's own identities (certificates, PoA >= 1, the optimum never worse than a fixed layout, the knee
N* = X_max R_0 and the one-worker capacity 1000 / service time)."""

from __future__ import annotations

import math

import pytest

from gametheory.reproduce import resource
from gametheory.serving import game1


def test_resource_section_runs_and_is_consistent(tmp_path):
    section = resource.run(tmp_path)
    assert [f.name for f in section.figures] == ["resource_split.png"] and section.figures[0].exists()
    rows = section.summary["rows"]
    feasible = [r for r in rows if r["feasible"]]
    assert len(feasible) >= 5
    for r in feasible:
        assert r["certificates"] < 1e-7
        assert r["poa"] >= 1.0 and r["poa_int"] >= 1.0
        assert r["opt_ttft_ms"] >= r["eq_ttft_ms"]  # the equilibrium over-provisions prefill
    assert section.summary["poa_max"] == max(r["poa"] for r in feasible)
    for row in section.summary["layouts"]:
        for name in game1.LAYOUTS:
            ratio = row[f"{name}_vs_opt"]
            assert math.isnan(ratio) or ratio >= 1.0 - 1e-12
    for knee in section.summary["prefill_knee"]:
        # Game 1's knee is the engine model's: the pools' saturation rates and the full-batch response time
        assert knee["one_prefill_worker_rps"] == pytest.approx(1000.0 / knee["service_ms"], rel=1e-5)
        x_max = min(knee["one_prefill_worker_rps"], knee["five_decode_workers_rps"])
        assert knee["knee_concurrency"] == pytest.approx(x_max * knee["full_batch_latency_ms"] / 1000.0, rel=1e-12)
        assert knee["knee_concurrency"] == pytest.approx(knee["knee_analytic"], rel=1e-5)
    # each row says what it is: the two rows of the calibration family land in the paper's (96, 128], the
    # sensitivity row (vLLM's default batching, not calibrated) is marked as such and left out of the claims
    roles = {k["engine"]: k for k in section.summary["prefill_knee"]}
    for name in ("calibrated", "serial prefill"):
        assert 96 < roles[name]["knee_concurrency"] <= 128, roles[name]
    assert roles["serial prefill"]["max_prefill_seqs"] == 1 and roles["serial prefill"]["output_tokens"] > 100
    assert roles["vLLM default batching"]["role"].startswith("sensitivity")
    assert roles["vLLM default batching"]["knee_concurrency"] > 128
