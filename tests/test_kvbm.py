"""Tests of the KVBM frequency rule (count 1, doubles on hit, decays, promotion at >= 2) as a caching policy."""

from __future__ import annotations

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.games.caching import complete_topology, default_tier_access_ms, make_game
from gametheory.games.caching.kvbm import KVBMPolicy, compare_with_game, demand_from_trace, simulate, synthetic_trace


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


@pytest.mark.parametrize("kwargs, field", [
    (dict(decay_interval=0.0), "decay_interval must be > 0 time units \\(inf = no decay\\), got 0.0"),
    (dict(decay_interval=-5.0), "decay_interval must be > 0 time units \\(inf = no decay\\), got -5.0"),
    (dict(decay_interval=float("nan")), "decay_interval must be > 0"),
    (dict(decay_interval="fast"), "decay_interval must be a number, got 'fast'"),
    (dict(promote_at=float("nan")), "promote_at must be finite"),
    (dict(promote_at=float("inf")), "promote_at must be finite"),
    (dict(promote_at=0.5), "promote_at must be >= 1 .*got 0.5"),
    (dict(upper_tier=1, lower_tier=1), "upper_tier and lower_tier must differ"),
    (dict(upper_tier=-1), "upper_tier must be a tier index .*got -1"),
    (dict(lower_tier=1.5), "lower_tier must be a tier index .*got 1.5"),
])
def test_policy_rejects_bad_parameters(kwargs, field):
    with pytest.raises(InvalidInputError, match=field):
        KVBMPolicy(**kwargs)


def test_infinite_decay_interval_means_no_decay():
    game = small_game()
    s = simulate(game, trace_of([(0, 0, 1), (1e6, 0, 1)]), KVBMPolicy(decay_interval=float("inf")))
    assert s[0, 1] == 0          # count 1 -> 2 with no decay in between: promoted


def test_game_with_one_tier_or_missing_policy_tier_rejected():
    one = make_game(complete_topology(2, 0.05), demand=np.ones((2, 3)), recompute_ms=3.0, capacity=[2],
                    access_ms=[0.01], hold_cost=[0.2], shared=[False], tier_names=("G1",))
    with pytest.raises(InvalidInputError, match="at least 2 tiers.*has 1"):
        simulate(one, trace_of([(0, 0, 1)]))
    with pytest.raises(InvalidInputError, match="lower_tier=2 is not a tier of the game"):
        simulate(small_game(), trace_of([(0, 0, 1)]), KVBMPolicy(lower_tier=2))


def test_bad_worker_and_block_ids_rejected():
    game = small_game()
    with pytest.raises(InvalidInputError, match="trace worker ids must be whole numbers; entry 1 is 0.5"):
        simulate(game, (np.array([0.0, 1.0]), np.array([0, 0.5]), np.array([1, 1])))
    with pytest.raises(InvalidInputError, match="trace worker id 2 at entry 0 is outside 0..1"):
        simulate(game, trace_of([(0, 2, 1)]))
    with pytest.raises(InvalidInputError, match="trace worker id -1"):
        simulate(game, trace_of([(0, -1, 1)]))
    with pytest.raises(InvalidInputError, match="trace block ids must be finite"):
        simulate(game, (np.array([0.0]), np.array([0]), np.array([np.nan])))
    with pytest.raises(InvalidInputError, match="equal length"):
        simulate(game, (np.array([0.0, 1.0]), np.array([0]), np.array([1])))
    with pytest.raises(InvalidInputError, match="nondecreasing"):
        simulate(game, trace_of([(1, 0, 1), (0, 0, 1)]))
    with pytest.raises(InvalidInputError, match="tuple"):
        simulate(game, (np.zeros(3), np.zeros(3)))
    # whole-number floats are ids like ints
    as_float = simulate(game, (np.array([0.0, 0.0]), np.array([1.0, 1.0]), np.array([2.0, 2.0])))
    assert np.array_equal(as_float, simulate(game, trace_of([(0, 1, 2), (0, 1, 2)])))


def test_empty_trace_rejected():
    empty = (np.array([]), np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(InvalidInputError, match="trace is empty"):
        simulate(small_game(), empty)
    with pytest.raises(InvalidInputError, match="trace is empty"):
        demand_from_trace(2, 4, empty)


def test_demand_from_trace_values_and_checks():
    d = demand_from_trace(2, 3, trace_of([(0, 0, 1), (2, 0, 1), (4, 1, 2)]))
    assert d.ravel().tolist() == pytest.approx([0, 0.5, 0, 0, 0, 0.25])   # counts over the 4-unit span
    with pytest.raises(InvalidInputError, match="n_blocks must be a positive integer, got 0"):
        demand_from_trace(2, 0, trace_of([(0, 0, 0)]))
    with pytest.raises(InvalidInputError, match="unknown block"):
        demand_from_trace(2, 3, trace_of([(0, 0, 3)]))
    with pytest.raises(InvalidInputError, match="n_requests"):
        synthetic_trace(2, 3, 0)
