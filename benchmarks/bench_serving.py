"""Serving benchmarks: the simulator on 100,000 requests (target: under 5 s on this 2-core machine), and PoA-hat
on 1,000,000 requests. Run: .venv/bin/python benchmarks/bench_serving.py

Simulator points: the calibrated engine of docs/regimes.md on 70B TP4 1P/5D at C = 256 (past the knee) and the
vLLM default engine at C = 256 (below its knee, full decode batches), with the frozen model rows that PoA-hat
needs logged for every request; and the same run resumed in 5 s slices as the controller's actuator does. Each
figure is the best of 3 runs with the profile already loaded; the first (cold) run, which also loads the profile
and builds the timing tables, is printed too.
"""

import time
import timeit

import numpy as np

from gametheory.serving.calibration import calibrate
from gametheory.serving.engine import paper_cluster
from gametheory.serving.estimator import matching_ratio, poa_hat
from gametheory.serving.simulator import ClusterSim, simulate

N = 100_000


def _resumed(cluster, workload):
    sim = ClusterSim(cluster, workload, 256, N)
    t = 0.0
    while sim.n_sent < N or sim.heap:
        t += 5000.0
        sim.run_until(t)
    return sim.result()


def main():
    t = time.perf_counter()
    cal = calibrate()
    cluster = cal.cluster("70b_1p5d")
    r = simulate(cluster, cal.workload(), 256, N)
    print(f"cold start (calibration, profile, tables, one run): {time.perf_counter() - t:.2f} s")
    for label, cl in (("calibrated engine", cluster), ("vLLM default engine", paper_cluster("70b_1p5d"))):
        best = min(timeit.repeat(lambda cl=cl: simulate(cl, cal.workload(), 256, N), number=1, repeat=3))
        r = simulate(cl, cal.workload(), 256, N)
        print(f"simulate {N:,} requests, 70B 1P/5D, {label}, C = 256: {best:.2f} s "
              f"({N / best:,.0f} requests/s; throughput {r.throughput_rps:.0f} req/s, TTFT P99 {r.ttft_p99_ms:.0f} ms, "
              f"PoA-hat {r.poa_hat().value:.3f})")
    best = min(timeit.repeat(lambda: _resumed(cluster, cal.workload()), number=1, repeat=3))
    print(f"the same run resumed every 5 s of virtual time: {best:.2f} s")
    rng = np.random.default_rng(0)
    costs, real, choices = rng.random((1_000_000, 5)), rng.random(1_000_000), rng.integers(0, 5, 1_000_000)
    best = min(timeit.repeat(lambda: poa_hat(costs, real), number=1, repeat=3))
    print(f"poa_hat (paper form) on 1,000,000 requests, m = 5: {best:.2f} s")
    best = min(timeit.repeat(lambda: matching_ratio(costs, choices), number=1, repeat=3))
    print(f"matching_ratio on 1,000,000 requests, m = 5: {best:.2f} s")
    best = min(timeit.repeat(lambda: poa_hat(costs, real, n_boot=200), number=1, repeat=1))
    print(f"poa_hat + 200 bootstrap replicates: {best:.2f} s")


if __name__ == "__main__":
    main()
