"""Tests of Game 2 (selfish KV caching): model, equilibria, enumeration, experiments, bad input."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.games.caching import (
    chun_game,
    complete_topology,
    hierarchical_topology,
    line_topology,
    make_game,
    star_topology,
    tree_topology,
)
from gametheory.games.caching import experiments as ex
from gametheory.games.caching.solvers import best_response, best_response_dynamics, enumerate_profiles, strategies


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
        for row in strategies(game, i):
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
    # these 40 seeded instances (capacitated ones included) are ones where the dynamics converge: a
    # ConvergenceError here is a failure, not a skip
    res = best_response_dynamics(game, max_rounds=100)
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
    for rows in itertools.product(*[strategies(game, i) for i in range(game.n)]):
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


def brute_force_poa_pos(game):
    """(PoA, PoS, optimum, #NE) from the cost tensor of every profile, independent of the enumeration code.

    An equilibrium is a profile where no worker's cost exceeds the minimum over its own axis of the tensor
    (its every unilateral deviation), evaluated with the public ``game.player_costs``.
    """
    strat = [strategies(game, i) for i in range(game.n)]
    shape = tuple(len(r) for r in strat)
    costs = np.empty(shape + (game.n,))
    for idx in itertools.product(*[range(k) for k in shape]):
        costs[idx] = game.player_costs(np.array([strat[i][k] for i, k in enumerate(idx)]))
    is_eq = np.ones(shape, dtype=bool)
    for i in range(game.n):
        is_eq &= costs[..., i] <= costs[..., i].min(axis=i, keepdims=True) + 1e-12
    social = costs.sum(axis=-1)
    opt = social.min()
    return social[is_eq].max() / opt, social[is_eq].min() / opt, opt, int(is_eq.sum())


def hbm_game(B):
    """The instance of ``ex.hbm_saturation`` with B blocks, rebuilt here from its documented parameters."""
    from gametheory.games.caching import default_tier_access_ms

    return make_game(hierarchical_topology(2, 1), demand=np.outer([1.0, 0.3], np.ones(B)), recompute_ms=2.0,
                     capacity=[2, np.inf], access_ms=default_tier_access_ms()[:2], hold_cost=[0.2, 0.1],
                     shared=[False, False], tier_names=("G1", "G2"))


def test_hbm_saturation_against_brute_force():
    rows = ex.hbm_saturation(blocks=(1, 2, 3))
    for B, _, poa, pos, opt, n_eq in rows:
        b_poa, b_pos, b_opt, b_neq = brute_force_poa_pos(hbm_game(B))
        assert (poa, pos, opt, n_eq) == (pytest.approx(b_poa, rel=1e-12), pytest.approx(b_pos, rel=1e-12),
                                         pytest.approx(b_opt, rel=1e-12), b_neq)
    # the regime change: PoA is 1 while the blocks fit in G1 (2 slots) and strictly above 1 once they do not
    assert rows[0][2] == pytest.approx(1.0) and rows[1][2] == pytest.approx(1.0)
    assert rows[2][2] > 1.001


def test_enumeration_poa_matches_brute_force_tensor():
    rng = np.random.default_rng(77)
    for _ in range(10):
        game = random_game(rng, n=2, B=2, T=2)
        res = enumerate_profiles(game)
        b_poa, b_pos, b_opt, b_neq = brute_force_poa_pos(game)
        assert len(res.equilibria) == b_neq and res.optimum_cost == pytest.approx(b_opt)
        assert res.poa == pytest.approx(b_poa) and res.pos == pytest.approx(b_pos)


def test_enumeration_rechecks_every_equilibrium(monkeypatch):
    # unit line of 4, alpha 3 has equilibria costing 7, 8 and 9; corrupt the re-check of one costing 8
    from gametheory.errors import CertificateError
    from gametheory.games.caching import solvers as cs

    game = chun_game(line_topology(4), 3.0, server_ms=100)
    res = enumerate_profiles(game)
    costs = np.round(res.equilibrium_costs, 9)
    middle = [e for e, c in zip(res.equilibria, costs, strict=True) if costs.min() < c < costs.max()]
    assert middle, "the instance must have an equilibrium that is neither the best nor the worst"
    real = cs.equilibrium_gap

    def fake(g, s):
        gap, regrets = real(g, s)
        return (1.0, regrets) if np.array_equal(s, middle[0]) else (gap, regrets)

    monkeypatch.setattr(cs, "equilibrium_gap", fake)
    with pytest.raises(CertificateError, match="enumeration"):
        enumerate_profiles(game)


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


def test_best_response_validates_profile_and_worker():
    game = chun_game(line_topology(3), 1.5, server_ms=100)
    s = np.array([[-1], [0], [-1]])
    assert best_response(game, s, 1)[1] == pytest.approx(1.5)
    with pytest.raises(InvalidInputError, match="shape"):
        best_response(game, [[0]], 0)
    with pytest.raises(InvalidInputError, match="tier"):
        best_response(game, [[-1], [5], [-1]], 0)
    for bad in (-1, 3, 0.5, 1.0, True, "0"):
        with pytest.raises(InvalidInputError, match=f"worker must be an integer index in 0..2, got {bad!r}"):
            best_response(game, s, bad)


def test_best_response_dynamics_rejects_bad_options():
    game = chun_game(line_topology(3), 1.5, server_ms=100)
    with pytest.raises(InvalidInputError, match=r"order must be one of \['round_robin', 'random'\], got 'roundrobin'"):
        best_response_dynamics(game, order="roundrobin")
    with pytest.raises(InvalidInputError, match="max_rounds"):
        best_response_dynamics(game, max_rounds=0)
    assert best_response_dynamics(game, order="random", seed=1).success


def test_best_response_dynamics_raises_convergence_error_when_capped():
    # from the empty profile, one round is not enough to settle (the round that finds the equilibrium is the
    # second, without moves); max_rounds=1 must raise, not return an unchecked profile
    game = chun_game(line_topology(3), 1.5, server_ms=100)
    with pytest.raises(ConvergenceError, match="did not settle in 1 rounds"):
        best_response_dynamics(game, max_rounds=1)


def test_reproduce_section(tmp_path):
    from gametheory.reproduce import caching

    sec = caching.run(tmp_path)
    assert all(p.exists() for p in sec.figures) and len(sec.figures) == 2
    assert sec.summary["complete_graph_max_poa"] == pytest.approx(1.0)
    assert sec.summary["cache_paradox_poa"][1] > sec.summary["cache_paradox_poa"][0]
