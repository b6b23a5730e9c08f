"""Speed of the measured-profile path: load a shipped profile, fit its curves, find its knees.

    python benchmarks/bench_profiles.py

Prints, per profile, the time to read and validate the JSON, to fit prefill (all points and per input
length) and the decode curve at every grid context, to find the decode knee at context 2048, and the
cost of one vectorized ``decode_step_ms`` call over 10,000 (batch, context) pairs. The target is well
under a second per profile.
"""

from __future__ import annotations

import time

import numpy as np

from gametheory.regimes import find_knees
from gametheory.serving.profiles import Profile, list_profiles, profiles_dir


def main() -> None:
    rng = np.random.default_rng(0)
    print(f"{'profile':34} {'load ms':>8} {'fit ms':>8} {'knee ms':>8} {'10k evals ms':>12} {'total ms':>9}")
    worst = 0.0
    for name in list_profiles():
        t0 = time.perf_counter()
        p = Profile.from_json(profiles_dir() / f"{name}.json")  # uncached read
        t1 = time.perf_counter()
        _ = p.prefill_fit
        for isl in p.prefill_isls_with_batch_sweep:
            p.prefill_fit_at(isl)
        _ = p.decode_fits
        t2 = time.perf_counter()
        ctx = 2048 if 2048 in p.decode_context else float(p.decode_context[-1])
        find_knees(*p.decode_points(ctx), methods=("hinge",))  # "no knee" is an answer, not an error
        t3 = time.perf_counter()
        b = rng.uniform(1, 512, 10_000)
        c = rng.uniform(128, float(p.decode_context[-1]), 10_000)
        p.decode_step_ms(b, c)
        t4 = time.perf_counter()
        total = (t3 - t0) * 1e3
        worst = max(worst, total)
        print(f"{name:34} {(t1 - t0) * 1e3:8.2f} {(t2 - t1) * 1e3:8.2f} {(t3 - t2) * 1e3:8.2f} "
              f"{(t4 - t3) * 1e3:12.2f} {total:9.2f}")
    print(f"slowest profile: load + fit + knee = {worst:.1f} ms")


if __name__ == "__main__":
    main()
