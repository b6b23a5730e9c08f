"""The coupled system of paper section 4.4: the P/D split, prefix caching and routing played together.

:mod:`~gametheory.games.coupled.system` holds the system, its equilibrium, optimum, PoA and Planner loops.
"""

from gametheory.games.coupled.system import (
    CoupledEquilibrium,
    CoupledOptimum,
    CoupledSystem,
    RoutingState,
    SplitDecomposition,
    cache_best_response,
    coupled_equilibrium,
    decode_capacity_rps,
    decode_itl_ms,
    decompose_fixed_split,
    joint_optimum,
    planner_dynamics,
    planner_orbit,
    prefill_capacity_rps,
    price_of_anarchy,
    route,
    split_optima,
)

__all__ = [
    "CoupledEquilibrium",
    "CoupledOptimum",
    "CoupledSystem",
    "RoutingState",
    "SplitDecomposition",
    "cache_best_response",
    "coupled_equilibrium",
    "decode_capacity_rps",
    "decode_itl_ms",
    "decompose_fixed_split",
    "joint_optimum",
    "planner_dynamics",
    "planner_orbit",
    "prefill_capacity_rps",
    "price_of_anarchy",
    "route",
    "split_optima",
]
