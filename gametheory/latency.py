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

    ``kind`` is one of:
    - ``"polynomial"``: nonnegative coefficients, degree ``degree`` (Roughgarden's alpha(p) applies);
    - ``"mm1"``: M/M/1 delay 1/(mu - x) with capacity ``capacity``;
    - ``"pole"``: a + b x + c/(kappa - x), capacity ``capacity`` (no closed form: numeric Pigou bound);
    - ``"general"``: any nondecreasing curve (numeric Pigou bound over a load range).
    """

    kind: str
    degree: float | None = None
    capacity: float | None = None


class LatencyCurve:
    """Base class of the families. Subclasses implement ``_value``, ``_derivative`` and ``_integral``
    on validated float arrays; the public methods validate, broadcast and return floats for scalars."""

    #: load where latency becomes infinite; ``math.inf`` for curves without one
    capacity: float = math.inf

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

        Raises
        ------
        InvalidInputError
            A load that is negative, NaN, infinite, ragged or not numeric, or a value that overflows.
        CapacityExceededError
            A load at or past :attr:`capacity`.
        """
        return self._evaluate(x, self._value)

    def derivative(self, x):
        """Derivative l'(x) (errors as for the latency)."""
        return self._evaluate(x, self._derivative)

    def integral(self, x):
        """Beckmann term int_0^x l(s) ds (errors as for the latency)."""
        return self._evaluate(x, self._integral)

    def marginal(self, x):
        """Marginal social cost d/dx [x l(x)] = l(x) + x l'(x) (errors as for the latency)."""
        return self._evaluate(x, lambda a: self._value(a) + a * self._derivative(a))

    def total(self, x):
        """Total cost x l(x) of load x (errors as for the latency)."""
        return self._evaluate(x, lambda a: a * self._value(a))

    def scaled(self, factor: float) -> LatencyCurve:
        """The curve ``factor * l(x)`` (e.g. a unit change); same capacity and class."""
        return Scaled(self, factor)

    # cvxpy hooks: families that are DCP-representable override these.
    def cvxpy_integral(self, x):
        """cvxpy expression of int_0^x l(s) ds (convex); raises for families without a DCP form."""
        raise InvalidInputError(
            f"{type(self).__name__} has no DCP form of its integral; use a fast path or a PiecewiseLinear"
        )

    def cvxpy_total(self, x):
        """cvxpy expression of x l(x) (convex); raises for families without a DCP form."""
        raise InvalidInputError(f"{type(self).__name__} has no DCP form of x l(x); use a fast path")


@dataclass(frozen=True, eq=True)
class Polynomial(LatencyCurve):
    """l(x) = sum_i coeffs[i] x^i with nonnegative coefficients (Roughgarden's class of degree p)."""

    coeffs: tuple[float, ...]

    def __init__(self, coeffs):
        c = nonnegative_array(coeffs, "coeffs", ndim=1, min_size=1)
        object.__setattr__(self, "coeffs", tuple(float(v) for v in c))

    @property
    def degree(self) -> int:
        nz = [i for i, c in enumerate(self.coeffs) if c > 0]
        return nz[-1] if nz else 0

    @property
    def curve_class(self) -> CurveClass:
        return CurveClass("polynomial", degree=float(self.degree))

    def _value(self, x):
        return np.polynomial.polynomial.polyval(x, self.coeffs)

    def _derivative(self, x):
        return np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyder(self.coeffs))

    def _integral(self, x):
        return np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyint(self.coeffs))

    def cvxpy_integral(self, x):
        import cvxpy as cp

        terms = [c / (i + 1) * (x if i == 0 else cp.power(x, i + 1)) for i, c in enumerate(self.coeffs) if c]
        return sum(terms) if terms else 0 * x

    def cvxpy_total(self, x):
        import cvxpy as cp

        terms = [c * (x if i == 0 else cp.power(x, i + 1)) for i, c in enumerate(self.coeffs) if c]
        return sum(terms) if terms else 0 * x


