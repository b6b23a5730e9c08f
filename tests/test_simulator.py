import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.estimator import poa_hat_log
from gametheory.serving.profiles import load_profile
from gametheory.serving.simulator import simulate
from gametheory.serving.workload import Workload

P = load_profile("b200_llama31_70b_tp4_fp8_trtllm")


def test_deterministic_given_seed():
    a = simulate(P, 3, 16, 600, seed=7, tau=0.5)
    b = simulate(P, 3, 16, 600, seed=7, tau=0.5)
    np.testing.assert_array_equal(a.log, b.log)
    c = simulate(P, 3, 16, 600, seed=8, tau=0.5)
    assert not np.array_equal(a.log["worker"], c.log["worker"])


def test_littles_law_closed_loop():
    C = 48
    r = simulate(P, 5, C, 4000, seed=1, warmup=500)
    # Little: mean number in system (= C with zero think time) = throughput x mean response time
    assert r.throughput_rps / 1e3 * r.mean_latency_ms == pytest.approx(C, rel=0.03)


def test_single_client_matches_closed_form():
    # C = 1, one worker, no shared prefix: the response time is exactly
    # prefill(128) + transfer(128) + 64 decode steps at batch 1.
    wl = Workload(n_templates=1, input_tokens=(128, 128), output_tokens=(64, 64), prefix_tokens=0)
    r = simulate(P, 1, 1, 50, workload=wl, link_gb_per_s=50.0)
    ctx = 128 + 32
    expect = float(P.prefill_ms(128)) + float(P.kv_transfer_ms(128, 50.0)) + 64 * float(P.decode_step_ms(1, ctx))
    assert r.mean_latency_ms == pytest.approx(expect, rel=1e-9)
    assert r.throughput_rps == pytest.approx(1e3 / expect, rel=1e-6)


def test_policies_and_log_feed_estimator():
    for pol in ("dynamo", "dynamo_credit", "round_robin", "random", "least_loaded", "sglang"):
        r = simulate(P, 5, 32, 500, policy=pol, cache_rule="frequency" if pol == "random" else "lru")
        assert r.log["costs"].shape == (500, 5)
        assert np.isfinite(poa_hat_log(r.log).value)
    rr = simulate(P, 5, 32, 500, policy="round_robin")
    np.testing.assert_allclose(rr.worker_share, 0.2)


def test_bad_policy():
    with pytest.raises(InvalidInputError):
        simulate(P, 2, 2, 10, policy="nope")
