"""The one result type of the games: a certified equilibrium or optimum.

Every game of :mod:`gametheory.games` answers ``equilibrium(method=...)`` and ``optimum(method=...)`` with a
:class:`Result`, in the spirit of :class:`scipy.optimize.OptimizeResult`: the strategy (``x``), the social
cost (``cost``), the certificate that proves the claim (``certificate``, checked when the result is built),
how the answer was reached (``status``, ``message``, ``nit``, ``method``) and game-specific extras as plain
attributes (``worker_flows``, ``pool_costs``, ``cache``, ...). A solver that cannot certify its point raises
(:class:`~gametheory.errors.CertificateError`, :class:`~gametheory.errors.ConvergenceError`,
:class:`~gametheory.errors.CapacityExceededError`); it never returns a result that failed.

References
----------
.. [1] P. Virtanen et al., "SciPy 1.0: fundamental algorithms for scientific computing in Python",
   Nature Methods 17, 2020 (``scipy.optimize.OptimizeResult``, the model of this type).
"""

from __future__ import annotations

import math
from numbers import Real

from gametheory.certificates import Certificate
from gametheory.display import Readable
from gametheory.errors import CertificateError, InvalidInputError

__all__ = ["KINDS", "STATUSES", "Result"]

#: what a result solves for
KINDS = ("equilibrium", "optimum")
#: how the answer was established: an iterative method met its tolerance, an exact method (closed form,
#: enumeration, a linear or integer program solved to optimality) found it, or it sits at a bound of the
#: strategy set (a corner of the budget, a saturated resource left unused)
STATUSES = ("converged", "exact", "corner")


class Result(Readable):
    """A certified equilibrium or optimum of a game.

    Parameters
    ----------
    kind : {"equilibrium", "optimum"}
        What was solved for.
    x : array_like or tuple
        The strategy: flows, a split, a cache placement, an assignment. ``x_name`` names it, and the result
        answers to that name too (``result.flows is result.x`` for a routing game).
    cost : float
        The social cost at ``x`` (finite; the game's own unit, e.g. ms).
    certificate : Certificate
        The residual that proves the claim (relative Wardrop gap, KKT residual, equilibrium gap, MILP gap);
        checked here, so a result exists only when it holds.
    status : {"converged", "exact", "corner"}
        How the answer was established (:data:`STATUSES`).
    message : str
        One line for people: the algorithm and how it ended.
    nit : int
        Iterations (rounds, sweeps, Newton steps) the method took; 0 for closed forms.
    method : str
        The ``method=`` value that produced the result.
    x_name : str
        The game's own name for ``x`` (``"flows"``, ``"split"``, ``"profile"``, ...).
    **extras
        Game-specific quantities, available as attributes.

    Raises
    ------
    InvalidInputError
        When ``kind`` or ``status`` is not one of the documented values, or ``cost`` is not a real number.
    CertificateError
        When the cost is not finite or the certificate does not hold.

    References
    ----------
    .. [1] SciPy ``scipy.optimize.OptimizeResult``: the fields ``x``, ``status``, ``message``, ``nit``.
    """

    def __init__(self, kind: str, x, cost: float, certificate: Certificate, *, status: str = "converged",
                 message: str = "", nit: int = 0, method: str = "", x_name: str = "x", **extras):
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {KINDS}, got {kind!r}")
        if status not in STATUSES:
            raise InvalidInputError(f"status must be one of {STATUSES}, got {status!r}")
        if isinstance(cost, bool) or not isinstance(cost, Real):
            raise InvalidInputError(f"cost must be a real number, got {cost!r}")
        if not isinstance(certificate, Certificate):
            raise InvalidInputError(f"certificate must be a Certificate, got {certificate!r}")
        cost = float(cost)
        if not math.isfinite(cost):
            raise CertificateError(f"{kind}: social cost {cost!r} is not finite; no solution to report")
        certificate.check(f"{kind} ({method or 'solver'})")
        self.kind = kind
        self.x = x
        self.cost = cost
        self.certificate = certificate
        self.status = status
        self.message = message
        self.nit = int(nit)
        self.method = method
        self.x_name = x_name
        for name, value in extras.items():
            if name in self.__dict__ or name == x_name:
                raise InvalidInputError(f"extra {name!r} would shadow a field of the result")
            setattr(self, name, value)

    def __getattr__(self, name: str):
        # only called when normal lookup fails: the game's own name for x
        if name != "x_name" and name == self.__dict__.get("x_name"):
            return self.__dict__["x"]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    @property
    def success(self) -> bool:
        """True: a result is only built when its certificate holds (kept for scipy-style code)."""
        return self.certificate.ok

    @property
    def extras(self) -> dict:
        """The game-specific attributes, by name."""
        core = {"kind", "x", "cost", "certificate", "status", "message", "nit", "method", "x_name"}
        return {k: v for k, v in self.__dict__.items() if k not in core}

    def _display_title(self) -> str:
        return f"{self.kind}: cost {self.cost:.6g} ({self.certificate})"

    def _display_items(self) -> list[tuple[str, object]]:
        items = [(self.x_name, self.x), ("cost", self.cost), ("status", self.status), ("method", self.method),
                 ("nit", self.nit), ("message", self.message)]
        return items + list(self.extras.items())
