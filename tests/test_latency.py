"""gametheory.latency against independent truth: scipy quad for integrals, central finite differences for
derivatives, hypothesis properties (monotone, convex where claimed), and the error contract."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.latency import BPR, MM1, Affine, PiecewiseLinear, Pole, Polynomial, Tabulated

CURVES = {
    "affine": Affine(2.0, 0.5),
    "polynomial": Polynomial([1.0, 0.2, 0.03, 0.004]),
    "bpr": BPR(3.0, 40.0, alpha=0.15, beta=4.0),
    "bpr_frac": BPR(3.0, 40.0, alpha=0.6, beta=2.5),
    "mm1": MM1(50.0),
    "pole": Pole(4.0, 0.1, 30.0, 60.0),
    "piecewise": PiecewiseLinear([0, 10, 30, 45], [1, 2, 6, 12]),
    "tabulated": Tabulated([0, 5, 10, 20, 40], [1, 1.5, 2.5, 6, 20]),
    "tabulated_offset": Tabulated([3, 5, 10, 20, 40], [1, 1.5, 2.5, 6, 20]),
    "scaled": Pole(1.0, 0.0, 5.0, 30.0).scaled(2.5),
}
LOADS = [0.0, 1.0, 7.5, 12.0, 25.0, 29.0, 44.0, 55.0]


def _in_domain(curve, xs):
    return [x for x in xs if x < curve.capacity * 0.999]


@pytest.mark.parametrize("name", CURVES)
def test_integral_matches_quad(name):
    c = CURVES[name]
    for x in _in_domain(c, LOADS):
        ref, _ = quad(lambda s, c=c: c(s), 0.0, x, limit=200, points=[p for p in (3, 5, 10, 20, 30) if p < x])
        assert c.integral(x) == pytest.approx(ref, rel=1e-7, abs=1e-9), (name, x)


@pytest.mark.parametrize("name", CURVES)
def test_derivative_matches_finite_differences(name):
    c = CURVES[name]
    kinks = {"piecewise": (10, 30, 45), "tabulated": (5, 10, 20, 40), "tabulated_offset": (3, 5, 10, 20, 40)}
    for x in _in_domain(c, LOADS):
        h = 1e-5 * max(1.0, x)
        if any(abs(x - k) < 10 * h for k in kinks.get(name, ())) or x < h:
            continue
        fd = (c(x + h) - c(x - h)) / (2 * h)
        assert c.derivative(x) == pytest.approx(fd, rel=1e-5, abs=1e-7), (name, x)


@pytest.mark.parametrize("name", CURVES)
def test_marginal_and_total(name):
    c = CURVES[name]
    xs = np.array(_in_domain(c, LOADS))
    assert np.allclose(c.marginal(xs), c(xs) + xs * c.derivative(xs))
    assert np.allclose(c.total(xs), xs * c(xs))
    # vectorized equals scalar
    assert np.allclose(c(xs), [c(float(v)) for v in xs])


def test_closed_forms():
    assert MM1(10.0)(4.0) == pytest.approx(1 / 6)
    assert MM1(10.0).integral(4.0) == pytest.approx(math.log(10 / 6))
    assert BPR(2.0, 10.0)(10.0) == pytest.approx(2.0 * 1.15)
    assert Affine(1, 2).integral(3.0) == pytest.approx(3 + 9)


@pytest.mark.parametrize("name", ["mm1", "pole", "scaled"])
def test_capacity_errors(name):
    c = CURVES[name]
    for meth in (c, c.derivative, c.integral, c.marginal, c.total):
        with pytest.raises(CapacityExceededError) as exc:
            meth(c.capacity)
        assert exc.value.capacity == c.capacity and f"capacity {c.capacity:.6g}" in str(exc.value)
        with pytest.raises(CapacityExceededError):
            meth(np.array([0.0, c.capacity + 1]))


@pytest.mark.parametrize("name", CURVES)
def test_nan_and_negative_loads_raise(name):
    c = CURVES[name]
    for bad in (float("nan"), -1.0, [0.0, float("nan")], [1.0, -0.5], float("inf")):
        with pytest.raises(InvalidInputError, match="load"):
            c(bad)
        with pytest.raises(InvalidInputError, match="load"):
            c.integral(bad)


@pytest.mark.parametrize(
    "ctor",
    [lambda: Affine(-1, 1), lambda: Polynomial([1, -0.1]), lambda: MM1(0), lambda: Pole(1, 1, 1, -2),
     lambda: BPR(1, 0), lambda: PiecewiseLinear([0, 2, 1], [1, 2, 3]), lambda: PiecewiseLinear([0, 1, 2], [0, 5, 6]),
     lambda: Tabulated([0, 1, 2], [1, 3, 2]), lambda: Pole(float("nan"), 0, 1, 2)],
)
def test_bad_parameters_raise(ctor):
    with pytest.raises(InvalidInputError):
        ctor()


nonneg = st.floats(0.0, 10.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(a=nonneg, b=nonneg, c=nonneg, kappa=st.floats(0.5, 100.0), u=st.floats(0.0, 0.98), v=st.floats(0.0, 0.98))
def test_pole_monotone_convex(a, b, c, kappa, u, v):
    p = Pole(a, b, c, kappa)
    x1, x2 = sorted((u * kappa, v * kappa))
    assert p(x2) >= p(x1) - 1e-9 * max(1.0, p(x2))
    assert p.derivative(x2) >= p.derivative(x1) - 1e-9 * max(1.0, p.derivative(x2))
    # convexity: the midpoint lies below the chord
    xm = 0.5 * (x1 + x2)
    assert p(xm) <= 0.5 * (p(x1) + p(x2)) + 1e-9 * max(1.0, p(x2))


@settings(max_examples=60, deadline=None)
@given(coeffs=st.lists(nonneg, min_size=1, max_size=5), x1=st.floats(0, 5), x2=st.floats(0, 5))
def test_polynomial_monotone_convex(coeffs, x1, x2):
    p = Polynomial(coeffs)
    x1, x2 = sorted((x1, x2))
    tol = 1e-9 * max(1.0, p(x2))
    assert p(x2) >= p(x1) - tol
    assert p(0.5 * (x1 + x2)) <= 0.5 * (p(x1) + p(x2)) + tol
    assert p.marginal(x2) >= p(x2) - tol


@settings(max_examples=60, deadline=None)
@given(slopes=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=6), y0=nonneg, x=st.floats(0, 50))
def test_piecewise_convex_and_integral(slopes, y0, x):
    slopes = sorted(slopes)
    xs = np.arange(len(slopes) + 1) * 7.0
    ys = y0 + np.concatenate([[0.0], np.cumsum(np.array(slopes) * 7.0)])
    p = PiecewiseLinear(xs, ys)
    ref, _ = quad(lambda s: p(s), 0, x, points=list(xs[(xs > 0) & (xs < x)]), limit=100)
    assert p.integral(x) == pytest.approx(ref, rel=1e-7, abs=1e-7)
    assert p.derivative(x) >= p.derivative(x * 0.5) - 1e-12


@settings(max_examples=40, deadline=None)
@given(incr=st.lists(st.floats(0.0, 5.0), min_size=1, max_size=8), x=st.floats(0, 60))
def test_tabulated_monotone(incr, x):
    ys = np.concatenate([[1.0], 1.0 + np.cumsum(incr)])
    xs = np.arange(ys.size) * 5.0
    t = Tabulated(xs, ys)
    assert t(x + 1.0) >= t(x) - 1e-12
    assert t.derivative(x) >= -1e-12


def test_overflow_below_capacity_is_a_named_error():
    import warnings

    from gametheory.latency import Polynomial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(InvalidInputError, match="overflowed"):
            Polynomial([1.0, 1.0, 1.0])(1e200)


@pytest.mark.parametrize("bad", [[[1.0], [1.0, 2.0]], "1.0", [True, False], ["1", "2"], None, [1.0, math.nan],
                                 [math.inf], -1.0])
def test_bad_loads_are_named_errors(bad):
    for curve in (Affine(1, 2), MM1(3.0), PiecewiseLinear([0, 1, 2], [0, 1, 3]), Tabulated([0, 1], [1, 2])):
        for method in (curve, curve.derivative, curve.integral, curve.marginal, curve.total):
            with pytest.raises(InvalidInputError):
                method(bad)


def test_past_capacity_raises_and_overflow_is_named():
    with pytest.raises(CapacityExceededError):
        MM1(2.0)([1.0, 2.0])
    with pytest.raises(CapacityExceededError):
        PiecewiseLinear([0, 1], [0, 1], capacity=1.5)(1.5)
    for curve, load in ((Affine(1e300, 1e300), 1e10), (Polynomial([0, 0, 0, 1]), 1e150), (BPR(1e300, 1e-300), 1.0),
                        (Tabulated([0, 1e-300], [0, 1]), 1e300)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no RuntimeWarning on the way to the named error
            with pytest.raises(InvalidInputError, match="overflow"):
                curve.total(load)


@pytest.mark.parametrize("make", [
    lambda: BPR(1, 1, 0.15, 0.5),  # beta < 1: concave, infinite slope at zero
    lambda: PiecewiseLinear([0, 1], [0, 1], capacity=math.nan),
    lambda: Tabulated([0, 1], [0, 1], capacity=math.nan),
    lambda: PiecewiseLinear([0, 1], [0, 1], capacity="x"),
    lambda: Affine("1", 1),
    lambda: Affine(True, 1),
    lambda: Polynomial([[1], [1, 2]]),
    lambda: Polynomial(["1", "2"]),
    lambda: Pole(0, 0, 1, -math.inf),
])
def test_bad_constructor_arguments_are_named_errors(make):
    with pytest.raises(InvalidInputError):
        make()
