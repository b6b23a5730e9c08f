"""Price-of-Anarchy bounds of nonatomic (and atomic) congestion games, from the class of the latency curves.

Closed forms:
- polynomial(p): degree <= p, nonnegative coefficients: alpha(p) = [1 - p (p+1)^(-(p+1)/p)]^(-1)
  (Roughgarden 2003, "The price of anarchy is independent of the network topology");
- mm1(capacity, rate): M/M/1 delays 1/(u - x) with capacities >= u_min and total rate R < u_min:
  (1/2)(1 + sqrt(u_min / (u_min - R))) (Roughgarden 2003);
- atomic_linear() = 5/2 (Awerbuch-Azar-Epstein; Christodoulou-Koutsoupias 2005, unsplittable, pure);
- PIGOU_LINEAR = 4/3 (Roughgarden-Tardos 2002).

Numeric Pigou bound (Roughgarden's anchor, restricted to a load range as in Correa, Schulz & Stier-Moses
2004): for a set of curves C and loads up to ``max_load``,

    alpha(C) = sup_{c in C} sup_{0 < r <= max_load} sup_{0 <= x <= r} r c(r) / (x c(x) + (r - x) c(r)).

For each r the inner sup is a minimization of x c(x) + (r - x) c(r); for convex curves its stationarity
condition is c(x) + x c'(x) = c(r) (marginal cost = latency at r), solved by bisection; a grid over x is
also evaluated and the smaller denominator kept, so nonconvex (measured) curves are handled conservatively
on that grid. The outer sup over r is a grid search refined by bounded scalar maximization.

References
----------
.. [1] T. Roughgarden, E. Tardos, "How bad is selfish routing?", J. ACM 49(2), 2002 (4/3 for affine latencies).
.. [2] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003 (the
   Pigou bound alpha(C), alpha(p) for polynomials, the M/M/1 bound).
.. [3] J. R. Correa, A. S. Schulz, N. E. Stier-Moses, "Selfish routing in capacitated networks", Math. Oper.
   Res. 29(4), 2004 (the bound restricted to the loads that occur).
.. [4] B. Awerbuch, Y. Azar, A. Epstein, "The price of routing unsplittable flow", STOC 2005, and
   G. Christodoulou, E. Koutsoupias, "The price of anarchy of finite congestion games", STOC 2005 (5/2).
.. [5] R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall 1973 (the bounded
   scalar maximization, ``scipy.optimize.minimize_scalar(method="bounded")``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

from gametheory._validate import finite_array, integer, nonnegative_scalar, positive_scalar, sequence_of
from gametheory.errors import InvalidInputError
from gametheory.latency import LatencyCurve

__all__ = [
    "PIGOU_LINEAR",
    "atomic_linear",
    "class_bound",
    "mm1",
    "pigou",
    "pigou_curve",
    "polynomial",
]

#: Pigou's example / nonatomic affine latencies (Roughgarden & Tardos 2002)
PIGOU_LINEAR = 4.0 / 3.0


def polynomial(p: float) -> float:
    """Roughgarden's PoA bound alpha(p) = [1 - p (p+1)^(-(p+1)/p)]^(-1) for polynomial latencies.

    Evaluated without cancellation or overflow for every degree: with u = ln(p + 1) / p,
    1 - p (p+1)^(-(p+1)/p) = 1 - (1 - 1/(p+1)) e^(-u) = -expm1(-u) + e^(-u) / (p + 1), a sum of two
    positive terms, so alpha(p) is exact to rounding from p = 1e-300 to p = 1e308 (it grows like p / ln p).

    Parameters
    ----------
    p : float
        The largest degree, >= 0 (finite).

    Returns
    -------
    float
        alpha(p) >= 1 (alpha(0) = 1, alpha(1) = 4/3).

    Raises
    ------
    InvalidInputError
        ``p`` negative, NaN, infinite or not a number.

    References
    ----------
    Roughgarden (2003), "The price of anarchy is independent of the network topology", JCSS 67(2).
    """
    p = nonnegative_scalar(p, "p")
    if p == 0:
        return 1.0
    u = math.log1p(p) / p
    return 1.0 / (-math.expm1(-u) + math.exp(-u) / (p + 1.0))


def mm1(capacity, rate: float) -> float:
    """M/M/1 bound (1/2)(1 + sqrt(u_min / (u_min - R))) on the PoA of nonatomic routing over M/M/1 delays.

    Parameters
    ----------
    capacity : float or array_like
        Service rates u (requests/s): one value or one per worker; the smallest, u_min, is used.
    rate : float
        Total arrival rate R (requests/s), 0 <= R < u_min.

    Returns
    -------
    float
        The bound, >= 1 (1.2071 at R / u_min = 0.5, 2.0811 at 0.9); it grows like sqrt(1 / (1 - R / u_min))
        near capacity.

    Raises
    ------
    InvalidInputError
        No capacity, a capacity <= 0 or non-finite, a negative or non-finite rate, or ``rate >= u_min``.

    References
    ----------
    .. [1] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003.
    """
    caps = finite_array(capacity, "capacity")
    if caps.size == 0 or (caps <= 0).any():
        raise InvalidInputError(f"capacity must be > 0, got {capacity!r}")
    u = float(caps.min())
    R = nonnegative_scalar(rate, "rate")
    if R >= u:
        raise InvalidInputError(f"rate {R!r} must be below the smallest capacity u_min = {u!r}")
    return 0.5 * (1.0 + math.sqrt(u / (u - R)))


def atomic_linear() -> float:
    """5/2: pure PoA of atomic unsplittable congestion games with affine latencies.

    Returns
    -------
    float
        2.5 (tight).

    References
    ----------
    .. [1] G. Christodoulou, E. Koutsoupias, "The price of anarchy of finite congestion games", STOC 2005.
    .. [2] B. Awerbuch, Y. Azar, A. Epstein, "The price of routing unsplittable flow", STOC 2005.
    """
    return 2.5


def _ratios(curve: LatencyCurve, rs: np.ndarray, xgrid: np.ndarray) -> np.ndarray:
    """r c(r) / min_{0<=x<=r} (x c(x) + (r - x) c(r)) for each r in ``rs`` (vectorized): the minimum of the
    grid over x and of the stationary point c(x) + x c'(x) = c(r) found by bisection."""
    cr = curve(rs)
    xs = np.outer(rs, xgrid)
    den = np.min(xs * curve(xs) + (rs - xs.T).T * cr[:, None], axis=1)
    lo, hi = np.zeros_like(rs), rs.copy()
    active = curve.marginal(np.zeros_like(rs)) < cr
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = curve.marginal(mid) < cr
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    x = np.where(active, 0.5 * (lo + hi), 0.0)
    den = np.minimum(den, x * curve(x) + (rs - x) * cr)
    return np.where(den > 0, rs * cr / np.where(den > 0, den, 1.0), 1.0)


