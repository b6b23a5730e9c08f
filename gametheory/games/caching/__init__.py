"""Game 2: selfish KV caching across workers and memory tiers (paper Definition 2, Propositions 2 and 5).

:mod:`~gametheory.games.caching.model` holds the data model and the cost of a profile (the bottom layer);
:mod:`~gametheory.games.caching.solvers` best-response dynamics and exhaustive enumeration;
:mod:`~gametheory.games.caching.milp` the social optimum as a MILP;
:mod:`~gametheory.games.caching.game` the game object (a model that dispatches to those solvers), its
topologies and tier costs;
:mod:`~gametheory.games.caching.kvbm` Dynamo's KVBM eviction policy simulated on a trace;
:mod:`~gametheory.games.caching.experiments` the section's experiments (complete graph, line, paradox, HBM).

References
----------
.. [1] B.-G. Chun et al., "Selfish caching in distributed systems: a game-theoretic analysis", PODC 2004.
"""

from gametheory.games.caching.game import (
    BLOCK_TOKENS,
    IB_NDR_GBPS,
    KV_BYTES_PER_TOKEN,
    NVLINK5_GBPS,
    TIER_BANDWIDTH_GBPS,
    TIER_HOLD_WEIGHT,
    TIER_LATENCY_MS,
    TIER_NAMES,
    CachingGame,
    block_bytes,
    chun_game,
    complete_topology,
    default_tier_access_ms,
    hierarchical_topology,
    infiniband_ms,
    line_topology,
    make_game,
    nvlink_ms,
    recompute_ms_from_profile,
    star_topology,
    transfer_ms,
    tree_topology,
)
from gametheory.games.caching.milp import social_optimum_bruteforce, social_optimum_milp
from gametheory.games.caching.model import CachingModel, player_costs_batch, reach_costs
from gametheory.games.caching.solvers import (
    EnumerationResult,
    best_response,
    best_response_dynamics,
    enumerate_profiles,
    equilibrium_gap,
    ratio,
    strategies,
)

__all__ = [
    "BLOCK_TOKENS",
    "IB_NDR_GBPS",
    "KV_BYTES_PER_TOKEN",
    "NVLINK5_GBPS",
    "TIER_BANDWIDTH_GBPS",
    "TIER_HOLD_WEIGHT",
    "TIER_LATENCY_MS",
    "TIER_NAMES",
    "CachingGame",
    "CachingModel",
    "EnumerationResult",
    "best_response",
    "best_response_dynamics",
    "block_bytes",
    "chun_game",
    "complete_topology",
    "default_tier_access_ms",
    "enumerate_profiles",
    "equilibrium_gap",
    "ratio",
    "strategies",
    "hierarchical_topology",
    "infiniband_ms",
    "line_topology",
    "make_game",
    "nvlink_ms",
    "player_costs_batch",
    "reach_costs",
    "recompute_ms_from_profile",
    "social_optimum_bruteforce",
    "social_optimum_milp",
    "star_topology",
    "transfer_ms",
    "tree_topology",
]
