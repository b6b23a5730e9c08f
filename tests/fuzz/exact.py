"""Extended-precision (mpmath, 50 digits) recomputation of Game 3 certificates, independent of the solvers.

The curves are re-evaluated from their parameters (a, b, c, kappa or the polynomial coefficients) at the
flows exactly as returned (float64 values read as exact rationals), so a certificate that is true here is
true of the numbers the user holds, not of the solver's internal representation.
"""

import mpmath as mp

from gametheory.latency import Pole, Polynomial

mp.mp.dps = 50


def cost(curve, x, marginal: bool):
    """Latency l(x) or marginal cost l(x) + x l'(x) of a Pole / MM1 / Polynomial curve, in mpmath."""
    x = mp.mpf(float(x))
    if isinstance(curve, Pole):
        a, b, c, k = (mp.mpf(v) for v in (curve.a, curve.b, curve.c, curve.kappa))
        if x >= k:
            return mp.inf
        return a + 2 * b * x + c * k / (k - x) ** 2 if marginal else a + b * x + c / (k - x)
    if isinstance(curve, Polynomial):
        coeffs = [mp.mpf(v) for v in curve.coeffs]
        if marginal:
            return sum((i + 1) * ci * x**i for i, ci in enumerate(coeffs))
        return sum(ci * x**i for i, ci in enumerate(coeffs))
    raise TypeError(f"no exact form for {curve!r}")


def relative_gap(curves, flows, marginal: bool) -> float:
    """(sum_w x_w g_w - r min_w g_w) / sum_w x_w g_w with r = sum_w x_w, all in 50-digit arithmetic."""
    xs = [mp.mpf(float(v)) for v in flows]
    g = [cost(c, v, marginal) for c, v in zip(curves, flows, strict=True)]
    r = mp.fsum(xs)
    total = mp.fsum(x * gw for x, gw in zip(xs, g, strict=True))
    if r == 0:
        return 0.0
    return float((total - r * min(g)) / total)


def total_flow(flows):
    """sum_w x_w without rounding."""
    return mp.fsum(mp.mpf(float(v)) for v in flows)
