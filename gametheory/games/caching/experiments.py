"""Experiments on the selfish KV caching game (paper Proposition 2, Remark 2, the cache paradox, Proposition 5).

Each function builds its instances, solves them exactly (enumeration of all pure profiles; MILP where
stated) and returns plain rows; docs/figures/make_caching.py and gametheory/reproduce/caching.py plot/print
them. All PoA values are exact pure PoA = worst pure Nash equilibrium / social optimum.

References
----------
.. [1] B.-G. Chun et al., "Selfish caching in distributed systems: a game-theoretic analysis", PODC 2004
   (PoA on complete graphs and lines).
.. [2] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Propositions 2
   and 5, Remark 2.
"""

from __future__ import annotations

import numpy as np

from gametheory._progress import progress
from gametheory._validate import flag, integer, nonnegative_array, number_list
from gametheory.games.caching.game import (
    chun_game,
    complete_topology,
    default_tier_access_ms,
    hierarchical_topology,
    line_topology,
    make_game,
    nvlink_ms,
)
from gametheory.games.caching.solvers import enumerate_profiles

__all__ = [
    "cache_paradox",
    "complete_graph_counterexamples",
    "complete_graph_poa",
    "hbm_saturation",
    "hierarchical_poa",
    "kvbm_vs_game",
    "line_poa",
]


def complete_graph_poa(ns=(2, 3, 4, 5, 6), alphas=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0), d: float = 1.0,
                       demand: float = 1.0, server_ms: float = 50.0) -> list[tuple]:
    """Rows (n, alpha, PoA, PoS, #equilibria) on the complete graph with uniform cost d and uniform demand.

    The assumptions of the theorem in docs/caching.md hold when alpha < demand * server_ms (true here).

    Parameters
    ----------
    ns : iterable of int
        Numbers of workers n (nodes of the complete graph).
    alphas : iterable of float
        Placement costs alpha (ms) of a replica.
    d : float
        Distance (access cost, ms) between any two workers.
    demand : float
        Request rate of every worker for the object.
    server_ms : float
        Cost (ms) of fetching from the origin server when no replica is reachable.

    Returns
    -------
    list of tuple
        One row ``(n, alpha, PoA, PoS, number of pure equilibria)`` per (n, alpha), n varying slowest.
    """
    ns, alphas = number_list(ns, "ns", integers=True), number_list(alphas, "alphas")
    rows = []
    for n in ns:
        for a in alphas:
            res = enumerate_profiles(chun_game(complete_topology(n, d), a, demand=demand, server_ms=server_ms))
            rows.append((n, a, res.poa, res.pos, len(res.equilibria)))
    return rows


def complete_graph_counterexamples() -> list[tuple]:
    """Instances on the complete graph where an assumption of the theorem fails and PoA > 1.

    (a) heterogeneous demand (1, 10), alpha = 20, d = 1, server 100: the light worker may hold the only copy;
    (b) alpha >= demand * server for every worker (nobody holds alone) with n = 4: the empty profile is an
        equilibrium although one shared copy is cheaper (a public-good failure).

    Returns
    -------
    list of tuple
        Rows ``(instance name, PoA, PoS)`` for instances (a) and (b).
    """
    a = enumerate_profiles(chun_game(complete_topology(2, 1.0), 20.0, demand=np.array([1.0, 10.0]), server_ms=100.0))
    b = enumerate_profiles(chun_game(complete_topology(4, 1.0), 10.5, demand=1.0, server_ms=10.0))
    return [("heterogeneous demand", a.poa, a.pos), ("alpha >= demand * server", b.poa, b.pos)]


