"""gametheory.fitting: parameter recovery on seeded noisy synthetic data, model selection, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import InvalidInputError
from gametheory.fitting import FAMILIES, fit
from gametheory.latency import BPR, Affine, Pole, Polynomial

RNG = np.random.default_rng(12345)
X = np.linspace(0.0, 90.0, 60)


def noisy(curve, x=X, rel=0.01, seed=0):
    rng = np.random.default_rng(seed)
    y = np.asarray(curve(x))
    return y * (1 + rel * rng.standard_normal(x.size))


def test_affine_recovers_parameters_within_stderr():
    y = noisy(Affine(3.0, 0.25))
    r = fit(X, y, "affine")
    assert abs(r.params["a"] - 3.0) < 4 * r.stderr["a"] + 1e-9
    assert abs(r.params["b"] - 0.25) < 4 * r.stderr["b"] + 1e-9
    assert r.r2 > 0.99 and r.residuals.shape == X.shape


def test_polynomial_recovers_coefficients():
    y = noisy(Polynomial([2.0, 0.05, 0.002]), rel=0.005)
    r = fit(X, y, "polynomial", degree=2)
    assert np.allclose([r.params[f"c{i}"] for i in range(3)], [2.0, 0.05, 0.002], rtol=0.15)
    assert all(v >= 0 for v in r.params.values())


def test_pole_recovers_parameters_and_kappa_above_max_load():
    true = Pole(5.0, 0.1, 20.0, 100.0)
    y = noisy(true, rel=0.005, seed=3)
    r = fit(X, y, "pole")
    assert r.params["kappa"] > X.max()
    assert abs(r.params["kappa"] - 100.0) < 4 * r.stderr["kappa"] + 2.0
    assert abs(r.params["a"] - 5.0) < 0.5
    assert np.max(np.abs(r.curve(X) - true(X)) / true(X)) < 0.02


def test_bpr_recovers_shape():
    true = BPR(4.0, 90.0, alpha=0.5, beta=3.0)
    y = noisy(true, rel=0.005, seed=4)
    r = fit(X, y, "bpr")
    assert abs(r.params["beta"] - 3.0) < 0.3 and abs(r.params["t0"] - 4.0) < 0.1


def test_mm1_recovers_mu():
    x = np.linspace(0, 8, 30)
    y = noisy(lambda s: 1.0 / (10.0 - s), x=x, rel=0.01, seed=5)
    r = fit(x, y, "mm1")
    assert abs(r.params["mu"] - 10.0) < 0.1 and r.params["mu"] > x.max()


def test_piecewise_recovers_hinge():
    y = 2 + 0.5 * X + 3 * np.maximum(X - 60, 0) + 0.3 * np.random.default_rng(6).standard_normal(X.size)
    r = fit(X, y, "piecewise")
    assert abs(r.params["t"] - 60) < 1.0
    assert abs(r.params["b1"] - 0.5) < 0.05 and abs(r.params["b2"] - 3.5) < 0.1
    # convex and nondecreasing by construction
    assert np.all(np.diff(r.curve.derivative(X)) >= -1e-12)


def test_tabulated_smooths_non_monotone_points_into_a_monotone_curve():
    x = np.arange(1.0, 11.0)
    y = np.array([10, 11, 10.5, 12, 13, 12.8, 15, 17, 16.9, 20.0])  # vLLM-like dips
    r = fit(x, y, "tabulated")
    grid = np.linspace(1, 10, 200)
    assert np.all(np.diff(r.curve(grid)) >= -1e-12)
    # isotonic regression pools each dip with its neighbour: mean of the violating pair
    assert r.curve(2.0) == pytest.approx((11 + 10.5) / 2)


@pytest.mark.parametrize("family", ["affine", "polynomial", "bpr", "mm1", "pole", "piecewise"])
def test_parametric_fits_are_monotone_on_non_monotone_data(family):
    x = np.arange(1.0, 11.0)
    y = np.array([10, 11, 10.5, 12, 13, 12.8, 15, 17, 16.9, 20.0])
    r = fit(x, y, family, warn=False)
    assert np.all(np.asarray(r.curve.derivative(x)) >= 0)


@pytest.mark.parametrize(
    "truth,curve,criterion",
    [("pole", Pole(2.0, 0.05, 30.0, 95.0), "aic"), ("piecewise", None, "aic"), ("affine", Affine(3.0, 0.2), "bic")],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auto_selects_true_family(truth, curve, criterion, seed):
    # AIC over-selects nested bigger models with probability ~0.2 (Burnham & Anderson 2002), so the nested
    # affine truth is checked with the consistent BIC
    rng = np.random.default_rng(seed)
    if curve is None:
        y = 2 + 0.5 * X + 3 * np.maximum(X - 50, 0) + 0.3 * rng.standard_normal(X.size)
    else:
        y = np.asarray(curve(X)) + 0.05 * rng.standard_normal(X.size)
    r = fit(X, y, "auto", criterion=criterion)
    assert r.family == truth, r.explanation
    assert r.ranking[0]["family"] == truth and truth in r.explanation
    assert abs(sum(row["weight"] for row in r.ranking) - 1) < 1e-9
    assert r.ranking[0][criterion] <= r.ranking[1][criterion]


def test_auto_with_bic_and_few_points_skips_big_families():
    x, y = [0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 2.1, 2.9, 4.2, 5.0]
    r = fit(x, y, "auto", criterion="bic")
    assert r.family in ("affine", "mm1", "polynomial", "bpr")
    assert "Not compared (fewer than k + 2" in r.explanation and "pole (needs 6)" in r.explanation
    assert {row["family"] for row in r.ranking} <= {"affine", "mm1", "polynomial", "bpr"}


def test_too_few_points_is_a_named_error_or_an_explicit_warning():
    import warnings

    from gametheory.errors import StatisticsWarning

    # two points: no model selection ("decisive evidence" on 2 points was a lie), a named error
    with pytest.raises(InvalidInputError, match="too few to choose a curve family"):
        fit([1.0, 2.0], [3.0, 4.0])
    # an explicit family below k points: error; at k or k + 1 points: the fit, with a warning in the result
    with pytest.raises(InvalidInputError, match="needs at least 4 points"):
        fit([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], family="pole")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = fit([1.0, 2.0, 3.0], [3.0, 4.1, 4.9], family="affine")
    assert any("fewer than k + 2 = 4" in w for w in r.warnings)
    assert any(issubclass(c.category, StatisticsWarning) for c in caught)
    # enough points: no warning
    r = fit(np.arange(6.0), 1 + 2 * np.arange(6.0) + np.array([0, .1, -.1, .05, 0, -.05]), family="affine")
    assert r.warnings == ()


@pytest.mark.parametrize("y, word", [
    ([10, 9, 8, 7, 6, 5], "decreases"),
    ([5, 5, 5, 5, 5, 5], "decreases or stays flat"),
    ([5.0, 5.3, 4.8, 5.1, 4.9, 5.2], "does not rise significantly"),
])
def test_flat_or_decreasing_latency_warns(y, word):
    from gametheory.errors import StatisticsWarning

    with pytest.warns(StatisticsWarning, match=word):
        r = fit(np.arange(6.0), y, family="affine")
    assert any(word in w for w in r.warnings)


def test_weights_pull_the_fit_toward_heavy_points():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, 1.0, 2.0, 10.0])
    light = fit(x, y, "affine")
    heavy = fit(x, y, "affine", weights=[1e4, 1e4, 1e4, 1.0])
    assert abs(heavy.curve(1.0) - 1.0) < abs(light.curve(1.0) - 1.0)
    assert heavy.params["b"] == pytest.approx(1.0, abs=0.01)


def test_weighted_fit_equals_replicated_points():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 1.4, 2.2, 2.9, 4.5])
    w = np.array([1.0, 2.0, 1.0, 3.0, 1.0])
    r1 = fit(x, y, "polynomial", weights=w)
    r2 = fit(np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int)), "polynomial")
    assert np.allclose(list(r1.params.values()), list(r2.params.values()), atol=1e-8)


def test_bootstrap_stderr_close_to_covariance():
    y = noisy(Affine(3.0, 0.25), seed=9)
    cov = fit(X, y, "affine")
    boot = fit(X, y, "affine", uncertainty="bootstrap", n_boot=300, seed=1)
    assert boot.stderr["b"] == pytest.approx(cov.stderr["b"], rel=0.35)
    assert boot.params == cov.params


def test_result_is_frozen():
    r = fit([0, 1, 2, 3], [1, 2, 3, 4.1], "affine")
    with pytest.raises(AttributeError):
        r.family = "pole"


@pytest.mark.parametrize(
    "x,y,kw,field",
    [
        ([0, 1, float("nan")], [1, 2, 3], {}, "x (load)"),
        ([0, 1, 2], [1, float("nan"), 3], {}, "y (latency)"),
        ([0, -1, 2], [1, 2, 3], {}, "x (load)"),
        ([0, 1, 2], [1, -2, 3], {}, "y (latency)"),
        ([0, 1, 2], [1, 2], {}, "same length"),
        ([0, 1, 2], [1, 2, 3], {"family": "pole"}, "needs at least 4"),
        ([0, 1], [1, 2], {"family": "polynomial", "degree": 3}, "needs at least 4"),
        ([0, 1, 2], [1, 2, 3], {"weights": [1, 0, 1]}, "weights"),
        ([0, 1, 2], [1, 2, 3], {"weights": [1, 1]}, "weights"),
        ([0, 1, 2], [1, 2, 3], {"family": "cubic"}, "family"),
        ([0, 1, 2], [1, 2, 3], {"criterion": "r2"}, "criterion"),
    ],
)
def test_bad_input_names_the_field(x, y, kw, field):
    with pytest.raises(InvalidInputError, match=field.replace("(", r"\(").replace(")", r"\)")):
        fit(x, y, **kw)


def test_families_constant_lists_all():
    assert set(FAMILIES) == {"affine", "polynomial", "bpr", "mm1", "pole", "piecewise", "tabulated"}


def test_covariance_stderr_is_calibrated():
    """Over 200 seeded noisy replicates the 95% Wald interval b +/- 1.96 se covers the true slope ~95%."""
    x = np.linspace(0, 10, 25)
    hits = 0
    for seed in range(200):
        y = 3.0 + 0.5 * x + 0.4 * np.random.default_rng(seed).standard_normal(x.size)
        r = fit(x, y, "affine")
        hits += abs(r.params["b"] - 0.5) <= 1.96 * r.stderr["b"]
    assert 0.90 <= hits / 200 <= 0.99


@settings(max_examples=25, deadline=None)
@given(
    y=st.lists(st.floats(0.0, 100.0), min_size=6, max_size=12),
    family=st.sampled_from(["affine", "polynomial", "bpr", "mm1", "pole", "piecewise", "tabulated", "auto"]),
)
def test_any_data_gives_a_valid_monotone_fit(y, family):
    x = np.arange(len(y), dtype=float)
    r = fit(x, y, family, warn=False)
    grid = np.linspace(0, x.max(), 50)
    v = np.asarray(r.curve(grid))
    assert np.all(np.isfinite(v)) and np.all(np.diff(v) >= -1e-9 * max(1.0, v.max()))
    assert all(np.isfinite(val) for val in r.params.values())
    assert all(not np.isnan(val) for val in r.stderr.values())
    assert np.isfinite(r.aic) and np.isfinite(r.bic) and np.isfinite(r.r2)


def test_repr_says_aicc_is_undefined_below_k_plus_2_points():
    # with n <= k + 1 the AICc correction does not exist: r.aic holds a ranking penalty, the repr says so
    few = fit([8.0, 32.0, 64.0], [52.3, 60.8, 88.0], "affine", warn=False)
    assert "AICc: undefined (n <= k + 1)" in repr(few) and np.isfinite(few.aic)
    enough = fit([8.0, 32.0, 64.0, 96.0], [52.3, 60.8, 88.0, 101.0], "affine", warn=False)
    assert "undefined" not in repr(enough) and f"AICc: {enough.aic:.4g}" in repr(enough)
