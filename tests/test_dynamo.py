"""NVIDIA Dynamo adapter: profile -> mocker timing file, and the real KV router on the replay's clock.

Skips only when ``dynamo`` (ai-dynamo 1.6.1, installed by ``make dynamo``, a dependency of ``make test``)
is not importable; the timing-file tests need nothing but numpy.
"""

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving import dynamo as d
from gametheory.serving.profiles import load_profile

PROFILES = ("b200_llama31_70b_tp4_fp8_trtllm", "b200_nemotron4_340b_tp8_fp8_vllm")
needs_dynamo = pytest.mark.skipif(not d.dynamo_available(), reason="ai-dynamo 1.6.1 not installed (make dynamo)")


@pytest.mark.parametrize("name", PROFILES)
def test_timing_file_round_trip(name, tmp_path):
    p = load_profile(name)
    path = d.write_timing_file(p, tmp_path / "t.npz")
    t = d.read_timing_file(path)
    # Every measured point is reproduced exactly by the mocker's lookup on the written grid.
    err = d.round_trip_error(p, t)
    assert err["prefill_max_rel"] < 1e-12 and err["decode_max_rel"] < 1e-12
    # Grids are sorted and the table is monotone in load along the kv axis for each context (batch grows).
    assert np.all(np.diff(t.prefill_isl) > 0) and np.all(np.diff(t.decode_active_kv_tokens) > 0)
    assert t.decode_itl.shape == (t.decode_active_kv_tokens.size, t.decode_context_length.size)
    # Independent spot check against the raw table: batch 4 at the second context.
    c, b = p.decode_context[1], p.decode_batch[3]
    assert d.lookup_decode_ms(t, b * c, b) == pytest.approx(p.decode_latency_ms[1, 3])


def test_read_timing_file_names_missing_keys(tmp_path):
    np.savez(tmp_path / "bad.npz", prefill_isl=np.arange(3.0))
    with pytest.raises(InvalidInputError, match="decode_itl"):
        d.read_timing_file(tmp_path / "bad.npz")


@needs_dynamo
@pytest.mark.parametrize("name", PROFILES)
def test_replay_reproduces_profile_times(name):
    chk = d.replay_timing_check(load_profile(name))
    assert chk["ttft_rel"] < 0.05, chk
    assert chk["itl_rel"] < 0.05, chk


@needs_dynamo
def test_request_log_shapes_and_choices():
    r = d.replay_run("70b_1p2d", 32, n_requests=200, seed=0, keep_records=True, with_poa=False)
    p = load_profile(d.SETUPS["70b_1p2d"].profile)
    log = d.request_log(r.per_request, p, 2, 128)
    assert log.costs.shape == (200, 2) and log.window == 2
    assert set(np.unique(log.choices)) <= {0, 1}
    assert sorted(log.choices.tolist()) == sorted(q["decode_worker_idx"] for q in r.per_request)
    # First window: empty system, so each cost is 128 output tokens x the batch-1 step at context 128.
    assert log.costs[0] == pytest.approx([128 * p.decode_latency_ms[0, 0]] * 2)
    # Later windows see busy workers (batch > 1): the largest cost exceeds the empty-system cost.
    assert log.costs.max() > log.costs[0, 0]


@needs_dynamo
def test_replay_poa_hat_small_grid():
    pytest.importorskip("gametheory.serving.estimator")
    rows = d.sweep("70b_1p5d", (16, 256), configs=((0.0, 1.0), (0.8, 0.1)), repeats=2, n_requests=300)
    assert len(rows) == 4
    for row in rows:
        assert np.isfinite(row["poa_hat"]) and 0.5 < row["poa_hat"] < 5.0
        assert row["ttft_p50_ms"] <= row["ttft_p99_ms"]
        assert row["throughput_rps"] > 0
    by_c = {row["concurrency"]: row for row in rows if row["tau"] == 0.0}
    # Closed loop: more concurrency -> more throughput and longer TTFT tails (single prefill worker queue).
    assert by_c[256]["throughput_rps"] > by_c[16]["throughput_rps"]
    assert by_c[256]["ttft_p99_ms"] > by_c[16]["ttft_p99_ms"]
