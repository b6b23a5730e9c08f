"""Figures and numbers of docs/coupled.md: runs the `coupled` reproduce section (full grid) into docs/figures
(coupled_poa.png, coupled_regimes.png) and prints its tables (PoA across load on the 70B and 340B setups, the
Planner on a load step and at constant loads by delay and gain).

Usage: python docs/figures/make_coupled.py
       python docs/figures/make_coupled.py --cycle-search [N]   (N random small systems, default 5000, seed 2)

``--cycle-search`` runs :meth:`gametheory.games.coupled.CoupledSystem.equilibrium` (Planner gain 1) on N random
small systems and random start caches and counts the outcomes: it is the search for a routing/caching cycle
that docs/coupled.md reports (none found).
"""

import sys
from collections import Counter
from pathlib import Path

import numpy as np

from gametheory.errors import CapacityExceededError, ConvergenceError
from gametheory.games import coupled as cg
from gametheory.reproduce import coupled


def _decode_ms(batch, context):
    return 8.0 * (1 + (batch / 128) ** 2)


def cycle_search(n: int = 5000, seed: int = 2) -> Counter:
    """Outcomes of the coupled dynamics on ``n`` random systems: 3-6 workers, 2-6 templates, 1-3 cache slots,
    affine prefill a + b tokens (a in [0.1, 10] ms, b in [0.01, 0.2] ms/token), shared prefix 8-127 of 128
    tokens, rates 2-80 req/s per template, a random start split and (80 %) a random start cache (up to
    cache_slots random classes per worker)."""
    rng = np.random.default_rng(seed)
    out: Counter = Counter()
    for _ in range(n):
        workers, k, slots = int(rng.integers(3, 7)), int(rng.integers(2, 7)), int(rng.integers(1, 4))
        a, b = float(rng.uniform(0.1, 10)), float(rng.uniform(0.01, 0.2))
        system = cg.CoupledSystem(workers=workers, rates=tuple(rng.uniform(2, 80, k)),
                                  prefill_ms=lambda t, a=a, b=b: a + b * t, decode_step_ms=_decode_ms,
                                  input_tokens=128, prefix_tokens=int(rng.integers(8, 128)), output_tokens=64,
                                  cache_slots=slots)
        start = int(rng.integers(1, workers))
        cache = None
        if rng.random() < 0.8:  # a random start cache: each worker holds up to cache_slots random classes
            cache = np.zeros((k, start), bool)
            for w in range(start):
                cache[rng.choice(k, size=int(rng.integers(0, min(slots, k) + 1)), replace=False), w] = True
        try:
            system.equilibrium(n_prefill=start, cache=cache)
        except CapacityExceededError:
            out["over capacity (CapacityExceededError)"] += 1
        except ConvergenceError as exc:
            kind = "routing/caching cycle" if "routing/caching" in str(exc) else "Planner stops at a saturated split"
            out[kind] += 1
            if kind == "routing/caching cycle":
                print("cycle:", system, start, exc)
        else:
            out["converged"] += 1
    return out


if __name__ == "__main__":
    if "--cycle-search" in sys.argv:
        i = sys.argv.index("--cycle-search")
        n = int(sys.argv[i + 1]) if len(sys.argv) > i + 1 else 5000
        with np.errstate(divide="ignore"):
            counts = cycle_search(n)
        print(f"cycle search, {n} random systems (seed 2), gain 1: {dict(counts)}")
        sys.exit(0)
    section = coupled.run(Path(__file__).resolve().parent, full=True)
    print(section.render())
