"""Load regimes of a latency curve: the saturation knee, per-point regime labels, per-regime fitted curves.

The paper's Proposition 4 says the transition from the stable regime to saturation is detectable from the
second derivative d^2 l / dx^2 of latency against load. Raw second differences of measured points are
dominated by noise, so every method here first fits or smooths, then locates the knee:

- ``"hinge"`` (default): the two-regime model a + b1 x + (b2 - b1) max(x - t, 0) (linear below the knee,
  steeper above; :func:`gametheory.fitting.fit` family ``piecewise``). The knee is the break ``t``: the
  load where the second derivative of the fitted curve concentrates (a Dirac mass of size b2 - b1).
- ``"pole"``: fit a + b x + c / (kappa - x) and return the load where the slope has doubled from its
  zero-load value, l'(x*) = 2 l'(0), i.e. x* = kappa - sqrt(c / (b + 2 c / kappa^2)) (closed form).
- ``"kneedle"``: Kneedle (Satopaa et al. 2011) on the isotonic/PCHIP-smoothed curve: normalize load and
  latency to [0, 1] and take the load farthest below the chord (for a convex increasing curve).

The interval is a percentile interval (2.5 %, 97.5 % by default) of the knee over ``n_boot`` seeded
bootstrap refits: a residual bootstrap of the fit for "hinge" and "pole" (Efron & Tibshirani 1993,
sec. 9.5), a case (pairs) bootstrap for "kneedle". With fewer than ``MIN_RESIDUAL_DOF`` residual degrees
of freedom the interval is widened to the measured loads on either side of the knee. The "pole" knee may
lie beyond the measured range (it extrapolates the fitted pole); when the fitted pole coefficient c is 0
there is no knee and :class:`~gametheory.errors.InvalidInputError` is raised. :func:`second_derivative`
gives the curvature view directly.

Classification rule (:func:`classify`): a load is ``"below"`` the knee when it is below the interval's
low end, ``"saturated"`` above its high end and ``"transition"`` inside [low, high].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.fitting import FitResult, _check_inputs, fit

__all__ = ["LABELS", "METHODS", "KneeResult", "RegimeFits", "classify", "find_knee", "regime_fits", "second_derivative"]

METHODS = ("hinge", "pole", "kneedle")
#: below this many residual degrees of freedom (points - fitted parameters) the interval also spans the
#: measured loads on either side of the knee (a residual bootstrap has nothing to resample)
MIN_RESIDUAL_DOF = 4
LABELS = ("below", "transition", "saturated")


@dataclass(frozen=True)
class KneeResult:
    """Knee load (same unit as the input loads) with a bootstrap percentile ``interval`` (low, high);
    ``interval_method`` says when the interval was widened to the measured loads around the knee."""

    load: float
    interval: tuple[float, float]
    method: str
    fit: FitResult | None = None
    n_boot: int = 0
    confidence: float = 0.95
    interval_method: str = "bootstrap"


def _knee_of_fit(method: str, res: FitResult) -> float:
    p = res.params
    if method == "hinge":
        # no slope increase (flat or straight data): no knee
        return float(p["t"]) if p["b2"] - p["b1"] > 1e-9 * max(p["b2"], 1e-300) else math.inf
    # pole: l'(x) = b + c/(kappa-x)^2 = 2 l'(0) = 2 (b + c/kappa^2)
    b, c, kappa = p["b"], p["c"], p["kappa"]
    if c <= 0:
        return math.inf  # affine with a hard capacity: the slope never doubles below kappa
    return float(kappa - math.sqrt(c / (b + 2 * c / kappa**2)))


def _kneedle(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Kneedle (Satopaa, Albrecht, Irwin & Raghavan 2011) on the monotone-smoothed curve, convex increasing."""
    sm = fit(x, y, family="tabulated", weights=w).curve
    grid = np.linspace(float(x.min()), float(x.max()), 512)
    v = np.asarray(sm(grid))
    if v[-1] <= v[0]:
        return float("nan")
    xn = (grid - grid[0]) / (grid[-1] - grid[0])
    yn = (v - v[0]) / (v[-1] - v[0])
    return float(grid[int(np.argmax(xn - yn))])


