"""Game 3: requests routed over parallel workers (paper Definition 3, Proposition 3).

:mod:`~gametheory.games.routing.game` holds the nonatomic routing game with and without cache affinity;
:mod:`~gametheory.games.routing.wardrop` the exact water-filling solver for one class;
:mod:`~gametheory.games.routing.cache_routing` the projection method and the MILP optimum with cache affinity;
:mod:`~gametheory.games.routing.cvx` the same programs in cvxpy;
:mod:`~gametheory.games.routing.atomic` the atomic (unsplittable) game;
:mod:`~gametheory.games.routing.across_load` the PoA swept across load next to the class bound.

References
----------
.. [1] T. Roughgarden, E. Tardos, "How bad is selfish routing?", J. ACM 49(2), 2002.
"""

from gametheory.games.routing.across_load import PoAAcrossLoad, poa_across_load
from gametheory.games.routing.atomic import AtomicRoutingGame
from gametheory.games.routing.game import RoutingGame
from gametheory.games.routing.wardrop import CurveBank, WaterFillResult, water_fill

__all__ = [
    "AtomicRoutingGame",
    "CurveBank",
    "PoAAcrossLoad",
    "RoutingGame",
    "WaterFillResult",
    "poa_across_load",
    "water_fill",
]
