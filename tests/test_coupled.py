"""The coupled system (paper section 4.4) against brute force and its own fixed-point definition."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.games.coupled import system as cg


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


def test_every_split_saturated_raises_capacity_exceeded():
    # 4 workers, 3 x 500 req/s. Independent capacities of this toy system: decode step 8 (1 + (b/128)^2) ms,
    # 64 output tokens -> a decode worker carries at most max_b 1000 b / (64 x 8 (1 + (b/128)^2)) = 125 req/s
    # (at b = 128); prefill: uncached 11.4 ms, hit 6.6 ms, n workers cache at most n classes, so the pool's
    # busy time per second is >= 1500 x 0.0114 - 0.0048 x 500 min(n, 3) and must stay below n.
    system = small(workers=4, rates=(500.0, 500.0, 500.0))
    pre = {n: n * 1500 / (1500 * 0.0114 - 0.0048 * 500 * min(n, 3)) for n in (1, 2, 3)}
    cap = max(min(pre[n], 125.0 * (4 - n)) for n in (1, 2, 3))
    for start in (1, 2, 3):
        with pytest.raises(CapacityExceededError, match="saturates every P/D split of 4 workers") as info:
            cg.coupled_equilibrium(system, start)
        assert info.value.load == pytest.approx(1500.0)
        assert info.value.capacity == pytest.approx(cap, rel=1e-4)  # 243.9 req/s at 2P/2D
    assert cg.decode_capacity_rps(system, 1) == pytest.approx(125.0, rel=1e-4)


def test_stuck_in_saturation_reports_saturated_not_converged():
    # 6 workers, 3 x 100 req/s: 1P (prefill) and 4P, 5P (decode: 1 or 2 x 125 req/s < 300) cannot carry
    # the load, 3P can. The Planner's +-1 step sees no finite neighbour from 1P or 5P, so it stops there.
    system = small(workers=6, rates=(100.0, 100.0, 100.0))
    ok = cg.coupled_equilibrium(system, 3)
    assert ok.converged and math.isfinite(ok.cost_ms) and all(c.ok for c in ok.certificates)
    decode_bound = cg.coupled_equilibrium(system, 5)  # only the decode pool is saturated
    assert decode_bound.status == "saturated" and not decode_bound.converged
    assert decode_bound.n_prefill == 5 and math.isinf(decode_bound.itl_ms) and math.isinf(decode_bound.cost_ms)
    assert decode_bound.routing is not None and math.isfinite(decode_bound.ttft_ms)  # prefill pool is fine
    assert decode_bound.certificates == ()
    prefill_bound = cg.coupled_equilibrium(system, 1)
    assert prefill_bound.status == "saturated" and prefill_bound.routing is None
    assert math.isinf(prefill_bound.ttft_ms)
    # the PoA ignores the saturated starts and keeps the converged ones
    poa = cg.price_of_anarchy(system)
    assert {e.status for e in poa.equilibria} == {"converged", "saturated"}
    assert math.isfinite(poa.system) and poa.system >= 1 - 1e-9


def test_routing_infeasible_cache_is_a_named_error_not_a_solver_crash():
    # one prefill worker, 4 classes, 1 slot: the loose bound (every request a hit) says feasible, the exact
    # least-max-utilisation LP says no (sum_k r_k s_k >= 1); formerly Clarabel raised SolverError here.
    system = cg.CoupledSystem(workers=3, rates=(8.12, 6.35, 21.13, 113.99), prefill_ms=prefill_ms,
                              decode_step_ms=decode_ms, input_tokens=128, prefix_tokens=120, output_tokens=64)
    cache = np.array([[False], [False], [False], [True]])  # the busiest class cached, as Game 2 would
    rates = np.array(system.rates)
    assert rates.sum() < 1 / system.work(cache).min()  # the loose bound passes
    assert float((system.work(cache)[:, 0] * rates).sum()) >= 1  # but one worker must do all the work
    with pytest.raises(ConvergenceError, match="least maximum utilisation"):
        cg.route(system, cache)
    with pytest.raises(CapacityExceededError, match="every P/D split"):
        cg.coupled_equilibrium(system, 1)


def test_route_when_the_equalizing_shift_is_tiny():
    # Here the root of one equalizing shift is ~5e-15 req/s: Brent's method needs ~160 iterations to reach it
    # at rtol 4 eps (scipy's default cap of 100 formerly raised a bare RuntimeError).
    system = cg.CoupledSystem(workers=3, rates=(54.0858, 37.749, 110.2977), prefill_ms=prefill_ms,
                              decode_step_ms=decode_ms, input_tokens=128, prefix_tokens=64, output_tokens=64)
    cache = np.array([[True, False], [False, False], [True, False]])
    state = cg.route(system, cache)
    assert state.certificate.ok
    wardrop_by_definition(system.work(cache), state.flows, np.array(system.rates))


def test_coarse_planner_step_cycles_and_the_cycle_is_a_loop_of_the_dynamics():
    # The Planner evaluates the +-1 step but moves gain = 4 workers that way: it overshoots, and the coupled
    # dynamics revisit a (split, caches) state. Check by definition that the reported loop IS a loop: from
    # each state, settling routing/caching and taking one Planner step leads to the next state, cyclically.
    system = small(workers=8, rates=(20.0, 20.0, 20.0, 20.0))
    eq = cg.coupled_equilibrium(system, 4, gain=4)
    assert eq.status == "cycle" and not eq.converged and eq.certificates == ()
    loop = list(eq.cycle)
    assert len(loop) >= 2 and len({n for n, _ in loop}) >= 2
    for i, (n, key_cache) in enumerate(loop):
        cache = np.array(key_cache, dtype=bool).T  # stored per worker
        ttft, itl, _, settled, _ = cg._pool_costs(system, n, cache, 200)
        assert np.array_equal(settled, cache) and math.isfinite(ttft + itl)  # a settled, unsaturated state
        move, improvement = cg._planner_move(system, n, cache, ttft + itl, 200)
        assert move != 0 and improvement > 0  # not a fixed point: the +-1 step would help
        n_next = int(np.clip(n + 4 * move, 1, system.workers - 1))
        _, _, _, settled_next, _ = cg._pool_costs(system, n_next, cg._resize(cache, n_next), 200)
        assert cg._key(n_next, settled_next) == loop[(i + 1) % len(loop)]
    # the same system with the Planner's unit step converges, certified
    calm = cg.coupled_equilibrium(system, 4, gain=1)
    assert calm.converged and all(c.ok for c in calm.certificates)
    with pytest.raises(InvalidInputError, match="gain"):
        cg.coupled_equilibrium(system, 4, gain=0)


# ---------------------------------------------------------------------------------------------------
# The Planner loop at a constant load (planner_orbit) and its classification by regime
# ---------------------------------------------------------------------------------------------------


def _planner_direction(system, n_seen, cache_seen, ttft_seen, itl_seen):
    """The Planner's rule, written out: the +-1 move (new worker cold) that most lowers TTFT + ITL, or 0."""
    current = ttft_seen + itl_seen
    options = {}
    for m in (+1, -1):
        n = n_seen + m
        if 1 <= n <= system.workers - 1:
            ttft, itl, *_ = cg._pool_costs(system, n, cg._resize(cache_seen, n), 50)
            options[m] = ttft + itl
    best = min(options, key=options.get)
    return best if not math.isfinite(current) or options[best] < current - 1e-9 * max(1.0, abs(current)) else 0


