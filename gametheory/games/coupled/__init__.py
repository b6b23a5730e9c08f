"""The coupled system of paper section 4.4: the P/D split, prefix caching and routing played together.

:mod:`~gametheory.games.coupled.system` holds :class:`CoupledSystem`, composed from the three games (the
routing game's multiclass variant, the caching game's best response, the one Planner step);
:mod:`~gametheory.games.coupled.analysis` its experiments on a measured profile.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 4.4.
"""

from gametheory.games.coupled.analysis import (
    PREFILL_BATCH,
    capacity_one_prefill,
    dynamics_by_regime,
    paper_system,
    planner_on_load_step,
    poa_across_load,
    poa_across_system_load,
)
from gametheory.games.coupled.system import (
    PLANNER_RTOL,
    CoupledPlannerModel,
    CoupledSystem,
    PoABreakdown,
    SplitDecomposition,
    resize,
)

__all__ = [
    "PLANNER_RTOL",
    "PREFILL_BATCH",
    "CoupledPlannerModel",
    "CoupledSystem",
    "PoABreakdown",
    "SplitDecomposition",
    "capacity_one_prefill",
    "dynamics_by_regime",
    "paper_system",
    "planner_on_load_step",
    "poa_across_load",
    "poa_across_system_load",
    "resize",
]
