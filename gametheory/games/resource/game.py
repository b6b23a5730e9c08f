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

Both solutions reduce to one dimension on the budget line ``G_D = G - G_P`` (the budget binds because the
costs do not increase). The solver finds the root of ``phi'(g) = w_P C_P'(g) - w_D C_D'(G - g)``
by Brent's method (scipy ``brentq``) inside the region where both costs are finite, or certifies a corner.
The certificate is the relative KKT residual. ``method="cvxpy"`` solves the same convex program with
cvxpy (costs that offer a convex ``cvxpy(g)`` expression: :class:`InverseCost`, :class:`MM1PoolCost`),
a second, independent solver for the same point.

Costs are plain callables of the pool's GPU count (ms, or any unit shared by both pools). A cost's
derivative comes from its ``derivative`` method when it has one, else from a Richardson-extrapolated
central difference (error O(h^4)); the result says which (``derivative``).

References
----------
.. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
.. [2] J. B. Rosen, "Existence and uniqueness of equilibrium points for concave n-person games",
   Econometrica 33(3), 1965.
.. [3] R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall 1973 (``brentq``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import cvxpy as cp
import numpy as np
from scipy.optimize import brentq

from gametheory._validate import (
    choice,
    finite_scalar,
    instance,
    integer,
    nonnegative_scalar,
    pair,
    positive_scalar,
)
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, CertificateError, InvalidInputError
from gametheory.latency import LatencyCurve
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

#: relative KKT residual every solution must meet (brentq), and the cvxpy path: an interior-point objective
#: gap eps places the minimizer only to O(sqrt(eps)), so its point is certified more loosely
KKT_TOL = 1e-7
CVXPY_KKT_TOL = 1e-4
#: grid used to check monotonicity / convexity of the costs and to bracket stationary points
GRID_POINTS = 257
PLAYERS = ("prefill", "decode")
#: algorithms of :meth:`PDResourceGame.equilibrium` and :meth:`PDResourceGame.optimum`, the default first;
#: "enumeration" solves the integer game on the grid of whole workers of ``step`` GPUs
METHODS = ("brentq", "cvxpy", "enumeration")

PoolCost = Callable[[float], float]


# --------------------------------------------------------------------------------------------- pool costs
@dataclass(frozen=True)
class InverseCost:
    """``C(G) = work / G``: a fixed amount of work (GPU-ms) spread over G GPUs (the textbook a/G cost).

    Parameters
    ----------
    work : float
        GPU-ms of work (> 0).
    """

    work: float

    def __post_init__(self):
        object.__setattr__(self, "work", positive_scalar(self.work, "InverseCost.work"))

    def __call__(self, g):
        return self.work / _positive_gpus(g, "InverseCost")

    def derivative(self, g):
        """C'(G) = -work / G^2.

        Parameters
        ----------
        g : object

        Returns
        -------
        object
        """
        g = _positive_gpus(g, "InverseCost")
        return -(self.work / g) / g  # not work / g**2: g**2 underflows to 0 for tiny g

    def cvxpy(self, g):
        """The cost as a cvxpy expression of G (convex).

        Parameters
        ----------
        g : object

        Returns
        -------
        object
        """
        return self.work * cp.inv_pos(g)


@dataclass(frozen=True)
class MM1PoolCost:
    """Mean sojourn time of a pool as one M/M/1 queue whose service rate grows with its GPUs:
    ``C(G) = 1 / (mu_per_gpu G - rate)`` (seconds when rates are per second). Stable for G > rate / mu.

    Parameters
    ----------
    mu_per_gpu : float
        Service rate per GPU.
    rate : float
        Arrival rate (same unit).
    """

    mu_per_gpu: float
    rate: float

    def __post_init__(self):
        object.__setattr__(self, "mu_per_gpu", positive_scalar(self.mu_per_gpu, "MM1PoolCost.mu_per_gpu"))
        object.__setattr__(self, "rate", nonnegative_scalar(self.rate, "MM1PoolCost.rate"))

    @property
    def min_gpus(self) -> float:
        """GPUs at which the pool is exactly saturated (the cost is infinite there)."""
        return self.rate / self.mu_per_gpu

    def __call__(self, g):
        g = finite_scalar(g, "GPUs")
        slack = self.mu_per_gpu * g - self.rate
        if slack <= 0:
            raise CapacityExceededError(self.rate, self.mu_per_gpu * g, f"M/M/1 pool with {g:.6g} GPUs")
        return 1.0 / slack

    def derivative(self, g):
        """C'(G) = -mu / (mu G - rate)^2.

        Parameters
        ----------
        g : object

        Returns
        -------
        object
        """
        return -self.mu_per_gpu * self(g) ** 2

    def cvxpy(self, g):
        """The cost as a cvxpy expression of G (convex).

        Parameters
        ----------
        g : object

        Returns
        -------
        object
        """
        return cp.inv_pos(self.mu_per_gpu * g - self.rate)


@dataclass(frozen=True)
class PerGPULoadCost:
    """``C(G) = curve(rate / G)``: a pool whose load ``rate`` is split evenly over G GPUs, each with the
    latency ``curve`` (any :mod:`gametheory.latency` curve) of its own load.

    Parameters
    ----------
    curve : LatencyCurve
        Latency of one GPU's load.
    rate : float
        The pool's load.
    """

    curve: object
    rate: float

    def __post_init__(self):
        instance(self.curve, LatencyCurve, "PerGPULoadCost.curve")
        object.__setattr__(self, "rate", positive_scalar(self.rate, "PerGPULoadCost.rate"))

    @property
    def min_gpus(self) -> float:
        """GPUs below which the per-GPU load reaches the curve's capacity (0 without one)."""
        cap = getattr(self.curve, "capacity", math.inf)
        return self.rate / cap if math.isfinite(cap) else 0.0

    def __call__(self, g):
        return float(self.curve(self.rate / _positive_gpus(g, "PerGPULoadCost")))

    def derivative(self, g):
        """C'(G) = -curve'(rate / G) rate / G^2.

        Parameters
        ----------
        g : object

        Returns
        -------
        object
        """
        g = _positive_gpus(g, "PerGPULoadCost")
        return -float(self.curve.derivative(self.rate / g)) * self.rate / g**2


#: most GPUs a game takes (the integer game enumerates every split of whole workers)
MAX_GPUS = 1e7


def _positive_gpus(g, what: str) -> float:
    g = finite_scalar(g, f"{what} GPUs")
    if not g > 0:
        raise CapacityExceededError(0.0, g, f"{what} with {g:.6g} GPUs")
    return g


# --------------------------------------------------------------------------------------------- the game
@dataclass(frozen=True)
class PDResourceGame:
    """Game 1 (paper Definition 1): prefill and decode pools splitting ``total_gpus`` GPUs.

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

    total_gpus: float
    prefill_cost: PoolCost
    decode_cost: PoolCost
    weights: tuple[float, float] = (1.0, 1.0)
    step: int | None = None
    min_gpus: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self):
        object.__setattr__(self, "total_gpus", positive_scalar(self.total_gpus, "total_gpus"))
        if self.total_gpus > MAX_GPUS:
            raise InvalidInputError(f"total_gpus must be at most {MAX_GPUS:g}, got {self.total_gpus:g}")
        for name, c in (("prefill_cost", self.prefill_cost), ("decode_cost", self.decode_cost)):
            if not callable(c):
                raise InvalidInputError(f"{name} must be a callable of the GPU count, got {c!r}")
        object.__setattr__(self, "weights", pair(self.weights, "weights", positive=True))
        object.__setattr__(self, "min_gpus", pair(self.min_gpus, "min_gpus"))
        if self.step is not None:
            object.__setattr__(self, "step", integer(self.step, "step", minimum=1))
            if 2 * self.step > self.total_gpus:
                raise InvalidInputError(
                    f"total_gpus = {self.total_gpus:g} cannot hold one prefill and one decode worker of "
                    f"step = {self.step} GPUs"
                )
        if sum(self.min_gpus) >= self.total_gpus:
            raise InvalidInputError(f"min_gpus {self.min_gpus} leave nothing of total_gpus = {self.total_gpus:g}")

    # -- evaluation -------------------------------------------------------------------------------
    def _split(self, g_prefill) -> float:
        g = finite_scalar(g_prefill, "g_prefill")
        if not 0 <= g <= self.total_gpus:
            raise InvalidInputError(f"g_prefill must be in [0, total_gpus = {self.total_gpus:g}], got {g!r}")
        return g

    def _in_domain(self, g_prefill) -> float:
        g = self._split(g_prefill)
        lo, hi = self.domain
        if not lo <= g <= hi:
            raise InvalidInputError(f"g_prefill = {g!r} is outside the splits where both pools are finite, "
                                    f"[{lo:.6g}, {hi:.6g}]")
        return g

    def pool_costs(self, g_prefill: float) -> tuple[float, float]:
        """(C_P(G_P), C_D(G - G_P)); ``inf`` where a pool is saturated.

        Parameters
        ----------
        g_prefill : float

        Returns
        -------
        tuple of float

        Raises
        ------
        InvalidInputError
            ``g_prefill`` outside [0, total_gpus] or not a number; a cost returning NaN or a non-number.
        """
        g_prefill = self._split(g_prefill)
        return _value(self.prefill_cost, g_prefill, "prefill_cost"), _value(
            self.decode_cost, self.total_gpus - g_prefill, "decode_cost"
        )

    def social_cost(self, g_prefill: float, weights: tuple[float, float] | None = None) -> float:
        """``w_P C_P(G_P) + w_D C_D(G - G_P)`` (the game's weights unless given).

        Parameters
        ----------
        g_prefill : float
        weights : tuple of float, optional

        Returns
        -------
        float
        """
        w = self.weights if weights is None else pair(weights, "weights", positive=True)
        cp_, cd = self.pool_costs(g_prefill)
        return w[0] * cp_ + w[1] * cd

    def marginals(self, g_prefill: float) -> tuple[float, float]:
        """(C_P'(G_P), C_D'(G - G_P)): both <= 0 for non-increasing costs.

        Parameters
        ----------
        g_prefill : float

        Returns
        -------
        tuple of float
        """
        g_prefill = self._in_domain(g_prefill)
        return self._deriv[0](g_prefill), self._deriv[1](self.total_gpus - g_prefill)

    @property
    def derivative_method(self) -> str:
        """How the costs are differentiated: "analytic", "central difference" or both."""
        kinds = {("analytic" if getattr(c, "derivative", None) is not None else "central difference")
                 for c in (self.prefill_cost, self.decode_cost)}
        return " + ".join(sorted(kinds))

    @cached_property
    def domain(self) -> tuple[float, float]:
        """(lowest, highest) G_P where both costs are finite, with the ``min_gpus`` bounds applied."""
        lo_p = _finite_boundary(self.prefill_cost, self.min_gpus[0], self.total_gpus - self.min_gpus[1], "prefill")
        lo_d = _finite_boundary(self.decode_cost, self.min_gpus[1], self.total_gpus - self.min_gpus[0], "decode")
        hi_p = self.total_gpus - lo_d
        if not lo_p < hi_p:
            raise CapacityExceededError(
                lo_p + lo_d, self.total_gpus,
                f"GPU budget: the prefill pool needs more than {lo_p:.6g} GPUs and the decode pool more than "
                f"{lo_d:.6g}; total_gpus",
            )
        return lo_p, hi_p

    @cached_property
    def _costs_checked(self) -> bool:
        """Both costs checked non-increasing on the grid of the finite region (:func:`_check_monotone`)."""
        _check_monotone(self)
        return True

    @cached_property
    def _deriv(self):
        lo, hi = self.domain
        return (
            _derivative(self.prefill_cost, "prefill_cost", lo, hi),
            _derivative(self.decode_cost, "decode_cost", self.total_gpus - hi, self.total_gpus - lo),
        )

    # -- solutions --------------------------------------------------------------------------------
    def equilibrium(self, method: str = "brentq") -> Result:
        """The variational equilibrium (Proposition 1): equal marginal improvement per GPU.

        Parameters
        ----------
        method : {"brentq", "cvxpy", "enumeration"}
            ``"brentq"`` (default): Brent's method on the slope of ``C_P + C_D`` along the budget line, corners
            checked. ``"cvxpy"``: the convex program (costs with a ``cvxpy(g)`` expression), Clarabel.
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
            When the KKT residual exceeds :data:`KKT_TOL` (:data:`CVXPY_KKT_TOL` for cvxpy).

        References
        ----------
        .. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
        """
        method = choice(method, "method", METHODS)
        if method == "enumeration":
            from gametheory.games.resource.integer import integer_equilibrium

            return integer_equilibrium(self)
        return _solve_split(self, (1.0, 1.0), "equilibrium", method)

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
            from gametheory.games.resource.integer import integer_optimum

            return integer_optimum(self)
        return _solve_split(self, self.weights, "optimum", method)

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
            from gametheory.games.resource.integer import integer_price_of_anarchy

            return integer_price_of_anarchy(self)
        eq, opt = self.equilibrium(method), self.optimum(method)
        if not opt.cost > 0:
            raise InvalidInputError(f"the optimum's social cost is {opt.cost!r} <= 0: the PoA ratio is undefined")
        poa = eq.cost / opt.cost
        if poa < 1 - 1e-9:
            raise CertificateError(f"PoA = {poa!r} < 1: the optimum {opt.x} is not optimal")
        return max(poa, 1.0)


# --------------------------------------------------------------------------------------------- solver
def _solve_split(game: PDResourceGame, weights: tuple[float, float], kind: str, method: str = "brentq") -> Result:
    """Minimize ``w_P C_P(g) + w_D C_D(G - g)`` over the feasible G_P (the VE for weights (1, 1)).

    ``brentq``: scan ``phi'(g) = w_P C_P'(g) - w_D C_D'(G - g)`` on a grid of the finite region for
    sign changes (each bracket -> Brent's method, xtol 1e-13 G), add the two ends as corner candidates,
    keep the candidate of least objective that meets the KKT conditions. ``cvxpy``: the convex program
    with the budget as an explicit constraint (costs must offer ``cvxpy(g)``). Either way the returned
    point is certified by the relative KKT residual before return.
    """
    choice(method, "method", METHODS)
    game._costs_checked  # noqa: B018 - the monotonicity check, once per game (raises on a rising cost)
    grid, slopes = _slope_grid(game, weights)
    if method == "cvxpy":
        g, nit = _solve_cvxpy(game, weights), 0
        stationary = ()
    else:
        g, nit, stationary = _solve_brentq(game, weights, grid, slopes)
    certificate, corner, mu = _kkt(game, weights, g, KKT_TOL if method == "brentq" else CVXPY_KKT_TOL)
    certificate.check(f"{kind} of {game.total_gpus:g} GPUs at G_P = {g:.6g}")
    costs = game.pool_costs(g)
    what = "variational equilibrium" if kind == "equilibrium" else "social optimum"
    return Result(
        kind, (g, game.total_gpus - g), game.weights[0] * costs[0] + game.weights[1] * costs[1], certificate,
        status="corner" if corner else "converged", nit=nit, method=method, x_name="split",
        message=f"{what} by {method}" + (f", {corner} pool at its lower bound" if corner else ""),
        pool_costs=costs, multiplier=mu, corner=corner, derivative=game.derivative_method,
        stationary_points=stationary, unique=bool(np.all(np.diff(slopes) > 0)),
    )


def _phi_prime(game, weights, g):
    dp, dd = game.marginals(g)
    return weights[0] * dp - weights[1] * dd


def _slope_grid(game, weights):
    """phi'(g) on GRID_POINTS points of the finite region (just inside its ends)."""
    lo, hi = game.domain
    pad = 1e-9 * game.total_gpus
    grid = np.linspace(lo + pad, hi - pad, GRID_POINTS)
    return grid, np.array([_phi_prime(game, weights, g) for g in grid])


def _solve_brentq(game, weights, grid, slopes):
    lo, hi = game.domain
    roots, nit = [], 0
    for i in np.flatnonzero(np.sign(slopes[:-1]) != np.sign(slopes[1:])):
        if slopes[i] == 0:
            roots.append(float(grid[i]))
            continue
        if slopes[i] < 0 < slopes[i + 1]:  # a minimum of phi, not a maximum
            root, info = brentq(lambda g: _phi_prime(game, weights, g), grid[i], grid[i + 1],
                                xtol=1e-13 * game.total_gpus, rtol=4 * np.finfo(float).eps, full_output=True)
            roots.append(float(root))
            nit += info.iterations
    candidates = list(roots)
    for end in (lo, hi):
        if math.isfinite(game.social_cost(end, weights)):
            candidates.append(end)
    if not candidates:  # phi decreases into one open end and increases into the other: impossible for
        raise CertificateError(  # convex costs; say what was seen
            f"no stationary point or finite corner of the social cost on G_P in ({lo:.6g}, {hi:.6g})"
        )
    best = min(candidates, key=lambda g: game.social_cost(g, weights))
    return best, nit, tuple(roots)


def _solve_cvxpy(game, weights):
    pieces = [getattr(c, "cvxpy", None) for c in (game.prefill_cost, game.decode_cost)]
    if any(p is None for p in pieces):
        raise InvalidInputError("method='cvxpy' needs costs with a cvxpy(g) expression (InverseCost, MM1PoolCost)")
    # well-scaled program: budget shares u in [0, 1] and the objective normalized by its value at the middle
    # of the finite region (O(1) at the solution whatever the units; Clarabel's tolerances are absolute)
    u_p, u_d = cp.Variable(), cp.Variable()
    total = game.total_gpus
    lo, hi = game.domain
    scale = 1.0 / game.social_cost(0.5 * (lo + hi), weights)
    constraints = [u_p + u_d <= 1.0, total * u_p >= game.min_gpus[0], total * u_d >= game.min_gpus[1]]
    objective = scale * (weights[0] * pieces[0](total * u_p) + weights[1] * pieces[1](total * u_d))
    problem = cp.Problem(cp.Minimize(objective), constraints)
    with warnings.catch_warnings():  # "optimal_inaccurate" is judged by the KKT certificate, not by a warning
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    if problem.status not in ("optimal", "optimal_inaccurate") or u_p.value is None:
        raise CertificateError(f"cvxpy: {problem.status}")
    # the budget binds for non-increasing costs; project the solver's point onto it
    share = float(u_p.value) / (float(u_p.value) + float(u_d.value))
    return float(np.clip(share * total, lo, hi))


def kkt_certificate(game: PDResourceGame, g_prefill: float, weights: tuple[float, float] = (1.0, 1.0),
                    tolerance: float = KKT_TOL) -> Certificate:
    """The KKT certificate of the split (G_P, G - G_P) for the objective with ``weights`` ((1, 1): the VE).

    Interior: ``|w_P C_P' - w_D C_D'| / max(|w_P C_P'|, |w_D C_D'|)``; at a pool's lower bound the
    residual is 0 when moving a GPU toward that pool would raise the objective, else the same ratio. At a
    kink of a cost (piecewise-linear or clipped curves) where that ratio is not small, the certificate is
    Clarke's: kind ``kkt_subgradient``, residual 0 when the one-sided slopes 1e-9 G away bracket 0.

    Parameters
    ----------
    game : PDResourceGame
    g_prefill : float
    weights : tuple of float
    tolerance : float

    Returns
    -------
    Certificate

    References
    ----------
    .. [1] F. H. Clarke, *Optimization and Nonsmooth Analysis*, Wiley 1983 (the subgradient condition).
    """
    instance(game, PDResourceGame, "game")
    return _kkt(game, pair(weights, "weights", positive=True), game._in_domain(g_prefill),
                positive_scalar(tolerance, "tolerance"))[0]


def _kkt(game, weights, g, tolerance):
    """Relative KKT residual of G_P = g on the budget line, the active corner, and the multiplier mu."""
    lo, hi = game.domain
    dp, dd = game.marginals(g)
    slope = weights[0] * dp - weights[1] * dd
    scale = max(abs(weights[0] * dp), abs(weights[1] * dd), 1e-300)
    tol_g = 1e-9 * game.total_gpus
    if g <= lo + tol_g and slope > 0:
        corner, residual = "prefill", 0.0  # moving GPUs to prefill would raise the cost: KKT holds at lo
    elif g >= hi - tol_g and slope < 0:
        corner, residual = "decode", 0.0
    else:
        corner, residual = None, abs(slope) / scale
        if residual > tolerance and _straddles_kink(game, weights, g, lo, hi):
            kind = "kkt_subgradient"  # a kink (piecewise costs, a clipped batch): 0 lies in the subdifferential
            mu = -0.5 * (weights[0] * dp + weights[1] * dd)
            return Certificate(kind, 0.0, tolerance), None, mu
    mu = max(-weights[0] * dp, -weights[1] * dd) if corner else -0.5 * (weights[0] * dp + weights[1] * dd)
    return Certificate("kkt_residual", residual, tolerance), corner, mu


# --------------------------------------------------------------------------------------------- helpers
def _straddles_kink(game, weights, g, lo, hi):
    """Clarke stationarity at a kink: the slope of the objective on the budget line is <= 0 just left of g
    and >= 0 just right (one-sided points 1e-9 G away, inside the domain), so g is a local minimum."""
    delta = 1e-9 * game.total_gpus
    if not lo + delta < g < hi - delta:
        return False
    return _phi_prime(game, weights, g - delta) <= 0.0 <= _phi_prime(game, weights, g + delta)


def _value(cost, g, name):
    try:
        with np.errstate(divide="ignore"):
            raw = cost(g)
    except (CapacityExceededError, ZeroDivisionError):
        return math.inf
    try:
        v = finite_scalar(raw, name) if not (isinstance(raw, (float, np.floating)) and math.isinf(raw)) else float(raw)
    except InvalidInputError:
        if isinstance(raw, (float, np.floating)) and math.isnan(raw):
            v = math.nan
        else:
            raise InvalidInputError(f"{name}({g:.6g} GPUs) returned {raw!r}: a pool cost must be a number or +inf") \
                from None
    if math.isnan(v) or v == -math.inf:
        raise InvalidInputError(f"{name}({g:.6g} GPUs) returned {'NaN' if math.isnan(v) else v}: a pool cost must be "
                                "a number or +inf")
    return v


def _finite_boundary(cost, lo, hi, player):
    """Smallest GPU count in [lo, hi] where ``cost`` is finite (bisection on finiteness; exact to 1e-12 hi)."""
    name = f"{player}_cost"
    if math.isfinite(_value(cost, lo, name)):
        return lo
    if not math.isfinite(_value(cost, hi, name)):
        raise CapacityExceededError(
            math.inf, hi, message=f"the {player} pool is saturated even with all {hi:.6g} GPUs it can get "
            f"({name} is infinite or raises CapacityExceededError there)"
        )
    a, b = lo, hi
    while b - a > 1e-12 * max(hi, 1.0):
        m = 0.5 * (a + b)
        a, b = (a, m) if math.isfinite(_value(cost, m, name)) else (m, b)
    return b


def _derivative(cost, name, lo, hi):
    """The cost's own ``derivative`` or a Richardson-extrapolated central difference inside (lo, hi)."""
    own = getattr(cost, "derivative", None)
    if own is not None:
        return lambda g: float(own(g))
    span = hi - lo

    def central(g):
        room_left, room_right = g - lo, hi - g
        h = 1e-3 * max(abs(g), 1e-9 * span)
        if min(room_left, room_right) >= 1e-9 * span:  # central, shrunk to stay inside the domain
            h = min(h, 0.25 * min(room_left, room_right))

            def d(step):
                return (_value(cost, g + step, name) - _value(cost, g - step, name)) / (2 * step)
        else:  # at a domain end: a one-sided second-order difference into the domain
            h = min(h, 0.25 * max(room_left, room_right))
            sign = 1.0 if room_right >= room_left else -1.0

            def d(step):
                f0, f1, f2 = (_value(cost, g + sign * k * step, name) for k in (0, 1, 2))
                return sign * (-3 * f0 + 4 * f1 - f2) / (2 * step)
        if not h > 0:
            raise InvalidInputError(f"{name}: no room for a difference quotient at {g:.6g} GPUs in [{lo}, {hi}]")
        return (4 * d(h / 2) - d(h)) / 3

    return central


def _check_monotone(game):
    """Costs must not increase with the pool's GPUs: checked on a grid of the finite region."""
    lo, hi = game.domain
    pad = 1e-9 * game.total_gpus
    grid = np.linspace(lo + pad, hi - pad, GRID_POINTS)
    for name, cost, gpus in (("prefill_cost", game.prefill_cost, grid),
                             ("decode_cost", game.decode_cost, game.total_gpus - grid[::-1])):
        values = np.array([_value(cost, g, name) for g in gpus])
        rises = np.flatnonzero(np.diff(values) > 1e-9 * np.maximum(np.abs(values[:-1]), 1e-300))
        if rises.size:
            i = rises[0]
            raise InvalidInputError(
                f"{name} must not increase with the pool's GPUs: {values[i]:.6g} at {gpus[i]:.6g} GPUs < "
                f"{values[i + 1]:.6g} at {gpus[i + 1]:.6g} GPUs"
            )


