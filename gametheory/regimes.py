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

**Is there a knee at all?** A straight, flat or concave set of points has none, and noise alone always
gives each method some point to return. So a method reports a knee only when its curved model beats a
straight line by more than ``EVIDENCE`` = 6 in AICc: the hinge model for ``"hinge"``, the pole model for
``"pole"``, the better of the two for ``"kneedle"`` (which has no model of its own). Otherwise
:func:`find_knee` raises :class:`~gametheory.errors.NoKneeError` saying why, with the AICc difference. AICc
needs k + 2 points, so with fewer than 6 points no knee can be told from noise. The threshold 6 is where
Burnham & Anderson (2002, sec. 2.6) put "considerably less support" for the worse model; we checked its
false-alarm rate: on straight lines with 3 % proportional noise, a false knee in at most about 6 % of
60-point samples (2 % with additive noise), against 10-15 % at a threshold of 2 (a test keeps it below 10 %).

The interval is a percentile interval (2.5 %, 97.5 % by default) of the knee over ``n_boot`` seeded
bootstrap refits: a residual bootstrap of the fit for "hinge" and "pole" (Efron & Tibshirani 1993,
sec. 9.5), a case (pairs) bootstrap of the interior points for "kneedle" (the two end points stay: the
Kneedle knee is defined against the chord of the measured range). With fewer than ``MIN_RESIDUAL_DOF`` residual degrees
of freedom the interval is widened to the measured loads on either side of the knee. The "pole" knee may
lie beyond the measured range (it extrapolates the fitted pole). :func:`second_derivative` gives the
curvature view directly.

**One answer from three methods.** The three methods define different points of the same curve (a break,
a doubled slope, the farthest point below a chord), so on a smooth pole curve they disagree: their
intervals need not overlap. :func:`find_knees` runs all of them and returns a :class:`KneeConsensus`: the
median of the knees found, with the interval spanning every method's interval (so it covers the
disagreement), whether the methods agree (their intervals share a point and all found a knee), and a
sentence saying why.

Classification rule (:func:`classify`): a load is ``"below"`` the knee when it is below the interval's
low end, ``"saturated"`` above its high end and ``"transition"`` inside [low, high].

References
----------
Satopaa, V., Albrecht, J., Irwin, D. & Raghavan, B. (2011). Finding a "kneedle" in a haystack: detecting knee
points in system behavior. ICDCS Workshops. Efron, B. & Tibshirani, R. (1993). An Introduction to the
Bootstrap. Burnham, K. P. & Anderson, D. R. (2002). Model Selection and Multimodel Inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gametheory._progress import progress
from gametheory._validate import choice, finite_array, finite_scalar, integer, nonnegative_array, random_seed
from gametheory.display import Readable, Table
from gametheory.errors import InvalidInputError, NoKneeError
from gametheory.fitting import FitResult, check_points, fit

__all__ = [
    "EVIDENCE",
    "LABELS",
    "METHODS",
    "KneeConsensus",
    "KneeResult",
    "RegimeFits",
    "classify",
    "find_knee",
    "find_knees",
    "regime_fits",
    "second_derivative",
]

METHODS = ("hinge", "pole", "kneedle")
#: below this many residual degrees of freedom (points - fitted parameters) the interval also spans the
#: measured loads on either side of the knee (a residual bootstrap has nothing to resample)
MIN_RESIDUAL_DOF = 4
#: a knee needs its curved model to beat a straight line by more than this much AICc
EVIDENCE = 6.0
LABELS = ("below", "transition", "saturated")
#: what each method calls the knee, for explanations
DEFINITIONS = {
    "hinge": "the break of a two-line fit",
    "pole": "where the fitted pole curve's slope has doubled from zero load",
    "kneedle": "the point farthest below the chord of the measured range",
}


