"""The one simulator against independent truth: closed forms (a request alone, M/D/1 at the prefill worker, a
deterministic serial bottleneck), conservation and Little's law, the analytic model at low load, and the
mechanics it claims (slots, chunked prefill, prefix caching, frozen model rows, resumability, bad input)."""

import math

import numpy as np
import pytest

from gametheory.errors import InvalidInputError, SimulationLimitError
from gametheory.serving.engine import Cluster, EngineConfig, paper_cluster
from gametheory.serving.router import BufferedUniforms, pick, selection_probabilities
from gametheory.serving.simulator import ClusterSim, simulate
from gametheory.serving.workload import Workload, paper_workload

C70 = paper_cluster("70b_1p5d")
P = C70.profile


def _cluster(n_p=1, n_d=5, link=900.0, **engine):
    return Cluster(P, n_p, n_d, link, EngineConfig(**engine), "test")


def test_deterministic_given_seed():
    a = simulate(C70, paper_workload(32), 16, 600, seed=7, tau=0.5)
    b = simulate(C70, paper_workload(32), 16, 600, seed=7, tau=0.5)
    np.testing.assert_array_equal(a.log, b.log)
    c = simulate(C70, paper_workload(32), 16, 600, seed=8, tau=0.5)
    assert not np.array_equal(a.log["worker"], c.log["worker"])


def test_single_client_matches_closed_form():
    # C = 1, one decode worker, no shared prefix: response = prefill(128) + transfer(128) + 64 steps at batch 1;
    # TTFT = prefill + transfer + one step; ITL = one step.
    wl = Workload(n_templates=1, output_tokens=(64, 64), prefix_tokens=0)
    r = simulate(_cluster(n_d=1, link=50.0), wl, 1, 50)
    ctx = 128 + 32
    step = float(P.decode_step_ms(1, ctx))
    base = float(P.prefill_ms(128)) + float(P.kv_transfer_ms(128, 50.0))
    np.testing.assert_allclose(r.log["latency_ms"], base + 64 * step, rtol=1e-9)
    np.testing.assert_allclose(r.log["ttft_ms"], base + step, rtol=1e-9)
    np.testing.assert_allclose(r.log["itl_ms"], step, rtol=1e-9)
    assert r.throughput_rps == pytest.approx(1e3 / (base + 64 * step), rel=1e-6)


def test_md1_sojourn_at_the_serial_prefill_worker():
    # Open Poisson arrivals at rate lambda, one prefill worker serving one request per pass in D ms: the mean time
    # from arrival to the end of prefill is the M/D/1 sojourn D + lambda D^2 / (2 (1 - lambda D)) (Pollaczek-
    # Khinchine). The decode pool has slots to spare and does not feed back.
    d = float(P.prefill_ms(128))
    lam = 0.7 / d  # per ms: rho = 0.7
    wl = Workload(n_templates=1, output_tokens=(8, 8), prefix_tokens=0, arrival_rate_per_s=lam * 1e3)
    r = simulate(_cluster(max_prefill_seqs=1), wl, 1, 60_000, warmup=2000, seed=3)
    body = r.log[2000:]
    sojourn = float((body["prefill_done_ms"] - body["arrival_ms"]).mean())
    expect = d + lam * d * d / (2 * (1 - lam * d))
    assert sojourn == pytest.approx(expect, rel=0.03)


def test_deterministic_serial_bottleneck_and_littles_law():
    # Closed loop far past the knee with serial prefill: the prefill worker never idles, so the throughput is
    # exactly 1 / prefill(32 uncached tokens); Little's law C = X (R + Z) holds for the steady flow.
    c = 400
    r = simulate(_cluster(max_prefill_seqs=1), paper_workload(16), c, 2 * c + 6000, warmup=2 * c)
    assert r.throughput_rps == pytest.approx(1e3 / float(P.prefill_ms(32)), rel=0.005)
    assert r.throughput_rps / 1e3 * r.mean_latency_ms == pytest.approx(c, rel=0.02)
    wl = paper_workload(16, think_ms=200.0)
    r = simulate(_cluster(), wl, 64, 6000, warmup=500, seed=2)
    assert r.throughput_rps / 1e3 * (r.mean_latency_ms + 200.0) == pytest.approx(64, rel=0.03)


