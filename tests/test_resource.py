"""Game 1 core (gametheory.games.resource): the variational equilibrium, the optimum and PoA against
closed forms, a second solver (cvxpy), brute force on a fine grid, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.games.resource import (
    InverseCost,
    MM1PoolCost,
    PDResourceGame,
    PerGPULoadCost,
    kkt_certificate,
)
from gametheory.latency import MM1


def inverse_closed_forms(a, b, total, w_p, w_d):
    """a/G costs: VE G_P = G sqrt(a)/(sqrt(a)+sqrt(b)), optimum with sqrt(w a); PoA by substitution."""
    ve = total * math.sqrt(a) / (math.sqrt(a) + math.sqrt(b))
    opt = total * math.sqrt(w_p * a) / (math.sqrt(w_p * a) + math.sqrt(w_d * b))

    def social(g):
        return w_p * a / g + w_d * b / (total - g)

    return ve, opt, social(ve) / social(opt)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.1, 1e4), b=st.floats(0.1, 1e4), total=st.floats(2.0, 1e3), w_d=st.floats(0.01, 1e3))
def test_inverse_costs_match_closed_forms(a, b, total, w_d):
    game = PDResourceGame(total, lambda g: a / g, lambda g: b / g, weights=(1.0, w_d))
    ve, opt, poa = inverse_closed_forms(a, b, total, 1.0, w_d)
    eq, so = game.equilibrium(), game.optimum()
    assert eq.split[0] == pytest.approx(ve, rel=1e-8)
    assert so.split[0] == pytest.approx(opt, rel=1e-8)
    assert game.price_of_anarchy() == pytest.approx(poa, rel=1e-8)
    assert sum(eq.split) == pytest.approx(total, rel=1e-14)
    # Proposition 1: equal marginal improvement per GPU, and it is the multiplier
    assert a / eq.split[0] ** 2 == pytest.approx(b / eq.split[1] ** 2, rel=1e-8)
    assert eq.multiplier == pytest.approx(a / eq.split[0] ** 2, rel=1e-8)
    assert eq.certificate.ok and so.certificate.ok


def test_paper_example_and_derivative_sources_agree():
    numeric = PDResourceGame(24.0, lambda g: 400.0 / g, lambda g: 30.0 / g, weights=(1.0, 128.0))
    analytic = PDResourceGame(24.0, InverseCost(400.0), InverseCost(30.0), weights=(1.0, 128.0))
    assert numeric.equilibrium().derivative == "central difference"
    assert analytic.equilibrium().derivative == "analytic"
    assert numeric.price_of_anarchy() == pytest.approx(analytic.price_of_anarchy(), rel=1e-10)
    assert analytic.price_of_anarchy() == pytest.approx(inverse_closed_forms(400, 30, 24, 1, 128)[2], rel=1e-12)


def test_equal_weights_give_poa_one():
    game = PDResourceGame(16.0, InverseCost(5.0), MM1PoolCost(1.0, 3.0), weights=(2.0, 2.0))
    assert game.price_of_anarchy() == pytest.approx(1.0, abs=1e-12)


def mm1_equilibrium_closed_form(mu_p, lam_p, mu_d, lam_d, total):
    """M/M/1 pools C_i = 1/(mu_i G_i - lam_i): the VE solves mu_P/s_P^2 = mu_D/s_D^2 with s_i = mu_i G_i - lam_i,
    so s_P = sqrt(mu_P) t, s_D = sqrt(mu_D) t and the budget gives t."""
    t = (total - lam_p / mu_p - lam_d / mu_d) / (1 / math.sqrt(mu_p) + 1 / math.sqrt(mu_d))
    return (math.sqrt(mu_p) * t + lam_p) / mu_p


@pytest.mark.parametrize("mu_p,lam_p,mu_d,lam_d,total", [(2.0, 5.0, 3.0, 6.0, 10.0), (0.5, 1.0, 4.0, 30.0, 12.0)])
def test_mm1_pools_closed_form_and_cvxpy(mu_p, lam_p, mu_d, lam_d, total):
    game = PDResourceGame(total, MM1PoolCost(mu_p, lam_p), MM1PoolCost(mu_d, lam_d), weights=(1.0, 7.0))
    assert game.equilibrium().split[0] == pytest.approx(mm1_equilibrium_closed_form(mu_p, lam_p, mu_d, lam_d, total),
                                                        rel=1e-9)
    for solve in (game.equilibrium, game.optimum):
        fast, second = solve(), solve(method="cvxpy")
        assert second.method == "cvxpy"
        assert second.split[0] == pytest.approx(fast.split[0], rel=1e-4)
        assert second.cost == pytest.approx(fast.cost, rel=1e-4)
    assert game.domain[0] == pytest.approx(lam_p / mu_p, rel=1e-9)


def test_brute_force_on_a_fine_grid():
    rng = np.random.default_rng(7)
    for _ in range(20):
        a, b, c = rng.uniform(1, 50, 3)
        k = rng.uniform(0.5, 2.5)
        total = float(rng.uniform(4, 64))
        weights = (float(rng.uniform(0.2, 5)), float(rng.uniform(0.2, 200)))
        game = PDResourceGame(total, lambda g, a=a, k=k: a / g**k + 1.0, lambda g, b=b, c=c: b / (g + c) + 2.0,
                              weights=weights)
        grid = np.linspace(1e-6, total - 1e-6, 200001)[1:-1]
        for sol, w in ((game.equilibrium(), (1.0, 1.0)), (game.optimum(), weights)):
            values = np.array([game.social_cost(g, w) for g in grid[::50]])
            best = grid[::50][np.argmin(values)]
            assert abs(sol.split[0] - best) <= 2 * 50 * (grid[1] - grid[0]) + 1e-9
            assert game.social_cost(sol.split[0], w) <= values.min() + 1e-12 * abs(values.min())


def test_perturbed_split_fails_the_certificate():
    game = PDResourceGame(24.0, InverseCost(400.0), InverseCost(30.0))
    g = game.equilibrium().split[0]
    assert kkt_certificate(game, g).ok
    assert not kkt_certificate(game, g * (1 + 1e-4)).ok
    assert not kkt_certificate(game, g, weights=(1.0, 128.0)).ok  # the VE is not the optimum


def test_corner_when_one_pool_gains_little():
    game = PDResourceGame(10.0, lambda g: 1.0 - 0.001 * g, InverseCost(100.0))
    eq = game.equilibrium()
    assert eq.split == (0.0, 10.0) and eq.corner == "prefill"
    assert eq.multiplier == pytest.approx(1.0)
    assert eq.certificate.ok


def test_nonconvex_cost_reports_several_stationary_points():
    # a prefill cost with a sudden improvement at 11 GPUs: C_P + C_D has local minima at 8 and near 11.4
    def prefill(g):
        return 40.0 / g - 3.0 * math.tanh(4.0 * (g - 11.0))

    game = PDResourceGame(16.0, prefill, InverseCost(40.0))
    eq = game.equilibrium()
    assert not eq.unique and len(eq.stationary_points) == 2
    assert eq.stationary_points[0] == pytest.approx(8.0, abs=1e-6)
    assert eq.split[0] > 11.0
    grid = np.linspace(0.5, 15.5, 30001)
    assert game.social_cost(eq.split[0]) <= min(game.social_cost(g) for g in grid) + 1e-9


def test_per_gpu_load_cost_derivative():
    cost = PerGPULoadCost(MM1(10.0), rate=30.0)
    assert cost.min_gpus == pytest.approx(3.0)
    for g in (3.5, 5.0, 9.0):
        h = 1e-6
        assert cost.derivative(g) == pytest.approx((cost(g + h) - cost(g - h)) / (2 * h), rel=1e-6)
    game = PDResourceGame(12.0, cost, PerGPULoadCost(MM1(10.0), rate=20.0))
    assert game.domain[0] == pytest.approx(3.0, rel=1e-9)
    assert game.equilibrium().certificate.ok


@pytest.mark.parametrize("kwargs,match", [
    (dict(total_gpus=-1.0), "total_gpus"),
    (dict(total_gpus=float("nan")), "total_gpus"),
    (dict(weights=(1.0, 0.0)), r"weights\[1\]"),
    (dict(weights=(1.0,)), "weights"),
    (dict(step=3.5), "step"),
    (dict(total_gpus=6.0, step=4), "cannot hold"),
    (dict(min_gpus=(5.0, 5.0)), "min_gpus"),
    (dict(prefill_cost=3.0), "prefill_cost must be a callable"),
])
def test_bad_input_is_named(kwargs, match):
    args = dict(total_gpus=8.0, prefill_cost=InverseCost(1.0), decode_cost=InverseCost(1.0))
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match):
        PDResourceGame(**args)


def test_increasing_cost_and_nan_and_saturation_are_named():
    with pytest.raises(InvalidInputError, match="prefill_cost must not increase"):
        PDResourceGame(10.0, lambda g: g, InverseCost(1.0)).equilibrium()
    with pytest.raises(InvalidInputError, match="NaN"):
        PDResourceGame(10.0, lambda g: float("nan"), InverseCost(1.0)).equilibrium()
    with pytest.raises(CapacityExceededError, match="prefill pool needs more than 3"):
        PDResourceGame(4.0, MM1PoolCost(1.0, 3.0), MM1PoolCost(1.0, 2.0)).equilibrium()
    with pytest.raises(CapacityExceededError, match="saturated even with all"):
        PDResourceGame(4.0, MM1PoolCost(1.0, 9.0), InverseCost(1.0)).equilibrium()
    with pytest.raises(InvalidInputError, match="cvxpy"):
        PDResourceGame(4.0, lambda g: 1 / g, InverseCost(1.0)).equilibrium(method="cvxpy")


def test_uniqueness_needs_strict_monotonicity():
    # strictly convex costs: phi' strictly increasing, the VE is unique (also on the cvxpy path)
    game = PDResourceGame(24.0, InverseCost(400.0), InverseCost(30.0))
    assert game.equilibrium().unique and game.equilibrium(method="cvxpy").unique
    # constant costs: every split is a VE, so uniqueness must not be claimed
    flat = PDResourceGame(8.0, lambda g: 1.0, lambda g: 1.0)
    eq = flat.equilibrium()
    assert eq.certificate.ok and not eq.unique
    # linear costs: phi' is constant (not strictly increasing), a corner solution, not claimed unique either
    assert not PDResourceGame(8.0, lambda g: 10.0 - g, lambda g: 10.0 - 2.0 * g).equilibrium().unique


def test_zero_optimum_cost_and_minus_inf_are_named():
    with pytest.raises(InvalidInputError, match="PoA ratio is undefined"):
        PDResourceGame(8.0, lambda g: 0.0, lambda g: 0.0).price_of_anarchy()
    with pytest.raises(InvalidInputError, match="-inf"):
        PDResourceGame(8.0, lambda g: -math.inf, InverseCost(1.0)).equilibrium()
