"""Speed of the Game 2 solvers: `python benchmarks/bench_caching.py` prints wall times (no asserts).

* enumeration of every profile of Chun's game on lines of n = 10, 12, 14 workers (2^n profiles);
* best-response dynamics and the social-optimum MILP (cvxpy + HiGHS) on random capacitated 4-tier games
  with 8 / 16 / 32 workers and 16 blocks.
"""

from __future__ import annotations

import time

import numpy as np

from gametheory.games.caching import chun_game, hierarchical_topology, line_topology, make_game
from gametheory.games.caching.milp import social_optimum_milp
from gametheory.games.caching.solvers import best_response_dynamics, enumerate_profiles


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    for n in (10, 12, 14):
        res, dt = timed(lambda n=n: enumerate_profiles(chun_game(line_topology(n), n - 1.0, server_ms=1e4)))
        print(f"enumerate line n={n:2d}: {res.n_profiles:6d} profiles in {dt * 1e3:8.1f} ms  PoA={res.poa:.4f}")
    rng = np.random.default_rng(0)
    for nodes in (2, 4, 8):
        g = hierarchical_topology(nodes, 4)
        n, B = g.number_of_nodes(), 16
        game = make_game(g, demand=rng.exponential(1.0, (n, B)), recompute_ms=10.8, capacity=[4, 8, np.inf, np.inf],
                         hold_cost=[0.3, 0.1, 0.05, 0.04])
        br, t_br = timed(lambda game=game: best_response_dynamics(game))
        opt, t_opt = timed(lambda game=game: social_optimum_milp(game))
        print(f"n={n:2d} workers, {B} blocks: BR dynamics {t_br * 1e3:8.1f} ms ({br.nit} rounds, "
              f"cost {br.cost:.3f}); MILP {t_opt * 1e3:8.1f} ms (cost {opt.cost:.3f}, {opt.certificate}); "
              f"BR/opt = {br.cost / opt.cost:.4f}")


if __name__ == "__main__":
    main()
