"""Latency-curve families: value, derivative, Beckmann integral, marginal cost, capacity, bound class.

Every curve ``l`` maps a load ``x >= 0`` (requests/s, tokens per batch, concurrency: the unit is the
caller's) to a latency in milliseconds (or any time unit, consistently). Each family provides, vectorized
over numpy arrays:

- ``l(x)``                      the latency;
- ``l.derivative(x)``           l'(x);
- ``l.integral(x)``             int_0^x l(s) ds, the Beckmann term of the Wardrop potential;
- ``l.marginal(x)``             l(x) + x l'(x), the marginal social cost d/dx [x l(x)];
- ``l.capacity``                the load where latency becomes infinite (``inf`` where there is none);
- ``l.curve_class``             the class used by :mod:`gametheory.bounds` to turn it into a PoA bound.

Loads must be finite, >= 0 and strictly below capacity: a load at or past capacity raises
:class:`~gametheory.errors.CapacityExceededError`, a negative or NaN load raises
:class:`~gametheory.errors.InvalidInputError`. NaN never escapes.

Families whose Beckmann term and total cost ``x l(x)`` are convex and DCP-representable also expose
``cvxpy_integral(x)`` and ``cvxpy_total(x)`` so the games can build convex programs from them.

References
----------
.. [1] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956 (the
   integral int_0^x l(s) ds as the potential of the Wardrop equilibrium).
.. [2] Bureau of Public Roads, *Traffic Assignment Manual*, U.S. Department of Commerce, 1964 (the BPR link
   time t0 (1 + alpha (x / c)^beta), alpha = 0.15, beta = 4).
.. [3] L. Kleinrock, *Queueing Systems, Volume 1: Theory*, Wiley 1975 (the M/M/1 sojourn time 1 / (mu - x)).
.. [4] F. N. Fritsch, R. E. Carlson, "Monotone piecewise cubic interpolation", SIAM J. Numer. Anal. 17(2),
   1980 (:class:`Tabulated`, via ``scipy.interpolate.PchipInterpolator``).
.. [5] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 5
   (latency linear below saturation, with a singular term at capacity: :class:`Pole`).
.. [6] S. Diamond, S. Boyd, "CVXPY: a Python-embedded modeling language for convex optimization", JMLR 17,
   2016 (the DCP forms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.interpolate import PchipInterpolator

from gametheory._validate import capacity_value, finite_array, nonnegative_array, nonnegative_scalar, positive_scalar
from gametheory.errors import CapacityExceededError, InvalidInputError

__all__ = [
    "BPR",
    "MM1",
    "Affine",
    "CurveClass",
    "LatencyCurve",
    "PiecewiseLinear",
    "Pole",
    "Polynomial",
    "Tabulated",
]


@dataclass(frozen=True)
class CurveClass:
    """The bound class a curve belongs to, as used by :mod:`gametheory.bounds`.

    Parameters
    ----------
    kind : {"polynomial", "mm1", "pole", "general"}
        - ``"polynomial"``: nonnegative coefficients, degree ``degree`` (Roughgarden's alpha(p) applies);
        - ``"mm1"``: M/M/1 delay 1/(mu - x) with capacity ``capacity``;
        - ``"pole"``: a + b x + c/(kappa - x), capacity ``capacity`` (no closed form: numeric Pigou bound);
        - ``"general"``: any nondecreasing curve (numeric Pigou bound over a load range).
    degree : float, optional
        The largest degree of a polynomial-class curve (BPR: its power beta); None for other kinds.
    capacity : float, optional
        The pole of an ``"mm1"`` or ``"pole"`` curve, in the curve's load unit; None for other kinds.
    """

    kind: str
    degree: float | None = None
    capacity: float | None = None


class LatencyCurve:
    """Base class of the families.

    Subclasses implement ``_value``, ``_derivative`` and ``_integral`` on validated float arrays; the public
    methods validate, broadcast and return floats for scalars. It takes no arguments of its own; the families
    take their coefficients.

    Attributes
    ----------
    capacity : float
        The load where latency becomes infinite (the curve's pole); ``math.inf`` for curves without one.
    """

    #: load where latency becomes infinite; ``math.inf`` for curves without one
    capacity = math.inf

    @property
    def has_kinks(self) -> bool:
        """True when the derivative jumps somewhere (piecewise-linear curves): certificates then allow a
        subgradient at the kinks. Smooth families (polynomials, BPR, poles, M/M/1) return False."""
        return False

    # ---- to implement -------------------------------------------------------------------------
    def _value(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _derivative(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _integral(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def curve_class(self) -> CurveClass:
        """The :class:`CurveClass` used by :mod:`gametheory.bounds`; ``"general"`` unless a family says more."""
        return CurveClass("general")

    # ---- public ---------------------------------------------------------------------------------
    def _check_load(self, x) -> tuple[np.ndarray, bool]:
        arr = finite_array(x, "load")
        if (arr < 0).any():
            raise InvalidInputError(f"load must be >= 0, got {arr[arr < 0].flat[0]!r}")
        if (arr >= self.capacity).any():
            raise CapacityExceededError(float(arr.max()), self.capacity, type(self).__name__)
        return arr, arr.ndim == 0

    def _out(self, values: np.ndarray, scalar: bool):
        """Return a float or an array; a value that overflowed to inf/NaN below capacity is an error, not a result."""
        values = np.asarray(values, dtype=float)
        if not np.isfinite(values).all():
            raise InvalidInputError(
                f"{type(self).__name__}: the value overflowed (inf/NaN) at a load below capacity; rescale the load "
                "units or the coefficients"
            )
        return float(values) if scalar else values

    def _evaluate(self, x, formula):
        """Validate the load, evaluate ``formula(arr)`` with overflow silenced (it is reported by :meth:`_out`)."""
        arr, scalar = self._check_load(x)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            values = formula(arr)
        return self._out(values, scalar)

    def __call__(self, x):
        """Latency l(x).

        Parameters
        ----------
        x : float or array_like
            Load(s) >= 0 and below :attr:`capacity`, in the curve's load unit (requests/s, tokens per batch,
            concurrency).

        Returns
        -------
        float or numpy.ndarray
            l(x) in the curve's time unit (ms for the package's curves); a float for a scalar load, else an array
            of the load's shape.

        Raises
        ------
        InvalidInputError
            A load that is negative, NaN, infinite, ragged or not numeric, or a value that overflows.
        CapacityExceededError
            A load at or past :attr:`capacity`.
        """
        return self._evaluate(x, self._value)

    def derivative(self, x):
        """Derivative l'(x).

        Parameters
        ----------
        x : float or array_like
            Load(s) >= 0 and below :attr:`capacity`, in the curve's load unit (requests/s, tokens per batch,
            concurrency).

        Returns
        -------
        float or numpy.ndarray
            l'(x), time unit per load unit (e.g. ms per request/s); the right derivative at a kink of a
            piecewise-linear curve. A float for a scalar load, else an array of its shape.

        Raises
        ------
        InvalidInputError
            A load that is negative, NaN, infinite, ragged or not numeric, or a value that overflows.
        CapacityExceededError
            A load at or past :attr:`capacity`.
        """
        return self._evaluate(x, self._derivative)

    def integral(self, x):
        """Beckmann term int_0^x l(s) ds, the summand of the Wardrop equilibrium's potential.

        Parameters
        ----------
        x : float or array_like
            Load(s) >= 0 and below :attr:`capacity`, in the curve's load unit (requests/s, tokens per batch,
            concurrency).

        Returns
        -------
        float or numpy.ndarray
            The integral in time unit x load unit (closed form for each family); a float for a scalar load, else
            an array of its shape.

        Raises
        ------
        InvalidInputError
            A load that is negative, NaN, infinite, ragged or not numeric, or a value that overflows.
        CapacityExceededError
            A load at or past :attr:`capacity`.
        """
        return self._evaluate(x, self._integral)

    def marginal(self, x):
        """Marginal social cost d/dx [x l(x)] = l(x) + x l'(x), the latency of the social optimum's condition.

        Parameters
        ----------
        x : float or array_like
            Load(s) >= 0 and below :attr:`capacity`, in the curve's load unit (requests/s, tokens per batch,
            concurrency).

        Returns
        -------
        float or numpy.ndarray
            The marginal cost, in the curve's time unit; a float for a scalar load, else an array of its shape.

        Raises
        ------
        InvalidInputError
            A load that is negative, NaN, infinite, ragged or not numeric, or a value that overflows.
        CapacityExceededError
            A load at or past :attr:`capacity`.
        """
        return self._evaluate(x, lambda a: self._value(a) + a * self._derivative(a))

    def total(self, x):
        """Total cost x l(x) of load x.

        Parameters
        ----------
        x : float or array_like
            Load(s) >= 0 and below :attr:`capacity`, in the curve's load unit (requests/s, tokens per batch,
            concurrency).

        Returns
        -------
        float or numpy.ndarray
            x l(x), time unit x load unit (e.g. ms x requests/s); a float for a scalar load, else an array of its
            shape.

        Raises
        ------
        InvalidInputError
            A load that is negative, NaN, infinite, ragged or not numeric, or a value that overflows.
        CapacityExceededError
            A load at or past :attr:`capacity`.
        """
        return self._evaluate(x, lambda a: a * self._value(a))

    def scaled(self, factor: float) -> LatencyCurve:
        """The curve ``factor * l(x)`` (e.g. a unit change); same capacity and class.

        Parameters
        ----------
        factor : float
            Multiplier > 0 of the latency (1000 turns seconds into milliseconds).

        Returns
        -------
        LatencyCurve
            A ``Scaled`` curve wrapping this one.
        """
        return Scaled(self, factor)

    # cvxpy hooks: families that are DCP-representable override these.
    def cvxpy_integral(self, x):
        """cvxpy expression of int_0^x l(s) ds (convex); this base version raises, families with a DCP form
        override it.

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The convex Beckmann term (in the overriding families).

        Raises
        ------
        InvalidInputError
            For a family without a DCP form of its integral (:class:`Tabulated`, :class:`PiecewiseLinear`).
        """
        raise InvalidInputError(
            f"{type(self).__name__} has no DCP form of its integral; use a fast path or a PiecewiseLinear"
        )

    def cvxpy_total(self, x):
        """cvxpy expression of x l(x) (convex); this base version raises, families with a DCP form override it.

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The convex total cost (in the overriding families).

        Raises
        ------
        InvalidInputError
            For a family without a DCP form of x l(x) (:class:`Tabulated`, :class:`PiecewiseLinear`).
        """
        raise InvalidInputError(f"{type(self).__name__} has no DCP form of x l(x); use a fast path")


@dataclass(frozen=True, eq=True)
class Polynomial(LatencyCurve):
    """l(x) = sum_i coeffs[i] x^i with nonnegative coefficients (Roughgarden's class of degree p).

    Parameters
    ----------
    coeffs : array_like of float
        Coefficients in increasing degree (``coeffs[0]`` the latency at zero load, ms; ``coeffs[i]`` in ms per
        load unit^i), all >= 0, at least one.

    Raises
    ------
    InvalidInputError
        Coefficients that are negative, non-finite, not numeric, not 1-dimensional, or none at all.
    """

    coeffs: tuple[float, ...]

    def __init__(self, coeffs):
        c = nonnegative_array(coeffs, "coeffs", ndim=1, min_size=1)
        object.__setattr__(self, "coeffs", tuple(float(v) for v in c))

    @property
    def degree(self) -> int:
        """The largest i with ``coeffs[i] > 0`` (0 for a constant or zero curve)."""
        nz = [i for i, c in enumerate(self.coeffs) if c > 0]
        return nz[-1] if nz else 0

    @property
    def curve_class(self) -> CurveClass:
        """``CurveClass("polynomial", degree)``: Roughgarden's alpha(p) applies."""
        return CurveClass("polynomial", degree=float(self.degree))

    def _value(self, x):
        return np.polynomial.polynomial.polyval(x, self.coeffs)

    def _derivative(self, x):
        return np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyder(self.coeffs))

    def _integral(self, x):
        return np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyint(self.coeffs))

    def cvxpy_integral(self, x):
        """cvxpy expression of int_0^x l(s) ds = sum_i coeffs[i] x^(i+1) / (i + 1) (convex: powers >= 1 of x >= 0).

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The Beckmann term.
        """
        import cvxpy as cp

        terms = [c / (i + 1) * (x if i == 0 else cp.power(x, i + 1)) for i, c in enumerate(self.coeffs) if c]
        return sum(terms) if terms else 0 * x

    def cvxpy_total(self, x):
        """cvxpy expression of x l(x) = sum_i coeffs[i] x^(i+1) (convex).

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The total cost.
        """
        import cvxpy as cp

        terms = [c * (x if i == 0 else cp.power(x, i + 1)) for i, c in enumerate(self.coeffs) if c]
        return sum(terms) if terms else 0 * x


