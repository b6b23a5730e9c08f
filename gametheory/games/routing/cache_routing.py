"""Nonatomic routing with cache-affinity externalities (omega > 0): costs, projection dynamics, global optimum.

Cache benefit (documented form, per unit of class-k flow on worker w, in the latency unit):

    h_k(x_kw) = H_k * (1 - exp(-x_kw / s_k))

concave, increasing, saturating at H_k (the latency a fully warm prefix cache saves) with s_k the class-k
rate (requests/s) at which the prefix is ~63% warm. A class-k request's cost on w is

    c_kw(x) = l_w(X_w) - omega * h_k(x_kw),      X_w = sum_k x_kw,

and the social cost is sum_w X_w l_w(X_w) - omega * sum_kw x_kw h_k(x_kw).

Why the potential breaks: with omega = 0 the cost is the gradient of Beckmann's convex potential. With
omega > 0 c_kw is still the gradient of Phi(x) = sum_w int_0^{X_w} l_w - omega sum_kw int_0^{x_kw} h_k, but
Phi is no longer convex (the cache term is concave), so it has several local minima = several stable
equilibria, and first-order methods need multiple starts. In the atomic game with identity-dependent
(asymmetric) overlaps no potential exists at all (see :mod:`gametheory.games.routing.atomic`).

Equilibria: projection dynamics x_k <- Proj_{simplex r_k}(x_k - gamma c_k(x)) (Dafermos 1980; Nagurney &
Zhang 1996) from several starts; a fixed point is a Wardrop equilibrium. Certificate: max over classes of
(max used cost - min cost), relative to the mean latency.

Global social optimum (small instances): a MILP over piecewise-linear pieces solved by HiGHS through cvxpy
(convex X l(X) by tangent cuts -> under-estimate; the nonconvex cache term by SOS2 interpolation with its
interpolation error bounded by max|f''| delta^2 / 8), giving a certified lower bound over loads
X_w <= min(R, 0.999 capacity_w); the upper bound is the
true cost of the MILP point polished by local descent. Gap = (upper - lower) / (sum_w X_w l_w(X_w)) at the
upper point (the latency part; the cache term can make the social cost itself near zero or negative).

References
----------
.. [1] S. Dafermos, "Traffic equilibrium and variational inequalities", Transportation Science 14, 1980.
.. [2] A. Nagurney, D. Zhang, *Projected Dynamical Systems and Variational Inequalities with Applications*,
   Kluwer 1996.
"""

from __future__ import annotations

import numpy as np

from gametheory._validate import (
    finite_array,
    instance,
    integer,
    nonnegative_array,
    nonnegative_scalar,
    positive_scalar,
    sequence_of,
)
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.games.routing.wardrop import CurveBank
from gametheory.latency import LatencyCurve
from gametheory.quiet import quiet_highs

__all__ = ["cache_benefit", "class_costs", "milp_optimum", "project_rows", "projection_equilibrium", "social_cost"]


