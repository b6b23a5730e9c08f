"""Social optimum of Game 2: the MILP (cvxpy + HiGHS) against brute force on hundreds of seeded instances."""

from __future__ import annotations

import numpy as np
import pytest

from gametheory.games.caching import chun_game, complete_topology, line_topology, make_game, star_topology
from gametheory.games.caching.milp import social_optimum_bruteforce, social_optimum_milp


def random_game(rng, n=None, B=None, T=None):
    n = n or int(rng.integers(2, 4))
    B = B or int(rng.integers(1, 3))
    T = T or int(rng.integers(1, 3))
    build = (complete_topology, line_topology, star_topology)[int(rng.integers(3))]
    return make_game(build(n, rng.uniform(0.2, 2)), demand=rng.uniform(0, 3, (n, B)),
                     recompute_ms=rng.uniform(1, 5, B), capacity=rng.choice([0, 1, 2, np.inf], size=(n, T)),
                     access_ms=rng.uniform(0, 1, (n, T)), hold_cost=rng.uniform(0, 3, (n, T)),
                     shared=rng.random(T) < 0.3)


def test_milp_matches_bruteforce_on_300_random_instances():
    rng = np.random.default_rng(2004)
    for k in range(300):
        game = random_game(rng)
        brute = social_optimum_bruteforce(game)
        milp = social_optimum_milp(game)
        assert milp.certificate.kind == "milp_gap"
        assert milp.cost == pytest.approx(brute.cost, rel=1e-7, abs=1e-9), f"instance {k}"
        assert game.social_cost(milp.profile) == pytest.approx(milp.cost)


def test_milp_chun_line_closed_form():
    # unit line of 6, alpha 2: replicas at nodes 1 and 4 cost 2*2 + 4*1 = 8, the optimum
    res = social_optimum_milp(chun_game(line_topology(6), 2.0))
    assert res.cost == pytest.approx(8.0)


def test_milp_larger_instance_runs():
    rng = np.random.default_rng(7)
    game = random_game(rng, n=6, B=5, T=3)
    res = social_optimum_milp(game)
    assert res.cost == pytest.approx(game.social_cost(res.profile))
    assert res.cost <= game.social_cost(np.full((6, 5), -1)) + 1e-9
    assert res.cost <= game.equilibrium(max_rounds=200).cost + 1e-9
