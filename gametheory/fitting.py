"""Fit latency curves (:mod:`gametheory.latency`) to measured (load, latency) points.

``fit(x, y, family=...)`` returns a frozen :class:`FitResult` holding the fitted curve, its parameters with
standard errors, residuals, R^2 and the information criteria AIC and BIC. Every family respects the
constraints of its :mod:`gametheory.latency` class, so the fitted curve is nondecreasing even when a few
measured points are not (the vLLM-backend tables have such points):

=============  ============================================  =========================================
family         model (load x, latency y)                      method
=============  ============================================  =========================================
``affine``     a + b x, a, b >= 0                             nonnegative least squares (NNLS)
``polynomial`` sum_i c_i x^i, c_i >= 0, degree ``degree``     NNLS on a scaled Vandermonde matrix
``bpr``        t0 (1 + alpha (x / cap)^beta), cap = max x     bounded nonlinear least squares (TRF)
``mm1``        1 / (mu - x), mu > max x                       1-D bounded search on log(mu - max x)
``pole``       a + b x + c / (kappa - x), kappa > max x       variable projection: NNLS in (a, b, c)
                                                              for each kappa, 1-D search over kappa
``piecewise``  continuous 2-segment convex hinge              NNLS in (a, b1, b2 - b1) for each break,
               a + b1 x + (b2 - b1) max(x - t, 0)             grid plus bounded search over the break t
``tabulated``  monotone smoothing                             weighted isotonic regression (PAVA), then
                                                              PCHIP through the block means
=============  ============================================  =========================================

``family="auto"`` fits every parametric family (not ``tabulated``) and picks the one with the lowest
information criterion (``criterion="aic"``, the default, small-sample corrected AICc; or ``"bic"``); the
result's ``ranking`` lists every candidate with both criteria and its Akaike/Schwarz weight and
``explanation`` says in words why the winner won (Burnham & Anderson 2002, ch. 2).

Honest small samples: a family with k parameters needs k + 2 points for its information criterion (AICc)
and its standard errors to be defined. ``family="auto"`` compares only the candidates that have them; an
explicit family fitted to fewer than k points raises, to k or k + 1 points it returns with a warning.
Latency that does not rise with load (a least-squares slope that is not positive at two standard errors)
also warns. Warnings are kept in ``FitResult.warnings`` and emitted as
:class:`~gametheory.errors.StatisticsWarning`.

Gaussian errors with per-point weights w_i (inverse variances up to a common factor) are assumed:
SSR = sum w_i r_i^2, AIC = n ln(SSR/n) + 2k (+ 2k(k+1)/(n-k-1) for AICc), BIC = n ln(SSR/n) + k ln n.
Parameter uncertainty is the asymptotic covariance s^2 (J^T W J)^-1 with s^2 = SSR/(n-k) (``uncertainty=
"covariance"``, the default), or the standard deviation over a residual bootstrap (``"bootstrap"``,
``n_boot`` refits, seeded).

References
----------
.. [1] C. L. Lawson, R. J. Hanson, *Solving Least Squares Problems*, Prentice-Hall 1974, ch. 23 (NNLS;
   ``scipy.optimize.nnls``).
.. [2] M. A. Branch, T. F. Coleman, Y. Li, "A subspace, interior, and conjugate gradient method for large-scale
   bound-constrained minimization problems", SIAM J. Sci. Comput. 21(1), 1999 (the trust-region reflective
   method of ``scipy.optimize.least_squares(method="trf")``).
.. [3] G. H. Golub, V. Pereyra, "The differentiation of pseudo-inverses and nonlinear least squares problems
   whose variables separate", SIAM J. Numer. Anal. 10(2), 1973 (variable projection).
.. [4] R. E. Barlow, D. J. Bartholomew, J. M. Bremner, H. D. Brunk, *Statistical Inference under Order
   Restrictions*, Wiley 1972 (pool-adjacent-violators; ``scipy.optimize.isotonic_regression``).
.. [5] F. N. Fritsch, R. E. Carlson, "Monotone piecewise cubic interpolation", SIAM J. Numer. Anal. 17(2), 1980.
.. [6] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel Inference*, 2nd ed., Springer 2002, ch. 2
   (AICc, Akaike weights, the evidence scale of Delta AICc).
.. [7] G. Schwarz, "Estimating the dimension of a model", Ann. Statist. 6(2), 1978 (BIC).
.. [8] B. Efron, R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall 1993, sec. 9.5 (residual
   bootstrap).
"""

