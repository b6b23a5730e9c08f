"""Tests of the KVBM frequency rule (count 1, doubles on hit, decays, promotion at >= 2) as a caching policy."""

from __future__ import annotations

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.games.caching import complete_topology, default_tier_access_ms, make_game
from gametheory.games.kvbm import KVBMPolicy, compare_with_game, demand_from_trace, simulate, synthetic_trace


def small_game(n=2, B=4, g1=1, g2=2, demand=None):
    demand = np.ones((n, B)) if demand is None else demand
    return make_game(complete_topology(n, 0.05), demand=demand, recompute_ms=3.0, capacity=[g1, g2],
                     access_ms=default_tier_access_ms()[:2], hold_cost=[0.2, 0.05], shared=[False, False],
                     tier_names=("G1", "G2"))


def trace_of(events):
    t, w, b = zip(*events, strict=True)
    return np.array(t, float), np.array(w), np.array(b)


def test_first_access_enters_g2_and_second_promotes():
    game = small_game()
    s = simulate(game, trace_of([(0, 0, 1)]))
    assert s[0, 1] == 1 and (s[1] == -1).all()
    s = simulate(game, trace_of([(0, 0, 1), (0, 0, 1)]))      # count 1 -> 2: promoted to G1
    assert s[0, 1] == 0
    s = simulate(game, trace_of([(0, 0, 1), (1, 0, 1)]))      # decayed 1 * 2**(-1/100), doubled: < 2, stays in G2
    assert s[0, 1] == 1


def test_decay_prevents_promotion():
    game = small_game()
    # the count decays from 1 to 1/8 over three half-lives, doubles to 1/4 < 2: stays in G2
    s = simulate(game, trace_of([(0, 0, 1), (300, 0, 1)]), KVBMPolicy(decay_interval=100.0))
    assert s[0, 1] == 1


def test_g1_eviction_demotes_lowest_count():
    game = small_game(g1=1, g2=3)
    ev = [(0, 0, 0), (0, 0, 0), (0, 0, 0), (0, 0, 1), (0, 0, 1)]   # block 0 count 4 in G1; block 1 reaches 2
    s = simulate(game, trace_of(ev), KVBMPolicy(decay_interval=1e9))
    # block 1 reaches count 2 and is promoted; G1 (1 slot) is full, its lowest-count member (block 0, the only
    # one) is demoted to G2
    assert s[0, 1] == 0 and s[0, 0] == 1


def test_g2_eviction_drops_lowest_count():
    game = small_game(g1=0, g2=2)
    ev = [(0, 0, 0), (0, 0, 0), (0, 0, 1), (0, 0, 2)]     # block 0 count 2, block 1 count 1 -> evicted by 2
    s = simulate(game, trace_of(ev), KVBMPolicy(decay_interval=1e9))
    assert s[0].tolist() == [1, -1, 1, -1]


def test_compare_with_game_bounds():
    trace = synthetic_trace(2, 4, 400, seed=3)
    game = small_game(demand=demand_from_trace(2, 4, trace))
    res = compare_with_game(game, trace)
    assert res.optimum_cost <= res.kvbm_cost + 1e-9
    assert res.optimum_cost <= res.equilibrium_cost + 1e-9
    assert res.kvbm_ratio >= 1 - 1e-9 and res.kvbm_regret >= 0


def test_trace_with_unknown_block_rejected():
    game = small_game()
    with pytest.raises(InvalidInputError, match="unknown block"):
        simulate(game, trace_of([(0, 0, 9)]))
    with pytest.raises(InvalidInputError, match="worker"):
        simulate(game, trace_of([(0, 5, 0)]))
