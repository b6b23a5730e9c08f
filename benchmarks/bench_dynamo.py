"""Speed of the Dynamo adapter: timing-file conversion and one replay run (real router, virtual clock).

    .venv/bin/python benchmarks/bench_dynamo.py

Target: a replay grid point (C <= 1024, 2 C + max(1000, 4 C) requests) in about a second on 2 cores, so a 3-setup
x 11-load x 3-repeat sweep runs in under a minute. Skips with a message when ai-dynamo is not installed.
"""

from __future__ import annotations

import time

from gametheory.serving import dynamo as d
from gametheory.serving.profiles import load_profile


def main() -> None:
    p = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    t = time.perf_counter()
    for _ in range(20):
        d.timing_tables(p)
    print(f"timing_tables(70B profile): {(time.perf_counter() - t) / 20 * 1e3:.2f} ms")
    if not d.dynamo_available():
        print("ai-dynamo not installed (make dynamo): replay timings skipped")
        return
    d.replay_run("70b_1p2d", 16, n_requests=100, with_poa=False)  # warm-up: timing file, imports
    for setup, c in (("70b_1p5d", 128), ("70b_1p5d", 1024), ("340b_1p2d", 1024)):
        t = time.perf_counter()
        r = d.replay_run(setup, c, with_poa=False)
        dt = time.perf_counter() - t
        n = 2 * c + max(1000, 4 * c)
        print(f"replay {setup} C={c}: {n} requests in {dt:.3f} s ({n / dt:,.0f} requests/s of wall time; "
              f"virtual duration {r.duration_ms / 1e3:.1f} s)")


if __name__ == "__main__":
    main()