@pytest.mark.parametrize("delay,gain,status", [(0, 1, "converged"), (1, 1, "oscillating"), (1, 2, "oscillating"),
                                               (3, 1, "oscillating")])
def test_planner_orbit_classification_by_definition(delay, gain, status):
    system = small(workers=8, rates=(40.0, 40.0, 40.0, 40.0))
    orbit = cg.planner_orbit(system, 1, delay=delay, gain=gain)
    assert orbit.status == status
    t0, p = orbit.transient, orbit.period
    assert len(orbit.splits) == t0 + p == len(orbit.caches)
    # every interval follows the rule from the interval `delay` back (settled caches, costs), applied to the current
    for t in range(len(orbit.splits) - 1):
        ttft, itl, _, settled, _ = cg._pool_costs(system, int(orbit.splits[t]), orbit.caches[t], 50)
        assert np.array_equal(settled, orbit.caches[t])  # the stored cache is settled
        assert ttft == orbit.ttft_ms[t]  # same settling, same numbers (inf when saturated)
        s = max(t - delay, 0)
        move = _planner_direction(system, int(orbit.splits[s]), orbit.caches[s], orbit.ttft_ms[s], orbit.itl_ms[s])
        assert orbit.splits[t + 1] == np.clip(orbit.splits[t] + gain * move, 1, system.workers - 1)
    # an independent, longer run of the trace-driven loop repeats the cycle with the reported period
    long = cg.planner_dynamics(system, np.ones(t0 + 4 * p + 3), 1, delay=delay, gain=gain)
    np.testing.assert_array_equal(long.n_prefill[: t0 + p], orbit.splits)
    for t in range(t0, len(long.n_prefill) - p):
        assert long.n_prefill[t + p] == long.n_prefill[t]
        assert long.ttft_ms[t + p] == long.ttft_ms[t] or not math.isfinite(long.ttft_ms[t])
    if status == "converged":
        # a fixed point of the Planner's rule at a finite cost: no +-1 move lowers TTFT + ITL
        n, cache = int(orbit.splits[-1]), orbit.caches[-1]
        assert p == 1 and orbit.amplitude == 0 and math.isfinite(orbit.mean_cost_ms)
        assert _planner_direction(system, n, cache, orbit.ttft_ms[-1], orbit.itl_ms[-1]) == 0
        for m in (-1, 1):
            ttft, itl, *_ = cg._pool_costs(system, n + m, cg._resize(cache, n + m), 50)
            assert ttft + itl >= orbit.ttft_ms[-1] + orbit.itl_ms[-1] - 1e-9
    else:
        # the cycle is not a fixed point: its splits move, by at most the clipped gain per interval
        cyc = orbit.cycle_splits
        assert p >= 2 and orbit.amplitude == cyc.max() - cyc.min() >= 1
        assert np.abs(np.diff(np.r_[cyc, cyc[0]])).max() <= gain
        finite = np.isfinite(orbit.cost_ms[t0:])
        assert orbit.saturated_share == pytest.approx(1 - finite.mean())
        if finite.all():
            assert orbit.mean_cost_ms == pytest.approx(orbit.cost_ms[t0:].mean())
        else:
            assert math.isinf(orbit.mean_cost_ms)