@dataclass(frozen=True, repr=False)
class KneeResult(Readable):
    """The knee one method of :func:`find_knee` found, with a bootstrap percentile interval.

    Parameters
    ----------
    load : float
        The knee, in the unit of the input loads.
    interval : tuple of (float, float)
        (low, high) percentile interval of the knee over the bootstrap refits, same unit; widened to the
        measured loads around the knee when there are too few residual degrees of freedom.
    method : {"hinge", "pole", "kneedle"}
        The method that found it (the module docstring says what each calls the knee).
    fit : FitResult, optional
        The fitted (hinge, pole) or smoothed (kneedle) curve the knee was read from.
    n_boot : int
        Bootstrap refits that produced a knee.
    confidence : float
        Coverage of the interval (0.95: the 2.5 % and 97.5 % percentiles).
    interval_method : str
        ``"bootstrap"``, or a sentence saying the interval was widened and why.
    evidence : float
        The AICc by which the method's curved model beats a straight line (> :data:`EVIDENCE` for a knee).
    """

    load: float
    interval: tuple[float, float]
    method: str
    fit: FitResult | None = field(default=None, repr=False)
    n_boot: int = 0
    confidence: float = 0.95
    interval_method: str = "bootstrap"
    evidence: float = math.nan

    def _display_title(self) -> str:
        lo, hi = self.interval
        return f"KneeResult ({self.method}): load {self.load:.4g}, {100 * self.confidence:.0f}% interval " \
               f"[{lo:.4g}, {hi:.4g}]"

    def _display_items(self):
        return [("definition", DEFINITIONS[self.method]), ("interval_method", self.interval_method),
                ("n_boot", self.n_boot), ("evidence (AICc vs line)", self.evidence)]

    def to_frame(self):
        """One row: method, knee, low, high, evidence, interval method.

        Returns
        -------
        pandas.DataFrame
            One row with columns method, knee, low, high, evidence_aicc, interval_method.
        """
        import pandas as pd

        return pd.DataFrame([{"method": self.method, "knee": self.load, "low": self.interval[0],
                              "high": self.interval[1], "evidence_aicc": self.evidence,
                              "interval_method": self.interval_method}])

    def plot(self, ax=None, *, xlabel: str = "load", ylabel: str = "latency", unit: str = "ms"):
        """The points, the method's fitted or smoothed curve and the labelled knee line.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Draw here (default: a new figure in the shared style of :mod:`gametheory.plotting`).
        xlabel, ylabel, unit : str
            Axis names; the y-label reads "ylabel (unit)".

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.
        """
        from gametheory.plotting import axes, knee_line, legend

        ax = axes(ax)
        if self.fit is not None:
            self.fit.plot(ax, xlabel=xlabel, ylabel=ylabel, unit=unit)
        knee_line(ax, self.load, self.interval, label=f"{self.method} knee")
        legend(ax)
        return ax


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
    sm = fit(x, y, family="tabulated", weights=w, warn=False).curve
    grid = np.linspace(float(x.min()), float(x.max()), 512)
    v = np.asarray(sm(grid))
    if v[-1] <= v[0]:
        return float("nan")
    xn = (grid - grid[0]) / (grid[-1] - grid[0])
    yn = (v - v[0]) / (v[-1] - v[0])
    d = xn - yn
    i = int(np.argmax(d))
    return float(grid[i]) if d[i] > 0 else float("nan")


def _evidence(xs, ys, w, families) -> tuple[float, str]:
    """AICc of a straight line minus the best AICc among ``families`` (positive: curvature helps)."""
    n = xs.size
    line = fit(xs, ys, family="affine", weights=w, warn=False)
    best, name = math.inf, families[0]
    for fam in families:
        try:
            r = fit(xs, ys, family=fam, weights=w, warn=False)
        except InvalidInputError:
            continue
        if r.aic < best:
            best, name = r.aic, fam
    k = 4
    if n < k + 2:
        return -math.inf, f"{n} points are too few to tell a knee from noise (a two-regime model has {k} " \
                           f"parameters and needs {k + 2} points for AICc)"
    delta = line.aic - best
    return delta, name


#: most bootstrap refits a knee interval takes
MAX_BOOT = 100_000


def _confidence(value) -> float:
    c = finite_scalar(value, "confidence")
    if not 0 < c < 1:
        raise InvalidInputError(f"confidence must be in (0, 1), got {value!r}")
    return c


