"""The coupled system (paper section 4.4) against brute force and its own fixed-point definition."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.games import coupled as cg


def prefill_ms(tokens):
    return 5.0 + 0.05 * tokens


def decode_ms(batch, context):
    return 8.0 * (1 + (batch / 128) ** 2)


def small(workers=4, rates=(20.0, 20.0, 20.0), slots=1, **kw):
    return cg.CoupledSystem(
        workers=workers, rates=rates, prefill_ms=prefill_ms, decode_step_ms=decode_ms,
        input_tokens=128, prefix_tokens=96, output_tokens=64, cache_slots=slots, **kw,
    )


def wardrop_by_definition(work, flows, rates, marginal=False, rtol=1e-7):
    """Every used worker of a class costs the class's minimum (and flows meet the demand)."""
    rho = (work * flows).sum(axis=0)
    unit = 1 / (1 - rho) ** 2 if marginal else 1 / (1 - rho)
    cost = work * unit
    np.testing.assert_allclose(flows.sum(axis=1), rates, rtol=1e-12)
    for k in range(len(rates)):
        used = flows[k] > 1e-9 * rates[k]
        assert cost[k, used].max() <= cost[k].min() * (1 + rtol)


def test_single_class_symmetric_closed_form():
    # One class, n identical uncached workers: rho = r s / n on each, TTFT = s / (1 - rho).
    system = small(workers=5, rates=(30.0,), slots=0)
    s = prefill_ms(128) / 1000
    for n in (1, 2, 4):
        state = cg.route(system, np.zeros((1, n), bool))
        rho = 30.0 * s / n
        np.testing.assert_allclose(state.utilisation, rho, rtol=1e-12)
        assert state.mean_ttft_ms == pytest.approx(1000 * s / (1 - rho), rel=1e-12)


@pytest.mark.parametrize("objective", ["equilibrium", "optimum"])
def test_projection_matches_cvxpy_and_definition(objective):
    rng = np.random.default_rng(3)
    for _ in range(25):
        k, n = rng.integers(1, 4), rng.integers(1, 4)
        rates = tuple(rng.uniform(1, 25, size=k))
        system = small(workers=n + 1, rates=rates)
        cache = rng.random((k, n)) < 0.5
        try:
            fast = cg.route(system, cache, objective)
        except ConvergenceError:
            continue
        slow = cg.route(system, cache, objective, method="cvxpy")
        work = system.work(cache)
        wardrop_by_definition(work, fast.flows, np.array(rates), marginal=objective == "optimum")
        assert fast.mean_ttft_ms == pytest.approx(slow.mean_ttft_ms, rel=1e-7)
        np.testing.assert_allclose(fast.utilisation, slow.utilisation, atol=1e-7)


def test_saturated_prefill_pool_raises():
    system = small(rates=(200.0, 200.0, 200.0))
    with pytest.raises(ConvergenceError, match="saturated"):
        cg.route(system, np.zeros((3, 1), bool))


def test_cache_best_response_keeps_heaviest_class():
    system = small(slots=2)
    flows = np.array([[5.0, 1.0], [3.0, 3.0], [1.0, 6.0]])
    cache = cg.cache_best_response(system, flows)
    assert cache.T.astype(int).tolist() == [[1, 1, 0], [0, 1, 1]]


def test_decode_itl_closed_form_for_affine_step():
    # ITL(b) = a + c b; Little: b = q ITL(b) with q = (Lambda / n) * OSL / 1000 -> b = q a / (1 - q c).
    a, c = 6.0, 0.02
    system = cg.CoupledSystem(
        workers=3, rates=(40.0,), prefill_ms=prefill_ms, decode_step_ms=lambda b, ctx: a + c * b,
        output_tokens=100,
    )
    q = 40.0 / 2 * 100 / 1000
    b = q * a / (1 - q * c)
    assert cg.decode_itl_ms(system, 2) == pytest.approx(a + c * b, rel=1e-9)
    assert cg.decode_itl_ms(system, 0) == math.inf


def brute_force_optimum(system):
    """Every split and every cache matrix (no symmetry reduction), routing by cvxpy."""
    k = system.classes
    best = math.inf
    for n in range(1, system.workers):
        itl = cg.decode_itl_ms(system, system.workers - n)
        if not math.isfinite(itl):
            continue
        subsets = [s for r in range(system.cache_slots + 1) for s in itertools.combinations(range(k), r)]
        for combo in itertools.product(subsets, repeat=n):
            cache = np.zeros((k, n), bool)
            for w, s in enumerate(combo):
                cache[list(s), w] = True
            try:
                state = cg.route(system, cache, "optimum", method="cvxpy")
            except ConvergenceError:
                continue
            best = min(best, state.mean_ttft_ms + system.output_tokens * itl)
    return best