def test_conservation_and_c_clients_in_flight():
    sim = ClusterSim(C70, paper_workload(32), 48, None, seed=1)
    for t in (500.0, 2000.0, 5000.0):
        sim.run_until(t)
        end = np.asarray(sim.end[: sim.n_sent])
        assert sim.n_sent - int(np.count_nonzero(~np.isnan(end))) == 48
    sim.drain()
    log = sim.log()
    assert not np.isnan(log["end_ms"]).any()  # every request sent finishes, once
    assert np.all(log["end_ms"] >= log["arrival_ms"] + log["ttft_ms"] - 1e-9)
    np.testing.assert_array_equal(np.bincount(log["prefill_worker"], minlength=1), [log.size])


def test_analytic_model_exact_alone_and_close_at_low_load():
    from gametheory.serving.validation import sim_vs_model

    wl = Workload(n_templates=1, output_tokens=(32, 32))  # one template: the only cold prefill is in the warm-up
    rows = sim_vs_model(_cluster(max_prefill_seqs=8), (1, 8, 16), workload=wl, n_requests=2500)
    for name in ("ttft_mean_ms", "itl_mean_ms"):
        sim, model, _ = rows[0][name]
        assert model == pytest.approx(sim, rel=1e-6), name  # C = 1: nothing queues
    assert abs(rows[0]["throughput_rps"][2]) < 0.002  # one completion more or less at the window's edges
    for row in rows[1:]:  # approximate MVA: it queues requests the deterministic closed loop keeps in step
        assert abs(row["throughput_rps"][2]) < 0.05 and abs(row["itl_mean_ms"][2]) < 0.01


def test_slot_limit_holds_and_makes_requests_wait():
    r = simulate(_cluster(n_d=2, max_num_seqs=3), paper_workload(32), 40, 600, seed=1)
    log = r.log
    join = log["end_ms"] - log["itl_ms"] * log["output_tokens"]
    for w in range(2):
        on = log["worker"] == w
        ev = sorted([(e, -1) for e in log["end_ms"][on]] + [(s, 1) for s in join[on]])
        assert max(np.cumsum([d for _, d in ev])) <= 3
    free = simulate(_cluster(n_d=2), paper_workload(32), 40, 600, seed=1)
    assert np.percentile(log["ttft_ms"], 50) > 3 * np.percentile(free.log["ttft_ms"], 50)


def test_chunked_prefill_splits_a_prompt_across_steps():
    wl = Workload(n_templates=1, output_tokens=(4, 4), prefix_tokens=0)
    chunked = simulate(_cluster(n_d=1, max_num_batched_tokens=100), wl, 1, 3)
    whole = simulate(_cluster(n_d=1, max_num_batched_tokens=100, chunked_prefill=False), wl, 1, 3)
    first = chunked.log["prefill_done_ms"][0]
    assert first == pytest.approx(float(P.prefill_ms(100)) + float(P.prefill_ms(28)), rel=1e-9)
    assert whole.log["prefill_done_ms"][0] == pytest.approx(float(P.prefill_ms(128)), rel=1e-9)  # runs alone


def test_prefix_caching_on_the_prefill_worker():
    wl = paper_workload(16)
    on = simulate(_cluster(max_prefill_seqs=1), wl, 1, 40)
    off = simulate(_cluster(max_prefill_seqs=1, prefix_caching=False), wl, 1, 40)
    seen = set()
    for t, cached in zip(on.log["template"], on.log["cached_tokens"], strict=True):
        assert cached == (96 if t in seen else 0)  # cached once the template's first prefill completed
        seen.add(t)
    assert (off.log["cached_tokens"] == 0).all()
    assert on.mean_latency_ms < off.mean_latency_ms