def _classes(H, s, K: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(H, s) checked: nonnegative H, positive s, one per class (K classes when known)."""
    H = nonnegative_array(H, "H", ndim=1, min_size=1)
    s = nonnegative_array(s, "s", ndim=1, min_size=1)
    if H.size != s.size or K is not None and H.size != K:
        raise InvalidInputError(f"H and s need one entry per class ({K if K is not None else H.size}), got "
                                f"{H.size} and {s.size}")
    if (s <= 0).any():
        raise InvalidInputError(f"s (cache scales) must be > 0, got {s.tolist()}")
    return H, s


def _flow_matrix(x, name: str, K: int | None = None, m: int | None = None) -> np.ndarray:
    x = nonnegative_array(x, name, ndim=2)
    if K is not None and x.shape != (K, m):
        raise InvalidInputError(f"{name} must have shape ({K}, {m}) (classes x workers), got {x.shape}")
    return x


def _instance(curves, x, omega, H, s, bank):
    """The arguments of the cost functions, checked; returns (curves, x, omega, H, s, bank)."""
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    x = _flow_matrix(x, "x")
    H, s = _classes(H, s, x.shape[0])
    if x.shape[1] != len(curves):
        raise InvalidInputError(f"x has {x.shape[1]} worker columns for {len(curves)} curves")
    loads = x.sum(axis=0)
    for w, (curve, load) in enumerate(zip(curves, loads, strict=True)):
        if load >= curve.capacity:
            raise CapacityExceededError(load, curve.capacity, f"worker {w}")
    if bank is not None:
        instance(bank, CurveBank, "bank")
        if bank.m != len(curves):
            raise InvalidInputError(f"bank holds {bank.m} curves for {len(curves)} workers")
    return curves, x, nonnegative_scalar(omega, "omega"), H, s, bank


def cache_benefit(x: np.ndarray, H: np.ndarray, s: np.ndarray) -> np.ndarray:
    """h_k(x_kw) = H_k (1 - exp(-x_kw / s_k)) for a K x m flow matrix (latency unit).

    Parameters
    ----------
    x : numpy.ndarray
        Flow of class k on worker w (requests/s), shape (K, m), nonnegative.
    H : numpy.ndarray
        Saturation H_k of each class's cache benefit (latency unit), shape (K,).
    s : numpy.ndarray
        Warm-up rate s_k of each class (requests/s, > 0), shape (K,).

    Returns
    -------
    numpy.ndarray
        Cache benefit h_k(x_kw) per unit of flow (latency unit), shape (K, m).

    Raises
    ------
    InvalidInputError
        ``x`` not a nonnegative K x m matrix, or ``H``/``s`` not one nonnegative (positive) value per class.
    """
    x = _flow_matrix(x, "x")
    H, s = _classes(H, s, x.shape[0])
    return _cache_benefit(x, H, s)


def _cache_benefit(x, H, s):
    return H[:, None] * (1.0 - np.exp(-x / s[:, None]))


def class_costs(curves, x: np.ndarray, omega: float, H: np.ndarray, s: np.ndarray, bank=None) -> np.ndarray:
    """K x m matrix of c_kw = l_w(X_w) - omega h_k(x_kw).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each of the m workers (latency unit, e.g. ms, at a load in requests/s).
    x : numpy.ndarray
        Flow of class k on worker w (requests/s), shape (K, m), nonnegative.
    omega : float
        Weight (>= 0) of the cache benefit in the cost.
    H : numpy.ndarray
        Saturation H_k of each class's cache benefit (latency unit), shape (K,).
    s : numpy.ndarray
        Warm-up rate s_k of each class (requests/s, > 0), shape (K,).
    bank : CurveBank, optional
        Vectorized evaluator of ``curves`` (default: evaluate the curves one by one).

    Returns
    -------
    numpy.ndarray
        Cost c_kw of a class-k request on worker w (latency unit), shape (K, m).
    """
    return _class_costs(*_instance(curves, x, omega, H, s, bank))


def _class_costs(curves, x, omega, H, s, bank=None):
    X = x.sum(axis=0)
    lat = bank.eval(X)[0] if bank is not None else np.array([c(float(v)) for c, v in zip(curves, X, strict=True)])
    return lat[None, :] - omega * _cache_benefit(x, H, s)


def social_cost(curves, x: np.ndarray, omega: float, H: np.ndarray, s: np.ndarray, bank=None) -> float:
    """sum_w X_w l_w(X_w) - omega sum_kw x_kw h_k(x_kw).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each of the m workers (latency unit, e.g. ms, at a load in requests/s).
    x : numpy.ndarray
        Flow of class k on worker w (requests/s), shape (K, m), nonnegative.
    omega : float
        Weight (>= 0) of the cache benefit in the cost.
    H : numpy.ndarray
        Saturation H_k of each class's cache benefit (latency unit), shape (K,).
    s : numpy.ndarray
        Warm-up rate s_k of each class (requests/s, > 0), shape (K,).
    bank : CurveBank, optional
        Vectorized evaluator of ``curves`` (default: evaluate the curves one by one).

    Returns
    -------
    float
        Social cost (latency unit x requests/s); may be near zero or negative when the cache term dominates.
    """
    return _social_cost(*_instance(curves, x, omega, H, s, bank))


def _social_cost(curves, x, omega, H, s, bank=None):
    X = x.sum(axis=0)
    lat = bank.eval(X)[0] if bank is not None else np.array([c(float(v)) for c, v in zip(curves, X, strict=True)])
    return float(X @ lat - omega * np.sum(x * _cache_benefit(x, H, s)))


def project_rows(v: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row v_k onto {y >= 0, sum y = r_k} (sort-based; Held et al. 1974).

    Parameters
    ----------
    v : numpy.ndarray
        Points to project, one per row, shape (K, m), finite.
    r : numpy.ndarray
        Total r_k of each row's simplex (>= 0), shape (K,).

    Returns
    -------
    numpy.ndarray
        The projections, shape (K, m), each row nonnegative and summing to r_k.

    Raises
    ------
    InvalidInputError
        ``v`` not a finite K x m matrix, or ``r`` not K nonnegative totals.
    """
    v = finite_array(v, "v", ndim=2)
    r = nonnegative_array(r, "r", ndim=1)
    if r.size != v.shape[0] or v.shape[1] == 0:
        raise InvalidInputError(f"r needs one total per row of v ({v.shape[0]}), got {r.size}; v has shape {v.shape}")
    return _project_rows(v, r)


def _project_rows(v, r):
    K, m = v.shape
    u = -np.sort(-v, axis=1)
    css = np.cumsum(u, axis=1) - r[:, None]
    idx = np.arange(1, m + 1)
    cond = u - css / idx > 0
    rho = m - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(K), rho] / (rho + 1)
    return np.maximum(v - theta[:, None], 0.0)