class Affine(Polynomial):
    """l(x) = a + b x with a, b >= 0 (polynomial class of degree 1)."""

    def __init__(self, a: float, b: float):
        super().__init__([nonnegative_scalar(a, "a"), nonnegative_scalar(b, "b")])

    @property
    def a(self) -> float:
        return self.coeffs[0]

    @property
    def b(self) -> float:
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
        import cvxpy as cp

        k = self.t0 * self.alpha / (self.practical_capacity**self.beta * (self.beta + 1))
        return self.t0 * x + k * cp.power(x, self.beta + 1)

    def cvxpy_total(self, x):
        import cvxpy as cp

        k = self.t0 * self.alpha / self.practical_capacity**self.beta
        return self.t0 * x + k * cp.power(x, self.beta + 1)


@dataclass(frozen=True)
class Pole(LatencyCurve):
    """The saturating form l(x) = a + b x + c / (kappa - x) on 0 <= x < kappa (paper section 5).

    Linear below saturation, with a singular term at the capacity ``kappa``; convex and increasing for
    a, b, c >= 0. ``c = 0`` gives an affine curve with a hard capacity. M/M/1 is a = b = 0, c = 1.
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
        return self.kappa

    @property
    def curve_class(self) -> CurveClass:
        return CurveClass("pole", capacity=self.kappa)

    def _value(self, x):
        return self.a + self.b * x + self.c / (self.kappa - x)

    def _derivative(self, x):
        return self.b + self.c / (self.kappa - x) ** 2

    def _integral(self, x):
        return self.a * x + 0.5 * self.b * x**2 + self.c * np.log(self.kappa / (self.kappa - x))

    def cvxpy_integral(self, x):
        import cvxpy as cp

        return self.a * x + 0.5 * self.b * cp.square(x) - self.c * cp.log(self.kappa - x) + self.c * math.log(
            self.kappa
        )

    def cvxpy_total(self, x):
        import cvxpy as cp

        # c x / (kappa - x) = c kappa / (kappa - x) - c
        return self.a * x + self.b * cp.square(x) + self.c * self.kappa * cp.inv_pos(self.kappa - x) - self.c


class MM1(Pole):
    """M/M/1 sojourn time 1 / (mu - x) at arrival rate x < mu (service rate mu)."""

    def __init__(self, mu: float):
        super().__init__(0.0, 0.0, 1.0, positive_scalar(mu, "mu"))

    @property
    def mu(self) -> float:
        return self.kappa

    @property
    def curve_class(self) -> CurveClass:
        return CurveClass("mm1", capacity=self.kappa)

    def __repr__(self) -> str:
        return f"MM1(mu={self.mu!r})"


@dataclass(frozen=True)
class PiecewiseLinear(LatencyCurve):
    """Convex, nondecreasing piecewise-linear curve through breakpoints (x[i], y[i]).

    Breakpoints must be strictly increasing in x with x[0] = 0, nonnegative y, and nondecreasing slopes
    (convexity, checked). Beyond the last breakpoint the last slope continues; ``capacity`` may cap the
    domain (default ``inf``). The Beckmann integral is the exact piecewise-quadratic area.
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
    """``factor * base(x)``: a unit change or a weight; keeps the base curve's capacity and class."""

    base: LatencyCurve
    factor: float

    def __init__(self, base: LatencyCurve, factor: float):
        if not isinstance(base, LatencyCurve):
            raise InvalidInputError(f"base must be a LatencyCurve, got {type(base).__name__}")
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "factor", positive_scalar(factor, "factor"))

    @property
    def capacity(self) -> float:  # type: ignore[override]
        return self.base.capacity

    @property
    def curve_class(self) -> CurveClass:
        return self.base.curve_class

    @property
    def has_kinks(self) -> bool:
        return self.base.has_kinks

    def _value(self, x):
        return self.factor * self.base._value(x)

    def _derivative(self, x):
        return self.factor * self.base._derivative(x)

    def _integral(self, x):
        return self.factor * self.base._integral(x)

    def cvxpy_integral(self, x):
        return self.factor * self.base.cvxpy_integral(x)

    def cvxpy_total(self, x):
        return self.factor * self.base.cvxpy_total(x)