def find_knee(x, y, *, method: str = "hinge", weights=None, n_boot: int = 100, confidence: float = 0.95,
              seed: int = 0) -> KneeResult:
    """Saturation knee of latency ``y`` against load ``x`` with a bootstrap interval (see module docstring).

    Raises :class:`~gametheory.errors.InvalidInputError` on bad input (as :func:`gametheory.fitting.fit`),
    an unknown method, or when the data show no knee (flat or with fewer than 4 points).
    """
    if method not in METHODS:
        raise InvalidInputError(f"method must be one of {METHODS}, got {method!r}")
    if not 0 < confidence < 1:
        raise InvalidInputError(f"confidence must be in (0, 1), got {confidence!r}")
    xs, ys, w = _check_inputs(x, y, weights)
    if np.unique(xs).size < 4:
        raise InvalidInputError(f"x (load): knee detection needs at least 4 distinct loads, got {np.unique(xs).size}")
    rng = np.random.default_rng(seed)
    if method == "kneedle":
        base = fit(xs, ys, family="tabulated", weights=w)
        load = _kneedle(xs, ys, w)
        estimator = _kneedle
    else:
        family = "piecewise" if method == "hinge" else "pole"
        base = fit(xs, ys, family=family, weights=w)
        load = _knee_of_fit(method, base)

        def estimator(xb, yb, wb):
            return _knee_of_fit(method, fit(xb, yb, family=family, weights=wb))
    if not math.isfinite(load):
        raise InvalidInputError(f"y (latency): no knee found by method {method!r} (the fitted curve has none)")
    fitted = np.asarray(base.curve(xs))
    r = (ys - fitted) * np.sqrt(w)
    knees = []
    for _ in range(int(n_boot)):
        if method == "kneedle":
            # isotonic residuals understate the noise: resample (load, latency) cases instead
            idx = np.sort(rng.integers(0, xs.size, size=xs.size))
            if np.unique(xs[idx]).size < 3:
                continue
            k = estimator(xs[idx], ys[idx], w[idx])
        else:
            yb = np.maximum(fitted + rng.choice(r, size=r.size) / np.sqrt(w), 0.0)
            k = estimator(xs, yb, w)
        if math.isfinite(k):
            knees.append(k)
    if knees:
        q = 100 * (1 - confidence) / 2
        lo, hi = (float(v) for v in np.percentile(knees, [q, 100 - q]))
        lo, hi = min(lo, load), max(hi, load)
    else:
        lo = hi = load
    interval_method = "bootstrap"
    if xs.size - base.k < MIN_RESIDUAL_DOF:
        # too few residual degrees of freedom: resampled residuals are ~0 and the bootstrap interval collapses
        # onto the estimate; the data cannot place the knee more finely than between its neighbouring loads
        below, above = xs[xs <= load], xs[xs >= load]
        lo = min(lo, float(below.max())) if below.size else lo
        hi = max(hi, float(above.min())) if above.size else hi
        interval_method = f"bootstrap widened to the measured loads around the knee ({xs.size} points, " \
                          f"{base.k} parameters)"
    lo, hi = max(lo, 0.0), max(hi, 0.0)
    return KneeResult(load=float(load), interval=(lo, hi), method=method, fit=base, n_boot=len(knees),
                      confidence=confidence, interval_method=interval_method)


def second_derivative(x, y, *, family: str = "auto", loads=None, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """d^2 latency / d load^2 of the curve fitted to (x, y) (Proposition 4's detector), by central
    differences of the fitted curve on ``loads`` (default: 200 points over the measured range).

    Returns (loads, second derivative). The smooth families (pole, polynomial, bpr, mm1) give a continuous
    curvature that rises steeply near saturation; the hinge concentrates it at the break.
    """
    res = fit(x, y, family=family, weights=weights)
    xs = np.asarray(x, dtype=float)
    grid = np.linspace(xs.min(), xs.max(), 200) if loads is None else np.asarray(loads, dtype=float)
    span = max(float(xs.max() - xs.min()), 1e-12)
    h = 1e-3 * span
    cap = res.curve.capacity
    g = np.clip(grid, h, min(xs.max(), cap - 2 * h) if math.isfinite(cap) else np.inf)
    d1 = np.asarray(res.curve.derivative(g + h)) - np.asarray(res.curve.derivative(g - h))
    return grid, d1 / (2 * h)


def classify(x, y=None, *, knee: KneeResult | None = None, **knee_options) -> list[str]:
    """Label each load ``x`` as ``"below"`` (x < knee interval low), ``"transition"`` (inside the interval)
    or ``"saturated"`` (x > interval high). The knee is found from (x, y) with :func:`find_knee` unless
    ``knee`` is given (then ``y`` may be omitted and ``x`` may be any loads)."""
    if not isinstance(x, np.ndarray) and np.ndim(x) > 0 and any(not np.isscalar(v) for v in x):
        raise InvalidInputError(
            "x (load) must be loads, not curves; for fitted curves use classify(loads, knee=find_knee(x, y))"
        )
    if knee is None:
        if y is None:
            raise InvalidInputError("y (latency) is required when no knee is given")
        knee = find_knee(x, y, **knee_options)
    xs = np.asarray(x, dtype=float)
    if xs.ndim != 1 or not np.isfinite(xs).all():
        raise InvalidInputError(f"x (load) must be a finite 1-D array, got {x!r}")
    lo, hi = knee.interval
    return ["below" if v < lo else "saturated" if v > hi else "transition" for v in xs]


@dataclass(frozen=True)
class RegimeFits:
    """Fitted curve per regime: ``below`` (affine, on loads <= knee) and ``saturated`` (pole, on loads >=
    knee); either is ``None`` when that side has too few points (2 for affine, 4 for pole)."""

    knee: KneeResult
    below: FitResult | None
    saturated: FitResult | None


def regime_fits(x, y, *, knee: KneeResult | None = None, weights=None, **knee_options) -> RegimeFits:
    """Fit the linear (affine) curve below the knee and the saturating pole curve above it."""
    xs, ys, w = _check_inputs(x, y, weights)
    if knee is None:
        knee = find_knee(xs, ys, weights=w, **knee_options)
    lo_mask = xs <= knee.load
    hi_mask = xs >= knee.load
    below = fit(xs[lo_mask], ys[lo_mask], "affine", weights=w[lo_mask]) if np.unique(xs[lo_mask]).size >= 2 \
        else None
    sat = fit(xs[hi_mask], ys[hi_mask], "pole", weights=w[hi_mask]) if hi_mask.sum() >= 4 else None
    return RegimeFits(knee=knee, below=below, saturated=sat)
