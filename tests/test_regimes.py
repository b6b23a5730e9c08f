"""gametheory.regimes: knees of curves with a known knee, classification rule, per-regime fits."""

import math

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.latency import Pole
from gametheory.regimes import LABELS, classify, find_knee, regime_fits, second_derivative

X = np.linspace(0.0, 100.0, 50)


def hinge_data(seed=0, knee=60.0, noise=0.5):
    rng = np.random.default_rng(seed)
    return 2 + 0.5 * X + 3 * np.maximum(X - knee, 0) + noise * rng.standard_normal(X.size)


def pole_knee(a, b, c, kappa):
    """Closed form of the 'pole' knee: l'(x) = 2 l'(0) for l = a + b x + c / (kappa - x)."""
    return kappa - math.sqrt(c / (b + 2 * c / kappa**2))


@pytest.mark.parametrize("seed", [0, 1])
def test_hinge_knee_recovered_with_interval_covering_truth(seed):
    k = find_knee(X, hinge_data(seed), n_boot=60, seed=seed)
    assert k.method == "hinge"
    assert abs(k.load - 60.0) < 1.0
    lo, hi = k.interval
    assert lo <= k.load <= hi and lo - 0.5 <= 60.0 <= hi + 0.5
    assert hi - lo < 3.0


def test_kneedle_recovers_hinge_break():
    # for a 2-segment convex hinge the point farthest below the normalized chord is the break
    k = find_knee(X, hinge_data(2, noise=0.2), method="kneedle", n_boot=20)
    assert abs(k.load - 60.0) < 3.0


def test_pole_knee_matches_closed_form():
    a, b, c, kappa = 5.0, 0.1, 20.0, 105.0
    x = np.linspace(0, 100, 60)
    truth = pole_knee(a, b, c, kappa)
    y = np.asarray(Pole(a, b, c, kappa)(x)) + 0.03 * np.random.default_rng(3).standard_normal(x.size)
    k = find_knee(x, y, method="pole", n_boot=40)
    assert abs(k.load - truth) < 2.0
    assert k.interval[0] - 1.0 <= truth <= k.interval[1] + 1.0


def test_pole_knee_closed_form_is_where_slope_doubles():
    p = Pole(1.0, 0.2, 5.0, 50.0)
    xk = pole_knee(1.0, 0.2, 5.0, 50.0)
    assert p.derivative(xk) == pytest.approx(2 * p.derivative(0.0))