from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import isotonic_regression, least_squares, minimize_scalar, nnls

from gametheory._progress import progress
from gametheory._validate import choice, finite_array, flag, integer, nonnegative_array, random_seed
from gametheory.display import Readable, format_value
from gametheory.errors import InvalidInputError, StatisticsWarning
from gametheory.latency import BPR, MM1, Affine, LatencyCurve, PiecewiseLinear, Pole, Polynomial, Tabulated

__all__ = [
    "AUTO_MIN_POINTS",
    "FAMILIES",
    "PARAMETRIC_FAMILIES",
    "FitResult",
    "check_points",
    "fit",
    "n_params",
    "trend_warnings",
]

#: every family name accepted by :func:`fit` (besides ``"auto"``)
FAMILIES = ("affine", "polynomial", "bpr", "mm1", "pole", "piecewise", "tabulated")
#: ``family="auto"`` needs this many points: a 2-parameter family plus 2 (AICc defined)
AUTO_MIN_POINTS = 4
#: the candidates of ``family="auto"``
PARAMETRIC_FAMILIES = ("affine", "polynomial", "bpr", "mm1", "pole", "piecewise")


@dataclass(frozen=True, repr=False)
class FitResult(Readable):
    """A fitted latency curve, returned by :func:`fit`.

    Parameters
    ----------
    curve : LatencyCurve
        The fitted curve (same load and latency units as the data).
    family : str
        The family fitted (one of :data:`FAMILIES`).
    params : dict
        Parameter name -> fitted value (e.g. ``a``, ``b`` for affine; ``a``, ``b``, ``c``, ``kappa`` for pole).
    stderr : dict
        Parameter name -> standard error (``inf`` where a parameter is not identified, e.g. kappa when the
        pole coefficient c is 0, or where n <= k).
    r2 : float
        Weighted coefficient of determination R^2.
    aic : float
        Small-sample corrected Akaike criterion AICc.
    bic : float
        Schwarz's Bayesian criterion.
    residuals : numpy.ndarray
        y - curve(x) at the fitted points (sorted by load), in the data's latency unit; shape (n,).
    n : int
        Number of points fitted.
    k : int
        Number of free parameters.
    criterion : {"aic", "bic"}
        The criterion ``family="auto"`` ranked by.
    uncertainty : {"covariance", "bootstrap"}
        How ``stderr`` was computed.
    ranking : tuple of dict
        ``family="auto"`` only: every compared candidate, best first, with keys family, k, aic, bic, weight
        (Akaike or Schwarz weight) and r2.
    explanation : str
        ``family="auto"`` only: why the chosen family won, in words.
    warnings : tuple of str
        What makes the statistics weak (too few points, latency not rising with load).
    x, y : numpy.ndarray, optional
        The points fitted, sorted by load, for :meth:`plot`.
    """

    curve: LatencyCurve
    family: str
    params: dict
    stderr: dict
    r2: float
    aic: float
    bic: float
    residuals: np.ndarray = field(repr=False)
    n: int = 0
    k: int = 0
    criterion: str = "aic"
    uncertainty: str = "covariance"
    ranking: tuple = ()
    explanation: str = ""
    warnings: tuple = ()
    x: np.ndarray | None = field(default=None, repr=False)
    y: np.ndarray | None = field(default=None, repr=False)

    @property
    def sigma(self) -> float:
        """Residual standard deviation sqrt(SSR / (n - k)) (weighted; ``inf`` when n == k)."""
        return _sigma(self)

    def _display_title(self) -> str:
        return f"FitResult: {self.family} (k={self.k}) on {self.n} points, R^2 = {self.r2:.4f}"

    def _display_items(self):
        items = []
        for name, v in self.params.items():
            se = self.stderr.get(name)
            items.append((name, format_value(v) + (f" +/- {format_value(se, 2)}" if se is not None else "")))
        items += [("AICc", self.aic if self.n > self.k + 1 else "undefined (n <= k + 1)"), ("BIC", self.bic)]
        if self.explanation:
            items.append(("why", self.explanation))
        items += [("warning", w) for w in self.warnings]
        return items

    def to_frame(self):
        """One row per parameter: family, parameter, value, stderr.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        return pd.DataFrame([{"family": self.family, "parameter": k, "value": v, "stderr": self.stderr.get(k)}
                             for k, v in self.params.items()])

    def plot(self, ax=None, *, xlabel: str = "load", ylabel: str = "latency", unit: str = "ms"):
        """The fitted curve over the measured loads, with the measured points.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Draw here (default: a new figure in the shared style).
        xlabel, ylabel, unit : str
            Axis names; the y-label reads "ylabel (unit)".

        Returns
        -------
        matplotlib.axes.Axes
        """
        from gametheory.plotting import axes, axis_label, legend

        ax = axes(ax)
        hi = float(np.max(self.x)) if self.x is not None and self.x.size else 1.0
        grid = np.linspace(0.0, hi, 300)
        grid = grid[grid < self.curve.capacity]
        if self.x is not None:
            ax.plot(self.x, self.y, "o", label="measured")
        ax.plot(grid, self.curve(grid), "-", label=f"{self.family} fit (R$^2$ = {self.r2:.3f})")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(axis_label(ylabel, unit))
        legend(ax)
        return ax

    def summary(self) -> dict:
        """JSON-friendly summary (no curve object).

        Returns
        -------
        dict
            Keys family, params, stderr, r2, aic, bic, n, k, criterion, uncertainty, ranking, explanation and
            warnings; numbers as Python floats, ranking and warnings as lists.
        """
        return {
            "family": self.family,
            "params": {k: float(v) for k, v in self.params.items()},
            "stderr": {k: float(v) for k, v in self.stderr.items()},
            "r2": float(self.r2),
            "aic": float(self.aic),
            "bic": float(self.bic),
            "n": self.n,
            "k": self.k,
            "criterion": self.criterion,
            "uncertainty": self.uncertainty,
            "ranking": [dict(r) for r in self.ranking],
            "explanation": self.explanation,
            "warnings": list(self.warnings),
        }


def _sigma(res: FitResult) -> float:
    dof = res.n - res.k
    return math.inf if dof <= 0 else float(np.sqrt(np.sum(res.residuals**2) / dof))


# --------------------------------------------------------------------------------------------------
# validation


#: highest polynomial degree a fit takes
MAX_DEGREE = 12


def n_params(family: str, degree: int = 2) -> int:
    """Number of free parameters of ``family`` (for the information criteria and the minimum point count).

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    degree : int
        Polynomial degree (1 .. 12), used by ``"polynomial"`` only.

    Returns
    -------
    int
        k: affine 2, polynomial degree + 1, bpr 3 (the capacity is fixed at the largest load), mm1 1, pole 4,
        piecewise 4, tabulated 2.

    Raises
    ------
    InvalidInputError
        An unknown family, or a degree that is not an integer in 1 .. 12.
    """
    family = choice(family, "family", FAMILIES)
    degree = integer(degree, "degree", minimum=1, maximum=MAX_DEGREE)
    return {"affine": 2, "polynomial": degree + 1, "bpr": 3, "mm1": 1, "pole": 4, "piecewise": 4,
            "tabulated": 2}[family]


#: largest |load|, |latency| or weight a fit takes (powers of larger values overflow float64)
MAX_MAGNITUDE = 1e12


def check_points(x, y, weights=None):
    """Validate (load, latency[, weight]) points and sort them by load.

    Parameters
    ----------
    x : array_like
        Loads (>= 0, finite, not all equal).
    y : array_like
        Latencies (>= 0, finite), same length.
    weights : array_like, optional
        Per-point weights (> 0), same length.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray, numpy.ndarray)
        x, y and weights (ones when not given), sorted by load.

    Raises
    ------
    InvalidInputError
        Naming the field and the offending entry.
    """
    xs = nonnegative_array(x, "x (load)", ndim=1)
    ys = finite_array(y, "y (latency)", ndim=1)
    if xs.size != ys.size:
        raise InvalidInputError(f"x (load) and y (latency) must have the same length, got {xs.size} and {ys.size}")
    if (ys < 0).any():
        i = int(np.argmax(ys < 0))
        raise InvalidInputError(f"y (latency) must be >= 0; entry {i} is {ys[i]!r}")
    if weights is None:
        w = np.ones_like(xs)
    else:
        w = finite_array(weights, "weights", ndim=1)
        if w.size != xs.size:
            raise InvalidInputError(f"weights must have the same length as x (load), got {w.size} and {xs.size}")
        if (w <= 0).any():
            i = int(np.argmax(w <= 0))
            raise InvalidInputError(f"weights must be > 0; entry {i} is {w[i]!r}")
    if xs.size > 1 and np.ptp(xs) == 0:
        raise InvalidInputError(f"x (load): all {xs.size} loads equal {xs[0]!r}; a curve of load needs loads that vary")
    for name, arr in (("x (load)", xs), ("y (latency)", ys), ("weights", w)):
        if arr.size and float(np.max(np.abs(arr))) > MAX_MAGNITUDE:
            top = float(np.max(np.abs(arr)))
            raise InvalidInputError(f"{name}: values up to {top:.3g} exceed {MAX_MAGNITUDE:.0e}; the fits' squares "
                                    "and powers would overflow: rescale the units (e.g. ms -> s)")
    order = np.argsort(xs, kind="stable")
    return xs[order], ys[order], w[order]


def trend_warnings(x, y, w=None) -> list[str]:
    """Warnings when latency does not rise with load.

    Parameters
    ----------
    x, y : numpy.ndarray
        Loads and latencies.
    w : numpy.ndarray, optional
        Weights.

    Returns
    -------
    list of str
        Empty when the weighted least-squares slope of latency on load is positive by more than two
        standard errors (or, with 2 points, positive); else one sentence saying the latency is decreasing or
        flat within noise, with the slope.
    """
    x, y, w = check_points(x, y, w)
    n = x.size
    if n < 2 or np.ptp(x) == 0:
        return []
    xm = np.sum(w * x) / np.sum(w)
    sxx = float(np.sum(w * (x - xm) ** 2))
    slope = float(np.sum(w * (x - xm) * (y - np.sum(w * y) / np.sum(w))) / sxx)
    if n > 2:
        resid = y - (np.sum(w * y) / np.sum(w) + slope * (x - xm))
        se = math.sqrt(float(np.sum(w * resid**2)) / (n - 2) / sxx)
    else:
        se = 0.0
    if slope <= 0:
        return [f"latency decreases or stays flat with load (least-squares slope {slope:.3g} per unit of load); a "
                "latency curve is nondecreasing, so the fit can only flatten these points"]
    if slope < 2 * se:
        return [f"latency does not rise significantly with load (slope {slope:.3g} +/- {se:.2g} per unit of load): "
                "the points are flat within their noise"]
    return []


def _need(family: str, n: int, k: int) -> None:
    if n < k:
        raise InvalidInputError(
            f"x (load): family {family!r} has {k} parameters and needs at least {k} points, got {n}"
        )


# --------------------------------------------------------------------------------------------------
# statistics


def _criteria(ssr: float, n: int, k: int, sst: float) -> tuple[float, float, float]:
    """(AICc, BIC, R^2) of a Gaussian fit with weighted residual sum of squares ``ssr``."""
    floor = 1e-300 + 1e-24 * max(sst, 1e-300)
    ll = n * math.log(max(ssr, floor) / n)
    # AICc; its correction is undefined for n <= k + 1: a large finite penalty keeps the ranking total
    aic = ll + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else 1e6)
    bic = ll + k * math.log(n)
    r2 = 1.0 - ssr / sst if sst > 0 else (1.0 if ssr <= floor else 0.0)
    return aic, bic, r2


def _cov_stderr(jac: np.ndarray, w: np.ndarray, resid: np.ndarray, names) -> dict:
    """Asymptotic standard errors sqrt(diag(s^2 (J^T W J)^-1)), s^2 = SSR_w / (n - k)."""
    n, k = jac.shape
    dof = n - k
    ssr = float(np.sum(w * resid**2))
    if dof <= 0:
        return {name: math.inf for name in names}
    s2 = ssr / dof
    jw = jac * np.sqrt(w)[:, None]
    try:
        cov = s2 * np.linalg.pinv(jw.T @ jw, rcond=1e-12)
        diag = np.diag(cov)
    except np.linalg.LinAlgError:
        diag = np.full(k, math.inf)
    out = {}
    for j, name in enumerate(names):
        col_zero = not np.any(jw[:, j])
        out[name] = math.inf if col_zero else float(np.sqrt(max(diag[j], 0.0)))
    return out


def _wnnls(a: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, float]:
    """Weighted nonnegative least squares min ||sqrt(w)(A beta - y)||, beta >= 0 (Lawson-Hanson)."""
    sw = np.sqrt(w)
    scale = np.linalg.norm(a, axis=0)
    scale[scale == 0] = 1.0
    beta, _ = nnls((a * sw[:, None]) / scale, y * sw, maxiter=50 * a.shape[1] + 100)
    beta = beta / scale
    r = y - a @ beta
    return beta, float(np.sum(w * r**2))


# --------------------------------------------------------------------------------------------------
# families: each returns (curve, params, jacobian or None, param names for the jacobian, k)


def _fit_affine(x, y, w, **_):
    a = np.column_stack([np.ones_like(x), x])
    beta, _ = _wnnls(a, y, w)
    curve = Affine(beta[0], beta[1])
    return curve, {"a": beta[0], "b": beta[1]}, a, ("a", "b"), 2


def _fit_polynomial(x, y, w, degree=2, **_):
    if int(degree) != degree or degree < 0:
        raise InvalidInputError(f"degree must be a nonnegative integer, got {degree!r}")
    degree = int(degree)
    s = float(x.max()) if x.max() > 0 else 1.0
    a = np.vander(x / s, degree + 1, increasing=True)
    beta, _ = _wnnls(a, y, w)
    coeffs = beta / s ** np.arange(degree + 1)
    curve = Polynomial(coeffs)
    jac = np.vander(x, degree + 1, increasing=True)
    names = tuple(f"c{i}" for i in range(degree + 1))
    return curve, dict(zip(names, coeffs, strict=True)), jac, names, degree + 1


def _fit_bpr(x, y, w, **_):
    cap = float(x.max()) if x.max() > 0 else 1.0
    u = x / cap
    sw = np.sqrt(w)

    def resid(p):
        t0, alpha, beta = p
        return sw * (t0 * (1 + alpha * u**beta) - y)

    t0_0 = max(float(np.min(y)), 1e-9)
    alpha_0 = max(float(np.max(y)) / t0_0 - 1.0, 1e-3)
    best = None
    for beta0 in (1.0, 2.0, 4.0, 8.0):
        sol = least_squares(resid, [t0_0, alpha_0, beta0], bounds=([0, 0, 1.0], [np.inf, np.inf, 16.0]),
                            method="trf", x_scale="jac")
        if best is None or sol.cost < best.cost:
            best = sol
    t0, alpha, beta = (float(v) for v in best.x)
    curve = BPR(t0, cap, alpha, beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        logu = np.where(u > 0, np.log(np.where(u > 0, u, 1.0)), 0.0)
    jac = np.column_stack([1 + alpha * u**beta, t0 * u**beta, t0 * alpha * u**beta * logu])
    return curve, {"t0": t0, "alpha": alpha, "beta": beta, "capacity": cap}, jac, ("t0", "alpha", "beta"), 3


def _log_gap_search(obj, xmax: float, span: float):
    """Minimize obj(kappa) over kappa = xmax + g, g in [1e-6 span, 1e4 span], on a log grid then refined."""
    lo, hi = math.log(max(span, 1e-9) * 1e-6), math.log(max(span, 1e-9) * 1e4)
    grid = np.linspace(lo, hi, 61)
    vals = np.array([obj(xmax + math.exp(g)) for g in grid])
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    if b > a:
        sol = minimize_scalar(lambda g: obj(xmax + math.exp(g)), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-6})
        if sol.fun <= vals[i]:
            return xmax + math.exp(float(sol.x))
    return xmax + math.exp(float(grid[i]))


def _fit_mm1(x, y, w, **_):
    xmax = float(x.max())
    span = max(xmax, float(np.ptp(x)), 1.0)
    mu = _log_gap_search(lambda m: float(np.sum(w * (1.0 / (m - x) - y) ** 2)), xmax, span)
    jac = (-1.0 / (mu - x) ** 2)[:, None]
    return MM1(mu), {"mu": mu}, jac, ("mu",), 1


def _pole_design(x, kappa):
    return np.column_stack([np.ones_like(x), x, 1.0 / (kappa - x)])


def _fit_pole(x, y, w, **_):
    xmax = float(x.max())
    span = max(float(np.ptp(x)), xmax, 1e-9)
    kappa = _log_gap_search(lambda k: _wnnls(_pole_design(x, k), y, w)[1], xmax, span)
    (a, b, c), _ = _wnnls(_pole_design(x, kappa), y, w)
    curve = Pole(a, b, c, kappa)
    jac = np.column_stack([np.ones_like(x), x, 1.0 / (kappa - x), -c / (kappa - x) ** 2])
    return curve, {"a": a, "b": b, "c": c, "kappa": kappa}, jac, ("a", "b", "c", "kappa"), 4


def _hinge_design(x, t):
    return np.column_stack([np.ones_like(x), x, np.maximum(x - t, 0.0)])


def _fit_piecewise(x, y, w, **_):
    xu = np.unique(x)
    if xu.size < 3:
        raise InvalidInputError(f"x (load): family 'piecewise' needs at least 3 distinct loads, got {xu.size}")

    def obj(t):
        return _wnnls(_hinge_design(x, t), y, w)[1]

    cands = np.unique(np.concatenate([xu[1:-1], 0.5 * (xu[1:] + xu[:-1])]))
    vals = np.array([obj(t) for t in cands])
    i = int(np.argmin(vals))
    lo = cands[max(i - 1, 0)]
    hi = cands[min(i + 1, cands.size - 1)]
    t = float(cands[i])
    if hi > lo:
        sol = minimize_scalar(obj, bounds=(lo, hi), method="bounded", options={"xatol": 1e-9 * max(1.0, hi)})
        if sol.fun <= vals[i]:
            t = float(sol.x)
    (a, b1, d), _ = _wnnls(_hinge_design(x, t), y, w)
    b2 = b1 + d
    xmax = float(x.max())
    if t <= 0:
        bx, by = [0.0, xmax], [a, a + b2 * xmax]
    else:
        bx, by = [0.0, t, xmax], [a, a + b1 * t, a + b1 * t + b2 * (xmax - t)]
        if t >= xmax:
            bx, by = [0.0, t], [a, a + b1 * t]
    curve = PiecewiseLinear(bx, by)
    jac = np.column_stack([np.ones_like(x), x, np.maximum(x - t, 0.0), -d * (x > t)])
    names = ("a", "b1", "d", "t")
    params = {"a": a, "b1": b1, "b2": b2, "t": t}
    return curve, params, jac, names, 4


def _fit_tabulated(x, y, w, **_):
    xu, inv = np.unique(x, return_inverse=True)
    if xu.size < 2:
        raise InvalidInputError(f"x (load): family 'tabulated' needs at least 2 distinct loads, got {xu.size}")
    wsum = np.bincount(inv, weights=w)
    ymean = np.bincount(inv, weights=w * y) / wsum
    iso = isotonic_regression(ymean, weights=wsum, increasing=True).x
    iso = np.maximum(iso, 0.0)
    curve = Tabulated(xu, iso)
    k = int(np.unique(np.round(iso, 12)).size)
    return curve, {"n_knots": float(xu.size), "n_levels": float(k)}, None, (), max(k, 1)


_FITTERS = {
    "affine": _fit_affine,
    "polynomial": _fit_polynomial,
    "bpr": _fit_bpr,
    "mm1": _fit_mm1,
    "pole": _fit_pole,
    "piecewise": _fit_piecewise,
    "tabulated": _fit_tabulated,
}


# --------------------------------------------------------------------------------------------------
# public


def _fit_one(family, x, y, w, *, degree, criterion, uncertainty, n_boot, seed, notes=()) -> FitResult:
    n = x.size
    k_needed = n_params(family, degree)
    _need(family, n, k_needed)
    curve, params, jac, names, k = _FITTERS[family](x, y, w, degree=degree)
    params = {p: float(v) for p, v in params.items()}
    fitted = np.asarray(curve(x), dtype=float)
    resid = y - fitted
    ssr = float(np.sum(w * resid**2))
    ybar = float(np.sum(w * y) / np.sum(w))
    sst = float(np.sum(w * (y - ybar) ** 2))
    aic, bic, r2 = _criteria(ssr, n, k, sst)
    if uncertainty == "bootstrap":
        stderr = _bootstrap_stderr(family, x, fitted, resid, w, degree, n_boot, seed)
    elif jac is not None:
        stderr = _cov_stderr(jac, w, resid, names)
        if family == "piecewise":
            stderr["b2"] = float(np.hypot(stderr["b1"], stderr["d"])) if math.isfinite(stderr["d"]) else math.inf
            stderr = {p: stderr[p] for p in ("a", "b1", "b2", "t")}
    else:
        stderr = {}
    notes = list(notes)
    if n < k + 2 and family != "tabulated":
        notes.append(f"{n} points for {k} parameters (fewer than k + 2 = {k + 2}): the standard errors and AICc "
                     "are undefined or rest on fewer than 2 residual degrees of freedom; measure more loads")
    return FitResult(curve=curve, family=family, params=params, stderr=stderr, r2=float(r2), aic=float(aic),
                     bic=float(bic), residuals=resid, n=n, k=k, criterion=criterion, uncertainty=uncertainty,
                     warnings=tuple(notes), x=x, y=y)


def _bootstrap_stderr(family, x, fitted, resid, w, degree, n_boot, seed) -> dict:
    """Residual bootstrap (Efron & Tibshirani 1993, sec. 9.5): refit on fitted + resampled scaled residuals."""
    rng = np.random.default_rng(seed)
    r = resid * np.sqrt(w)
    samples: dict[str, list[float]] = {}
    for _ in progress(range(int(n_boot)), f"bootstrap of the {family} fit", leave=False):
        yb = np.maximum(fitted + rng.choice(r, size=r.size, replace=True) / np.sqrt(w), 0.0)
        try:
            _, p, _, _, _ = _FITTERS[family](x, yb, w, degree=degree)
        except InvalidInputError:
            continue
        for name, v in p.items():
            samples.setdefault(name, []).append(float(v))
    return {name: float(np.std(v, ddof=1)) if len(v) > 1 else math.inf for name, v in samples.items()}


def fit(x, y, family: str = "auto", weights=None, *, degree: int = 2, criterion: str = "aic",
        uncertainty: str = "covariance", n_boot: int = 200, seed: int = 0,
        candidates=PARAMETRIC_FAMILIES, warn: bool = True) -> FitResult:
    """Fit a latency curve of ``family`` to loads ``x`` (>= 0) and latencies ``y`` (>= 0).

    Parameters
    ----------
    x, y : array_like
        Loads and latencies (ms), equal lengths.
    family : str
        One of :data:`FAMILIES`, or ``"auto"``: fit ``candidates`` and return the best by ``criterion``
        ("aic": AICc, or "bic"), with ``ranking`` and ``explanation`` filled in. Only candidates with at least
        k + 2 points (k parameters) are compared: the others have no defined AICc.
    weights : array_like, optional
        Per-point weights (> 0; inverse variances up to a factor).
    degree : int
        Polynomial degree.
    criterion : {"aic", "bic"}
    uncertainty : {"covariance", "bootstrap"}
        Standard errors from the asymptotic covariance, or from ``n_boot`` residual-bootstrap refits (``seed``).
    candidates : sequence of str
        The families ``"auto"`` compares.
    warn : bool
        Emit the result's warnings as :class:`~gametheory.errors.StatisticsWarning` (they are kept in
        ``FitResult.warnings`` either way).

    Returns
    -------
    FitResult
        The fitted curve with its parameters, standard errors, residuals, R^2, AICc, BIC and warnings (and, for
        ``"auto"``, the ranking of every compared family and the explanation of the choice).

    Raises
    ------
    InvalidInputError
        NaN, negative loads or latencies, mismatched lengths, nonpositive weights, an unknown family, fewer
        points than the family's parameters, or (``"auto"``) no candidate with k + 2 points.

    References
    ----------
    Burnham, K. P. & Anderson, D. R. (2002). Model Selection and Multimodel Inference, 2nd ed., ch. 2 (AICc,
    Akaike weights). Efron, B. & Tibshirani, R. (1993). An Introduction to the Bootstrap, sec. 9.5.
    """
    xs, ys, w = check_points(x, y, weights)
    criterion = choice(criterion, "criterion", ("aic", "bic"))
    uncertainty = choice(uncertainty, "uncertainty", ("covariance", "bootstrap"))
    degree = integer(degree, "degree", minimum=1, maximum=MAX_DEGREE)
    n_boot = integer(n_boot, "n_boot", minimum=1, maximum=100_000)
    seed = random_seed(seed)
    warn = flag(warn, "warn")
    opts = dict(degree=degree, criterion=criterion, uncertainty=uncertainty, n_boot=n_boot, seed=seed,
                notes=trend_warnings(xs, ys, w))
    family = choice(family, "family", FAMILIES + ("auto",))
    if family != "auto":
        return _emit(_fit_one(family, xs, ys, w, **opts), warn)

    if isinstance(candidates, (str, bytes, dict)) or not hasattr(candidates, "__iter__"):
        raise InvalidInputError(f"candidates must be a sequence of family names, got {candidates!r}")
    candidates = [choice(c, "candidates entry", PARAMETRIC_FAMILIES) for c in candidates]
    if not candidates:
        raise InvalidInputError(f"candidates must name at least one of {PARAMETRIC_FAMILIES}")
    if xs.size < AUTO_MIN_POINTS:
        raise InvalidInputError(
            f"x (load): {xs.size} points are too few to choose a curve family (model selection needs at least "
            f"{AUTO_MIN_POINTS}: a 2-parameter family + 2); measure more loads, or fit one family explicitly "
            "(family='affine'), which warns about the few points"
        )
    fits, skipped, failed = [], [], []
    for c in candidates:
        if xs.size < n_params(c, degree) + 2:
            skipped.append(f"{c} (needs {n_params(c, degree) + 2})")
            continue
        try:
            fits.append(_fit_one(c, xs, ys, w, **{**opts, "uncertainty": "covariance"}))
        except InvalidInputError:
            failed.append(c)
    if not fits:
        need = min(n_params(c, degree) for c in candidates) + 2
        raise InvalidInputError(
            f"x (load): {xs.size} points are too few to compare curve families (each needs its parameters + 2 "
            f"points, at least {need}); measure more loads, or fit one family explicitly (family='affine')"
        )
    key = (lambda r: r.aic) if criterion == "aic" else (lambda r: r.bic)
    fits.sort(key=key)
    vals = np.array([key(r) for r in fits])
    rel = np.exp(-0.5 * (vals - vals[0]))
    weights_ic = rel / rel.sum()
    ranking = tuple(
        {"family": r.family, "k": r.k, "aic": r.aic, "bic": r.bic, "weight": float(wt), "r2": r.r2}
        for r, wt in zip(fits, weights_ic, strict=True)
    )
    best = fits[0]
    label = "AICc" if criterion == "aic" else "BIC"
    if len(fits) > 1:
        second = fits[1]
        delta = key(second) - key(best)
        strength = "decisive" if delta > 10 else "strong" if delta > 4 else "weak" if delta > 2 else "marginal"
        expl = (f"{best.family} (k={best.k}, R^2={best.r2:.4f}) has the lowest {label} {key(best):.2f}; "
                f"next is {second.family} (k={second.k}, R^2={second.r2:.4f}) at +{delta:.2f} ({strength} "
                f"evidence, {label} weight {weights_ic[0]:.3f} vs {weights_ic[1]:.3f}).")
    else:
        expl = f"{best.family} is the only candidate that could be compared ({label} {key(best):.2f})."
    if skipped:
        expl += f" Not compared (fewer than k + 2 of the {xs.size} points): {', '.join(skipped)}."
    if failed:
        expl += f" Could not be fitted: {', '.join(failed)}."
    if uncertainty == "bootstrap":
        best = _fit_one(best.family, xs, ys, w, **opts)
    result = FitResult(curve=best.curve, family=best.family, params=best.params, stderr=best.stderr, r2=best.r2,
                       aic=best.aic, bic=best.bic, residuals=best.residuals, n=best.n, k=best.k,
                       criterion=criterion, uncertainty=uncertainty, ranking=ranking, explanation=expl,
                       warnings=best.warnings, x=xs, y=ys)
    return _emit(result, warn)


def _emit(result: FitResult, warn: bool) -> FitResult:
    if warn:
        for text in result.warnings:
            _warnings.warn(text, StatisticsWarning, stacklevel=3)
    return result
