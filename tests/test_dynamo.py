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


def _by_hand_poa_hat(per_request, profile, m, osl):
    """PoA-hat recomputed from the raw replay records without request_log or the estimator: frozen state of
    each window rebuilt from admission/terminal times, costs from the timing table, OPT by
    scipy.optimize.linear_sum_assignment per window, ratio of sums."""
    from scipy.optimize import linear_sum_assignment

    t = d.timing_tables(profile)
    recs = sorted((r for r in per_request if r.get("decode_admit_ms") is not None), key=lambda r: r["decode_admit_ms"])
    n = len(recs) - len(recs) % m
    actual = opt = 0.0
    bounds = []
    for s in range(0, n, m):
        t0 = recs[s]["decode_admit_ms"]
        busy = [r for r in recs[:s] if r["terminal_time_ms"] > t0]
        c = np.empty((m, m))
        for i, req in enumerate(recs[s:s + m]):
            for w in range(m):
                on = [r for r in busy if r["decode_worker_idx"] == w]
                kv = sum(r["input_length"] + 0.5 * r["output_length"] for r in on) + req["input_length"] + 0.5 * osl
                c[i, w] = osl * d.lookup_decode_ms(t, kv, len(on) + 1)
        rows, cols = linear_sum_assignment(c)
        opt += c[rows, cols].sum()
        actual += sum(c[i, req["decode_worker_idx"]] for i, req in enumerate(recs[s:s + m]))
        bounds.append((c[0].min() / c[0].mean(), c[0].max() / c[0].mean()))
    return actual / opt, np.array(bounds)


@needs_dynamo
def test_replay_poa_hat_matches_a_by_hand_hungarian_and_the_cost_model_bound():
    setup = d.SETUPS["70b_1p5d"]
    p = load_profile(setup.profile)
    r = d.replay_run("70b_1p5d", 96, n_requests=300, seed=1, keep_records=True)
    want, bounds = _by_hand_poa_hat(r.per_request, p, setup.n_decode, 128)
    assert r.poa_hat == pytest.approx(want, rel=1e-12)
    # Cost model (request_log docstring): equal input lengths -> every row of a window is the same cost vector
    # c_w, OPT = sum_w c_w is fixed, and min_w c_w / mean_w c_w <= PoA-hat <= max_w c_w / mean_w c_w.
    log = d.request_log(r.per_request, p, setup.n_decode, 128)
    win = log.costs.reshape(-1, setup.n_decode, setup.n_decode)
    assert np.all(win == win[:, :1, :])
    assert bounds[:, 0].min() - 1e-12 <= r.poa_hat <= bounds[:, 1].max() + 1e-12
    assert bounds[:, 1].max() > 1.0  # the pool was not perfectly balanced in every window: the check has teeth


def test_request_log_uses_each_requests_input_length():
    # Synthetic records: two requests busy on worker 0, then one window of two requests of different lengths.
    p = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    t = d.timing_tables(p)
    busy = [{"decode_admit_ms": float(k), "terminal_time_ms": 1e9, "decode_worker_idx": 0, "input_length": 128,
             "output_length": 128} for k in range(2)]
    new = [{"decode_admit_ms": 10.0 + k, "terminal_time_ms": 1e9, "decode_worker_idx": k, "input_length": isl,
            "output_length": 128} for k, isl in enumerate((128, 4096))]
    log = d.request_log(busy + new, p, 2, 128)
    # window 2 (rows 2, 3) is frozen at t = 10: worker 0 holds both busy requests, worker 1 is idle.
    for row, isl in ((2, 128), (3, 4096)):
        assert log.costs[row, 0] == pytest.approx(128 * d.lookup_decode_ms(t, 2 * 192 + isl + 64, 3))
        assert log.costs[row, 1] == pytest.approx(128 * d.lookup_decode_ms(t, isl + 64, 1))
    assert log.costs[3, 1] > log.costs[2, 1]  # the long prompt costs more on the same worker


@needs_dynamo
def test_replay_sweep_small_grid():
    rows = d.sweep("70b_1p5d", (16, 256), configs=((0.0, 1.0), (0.8, 0.1)), repeats=2, n_requests=300)
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
