"""Tests of Game 2 (selfish KV caching): model, equilibria, enumeration, experiments, bad input."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.games import caching_experiments as ex
from gametheory.games.caching import (
    chun_game,
    complete_topology,
    hierarchical_topology,
    line_topology,
    make_game,
    star_topology,
    tree_topology,
)
from gametheory.games.caching_solvers import _strategies, best_response_dynamics, enumerate_profiles


def random_game(rng, n=None, B=None, T=None, topo=None):
    n = n or int(rng.integers(2, 4))
    B = B or int(rng.integers(1, 3))
    T = T or int(rng.integers(1, 3))
    builders = [lambda: complete_topology(n, rng.uniform(0.2, 2)), lambda: line_topology(n, rng.uniform(0.2, 2)),
                lambda: star_topology(n, rng.uniform(0.2, 2))]
    g = builders[int(rng.integers(3))]() if topo is None else topo
    return make_game(g, demand=rng.uniform(0, 3, (n, B)), recompute_ms=rng.uniform(1, 5, B),
                     capacity=rng.choice([0, 1, 2, np.inf], size=(n, T)), access_ms=rng.uniform(0, 1, (n, T)),
                     hold_cost=rng.uniform(0, 3, (n, T)), shared=rng.random(T) < 0.3)


def every_deviation_regret(game, s):
    """Largest gain of any unilateral deviation, by listing every feasible strategy (independent of BR code)."""
    worst = 0.0
    base = game.player_costs(s)
    for i in range(game.n):
        for row in _strategies(game, i):
            t = s.copy()
            t[i] = row
            worst = max(worst, base[i] - game.player_costs(t)[i])
    return worst


def test_chun_line_hand_values():
    # unit line of 3, alpha 1.5: one replica in the middle costs 1.5 + 2 = 3.5, and is an equilibrium
    g = chun_game(line_topology(3), 1.5, server_ms=100)
    assert g.social_cost([[-1], [0], [-1]]) == pytest.approx(3.5)
    assert g.player_costs([[0], [-1], [-1]]).tolist() == pytest.approx([1.5, 1.0, 2.0])
    res = enumerate_profiles(g)
    assert res.optimum_cost == pytest.approx(3.5)
    # replicas at both ends (3.0 + 1) is also an equilibrium: node 1 pays 1 < 1.5, holders would pay 2 > 1.5
    assert any((e[:, 0] == [0, -1, 0]).all() for e in res.equilibria)
    assert res.poa == pytest.approx(4.0 / 3.5)


@pytest.mark.parametrize("seed", range(40))
def test_best_response_dynamics_is_equilibrium(seed):
    rng = np.random.default_rng(seed)
    game = random_game(rng)
    try:
        res = best_response_dynamics(game, max_rounds=100)
    except ConvergenceError:  # dynamics may cycle in capacitated games; then no claim is made (counted below)
        pytest.skip("best-response dynamics cycled on this capacitated instance")
    assert res.certificate.ok
    assert every_deviation_regret(game, res.profile) <= 1e-9 * max(1.0, res.cost)
    enum = enumerate_profiles(game)
    assert res.cost >= enum.optimum_cost - 1e-9
    assert any((e == res.profile).all() for e in enum.equilibria)


@pytest.mark.parametrize("seed", range(15))
def test_enumeration_lists_exactly_the_equilibria(seed):
    rng = np.random.default_rng(100 + seed)
    game = random_game(rng, n=2, B=2, T=2)
    res = enumerate_profiles(game)
    listed = {e.tobytes() for e in res.equilibria}
    for rows in itertools.product(*[_strategies(game, i) for i in range(game.n)]):
        s = np.array(rows)
        is_eq = every_deviation_regret(game, s) <= 1e-9
        assert is_eq == (s.tobytes() in listed)


@pytest.mark.parametrize("seed", range(30))
def test_complete_graph_poa_is_one_under_assumptions(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 7))
    d = float(rng.uniform(0.1, 2))
    w = float(rng.uniform(0.1, 3))
    server = d + float(rng.uniform(0, 5))          # R >= a + d (a = 0)
    alpha = float(rng.uniform(0, w * server))      # alpha < w (R - a): some worker holds alone
    res = enumerate_profiles(chun_game(complete_topology(n, d), alpha, demand=w, server_ms=server,
                                       n_blocks=int(rng.integers(1, 3))))
    assert res.poa == pytest.approx(1.0, abs=1e-12)


def test_complete_graph_counterexamples_break_poa_one():
    rows = dict((name, poa) for name, poa, _ in ex.complete_graph_counterexamples())
    assert rows["heterogeneous demand"] == pytest.approx(30 / 21)
    assert rows["alpha >= demand * server"] > 1.5


def test_complete_graph_experiment():
    assert all(r[2] == pytest.approx(1.0) for r in ex.complete_graph_poa(ns=(2, 3, 4)))


def test_line_poa_grows():
    rows = ex.line_poa(ns=range(2, 9), alpha_grid=2)
    poa = [r[2] for r in rows]
    assert poa[0] == pytest.approx(1.0)
    assert all(b >= a - 1e-12 for a, b in zip(poa, poa[1:], strict=False))
    assert poa[-1] > 1.5
    # worst case at alpha = n - 1: one replica at an end is an equilibrium costing alpha + n (n - 1) / 2
    n = 8
    g = chun_game(line_topology(n), n - 1.0, server_ms=1e4)
    s = np.full((n, 1), -1)
    s[0, 0] = 0
    assert g.social_cost(s) == pytest.approx(n - 1 + n * (n - 1) / 2)
    assert every_deviation_regret(g, s) <= 0


def test_cache_paradox():
    before, after, _, _ = ex.cache_paradox()
    assert before.poa == pytest.approx(1.0)
    assert after.poa == pytest.approx(41.4 / 36.0)
    assert after.optimum_cost == pytest.approx(36.0)


def test_hbm_saturation_runs():
    rows = ex.hbm_saturation(blocks=(1, 2, 3))
    assert rows[0][2] == pytest.approx(1.0) and rows[1][2] == pytest.approx(1.0)
    assert rows[2][2] >= 1.0


def test_topology_builders():
    assert nx.is_connected(tree_topology(2, 2))
    h = hierarchical_topology(2, 2, intra_ms=0.1, inter_ms=1.0)
    game = chun_game(h, 1.0)
    assert game.dist[0, 1] == pytest.approx(0.1) and game.dist[0, 2] == pytest.approx(1.0)
    assert star_topology(4).degree[0] == 3


def test_solving_does_not_mutate():
    game = chun_game(line_topology(4), 2.0)
    before = game.demand.copy()
    best_response_dynamics(game)
    enumerate_profiles(game)
    assert (game.demand == before).all()
    with pytest.raises(ValueError):
        game.demand[0, 0] = 5


def test_bad_inputs():
    g = line_topology(2)
    with pytest.raises(InvalidInputError, match="capacity must be >= 0"):
        make_game(g, demand=[[1.0], [1.0]], recompute_ms=1.0, capacity=[-1, 1, 1, 1])
    two = nx.Graph()
    two.add_nodes_from([0, 1])
    with pytest.raises(InvalidInputError, match="disconnected"):
        make_game(two, demand=[[1.0], [1.0]], recompute_ms=1.0, capacity=[1, 1, 1, 0])
    make_game(two, demand=[[1.0], [1.0]], recompute_ms=1.0)  # G4 (shared remote tier) connects them
    with pytest.raises(InvalidInputError, match="unknown block"):
        make_game(g, demand=[{"a": 1.0}, {"zz": 2.0}], recompute_ms=1.0, block_names=["a", "b"])
    with pytest.raises(InvalidInputError, match="demand"):
        make_game(g, demand=[[np.nan], [1.0]], recompute_ms=1.0)
    with pytest.raises(InvalidInputError, match="rows"):
        make_game(g, demand=[[1.0]], recompute_ms=1.0)
    game = chun_game(g, 1.0)
    with pytest.raises(InvalidInputError, match="shape"):
        game.social_cost([[0]])
    capped = make_game(g, demand=[[1.0, 1.0], [1.0, 1.0]], recompute_ms=1.0, capacity=[1, 0, 0, 0])
    with pytest.raises(InvalidInputError, match="capacity"):
        capped.social_cost([[0, 0], [-1, -1]])


def test_reproduce_section(tmp_path):
    from gametheory.reproduce import caching

    sec = caching.run(tmp_path)
    assert all(p.exists() for p in sec.figures) and len(sec.figures) == 2
    assert sec.summary["complete_graph_max_poa"] == pytest.approx(1.0)
    assert sec.summary["cache_paradox_poa"][1] > sec.summary["cache_paradox_poa"][0]
