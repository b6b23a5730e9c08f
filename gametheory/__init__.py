"""gametheory: disaggregated LLM serving as three coupled games.

Game 1 (:mod:`gametheory.games.resource`): the prefill/decode pools share a GPU budget.
Game 2 (:mod:`gametheory.games.caching`): workers cache KV blocks across memory tiers.
Game 3 (:mod:`gametheory.games.routing`): requests pick workers through a cache-aware router.

Latency curves (:mod:`gametheory.latency`) fitted to measured B200 profiles
(:mod:`gametheory.serving.profiles`) feed all three; :mod:`gametheory.bounds` turns curves into
Price-of-Anarchy bounds and :mod:`gametheory.regimes` finds the saturation knee.
"""

from gametheory.errors import (
    CapacityExceededError,
    CertificateError,
    ConvergenceError,
    GameTheoryError,
    InvalidInputError,
)

__version__ = "0.1.0"

__all__ = [
    "CapacityExceededError",
    "CertificateError",
    "ConvergenceError",
    "GameTheoryError",
    "InvalidInputError",
    "__version__",
]
