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
    path = d.write_timing_file(p, tmp_path / "t.npz", source="measured")
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


@pytest.mark.parametrize("name", PROFILES)
def test_model_timing_file_holds_the_fitted_curves(name):
    p = load_profile(name)
    t = d.timing_tables(p, "model")
    i = int(np.searchsorted(t.prefill_isl, 128))
    assert t.prefill_ttft_ms[i] == pytest.approx(float(p.prefill_ms(t.prefill_isl[i])), rel=1e-12)
    j, c = 1, float(t.decode_context_length[1])
    k = int(np.searchsorted(t.decode_active_kv_tokens, 64 * c))
    assert t.decode_itl[k, j] == pytest.approx(float(p.decode_step_ms(t.decode_active_kv_tokens[k] / c, c)))
    with pytest.raises(InvalidInputError, match="source"):
        d.timing_tables(p, "nope")


def test_engine_args_come_from_the_engine_config():
    from gametheory.serving.engine import EngineConfig, paper_cluster

    cl = paper_cluster("340b_1p2d", EngineConfig(max_prefill_seqs=9, max_num_seqs=300, chunked_prefill=False))
    pre, dec = d.engine_args(cl, "prefill")["engine"], d.engine_args(cl, "decode")["engine"]
    assert (pre["max_num_seqs"], dec["max_num_seqs"]) == (9, 300)
    assert pre["max_num_batched_tokens"] == 8192 and pre["enable_chunked_prefill"] is False
    assert pre["enable_prefix_caching"] is True and pre["block_size"] == 16
    assert pre["kv_transfer_bandwidth"] == 50.0 and pre["kv_transfer_bytes_per_token"] == cl.profile.kv_bytes(1)
    with pytest.raises(InvalidInputError, match="worker_type"):
        d.engine_args(cl, "both")


def test_request_log_rebuilds_the_simulators_frozen_rows():
    # Independent check of the replay's request log: records written from a simulator log (arrival, decode
    # admission, end, worker) give back the simulator's own frozen model rows once the prefix cache is warm.
    from gametheory.serving.engine import paper_cluster
    from gametheory.serving.simulator import simulate
    from gametheory.serving.workload import paper_workload

    cl, wl = paper_cluster("70b_1p2d").with_engine(max_prefill_seqs=8), paper_workload(32)
    r = simulate(cl, wl, 64, 1200)
    log = r.log
    admit = log["end_ms"] - log["itl_ms"] * log["output_tokens"]
    recs = [{"arrival_time_ms": float(x["arrival_ms"]), "decode_admit_ms": float(a), "terminal_time_ms":
             float(x["end_ms"]), "decode_worker_idx": int(x["worker"]), "input_length": int(x["input_tokens"]),
             "output_length": int(x["output_tokens"]), "ttft_ms": float(x["ttft_ms"])}
            for x, a in zip(log, admit, strict=True)]
    got = d.request_log(recs, cl, wl)
    warm = 200  # by then every template's prefix is cached
    np.testing.assert_allclose(got["model_ms"][warm:], log["model_ms"][warm:], rtol=1e-9)
    np.testing.assert_allclose(got["model_ttft_ms"][warm:], log["model_ttft_ms"][warm:], rtol=1e-9)
    np.testing.assert_allclose(got["latency_ms"], log["latency_ms"], rtol=1e-12)
    with pytest.raises(InvalidInputError, match="finished"):
        d.request_log(recs[:1], cl, wl)


def test_replay_run_names_an_unknown_setup():
    with pytest.raises(InvalidInputError, match="setup: unknown name 'nope'.*70b_1p5d"):
        d.replay_run("nope", 16)


def test_live_actuator_names_a_setting_without_frontend(tmp_path):
    from gametheory.serving.dynamo_live import LiveActuator, LiveStack

    stack = LiveStack(tmp_path / "t.npz", 1, 2, ((0.0, 1.0), (0.7, 1.0)))  # never started: the check comes first
    act = LiveActuator(stack, (4,), "b200_llama31_70b_tp4_fp8_trtllm")
    with pytest.raises(InvalidInputError, match=r"\(tau, omega\) = \(0.8, 0.1\) has no frontend"):
        act.run_interval(0, 0.8, 0.1)


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
def test_replay_matches_the_simulator_on_the_same_engine_past_the_knee():
    # the cross-check of docs/dynamo.md in small: same cluster, same workload, one point past the knee
    from gametheory.serving.engine import paper_cluster
    from gametheory.serving.validation import sim_run
    from gametheory.serving.workload import paper_workload

    cl, wl = paper_cluster("70b_1p5d").with_engine(max_prefill_seqs=9), paper_workload(23)
    r = d.replay_run(cl, 256, workload=wl, n_requests=1500, keep_records=True)
    s = sim_run(cl, 256, workload=wl, n_requests=1500)
    assert r.throughput_rps == pytest.approx(s["throughput_rps"], rel=0.03)
    assert r.mean_latency_ms == pytest.approx(s["mean_latency_ms"], rel=0.03)
    assert r.poa_hat == pytest.approx(s["poa_hat"], rel=0.05) and r.poa_hat > 1.5
    assert {q["prefill_worker_idx"] for q in r.per_request} == {0}


@needs_dynamo
def test_replay_sweep_small_grid():
    rows = d.sweep("70b_1p5d", (16, 256), configs=((0.0, 1.0), (0.8, 0.1)), repeats=2, n_requests=600)
    assert len(rows) == 4
    for row in rows:
        assert row["poa_hat_lo"] <= row["poa_hat"] <= row["poa_hat_hi"]
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