class Affine(Polynomial):
    """l(x) = a + b x with a, b >= 0 (polynomial class of degree 1).

    Parameters
    ----------
    a : float
        Latency at zero load (ms), >= 0.
    b : float
        Slope (ms per load unit), >= 0.

    Raises
    ------
    InvalidInputError
        ``a`` or ``b`` negative, non-finite or not a number (strings and booleans included).
    """

    def __init__(self, a: float, b: float):
        super().__init__([nonnegative_scalar(a, "a"), nonnegative_scalar(b, "b")])

    @property
    def a(self) -> float:
        """The intercept a (latency at zero load)."""
        return self.coeffs[0]

    @property
    def b(self) -> float:
        """The slope b (latency per unit of load)."""
        return self.coeffs[1]

    def __repr__(self) -> str:
        return f"Affine(a={self.a!r}, b={self.b!r})"


def _bpr_power(beta) -> float:
    """The BPR exponent: finite and >= 1 (below 1 the slope is infinite at zero load and the curve concave)."""
    b = nonnegative_scalar(beta, "beta")
    if b < 1:
        raise InvalidInputError(
            f"beta must be >= 1 (BPR's power; below 1 the curve is concave, its slope infinite at zero), got {b!r}"
        )
    return b


@dataclass(frozen=True)
class BPR(LatencyCurve):
    """Bureau of Public Roads link time t0 (1 + alpha (x / capacity)^beta), beta >= 1.

    ``capacity`` here is the practical capacity of traffic assignment, not a pole: the curve is finite
    everywhere, so :attr:`capacity` of the curve (the pole) is ``inf``; the nominal value is
    :attr:`practical_capacity`. Class: polynomial of degree beta.

    Parameters
    ----------
    t0 : float
        Free-flow time (latency at zero load), >= 0.
    capacity : float
        Practical capacity (> 0) in the load unit, stored as :attr:`practical_capacity`.
    alpha : float
        Multiplier >= 0 of the congestion term; 0.15 in the BPR manual.
    beta : float
        Power >= 1 of the volume/capacity ratio; 4 in the BPR manual.

    Raises
    ------
    InvalidInputError
        ``t0`` or ``alpha`` negative, ``capacity`` <= 0, ``beta`` < 1 (the curve would be concave with an
        infinite slope at zero), or any of them non-finite or not a number.
    """

    t0: float
    practical_capacity: float
    alpha: float = 0.15
    beta: float = 4.0
    capacity: float = field(default=math.inf, init=False)

    def __init__(self, t0: float, capacity: float, alpha: float = 0.15, beta: float = 4.0):
        object.__setattr__(self, "t0", nonnegative_scalar(t0, "t0"))
        object.__setattr__(self, "practical_capacity", positive_scalar(capacity, "capacity"))
        object.__setattr__(self, "alpha", nonnegative_scalar(alpha, "alpha"))
        b = _bpr_power(beta)
        object.__setattr__(self, "beta", b)
        object.__setattr__(self, "capacity", math.inf)

    @property
    def curve_class(self) -> CurveClass:
        """``CurveClass("polynomial", degree=beta)`` (degree 0 when the congestion term vanishes)."""
        return CurveClass("polynomial", degree=self.beta if self.alpha * self.t0 > 0 else 0.0)

    def _u(self, x):
        return x / self.practical_capacity

    def _value(self, x):
        return self.t0 * (1.0 + self.alpha * self._u(x) ** self.beta)

    def _derivative(self, x):
        if self.beta == 0:
            return np.zeros_like(x)
        return self.t0 * self.alpha * self.beta * self._u(x) ** (self.beta - 1) / self.practical_capacity

    def _integral(self, x):
        return self.t0 * (x + self.alpha * self.practical_capacity * self._u(x) ** (self.beta + 1) / (self.beta + 1))

    def cvxpy_integral(self, x):
        """cvxpy expression of the Beckmann term t0 x + t0 alpha x^(beta+1) / (capacity^beta (beta + 1)) (convex).

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The Beckmann term.
        """
        import cvxpy as cp

        k = self.t0 * self.alpha / (self.practical_capacity**self.beta * (self.beta + 1))
        return self.t0 * x + k * cp.power(x, self.beta + 1)

    def cvxpy_total(self, x):
        """cvxpy expression of x l(x) = t0 x + t0 alpha x^(beta+1) / capacity^beta (convex).

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The total cost.
        """
        import cvxpy as cp

        k = self.t0 * self.alpha / self.practical_capacity**self.beta
        return self.t0 * x + k * cp.power(x, self.beta + 1)


