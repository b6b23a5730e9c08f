"""Multi-commodity nonatomic congestion games on a directed graph (traffic assignment).

:mod:`~gametheory.games.network.game` holds the game and the TNTP reader glue;
:mod:`~gametheory.games.network.solvers` path-based gradient projection and the cvxpy program.
"""

from gametheory.games.network.game import NetworkGame, NetworkResult, read_tntp
from gametheory.games.network.solvers import (
    AssignmentResult,
    BPRCosts,
    CurveCosts,
    MarginalCosts,
    cvxpy_assignment,
    gradient_projection,
)

__all__ = [
    "AssignmentResult",
    "BPRCosts",
    "CurveCosts",
    "MarginalCosts",
    "NetworkGame",
    "NetworkResult",
    "cvxpy_assignment",
    "gradient_projection",
    "read_tntp",
]
