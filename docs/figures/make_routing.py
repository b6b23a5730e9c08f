"""Figures and numbers of docs/routing.md.

Run: .venv/bin/python docs/figures/make_routing.py
Writes docs/figures/routing_poa_across_load.png and prints every number quoted in docs/routing.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory import bounds
from gametheory.games.routing import RoutingGame
from gametheory.games.routing.atomic import best_response_dynamics, cycling_instance, pure_equilibria
from gametheory.latency import MM1, Affine
from gametheory.reproduce.routing import run
from gametheory.serving.router import dynamo_costs, prefill_blocks, select

HERE = Path(__file__).resolve().parent


def main() -> None:
    print("alpha(p), p = 1..6:", [round(bounds.polynomial(p), 6) for p in range(1, 7)])
    print("M/M/1 bound at R/u = 0.5, 0.9, 0.99:", [round(bounds.mm1(1.0, r), 4) for r in (0.5, 0.9, 0.99)])
    print("numeric Pigou, MM1(1) up to 0.9:", round(bounds.pigou(MM1(1.0), 0.9), 6))
    g = RoutingGame([Affine(1, 0), Affine(0, 1)], 1.0)
    print("Pigou network PoA:", g.price_of_anarchy())
    pre = prefill_blocks([0, 0, 0], 160, [32, 80, 128], 16)
    c = dynamo_costs(pre, [10, 5, 9], 1.0)
    print("Dynamo docs example: prefill blocks", pre.tolist(), "costs", c.tolist(), "-> worker", select(c, 0.0, 0))
    cache = RoutingGame([Affine(0.2, 1), Affine(0.2, 1)], 1.0, omega=1.0, cache_benefit=2.0, cache_scale=0.2)
    eqs = cache.equilibria(starts=4)
    print("cache-affinity equilibria (2 identical workers):",
          [(np.round(e.worker_flows, 4).tolist(), round(e.cost, 4)) for e in eqs])
    opt = cache.optimum()
    print(f"  MILP optimum cost {opt.cost:.4f}, lower bound {opt.lower_bound:.4f}, gap {opt.gap:.2e}")
    curves, O, om = cycling_instance()
    res = best_response_dynamics(curves, [0, 1], O, om)
    print("atomic cycling instance: pure equilibria", pure_equilibria(curves, 2, O, om), "BRD cycle", res.cycle)
    sec = run(HERE)
    for t in sec.tables:
        print(t.render())
    print(sec.summary)
    for f in sec.figures:
        print("wrote", f)


if __name__ == "__main__":
    main()