@pytest.mark.parametrize("rates,slots", [((20.0, 20.0, 20.0), 1), ((35.0, 10.0), 1), ((15.0, 25.0, 5.0), 2)])
def test_joint_optimum_matches_brute_force(rates, slots):
    system = small(workers=4, rates=rates, slots=slots)
    opt = cg.joint_optimum(system)
    assert opt.cost_ms == pytest.approx(brute_force_optimum(system), rel=1e-8)


def test_coupled_equilibrium_is_a_fixed_point_by_definition():
    system = small(workers=5, rates=(25.0, 15.0, 10.0))
    for start in range(1, 5):
        eq = cg.coupled_equilibrium(system, start)
        assert eq.converged and all(c.ok for c in eq.certificates)
        # Game 3: the routing is a Wardrop equilibrium of the cache it sits on
        wardrop_by_definition(system.work(eq.cache), eq.routing.flows, np.array(system.rates))
        # Game 2: the cache is a best response to that routing
        assert np.array_equal(cg.cache_best_response(system, eq.routing.flows, eq.cache), eq.cache)
        # Game 1: no +-1 Planner move lowers TTFT + ITL
        for n in (eq.n_prefill - 1, eq.n_prefill + 1):
            if 1 <= n <= system.workers - 1:
                ttft, itl, *_ = cg._pool_costs(system, n, cg._resize(eq.cache, n), 100)
                assert ttft + itl >= eq.ttft_ms + eq.itl_ms - 1e-9


def test_poa_of_system_and_games_at_least_one():
    rng = np.random.default_rng(11)
    for _ in range(6):
        rates = tuple(rng.uniform(5, 30, size=3))
        system = small(workers=4, rates=rates, slots=1)
        poa = cg.price_of_anarchy(system)
        for value in (poa.system, poa.system_best, poa.game1, poa.game2, poa.game3):
            assert value >= 1 - 1e-9
        assert poa.system >= poa.system_best


def test_cold_start_herding_gives_a_worse_equilibrium():
    # With cold caches and symmetric routing, every worker caches the same template (ties): a coupled
    # equilibrium worse than the one reached by growing the pool one cold worker at a time.
    system = small(workers=4)
    herd = cg.coupled_equilibrium(system, 3)
    grown = cg.coupled_equilibrium(system, 1)
    assert herd.converged and grown.converged
    assert sorted(herd.cache.sum(axis=1).tolist()) == [0, 0, herd.n_prefill]  # all hold one template
    assert herd.cost_ms > grown.cost_ms


def test_planner_delay_and_gain_cause_oscillation():
    system = small(workers=8, rates=(20.0, 20.0, 20.0, 20.0))
    trace = np.r_[np.full(10, 0.5), np.full(20, 2.0), np.full(20, 0.6)]
    calm = cg.planner_dynamics(system, trace, delay=0, gain=1)
    assert not calm.oscillating
    assert calm.n_prefill[-1] == calm.target[-1]
    assert cg.planner_dynamics(system, trace, delay=1, gain=1).oscillating
    assert cg.planner_dynamics(system, trace, delay=0, gain=4).oscillating


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"workers": 1}, "workers"),
        ({"rates": (-1.0, 2.0)}, "rates"),
        ({"rates": (0.0,)}, "positive total"),
        ({"cache_slots": -1}, "cache_slots"),
        ({"prefix_tokens": 500}, "prefix_tokens"),
    ],
)
def test_bad_input(kwargs, match):
    args = dict(workers=4, rates=(1.0,), prefill_ms=prefill_ms, decode_step_ms=decode_ms)
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=match):
        cg.CoupledSystem(**args)


def test_bad_start_and_trace():
    system = small()
    with pytest.raises(InvalidInputError, match="n_prefill"):
        cg.coupled_equilibrium(system, 0)
    with pytest.raises(InvalidInputError, match="cache"):
        cg.coupled_equilibrium(system, 2, cache=np.zeros((3, 3), bool))
    with pytest.raises(InvalidInputError, match="delay"):
        cg.planner_dynamics(system, [1.0], delay=-1)
