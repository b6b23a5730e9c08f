"""The analytic closed-loop model: exact alone, the operational bounds hold, the knee formula, named errors."""

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.engine import Cluster, EngineConfig, paper_cluster
from gametheory.serving.queueing import analytic_knee, closed_loop, saturation
from gametheory.serving.workload import Workload, paper_workload

C70 = paper_cluster("70b_1p5d")
P = C70.profile


def test_single_client_exact():
    cl = Cluster(P, 1, 1, 50.0, EngineConfig(), "t")
    wl = Workload(n_templates=1, output_tokens=(64, 64), prefix_tokens=0)
    r = closed_loop(cl, 1, wl)
    expect = float(P.prefill_ms(128)) + float(P.kv_transfer_ms(128, 50.0)) + 64 * float(P.decode_step_ms(1, 160))
    assert r.latency_ms[0] == pytest.approx(expect, rel=1e-12)
    assert r.throughput_rps[0] == pytest.approx(1e3 / expect)
    assert r.bounds.demand_ms == pytest.approx(expect, rel=1e-12)


def test_asymptotic_bounds_hold():
    cs = np.array([1, 8, 32, 128, 512, 1024])
    cl = C70.with_engine(max_prefill_seqs=8)
    r = closed_loop(cl, cs, paper_workload(32))
    b = r.bounds
    assert np.all(r.throughput_rps <= np.minimum(cs / b.demand_ms * 1e3, b.max_throughput_rps) * (1 + 1e-9))
    assert np.all(np.diff(r.throughput_rps) >= 0) and r.throughput_rps[-1] == pytest.approx(b.max_throughput_rps)


def test_capacities_from_the_profile_independently():
    # prefill-bound: 9 requests of 32 uncached tokens per step
    cl = C70.with_engine(max_prefill_seqs=9)
    s = saturation(cl, paper_workload(23))
    assert s.uncached_tokens == 32 and s.prefill_batch == 9
    assert s.prefill_rps == pytest.approx(9e3 / float(P.prefill_ms(9 * 32)), rel=1e-9)
    b = np.arange(1.0, 1025.0)
    ctx = 128 + 23 / 2
    assert s.decode_rps == pytest.approx(5e3 * np.max(b / (23 * P.decode_step_ms(b, ctx))), rel=1e-9)
    assert s.bottleneck == "prefill"
    # serial prefill with light decode batches: the knee is the Denning-Buzen crossing D X_max up to the decode
    # batch's slower step
    s1 = saturation(C70.with_engine(max_prefill_seqs=1), paper_workload(150))
    assert s1.knee_lower <= s1.knee <= 1.1 * s1.knee_lower


def test_knee_grows_with_output_length_and_layout_moves_it_only_through_decode():
    wl = [paper_workload(o) for o in (8, 32, 128)]
    cl = C70.with_engine(max_prefill_seqs=9)
    k = [analytic_knee(cl, w) for w in wl]
    assert k[0] < k[1] < k[2]
    two = paper_cluster("70b_1p2d", cl.engine)
    assert analytic_knee(two, wl[1]) >= analytic_knee(cl, wl[1])  # same prefill, busier decode workers


def test_bad_input():
    with pytest.raises(InvalidInputError, match="concurrency"):
        closed_loop(C70, 0)
    with pytest.raises(InvalidInputError, match="arrival_rate_per_s"):
        saturation(C70, paper_workload(32, arrival_rate_per_s=10.0))
    with pytest.raises(InvalidInputError, match="cluster"):
        saturation(P, paper_workload(32))