def line_poa(ns=range(2, 13), alpha_grid: int = 4, server_ms: float = 1e4) -> list[tuple]:
    """Rows (n, worst alpha, PoA, sqrt(n), PoA at alpha = n/2 (centre replica)) on a unit line with unit demand.

    Lower-bound construction after Chun et al. (PODC 2004, line topology): with placement cost alpha of order
    n, a single replica in the middle is an equilibrium (every node is within distance alpha of it and the
    holder, being the only copy, keeps it) and costs about alpha + n^2/4, while the optimum spaces replicas
    2 sqrt(alpha) apart for about n sqrt(alpha); the ratio grows like sqrt(n). ``alpha`` ranges over
    ``{k/alpha_grid : k = 1..alpha_grid*n}`` and the worst exact PoA is reported.

    Parameters
    ----------
    ns : iterable of int
        Numbers of nodes n of the line (each instance enumerates all 2^n profiles).
    alpha_grid : int
        Grid points per unit of alpha (1..1000).
    server_ms : float
        Cost (ms) of fetching from the origin server (large: a replica is always worth reaching).

    Returns
    -------
    list of tuple
        One row ``(n, worst alpha, its PoA, sqrt(n), PoA at alpha = n/2)`` per n.
    """
    ns = number_list(ns, "ns", integers=True)
    alpha_grid = integer(alpha_grid, "alpha_grid", minimum=1, maximum=1000)
    # one enumeration of 2^n profiles per alpha and one at alpha = n/2: the bar is weighted by that work
    done = progress(ns, "line PoA (exact enumeration)", weights=[(alpha_grid * n + 1) * 2.0 ** n for n in ns],
                    leave=False)
    rows = []
    for n in done:
        best = (0.0, None)
        for k in range(1, alpha_grid * n + 1):
            a = k / alpha_grid
            poa = enumerate_profiles(chun_game(line_topology(n, 1.0), a, server_ms=server_ms)).poa
            if poa > best[0] + 1e-12:
                best = (poa, a)
        chun = enumerate_profiles(chun_game(line_topology(n, 1.0), n / 2.0, server_ms=server_ms)).poa
        rows.append((n, best[1], best[0], float(np.sqrt(n)), chun))
    return rows


def cache_paradox():
    """Two workers one hop apart; adding a cheap, slower G2 cache at worker A raises the PoA from 1.

    Before: only G1 (placement 35, access 0); demands A = 1, B = 10; recompute 20. The unique equilibrium
    is "B holds", which is optimal. After adding G2 at A (placement 5, access 2.4), "A holds in G2, B fetches"
    is also an equilibrium (B pays 10 * 3.4 = 34 < 35) but costs 41.4 against the optimum 36.
    Returns (before, after) enumeration results and the two games.

    Returns
    -------
    tuple
        ``(before, after, game_before, game_after)``: the two
        :class:`~gametheory.games.caching.solvers.EnumerationResult` and the two games.
    """
    g = line_topology(2, 1.0)
    kw = dict(demand=np.array([[1.0], [10.0]]), recompute_ms=20.0, access_ms=[0.0, 2.4],
              hold_cost=[35.0, 5.0], shared=[False, False], tier_names=("G1", "G2"))
    before = make_game(g, capacity=[[np.inf, 0.0], [np.inf, 0.0]], **kw)
    after = before.with_capacity(0, 1, np.inf)
    return enumerate_profiles(before), enumerate_profiles(after), before, after


def hbm_saturation(blocks=(1, 2, 3, 4, 5), g1_capacity: int = 2, recompute_ms: float = 2.0,
                   demand=(1.0, 0.3), hold_cost=(0.2, 0.1), hierarchical: bool = True) -> list[tuple]:
    """Rows (blocks, G1 capacity, PoA, PoS, optimum, #equilibria) as the context (blocks demanded) passes G1.

    Two workers (two nodes over InfiniBand when ``hierarchical``, else NVLink); tiers G1 (``g1_capacity``
    blocks) and G2 (uncapacitated) with the default access costs; placement cost ``hold_cost`` (G1, G2)
    per block; every block demanded at rate ``demand[i]``. Exact enumeration of all profiles.

    Parameters
    ----------
    blocks : iterable of int
        Context sizes: numbers of blocks B every worker demands.
    g1_capacity : int
        Blocks that fit in each worker's G1 (HBM).
    recompute_ms : float
        Cost (ms) of recomputing a block that no tier holds.
    demand : sequence of float
        Request rate of each of the two workers for every block.
    hold_cost : sequence of float
        Placement cost per block in G1 and in G2 (same units as the access costs).
    hierarchical : bool
        Workers on two nodes over InfiniBand (True) or on one node over NVLink (False).

    Returns
    -------
    list of tuple
        One row ``(B, G1 capacity, PoA, PoS, optimum cost, number of pure equilibria)`` per B.
    """
    blocks = number_list(blocks, "blocks", integers=True)
    g1_capacity = integer(g1_capacity, "g1_capacity", minimum=0)
    demand = nonnegative_array(demand, "demand", ndim=1)
    g = hierarchical_topology(2, 1) if flag(hierarchical, "hierarchical") else complete_topology(2, nvlink_ms())
    acc = default_tier_access_ms()[:2]
    rows = []
    for B in blocks:
        dm = np.outer(demand, np.ones(B))
        game = make_game(g, demand=dm, recompute_ms=recompute_ms, capacity=[g1_capacity, np.inf], access_ms=acc,
                         hold_cost=list(hold_cost), shared=[False, False], tier_names=("G1", "G2"))
        res = enumerate_profiles(game)
        rows.append((B, g1_capacity, res.poa, res.pos, res.optimum_cost, len(res.equilibria)))
    return rows


