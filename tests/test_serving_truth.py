"""The serving model against truth computed here, independently of the package's code:

- a second discrete-event simulation of the same closed loop (one batched FIFO prefill worker with a prefix
  cache, Dynamo's decode router, m continuous-batching decode workers), written from scratch in this file and
  sharing nothing with ``gametheory.serving.simulator`` but the step-time tables;
- the operational laws on the calibrated engine: the bottleneck law X <= X_max with X_max = b / prefill(b u) for
  a batched prefill worker, Little's law, and the asymptotic bounds of mean value analysis
  X(C) <= min(C / D, X_max), R(C) >= max(D, C / X_max) (Denning and Buzen 1978);
- the paper-form PoA-hat of simulator logs by brute force over every assignment of each window;
- the limits that keep every run bounded (named errors, never a hang or a MemoryError).
"""

import heapq
import itertools
import math
import random

import numpy as np
import pytest

from gametheory.errors import InvalidInputError, SimulationLimitError
from gametheory.serving.engine import EngineConfig, paper_cluster
from gametheory.serving.estimator import poa_hat
from gametheory.serving.experiments import adaptive_vs_static
from gametheory.serving.queueing import MAX_POPULATION, closed_loop, saturation
from gametheory.serving.sim_actuator import SimulatorActuator
from gametheory.serving.simulator import MAX_REQUESTS, ClusterSim, simulate
from gametheory.serving.workload import Workload, paper_workload


def reference_closed_loop(prefill_ms, step_ms, transfer_ms, m, concurrency, *, batch, budget_tokens, input_tokens,
                          prefix_tokens, output_tokens, templates, n_requests, warmup, seed):
    """Mean response time (ms) and throughput (requests/s) of the closed loop, simulated from scratch.

    One prefill worker: FIFO, a step takes up to ``batch`` requests and ``budget_tokens`` new tokens; a request's
    new tokens are ``input_tokens - prefix_tokens`` when its template's prefix is cached at the moment its step
    is formed (the template is cached when a prefill of it completes), else ``input_tokens``. The KV transfer
    takes ``transfer_ms``. Decode worker chosen at arrival: fewest requests bound to it (all requests are alike,
    so this is Dynamo's fewest active blocks), ties at random. Decode: continuous batching, fluid within a step
    (each member progresses 1 / step_ms(b) tokens per ms at batch b); a request leaves after ``output_tokens``
    steps and its client sends the next request at once.
    """
    rng = random.Random(seed)
    events, seq = [], itertools.count()
    cached, queue = set(), []
    busy = [False]
    bound = [0] * m
    remaining = [dict() for _ in range(m)]  # request -> steps still to do
    last = [0.0] * m
    version = [0] * m
    arrival, template, worker, end = {}, {}, {}, {}
    ids = itertools.count()

    def push(t, kind, data):
        heapq.heappush(events, (t, next(seq), kind, data))

    def send(t):
        r = next(ids)
        if r >= n_requests:
            return
        arrival[r], template[r] = t, rng.randrange(templates)
        low = min(bound)
        worker[r] = rng.choice([w for w in range(m) if bound[w] == low])
        bound[worker[r]] += 1
        queue.append(r)
        start_prefill(t)

    def start_prefill(t):
        if busy[0] or not queue:
            return
        step, tokens = [], 0
        while queue and len(step) < batch:
            new = input_tokens - prefix_tokens if template[queue[0]] in cached else input_tokens
            if step and tokens + new > budget_tokens:
                break
            step.append(queue.pop(0))
            tokens += new
        busy[0] = True
        push(t + prefill_ms(tokens), "prefill", step)

    def advance(w, t):
        if remaining[w]:
            done = (t - last[w]) / step_ms(len(remaining[w]))
            for r in remaining[w]:
                remaining[w][r] -= done
        last[w] = t

    def schedule(w, t):
        version[w] += 1
        if remaining[w]:
            nxt = max(min(remaining[w].values()), 0.0) * step_ms(len(remaining[w]))
            push(t + nxt, "decode", (w, version[w]))

    for _ in range(concurrency):
        send(0.0)
    while events:
        t, _, kind, data = heapq.heappop(events)
        if kind == "prefill":
            busy[0] = False
            for r in data:
                cached.add(template[r])
                push(t + transfer_ms, "kv", r)
            start_prefill(t)
        elif kind == "kv":
            w = worker[data]
            advance(w, t)
            remaining[w][data] = float(output_tokens)
            schedule(w, t)
        else:
            w, ver = data
            if ver != version[w]:
                continue
            advance(w, t)
            for r in [r for r, left in remaining[w].items() if left <= 1e-9]:
                del remaining[w][r]
                end[r] = t
                bound[w] -= 1
                send(t)
            schedule(w, t)
    measured = range(warmup, n_requests)
    mean_r = float(np.mean([end[r] - arrival[r] for r in measured]))
    t_a, t_b = arrival[warmup], arrival[n_requests - 1]
    flow = sum(1 for r in range(n_requests) if t_a <= end[r] <= t_b)
    return mean_r, flow / (t_b - t_a) * 1e3


