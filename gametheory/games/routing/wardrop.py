"""Exact fast path for parallel-link (parallel-worker) Wardrop equilibria and social optima.

On parallel links with increasing costs g_w, the Wardrop equilibrium (g = latency l) and the social optimum
(g = marginal cost l + x l') both have the water-filling form: a common level t with

    x_w(t) = 0 if g_w(0) >= t, else the root of g_w(x) = t,      sum_w x_w(t) = r.

The level is found by safeguarded Newton on S(t) = sum_w x_w(t) (dS/dt = sum over used w of 1 / g_w'(x_w)),
bracketed by bisection (geometric while the bracket spans orders of magnitude). Each x_w(t) is exact:

- affine curves a + b x: x = (t - a) / b (equilibrium) or (t - a) / (2 b) (optimum);
- pole curves a + b x + c / (kappa - x) (incl. M/M/1) are solved in the slack s = kappa - x, where the
  precision is next to a pole: the equilibrium is the root of b s^2 + (t - a - b kappa) s - c = 0 in its
  cancellation-free form (and the same root written in x when x is small), the optimum the root of
  c kappa / s^2 - 2 b s = t - a - 2 b kappa by monotone Newton from a lower bound;
- other polynomials by safeguarded Newton in x; any other curve by Brent's method on its own methods.

Once sum_w x_w(t) meets r to rounding, the last residual is spread over the used links in proportion to
dx_w/dt = 1 / g_w'(x_w), which moves every used link's cost by the same amount (the levels stay equal);
where S(t) jumps (a flat curve) the flows are interpolated across the jump. All tolerances are relative,
so a demand of 1e-12 and a load at 0.99999 of capacity are solved alike. This is the classical
Beckmann-McGuire-Winsten / Dafermos-Sparrow water-filling.

References
----------
Beckmann, McGuire & Winsten (1956), *Studies in the Economics of Transportation*.
Dafermos & Sparrow (1969), "The traffic assignment problem for a general network", J. Res. NBS 73B.
Brent (1973), *Algorithms for Minimization without Derivatives* (``scipy.optimize.brentq``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from gametheory._validate import flag, instance, nonnegative_array, nonnegative_scalar, positive_scalar, sequence_of
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.latency import LatencyCurve, Pole, Polynomial, Scaled

__all__ = ["CERTIFICATE_FLOOR", "CurveBank", "WaterFillResult", "certificate_tolerance", "level_gap", "water_fill"]

EPS = float(np.finfo(float).eps)

#: smallest relative gap a certificate is checked against (rgap below it is raised to it)
CERTIFICATE_FLOOR = 1e-9


def _unwrap(curve):
    """(base curve, factor) for Scaled curves; (curve, 1) otherwise."""
    f = 1.0
    while isinstance(curve, Scaled):
        f *= curve.factor
        curve = curve.base
    return curve, f


class CurveBank:
    """Vectorized value / derivative / second derivative of m latency curves, and the exact inverse of
    their latency or marginal cost (:meth:`invert`).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        One curve per worker.

    Raises
    ------
    InvalidInputError
        When ``curves`` is empty or holds something that is not a :class:`~gametheory.latency.LatencyCurve`.
    """

    def __init__(self, curves):
        curves = sequence_of(curves, LatencyCurve, "latencies", what="LatencyCurve")
        self.curves = curves
        self.m = len(curves)
        self.capacity = np.array([c.capacity for c in curves], dtype=float)
        #: curves whose marginal cost jumps somewhere (piecewise-linear): the certificate allows a subgradient
        self.kinked = np.array([bool(c.has_kinks) for c in curves])
        base = [_unwrap(c) for c in curves]
        self.poly_idx = np.array([i for i, (b, _) in enumerate(base) if isinstance(b, Polynomial)], dtype=int)
        self.pole_idx = np.array([i for i, (b, _) in enumerate(base) if isinstance(b, Pole)], dtype=int)
        done = set(self.poly_idx.tolist()) | set(self.pole_idx.tolist())
        self.other_idx = np.array([i for i in range(self.m) if i not in done], dtype=int)
        self.coef = np.zeros((0, 1))
        if self.poly_idx.size:
            deg = max(len(base[i][0].coeffs) for i in self.poly_idx)
            coef = np.zeros((self.poly_idx.size, max(deg, 2)))
            for j, i in enumerate(self.poly_idx):
                b, f = base[i]
                coef[j, : len(b.coeffs)] = f * np.asarray(b.coeffs)
            self.coef = coef
        self.affine = ~(self.coef[:, 2:] != 0).any(axis=1)  # polynomial rows of degree <= 1
        p = np.array([[base[i][1] * base[i][0].a, base[i][1] * base[i][0].b, base[i][1] * base[i][0].c,
                       base[i][0].kappa] for i in self.pole_idx]).reshape(-1, 4)
        self.pa, self.pb, self.pc, self.pk = p.T

    def eval(self, x: np.ndarray, idx: np.ndarray | None = None):
        """(l, l', l'') at loads ``x`` (one per curve, or one per curve in ``idx``).

        Parameters
        ----------
        x : numpy.ndarray
            Loads (requests/s), one per curve, or one per curve in ``idx``.
        idx : numpy.ndarray of int, optional
            Curves to evaluate (default: all).

        Returns
        -------
        tuple of numpy.ndarray
            ``(l, l', l'')``: latencies (ms), their first and second derivatives, each the shape of ``x``.
        """
        x = np.asarray(x, dtype=float)
        full = idx is None
        sel = np.arange(self.m) if full else np.asarray(idx, dtype=int)
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
            h = 1e-6 * max(abs(xi), 1e-300) if xi > 0 else 1e-6
            lo = max(0.0, xi - h)
            hi = xi + h if xi + h < c.capacity else xi
            d2[j] = (c.derivative(hi) - c.derivative(lo)) / (hi - lo) if hi > lo else 0.0
        return v, d1, d2

    def g(self, x, marginal: bool, idx=None):
        """(g, g') with g = l (equilibrium) or l + x l' (optimum), at loads ``x``.

        Parameters
        ----------
        x : array_like of float
            Loads (requests/s), one per curve, or one per curve in ``idx``.
        marginal : bool
            Marginal cost ``l + x l'`` (optimum) instead of the latency ``l`` (equilibrium).
        idx : numpy.ndarray of int, optional
            Curves to evaluate (default: all).

        Returns
        -------
        tuple of numpy.ndarray
            ``(g, g')``: the cost (ms) and its derivative, each the shape of ``x``.
        """
        x = np.asarray(x, dtype=float)
        v, d1, d2 = self.eval(x, idx)
        if marginal:
            return v + x * d1, 2 * d1 + x * d2
        return v, d1

    def invert(self, t: float, marginal: bool, upper: np.ndarray, g0: np.ndarray) -> np.ndarray:
        """x_w(t) for every worker: 0 where g_w(0) >= t, ``upper[w]`` where g_w stays below t up to it, else
        the root of g_w(x) = t (g the latency, or the marginal cost when ``marginal``).

        Parameters
        ----------
        t : float
            Common cost level (ms).
        marginal : bool
            Invert the marginal cost ``l + x l'`` instead of the latency ``l``.
        upper : numpy.ndarray
            Largest load per worker (requests/s), shape (m,).
        g0 : numpy.ndarray
            Cost of each worker at zero load (ms), shape (m,).

        Returns
        -------
        numpy.ndarray
            Load per worker (requests/s) in ``[0, upper]``, shape (m,).
        """
        x = np.zeros(self.m)
        active = g0 < t
        if self.poly_idx.size:
            x[self.poly_idx] = self._invert_poly(t, marginal, upper[self.poly_idx], active[self.poly_idx])
        if self.pole_idx.size:
            x[self.pole_idx] = self._invert_pole(t, marginal, upper[self.pole_idx], active[self.pole_idx])
        for i in self.other_idx:
            if active[i]:
                x[i] = self._invert_other(i, t, marginal, float(upper[i]))
        return np.clip(x, 0.0, upper)

    def _invert_poly(self, t, marginal, upper, active):
        coef = self.coef
        out = np.zeros(coef.shape[0])
        a, b = coef[:, 0], coef[:, 1] * (2.0 if marginal else 1.0)
        lin = active & self.affine
        with np.errstate(divide="ignore", invalid="ignore"):
            out[lin] = np.where(b[lin] > 0, (t - a[lin]) / b[lin], np.inf)
        rows = np.flatnonzero(active & ~self.affine)
        if rows.size:
            idx = self.poly_idx[rows]
            # every term c_i x^i of g(x) - c_0 = t - c_0 is at most t - c_0: x <= (t - c_0) / c_i)^(1/i), a
            # bound within a factor (number of terms)^(1/i) of the root, so Newton needs few steps from it
            cf = coef[rows] * (np.arange(coef.shape[1]) + 1.0 if marginal else 1.0)
            with np.errstate(divide="ignore"):
                log_rest = np.log(t - cf[:, 0])
                powers = np.arange(1, cf.shape[1])
                bound = np.exp(np.min(np.where(cf[:, 1:] > 0, (log_rest[:, None] - np.log(cf[:, 1:])) / powers,
                                               np.inf), axis=1))
            hi = np.minimum(upper[rows], bound)
            gh, _ = self.g(hi, marginal, idx)
            inner = gh > t
            out[rows[~inner]] = hi[~inner]
            rows, idx, hi = rows[inner], idx[inner], hi[inner]
            lo = np.zeros(rows.size)
            xa = hi.copy()  # g convex increasing: Newton from the right decreases monotonically to the root
            todo = np.arange(rows.size)
            for _ in range(400):
                gv, gd = self.g(xa[todo], marginal, idx[todo])
                f = gv - t
                lo[todo] = np.where(f < 0, xa[todo], lo[todo])
                hi[todo] = np.where(f > 0, xa[todo], hi[todo])
                with np.errstate(divide="ignore", invalid="ignore"):
                    xn = xa[todo] - f / gd
                bad = ~((xn > lo[todo]) & (xn < hi[todo]))
                xn = np.where(bad, 0.5 * (lo[todo] + hi[todo]), xn)
                done = (f == 0) | (np.abs(xn - xa[todo]) <= 2 * EPS * np.abs(xa[todo])) | (
                    hi[todo] - lo[todo] <= 2 * EPS * hi[todo])
                xa[todo] = np.where(f == 0, xa[todo], xn)
                todo = todo[~done]
                if todo.size == 0:
                    break
            out[rows] = xa
        return out

    def _invert_pole(self, t, marginal, upper, active):
        a, b, c, k = self.pa, self.pb, self.pc, self.pk
        out = np.zeros(a.size)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            flat = active & (c == 0)  # an affine curve with a hard capacity
            slope = b * (2.0 if marginal else 1.0)
            out[flat] = np.where(slope[flat] > 0, (t - a[flat]) / slope[flat], np.inf)
            rows = active & (c > 0)
            a, b, c, k = a[rows], b[rows], c[rows], k[rows]
            if not marginal:
                q = t - a - b * k
                disc = np.hypot(q, 2.0 * np.sqrt(b * c))  # sqrt(q^2 + 4 b c) without overflow
                s = np.where(q > 0, 2.0 * c / (q + disc), (disc - q) / (2.0 * b))
                p = t - a - c / k  # t - g(0)
                x_small = 2.0 * k * p / ((t - a + b * k) + disc)  # the same root written in x
                x = np.where(s < 0.5 * k, k - s, x_small)
            else:
                q = t - a - 2.0 * b * k
                ck = c * k
                s = np.sqrt(ck) / np.sqrt(t - a)  # lower bound of the root of ck / s^2 - 2 b s = q
                s = np.where((b > 0) & (q < 0), np.maximum(s, -q / (2.0 * b)), s)
                for _ in range(200):  # convex decreasing in s, started left of the root: monotone Newton
                    f = ck / s**2 - 2.0 * b * s - q
                    step = f / (2.0 * ck / s**3 + 2.0 * b)
                    s_new = s + np.maximum(step, 0.0)
                    if (s_new - s <= 2 * EPS * s).all():
                        s = s_new
                        break
                    s = s_new
                x = k - s
            out[rows] = x
        return np.clip(out, 0.0, upper)

    def _invert_other(self, i, t, marginal, upper):
        curve = self.curves[i]
        g = curve.marginal if marginal else curve
        if g(upper) <= t:
            return upper
        return brentq(lambda v: g(v) - t, 0.0, upper, xtol=1e-300, rtol=4 * EPS, maxiter=500)


@dataclass(frozen=True)
class WaterFillResult:
    """Flows per worker (requests/s), the common level (ms), the costs at the flows and the certificate.

    Parameters
    ----------
    flows : numpy.ndarray
        Flow per worker (requests/s), shape (m,).
    level : float
        Common cost level of the used workers: latency, or marginal cost for the optimum (ms).
    costs : numpy.ndarray
        Latency (or marginal cost) of each worker at its flow (ms), shape (m,).
    certificate : Certificate
        The checked optimality certificate of the split.
    nit : int
        Iterations of the safeguarded Newton search for the level.
    success : bool
        Whether the solve met its tolerance.
    message : str
        What the solver did, for people.
    """

    flows: np.ndarray
    level: float
    costs: np.ndarray
    certificate: Certificate
    nit: int
    success: bool = True
    message: str = "converged"


def _worker_flows(bank, flows) -> np.ndarray:
    """Worker flows checked against the bank: shape (m,), nonnegative, finite, below every capacity."""
    instance(bank, CurveBank, "bank")
    x = nonnegative_array(flows, "flows")
    if x.shape != (bank.m,):
        raise InvalidInputError(f"flows must have shape ({bank.m},) (one per worker), got {x.shape}")
    over = np.flatnonzero(x >= bank.capacity)
    if over.size:
        w = int(over[0])
        raise CapacityExceededError(x[w], bank.capacity[w], f"worker {w}")
    return x


def level_gap(bank: CurveBank, flows, *, marginal: bool, tolerance: float = CERTIFICATE_FLOOR) -> float:
    """Relative Wardrop (``marginal=False``) or KKT (``marginal=True``) gap of worker ``flows``.

    ``(sum_w x_w g_w - r min_w g_w) / sum_w x_w g_w`` with g the latency or the marginal cost and
    r = sum_w x_w: zero exactly when every used worker's cost equals the smallest cost.

    Only curves with kinks (:attr:`LatencyCurve.has_kinks`, e.g. piecewise-linear, whose marginal cost jumps)
    get a subgradient allowance: a used kinked worker's cost may be any value in [g(x - d), g(x + d)]
    with d = 1e-12 x, shrunk so that the curve's slope moves its cost by at most tolerance / 4 of the level
    over d (the allowance admits a jump of the curve, never a smooth change wider than the tolerance).
    Smooth curves (polynomials, poles, M/M/1, BPR) get none: their cost at the flows is what is certified.

    Parameters
    ----------
    bank : CurveBank
        The workers' curves.
    flows : array_like, shape (m,)
        Worker flows (requests/s), >= 0 and below capacity.
    marginal : bool
        Certify an optimum (marginal costs) instead of an equilibrium (latencies).
    tolerance : float
        The tolerance the gap is checked against; bounds the kink allowance.

    Returns
    -------
    float
        The relative gap (>= 0).
    """
    x = _worker_flows(bank, flows)
    marginal = flag(marginal, "marginal")
    tolerance = positive_scalar(tolerance, "tolerance")
    r = float(x.sum())
    used = x > 0
    if r <= 0 or not used.any():
        return 0.0
    g, gd = bank.g(x, marginal)
    kink = np.flatnonzero(bank.kinked & used)
    if kink.size:
        xk = x[kink]
        d = 1e-12 * xk
        d = np.minimum(d, 0.5 * (bank.capacity[kink] - xk))
        slope = np.maximum.reduce([np.abs(gd[kink]), np.abs(bank.g(xk - d, marginal, kink)[1]),
                                   np.abs(bank.g(xk + d, marginal, kink)[1])])
        scale = float(np.abs(g[used]).max())
        with np.errstate(divide="ignore"):
            d = np.minimum(d, np.where(slope > 0, 0.25 * tolerance * scale / slope, d))
        g_minus = bank.g(xk - d, marginal, kink)[0]
        g_plus = bank.g(xk + d, marginal, kink)[0]
        low, high = g.copy(), g.copy()
        low[kink], high[kink] = np.minimum(g_minus, g[kink]), np.maximum(g_plus, g[kink])
        level = float(low[used].max())
        g = np.where(used, np.clip(level, low, high), g)
    total = float(x @ g)
    return max((total - r * float(g.min())) / total, 0.0) if total > 0 else 0.0


def certificate_tolerance(bank: CurveBank, flows, *, marginal: bool, rgap: float = CERTIFICATE_FLOOR,
                          ulps: float = 1.0) -> float:
    """The tolerance a water-filling certificate is checked against: ``max(rgap, CERTIFICATE_FLOOR, floor)``.

    ``floor`` is the relative gap that rounding the flows to float64 alone can cause: moving each worker's
    flow by ``ulps`` units in the last place (np.spacing) changes its cost by dg_w = |g'_w| ulps spacing(x_w),
    and the gap by at most (sum_w x_w dg_w + r dg_min) / sum_w x_w g_w, where dg_min bounds the move of the
    smallest cost. Far from capacity the floor is ~1e-15 and the tolerance is ``rgap``; next to a pole (a
    worker at 1 - 1e-8 of its capacity) no float64 flow has a smaller gap, and the tolerance says so instead
    of failing a solution that is exact to rounding.

    Parameters
    ----------
    bank : CurveBank
        The workers' curves.
    flows : array_like, shape (m,)
        Worker flows (requests/s).
    marginal : bool
        Optimum (marginal costs) instead of equilibrium (latencies).
    rgap : float
        The requested relative gap.
    ulps : float
        Units in the last place each flow may be off by (1 for worker flows; K + 1 when K class flows are
        summed into a worker's load).

    Returns
    -------
    float
        The tolerance.
    """
    x = _worker_flows(bank, flows)
    marginal = flag(marginal, "marginal")
    ulps = positive_scalar(ulps, "ulps")
    base = max(positive_scalar(rgap, "rgap"), CERTIFICATE_FLOOR)
    r = float(x.sum())
    if r <= 0:
        return base
    g, gd = bank.g(x, marginal)
    total = float(x @ g)
    if not total > 0:
        return base
    dg = np.abs(gd) * ulps * np.spacing(x)
    # the smallest cost moves by at most its own dg, or down to the lowest g_w - dg_w of any worker
    g_min = float(g.min())
    d_min = max(float(dg[int(np.argmin(g))]), g_min - float((g - dg).min()))
    floor = (float(x @ dg) + r * d_min) / total
    return max(base, floor) if math.isfinite(floor) else base


def _newton_slope(bank, x, t, marginal, upper, g0):
    """dS/dt at the level t: sum of 1 / g_w' over workers free to move (interior, or entering at t)."""
    free = (x < upper) & ((x > 0) | (g0 <= t))
    if not free.any():
        return 0.0
    idx = np.flatnonzero(free)
    _, gd = bank.g(x[idx], marginal, idx)
    if (gd <= 0).any():
        return math.inf  # a flat curve at this level: S jumps here
    return float(np.sum(1.0 / gd))


def water_fill(curves, demand: float, *, marginal: bool = False, rgap: float = 1e-12,
               bank: CurveBank | None = None) -> WaterFillResult:
    """Wardrop equilibrium or social optimum of one class over parallel workers, by exact water-filling.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        One latency curve per worker (ms at x requests/s).
    demand : float
        Total demand r >= 0 (requests/s), below the total capacity.
    marginal : bool
        False: Wardrop equilibrium (equal latencies on used workers). True: social optimum (equal marginal
        costs l + x l').
    rgap : float
        Relative gap the certificate is checked against, raised to ``CERTIFICATE_FLOOR`` = 1e-9 and to the
        gap that rounding the flows to float64 can cause (:func:`certificate_tolerance`).
    bank : CurveBank, optional
        The curves already vectorized (reused across calls).

    Returns
    -------
    WaterFillResult
        Flows, level, costs and the certificate ``relative_gap`` (:func:`level_gap`), checked before return.

    Raises
    ------
    InvalidInputError
        Negative or non-finite demand, or no curve.
    CapacityExceededError
        Demand at or beyond the total capacity (or within rounding of it).
    ConvergenceError
        The level iteration failed (costs overflow: rescale the units).
    CertificateError
        The certificate does not hold.

    References
    ----------
    Beckmann, McGuire & Winsten (1956); Dafermos & Sparrow (1969).
    """
    bank = instance(bank, CurveBank, "bank") if bank is not None else CurveBank(curves)
    marginal = flag(marginal, "marginal")
    r = nonnegative_scalar(demand, "demand")
    tol = max(positive_scalar(rgap, "rgap"), CERTIFICATE_FLOOR)
    what = "water_fill " + ("optimum" if marginal else "equilibrium")
    total_cap = float(bank.capacity.sum())
    if r >= total_cap:
        raise CapacityExceededError(r, total_cap, "demand vs total capacity")
    g0, _ = bank.g(np.zeros(bank.m), marginal)
    finite_cap = np.isfinite(bank.capacity)
    upper = np.where(finite_cap, np.minimum(r, np.nextafter(bank.capacity, 0.0)), r)
    if r > 0 and upper.sum() < r:
        raise CapacityExceededError(r, total_cap, "demand vs total capacity (within rounding)")
    if r == 0 or bank.m == 1:
        x = np.full(bank.m, r)
        g, _ = bank.g(x, marginal)
        cert = Certificate("relative_gap", 0.0, tol).check(what)
        return WaterFillResult(x, float(g.min()), g, cert, 0)
    # bracket the level: S(t_lo) = 0 < r <= S(t_hi)
    t_lo, x_lo = float(g0.min()), np.zeros(bank.m)
    with np.errstate(over="ignore", invalid="ignore"):
        gu, _ = bank.g(upper, marginal)
    finite = np.isfinite(gu)
    t_hi = float(gu[finite].max()) if finite.any() else t_lo + 1.0
    x_hi = bank.invert(t_hi, marginal, upper, g0)
    grow = 0
    while x_hi.sum() < r:
        grow += 1
        t_hi = t_lo + 4.0 * (t_hi - t_lo) + 1.0
        if grow > 600 or not math.isfinite(t_hi):
            raise ConvergenceError(f"{what}: no finite cost level carries the demand {r:.6g}; rescale the units")
        x_hi = bank.invert(t_hi, marginal, upper, g0)
    t, x, s = t_lo, x_lo, 0.0
    tight = 4.0 * bank.m * EPS * r  # the sum is exact to rounding
    nit = 0
    for nit in range(1, 500):  # noqa: B007
        dS = _newton_slope(bank, x, t, marginal, upper, g0)
        tn = t + (r - s) / dS if 0 < dS < math.inf else math.nan
        if not (t_lo < tn < t_hi):
            geometric = t_lo > 0 and t_hi > 16.0 * t_lo
            tn = math.sqrt(t_lo) * math.sqrt(t_hi) if geometric else 0.5 * (t_lo + t_hi)
        t = tn
        x = bank.invert(t, marginal, upper, g0)
        s = float(x.sum())
        if s < r:
            t_lo, x_lo = t, x
        else:
            t_hi, x_hi = t, x
        if abs(s - r) <= tight or t_hi - t_lo <= 4 * EPS * max(abs(t_lo), abs(t_hi)):
            break
    else:
        raise ConvergenceError(f"{what}: the level iteration did not converge", abs(s - r) / r, tight / r)
    if abs(s - r) > tight:
        # S jumps at the level (flat curves): interpolate between the bracketing flows so sum_w x_w = r
        s_lo, s_hi = float(x_lo.sum()), float(x_hi.sum())
        lam = (r - s_lo) / (s_hi - s_lo) if s_hi > s_lo else 1.0
        x = x_lo + lam * (x_hi - x_lo)
        s = float(x.sum())
    if s != r:
        # spread the rounding residual over the free workers in proportion to dx_w/dt = 1 / g_w'(x_w): every
        # free worker's cost moves by the same amount, so the levels stay equal
        free = np.flatnonzero((x > 0) & (x < upper))
        if free.size:
            _, gd = bank.g(x[free], marginal, free)
            w = np.where(gd > 0, 1.0 / np.where(gd > 0, gd, 1.0), 0.0)
            if w.sum() > 0 and np.isfinite(w).all():
                x[free] = np.clip(x[free] + (r - s) * w / w.sum(), 0.0, upper[free])
    g, _ = bank.g(x, marginal)
    tol = certificate_tolerance(bank, x, marginal=marginal, rgap=tol)
    gap = level_gap(bank, x, marginal=marginal, tolerance=tol)
    cert = Certificate("relative_gap", gap, tol).check(what)
    return WaterFillResult(x, float(t), g, cert, nit)
