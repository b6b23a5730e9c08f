"""Certificates: the numbers that prove a solver's claim, checked before a result is returned.

References
----------
.. [1] F. Facchinei, J.-S. Pang, *Finite-Dimensional Variational Inequalities and Complementarity Problems*,
   Springer 2003 (gap functions and KKT residuals as optimality certificates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gametheory.errors import CertificateError

__all__ = ["Certificate"]


@dataclass(frozen=True)
class Certificate:
    """A named residual and the tolerance it must meet.

    ``kind`` says what is measured, e.g. ``"relative_gap"`` (Wardrop: (sum t x - sum t y_AON) / sum t x),
    ``"kkt_residual"`` or ``"milp_gap"``; ``value`` is the residual, ``tolerance`` the bound it must meet.

    Parameters
    ----------
    kind : str
        What is measured.
    value : float
        The residual.
    tolerance : float
        The bound it must meet.
    """

    kind: str
    value: float
    tolerance: float

    @property
    def ok(self) -> bool:
        """True when the residual is finite and within tolerance."""
        return math.isfinite(self.value) and self.value <= self.tolerance

    def check(self, what: str = "solution") -> Certificate:
        """Return ``self`` when it holds; raise :class:`CertificateError` naming the residual otherwise.

        Parameters
        ----------
        what : str

        Returns
        -------
        Certificate

        Raises
        ------
        CertificateError
            When the certificate of the point found does not hold.
        """
        if not self.ok:
            raise CertificateError(
                f"{what}: certificate {self.kind} = {self.value:.3e} exceeds tolerance {self.tolerance:.3e}"
            )
        return self

    def __str__(self) -> str:
        mark = "ok" if self.ok else "FAILED"
        return f"{self.kind} = {self.value:.3e} (tol {self.tolerance:.1e}, {mark})"