@dataclass(frozen=True)
class Pole(LatencyCurve):
    """The saturating form l(x) = a + b x + c / (kappa - x) on 0 <= x < kappa (paper section 5).

    Linear below saturation, with a singular term at the capacity ``kappa``; convex and increasing for
    a, b, c >= 0. ``c = 0`` gives an affine curve with a hard capacity. M/M/1 is a = b = 0, c = 1.

    Parameters
    ----------
    a : float
        Constant latency (ms), >= 0.
    b : float
        Linear slope (ms per load unit), >= 0.
    c : float
        Weight of the singular term (ms x load unit), >= 0.
    kappa : float
        Capacity (the pole) in the load unit, > 0.

    Raises
    ------
    InvalidInputError
        ``a``, ``b`` or ``c`` negative, ``kappa`` <= 0, or any of them non-finite or not a number.
    """

    a: float
    b: float
    c: float
    kappa: float

    def __init__(self, a: float, b: float, c: float, kappa: float):
        object.__setattr__(self, "a", nonnegative_scalar(a, "a"))
        object.__setattr__(self, "b", nonnegative_scalar(b, "b"))
        object.__setattr__(self, "c", nonnegative_scalar(c, "c"))
        object.__setattr__(self, "kappa", positive_scalar(kappa, "kappa"))

    @property
    def capacity(self) -> float:  # type: ignore[override]
        """The pole ``kappa``: loads must stay below it."""
        return self.kappa

    @property
    def curve_class(self) -> CurveClass:
        """``CurveClass("pole", capacity=kappa)``: the numeric Pigou bound applies."""
        return CurveClass("pole", capacity=self.kappa)

    def _value(self, x):
        return self.a + self.b * x + self.c / (self.kappa - x)

    def _derivative(self, x):
        return self.b + self.c / (self.kappa - x) ** 2

    def _integral(self, x):
        return self.a * x + 0.5 * self.b * x**2 + self.c * np.log(self.kappa / (self.kappa - x))

    def cvxpy_integral(self, x):
        """cvxpy expression of the Beckmann term a x + b x^2 / 2 + c ln(kappa / (kappa - x)) (convex).

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The Beckmann term; its domain (x < kappa) keeps the program below capacity.
        """
        import cvxpy as cp

        return self.a * x + 0.5 * self.b * cp.square(x) - self.c * cp.log(self.kappa - x) + self.c * math.log(
            self.kappa
        )

    def cvxpy_total(self, x):
        """cvxpy expression of x l(x) = a x + b x^2 + c kappa / (kappa - x) - c (convex).

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The total cost, with ``inv_pos`` for the singular term.
        """
        import cvxpy as cp

        # c x / (kappa - x) = c kappa / (kappa - x) - c
        return self.a * x + self.b * cp.square(x) + self.c * self.kappa * cp.inv_pos(self.kappa - x) - self.c


