"""Serving benchmarks: PoA-hat on 1,000,000 requests (target < 5 s) and the simulator on 100,000 requests,
1P/5D, C = 256 (target < 10 s). Run: .venv/bin/python benchmarks/bench_serving.py"""

import time

import numpy as np

from gametheory.serving.estimator import matching_ratio, poa_hat
from gametheory.serving.profiles import load_profile
from gametheory.serving.simulator import simulate


def main():
    rng = np.random.default_rng(0)
    costs, choices = rng.random((1_000_000, 5)), rng.integers(0, 5, 1_000_000)
    t = time.perf_counter()
    r = poa_hat(costs, rng.random(1_000_000))
    print(f"poa_hat 1,000,000 requests, m=5: {time.perf_counter() - t:.2f} s (value {r.value:.4f})")
    t = time.perf_counter()
    r = matching_ratio(costs, choices)
    print(f"matching_ratio 1,000,000 requests, m=5: {time.perf_counter() - t:.2f} s (value {r.value:.4f})")
    t = time.perf_counter()
    r = poa_hat(costs, rng.random(1_000_000), n_boot=200)
    print(f"poa_hat + 200 bootstrap reps: {time.perf_counter() - t:.2f} s")
    p = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    t = time.perf_counter()
    s = simulate(p, 5, 256, 100_000)
    print(f"simulate 100,000 requests 1P/5D C=256: {time.perf_counter() - t:.2f} s "
          f"(throughput {s.throughput_rps:.1f} req/s, TTFT P99 {s.ttft_p99_ms:.1f} ms)")


if __name__ == "__main__":
    main()