def find_knee(x, y, *, method: str = "hinge", weights=None, n_boot: int = 100, confidence: float = 0.95,
              seed: int = 0) -> KneeResult:
    """Saturation knee of latency ``y`` against load ``x`` with a bootstrap interval (see module docstring).

    Parameters
    ----------
    x, y : array_like
        Loads and latencies (ms).
    method : {"hinge", "pole", "kneedle"}
    weights : array_like, optional
        Per-point weights of the fits.
    n_boot : int
        Bootstrap refits for the interval.
    confidence : float
        Coverage of the percentile interval, in (0, 1).
    seed : int
        Bootstrap seed.

    Returns
    -------
    KneeResult

    Raises
    ------
    NoKneeError
        The data show no knee: the method's curved model does not beat a straight line by ``EVIDENCE`` AICc
        (straight, flat or concave points, or fewer than 6), or its fit has no slope increase.
    InvalidInputError
        Bad input (as :func:`gametheory.fitting.fit`), an unknown method, or fewer than 4 distinct loads.

    References
    ----------
    Satopaa et al. (2011) for Kneedle; Efron & Tibshirani (1993), sec. 9.5, for the residual bootstrap.
    """
    method = choice(method, "method", METHODS)
    confidence = _confidence(confidence)
    n_boot = integer(n_boot, "n_boot", minimum=0, maximum=MAX_BOOT)
    seed = random_seed(seed)
    xs, ys, w = check_points(x, y, weights)
    if np.unique(xs).size < 4:
        raise InvalidInputError(f"x (load): knee detection needs at least 4 distinct loads, got {np.unique(xs).size}")
    families = {"hinge": ("piecewise",), "pole": ("pole",), "kneedle": ("piecewise", "pole")}[method]
    evidence, model = _evidence(xs, ys, w, families)
    if not evidence > EVIDENCE:
        if math.isinf(evidence):
            raise NoKneeError(method, model)
        verdict = {"hinge": "the two-line model fits no better than a straight line",
                   "pole": "the pole model fits no better than a straight line",
                   "kneedle": "neither the two-line nor the pole model fits better than a straight line"}[method]
        raise NoKneeError(method, f"{verdict}; AICc difference {evidence:.2f}, needs > {EVIDENCE:g} "
                                  "(straight, flat, concave or too noisy points)")
    rng = np.random.default_rng(seed)
    if method == "kneedle":
        base = fit(xs, ys, family="tabulated", weights=w, warn=False)
        load = _kneedle(xs, ys, w)
        estimator = _kneedle
    else:
        family = "piecewise" if method == "hinge" else "pole"
        base = fit(xs, ys, family=family, weights=w, warn=False)
        load = _knee_of_fit(method, base)

        def estimator(xb, yb, wb):
            return _knee_of_fit(method, fit(xb, yb, family=family, weights=wb, warn=False))
    if not math.isfinite(load):
        raise NoKneeError(method, "the fitted curve's slope does not increase")
    fitted = np.asarray(base.curve(xs))
    r = (ys - fitted) * np.sqrt(w)
    knees = []
    for _ in progress(range(int(n_boot)), f"{method} knee bootstrap", leave=False):
        if method == "kneedle":
            # isotonic residuals understate the noise: resample (load, latency) cases instead, keeping the two
            # end points (Kneedle's knee is defined against the chord of the measured range, which must not move)
            inner = rng.integers(1, xs.size - 1, size=xs.size - 2) if xs.size > 2 else np.zeros(0, int)
            idx = np.sort(np.concatenate([[0, xs.size - 1], inner]))
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
    k_model = 4 if method != "kneedle" else base.k
    if xs.size - k_model < MIN_RESIDUAL_DOF:
        # too few residual degrees of freedom: resampled residuals are ~0 and the bootstrap interval collapses
        # onto the estimate; the data cannot place the knee more finely than between its neighbouring loads
        below, above = xs[xs <= load], xs[xs >= load]
        lo = min(lo, float(below.max())) if below.size else lo
        hi = max(hi, float(above.min())) if above.size else hi
        interval_method = f"bootstrap widened to the measured loads around the knee ({xs.size} points, " \
                          f"{k_model} parameters)"
    lo, hi = max(lo, 0.0), max(hi, 0.0)
    return KneeResult(load=float(load), interval=(lo, hi), method=method, fit=base, n_boot=len(knees),
                      confidence=confidence, interval_method=interval_method, evidence=float(evidence))