def test_second_derivative_rises_toward_saturation():
    x = np.linspace(0, 90, 40)
    y = np.asarray(Pole(5, 0.1, 20, 100)(x))
    loads, d2 = second_derivative(x, y, family="pole")
    assert np.all(np.diff(d2) > 0)
    # against the closed form 2 c / (kappa - x)^3
    assert d2[len(d2) // 2] == pytest.approx(2 * 20 / (100 - loads[len(d2) // 2]) ** 3, rel=1e-3)


def test_classify_rule():
    y = hinge_data(0)
    k = find_knee(X, y, n_boot=40)
    labels = classify(X, y, n_boot=40)
    assert set(labels) <= set(LABELS) and len(labels) == X.size
    lo, hi = k.interval
    for xv, lab in zip(X, labels, strict=True):
        assert lab == ("below" if xv < lo else "saturated" if xv > hi else "transition")
    assert labels[0] == "below" and labels[-1] == "saturated"


def test_classify_with_given_knee_and_transition():
    k = find_knee(X, hinge_data(0), n_boot=10)
    from dataclasses import replace

    wide = replace(k, interval=(50.0, 70.0))
    assert classify([10, 50, 60, 70, 90], knee=wide) == ["below", "transition", "transition", "transition",
                                                          "saturated"]


def test_regime_fits_linear_below_pole_above():
    rf = regime_fits(X, hinge_data(0, noise=0.1), n_boot=20)
    assert rf.below.family == "affine" and rf.below.params["b"] == pytest.approx(0.5, abs=0.02)
    assert rf.saturated.family == "pole" and rf.saturated.params["kappa"] > X.max()


def test_bad_input():
    with pytest.raises(InvalidInputError, match="method"):
        find_knee(X, hinge_data(0), method="elbow")
    with pytest.raises(InvalidInputError, match="at least 4"):
        find_knee([0, 1, 2], [1, 2, 5])
    with pytest.raises(InvalidInputError, match="x \\(load\\)"):
        find_knee([0, -1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(InvalidInputError, match="y \\(latency\\)"):
        classify([0, 1, 2, 3])


@pytest.mark.parametrize("y", [[0.0] * 6, [5.0] * 6, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
def test_flat_or_straight_data_has_no_knee(y):
    with pytest.raises(InvalidInputError, match="no knee"):
        find_knee(np.arange(6.0), y, n_boot=5)


def test_knee_interval_is_not_falsely_narrow_with_few_points():
    # 6 points, a 4-parameter hinge: the residual bootstrap has nothing to resample, so the interval must at
    # least span the measured loads around the knee (the break is not identified between 96 and 128)
    x = [8, 16, 32, 64, 96, 128]
    y = [41.2, 42.0, 44.1, 47.9, 55.0, 210.5]
    knee = find_knee(x, y)
    assert 96 < knee.load < 128
    assert knee.interval[0] <= 96 and knee.interval[1] >= 128 and "widened" in knee.interval_method


def test_equal_loads_are_rejected():
    from gametheory.fitting import fit

    with pytest.raises(InvalidInputError, match="all 5 loads equal"):
        fit([3.0] * 5, [1.0, 2.0, 3.0, 4.0, 5.0], family="auto")


# ---- honest knees: "no knee" where there is none, one consensus where the methods disagree -------------
from gametheory.errors import NoKneeError  # noqa: E402
from gametheory.regimes import METHODS, find_knees  # noqa: E402


def pole_at_131(seed=0):
    """The issue's example: TTFT with a capacity pole at C = 131, 16 concurrencies, 2 % proportional noise."""
    c = np.arange(8, 129, 8.0)
    y = np.asarray(Pole(40.0, 0.2, 800.0, 131.0)(c)) * (1 + 0.02 * np.random.default_rng(seed).standard_normal(c.size))
    return c, y


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", ["line", "concave"])
def test_every_method_says_no_knee_on_a_line_or_a_concave_curve(method, shape):
    x = np.linspace(1.0, 100.0, 20)
    y = 10 + 0.5 * x if shape == "line" else 10 + 30 * np.log1p(x / 10)
    y = y + 0.4 * np.random.default_rng(5).standard_normal(x.size)
    with pytest.raises(NoKneeError, match="better than a straight line") as info:
        find_knee(x, y, method=method, n_boot=0)
    assert info.value.method == method


def test_false_knee_rate_on_noisy_lines_is_small():
    # the EVIDENCE threshold keeps false knees rare (its docstring quotes these rates)
    rng = np.random.default_rng(11)
    x = np.linspace(1.0, 100.0, 30)
    false = 0
    for _ in range(60):
        y = (10 + 0.5 * x) * (1 + 0.03 * rng.standard_normal(x.size))
        try:
            find_knee(x, y, n_boot=0)
            false += 1
        except NoKneeError:
            pass
    assert false / 60 <= 0.1


def test_consensus_on_the_pole_at_131_covers_the_disagreement():
    c, y = pole_at_131()
    k = find_knees(c, y, n_boot=100, seed=0)
    assert set(k.knees) == set(METHODS) and not k.no_knee
    loads = sorted(r.load for r in k.knees.values())
    assert k.load == pytest.approx(loads[1])  # the median
    for r in k.knees.values():  # the consensus interval covers every method's interval
        assert k.interval[0] <= r.interval[0] and r.interval[1] <= k.interval[1]
    lows = [r.interval[0] for r in k.knees.values()]
    highs = [r.interval[1] for r in k.knees.values()]
    assert k.agree == (max(lows) <= min(highs))
    assert not k.agree and "do not overlap" in k.explanation and "defines the knee differently" in k.explanation
    assert k.knees["hinge"].load == pytest.approx(118, abs=3)  # the 118 [117, 119]
    assert k.interval[1] < 131  # every knee before the pole
    df = k.to_frame()
    assert list(df["method"]) == ["hinge", "pole", "kneedle", "consensus"]


def test_consensus_agrees_on_a_sharp_hinge_and_reports_no_knee():
    y = hinge_data(0, noise=0.2)
    k = find_knees(X, y, n_boot=30)
    assert k.found and abs(k.load - 60) < 3
    none = find_knees(np.arange(10.0), 3 + 2 * np.arange(10.0), n_boot=0)
    assert not none.found and math.isnan(none.load) and set(none.no_knee) == set(METHODS)
    with pytest.raises(NoKneeError):
        classify(5.0, knee=none)


def test_classify_takes_scalars():
    k = find_knee(X, hinge_data(0), n_boot=10)
    lo, hi = k.interval
    assert classify(lo - 1.0, knee=k) == "below"
    assert classify(hi + 1.0, knee=k) == "saturated"
    assert classify(np.float64((lo + hi) / 2), knee=k) == "transition"
    assert classify([lo - 1.0], knee=k) == ["below"]


def test_few_points_say_so():
    with pytest.raises(NoKneeError, match="5 points are too few"):
        find_knee([1, 2, 3, 4, 5], [1, 1.1, 1.2, 3, 9], n_boot=0)
