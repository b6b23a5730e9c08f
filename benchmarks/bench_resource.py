"""Game 1 benchmarks (issue 4): continuous VE/optimum by brentq vs cvxpy, the integer game's enumeration,
the sympy closed forms and the Planner dynamics.

Run: .venv/bin/python benchmarks/bench_resource.py [--quick]
Prints: per-solve times of the continuous equilibrium and optimum for InverseCost and MM1PoolCost pools
(1024 GPUs) by the brentq path and the cvxpy (Clarabel) path and the gap between their splits; the integer
VE + optimum on G = 1024 GPUs in workers of 8 (127 splits; target < 50 ms) and of 1 GPU (1023 splits),
with costs that take arrays and with scalar-only costs; deriving and evaluating the closed forms; the
Planner on a 1,000-interval trace.
"""

from __future__ import annotations

import sys
import time
import timeit

import numpy as np

from gametheory.errors import CertificateError
from gametheory.games.dynamics import planner_dynamics
from gametheory.games.resource import InverseCost, MM1PoolCost, PDResourceGame, PerGPULoadCost
from gametheory.games.resource.closed_forms import derive, evaluate
from gametheory.games.resource.integer import integer_equilibrium, integer_optimum
from gametheory.games.resource.planner import ResourcePlannerModel
from gametheory.latency import MM1


def best_of(fn, repeat: int = 5) -> float:
    """Best wall time (s) of ``repeat`` single calls (timeit.repeat)."""
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def games():
    return {
        "InverseCost": PDResourceGame(1024, InverseCost(400.0), InverseCost(30.0), weights=(1.0, 128.0), step=8),
        "MM1PoolCost": PDResourceGame(1024, MM1PoolCost(1.0, 300.0), MM1PoolCost(2.0, 500.0),
                                      weights=(1.0, 128.0), step=8),
    }


def main(quick: bool = False) -> None:
    repeat = 2 if quick else 5
    print("continuous solutions, 1024 GPUs (best of %d):" % repeat)
    for name, game in games().items():
        for kind in ("equilibrium", "optimum"):
            solve = getattr(game, kind)
            fast = solve()
            t_fast = best_of(solve, repeat)
            head = f"  {name:12s} {kind:11s}: brentq {1e3 * t_fast:7.2f} ms (KKT {fast.certificate.value:.1e}), "
            try:
                slow = solve(method="cvxpy")
            except CertificateError as exc:  # report it: the cvxpy path is the second, looser solver
                t = time.perf_counter()
                try:
                    solve(method="cvxpy")
                except CertificateError:
                    pass
                print(head + f"cvxpy {1e3 * (time.perf_counter() - t):7.1f} ms REJECTED by its certificate: {exc}")
                continue
            t_cvx = best_of(lambda s=solve: s(method="cvxpy"), repeat)
            print(head + f"cvxpy {1e3 * t_cvx:7.1f} ms (KKT {slow.certificate.value:.1e}), "
                  f"ratio {t_cvx / t_fast:5.1f}x, "
                  f"|G_P brentq - G_P cvxpy| = {abs(fast.split[0] - slow.split[0]):.1e} GPUs")

    print("integer game, 1024 GPUs (integer VE + integer optimum, every split enumerated):")
    scalar_only = PDResourceGame(1024, PerGPULoadCost(MM1(10.0), 600.0), PerGPULoadCost(MM1(20.0), 2000.0), step=8)
    cases = [(name, g) for name, g in games().items()] + [("PerGPULoadCost (scalar-only)", scalar_only)]
    array_fn = PDResourceGame(1024, lambda g: 400.0 / g, lambda g: 30.0 / g, step=8)
    cases.append(("lambda a/G (takes arrays)", array_fn))
    for step in (8, 1):
        for name, game in cases:
            def run(g=game, s=step):
                return integer_equilibrium(g, step=s), integer_optimum(g, step=s)
            eq, opt = run()
            t = best_of(run, repeat)
            print(f"  step {step}: {name:29s} {1e3 * t:7.2f} ms for {eq.n_splits} splits "
                  f"(VE G_P = {eq.split[0]:g}, optimum G_P = {opt.split[0]:g})")

    t = time.perf_counter()
    derive.cache_clear()
    for case in ("inverse", "mm1"):
        derive(case)
    t_derive = time.perf_counter() - t
    t_eval = best_of(lambda: evaluate("mm1", 1024, (1.0, 128.0), mu_P=1.0, lambda_P=300.0, mu_D=2.0,
                                      lambda_D=500.0), repeat)
    print(f"closed forms: sympy derivation of both cases {t_derive:.2f} s; one evaluation {1e3 * t_eval:.2f} ms")

    rng = np.random.default_rng(0)
    trace = np.round(np.clip(200 + np.cumsum(rng.normal(0, 10, 1000)), 50, 400), 0)

    def game_at(rate):
        return PDResourceGame(1024, MM1PoolCost(1.0, rate), MM1PoolCost(2.0, 1.5 * rate), step=8)

    t = time.perf_counter()
    res = planner_dynamics(ResourcePlannerModel(game_at), trace, delay=1, observe="metrics")
    t_plan = time.perf_counter() - t
    print(f"planner: 1,000 intervals, {np.unique(trace).size} distinct loads, {1e3 * t_plan:.0f} ms; "
          f"max lag {res.max_lag_workers} workers, {int(np.count_nonzero(res.lag_workers))} intervals off the "
          "integer VE")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