@pytest.mark.parametrize("setup, batch, output, concurrency", [
    ("70b_1p2d", 4, 16, 6), ("70b_1p2d", 4, 16, 48), ("70b_1p2d", 4, 16, 200),
    ("340b_1p2d", 9, 23, 96), ("70b_1p5d", 9, 23, 112), ("70b_1p5d", 2, 40, 300),
])
def test_simulator_matches_an_independent_simulation(setup, batch, output, concurrency):
    cluster = paper_cluster(setup, EngineConfig(max_prefill_seqs=batch))
    wl = paper_workload(output)
    steps = cluster.step_table(wl.mean_context)
    n, warm = 2 * concurrency + 3000, 2 * concurrency
    ref_r, ref_x = reference_closed_loop(
        lambda tok: float(cluster.profile.prefill_ms(float(tok))), lambda b: float(steps[b]),
        float(cluster.transfer_ms(wl.mean_input)), cluster.n_decode, concurrency, batch=batch,
        budget_tokens=cluster.engine.max_num_batched_tokens, input_tokens=128, prefix_tokens=wl.prefix_tokens,
        output_tokens=output, templates=wl.n_templates, n_requests=n, warmup=warm, seed=5)
    sim = simulate(cluster, wl, concurrency, n, warmup=warm, seed=5)
    assert sim.mean_latency_ms == pytest.approx(ref_r, rel=0.02)
    assert sim.throughput_rps == pytest.approx(ref_x, rel=0.02)


def test_operational_laws_on_the_calibrated_engine():
    # 9 requests of 32 uncached tokens per prefill step, 23 output tokens (docs/regimes.md): the prefill worker is
    # the bottleneck, X_max = 9 / prefill_ms(288), computed here from the profile and not from queueing.py
    cluster = paper_cluster("70b_1p5d", EngineConfig(max_prefill_seqs=9))
    wl = paper_workload(23)
    p = cluster.profile
    x_max = 9e3 / float(p.prefill_ms(288.0))
    demand = float(p.prefill_ms(32.0)) + float(cluster.transfer_ms(128)) + 23 * float(p.decode_step_ms(1.0, 139.5))
    sat = saturation(cluster, wl)
    assert sat.max_throughput_rps == pytest.approx(x_max, rel=1e-9)
    assert sat.demand_ms == pytest.approx(demand, rel=1e-9)
    for c in (1, 8, 32, 64, 96, 128, 192, 512):
        r = simulate(cluster, wl, c, 2 * c + 2500, warmup=2 * c, seed=1)
        x, resp = r.throughput_rps, r.mean_latency_ms
        assert x <= min(c / demand * 1e3, x_max) * 1.005, c  # throughput bounds
        assert resp >= max(demand, c / x_max * 1e3) * 0.995, c  # response-time bounds
        assert x * resp / 1e3 == pytest.approx(c, rel=0.01), c  # Little's law, zero think time
    deep = simulate(cluster, wl, 512, 1024 + 4000, warmup=1024)
    assert deep.throughput_rps == pytest.approx(x_max, rel=0.005)  # the prefill worker never idles
    assert deep.mean_latency_ms == pytest.approx(512 / x_max * 1e3, rel=0.01)  # R = C / X_max past the knee


