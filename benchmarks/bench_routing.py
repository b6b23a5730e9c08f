"""Routing benchmarks (issue 3): parallel-worker fast path vs cvxpy, and many classes.

Run: .venv/bin/python benchmarks/bench_routing.py [--quick]
Prints: time of the water-filling equilibrium/optimum on 10,000 workers (target < 50 ms at relative gap
<= 1e-9), the cvxpy (Clarabel) time on the same instance and the speed ratio; then 1,000 workers x 100
classes with omega = 0 (equilibrium and optimum). The 10,000-worker figures are also given through the public
API (RoutingGame), which adds building the vectorized curve bank, the certificate and the result.
"""

from __future__ import annotations

import sys
import time
import timeit

import numpy as np

from gametheory.games.routing import RoutingGame
from gametheory.games.routing.cvx import beckmann_cvx, optimum_cvx
from gametheory.games.routing.wardrop import CurveBank, water_fill
from gametheory.latency import Pole


def instance(m: int, seed: int = 0):
    """m saturating workers l_w(x) = a + b x + c / (kappa - x) (ms at x requests/s), demand at ~40% of capacity."""
    rng = np.random.default_rng(seed)
    curves = [Pole(rng.uniform(1, 5), rng.uniform(0, 1), rng.uniform(0.1, 2), rng.uniform(5, 20)) for _ in range(m)]
    return curves, 0.4 * sum(c.kappa for c in curves)


def best_of(fn, repeat: int = 5) -> float:
    """Best wall time (s) of ``repeat`` single calls (timeit.repeat)."""
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def main(quick: bool = False) -> None:
    m = 10_000
    curves, R = instance(m)
    bank = CurveBank(curves)
    for marginal, name in ((False, "equilibrium"), (True, "optimum")):
        res = water_fill(curves, R, marginal=marginal, rgap=1e-9, bank=bank)
        t_fast = best_of(lambda mg=marginal: water_fill(curves, R, marginal=mg, rgap=1e-9, bank=bank))
        t_bank = best_of(lambda: CurveBank(curves), 3)
        print(f"{m} workers, one class, {name}: fast path {1e3 * t_fast:.1f} ms (+ {1e3 * t_bank:.1f} ms to "
              f"vectorize the curves), relative gap {res.certificate.value:.2e}, {res.nit} level iterations")
        if not quick:
            solve = optimum_cvx if marginal else beckmann_cvx
            t = time.perf_counter()
            x, _ = solve(curves, R)
            t_cvx = time.perf_counter() - t
            print(f"    cvxpy (Clarabel) {t_cvx:.2f} s; ratio cvxpy / fast = {t_cvx / t_fast:.0f}x; "
                  f"max |x_fast - x_cvxpy| = {np.abs(x - res.flows).max():.2e}")
    game = RoutingGame(curves, R)
    t_eq = best_of(lambda: RoutingGame(curves, R).equilibrium(), 3)
    t_opt = best_of(lambda: RoutingGame(curves, R).optimum(), 3)
    print(f"{m} workers through the public API (RoutingGame(...).equilibrium() / .optimum(), curve vectorization, "
          f"certificate and result included): {1e3 * t_eq:.1f} ms / {1e3 * t_opt:.1f} ms")
    m, K = 1000, 100
    curves, R = instance(m, seed=1)
    rng = np.random.default_rng(2)
    demands = rng.dirichlet(np.ones(K)) * R
    game = RoutingGame(curves, demands)
    t = time.perf_counter()
    eq = game.equilibrium()
    t_eq = time.perf_counter() - t
    t = time.perf_counter()
    opt = game.optimum()
    t_opt = time.perf_counter() - t
    print(f"{m} workers x {K} classes, omega = 0: equilibrium {t_eq:.3f} s (gap {eq.gap:.1e}), optimum {t_opt:.3f} s "
          f"(KKT {opt.gap:.1e}), PoA {eq.cost / opt.cost:.6f}, flows shape {eq.flows.shape}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