def test_frozen_model_rows():
    # The first window meets an empty cluster: every row is prefill(128 uncached) + transfer + O steps at batch 1.
    # Within a window the rows of requests with the same template and lengths are identical (one frozen state).
    wl = paper_workload(32)
    r = simulate(C70, wl, 64, 2000)
    steps = C70.step_table(wl.mean_context)
    base = float(P.prefill_ms(128)) + float(P.kv_transfer_ms(128, 900.0))
    np.testing.assert_allclose(r.log["model_ms"][0], base + 32 * steps[1], rtol=1e-12)
    np.testing.assert_allclose(r.log["model_ttft_ms"][0], base + steps[1], rtol=1e-12)
    late = r.log[1000:1500]
    for w in np.unique(late["window"]):
        rows = late[late["window"] == w]
        for tpl in np.unique(rows["template"]):
            same = rows["model_ms"][rows["template"] == tpl]
            np.testing.assert_array_equal(same, np.broadcast_to(same[0], same.shape))
    # steady state below the knee: realized is close to the frozen model, PoA-hat near 1
    assert 0.95 < simulate(C70, wl, 32, 3000, warmup=64).poa_hat().value < 1.3


@pytest.mark.parametrize("kw", [dict(concurrency=16, n_requests=600, seed=7, tau=0.5),
                                dict(concurrency=40, n_requests=800, seed=3, omega=0.1, tau=0.8),
                                dict(concurrency=24, n_requests=500, seed=2, policy="least_loaded")])
def test_paused_run_reproduces_the_one_shot_run(kw):
    ref = simulate(_cluster(n_p=2, n_d=3), paper_workload(32), **kw).log
    sim = ClusterSim(_cluster(n_p=2, n_d=3), paper_workload(32), **kw)
    for t in (137.0, 900.0, 2500.5):
        sim.run_until(t)
    sim.run_until()
    got = sim.log()
    for f in got.dtype.names:
        np.testing.assert_array_equal(ref[f], got[f], err_msg=f)


def test_two_prefill_workers_double_a_prefill_bound_throughput():
    wl = paper_workload(16)
    one = simulate(_cluster(1, 4, max_prefill_seqs=1), wl, 300, 4600, warmup=600)
    two = simulate(_cluster(2, 4, max_prefill_seqs=1), wl, 300, 4600, warmup=600)
    assert two.throughput_rps == pytest.approx(2 * one.throughput_rps, rel=0.02)
    assert set(np.unique(two.log["prefill_worker"])) == {0, 1}


def test_policies():
    rr = simulate(C70, paper_workload(32), 32, 500, policy="round_robin")
    np.testing.assert_array_equal(rr.log["worker"], np.arange(500) % 5)
    for pol in ("random", "least_loaded", "dynamo"):
        r = simulate(C70, paper_workload(32), 32, 500, policy=pol)
        assert set(np.unique(r.log["worker"])) == set(range(5))


def test_pick_matches_dynamos_selection_distribution():
    rng = np.random.default_rng(0)
    uniform = BufferedUniforms(np.random.default_rng(1))
    for tau in (0.0, 0.3, 1.0):
        costs = [3.0, 1.0, 1.0, 2.5]
        p = selection_probabilities(costs, tau)
        draws = np.bincount([pick(costs, tau, uniform) for _ in range(40_000)], minlength=4) / 40_000
        np.testing.assert_allclose(draws, p, atol=0.01)
    assert pick([2.0, 2.0], 0.0, lambda: 0.99) == 1 and pick([5.0, 1.0], 0.7, lambda: 0.0) == 0
    del rng


@pytest.mark.parametrize("kw, field", [(dict(warmup=10), "warmup"), (dict(warmup=-1), "warmup"),
                                       (dict(omega=-0.5), "omega"), (dict(tau=float("nan")), "tau"),
                                       (dict(policy="sglang"), "policy"), (dict(concurrency=0), "concurrency"),
                                       (dict(n_requests=0), "n_requests")])
def test_bad_input_names_the_field(kw, field):
    with pytest.raises(InvalidInputError, match=field):
        simulate(C70, paper_workload(32), **{"concurrency": 2, "n_requests": 10, **kw})


def test_event_bound_stops_a_run():
    with pytest.raises(SimulationLimitError, match="events"):
        simulate(C70, paper_workload(32), 8, 1000, max_events=50)
    with pytest.raises(InvalidInputError, match="cluster"):
        ClusterSim(P, paper_workload(32))
    with pytest.raises(InvalidInputError, match="t_end_ms"):
        ClusterSim(C70).run_until(math.nan)
