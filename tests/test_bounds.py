"""PoA bounds: closed forms against references.md, numeric Pigou bound against the closed forms."""

import math

import numpy as np
import pytest

from gametheory import bounds
from gametheory.errors import InvalidInputError
from gametheory.games.routing import poa_across_load
from gametheory.latency import MM1, Affine, Pole, Polynomial

ALPHA = {1: 1.333333, 2: 1.625752, 3: 1.895628, 4: 2.150502, 5: 2.394383, 6: 2.629721}  # references.md


@pytest.mark.parametrize("p", sorted(ALPHA))
def test_polynomial_closed_form(p):
    assert bounds.polynomial(p) == pytest.approx(ALPHA[p], abs=1e-6)


@pytest.mark.parametrize("p", [1, 2, 4])
def test_numeric_pigou_matches_polynomial(p):
    curve = Polynomial([0.0] * p + [1.0])
    assert bounds.pigou(curve, 3.0) == pytest.approx(ALPHA[p], abs=1e-6)
    # an affine term only lowers the sup (still attained in the limit): bounded by alpha(p)
    assert bounds.pigou(Polynomial([1.0] + [0.0] * (p - 1) + [1.0]), 3.0) <= ALPHA[p] + 1e-9


def test_mm1_values_and_numeric():
    assert bounds.mm1(1.0, 0.5) == pytest.approx(1.2071, abs=1e-4)
    assert bounds.mm1([1.0, 3.0], 0.9) == pytest.approx(2.0811, abs=1e-4)
    assert bounds.mm1(1.0, 0.99) == pytest.approx(5.5, abs=1e-9)
    for R in (0.5, 0.9, 0.99):
        assert bounds.pigou(MM1(1.0), R) == pytest.approx(bounds.mm1(1.0, R), rel=1e-7)


def test_other_closed_forms():
    assert bounds.atomic_linear() == 2.5
    assert bounds.PIGOU_LINEAR == pytest.approx(4 / 3)
    assert bounds.pigou(Affine(2.0, 0.5), 10.0) <= 4 / 3 + 1e-12
    assert bounds.polynomial(0) == 1.0


def test_pigou_is_attained_by_a_pigou_network():
    # the bound is tight: the two-link Pigou network built from the maximizing r, x reaches it
    curve = Pole(0.5, 0.2, 0.3, 4.0)
    alpha, r = bounds.pigou_curve(curve, 3.5)
    from gametheory.games.routing import RoutingGame
    from gametheory.latency import Affine as Const

    g = RoutingGame([curve, Const(curve(r), 0.0)], r)
    assert g.price_of_anarchy() == pytest.approx(alpha, rel=1e-6)


def test_class_bound_and_sweep():
    curves = [Pole(1.0, 0.1, 0.5, 10.0), Pole(2.0, 0.05, 1.0, 12.0)]
    rows = poa_across_load(curves, np.linspace(1, 20, 5))
    for row in rows:
        assert 1 - 1e-9 <= row["poa"] <= row["bound"] + 1e-9
    assert rows[-1]["bound"] >= rows[0]["bound"]
    b, how = bounds.class_bound([MM1(2.0), MM1(3.0)], 1.0)
    assert how == "mm1" and b == pytest.approx(bounds.mm1([2, 3], 1.0))


def test_bad_inputs():
    with pytest.raises(InvalidInputError):
        bounds.mm1(1.0, 1.0)
    with pytest.raises(InvalidInputError):
        bounds.mm1([1.0, -1.0], 0.1)
    with pytest.raises(InvalidInputError):
        bounds.pigou(MM1(1.0), 1.5)
    with pytest.raises(InvalidInputError):
        bounds.polynomial(math.nan)


def test_polynomial_bound_exact_for_any_degree():
    # alpha(p) against 1 / (1 - p (p+1)^(-(p+1)/p)) in enough digits that the subtraction cannot cancel
    import mpmath as mp

    from gametheory.bounds import polynomial

    for p in (1e-300, 1e-8, 0.5, 1.0, 2.0, 4.0, 1e3, 1e15, 1e16, 1e100, 1e300):
        with mp.workdps(int(math.log10(p)) + 60 if p > 1 else 60):
            P = mp.mpf(p)
            exact = 1 / (1 - P * (P + 1) ** (-(P + 1) / P))
            assert polynomial(p) == pytest.approx(float(exact), rel=1e-14)
    assert polynomial(1) == pytest.approx(4 / 3, rel=1e-15)
    assert math.isfinite(polynomial(1.7976931348623157e308))


def test_across_load_rows_always_carry_regime_and_flag_a_bound_class_change():
    # all-M/M/1 workers: the closed form holds while the total demand is below the smallest capacity (10), the
    # numeric Pigou bound at equilibrium loads past it; the bound jumps there and the row says so
    rows = poa_across_load([MM1(10.0), MM1(12.0)], [2.0, 5.0, 8.3, 10.7, 14.0, 18.0])
    kinds = [r["bound_kind"] for r in rows]
    assert kinds[:3] == ["mm1"] * 3 and all(k.startswith("numeric pigou") for k in kinds[3:])
    assert [r["bound_change"] is not None for r in rows] == [False, False, False, True, False, False]
    assert "mm1 -> numeric pigou" in rows[3]["bound_change"]
    assert all("regime" in r for r in rows)
    for r in rows:
        assert 1 - 1e-9 <= r["poa"] <= r["bound"] + 1e-9
    # a straight-line sweep has no knee: the rows still carry a regime, and say why
    flat = poa_across_load([Pole(1.0, 0.01, 1e-9, 1e6)] * 2, np.linspace(1, 10, 6))
    assert all(r["regime"] == "no knee" for r in flat) and "no method finds a knee" in flat.knee_note.lower()
    few = poa_across_load([MM1(10.0), MM1(10.0)], [1.0, 2.0])
    assert [r["regime"] for r in few] == ["no knee", "no knee"]
    assert rows.to_frame().shape[0] == 6 and "PoA across load" in repr(rows)


def test_across_load_plot_marks_the_class_change():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gametheory.plotting import figure_problems

    rows = poa_across_load([MM1(10.0), MM1(12.0)], [2.0, 5.0, 8.3, 10.7, 14.0, 18.0])
    ax = rows.plot()
    assert figure_problems(ax.figure) == []
    assert any("bound: numeric pigou" in t.get_text() for t in ax.texts)
    plt.close(ax.figure)