class MM1(Pole):
    """M/M/1 sojourn time 1 / (mu - x) at arrival rate x < mu (service rate mu).

    Parameters
    ----------
    mu : float
        Service rate > 0 (requests per time unit); the latency is in the reciprocal time unit (mu in
        requests/ms gives ms).

    Raises
    ------
    InvalidInputError
        ``mu`` <= 0, non-finite or not a number.
    """

    def __init__(self, mu: float):
        super().__init__(0.0, 0.0, 1.0, positive_scalar(mu, "mu"))

    @property
    def mu(self) -> float:
        """The service rate mu (the capacity)."""
        return self.kappa

    @property
    def curve_class(self) -> CurveClass:
        """``CurveClass("mm1", capacity=mu)``: the M/M/1 bound of :func:`gametheory.bounds.mm1` applies."""
        return CurveClass("mm1", capacity=self.kappa)

    def __repr__(self) -> str:
        return f"MM1(mu={self.mu!r})"


@dataclass(frozen=True)
class PiecewiseLinear(LatencyCurve):
    """Convex, nondecreasing piecewise-linear curve through breakpoints (x[i], y[i]).

    Breakpoints must be strictly increasing in x with x[0] = 0, nonnegative y, and nondecreasing slopes
    (convexity, checked). Beyond the last breakpoint the last slope continues; ``capacity`` may cap the
    domain (default ``inf``). The Beckmann integral is the exact piecewise-quadratic area.

    Parameters
    ----------
    x : array_like of float
        Breakpoint loads, strictly increasing from 0, at least two.
    y : array_like of float
        Latencies (ms) at the breakpoints, >= 0, nondecreasing, with nondecreasing slopes.
    capacity : float
        Largest admissible load (exclusive) in the load unit, > 0 or ``inf``.

    Raises
    ------
    InvalidInputError
        Non-finite or non-numeric breakpoints, fewer than two, lengths that differ, ``x[0] != 0``, loads not
        strictly increasing, latencies decreasing, slopes decreasing (a nonconvex curve), or a bad capacity.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]
    capacity: float = math.inf

    def __init__(self, x, y, capacity: float = math.inf):
        xs = finite_array(x, "x", ndim=1, min_size=2)
        ys = nonnegative_array(y, "y", ndim=1, min_size=2)
        if xs.shape != ys.shape:
            raise InvalidInputError(f"x and y must have the same length, got {xs.size} and {ys.size}")
        if xs[0] != 0:
            raise InvalidInputError(f"x[0] must be 0 (the curve starts at zero load), got {xs[0]!r}")
        if (np.diff(xs) <= 0).any():
            i = int(np.argmax(np.diff(xs) <= 0))
            raise InvalidInputError(f"x must be strictly increasing; x[{i}] = {xs[i]!r} >= x[{i + 1}] = {xs[i + 1]!r}")
        slopes = np.diff(ys) / np.diff(xs)
        if (slopes < -1e-12 * max(1.0, abs(slopes).max())).any():
            i = int(np.argmax(slopes < 0))
            raise InvalidInputError(f"y must be nondecreasing; slope of segment {i} is {slopes[i]!r}")
        if (np.diff(slopes) < -1e-9 * max(1.0, abs(slopes).max())).any():
            i = int(np.argmax(np.diff(slopes) < 0))
            raise InvalidInputError(
                f"slopes must be nondecreasing (convex curve); segment {i + 1} slope {slopes[i + 1]!r} < "
                f"segment {i} slope {slopes[i]!r}"
            )
        cap = capacity_value(capacity)
        object.__setattr__(self, "x", tuple(xs.tolist()))
        object.__setattr__(self, "y", tuple(ys.tolist()))
        object.__setattr__(self, "capacity", cap)

    @property
    def has_kinks(self) -> bool:
        """True with more than two breakpoints (the slope jumps at the inner ones)."""
        return len(self.x) > 2

    @cached_property
    def _arrays(self):
        xs, ys = np.asarray(self.x), np.asarray(self.y)
        slopes = np.diff(ys) / np.diff(xs)
        return xs, ys, slopes

    def _segment(self, x):
        xs, _, _ = self._arrays
        return np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)

    def _value(self, x):
        xs, ys, slopes = self._arrays
        k = self._segment(x)
        return ys[k] + slopes[k] * (x - xs[k])

    def _derivative(self, x):
        _, _, slopes = self._arrays
        return slopes[self._segment(x)]

    def _integral(self, x):
        xs, ys, slopes = self._arrays
        seg_area = np.concatenate([[0.0], np.cumsum(0.5 * (ys[:-1] + ys[1:]) * np.diff(xs))])
        k = self._segment(x)
        dx = x - xs[k]
        return seg_area[k] + ys[k] * dx + 0.5 * slopes[k] * dx**2


@dataclass(frozen=True)
class Tabulated(LatencyCurve):
    """Measured points joined by monotone cubic (PCHIP, Fritsch-Carlson) interpolation.

    Points must have strictly increasing loads and nondecreasing latencies (smooth noisy data with
    :func:`gametheory.fitting.fit` first). Below the first point and above the last, the curve continues
    linearly with the end slope (flat to the left when the first load is above zero). ``capacity`` may be
    given when the measurement ran up to a known saturation point; by default it is ``inf``.

    Parameters
    ----------
    x : array_like of float
        Measured loads, >= 0 and strictly increasing, at least two.
    y : array_like of float
        Measured latencies (ms), >= 0 and nondecreasing.
    capacity : float
        Saturation load (exclusive), above the last measured load, or ``inf``.

    Raises
    ------
    InvalidInputError
        Negative, non-finite or non-numeric points, fewer than two, lengths that differ, loads not strictly
        increasing, decreasing latencies, or a capacity that is not above the last measured load.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]
    capacity: float = math.inf

    def __init__(self, x, y, capacity: float = math.inf):
        xs = nonnegative_array(x, "x", ndim=1, min_size=2)
        ys = nonnegative_array(y, "y", ndim=1, min_size=2)
        if xs.shape != ys.shape:
            raise InvalidInputError(f"x and y must have the same length, got {xs.size} and {ys.size}")
        if (np.diff(xs) <= 0).any():
            i = int(np.argmax(np.diff(xs) <= 0))
            raise InvalidInputError(f"x must be strictly increasing; x[{i}] = {xs[i]!r} >= x[{i + 1}] = {xs[i + 1]!r}")
        if (np.diff(ys) < 0).any():
            i = int(np.argmax(np.diff(ys) < 0))
            raise InvalidInputError(
                f"y must be nondecreasing for a monotone Tabulated curve; y[{i + 1}] = {ys[i + 1]!r} < "
                f"y[{i}] = {ys[i]!r} (fit the data first: gametheory.fitting.fit)"
            )
        cap = capacity_value(capacity)
        if cap <= xs[-1]:
            raise InvalidInputError(f"capacity {cap!r} must exceed the last measured load {xs[-1]!r}")
        object.__setattr__(self, "x", tuple(xs.tolist()))
        object.__setattr__(self, "y", tuple(ys.tolist()))
        object.__setattr__(self, "capacity", cap)

    @property
    def has_kinks(self) -> bool:
        """PCHIP is C1; the flat continuation left of a first load above zero makes a kink there."""
        return self.x[0] > 0

    @cached_property
    def _pchip(self) -> PchipInterpolator:
        return PchipInterpolator(np.asarray(self.x), np.asarray(self.y), extrapolate=False)

    def _value(self, x):
        xs, ys = np.asarray(self.x), np.asarray(self.y)
        p = self._pchip
        x0, x1 = xs[0], xs[-1]
        s1 = float(p.derivative()(x1))
        inside = np.clip(x, x0, x1)
        v = p(inside)
        return np.where(x > x1, ys[-1] + s1 * (x - x1), np.where(x < x0, ys[0], v))

    def _derivative(self, x):
        xs = np.asarray(self.x)
        p = self._pchip
        d = p.derivative()
        x0, x1 = xs[0], xs[-1]
        s1 = float(d(x1))
        return np.where(x > x1, s1, np.where(x < x0, 0.0, d(np.clip(x, x0, x1))))

    def _integral(self, x):
        xs, ys = np.asarray(self.x), np.asarray(self.y)
        p = self._pchip
        anti = p.antiderivative()
        x0, x1 = xs[0], xs[-1]
        s1 = float(p.derivative()(x1))
        left = ys[0] * np.minimum(x, x0)
        mid = anti(np.clip(x, x0, x1)) - anti(x0)
        dx = np.maximum(x - x1, 0.0)
        right = ys[-1] * dx + 0.5 * s1 * dx**2
        return left + mid + right


