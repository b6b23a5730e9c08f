"""Speed of curve fitting and knee detection.

    python benchmarks/bench_fitting.py

Fits 10 seeded synthetic curves of 50 noisy points (Pole, hinge, BPR, polynomial and affine shapes)
with every family of :func:`gametheory.fitting.fit` and ``family="auto"``, and detects each curve's knee
with every method of :func:`gametheory.regimes.find_knee` (default 100 bootstrap refits; a "no knee" answer
is timed like a knee), their consensus :func:`gametheory.regimes.find_knees`, and :func:`gametheory.assess` on
the sample benchmark tests/data/assess/bench.csv. Prints the mean and worst milliseconds per call; the target
is well under 1 s per fit and per knee, and a few seconds for a whole assessment.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from gametheory.assessment import assess
from gametheory.errors import NoKneeError
from gametheory.fitting import FAMILIES, fit
from gametheory.latency import BPR, Affine, Pole, Polynomial
from gametheory.regimes import METHODS, find_knee, find_knees

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "assess" / "bench.csv"


def curves(n_points: int = 50):
    x = np.linspace(0.0, 95.0, n_points)
    shapes = [
        Pole(5, 0.1, 20, 100), Pole(1, 0.5, 200, 110), Pole(0, 0.02, 5, 98),
        BPR(3, 80, 0.15, 4), BPR(10, 95, 0.8, 2),
        Polynomial([1, 0.1, 0.01]), Polynomial([20, 0.05, 0, 1e-5]), Affine(4, 0.3),
    ]
    out = []
    for i, c in enumerate(shapes):
        y = np.asarray(c(x))
        out.append((f"{type(c).__name__}#{i}", x, y * (1 + 0.02 * np.random.default_rng(i).standard_normal(x.size))))
    for i, knee in enumerate((40.0, 70.0)):
        y = 2 + 0.5 * x + 3 * np.maximum(x - knee, 0)
        out.append((f"hinge@{knee:g}", x, y + 0.5 * np.random.default_rng(100 + i).standard_normal(x.size)))
    return out


def timed(fn, *args, **kw) -> float:
    t = time.perf_counter()
    try:
        fn(*args, **kw)
    except NoKneeError:  # an answer ("no knee"), timed like one
        pass
    return 1e3 * (time.perf_counter() - t)


def main() -> None:
    data = curves()
    fit(data[0][1], data[0][2], "pole")  # warm imports
    print(f"{len(data)} curves x {data[0][1].size} points")
    print(f"{'task':22} {'mean ms':>9} {'worst ms':>9}")
    for fam in FAMILIES + ("auto",):
        ts = [timed(fit, x, y, fam) for _, x, y in data]
        print(f"fit {fam:18} {np.mean(ts):9.2f} {np.max(ts):9.2f}")
    ts = [timed(fit, x, y, "pole", uncertainty="bootstrap", n_boot=100) for _, x, y in data]
    print(f"{'fit pole+bootstrap100':22} {np.mean(ts):9.2f} {np.max(ts):9.2f}")
    for m in METHODS:
        ts = [timed(find_knee, x, y, method=m) for _, x, y in data]
        print(f"knee {m:17} {np.mean(ts):9.2f} {np.max(ts):9.2f}")
    ts = [timed(find_knees, x, y) for _, x, y in data]
    print(f"{'knees, consensus of 3':22} {np.mean(ts):9.2f} {np.max(ts):9.2f}")
    ts = [timed(assess, SAMPLE, latency_column="ttft_p99_ms") for _ in range(3)]
    print(f"{'assess bench.csv':22} {np.mean(ts):9.2f} {np.max(ts):9.2f}")


if __name__ == "__main__":
    main()