def test_planner_orbit_saturated_when_no_split_carries_the_load():
    # 4 workers, 3 x 500 req/s: every split is saturated (test_every_split_saturated_raises_capacity_exceeded)
    system = small(workers=4, rates=(500.0, 500.0, 500.0))
    for delay in (0, 1):
        orbit = cg.planner_orbit(system, 1, delay=delay)
        assert orbit.status == "saturated" and orbit.saturated_share == 1.0
        assert not np.isfinite(orbit.cost_ms).any()
    with pytest.raises(InvalidInputError, match="gain"):
        cg.planner_orbit(system, 1, gain=0)
    with pytest.raises(InvalidInputError, match="workers >= 3"):
        cg.planner_orbit(small(workers=2), 1)


def test_dynamics_by_regime_rows_are_consistent_on_the_70b_profile():
    pytest.importorskip("matplotlib")
    from gametheory.reproduce import coupled as rc

    rows = rc.dynamics_by_regime(fractions=(0.3, 0.9, 1.1), delays=(0, 1), gains=(1,))
    assert len(rows) == 6
    for r in rows:
        assert len(r["cycle"]) == r["period"] and r["path"].endswith(r["cycle"])
        assert len(r["path"]) == r["transient"] + r["period"]
        if r["status"] == "converged":
            assert r["period"] == 1 and r["amplitude"] == 0 and r["cost_vs_opt"] >= 1 - 1e-9
        elif r["status"] == "oscillating":
            assert r["period"] >= 2
            assert r["cost_vs_opt"] >= 1 - 1e-9 or math.isinf(r["cost_vs_opt"])
        assert math.isinf(r["cost_vs_opt"]) == (r["saturated_share"] > 0)
    # past one prefill worker's capacity (load 1.1) the 1P split is saturated; below it (0.3) none is
    by_load = {r["load_fraction"]: r for r in rows}
    assert by_load[0.3]["saturated_splits"] == "none" and "1P" in by_load[1.1]["saturated_splits"].split(",")


def test_340b_tp8_system_and_its_poa():
    from gametheory.reproduce import coupled as rc
    from gametheory.serving.profiles import load_profile

    profile = load_profile(rc.PROFILE_340B)
    system = rc.system_at(100.0, rc.TEMPLATES, profile, rc.WORKERS_340B)
    assert system.workers == 3 and system.output_tokens == rc.OUTPUT_TOKENS
    # the setup is decode-bound: 2 decode workers carry less than one prefill worker with every prefix cached
    cap, at = rc.system_capacity(rc.TEMPLATES, profile, rc.WORKERS_340B)
    assert at == "1P/2D" and cap == pytest.approx(cg.decode_capacity_rps(system, 2))
    assert cap < 1.0 / system.service_s[1]
    for slots, rate in ((rc.TEMPLATES, 0.9 * cap), (2, 60.0)):
        s = rc.system_at(rate, slots, profile, rc.WORKERS_340B)
        poa = cg.price_of_anarchy(s, starts=(1, 2))
        assert poa.system >= 1 - 1e-9 and min(poa.game1, poa.game2, poa.game3) >= 1 - 1e-9
        assert poa.optimum.routing.certificate.ok
        converged = [e for e in poa.equilibria if e.converged]
        assert converged and all(len(e.certificates) == 3 and all(c.ok for c in e.certificates) for e in converged)


def test_price_of_anarchy_finite_when_a_split_carries_the_load():
    # the README system at 3 x 70 req/s: every cold start herds into a saturated split, but 2P/2D with one
    # template cached per prefill worker carries the load; the PoA must be finite and the added start certified
    system = cg.CoupledSystem(
        workers=4, rates=(70.0, 70.0, 70.0),
        prefill_ms=lambda tokens: 5.0 + 0.05 * tokens,
        decode_step_ms=lambda batch, context: 8.0 * (1 + (batch / 128) ** 2),
        prefix_tokens=96, output_tokens=64, cache_slots=1,
    )
    poa = cg.price_of_anarchy(system)
    assert all(e.status == "saturated" for e in poa.equilibria[:3])
    assert math.isfinite(poa.optimum.cost_ms) and poa.optimum.n_prefill == 2
    for value in (poa.system, poa.system_best, poa.game1, poa.game2, poa.game3):
        assert math.isfinite(value) and value >= 1 - 1e-12
    added = poa.equilibria[-1]
    assert added.converged and all(c.ok for c in added.certificates)