@dataclass(frozen=True)
class Scaled(LatencyCurve):
    """``factor * base(x)``: a unit change or a weight; keeps the base curve's capacity and class.

    Parameters
    ----------
    base : LatencyCurve
        The curve to scale.
    factor : float
        Multiplier > 0.

    Raises
    ------
    InvalidInputError
        ``base`` is not a :class:`LatencyCurve`, or ``factor`` is <= 0, non-finite or not a number.
    """

    base: LatencyCurve
    factor: float

    def __init__(self, base: LatencyCurve, factor: float):
        if not isinstance(base, LatencyCurve):
            raise InvalidInputError(f"base must be a LatencyCurve, got {type(base).__name__}")
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "factor", positive_scalar(factor, "factor"))

    @property
    def capacity(self) -> float:  # type: ignore[override]
        """The base curve's capacity (scaling the latency does not move the pole)."""
        return self.base.capacity

    @property
    def curve_class(self) -> CurveClass:
        """The base curve's class (a curve's Pigou ratio r l(r) / (x l(x) + (r - x) l(r)) does not change when the
        curve is scaled)."""
        return self.base.curve_class

    @property
    def has_kinks(self) -> bool:
        """Whether the base curve has kinks."""
        return self.base.has_kinks

    def _value(self, x):
        return self.factor * self.base._value(x)

    def _derivative(self, x):
        return self.factor * self.base._derivative(x)

    def _integral(self, x):
        return self.factor * self.base._integral(x)

    def cvxpy_integral(self, x):
        """``factor`` times the base curve's DCP Beckmann term.

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The scaled Beckmann term (raises as the base does when it has no DCP form).
        """
        return self.factor * self.base.cvxpy_integral(x)

    def cvxpy_total(self, x):
        """``factor`` times the base curve's DCP total cost.

        Parameters
        ----------
        x : cvxpy.Expression
            The load variable or affine expression (nonnegative, below the capacity, in the curve's load unit).

        Returns
        -------
        cvxpy.Expression
            The scaled total cost (raises as the base does when it has no DCP form).
        """
        return self.factor * self.base.cvxpy_total(x)
