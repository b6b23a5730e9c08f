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


@needs_dynamo
def test_live_stack_on_loopback_bounded():
    """ONE bounded live run (~20 s): 1P/2D mocker workers on 70B B200 timing, two frontends (two router
    settings) over the same workers, closed-loop streaming load, /metrics TTFT vs the client's, all PIDs gone."""
    import os

    from gametheory.serving import dynamo_live as live
    from gametheory.serving.controller import histogram_quantile

    p = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    stack = live.LiveStack(d.timing_file_for(p), 1, 2, ((0.0, 1.0), (0.7, 1.0)), startup_timeout_s=60.0)
    with stack:
        pids = stack.pids()
        for k in (0, 1):
            before = live.scrape(stack.url(k))
            recs = live.closed_loop(stack.url(k), 6, 4.0, osl=32, seed=k)
            after = live.scrape(stack.url(k))
            ok = [r for r in recs if r.error is None]
            assert len(ok) == len(recs) >= 12, [r.error for r in recs if r.error][:3]
            # Every request went through 1 prefill and one of 2 decode workers, with >= osl streamed chunks.
            assert len({r.prefill_worker for r in ok}) == 1 and len({r.decode_worker for r in ok}) <= 2
            assert all(r.chunks >= 32 for r in ok)
            # ITL near the profile's decode step at small batch (real time on this loaded 2-core box: loose).
            itl = np.median([(r.end_ms - r.start_ms - r.ttft_ms) / (r.chunks - 1) for r in ok])
            assert 0.8 * p.decode_latency_ms[0, 0] < itl < 3.0 * p.decode_latency_ms[0, 5]
            # The frontend's histogram P99 agrees with the client's to within bucket resolution and HTTP overhead.
            server = 1e3 * histogram_quantile(0.99, before, after, live.TTFT_METRIC)
            client = live.client_ttft_p99_ms(recs)
            assert 0.3 * client < server < 2.0 * client, (server, client)
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
