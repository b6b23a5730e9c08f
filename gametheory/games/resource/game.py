"""Game 1: the prefill/decode resource game (paper Definition 1, Proposition 1, Remark 1).

Players are the prefill pool P and the decode pool D. Each picks its GPU count (G_P, G_D) and minimizes
its own SLO cost, ``C_P(G_P)`` (e.g. TTFT) and ``C_D(G_D)`` (e.g. ITL), under the shared budget
``G_P + G_D <= G``: a generalized Nash equilibrium problem (GNEP).

Solution concepts (Facchinei & Kanzow, "Generalized Nash equilibrium problems", 4OR 5, 2007):

- With non-increasing costs every full-budget split is a generalized Nash equilibrium (neither pool can
  grow without breaking the budget), so the GNEP alone does not pick a split. The *variational
  equilibrium* (VE) does: the solution of VI(X, F) with ``F = (C_P'(G_P), C_D'(G_D))``, i.e. the GNE
  whose budget constraint carries the same multiplier mu for both pools. Its KKT conditions say
  ``-C_P'(G_P) = -C_D'(G_D) = mu``: equal marginal SLO improvement per GPU (Proposition 1). Because F is
  the gradient of ``C_P + C_D``, the VE is a stationary point of that sum on the budget set; it is unique
  when F is strictly monotone (both costs strictly convex).
- The *social optimum* minimizes ``w_P C_P(G_P) + w_D C_D(G_D)`` (weights chosen by the user; the
  default of the serving model is (1, OSL): TTFT + OSL x ITL), so it equalizes the *weighted* marginal
  improvements (Remark 1). PoA = social cost at the VE / social cost at the optimum; it exceeds 1 exactly
  when the weights tilt the optimum away from the VE.

The package's layers (nashpy-like: the game is the face, the solvers sit below it and never import it):
:mod:`gametheory.games.resource.model` holds the pool costs and the data
(:class:`~gametheory.games.resource.model.PDResourceModel`: budget, costs, derivatives, the finite region);
:mod:`gametheory.games.resource.continuous` solves the continuous game (Brent's method or cvxpy, certified by
the KKT residual) and :mod:`gametheory.games.resource.integer` the game in whole workers;
:class:`PDResourceGame` (a model) chooses between them by ``method=``.

References
----------
.. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
.. [2] J. B. Rosen, "Existence and uniqueness of equilibrium points for concave n-person games",
   Econometrica 33(3), 1965.
.. [3] R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall 1973 (``brentq``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gametheory._validate import choice
from gametheory.errors import CertificateError, InvalidInputError
from gametheory.games.resource.continuous import (
    CONTINUOUS_METHODS,
    CVXPY_KKT_TOL,
    KKT_TOL,
    continuous_equilibrium,
    continuous_optimum,
    kkt_certificate,
)
from gametheory.games.resource.integer import integer_equilibrium, integer_optimum, integer_price_of_anarchy
from gametheory.games.resource.model import InverseCost, MM1PoolCost, PDResourceModel, PerGPULoadCost
from gametheory.results import Result

__all__ = [
    "CVXPY_KKT_TOL",
    "KKT_TOL",
    "METHODS",
    "InverseCost",
    "MM1PoolCost",
    "PDResourceGame",
    "PerGPULoadCost",
    "kkt_certificate",
]

#: algorithms of :meth:`PDResourceGame.equilibrium` and :meth:`PDResourceGame.optimum`, the default first;
#: "enumeration" solves the integer game on the grid of whole workers of ``step`` GPUs
METHODS = (*CONTINUOUS_METHODS, "enumeration")


@dataclass(frozen=True)
class PDResourceGame(PDResourceModel):
    """Game 1 (paper Definition 1): prefill and decode pools splitting ``total_gpus`` GPUs.

    A :class:`~gametheory.games.resource.model.PDResourceModel` (the budget, the pool costs, their
    derivatives and the finite region) with the game protocol on top: :meth:`equilibrium`, :meth:`optimum`
    and :meth:`price_of_anarchy` choose an algorithm by ``method=`` and call the solvers below it.

    ``prefill_cost(G_P)`` and ``decode_cost(G_D)``: non-increasing costs of the pool's GPU count (callables;
    a ``derivative`` method is used when present; without one the cost is differentiated by central
    differences, which assumes it is smooth: a cost with kinks must supply its (one-sided) derivative).
    ``weights`` = (w_P, w_D) of the social cost.
    ``step`` = GPUs per worker (tensor-parallel size) for the integer game in
    :mod:`gametheory.games.resource.integer`; ``min_gpus`` = lower bounds per pool (defaults to 0; the
    region where a cost is infinite or raises :class:`CapacityExceededError` is excluded automatically).

    Parameters
    ----------
    total_gpus : float
        The budget G.
    prefill_cost, decode_cost : callable
        Non-increasing costs of the pool's GPU count.
    weights : tuple of float
        (w_P, w_D) of the social cost.
    step : int, optional
        GPUs per worker, for the integer game.
    min_gpus : tuple of float
        Lower bounds per pool.

    Raises
    ------
    InvalidInputError
        A non-positive budget, non-callable costs, bad weights or bounds, or a budget that cannot hold one
        worker per pool.

    References
    ----------
    .. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Definition 1.
    .. [2] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
    """

    def equilibrium(self, method: str = "brentq") -> Result:
        """The variational equilibrium (Proposition 1): equal marginal improvement per GPU.

        Parameters
        ----------
        method : {"brentq", "cvxpy", "enumeration"}
            ``"brentq"`` (default): Brent's method on the slope of ``C_P + C_D`` along the budget line, corners
            checked. ``"cvxpy"``: the convex program (costs with a ``cvxpy(g)`` expression), Clarabel (both
            :func:`~gametheory.games.resource.continuous.continuous_equilibrium`).
            ``"enumeration"``: the integer VE on the grid of whole workers of ``step`` GPUs
            (:func:`~gametheory.games.resource.integer.integer_equilibrium`).

        Returns
        -------
        Result
            ``split`` (= ``x``) = (G_P, G_D); ``cost`` = the weighted social cost there; extras ``pool_costs``,
            ``multiplier`` (mu, the common marginal improvement per GPU), ``corner`` (the pool held at its
            lower bound, or None), ``derivative`` ("analytic" / "central difference"),
            ``stationary_points`` and ``unique`` (strict monotonicity of the VI map on a 257-point grid, Rosen
            1965; a grid check, not a proof). Certificate: the relative KKT residual.

        Raises
        ------
        InvalidInputError
            An unknown method, a cost that rises with its GPUs, or ``"cvxpy"`` with costs lacking ``cvxpy``.
        CapacityExceededError
            When no split of the budget keeps both pools finite.
        CertificateError
            When the KKT residual exceeds :data:`~gametheory.games.resource.continuous.KKT_TOL`
            (:data:`~gametheory.games.resource.continuous.CVXPY_KKT_TOL` for cvxpy).

        References
        ----------
        .. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
        """
        method = choice(method, "method", METHODS)
        if method == "enumeration":
            return integer_equilibrium(self)
        return continuous_equilibrium(self, method)

    def optimum(self, method: str = "brentq") -> Result:
        """The social optimum of ``w_P C_P + w_D C_D`` (Remark 1).

        Parameters
        ----------
        method : {"brentq", "cvxpy", "enumeration"}
            As for :meth:`equilibrium`, on the weighted objective (``"enumeration"``:
            :func:`~gametheory.games.resource.integer.integer_optimum`).

        Returns
        -------
        Result
            As for :meth:`equilibrium`; ``multiplier`` is the shadow price of one more GPU in the budget.

        Raises
        ------
        InvalidInputError, CapacityExceededError, CertificateError
            As for :meth:`equilibrium`.

        References
        ----------
        .. [1] S. Boyd, L. Vandenberghe, *Convex Optimization*, Cambridge 2004, section 5.5 (KKT conditions).
        """
        method = choice(method, "method", METHODS)
        if method == "enumeration":
            return integer_optimum(self)
        return continuous_optimum(self, method)

    def price_of_anarchy(self, method: str = "brentq") -> float:
        """Social cost at the variational equilibrium / at the social optimum (>= 1, checked).

        Parameters
        ----------
        method : {"brentq", "cvxpy", "enumeration"}
            The algorithm of both solutions; ``"enumeration"`` compares the *worst* integer VE with the
            integer optimum (:func:`~gametheory.games.resource.integer.integer_price_of_anarchy`).

        Returns
        -------
        float
            The ratio, at least 1.

        Raises
        ------
        InvalidInputError
            When the optimum's social cost is <= 0.
        CertificateError
            When the ratio falls below 1 by more than 1e-9 (the optimum would not be optimal).

        References
        ----------
        .. [1] E. Koutsoupias, C. Papadimitriou, "Worst-case equilibria", STACS 1999.
        """
        method = choice(method, "method", METHODS)
        if method == "enumeration":
            return integer_price_of_anarchy(self)
        eq, opt = self.equilibrium(method), self.optimum(method)
        if not opt.cost > 0:
            raise InvalidInputError(f"the optimum's social cost is {opt.cost!r} <= 0: the PoA ratio is undefined")
        poa = eq.cost / opt.cost
        if poa < 1 - 1e-9:
            raise CertificateError(f"PoA = {poa!r} < 1: the optimum {opt.x} is not optimal")
        return max(poa, 1.0)