@dataclass(frozen=True, repr=False)
class KneeConsensus(Readable):
    """The knee as the methods of :func:`find_knees` see it together.

    Parameters
    ----------
    load : float
        The median of the knees found (input load unit); NaN when no method found one.
    interval : tuple of (float, float)
        From the lowest to the highest end of the found methods' intervals (NaN, NaN without a knee).
    agree : bool
        True when every method found a knee and their intervals share a point.
    knees : dict
        Method name -> :class:`KneeResult`, for each method that found a knee.
    no_knee : dict
        Method name -> reason (str), for each method that found none.
    explanation : str
        How the answer was reached, in words.
    x, y : numpy.ndarray, optional
        The points (sorted by load), for :meth:`plot`.
    """

    load: float
    interval: tuple[float, float]
    agree: bool
    knees: dict
    no_knee: dict
    explanation: str
    x: np.ndarray | None = field(default=None, repr=False)
    y: np.ndarray | None = field(default=None, repr=False)

    @property
    def found(self) -> bool:
        """Whether any method found a knee."""
        return bool(self.knees)

    def _display_title(self) -> str:
        if not self.found:
            return "KneeConsensus: no knee"
        lo, hi = self.interval
        verdict = "methods agree" if self.agree else "methods disagree"
        return f"KneeConsensus: load {self.load:.4g} [{lo:.4g}, {hi:.4g}] ({verdict})"

    def _display_items(self):
        items = [(m, f"{k.load:.4g} [{k.interval[0]:.4g}, {k.interval[1]:.4g}]") for m, k in self.knees.items()]
        items += [(m, f"no knee: {why}") for m, why in self.no_knee.items()]
        return items + [("why", self.explanation)]

    def to_frame(self):
        """One row per method and a last "consensus" row: knee, low, high, found, note.

        Returns
        -------
        pandas.DataFrame
            The rows of :meth:`table`.
        """
        return self.table().to_frame()

    def table(self) -> Table:
        """The rows of :meth:`to_frame` as a :class:`~gametheory.display.Table`.

        Returns
        -------
        Table
            One dict per method (method, knee, low, high, found, note: the method's definition of the knee or
            why it found none) and a last "consensus" row (note: agree or disagree).
        """
        rows = [{"method": m, "knee": k.load, "low": k.interval[0], "high": k.interval[1], "found": True,
                 "note": DEFINITIONS[m]} for m, k in self.knees.items()]
        rows += [{"method": m, "knee": math.nan, "low": math.nan, "high": math.nan, "found": False, "note": why}
                 for m, why in self.no_knee.items()]
        rows.append({"method": "consensus", "knee": self.load, "low": self.interval[0], "high": self.interval[1],
                     "found": self.found, "note": "agree" if self.agree else "disagree"})
        return Table(rows, title="knees")

    def plot(self, ax=None, *, xlabel: str = "load", ylabel: str = "latency", unit: str = "ms"):
        """The points, each method's knee interval as a bar and the consensus knee line.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Draw here (default: a new figure in the shared style of :mod:`gametheory.plotting`).
        xlabel, ylabel, unit : str
            Axis names; the y-label reads "ylabel (unit)".

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.
        """
        from gametheory.plotting import COLORS, axes, axis_label, knee_line, legend

        ax = axes(ax)
        if self.x is not None:
            ax.plot(self.x, self.y, "o-", color=COLORS[0], label="measured")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(axis_label(ylabel, unit))
        if self.found:
            # each method's knee and interval as a bar near the bottom of the panel (axes-fraction heights)
            for i, (m, k) in enumerate(self.knees.items()):
                ax.errorbar([k.load], [0.42 - 0.08 * i], xerr=[[k.load - k.interval[0]], [k.interval[1] - k.load]],
                            fmt="s", color=COLORS[1 + i], capsize=4, transform=ax.get_xaxis_transform(),
                            label=f"{m} knee {k.load:.3g} [{k.interval[0]:.3g}, {k.interval[1]:.3g}]")
            knee_line(ax, self.load, self.interval, label="consensus knee")
        legend(ax)
        return ax


