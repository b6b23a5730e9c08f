"""Game 1: the prefill and decode pools share a GPU budget (paper Definition 1, Proposition 1).

:mod:`~gametheory.games.resource.model` holds the pool costs and the data model (the bottom layer),
:mod:`~gametheory.games.resource.continuous` the variational equilibrium / optimum on the continuous budget,
:mod:`~gametheory.games.resource.integer` the same on the integer worker grid,
:mod:`~gametheory.games.resource.game` the game object (a model that dispatches to those solvers),
:mod:`~gametheory.games.resource.closed_forms` symbolic solutions of two cost families,
:mod:`~gametheory.games.resource.decode_pool` the decode pool's ITL by Little's law and
:mod:`~gametheory.games.resource.planner` the Planner's +-1 dynamics on a load trace.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Definition 1,
   Proposition 1, Remark 1.
"""

from gametheory.games.resource.closed_forms import CASES, ClosedForms, NumericForms, derive, evaluate
from gametheory.games.resource.continuous import continuous_equilibrium, continuous_optimum, kkt_certificate
from gametheory.games.resource.decode_pool import decode_capacity_rps, little_decode_itl_ms
from gametheory.games.resource.game import PDResourceGame
from gametheory.games.resource.integer import (
    RoundingComparison,
    SplitTable,
    best_responses,
    compare_with_rounding,
    integer_equilibria,
    integer_equilibrium,
    integer_optimum,
    integer_price_of_anarchy,
    is_generalized_nash,
    one_step_certificate,
    split_table,
)
from gametheory.games.resource.model import InverseCost, MM1PoolCost, PDResourceModel, PerGPULoadCost
from gametheory.games.resource.planner import (
    DYNAMO_INTERVAL_S,
    PAPER_INTERVAL_S,
    ResourcePlannerModel,
)

__all__ = [
    "CASES",
    "DYNAMO_INTERVAL_S",
    "PAPER_INTERVAL_S",
    "ClosedForms",
    "InverseCost",
    "MM1PoolCost",
    "NumericForms",
    "PDResourceGame",
    "PDResourceModel",
    "PerGPULoadCost",
    "ResourcePlannerModel",
    "RoundingComparison",
    "SplitTable",
    "best_responses",
    "compare_with_rounding",
    "continuous_equilibrium",
    "continuous_optimum",
    "decode_capacity_rps",
    "derive",
    "evaluate",
    "integer_equilibria",
    "integer_equilibrium",
    "integer_optimum",
    "integer_price_of_anarchy",
    "is_generalized_nash",
    "kkt_certificate",
    "little_decode_itl_ms",
    "one_step_certificate",
    "split_table",
]
