"""Serving-derived pool costs of Game 1 (gametheory.serving.pool_costs): queueing formulas against textbook
values and a discrete-event simulation, Little's law against its closed form for a linear step curve, the
analytic derivatives against finite differences, and the game on the shipped B200 profile against brute force."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.games.resource import InverseCost, PDResourceGame, kkt_certificate
from gametheory.games.resource.decode_pool import little_decode_itl_ms
from gametheory.serving import pool_costs as pc
from gametheory.serving.profiles import load_profile

PROFILE = "b200_llama31_70b_tp4_fp8_trtllm"


def simulate_mdc_wait(rate, service, servers, customers=60_000, seed=1):
    """Mean wait in queue of FCFS M/D/c by direct simulation (earliest-free server; Kiefer-Wolfowitz)."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / rate, customers))
    free = [0.0] * servers
    waits = np.empty(customers)
    for i, t in enumerate(arrivals):
        start = max(t, heapq.heappop(free))
        waits[i] = start - t
        heapq.heappush(free, start + service)
    return float(waits[customers // 10:].mean())  # drop the warm-up


def test_md1_textbook_value():
    # rho = 0.5, s = 1 s: W_q = rho s / (2 (1 - rho)) = 0.5 s
    assert pc.md1_wait(0.5, 1.0) == pytest.approx(0.5, rel=1e-12)
    # M/M/1 is M/G/1 with scv 1: W_q = rho s / (1 - rho)
    assert pc.md1_wait(0.8, 1.0, scv=1.0) == pytest.approx(4.0, rel=1e-12)


def test_erlang_c_known_value_and_mdc_reduces_to_md1():
    assert pc.erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)
    assert pc.erlang_c(1, 0.6) == pytest.approx(0.6, rel=1e-12)  # M/M/1: P(wait) = rho
    assert pc.mdc_wait(0.7, 1.0, 1) == pytest.approx(pc.md1_wait(0.7, 1.0), rel=1e-12)


def test_erlang_c_refuses_an_unstable_or_malformed_queue():
    # a >= c has no steady state: the formula gives C = 1 at a = c and values above 1 beyond -> a named error
    with pytest.raises(CapacityExceededError):
        pc.erlang_c(2, 2.0)
    with pytest.raises(InvalidInputError, match="servers"):
        pc.erlang_c(0, 0.5)
    with pytest.raises(InvalidInputError, match="offered"):
        pc.erlang_c(2, -0.1)
    assert pc.erlang_c(3, 0.0) == 0.0


@pytest.mark.parametrize("servers,rho", [(3, 0.7), (6, 0.85)])
def test_mdc_cosmetatos_against_simulation(servers, rho):
    rate, service = rho * servers, 1.0
    approx = pc.mdc_wait(rate, service, servers)
    simulated = simulate_mdc_wait(rate, service, servers)
    assert approx == pytest.approx(simulated, rel=0.08), (approx, simulated)


def test_prefill_ttft_md1_derivative_and_errors():
    cost = pc.PrefillTTFT(service_ms=10.0, rate_rps=150.0, gpus_per_worker=4)
    g = 12.0  # 3 workers, rho = 0.5
    assert cost.utilisation(g) == pytest.approx(0.5)
    assert cost(g) == pytest.approx(10.0 + 0.5 * 10.0 / (2 * 0.5), rel=1e-12)
    h = 1e-5
    assert cost.derivative(g) == pytest.approx((cost(g + h) - cost(g - h)) / (2 * h), rel=1e-6)
    with pytest.raises(CapacityExceededError, match="150"):
        cost(6.0)  # 1.5 workers, offered load 1.5 Erlangs
    with pytest.raises(InvalidInputError, match="fewer than one worker"):
        cost(3.0)
    with pytest.raises(InvalidInputError, match="queue"):
        pc.PrefillTTFT(10.0, 1.0, 4, queue="mm1")
    with pytest.raises(InvalidInputError, match="mg1"):
        pc.PrefillTTFT(10.0, 1.0, 4, queue="md1", service_scv=1.0)


def test_prefill_ttft_mdc_is_piecewise_linear_between_workers():
    cost = pc.PrefillTTFT(service_ms=10.0, rate_rps=250.0, gpus_per_worker=4, queue="mdc")
    w3 = 10.0 + 1000.0 * pc.mdc_wait(250.0, 0.01, 3)
    w4 = 10.0 + 1000.0 * pc.mdc_wait(250.0, 0.01, 4)
    assert cost(12.0) == pytest.approx(w3, rel=1e-12) and cost(16.0) == pytest.approx(w4, rel=1e-12)
    assert cost(13.0) == pytest.approx(0.75 * w3 + 0.25 * w4, rel=1e-12)
    assert cost.derivative(13.0) == pytest.approx((w4 - w3) / 4, rel=1e-12)
    with pytest.raises(CapacityExceededError):
        cost(9.0)  # floor(2.25) = 2 workers hold 2.5 Erlangs


def test_little_fixed_point_matches_closed_form_for_linear_steps():
    a, c = 8.0, 0.05  # step(b) = a + c b ms
    rate, osl = 40.0, 128  # requests/s per worker
    itl = little_decode_itl_ms(lambda b: a + c * np.asarray(b, dtype=float), rate, osl, 1000.0)
    b = rate * osl * a / (1000.0 - rate * osl * c)  # b = r L (a + c b) / 1000
    assert itl == pytest.approx(a + c * b, rel=1e-10)
    # no fixed point when r L c >= 1000 (the batch grows without bound): saturated
    assert little_decode_itl_ms(lambda b: a + c * np.asarray(b, dtype=float), 200.0, osl, 1000.0) == math.inf


def test_decode_itl_little_law_derivative_and_saturation():
    cost = pc.DecodeITL(step_ms=lambda b: 8.0 + 0.05 * np.asarray(b, dtype=float) ** 1.5, rate_rps=20.0,
                        output_tokens=128, gpus_per_worker=4, max_batch=256.0)
    for g in (8.0, 12.0, 20.0):
        itl, n = cost(g), g / 4
        assert cost.batch(g) == pytest.approx(20.0 / n * 128 * itl / 1000.0, rel=1e-12)
        assert cost.step_ms(cost.batch(g)) == pytest.approx(itl, rel=1e-9)  # the batch is a fixed point
        h = 1e-4
        assert cost.derivative(g) == pytest.approx((cost(g + h) - cost(g - h)) / (2 * h), rel=1e-5)
    with pytest.raises(CapacityExceededError, match="decode pool"):
        cost(4.0)


def test_serving_game_on_profile_against_brute_force():
    profile = load_profile(PROFILE)
    game = pc.serving_game(profile, 24, 150.0, 128, 128)
    assert game.step == 4 and game.min_gpus == (4.0, 4.0) and game.weights == (1.0, 128.0)
    eq, opt = game.equilibrium(), game.optimum()
    assert eq.certificate.ok and opt.certificate.ok
    grid = np.linspace(*game.domain, 2001)
    sums = [sum(game.pool_costs(g)) for g in grid]
    social = [game.social_cost(g) for g in grid]
    assert sum(eq.pool_costs) <= min(sums) + 1e-9
    assert opt.cost <= min(social) + 1e-9
    dp, dd = game.marginals(eq.split[0])
    assert dp == pytest.approx(dd, rel=1e-7)  # Proposition 1: equal marginal improvement per GPU
    assert game.price_of_anarchy() > 1.0
    assert pc.convexity_violations(game.prefill_cost, 4, 20) == []
    assert pc.convexity_violations(game.decode_cost, 4, 20) == []


def test_serving_game_infeasible_budget_names_the_pools():
    profile = load_profile(PROFILE)
    with pytest.raises(CapacityExceededError, match="prefill pool needs more than"):
        pc.serving_game(profile, 24, 800.0, 128, 128).equilibrium()


def test_pool_regime_and_saturation_rate():
    cost = pc.PrefillTTFT(service_ms=10.0, rate_rps=50.0, gpus_per_worker=4)
    assert pc.saturation_rate(cost, 8.0) == pytest.approx(200.0, rel=1e-5)  # 2 workers x 100 req/s
    regime, utilisation, (lo, hi) = pc.pool_regime(cost, 8.0)
    assert regime == "below" and utilisation == pytest.approx(0.25, rel=1e-5) and 0 < lo <= hi < 200.0


class KinkedCost:
    """C(g) = max(20 - 2g, 8 - 0.5g): convex, decreasing, a kink at g = 8; its derivative is one-sided."""

    def __call__(self, g):
        return max(20 - 2 * g, 8 - 0.5 * g)

    def derivative(self, g):
        return -2.0 if g < 8 else -0.5


def test_kink_gets_a_subgradient_certificate():
    # C_D = 64/g has slope -1 at g = 8, between the kink's one-sided slopes -2 and -0.5: the VE sits on the kink
    game = PDResourceGame(16.0, KinkedCost(), lambda g: 64.0 / g)
    eq = game.equilibrium()
    assert eq.split[0] == pytest.approx(8.0, abs=1e-9)
    assert eq.certificate.kind == "kkt_subgradient" and eq.certificate.ok
    assert not kkt_certificate(game, 8.01).ok


def test_slo_goodput_matches_the_md1_closed_form():
    # prefill: s = 10 ms, 2 workers; TTFT = s (1 + rho / (2 (1 - rho))) <= 20 ms  <=>  rho <= 2/3  <=>  133.3 req/s
    prefill = pc.PrefillTTFT(service_ms=10.0, rate_rps=1.0, gpus_per_worker=4)
    decode = pc.DecodeITL(step_ms=lambda b: 5.0 + 0.01 * np.asarray(b, dtype=float), rate_rps=1.0,
                          output_tokens=128, gpus_per_worker=4, max_batch=512.0)
    game = PDResourceGame(16.0, prefill, decode, step=4, min_gpus=(4.0, 4.0))
    assert pc.slo_goodput_rps(game, 8.0, 20.0, 1e6) == pytest.approx(400.0 / 3.0, rel=1e-5)
    # with a fast prefill the ITL SLO binds: ITL = 5 + 0.01 b <= 6 -> b = 100 = (r / 2) 128 x 6 / 1000 over 2 workers
    fast_prefill = PDResourceGame(16.0, pc.PrefillTTFT(1.0, 1.0, 4), decode, step=4, min_gpus=(4.0, 4.0))
    assert pc.slo_goodput_rps(fast_prefill, 8.0, 1e6, 6.0) == pytest.approx(2 * 100 * 1000 / (128 * 6.0), rel=1e-5)
    assert pc.slo_goodput_rps(game, 8.0, 9.0, 1e6) == 0.0  # an idle prefill already misses a 9 ms TTFT SLO
    table = pc.goodput_splits(game, 20.0, 6.0, reference_prefill_gpus=4.0)
    assert list(table.prefill_gpus) == [4.0, 8.0, 12.0]
    assert table.best_goodput_rps == max(table.goodput_rps) and table.loss >= 1.0
    with pytest.raises(InvalidInputError, match="rate_rps"):
        pc.slo_goodput_rps(PDResourceGame(8.0, InverseCost(1.0), InverseCost(1.0)), 4.0, 1.0, 1.0)


def test_md1_prefill_cost_has_a_cvxpy_form_that_agrees_with_brent():
    import cvxpy as cp

    cost = pc.PrefillTTFT(service_ms=10.0, rate_rps=150.0, gpus_per_worker=4, queue="mg1", service_scv=0.5)
    g = cp.Variable()
    g.value = 13.0
    assert cost.cvxpy(g).value == pytest.approx(cost(13.0), rel=1e-12)
    game = PDResourceGame(24.0, cost, InverseCost(40.0), weights=(1.0, 5.0), min_gpus=(4.0, 4.0))
    for solve in (game.equilibrium, game.optimum):
        fast, second = solve(), solve(method="cvxpy")
        assert second.split[0] == pytest.approx(fast.split[0], rel=1e-4)
    with pytest.raises(InvalidInputError, match="mdc"):
        pc.PrefillTTFT(10.0, 150.0, 4, queue="mdc").cvxpy(g)
