"""Multi-commodity nonatomic congestion games on a directed graph (traffic assignment).

:mod:`~gametheory.games.network.game` holds the game and the TNTP reader glue;
:mod:`~gametheory.games.network.solvers` path-based gradient projection and the cvxpy program.

References
----------
.. [1] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956.
.. [2] Transportation Networks for Research Core Team, "Transportation Networks for Research" (TNTP format),
   https://github.com/bstabler/TransportationNetworks.
"""

from gametheory.games.network.game import METHODS, NetworkGame, read_tntp
from gametheory.games.network.solvers import (
    BPRCosts,
    CurveCosts,
    MarginalCosts,
    ShortestPaths,
    cvxpy_assignment,
    gradient_projection,
    origin_rows,
)

__all__ = [
    "BPRCosts",
    "CurveCosts",
    "METHODS",
    "MarginalCosts",
    "NetworkGame",
    "ShortestPaths",
    "cvxpy_assignment",
    "gradient_projection",
    "origin_rows",
    "read_tntp",
]
