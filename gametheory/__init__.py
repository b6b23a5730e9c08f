"""gametheory: disaggregated LLM serving as three coupled games.

Game 1 (:mod:`gametheory.games.resource`): the prefill/decode pools share a GPU budget.
Game 2 (:mod:`gametheory.games.caching`): workers cache KV blocks across memory tiers.
Game 3 (:mod:`gametheory.games.routing`): requests pick workers through a cache-aware router.
The coupled system (:mod:`gametheory.games.coupled`) plays the three together.

Every game answers ``equilibrium(method=...)``, ``optimum(method=...)`` and ``price_of_anarchy()``; solutions
are :class:`Result` objects (:mod:`gametheory.results`). Latency curves (:mod:`gametheory.latency`) fitted to
measured B200 profiles (:mod:`gametheory.serving.profiles`) feed all three; :mod:`gametheory.bounds` turns
curves into Price-of-Anarchy bounds and :mod:`gametheory.regimes` finds the saturation knee. The game classes
are imported on first use, so ``import gametheory`` stays light.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026.
"""

from importlib import import_module

from gametheory.errors import (
    CapacityExceededError,
    CertificateError,
    ConvergenceError,
    GameTheoryError,
    InvalidInputError,
    NoKneeError,
    StatisticsWarning,
)
from gametheory.results import Result

__version__ = "0.1.0"

#: public names imported on first use: name -> module
_LAZY = {
    "AtomicRoutingGame": "gametheory.games.routing",
    "CachingGame": "gametheory.games.caching",
    "CoupledSystem": "gametheory.games.coupled",
    "NetworkGame": "gametheory.games.network",
    "PDResourceGame": "gametheory.games.resource",
    "RoutingGame": "gametheory.games.routing",
    "assess": "gametheory.assessment",
}


def __getattr__(name: str):
    """The game classes and :func:`gametheory.assessment.assess`, imported on first use (PEP 562)."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gametheory' has no attribute {name!r}")


__all__ = [
    "AtomicRoutingGame",
    "CachingGame",
    "CapacityExceededError",
    "CertificateError",
    "ConvergenceError",
    "CoupledSystem",
    "GameTheoryError",
    "InvalidInputError",
    "NetworkGame",
    "NoKneeError",
    "PDResourceGame",
    "Result",
    "RoutingGame",
    "StatisticsWarning",
    "__version__",
    "assess",
]