def hierarchical_poa(nodes=(2, 3), gpus_per_node=2, alphas=(0.01, 0.1, 0.5, 1.0)) -> list[tuple]:
    """Rows (nodes, gpus/node, alpha, PoA) of Chun's game on the two-level NVLink/InfiniBand hierarchy.

    Parameters
    ----------
    nodes : iterable of int
        Numbers of nodes m.
    gpus_per_node : int
        GPUs per node (NVLink inside a node, InfiniBand between nodes).
    alphas : iterable of float
        Placement costs alpha (ms) of a replica.

    Returns
    -------
    list of tuple
        One row ``(nodes, gpus per node, alpha, PoA)`` per (nodes, alpha), nodes varying slowest.
    """
    nodes, alphas = number_list(nodes, "nodes", integers=True), number_list(alphas, "alphas")
    rows = []
    for m in nodes:
        for a in alphas:
            game = chun_game(hierarchical_topology(m, gpus_per_node), a, server_ms=5.0)
            rows.append((m, gpus_per_node, a, enumerate_profiles(game).poa))
    return rows


def kvbm_vs_game(seeds=(0, 1, 2), n_workers: int = 3, n_blocks: int = 6, n_requests: int = 2000,
                 recompute_ms: float = 5.0) -> list[tuple]:
    """Rows (seed, KVBM cost, equilibrium cost, optimum cost, KVBM/opt, KVBM regret) on a 3-node IB line.

    Demand = empirical request rate of a seeded Zipf trace (x100 to express per-100-time-unit rates); tiers
    G1 (2 blocks), G2 (3 blocks), G3, G4 uncapacitated with default access costs; ``recompute_ms`` = the
    recompute cost of a block (ms; e.g. :func:`~gametheory.games.caching.game.recompute_ms_from_profile`).

    Parameters
    ----------
    seeds : iterable of int
        Seeds of the synthetic Zipf traces, one row each.
    n_workers : int
        Workers (nodes of the InfiniBand line).
    n_blocks : int
        Distinct KV blocks in the trace.
    n_requests : int
        Requests per trace.
    recompute_ms : float
        Cost (ms) of recomputing a block that no tier holds.

    Returns
    -------
    list of tuple
        One row ``(seed, KVBM cost, equilibrium cost, optimum cost, KVBM / optimum, KVBM regret)`` per seed.
    """
    from gametheory.games.caching.game import infiniband_ms
    from gametheory.games.caching.kvbm import compare_with_game, demand_from_trace, synthetic_trace

    rc = recompute_ms
    seeds = number_list(seeds, "seeds", integers=True)
    rows = []
    for seed in seeds:
        tr = synthetic_trace(n_workers, n_blocks, n_requests, seed=seed)
        game = make_game(line_topology(n_workers, infiniband_ms()),
                         demand=demand_from_trace(n_workers, n_blocks, tr) * 100, recompute_ms=rc,
                         capacity=[2, 3, np.inf, np.inf], hold_cost=[0.3, 0.1, 0.05, 0.04])
        r = compare_with_game(game, tr)
        rows.append((seed, r.kvbm_cost, r.equilibrium_cost, r.optimum_cost, r.kvbm_ratio, r.kvbm_regret))
    return rows