def find_knees(x, y, *, methods=METHODS, weights=None, n_boot: int = 100, confidence: float = 0.95,
               seed: int = 0) -> KneeConsensus:
    """Run every knee method and combine them into one answer (see the module docstring).

    Parameters
    ----------
    x, y : array_like
        Loads and latencies (ms).
    methods : sequence of str
        Among :data:`METHODS`.
    weights, n_boot, confidence, seed
        As :func:`find_knee`.

    Returns
    -------
    KneeConsensus
        With ``found`` false (and every method's reason) when no method finds a knee.

    Raises
    ------
    InvalidInputError
        Bad input or an unknown method (a method finding no knee is not an error here).
    """
    if isinstance(methods, (str, bytes, dict)) or not hasattr(methods, "__iter__"):
        raise InvalidInputError(f"methods must be a sequence of method names from {METHODS}, got {methods!r}")
    methods = tuple(choice(m, "methods entry", METHODS) for m in methods)
    if not methods:
        raise InvalidInputError(f"methods must name at least one of {METHODS}")
    confidence = _confidence(confidence)
    n_boot = integer(n_boot, "n_boot", minimum=0, maximum=MAX_BOOT)
    seed = random_seed(seed)
    xs, ys, w = check_points(x, y, weights)
    knees, no_knee = {}, {}
    for m in methods:
        try:
            knees[m] = find_knee(xs, ys, method=m, weights=w, n_boot=n_boot, confidence=confidence, seed=seed)
        except NoKneeError as exc:
            no_knee[m] = exc.reason
    if not knees:
        reasons = "; ".join(f"{m}: {why.split(' (straight')[0]}" for m, why in no_knee.items())
        return KneeConsensus(load=math.nan, interval=(math.nan, math.nan), agree=len(no_knee) == len(methods),
                             knees={}, no_knee=no_knee, explanation=f"No method finds a knee ({reasons}).", x=xs, y=ys)
    loads = np.array([k.load for k in knees.values()])
    lows = np.array([k.interval[0] for k in knees.values()])
    highs = np.array([k.interval[1] for k in knees.values()])
    load = float(np.median(loads))
    interval = (float(lows.min()), float(highs.max()))
    overlap = lows.max() <= highs.min()
    agree = overlap and not no_knee
    listing = ", ".join(f"{m} {k.load:.3g} [{k.interval[0]:.3g}, {k.interval[1]:.3g}]" for m, k in knees.items())
    if agree:
        why = (f"The methods agree: their intervals share [{lows.max():.3g}, {highs.min():.3g}] ({listing}). "
               f"Consensus: the median {load:.3g}, with the interval spanning all of them.")
    else:
        parts = []
        if not overlap:
            parts.append(f"their intervals do not overlap ({listing}) because each defines the knee differently: "
                         + "; ".join(f"{m} = {DEFINITIONS[m]}" for m in knees))
        else:
            parts.append(f"their intervals overlap ({listing})")
        if no_knee:
            parts.append("; ".join(f"{m} finds no knee ({why.split(' (straight')[0]})" for m, why in no_knee.items()))
        why = ("The methods disagree: " + "; ".join(parts) + f". Consensus: the median {load:.3g}, with the "
               f"interval [{interval[0]:.3g}, {interval[1]:.3g}] spanning every method's interval, so it covers "
               "the disagreement.")
    return KneeConsensus(load=load, interval=interval, agree=bool(agree), knees=knees, no_knee=no_knee,
                         explanation=why, x=xs, y=ys)


