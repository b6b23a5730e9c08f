"""Game 1 in whole workers (gametheory.games.resource.integer) against an independent brute force written
here, the discrete-convexity theorem (floor or ceil of the continuous VE), the GNE claim, and bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.games.resource import InverseCost, MM1PoolCost, PDResourceGame
from gametheory.games.resource.integer import (
    best_responses,
    compare_with_rounding,
    integer_equilibria,
    integer_equilibrium,
    integer_optimum,
    integer_price_of_anarchy,
    is_generalized_nash,
    one_step_certificate,
    split_table,
)


# --------------------------------------------------------------------------------------------- brute force
def brute_force(total, step, c_p, c_d, w=(1.0, 1.0)):
    """Plain loops over every full-budget split: the set of one-worker-transfer-stable splits of C_P + C_D
    (integer VE), the set of minimizers of the weighted cost, and both costs. Independent of the module."""
    n = int(total // step)
    vi, social = {}, {}
    for k in range(1, n):
        try:
            a, b = c_p(k * step), c_d((n - k) * step)
        except CapacityExceededError:
            continue
        if math.isfinite(a) and math.isfinite(b):
            vi[k], social[k] = a + b, w[0] * a + w[1] * b

    def stable(k):
        return all(vi[k] <= vi[j] * (1 + 1e-12) for j in (k - 1, k + 1) if j in vi)

    equilibria = [k * step for k in sorted(vi) if stable(k)]
    best = min(social.values())
    optima = [k * step for k in sorted(social) if social[k] <= best * (1 + 1e-12)]
    return equilibria, optima, social


def tabulated(values, step):
    """A pool cost known only at whole workers: values[k - 1] at k workers."""
    return lambda g: float(values[int(round(g / step)) - 1])


decreasing_table = st.lists(st.floats(0.0, 10.0), min_size=9, max_size=9).map(
    lambda d: np.cumsum(d[::-1])[::-1] + 0.5)  # non-increasing, possibly non-convex, possibly flat


@settings(max_examples=80, deadline=None)
@given(tp=decreasing_table, td=decreasing_table, n=st.integers(2, 10), step=st.sampled_from([1, 2, 4, 8]),
       w_d=st.floats(0.05, 20.0))
def test_integer_solutions_match_brute_force_on_random_costs(tp, td, n, step, w_d):
    game = PDResourceGame(n * step, tabulated(tp, step), tabulated(td, step), weights=(1.0, w_d), step=step)
    equilibria, optima, social = brute_force(n * step, step, game.prefill_cost, game.decode_cost, game.weights)
    found = integer_equilibria(game)
    assert [s.split[0] for s in found] == equilibria
    assert integer_equilibrium(game).vi_cost == pytest.approx(min(s.vi_cost for s in found), rel=1e-15)
    opt = integer_optimum(game)
    assert [g for g, _ in opt.ties] == optima
    assert opt.cost == pytest.approx(min(social.values()), rel=1e-14)
    worst = max(social[int(g // step)] for g in equilibria)
    assert integer_price_of_anarchy(game) == pytest.approx(max(worst / opt.cost, 1.0), rel=1e-12)
    for s in found + [opt]:
        assert s.certificate.ok and sum(s.split) == n * step and sum(s.workers) == n


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.5, 500.0), b=st.floats(0.5, 500.0), n=st.integers(2, 40), step=st.sampled_from([1, 4, 8]))
def test_convex_costs_integer_ve_is_floor_or_ceil_of_continuous(a, b, n, step):
    """Separable convex costs: C_P + C_D is convex on the budget line, so its grid minimizers sit at the
    grid points bracketing the continuous minimizer (the VE), and the brute force agrees."""
    game = PDResourceGame(n * step, InverseCost(a), InverseCost(b), step=step)
    cmp = compare_with_rounding(game)
    # floor/ceil is None when the continuous VE lies within one worker of an end: then the end split wins
    bracket = {x for x in (cmp.floor, cmp.ceil) if x is not None}
    assert set(cmp.integer_splits) <= bracket and not cmp.neither_rounding
    assert list(cmp.integer_splits) == brute_force(n * step, step, InverseCost(a), InverseCost(b))[0]


def test_rounding_the_continuous_ve_can_pick_the_wrong_split():
    """C_P = 5/G_P, C_D = 100/G_D, 64 GPUs in workers of 8: the continuous VE G_P = 64 sqrt5/(sqrt5 + 10)
    = 11.70 GPUs rounds to 8 (1 worker), but 2 workers (16 GPUs) have the lower C_P + C_D."""
    game = PDResourceGame(64, InverseCost(5.0), InverseCost(100.0), step=8)
    cmp = compare_with_rounding(game)
    assert cmp.continuous == pytest.approx(64 * math.sqrt(5) / (math.sqrt(5) + 10), rel=1e-10)
    assert (cmp.floor, cmp.ceil, cmp.nearest) == (8.0, 16.0, 8.0)
    assert cmp.integer_splits == (16.0,) and cmp.differs and not cmp.neither_rounding
    s8, s16 = 5 / 8 + 100 / 56, 5 / 16 + 100 / 48  # the brute-force comparison, by hand
    assert s16 < s8 and cmp.excess == pytest.approx(s8 / s16 - 1, rel=1e-12)
    # rounding's excess vanishes when the grid is fine
    assert not compare_with_rounding(PDResourceGame(64, InverseCost(5.0), InverseCost(100.0), step=1)).differs


def test_optimum_rounding_and_poa_on_the_paper_example():
    game = PDResourceGame(24, InverseCost(400.0), InverseCost(30.0), weights=(1.0, 128.0), step=4)
    eq, opt = integer_equilibrium(game), integer_optimum(game)
    assert eq.split == (20.0, 4.0) and opt.split == (8.0, 16.0)
    assert eq.cost == pytest.approx(400 / 20 + 128 * 30 / 4) and opt.cost == pytest.approx(400 / 8 + 128 * 30 / 16)
    assert integer_price_of_anarchy(game) == pytest.approx(eq.cost / opt.cost)
    cmp = compare_with_rounding(game, kind="optimum")
    assert cmp.integer.split == opt.split and cmp.floor <= cmp.continuous <= cmp.ceil
    # the multiplier bracket of the VE: next-worker gains <= mu <= last-worker losses
    lo, hi = eq.multiplier
    assert lo == pytest.approx(30 / 4 - 30 / 8) and hi == pytest.approx(400 / 16 - 400 / 20) and lo <= hi


def test_certificate_fails_off_equilibrium():
    game = PDResourceGame(64, InverseCost(5.0), InverseCost(100.0), step=8)
    n_star = integer_equilibrium(game).workers[0]
    assert one_step_certificate(game, n_star).ok
    for n in (n_star - 1, n_star + 1):
        cert = one_step_certificate(game, n)
        assert not cert.ok and cert.value > 0
    with pytest.raises(InvalidInputError, match="not a split"):
        one_step_certificate(game, 8)


def test_every_full_budget_split_is_a_generalized_nash_equilibrium():
    """Non-increasing costs + shared budget: each full-budget split is a GNE; with strictly decreasing costs
    no other split is (a pool could add a worker); flat stretches admit more."""
    step, n = 4, 7
    game = PDResourceGame(n * step, InverseCost(40.0), MM1PoolCost(1.0, 5.0), step=step)
    for k_p, k_d in itertools.product(range(1, n), repeat=2):
        if k_p + k_d > n:
            continue
        feasible = (k_d * step) > 5.0  # the decode M/M/1 pool saturates at 5 GPUs: it needs 2 workers
        expected = feasible and k_p + k_d == n
        assert is_generalized_nash(game, (k_p * step, k_d * step)) == expected, (k_p, k_d)
    assert best_responses(game, "prefill", 8.0) == (20.0,)
    assert best_responses(game, "decode", 24.0) == ()  # 4 GPUs left: the decode pool saturates below 5
    assert best_responses(game, "decode", 16.0) == (12.0,)
    flat = PDResourceGame(16, lambda g: 1.0, InverseCost(8.0), step=4)
    assert is_generalized_nash(flat, (4.0, 12.0)) and is_generalized_nash(flat, (8.0, 8.0))
    assert is_generalized_nash(flat, (4.0, 8.0)) is False  # decode could still grow
    assert best_responses(flat, "prefill", 8.0) == (4.0, 8.0)


def test_vectorized_and_scalar_costs_agree_and_large_grid():
    def mm1_any(g):  # an M/M/1 pool written to accept scalars and arrays
        g = np.asarray(g, dtype=float)
        out = np.where(2.0 * g > 500.0, 1.0 / np.maximum(2.0 * g - 500.0, 1e-300), np.inf)
        return float(out) if out.ndim == 0 else out

    vec = PDResourceGame(1024, lambda g: 3e3 / g, mm1_any, step=8)
    scalar = PDResourceGame(1024, InverseCost(3e3), MM1PoolCost(2.0, 500.0), step=8)
    a, b = split_table(vec), split_table(scalar)
    np.testing.assert_allclose(a.vi_costs[a.feasible], b.vi_costs[b.feasible], rtol=1e-14)
    assert (a.feasible == b.feasible).all() and a.prefill_gpus.size == 127
    assert integer_equilibrium(vec).split == integer_equilibrium(scalar).split
    # the continuous VE lies within one worker of the integer one
    assert abs(integer_equilibrium(scalar).split[0] - scalar.equilibrium().split[0]) < 8
    # an array call that disagrees with the scalar calls is not trusted
    liar = PDResourceGame(1024, lambda g: np.zeros_like(g) if np.ndim(g) else 3e3 / g,
                          MM1PoolCost(2.0, 500.0), step=8)
    np.testing.assert_array_equal(split_table(liar).prefill_costs, b.prefill_costs)


def test_single_feasible_split_is_certified():
    """12 GPUs in workers of 4: the prefill M/M/1 pool needs > 5 GPUs, the decode pool > 3, so 2P/1D is the
    only stable split; no transfer exists, the certificate is 0 and both solutions are that split."""
    game = PDResourceGame(12, MM1PoolCost(1.0, 5.0), MM1PoolCost(1.0, 3.0), weights=(1.0, 9.0), step=4)
    eq, opt = integer_equilibrium(game), integer_optimum(game)
    assert eq.split == opt.split == (8.0, 4.0) and eq.n_splits == 1
    assert eq.certificate.value == 0.0 and eq.certificate.ok and integer_price_of_anarchy(game) == 1.0
    assert not one_step_certificate(game, 1).ok  # the saturated split next to it fails


def test_leftover_gpus_stay_idle():
    game = PDResourceGame(30, InverseCost(10.0), InverseCost(10.0), step=8)  # 3 workers, 6 GPUs idle
    table = split_table(game)
    assert table.workers == 3 and list(table.prefill_gpus) == [8, 16] and list(table.decode_gpus) == [16, 8]


def test_bad_input():
    with pytest.raises(InvalidInputError, match="cannot hold one prefill and one decode worker"):
        split_table(PDResourceGame(12, InverseCost(1.0), InverseCost(1.0)), step=8)
    with pytest.raises(InvalidInputError, match="step"):
        split_table(PDResourceGame(12, InverseCost(1.0), InverseCost(1.0)), step=2.5)
    with pytest.raises(InvalidInputError, match="prefill_cost must not increase"):
        integer_equilibrium(PDResourceGame(16, lambda g: g, InverseCost(1.0), step=4))
    with pytest.raises(InvalidInputError, match="decode_cost.*NaN"):
        integer_equilibrium(PDResourceGame(16, InverseCost(1.0), lambda g: math.nan, step=4))
    with pytest.raises(CapacityExceededError, match="no split"):  # load above what the whole budget serves
        integer_equilibrium(PDResourceGame(16, MM1PoolCost(1.0, 10.0), MM1PoolCost(1.0, 10.0), step=4))
    with pytest.raises(InvalidInputError, match="player"):
        best_responses(PDResourceGame(16, InverseCost(1.0), InverseCost(1.0)), "router", 4)
    with pytest.raises(InvalidInputError, match="kind"):
        compare_with_rounding(PDResourceGame(16, InverseCost(1.0), InverseCost(1.0), step=4), kind="median")


@pytest.mark.parametrize("rate", [25.0, 300.0])
def test_serving_game_on_the_shipped_profile_matches_brute_force(rate):
    """Llama-3.1-70B TP4 on B200 (shipped profile), 24 GPUs in TP4 workers: enumeration = brute force."""
    from gametheory.serving.pool_costs import serving_game
    from gametheory.serving.profiles import load_profile

    game = serving_game(load_profile("b200_llama31_70b_tp4_fp8_trtllm"), 24, rate, 128, 128)
    equilibria, optima, social = brute_force(24, game.step, game.prefill_cost, game.decode_cost, game.weights)
    assert [s.split[0] for s in integer_equilibria(game)] == equilibria
    assert [g for g, _ in integer_optimum(game).ties] == optima
    # the continuous VE and optimum lie within one worker of the integer ones (convex costs on this grid)
    assert abs(integer_equilibrium(game).split[0] - game.equilibrium().split[0]) < game.step
    assert abs(integer_optimum(game).split[0] - game.optimum().split[0]) < game.step
