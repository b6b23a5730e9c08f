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
    """M/M/1 bound (1/2)(1 + sqrt(u_min / (u_min - R))) for capacities ``capacity`` (one value or one per
    worker, requests/s; the smallest is used) and total rate ``rate`` < u_min (requests/s)."""
    caps = finite_array(capacity, "capacity")
    if caps.size == 0 or (caps <= 0).any():
        raise InvalidInputError(f"capacity must be > 0, got {capacity!r}")
    u = float(caps.min())
    R = nonnegative_scalar(rate, "rate")
    if R >= u:
        raise InvalidInputError(f"rate {R!r} must be below the smallest capacity u_min = {u!r}")
    return 0.5 * (1.0 + math.sqrt(u / (u - R)))


def atomic_linear() -> float:
    """5/2: pure PoA of atomic unsplittable congestion games with affine latencies."""
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
    """(alpha, r*) for one curve: the Pigou bound sup over 0 < r <= max_load and the load r* attaining it."""
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
    """Numeric Pigou bound alpha(C) over ``curves`` (one curve or a list) for loads up to ``max_load``
    (requests/s; one value, or one per curve): "PoA <= alpha at this load". A load range reaching a curve's
    capacity raises InvalidInputError (the bound is unbounded there)."""
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
    """(bound, how) for a nonatomic parallel-worker instance of total demand ``total_load`` (requests/s):
    alpha(p) when every curve is a polynomial of degree <= p; the M/M/1 formula when every curve is M/M/1
    and the demand is below the smallest capacity; otherwise the numeric Pigou bound with each curve's loads
    up to ``loads[w]`` if given (e.g. the equilibrium loads: Roughgarden's variational-inequality proof only
    evaluates r at the equilibrium load of each worker; Correa, Schulz & Stier-Moses 2004), else up to
    min(total_load, capacity) (raising when the demand reaches a worker's capacity)."""
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
