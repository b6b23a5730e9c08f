"""Exact fast path for parallel-link (parallel-worker) Wardrop equilibria and social optima.

On parallel links with increasing costs g_w, the Wardrop equilibrium (g = latency l) and the social optimum
(g = marginal cost l + x l') both have the water-filling form: a common level t with

    x_w(t) = 0 if g_w(0) >= t, else the root of g_w(x) = t,      sum_w x_w(t) = r.

The level is found by safeguarded Newton on S(t) = sum_w x_w(t) (dS/dt = sum over used w of 1 / g_w'(x_w)),
bracketed by bisection; each x_w(t) by vectorized safeguarded Newton on g_w, bracketed in
[0, min(r, capacity_w)). This is the classical Beckmann-McGuire-Winsten / Dafermos-Sparrow water-filling
("Beckmann et al. 1956; Dafermos & Sparrow 1969"), exact to machine precision.

Curves of the families Polynomial (incl. Affine) and Pole (incl. MM1) are evaluated in one vectorized bank;
others fall back to a per-curve loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gametheory.certificates import Certificate
from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.latency import LatencyCurve, Pole, Polynomial, Scaled

__all__ = ["CurveBank", "WaterFillResult", "water_fill"]


def _unwrap(curve):
    """(base curve, factor) for Scaled curves; (curve, 1) otherwise."""
    f = 1.0
    while isinstance(curve, Scaled):
        f *= curve.factor
        curve = curve.base
    return curve, f


class CurveBank:
    """Vectorized value / derivative / second derivative of m latency curves at a vector of loads."""

    def __init__(self, curves):
        curves = list(curves)
        if not curves:
            raise InvalidInputError("latencies must hold at least one curve")
        for i, c in enumerate(curves):
            if not isinstance(c, LatencyCurve):
                raise InvalidInputError(f"latencies[{i}] is not a LatencyCurve: {c!r}")
        self.curves = curves
        self.m = len(curves)
        self.capacity = np.array([c.capacity for c in curves], dtype=float)
        base = [_unwrap(c) for c in curves]
        self.poly_idx = np.array([i for i, (b, _) in enumerate(base) if isinstance(b, Polynomial)], dtype=int)
        self.pole_idx = np.array([i for i, (b, _) in enumerate(base) if isinstance(b, Pole)], dtype=int)
        done = set(self.poly_idx.tolist()) | set(self.pole_idx.tolist())
        self.other_idx = np.array([i for i in range(self.m) if i not in done], dtype=int)
        if self.poly_idx.size:
            deg = max(len(base[i][0].coeffs) for i in self.poly_idx)
            coef = np.zeros((self.poly_idx.size, deg))
            for j, i in enumerate(self.poly_idx):
                b, f = base[i]
                coef[j, : len(b.coeffs)] = f * np.asarray(b.coeffs)
            self.coef = coef
        if self.pole_idx.size:
            p = np.array([[base[i][1] * base[i][0].a, base[i][1] * base[i][0].b, base[i][1] * base[i][0].c,
                           base[i][0].kappa] for i in self.pole_idx])
            self.pa, self.pb, self.pc, self.pk = p.T

    def eval(self, x: np.ndarray, idx: np.ndarray | None = None):
        """(l, l', l'') at loads ``x`` (one per curve, or per curve in ``idx``)."""
        x = np.asarray(x, dtype=float)
        full = idx is None
        sel = np.arange(self.m) if full else idx
        v = np.empty_like(x)
        d1 = np.empty_like(x)
        d2 = np.empty_like(x)
        pos = np.full(self.m, -1)
        pos[sel] = np.arange(sel.size)
        if self.poly_idx.size:
            j = pos[self.poly_idx]
            keep = j >= 0
            rows, jj = np.flatnonzero(keep), j[keep]
            if jj.size:
                xx = x[jj]
                coef = self.coef[rows]
                val = np.zeros_like(xx)
                der = np.zeros_like(xx)
                sec = np.zeros_like(xx)
                for k in range(coef.shape[1] - 1, -1, -1):  # Horner, with first and second derivatives
                    sec = sec * xx + 2 * der
                    der = der * xx + val
                    val = val * xx + coef[:, k]
                v[jj], d1[jj], d2[jj] = val, der, sec
        if self.pole_idx.size:
            j = pos[self.pole_idx]
            keep = j >= 0
            rows, jj = np.flatnonzero(keep), j[keep]
            if jj.size:
                gap = self.pk[rows] - x[jj]
                c = self.pc[rows]
                v[jj] = self.pa[rows] + self.pb[rows] * x[jj] + c / gap
                d1[jj] = self.pb[rows] + c / gap**2
                d2[jj] = 2 * c / gap**3
        for i in self.other_idx:
            if pos[i] < 0:
                continue
            j = pos[i]
            c = self.curves[i]
            xi = float(x[j])
            v[j] = c(xi)
            d1[j] = c.derivative(xi)
            h = 1e-6 * max(1.0, xi)
            lo = max(0.0, xi - h)
            hi = xi + h if xi + h < c.capacity else xi
            d2[j] = (c.derivative(hi) - c.derivative(lo)) / (hi - lo) if hi > lo else 0.0
        return v, d1, d2

    def g(self, x, marginal: bool, idx=None):
        """(g, g') with g = l (equilibrium) or l + x l' (optimum)."""
        v, d1, d2 = self.eval(x, idx)
        if marginal:
            return v + x * d1, 2 * d1 + x * d2
        return v, d1


@dataclass(frozen=True)
class WaterFillResult:
    """Flows per worker (requests/s), the common level (ms) and the certificate."""

    flows: np.ndarray
    level: float
    costs: np.ndarray
    certificate: Certificate
    nit: int
    success: bool = True
    message: str = "converged"


def _invert(bank: CurveBank, t: float, upper: np.ndarray, marginal: bool, g0: np.ndarray,
            x0: np.ndarray | None = None) -> np.ndarray:
    """x_w(t): root of g_w(x) = t in [0, upper_w], 0 where g_w(0) >= t, upper_w where g_w(upper_w) <= t."""
    x = np.zeros(bank.m)
    act = np.flatnonzero(g0 < t)
    if act.size == 0:
        return x
    lo = np.zeros(act.size)
    hi = upper[act].copy()
    xa = np.zeros(act.size) if x0 is None else np.clip(x0[act], 0.0, 0.999 * hi)
    todo = np.arange(act.size)  # positions in act still iterating
    for _ in range(200):
        w = act[todo]
        gv, gd = bank.g(xa[todo], marginal, w)
        f = gv - t
        lo[todo] = np.where(f < 0, xa[todo], lo[todo])
        hi[todo] = np.where(f > 0, xa[todo], hi[todo])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(gd > 0, f / gd, np.inf)
        xo = xa[todo]
        scale = 1e-14 * np.maximum(1.0, xo)
        # a Newton correction below rounding means a root only where the residual is small too: next to a
        # pole the derivative is huge and the step tiny far from the root (the bracket then decides)
        converged = (f == 0) | ((np.abs(step) <= scale) & (np.abs(f) <= 1e-10 * max(1.0, abs(t))))
        xn = xo - step
        bad = ~((xn > lo[todo]) & (xn < hi[todo]))
        xn = np.where(bad, 0.5 * (lo[todo] + hi[todo]), xn)  # Newton left the bracket: bisect
        xn = np.where(converged, xo, xn)
        done = converged | (hi[todo] - lo[todo] <= scale)
        xa[todo] = xn
        todo = todo[~done]
        if todo.size == 0:
            break
    x[act] = xa
    return x


def level_gap(cost_of, flows, capacity) -> float:
    """Relative Wardrop/KKT gap of ``flows`` on parallel links, kinks allowed.

    ``cost_of(x)`` maps a flow vector to the links' costs (latencies for an equilibrium, marginal costs for
    an optimum). Smooth curves: ``(sum_w x_w g_w - r min_w g_w) / sum_w x_w g_w``. At a kink (a
    PiecewiseLinear curve, whose marginal cost jumps) the condition holds with a subgradient: a used
    link's interval [g(x-), g(x+)] (one-sided values 1e-12 x away, far below any tolerance for smooth
    curves) must contain a common level t, taken as the largest g(x-) over used links; each used link's cost
    is clipped to t inside its interval before the gap is formed.
    """
    x = np.asarray(flows, dtype=float)
    cap = np.broadcast_to(np.asarray(capacity, dtype=float), x.shape)
    r = float(x.sum())
    g = np.asarray(cost_of(x), dtype=float)
    used = x > 0
    if r <= 0 or not used.any():
        return 0.0
    delta = np.minimum(1e-12 * np.maximum(1.0, x), 0.5 * (cap - x))
    g_minus = np.asarray(cost_of(np.where(used, x - np.minimum(delta, x), x)), dtype=float)
    g_plus = np.asarray(cost_of(x + delta), dtype=float)
    low, high = np.minimum(g_minus, g), np.maximum(g_plus, g)
    level = float(low[used].max())
    g = np.where(used, np.clip(level, low, high), g)
    total = float(x @ g)
    return max((total - r * float(g.min())) / total, 0.0) if total > 0 else 0.0


def water_fill(curves, demand: float, *, marginal: bool = False, rgap: float = 1e-12,
               bank: CurveBank | None = None) -> WaterFillResult:
    """Wardrop equilibrium (``marginal=False``) or social optimum (``marginal=True``) of one class of total
    ``demand`` (requests/s) over parallel workers with latency ``curves``. Certificate: the relative gap
    (sum_w x_w g_w - r min_w g_w) / sum_w x_w g_w with g = latency or marginal cost, checked against
    ``max(rgap, 1e-9)``."""
    bank = bank if bank is not None else CurveBank(curves)
    r = float(demand)
    if not math.isfinite(r) or r < 0:
        raise InvalidInputError(f"demand must be finite and >= 0, got {demand!r}")
    if r >= bank.capacity.sum():
        raise InvalidInputError(f"demand {r:.6g} is at or beyond the total capacity {bank.capacity.sum():.6g}")
    g0, _ = bank.g(np.zeros(bank.m), marginal)
    if r == 0:
        cert = Certificate("relative_gap", 0.0, max(rgap, 1e-9)).check("water_fill")
        return WaterFillResult(np.zeros(bank.m), float(g0.min()), g0, cert, 0)
    finite_cap = np.isfinite(bank.capacity)
    upper = np.where(finite_cap, np.minimum(r, bank.capacity * (1 - 1e-15)), r)
    # bracket the level: S(t_lo) = 0 <= r; raise t_hi until S(t_hi) >= r
    t_lo = float(g0.min())
    gu, _ = bank.g(np.minimum(0.5 * upper, r / bank.m), marginal)
    t_hi = float(gu.max())
    warm = [None]

    def S(t):
        x = _invert(bank, t, upper, marginal, g0, warm[0])
        warm[0] = x
        return x

    x = S(t_hi)
    nit = 0
    while x.sum() < r:
        nit += 1
        t_hi = t_lo + 2 * (t_hi - t_lo) + 1.0
        x = S(t_hi)
        if nit > 200:
            raise ConvergenceError("water_fill: could not bracket the common cost level")
    t = 0.5 * (t_lo + t_hi)
    x_lo, x_hi = S(t_lo), S(t_hi)
    for nit in range(1, 300):  # noqa: B007
        x = S(t)
        s = x.sum()
        if s < r:
            t_lo, x_lo = t, x
        else:
            t_hi, x_hi = t, x
        if abs(s - r) <= 1e-12 * r or t_hi - t_lo <= 1e-15 * max(1.0, abs(t)):
            break
        used = np.flatnonzero((x > 0) & (x < upper * (1 - 1e-12)))  # interior: dx_w/dt = 1 / g_w'(x_w)
        _, gd = bank.g(x[used], marginal, used)
        dS = float(np.sum(1.0 / gd[gd > 0])) if used.size else 0.0
        tn = t + (r - s) / dS if dS > 0 else math.nan
        if not (t_lo < tn < t_hi):
            tn = 0.5 * (t_lo + t_hi)
        t = tn
    if abs(x.sum() - r) > 1e-12 * r:
        # S jumps at the level (flat curves): interpolate between the bracketing flows so sum_w x_w = r
        lam = (r - x_lo.sum()) / (x_hi.sum() - x_lo.sum())
        x = x_lo + lam * (x_hi - x_lo)
    x = x * (r / x.sum())
    g, _ = bank.g(x, marginal)
    gap = level_gap(lambda v: bank.g(v, marginal)[0], x, bank.capacity)
    cert = Certificate("relative_gap", max(gap, 0.0), max(rgap, 1e-9)).check(
        "water_fill " + ("optimum" if marginal else "equilibrium"))
    return WaterFillResult(x, float(t), g, cert, nit)