def pigou_curve(curve: LatencyCurve, max_load: float, *, n_grid: int = 200) -> tuple[float, float]:
    """The Pigou bound of one curve over loads 0 < r <= ``max_load``, and the load attaining it.

    alpha = sup_r sup_{0 <= x <= r} r c(r) / (x c(x) + (r - x) c(r)); the inner minimization of the
    denominator takes the smaller of a 101-point grid over x / r and the stationary point
    c(x) + x c'(x) = c(r) found by 60 bisection steps; the outer sup is a grid over r (``n_grid // 2``
    geometric points from ``max_load * 1e-6`` plus ``n_grid`` linear ones) refined by bounded Brent
    maximization between the neighbours of the best grid point.

    Parameters
    ----------
    curve : LatencyCurve
        The latency curve c.
    max_load : float
        Largest load r (the curve's load unit, e.g. requests/s), > 0 and below the curve's capacity.
    n_grid : int
        Number of linear grid points over r (2 .. 10**6).

    Returns
    -------
    alpha : float
        The bound, >= 1.
    r_star : float
        The load (same unit as ``max_load``) where the ratio is largest.

    Raises
    ------
    InvalidInputError
        ``curve`` is not a :class:`~gametheory.latency.LatencyCurve`; ``max_load`` not > 0, not finite or at or
        past the capacity (the bound is unbounded there); ``n_grid`` not an integer in range.

    References
    ----------
    .. [1] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003.
    .. [2] J. R. Correa, A. S. Schulz, N. E. Stier-Moses, "Selfish routing in capacitated networks", Math. Oper.
       Res. 29(4), 2004.
    """
    if not isinstance(curve, LatencyCurve):
        raise InvalidInputError(f"curve must be a LatencyCurve, got {curve!r}")
    R = positive_scalar(max_load, "max_load")
    if R >= curve.capacity:
        raise InvalidInputError(f"max_load {R!r} must be below the curve's capacity {curve.capacity!r}")
    n_grid = integer(n_grid, "n_grid", minimum=2, maximum=10**6)
    xgrid = np.linspace(0.0, 1.0, 101)
    smallest = R * 1e-6 if R * 1e-6 > 0 else R  # a subnormal max_load: no room below it
    rs = np.unique(np.concatenate([np.geomspace(smallest, R, n_grid // 2), np.linspace(R / n_grid, R, n_grid)]))
    vals = _ratios(curve, rs, xgrid)
    i = int(np.argmax(vals))
    best, arg = float(vals[i]), float(rs[i])
    lo, hi = float(rs[max(i - 1, 0)]), float(rs[min(i + 1, rs.size - 1)])
    if hi > lo:
        res = minimize_scalar(lambda r: -float(_ratios(curve, np.array([r]), xgrid)[0]), bounds=(lo, hi),
                              method="bounded", options={"xatol": 1e-12 * R})
        if -res.fun > best:
            best, arg = float(-res.fun), float(res.x)
    return max(best, 1.0), arg


def pigou(curves, max_load) -> float:
    """Numeric Pigou bound alpha(C) over ``curves`` for loads up to ``max_load``: "PoA <= alpha at this load".

    The largest :func:`pigou_curve` value over the curves (curves whose load range is 0 are skipped).

    Parameters
    ----------
    curves : LatencyCurve or sequence of LatencyCurve
        The class C (one curve or a list).
    max_load : float or array_like
        Largest load (requests/s, the curves' load unit): one value for all curves, or one per curve.

    Returns
    -------
    float
        alpha(C) >= 1 (1 when every load range is 0).

    Raises
    ------
    InvalidInputError
        No curves or a non-curve entry; ``max_load`` non-finite, of the wrong shape, or reaching a curve's
        capacity (the bound is unbounded there).

    References
    ----------
    .. [1] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003.
    .. [2] J. R. Correa, A. S. Schulz, N. E. Stier-Moses, "Selfish routing in capacitated networks", Math. Oper.
       Res. 29(4), 2004.
    """
    if isinstance(curves, LatencyCurve):
        curves = [curves]
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    loads = finite_array(max_load, "max_load")
    if loads.ndim > 1 or loads.ndim == 1 and loads.size != len(curves):
        raise InvalidInputError(f"max_load must be one value or one per curve ({len(curves)}), got shape {loads.shape}")
    loads = np.broadcast_to(loads, (len(curves),))
    out = 1.0
    for c, R in zip(curves, loads, strict=True):
        if R <= 0:
            continue
        out = max(out, pigou_curve(c, float(R))[0])
    return out


def class_bound(curves, total_load: float, loads=None) -> tuple[float, str]:
    """The PoA bound of a nonatomic parallel-worker instance from the class of its curves.

    alpha(p) (:func:`polynomial`) when every curve is a polynomial of degree <= p; the M/M/1 formula
    (:func:`mm1`) when every curve is M/M/1 and the demand is below the smallest capacity; otherwise the
    numeric Pigou bound (:func:`pigou`) with each curve's loads up to ``loads[w]`` if given (e.g. the
    equilibrium loads: Roughgarden's variational-inequality proof only evaluates r at the equilibrium load of
    each worker; Correa, Schulz & Stier-Moses 2004), else up to ``total_load``.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        One latency curve per worker.
    total_load : float
        Total demand (requests/s, the curves' load unit), >= 0.
    loads : array_like, optional
        Per-worker load limits for the numeric bound (one per curve, or one value), e.g. the equilibrium flows.

    Returns
    -------
    bound : float
        The bound, >= 1.
    how : str
        Which bound applied: ``"polynomial degree p"``, ``"mm1"``, ``"numeric pigou at equilibrium loads"`` or
        ``"numeric pigou"``.

    Raises
    ------
    InvalidInputError
        No curves or a non-curve entry; a negative or non-finite ``total_load``; for the numeric bound, a load
        range that reaches a worker's capacity or ``loads`` of the wrong shape.

    References
    ----------
    .. [1] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003.
    .. [2] J. R. Correa, A. S. Schulz, N. E. Stier-Moses, "Selfish routing in capacitated networks", Math. Oper.
       Res. 29(4), 2004.
    """
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    total_load = nonnegative_scalar(total_load, "total_load")
    kinds = [c.curve_class for c in curves]
    if all(k.kind == "polynomial" for k in kinds):
        p = max(k.degree or 0.0 for k in kinds)
        return polynomial(p), f"polynomial degree {p:g}"
    if all(k.kind == "mm1" for k in kinds):
        caps = [k.capacity for k in kinds]
        if total_load < min(caps):
            return mm1(caps, total_load), "mm1"
    if loads is not None:
        return pigou(curves, loads), "numeric pigou at equilibrium loads"
    return pigou(curves, total_load), "numeric pigou"
