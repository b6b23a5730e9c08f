"""The data model of Game 1, the prefill/decode resource game (paper Definition 1): the pools' costs and budget.

Players are the prefill pool P and the decode pool D. Each picks its GPU count (G_P, G_D) and minimizes
its own SLO cost, ``C_P(G_P)`` (e.g. TTFT) and ``C_D(G_D)`` (e.g. ITL), under the shared budget
``G_P + G_D <= G``. :class:`PDResourceModel` holds the budget and both costs, evaluates them, and finds the
region of splits where both are finite; the pool costs :class:`InverseCost`, :class:`MM1PoolCost` and
:class:`PerGPULoadCost` are the textbook families.

Costs are plain callables of the pool's GPU count (ms, or any unit shared by both pools). A cost's
derivative comes from its ``derivative`` method when it has one, else from a Richardson-extrapolated
central difference (error O(h^4)); :attr:`PDResourceModel.derivative_method` says which.

This module is the bottom of the package: the solvers (:mod:`~gametheory.games.resource.continuous`,
:mod:`~gametheory.games.resource.integer`) read a :class:`PDResourceModel` and never import the game object,
and :class:`~gametheory.games.resource.game.PDResourceGame` (a :class:`PDResourceModel`) dispatches to them.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Definition 1.
.. [2] L. F. Richardson, "The deferred approach to the limit", Phil. Trans. R. Soc. A 226, 1927 (the
   extrapolated central difference).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import cvxpy as cp
import numpy as np

from gametheory._validate import finite_scalar, instance, integer, nonnegative_scalar, pair, positive_scalar
from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.latency import LatencyCurve

__all__ = [
    "GRID_POINTS",
    "MAX_GPUS",
    "InverseCost",
    "MM1PoolCost",
    "PDResourceModel",
    "PerGPULoadCost",
]

#: grid used to check monotonicity / convexity of the costs and to bracket stationary points
GRID_POINTS = 257

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
        g : float
            GPUs of the pool (> 0).

        Returns
        -------
        float
            The derivative of the cost with respect to G (cost units per GPU, < 0).
        """
        g = _positive_gpus(g, "InverseCost")
        return -(self.work / g) / g  # not work / g**2: g**2 underflows to 0 for tiny g

    def cvxpy(self, g):
        """The cost as a cvxpy expression of G (convex).

        Parameters
        ----------
        g : cvxpy.Expression
            The pool's GPUs as a cvxpy variable or affine expression.

        Returns
        -------
        cvxpy.Expression
            ``work * inv_pos(g)``, convex in ``g``.
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
        g : float
            GPUs of the pool (> 0, above ``min_gpus``).

        Returns
        -------
        float
            The derivative of the sojourn time with respect to G (time unit per GPU, < 0).
        """
        return -self.mu_per_gpu * self(g) ** 2

    def cvxpy(self, g):
        """The cost as a cvxpy expression of G (convex).

        Parameters
        ----------
        g : cvxpy.Expression
            The pool's GPUs as a cvxpy variable or affine expression.

        Returns
        -------
        cvxpy.Expression
            ``inv_pos(mu_per_gpu * g - rate)``, convex in ``g`` (infinite at or below ``min_gpus``).
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
        g : float
            GPUs of the pool (> 0).

        Returns
        -------
        float
            The derivative of the pool's latency with respect to G (the curve's unit per GPU, <= 0).
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
class PDResourceModel:
    """The data of Game 1 (paper Definition 1): prefill and decode pools splitting ``total_gpus`` GPUs.

    What every solver reads: the budget, both pool costs, their derivatives, the finite region ``domain``.
    :class:`~gametheory.games.resource.game.PDResourceGame` is this model with the game protocol on top
    (``equilibrium``, ``optimum``, ``price_of_anarchy``).

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

    def check_split(self, g_prefill) -> float:
        """``g_prefill`` as a float, checked to lie in the finite region :attr:`domain`.

        Parameters
        ----------
        g_prefill : float
            GPUs of the prefill pool.

        Returns
        -------
        float

        Raises
        ------
        InvalidInputError
            ``g_prefill`` not a number, outside [0, total_gpus] or outside :attr:`domain`.
        CapacityExceededError
            When no split of the budget keeps both pools finite.
        """
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
        g_prefill = self.check_split(g_prefill)
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

    def check_costs(self) -> None:
        """Check that both costs do not increase with the pool's GPUs, on a grid of :data:`GRID_POINTS` points
        of the finite region (once per game: the result is cached).

        Raises
        ------
        InvalidInputError
            A cost that rises with its GPUs, or returns NaN or a non-number.
        CapacityExceededError
            When no split of the budget keeps both pools finite.
        """
        self._costs_checked  # noqa: B018 - a cached property: the check runs once per game

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
