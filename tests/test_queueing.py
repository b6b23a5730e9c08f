import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.profiles import load_profile
from gametheory.serving.queueing import bounds, closed_loop, predicted_knee
from gametheory.serving.simulator import simulate
from gametheory.serving.workload import Workload

P = load_profile("b200_llama31_70b_tp4_fp8_trtllm")


def test_single_client_exact():
    r = closed_loop(P, 1, 1, input_tokens=128, output_tokens=64, link_gb_per_s=50.0)
    expect = float(P.prefill_ms(128)) + float(P.kv_transfer_ms(128, 50.0)) + 64 * float(P.decode_step_ms(1, 160))
    assert r.latency_ms[0] == pytest.approx(expect, rel=1e-12)
    assert r.throughput_rps[0] == pytest.approx(1e3 / expect)


def test_asymptotic_bounds_hold():
    cs = np.array([1, 8, 32, 128, 512, 1024])
    r = closed_loop(P, 5, cs, uncached_tokens=32)
    D, xmax, _ = bounds(P, 5, uncached_tokens=32)
    assert np.all(r.throughput_rps <= np.minimum(cs / D * 1e3, xmax) * (1 + 1e-9))
    assert np.all(np.diff(r.throughput_rps) > 0)
    assert predicted_knee(P, 5, uncached_tokens=32) == pytest.approx(r.knee)


def test_knee_is_demand_over_bottleneck_demand():
    # independent evaluation of C* = D / D_bottleneck from the profile, decode-bound case
    o, ctx = 256, 128 + 128
    bmax = min(4096, P.max_decode_batch(ctx))
    D = float(P.prefill_ms(32)) + float(P.kv_transfer_ms(128, 900.0)) + o * float(P.decode_step_ms(1, ctx))
    b = np.arange(1, bmax + 1)
    d_bott = o / (5 * np.max(b / P.decode_step_ms(b, ctx)))
    x_prefill = 1e3 / (float(P.prefill_ms(16384)) / 512)
    assert 1e3 / d_bott < x_prefill
    assert predicted_knee(P, 5, output_tokens=o, uncached_tokens=32) == pytest.approx(D / d_bott)


def test_agrees_with_simulator_below_saturation():
    wl = Workload(n_templates=5, prefix_tokens=96)
    s = simulate(P, 5, 64, 3000, workload=wl, warmup=500)
    a = closed_loop(P, 5, 64, uncached_tokens=32)
    assert a.throughput_rps[0] == pytest.approx(s.throughput_rps, rel=0.10)


def test_bad_input():
    with pytest.raises(InvalidInputError):
        closed_loop(P, 0, 4)


def test_negative_think_time_is_named():
    with pytest.raises(InvalidInputError, match="think_ms"):
        closed_loop(P, 2, 4, think_ms=-1.0)


def test_model_against_simulator_exact_at_one_client_and_close_below_the_knee():
    from gametheory.serving.validation import sim_vs_model

    rows = sim_vs_model(P, 5, (1, 8, 16), n_requests=2500, warmup=500)
    for name in ("throughput_rps", "ttft_mean_ms", "itl_mean_ms"):
        sim, model, _ = rows[0][name]
        assert model == pytest.approx(sim, rel=1e-9), name  # C = 1: nothing queues, the model is exact
    for row in rows[1:]:
        assert abs(row["throughput_rps"][2]) < 0.01 and abs(row["itl_mean_ms"][2]) < 0.01
        assert abs(row["ttft_mean_ms"][2]) < 0.12  # the model queues single requests, the simulator batches