@pytest.mark.parametrize("setup, concurrency, warmup", [("70b_1p2d", 300, 601), ("70b_1p5d", 40, 81)])
def test_paper_poa_hat_of_a_simulator_log_by_brute_force(setup, concurrency, warmup):
    # an odd warm-up cuts a window: the estimator must drop its rows, then score whole windows only
    cluster = paper_cluster(setup, EngineConfig(max_prefill_seqs=9))
    r = simulate(cluster, paper_workload(23), concurrency, warmup + 400, warmup=warmup)
    log, m = r.log[warmup:], cluster.n_decode
    first = int(np.argmax(log["window"] != log["window"][0]))
    actual = opt = 0.0
    for wid in np.unique(log["window"][first:]):
        rows = log[log["window"] == wid]
        actual += rows["latency_ms"].sum()
        opt += min(sum(rows["model_ms"][i, w] for i, w in enumerate(perm))
                   for perm in itertools.permutations(range(m), len(rows)))
    assert r.poa_hat().value == pytest.approx(actual / opt, rel=1e-12)


def test_paper_poa_hat_is_one_when_nothing_queues():
    # one client, one template whose prefix is cached after the first request: every request meets an idle cluster,
    # so its realized latency is the frozen model's service time on an idle worker, the optimum of its window
    wl = Workload(n_templates=1, output_tokens=(16, 16))
    r = simulate(paper_cluster("70b_1p2d"), wl, 1, 41, warmup=1)
    assert r.poa_hat().value == pytest.approx(1.0, rel=1e-12)
    assert r.poa_hat(metric="ttft").value == pytest.approx(1.0, rel=1e-12)


def test_every_run_is_bounded_with_a_named_error():
    c70 = paper_cluster("70b_1p5d")
    wl = paper_workload(23)
    with pytest.raises(InvalidInputError, match="n_requests"):
        ClusterSim(c70, wl, 8, MAX_REQUESTS + 1)  # before anything is allocated
    with pytest.raises(InvalidInputError, match="concurrency"):
        ClusterSim(c70, wl, MAX_REQUESTS + 1, 10)
    with pytest.raises(InvalidInputError, match="open-ended"):
        ClusterSim(c70, wl, 8, None).run_until()  # would never end
    with pytest.raises(InvalidInputError, match="t_end_ms"):
        ClusterSim(c70, wl, 8, 10).run_until("5")
    for bad in (-1, 1.5, math.nan, "0"):
        with pytest.raises(InvalidInputError, match="seed"):
            ClusterSim(c70, wl, 8, 10, seed=bad)
    with pytest.raises(SimulationLimitError, match="events"):
        simulate(c70, wl, 8, 1000, max_events=500)
    # a huge token budget is tabulated only as far as needed
    huge = simulate(c70.with_engine(max_num_batched_tokens=10**9), wl, 8, 200)
    assert huge.throughput_rps > 0
    with pytest.raises(InvalidInputError, match="MAX_POPULATION"):
        closed_loop(c70, MAX_POPULATION + 1, wl)
    # a window far larger than the log: one window whose per-worker capacity exceeds its rows (all 4 rows on the
    # cheaper worker: OPT = 4), computed without repeating the matrix 5e8 times
    assert poa_hat([[1.0, 2.0]] * 4, [1.0, 2.0, 3.0, 4.0], window=10**9).value == pytest.approx(10 / 4)
    for kw, name in ((dict(knee=math.nan), "knee"), (dict(above=math.nan), "above"), (dict(below=-1.0), "below"),
                     (dict(below=2.0, above=1.0), "below"), (dict(n_saturated=0), "n_saturated"),
                     (dict(n_ramp=-1), "n_ramp")):
        with pytest.raises(InvalidInputError, match=name):
            adaptive_vs_static("70b_1p5d", trials=1, **kw)
    for ramp in ((math.nan,), (0,), (8, 2.5), ()):
        with pytest.raises(InvalidInputError, match="ramp"):
            SimulatorActuator("70b_1p5d", ramp)


def test_bootstrap_interval_is_the_normal_interval_of_a_mean_for_iid_windows():
    # every window has the same frozen optimum (6 ms), so PoA-hat is the mean of the windows' realized sums / 6,
    # and its percentile-bootstrap interval must match the normal interval mean +- 1.96 sd / sqrt(n) (n = 400)
    rng = np.random.default_rng(11)
    n = 400
    sums = rng.exponential(10.0, n)
    model = np.tile([[1.0, 5.0]], (2 * n, 1))
    r = poa_hat(model, np.repeat(sums / 2, 2), n_boot=4000, seed=3)
    half = 1.96 * sums.std() / np.sqrt(n) / 6
    assert r.value == pytest.approx(sums.mean() / 6, rel=1e-12)
    assert r.interval[0] == pytest.approx(r.value - half, rel=0.02)
    assert r.interval[1] == pytest.approx(r.value + half, rel=0.02)