def equilibrium_gap(curves, x, omega, H, s, r, bank=None) -> tuple[float, float]:
    """(absolute, relative) Wardrop gap: max_k (max_{w: x_kw > 0} c_kw - min_w c_kw), and the flow-weighted
    sum_kw x_kw (c_kw - min_w c_kw) over sum_w X_w l_w(X_w).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each of the m workers (latency unit, e.g. ms, at a load in requests/s).
    x : numpy.ndarray
        Flow of class k on worker w (requests/s), shape (K, m), nonnegative.
    omega : float
        Weight (>= 0) of the cache benefit in the cost.
    H : numpy.ndarray
        Saturation H_k of each class's cache benefit (latency unit), shape (K,).
    s : numpy.ndarray
        Warm-up rate s_k of each class (requests/s, > 0), shape (K,).
    r : numpy.ndarray
        Demand r_k of each class (requests/s), shape (K,).
    bank : CurveBank, optional
        Vectorized evaluator of ``curves`` (default: evaluate the curves one by one).

    Returns
    -------
    tuple of (float, float)
        Absolute gap (latency unit) and relative gap (dimensionless, over the total latency cost).
    """
    c = _class_costs(curves, x, omega, H, s, bank)
    cmin = c.min(axis=1)
    used = x > 1e-12 * np.maximum(r[:, None], 1e-300)
    spread = np.where(used, c - cmin[:, None], 0.0)
    X = x.sum(axis=0)
    lat = c + omega * _cache_benefit(x, H, s)
    denom = float(X @ lat[0]) if X.sum() > 0 else 1.0
    return float(spread.max(initial=0.0)), float(np.sum(x * (c - cmin[:, None])) / max(denom, 1e-300))


def projection_equilibrium(curves, r: np.ndarray, omega: float, H: np.ndarray, s: np.ndarray, x0: np.ndarray,
                           *, rgap: float = 1e-8, max_iter: int = 50000, bank=None):
    """Projection dynamics from ``x0`` (K x m) to a point with relative gap <= ``rgap``.

    Returns (x, abs_gap, rel_gap, nit). The step is 1 / L with L estimated from the curves' slopes and the
    cache term's Lipschitz constant omega H / s, halved whenever a step would leave the capacity region.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each of the m workers (latency unit, e.g. ms, at a load in requests/s).
    r : numpy.ndarray
        Demand r_k of each class (requests/s), shape (K,).
    omega : float
        Weight (>= 0) of the cache benefit in the cost.
    H : numpy.ndarray
        Saturation H_k of each class's cache benefit (latency unit), shape (K,).
    s : numpy.ndarray
        Warm-up rate s_k of each class (requests/s, > 0), shape (K,).
    x0 : numpy.ndarray
        Start flows (requests/s), shape (K, m), each row summing to r_k.
    rgap : float
        Relative gap (> 0) at which to stop.
    max_iter : int
        Largest number of projection steps.
    bank : CurveBank, optional
        Vectorized evaluator of ``curves`` (default: evaluate the curves one by one).

    Returns
    -------
    tuple of (numpy.ndarray, float, float, int)
        ``(x, abs_gap, rel_gap, nit)``: final flows (requests/s, shape (K, m)), the gaps of
        :func:`equilibrium_gap` at them and the steps taken (the gap is above ``rgap`` if ``max_iter`` ran out).

    Raises
    ------
    InvalidInputError
        As :func:`social_cost` for the instance; ``r`` not one nonnegative demand per class; ``x0`` not
        carrying them; ``rgap`` not positive; ``max_iter`` not a positive integer.
    ConvergenceError
        When the step underflows next to a capacity.
    """
    curves, x0, omega, H, s, bank = _instance(curves, x0, omega, H, s, bank)
    r = _demands(r, x0)
    rgap = positive_scalar(rgap, "rgap")
    max_iter = integer(max_iter, "max_iter", minimum=1, maximum=10**8)
    caps = np.array([c.capacity for c in curves])
    x = x0.copy()
    gamma = None
    nit = 0
    rel = np.inf
    for nit in range(1, max_iter + 1):  # noqa: B007
        X = x.sum(axis=0)
        if bank is not None:
            lat, d1, _ = bank.eval(X)
        else:
            lat = np.array([c(float(v)) for c, v in zip(curves, X, strict=True)])
            d1 = np.array([c.derivative(float(v)) for c, v in zip(curves, X, strict=True)])
        c = lat[None, :] - omega * _cache_benefit(x, H, s)
        cmin = c.min(axis=1)
        rel = float(np.sum(x * (c - cmin[:, None]))) / max(float(X @ lat), 1e-300)
        if rel <= rgap:
            break
        L = float(x.shape[0] * d1.max() + omega * np.max(H / s)) + 1e-12
        g = 1.0 / L if gamma is None else gamma
        while True:
            xn = _project_rows(x - g * c, r)
            if (xn.sum(axis=0) < caps).all():
                break
            g *= 0.5
            if g < 1e-18:
                raise ConvergenceError("projection dynamics: step underflow near capacity", rel, rgap)
        gamma = min(2 * g, 1.0 / L) if gamma is not None else g
        x = xn
    a, rel = equilibrium_gap(curves, x, omega, H, s, r, bank)
    return x, a, rel, nit


