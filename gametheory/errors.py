"""Named errors. Every failure the toolkit reports is one of these, with the field and value in the text.

References
----------
.. [1] Python documentation, "Built-in Exceptions" (``ValueError`` and ``RuntimeError``, which the named
   errors also are).
"""

from __future__ import annotations

__all__ = [
    "CapacityExceededError",
    "CertificateError",
    "ConvergenceError",
    "GameTheoryError",
    "InvalidInputError",
    "NoKneeError",
    "SimulationLimitError",
    "StatisticsWarning",
]


class GameTheoryError(Exception):
    """Base class of every error raised by :mod:`gametheory`."""


class InvalidInputError(GameTheoryError, ValueError):
    """An argument is malformed: NaN, negative where it must not be, wrong shape, not monotone, ...

    The message names the field and the offending value.
    """


class CapacityExceededError(InvalidInputError):
    """A latency curve was evaluated at or beyond its capacity (the pole of M/M/1 or Pole curves).

    Parameters
    ----------
    load, capacity : float
        The load asked for and the capacity it reaches.
    what : str
        What saturated.
    message : str, optional
        A message replacing the default one.
    """

    def __init__(self, load: float, capacity: float, what: str = "latency curve", message: str | None = None):
        self.load = float(load)
        self.capacity = float(capacity)
        super().__init__(
            message or f"{what}: load {self.load:.6g} is at or beyond capacity {self.capacity:.6g}; "
            "latency is infinite there"
        )


class ConvergenceError(GameTheoryError, RuntimeError):
    """A solver stopped before meeting its tolerance. ``gap`` holds the best gap it reached.

    Parameters
    ----------
    message : str
    gap, tolerance : float, optional
        The best gap reached and the tolerance missed.
    """

    def __init__(self, message: str, gap: float | None = None, tolerance: float | None = None):
        self.gap = gap
        self.tolerance = tolerance
        if gap is not None:
            message = f"{message} (reached gap {gap:.3e}" + (
                f", tolerance {tolerance:.3e})" if tolerance is not None else ")"
            )
        super().__init__(message)


class CertificateError(GameTheoryError, RuntimeError):
    """A solver produced a point whose certificate (equilibrium gap, KKT residual) does not hold."""


class StatisticsWarning(UserWarning):
    """A result was computed but its statistics are weak: too few points for the parameters, latency that does
    not rise with load, knee methods that disagree. The same text is kept in the result's ``warnings``."""


class NoKneeError(InvalidInputError):
    """A knee method found no knee: the data are straight, flat or concave, or too few to tell a knee from
    noise. ``method`` names the method and ``reason`` says why (with the evidence it weighed).

    Parameters
    ----------
    method : str
    reason : str
    """

    def __init__(self, method: str, reason: str):
        self.method = method
        self.reason = reason
        super().__init__(f"y (latency): no knee found by method {method!r}: {reason}")


class SimulationLimitError(GameTheoryError, RuntimeError):
    """A simulation exceeded its bound on processed events (a guard against runs that would not end)."""