def second_derivative(x, y, *, family: str = "auto", loads=None, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """d^2 latency / d load^2 of the curve fitted to (x, y): Proposition 4's detector of the transition.

    The curve is fitted by :func:`gametheory.fitting.fit`; its analytic first derivative is differenced
    centrally with step h = 1e-3 x the measured load span (evaluation points clipped below at h and, for a curve
    with a finite capacity, above at min(max load, capacity - 2h)). The smooth families (pole, polynomial, bpr,
    mm1) give a continuous curvature that rises steeply near saturation; the hinge concentrates it at the break.

    Parameters
    ----------
    x, y : array_like
        Measured loads (>= 0) and latencies (ms), equal lengths.
    family : str
        The family to fit (:data:`gametheory.fitting.FAMILIES` or ``"auto"``).
    loads : array_like, optional
        Loads (>= 0) to evaluate at; default 200 points over the measured range.
    weights : array_like, optional
        Per-point weights (> 0), as for :func:`gametheory.fitting.fit`.

    Returns
    -------
    loads : numpy.ndarray
        The evaluation loads, shape (m,).
    second_derivative : numpy.ndarray
        d^2 l / dx^2 there (latency unit per load unit squared, e.g. ms / (requests/s)^2), shape (m,).

    Raises
    ------
    InvalidInputError
        What :func:`gametheory.fitting.fit` refuses (NaN, negative values, mismatched lengths, too few points,
        an unknown family), or negative or non-finite ``loads``.

    References
    ----------
    .. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026,
       Proposition 4.
    """
    res = fit(x, y, family=family, weights=weights, warn=False)
    xs = np.asarray(x, dtype=float)
    grid = np.linspace(xs.min(), xs.max(), 200) if loads is None else nonnegative_array(loads, "loads", ndim=1)
    span = max(float(xs.max() - xs.min()), 1e-12)
    h = 1e-3 * span
    cap = res.curve.capacity
    g = np.clip(grid, h, min(xs.max(), cap - 2 * h) if math.isfinite(cap) else np.inf)
    d1 = np.asarray(res.curve.derivative(g + h)) - np.asarray(res.curve.derivative(g - h))
    return grid, d1 / (2 * h)


def classify(x, y=None, *, knee=None, **knee_options):
    """Label loads ``"below"`` (x < knee interval low), ``"transition"`` (inside) or ``"saturated"`` (x > high).

    Parameters
    ----------
    x : float or array_like
        One load or several.
    y : array_like, optional
        Latencies at ``x``, to find the knee from (with :func:`find_knee`) when ``knee`` is not given.
    knee : KneeResult or KneeConsensus, optional
        A knee found before; then ``x`` may be any loads.
    **knee_options
        Passed to :func:`find_knee`.

    Returns
    -------
    str or list of str
        One label for a scalar ``x``, a list for an array.

    Raises
    ------
    NoKneeError
        ``knee`` is a consensus without a knee, or the data show none.
    InvalidInputError
        Non-finite loads, curves passed as loads, or no ``y`` and no ``knee``.
    """
    if isinstance(x, (list, tuple)) and x and all(hasattr(v, "curve_class") or hasattr(v, "curve") for v in x):
        raise InvalidInputError(
            "x (load) must be loads, not curves; for fitted curves use classify(loads, knee=find_knee(x, y))"
        )
    if knee is None:
        if y is None:
            raise InvalidInputError("y (latency) is required when no knee is given")
        knee = find_knee(x, y, **knee_options)
    if not isinstance(knee, (KneeResult, KneeConsensus)):
        raise InvalidInputError(f"knee must be a KneeResult or KneeConsensus (find_knee / find_knees), got {knee!r}")
    if isinstance(knee, KneeConsensus) and not knee.found:
        raise NoKneeError("consensus", knee.explanation)
    xs = finite_array(x, "x (load)")
    if xs.ndim > 1:
        raise InvalidInputError(f"x (load) must be a finite load or 1-D array of loads, got {x!r}")
    lo, hi = knee.interval
    labels = ["below" if v < lo else "saturated" if v > hi else "transition" for v in np.atleast_1d(xs)]
    return labels[0] if xs.ndim == 0 else labels


@dataclass(frozen=True, repr=False)
class RegimeFits(Readable):
    """Fitted curve per regime, around a knee.

    Parameters
    ----------
    knee : KneeResult or KneeConsensus
        The knee the points were split at.
    below : FitResult or None
        Affine fit on the loads <= knee; None with fewer than 2 distinct loads there.
    saturated : FitResult or None
        Pole fit a + b x + c / (kappa - x) on the loads >= knee; None with fewer than 4 points there.
    """

    knee: KneeResult
    below: FitResult | None
    saturated: FitResult | None

    def _display_title(self) -> str:
        return f"RegimeFits around the knee at {self.knee.load:.4g}"

    def plot(self, ax=None, *, xlabel: str = "load", ylabel: str = "latency", unit: str = "ms"):
        """Points coloured by regime, the fit of each regime and the labelled knee.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Draw here (default: a new figure in the shared style of :mod:`gametheory.plotting`).
        xlabel, ylabel, unit : str
            Axis names; the y-label reads "ylabel (unit)".

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn on.
        """
        from gametheory.plotting import COLORS, axes, axis_label, knee_line, legend

        ax = axes(ax)
        fit_ = self.knee.fit
        if fit_ is not None and fit_.x is not None:
            labels = np.asarray(classify(fit_.x, knee=self.knee))
            for lab, color in zip(LABELS, COLORS, strict=False):
                sel = labels == lab
                if sel.any():
                    ax.plot(fit_.x[sel], fit_.y[sel], "o", color=color, label=lab)
        for part, name, color in ((self.below, "affine below", COLORS[0]), (self.saturated, "pole above", COLORS[2])):
            if part is not None and part.x is not None:
                grid = np.linspace(float(part.x.min()), float(part.x.max()), 200)
                ax.plot(grid, part.curve(grid), "-", color=color, label=f"{name} (R$^2$ = {part.r2:.3f})")
        knee_line(ax, self.knee.load, self.knee.interval)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(axis_label(ylabel, unit))
        legend(ax)
        return ax


def regime_fits(x, y, *, knee: KneeResult | None = None, weights=None, **knee_options) -> RegimeFits:
    """Fit the linear (affine) curve below the knee and the saturating pole curve above it.

    The points at the knee belong to both fits. The two fits are the paper's regimes: latency roughly linear
    in load below saturation, with a singular term at capacity above it.

    Parameters
    ----------
    x, y : array_like
        Measured loads (>= 0) and latencies (ms), equal lengths.
    knee : KneeResult or KneeConsensus, optional
        A knee found before; default :func:`find_knee` on the same points.
    weights : array_like, optional
        Per-point weights (> 0).
    **knee_options
        Passed to :func:`find_knee` when ``knee`` is not given (``method``, ``n_boot``, ``seed``, ...).

    Returns
    -------
    RegimeFits
        The knee and the fit on each side (None where a side has too few points).

    Raises
    ------
    InvalidInputError
        Bad points (see :func:`gametheory.fitting.check_points`), or a ``knee`` that is not a found
        :class:`KneeResult` or :class:`KneeConsensus`.
    NoKneeError
        When ``knee`` is not given and the points show none.

    References
    ----------
    .. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 5.
    """
    xs, ys, w = check_points(x, y, weights)
    if knee is None:
        knee = find_knee(xs, ys, weights=w, **knee_options)
    elif not isinstance(knee, (KneeResult, KneeConsensus)) or not np.isfinite(knee.load):
        raise InvalidInputError(f"knee must be a found KneeResult or KneeConsensus, got {knee!r}")
    lo_mask = xs <= knee.load
    hi_mask = xs >= knee.load
    below = fit(xs[lo_mask], ys[lo_mask], "affine", weights=w[lo_mask], warn=False) \
        if np.unique(xs[lo_mask]).size >= 2 else None
    sat = fit(xs[hi_mask], ys[hi_mask], "pole", weights=w[hi_mask], warn=False) if hi_mask.sum() >= 4 else None
    return RegimeFits(knee=knee, below=below, saturated=sat)