def _demands(r, x0) -> np.ndarray:
    """One nonnegative demand per class, carried by each row of the start ``x0``."""
    r = nonnegative_array(r, "r", ndim=1)
    if r.size != x0.shape[0]:
        raise InvalidInputError(f"r needs one demand per class ({x0.shape[0]}), got {r.size}")
    carried = x0.sum(axis=1)
    if (np.abs(carried - r) > 1e-9 * np.maximum(r, 1e-300) + 1e-300).any():
        k = int(np.argmax(np.abs(carried - r)))
        raise InvalidInputError(f"x0 must carry the demand: class {k} sums to {carried[k]:.12g}, demand {r[k]:.12g}")
    return r


#: largest classes x workers x pieces the MILP accepts (binary variables)
MILP_MAX_SIZE = 6000


def milp_optimum(curves, r: np.ndarray, omega: float, H: np.ndarray, s: np.ndarray, *, pieces: int = 32,
                 cuts: int = 80, rgap: float = 1e-2, max_pieces: int = 256):
    """Global social optimum of a small instance by a MILP (HiGHS via cvxpy). Returns (x, cost, lower, gap,
    pieces).

    Lower bound: tangent cuts under-estimate X l(X) (convex), SOS2 interpolation of f(y) = -omega y h(y)
    minus its interpolation error bound. Upper bound: the true cost at the MILP point after local descent.
    The interpolation error shrinks as 1 / pieces^2: while the relative gap exceeds ``rgap`` the pieces are
    doubled (up to ``max_pieces`` and ``MILP_MAX_SIZE``); the certificate is checked on the last solve.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each of the m workers (latency unit, e.g. ms, at a load in requests/s).
    r : numpy.ndarray
        Demand r_k of each class (requests/s), shape (K,).
    omega : float
        Weight (>= 0) of the cache benefit in the cost.
    H : numpy.ndarray
        Saturation H_k of each class's cache benefit (latency unit), shape (K,).
    s : numpy.ndarray
        Warm-up rate s_k of each class (requests/s, > 0), shape (K,).
    pieces : int
        Initial number of SOS2 interpolation pieces per class and worker.
    cuts : int
        Tangent cuts under-estimating each worker's total cost X l(X) (>= 2).
    rgap : float
        Relative gap (> 0) between upper and lower bound to reach.
    max_pieces : int
        Most pieces to double up to.

    Returns
    -------
    tuple of (numpy.ndarray, float, float, float, int)
        ``(x, cost, lower, gap, pieces)``: the polished flows (requests/s, shape (K, m)), their true social
        cost, the certified lower bound, the relative gap and the pieces of the last solve.

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    r = nonnegative_array(r, "r", ndim=1, min_size=1)
    H, s = _classes(H, s, r.size)
    omega = nonnegative_scalar(omega, "omega")
    pieces = integer(pieces, "pieces", minimum=1, maximum=MILP_MAX_SIZE)
    cuts = integer(cuts, "cuts", minimum=2, maximum=10_000)
    rgap = positive_scalar(rgap, "rgap")
    max_pieces = integer(max_pieces, "max_pieces", minimum=1)
    if r.sum() >= sum(c.capacity for c in curves):
        raise CapacityExceededError(r.sum(), sum(c.capacity for c in curves), "total demand")
    K, m = len(r), len(curves)
    if K * m * pieces > MILP_MAX_SIZE:
        raise InvalidInputError(
            f"milp_optimum is for small instances; K*m*pieces = {K * m * pieces} > {MILP_MAX_SIZE}"
        )
    limit = min(max_pieces, MILP_MAX_SIZE // (K * m))
    while True:
        xv, best, lower, gap = _milp_bounds(curves, r, omega, H, s, pieces, cuts)
        if gap <= rgap or 2 * pieces > limit:
            break
        pieces *= 2
    Certificate("milp_gap", max(gap, 0.0), rgap).check(f"milp_optimum ({pieces} pieces)")
    return xv, best, lower, gap, pieces


def _milp_bounds(curves, r, omega, H, s, pieces, cuts):
    """One MILP solve on ``pieces`` interpolation pieces: (polished point, its true cost, lower bound, gap)."""
    import cvxpy as cp

    K, m = len(r), len(curves)
    R = float(r.sum())
    caps = np.array([c.capacity for c in curves])
    top = np.minimum(R, caps * (1 - 1e-3))  # loads within 0.1% of a pole are excluded (cost explodes there)
    x = cp.Variable((K, m), nonneg=True)
    t = cp.Variable(m)
    cons = [cp.sum(x, axis=1) == r]
    for w, c in enumerate(curves):
        Xw = cp.sum(x[:, w])
        cons.append(Xw <= top[w])
        pts = top[w] * (1 - (1 - np.linspace(0, 1, cuts)) ** 2)  # denser near capacity
        tv = c.total(pts)
        mg = c.marginal(pts)
        cons += [t[w] >= tv[i] + mg[i] * (Xw - pts[i]) for i in range(cuts)]
    obj_cache = 0
    err = 0.0
    for k in range(K):
        b = np.linspace(0.0, float(r[k]), pieces + 1)
        f = -omega * b * H[k] * (1 - np.exp(-b / s[k]))
        # |f''| = omega H e^{-y/s} |2/s - y/s^2| <= 2 omega H / s
        err += m * (2 * omega * H[k] / s[k]) * (b[1] - b[0]) ** 2 / 8
        for w in range(m):
            lam = cp.Variable(pieces + 1, nonneg=True)
            z = cp.Variable(pieces, boolean=True)
            cons += [cp.sum(lam) == 1, cp.sum(z) == 1, x[k, w] == b @ lam, lam[0] <= z[0], lam[-1] <= z[-1]]
            cons += [lam[i] <= z[i - 1] + z[i] for i in range(1, pieces)]
            obj_cache = obj_cache + f @ lam
    prob = cp.Problem(cp.Minimize(cp.sum(t) + obj_cache), cons)
    try:
        quiet_highs()  # no solver banner in the user's output
        prob.solve(solver="HIGHS")
    except cp.error.SolverError as exc:
        raise ConvergenceError(f"milp_optimum: HiGHS failed ({exc})") from exc
    if prob.status not in ("optimal", "optimal_inaccurate") or x.value is None:
        raise ConvergenceError(f"milp_optimum: HiGHS status {prob.status}")
    lower = float(prob.value) - err
    xv = _project_rows(np.maximum(np.asarray(x.value), 0.0), r)
    # polish: projected gradient descent on the true social cost
    best = _social_cost(curves, xv, omega, H, s)
    for _ in range(2000):
        X = xv.sum(axis=0)
        mg = np.array([c.marginal(float(v)) for c, v in zip(curves, X, strict=True)])
        e = np.exp(-xv / s[:, None])
        grad = mg[None, :] - omega * H[:, None] * (1 - e + xv / s[:, None] * e)
        step = 1e-2 * R / max(float(np.abs(grad).max()), 1e-12)
        improved = False
        while step > 1e-14 * R:
            cand = _project_rows(xv - step * grad, r)
            if (cand.sum(axis=0) < caps).all():
                val = _social_cost(curves, cand, omega, H, s)
                if val < best - 1e-15 * abs(best):
                    xv, best, improved = cand, val, True
                    break
            step *= 0.5
        if not improved:
            break
    X = xv.sum(axis=0)
    scale = float(X @ np.array([c(float(v)) for c, v in zip(curves, X, strict=True)]))
    gap = (best - lower) / max(scale, 1e-300)
    return xv, best, lower, gap
