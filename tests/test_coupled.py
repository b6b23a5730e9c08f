"""The coupled system (paper section 4.4) against brute force and its own fixed-point definition, through its
public API: the routing game's multiclass variant, the caching game's best response and the one Planner."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.games import coupled as cg
from gametheory.games.dynamics import planner_dynamics, planner_orbit, planner_step
from gametheory.results import Result


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


def route(system, cache, kind="equilibrium", method="projection"):
    """The routing Result with (classes, workers) flows and the utilisation, for the checks below."""
    res = system.route(cache, kind, method)
    flows = res.flows.T
    return res, flows, (system.work(cache) * flows).sum(axis=0)


def test_single_class_symmetric_closed_form():
    # One class, n identical uncached workers: rho = r s / n on each, TTFT = s / (1 - rho).
    system = small(workers=5, rates=(30.0,), slots=0)
    s = prefill_ms(128) / 1000
    for n in (1, 2, 4):
        res, _, rho_w = route(system, np.zeros((1, n), bool))
        rho = 30.0 * s / n
        np.testing.assert_allclose(rho_w, rho, rtol=1e-12)
        assert res.mean_ttft_ms == pytest.approx(1000 * s / (1 - rho), rel=1e-12)
        assert isinstance(res, Result) and res.certificate.ok


@pytest.mark.parametrize("kind", ["equilibrium", "optimum"])
def test_projection_matches_cvxpy_and_definition(kind):
    rng = np.random.default_rng(3)
    for _ in range(25):
        k, n = rng.integers(1, 4), rng.integers(1, 4)
        rates = tuple(rng.uniform(1, 25, size=k))
        system = small(workers=n + 1, rates=rates)
        cache = rng.random((k, n)) < 0.5
        try:
            fast, flows, rho = route(system, cache, kind)
        except CapacityExceededError:
            continue
        slow, _, rho_slow = route(system, cache, kind, method="cvxpy")
        wardrop_by_definition(system.work(cache), flows, np.array(rates), marginal=kind == "optimum")
        assert fast.mean_ttft_ms == pytest.approx(slow.mean_ttft_ms, rel=1e-7)
        np.testing.assert_allclose(rho, rho_slow, atol=1e-7)


def test_saturated_prefill_pool_raises():
    system = small(rates=(200.0, 200.0, 200.0))
    with pytest.raises(CapacityExceededError, match="saturated"):
        system.route(np.zeros((3, 1), bool))


def test_cache_best_response_keeps_heaviest_class():
    system = small(slots=2)
    flows = np.array([[5.0, 1.0], [3.0, 3.0], [1.0, 6.0]])
    cache = system.cache_best_response(flows)
    assert cache.T.astype(int).tolist() == [[1, 1, 0], [0, 1, 1]]


def test_cache_best_response_is_the_best_placement_and_keeps_a_tied_cache():
    """Against brute force: the placement saves the most busy time (flow x saving) a worker can; among tied
    placements the current one is kept (a strict-improvement rule); a class with no flow is not held."""
    rng = np.random.default_rng(5)
    for _ in range(100):
        k, n, slots = int(rng.integers(2, 6)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        system = small(workers=n + 1, rates=(1.0,) * k, slots=slots)
        flows = np.where(rng.random((k, n)) < 0.3, 0.0, rng.integers(0, 4, (k, n)).astype(float))
        current = np.zeros((k, n), bool)
        for w in range(n):
            current[rng.choice(k, size=int(rng.integers(0, min(slots, k) + 1)), replace=False), w] = True
        cache = system.cache_best_response(flows, current)
        for w in range(n):
            best = max(sum(flows[c, w] for c in sub) for r in range(min(slots, k) + 1)
                       for sub in itertools.combinations(range(k), r))
            assert flows[cache[:, w], w].sum() == pytest.approx(best)
            assert cache[:, w].sum() <= slots and not (cache[:, w] & (flows[:, w] == 0) & ~current[:, w]).any()
            if flows[current[:, w], w].sum() == pytest.approx(best):
                assert np.array_equal(cache[:, w], current[:, w])


def test_decode_itl_closed_form_for_affine_step():
    # ITL(b) = a + c b; Little: b = q ITL(b) with q = (Lambda / n) * OSL / 1000 -> b = q a / (1 - q c).
    a, c = 6.0, 0.02
    system = cg.CoupledSystem(
        workers=3, rates=(40.0,), prefill_ms=prefill_ms, decode_step_ms=lambda b, ctx: a + c * b,
        output_tokens=100,
    )
    q = 40.0 / 2 * 100 / 1000
    b = q * a / (1 - q * c)
    assert system.decode_itl_ms(2) == pytest.approx(a + c * b, rel=1e-9)
    assert system.decode_itl_ms(0) == math.inf
    # capacity: 1000 b / (100 (a + c b)) rises to 10 / c = 500 req/s per worker as b grows; at b = 512, closed form
    assert system.decode_capacity_rps(1) == pytest.approx(1000 * 512 / (100 * (a + c * 512)), rel=1e-9)


def brute_force_optimum(system):
    """Every split and every cache matrix (no symmetry reduction), routing by cvxpy."""
    k = system.classes
    best = math.inf
    for n in range(1, system.workers):
        itl = system.decode_itl_ms(system.workers - n)
        if not math.isfinite(itl):
            continue
        subsets = [s for r in range(system.cache_slots + 1) for s in itertools.combinations(range(k), r)]
        for combo in itertools.product(subsets, repeat=n):
            cache = np.zeros((k, n), bool)
            for w, s in enumerate(combo):
                cache[list(s), w] = True
            try:
                res = system.route(cache, "optimum", method="cvxpy")
            except CapacityExceededError:
                continue
            best = min(best, res.mean_ttft_ms + system.output_tokens * itl)
    return best


@pytest.mark.parametrize("rates,slots", [((20.0, 20.0, 20.0), 1), ((35.0, 10.0), 1), ((15.0, 25.0, 5.0), 2)])
def test_joint_optimum_matches_brute_force(rates, slots):
    system = small(workers=4, rates=rates, slots=slots)
    opt = system.optimum()
    assert opt.cost == pytest.approx(brute_force_optimum(system), rel=1e-8)
    assert opt.status == "exact" and opt.certificate.kind == "kkt_residual" and opt.certificate.ok


def test_coupled_equilibrium_is_a_fixed_point_by_definition():
    system = small(workers=5, rates=(25.0, 15.0, 10.0))
    for start in range(1, 5):
        eq = system.equilibrium(n_prefill=start)
        assert all(c.ok for c in eq.certificates) and eq.certificate.ok
        flows = eq.routing.flows.T
        # Game 3: the routing is a Wardrop equilibrium of the cache it sits on
        wardrop_by_definition(system.work(eq.cache), flows, np.array(system.rates))
        # Game 2: the cache is a best response to that routing
        assert np.array_equal(system.cache_best_response(flows, eq.cache), eq.cache)
        # Game 1: no +-1 Planner move lowers TTFT + ITL
        for n in (eq.n_prefill - 1, eq.n_prefill + 1):
            if 1 <= n <= system.workers - 1:
                ttft, itl, *_ = system.settle(n, cg.resize(eq.cache, n))
                assert ttft + itl >= eq.ttft_ms + eq.itl_ms - 1e-9


def test_poa_of_system_and_games_at_least_one():
    rng = np.random.default_rng(11)
    for _ in range(6):
        rates = tuple(rng.uniform(5, 30, size=3))
        system = small(workers=4, rates=rates, slots=1)
        poa = system.poa_by_game()
        for value in (poa.system, poa.system_best, poa.game1, poa.game2, poa.game3):
            assert value >= 1 - 1e-9
        assert poa.system >= poa.system_best and system.price_of_anarchy() == poa.system


def test_cold_start_herding_gives_a_worse_equilibrium():
    # With cold caches and symmetric routing, every worker caches the same template (ties): a coupled
    # equilibrium worse than the one reached by growing the pool one cold worker at a time.
    system = small(workers=4)
    herd = system.equilibrium(n_prefill=3)
    grown = system.equilibrium(n_prefill=1)
    assert sorted(herd.cache.sum(axis=1).tolist()) == [0, 0, herd.n_prefill]  # all hold one template
    assert herd.cost > grown.cost


def test_planner_delay_and_gain_cause_oscillation():
    system = small(workers=8, rates=(20.0, 20.0, 20.0, 20.0))
    model = system.planner_model()
    trace = np.r_[np.full(10, 0.5), np.full(20, 2.0), np.full(20, 0.6)]
    calm = planner_dynamics(model, trace, 1, delay=0, gain=1)
    assert not calm.oscillating
    assert calm.prefill_workers[-1] == calm.target_workers[-1]
    assert planner_dynamics(model, trace, 1, delay=1, gain=1).oscillating
    assert planner_dynamics(model, trace, 1, delay=0, gain=4).oscillating


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
        system.equilibrium(n_prefill=0)
    with pytest.raises(InvalidInputError, match="cache"):
        system.equilibrium(n_prefill=2, cache=np.zeros((3, 3), bool))
    with pytest.raises(InvalidInputError, match="method"):
        system.equilibrium("gradient")
    with pytest.raises(InvalidInputError, match="delay"):
        planner_dynamics(system.planner_model(), [1.0], 1, delay=-1)


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
            system.equilibrium(n_prefill=start)
        assert info.value.load == pytest.approx(1500.0)
        assert info.value.capacity == pytest.approx(cap, rel=1e-9)  # 243.9 req/s at 2P/2D
    assert system.decode_capacity_rps(1) == pytest.approx(125.0, rel=1e-9)
    assert system.capacity() == (pytest.approx(cap, rel=1e-9), 2)
    with pytest.raises(CapacityExceededError):
        system.optimum()


def test_stuck_in_saturation_is_not_an_equilibrium():
    # 6 workers, 3 x 100 req/s: 1P (prefill) and 4P, 5P (decode: 1 or 2 x 125 req/s < 300) cannot carry
    # the load, 3P can. From 5P the saturated decode pool gains workers until the load is carried.
    system = small(workers=6, rates=(100.0, 100.0, 100.0))
    ok = system.equilibrium(n_prefill=3)
    assert math.isfinite(ok.cost) and all(c.ok for c in ok.certificates)
    for start in (1, 5):
        try:
            eq = system.equilibrium(n_prefill=start)
        except ConvergenceError as exc:  # herded into a saturated split: no equilibrium from this start
            assert "saturated" in str(exc) or "cycle" in str(exc)
        else:
            assert math.isfinite(eq.cost) and 2 <= eq.n_prefill <= 3
    assert math.isfinite(system.price_of_anarchy()) and system.price_of_anarchy() >= 1 - 1e-9


def test_routing_infeasible_cache_is_a_named_error_not_a_solver_crash():
    # one prefill worker, 4 classes, 1 slot: the loose bound (every request a hit) says feasible, the exact
    # least-max-utilisation LP says no (sum_k r_k s_k >= 1).
    system = cg.CoupledSystem(workers=3, rates=(8.12, 6.35, 21.13, 113.99), prefill_ms=prefill_ms,
                              decode_step_ms=decode_ms, input_tokens=128, prefix_tokens=120, output_tokens=64)
    cache = np.array([[False], [False], [False], [True]])  # the busiest class cached, as Game 2 would
    rates = np.array(system.rates)
    assert rates.sum() < 1 / system.work(cache).min()  # the loose bound passes
    assert float((system.work(cache)[:, 0] * rates).sum()) >= 1  # but one worker must do all the work
    with pytest.raises(CapacityExceededError, match="least maximum utilisation"):
        system.route(cache)
    with pytest.raises(CapacityExceededError, match="every P/D split"):
        system.equilibrium(n_prefill=1)


def test_route_when_the_equalizing_shift_is_tiny():
    # Here the root of one equalizing shift is ~5e-15 req/s: Brent's method needs ~160 iterations to reach it
    # at rtol 4 eps (scipy's default cap of 100 formerly raised a bare RuntimeError).
    system = cg.CoupledSystem(workers=3, rates=(54.0858, 37.749, 110.2977), prefill_ms=prefill_ms,
                              decode_step_ms=decode_ms, input_tokens=128, prefix_tokens=64, output_tokens=64)
    cache = np.array([[True, False], [False, False], [True, False]])
    res, flows, _ = route(system, cache)
    assert res.certificate.ok
    wardrop_by_definition(system.work(cache), flows, np.array(system.rates))


def test_coarse_planner_step_cycles():
    # The Planner evaluates the +-1 step but moves gain = 4 workers that way: it overshoots, and the coupled
    # dynamics revisit a (split, caches) state: no equilibrium, a ConvergenceError that says so. The same
    # system with the Planner's unit step converges, certified.
    system = small(workers=8, rates=(20.0, 20.0, 20.0, 20.0))
    with pytest.raises(ConvergenceError, match="cycle"):
        system.equilibrium(n_prefill=4, gain=4)
    calm = system.equilibrium(n_prefill=4, gain=1)
    assert all(c.ok for c in calm.certificates)
    with pytest.raises(InvalidInputError, match="gain"):
        system.equilibrium(n_prefill=4, gain=0)


# ---------------------------------------------------------------------------------------------------
# The Planner loop at a constant load (planner_orbit) and its classification by regime
# ---------------------------------------------------------------------------------------------------


def _direction(system, n_seen, cache_seen, ttft_seen, itl_seen):
    """The Planner's rule, written out: a saturated pool gains a worker; else the +-1 move (new worker cold)
    that most lowers TTFT + ITL, or 0."""
    if not math.isfinite(ttft_seen) and math.isfinite(itl_seen):
        return 1 if n_seen < system.workers - 1 else 0
    if math.isfinite(ttft_seen) and not math.isfinite(itl_seen):
        return -1 if n_seen > 1 else 0
    current = ttft_seen + itl_seen
    options = {}
    for m in (+1, -1):
        n = n_seen + m
        if 1 <= n <= system.workers - 1:
            ttft, itl, *_ = system.settle(n, cg.resize(cache_seen, n), 50)
            options[m] = ttft + itl
    best = min(options, key=options.get)
    if not math.isfinite(current):
        return best
    return best if options[best] < current - 1e-9 * abs(current) else 0


@pytest.mark.parametrize("delay,gain,status", [(0, 1, "converged"), (1, 1, "oscillating"), (1, 2, "oscillating"),
                                               (3, 1, "oscillating")])
def test_planner_orbit_classification_by_definition(delay, gain, status):
    system = small(workers=8, rates=(40.0, 40.0, 40.0, 40.0))
    orbit = planner_orbit(system.planner_model(), 1.0, 1, delay=delay, gain=gain)
    assert orbit.status == status
    t0, p = orbit.transient, orbit.period
    n, caches = orbit.prefill_workers, orbit.states
    assert len(n) == t0 + p == len(caches)
    # every interval follows the rule from the interval `delay` back (settled caches, costs), applied to the current
    for t in range(len(n) - 1):
        ttft, itl, _, settled, _ = system.settle(int(n[t]), caches[t], 50)
        assert np.array_equal(settled, caches[t])  # the stored cache is settled
        assert ttft == orbit.prefill_costs[t]  # same settling, same numbers (inf when saturated)
        s = max(t - delay, 0)
        move = _direction(system, int(n[s]), caches[s], orbit.prefill_costs[s], orbit.decode_costs[s])
        assert n[t + 1] == np.clip(n[t] + gain * move, 1, system.workers - 1)
    # an independent, longer run of the trace-driven loop repeats the cycle with the reported period
    long = planner_dynamics(system.planner_model(), np.ones(t0 + 4 * p + 3), 1, delay=delay, gain=gain)
    np.testing.assert_array_equal(long.prefill_workers[: t0 + p], n)
    for t in range(t0, len(long.prefill_workers) - p):
        assert long.prefill_workers[t + p] == long.prefill_workers[t]
    if status == "converged":
        # a fixed point of the Planner's rule at a finite cost: no +-1 move lowers TTFT + ITL
        cache = caches[-1]
        assert p == 1 and orbit.amplitude == 0 and math.isfinite(orbit.mean_cost)
        assert _direction(system, int(n[-1]), cache, orbit.prefill_costs[-1], orbit.decode_costs[-1]) == 0
        assert planner_step(lambda m: sum(system.settle(m, cg.resize(cache, m), 50)[:2]), int(n[-1]), 1,
                            system.workers - 1) == 0
    else:
        cyc = orbit.cycle_workers
        assert p >= 2 and orbit.amplitude == cyc.max() - cyc.min() >= 1
        assert np.abs(np.diff(np.r_[cyc, cyc[0]])).max() <= gain
        finite = np.isfinite(orbit.social_costs[t0:])
        assert orbit.saturated_share == pytest.approx(1 - finite.mean())
        if finite.all():
            assert orbit.mean_cost == pytest.approx(orbit.social_costs[t0:].mean())
        else:
            assert math.isinf(orbit.mean_cost)


def test_planner_orbit_saturated_when_no_split_carries_the_load():
    system = small(workers=4, rates=(500.0, 500.0, 500.0))
    for delay in (0, 1):
        orbit = planner_orbit(system.planner_model(), 1.0, 1, delay=delay)
        assert orbit.status == "saturated" and orbit.saturated_share == 1.0
        assert not np.isfinite(orbit.social_costs).any()
    with pytest.raises(InvalidInputError, match="gain"):
        planner_orbit(system.planner_model(), 1.0, 1, gain=0)
    with pytest.raises(InvalidInputError, match="two splits"):
        planner_orbit(small(workers=2).planner_model(), 1.0, 1)


# ---------------------------------------------------------------------------------------------------
# The experiments on the measured profiles (gametheory.games.coupled.analysis)
# ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def profiles():
    from gametheory.paper_setup import PROFILE_70B, PROFILE_340B
    from gametheory.serving.profiles import load_profile

    return load_profile(PROFILE_70B), load_profile(PROFILE_340B)


def test_dynamics_by_regime_rows_are_consistent_on_the_70b_profile(profiles):
    rows = cg.dynamics_by_regime(profiles[0], fractions=(0.3, 0.9, 1.1), delays=(0, 1), gains=(1,))
    assert len(rows) == 6
    for r in rows:
        assert len(r["cycle"]) == r["period"] and r["path"].endswith(r["cycle"])
        assert len(r["path"]) == r["transient"] + r["period"] == len(r["path_saturated"])
        if r["status"] == "converged":
            assert r["period"] == 1 and r["amplitude"] == 0 and r["cost_vs_opt"] >= 1 - 1e-9
        elif r["status"] == "oscillating":
            assert r["period"] >= 2
            assert r["cost_vs_opt"] >= 1 - 1e-9 or math.isinf(r["cost_vs_opt"])
        assert math.isinf(r["cost_vs_opt"]) == (r["saturated_share"] > 0)
    # past one prefill worker's capacity (load 1.1) the 1P split is saturated; below it (0.3) none is
    by_load = {r["load_fraction"]: r for r in rows}
    assert by_load[0.3]["saturated_splits"] == "none" and "1P" in by_load[1.1]["saturated_splits"].split(",")


def test_poa_across_load_rows(profiles):
    rows = cg.poa_across_load(profiles[0], [0.2, 0.99], 2)
    cap = cg.capacity_one_prefill(profiles[0])
    for row, f in zip(rows, (0.2, 0.99), strict=True):
        assert row["rate_req_s"] == pytest.approx(f * cap)
        assert min(row["poa_system"], row["poa_game1"], row["poa_game2"], row["poa_game3"]) >= 1 - 1e-9
        if math.isfinite(row["poa_fixed_1p"]):
            assert row["poa_fixed_1p"] == pytest.approx(row["factor_split"] * row["factor_routing_caching"])
    assert rows[0]["opt_split"] == "1P/5D" and math.isinf(rows[1]["poa_fixed_1p"])  # 1P cannot carry 99 %


def test_planner_on_load_step(profiles):
    rows = cg.planner_on_load_step(profiles[0], delays=(0, 1), gains=(1,))
    assert [(r["delay"], r["gain"]) for r in rows] == [(0, 1), (1, 1)]
    for r in rows:
        assert len(r["splits"]) == len(r["targets"]) == 34 and r["splits"][0] == "1"
    assert not rows[0]["oscillating"] and rows[1]["oscillating"]


def test_340b_tp8_system_and_its_poa(profiles):
    from gametheory.paper_setup import OUTPUT_TOKENS, TEMPLATES, WORKERS_340B

    profile = profiles[1]
    system = cg.paper_system(profile, 100.0, TEMPLATES, WORKERS_340B)
    assert system.workers == 3 and system.output_tokens == OUTPUT_TOKENS
    # the best split is 1P/2D, bound by its two decode workers, just below one prefill worker's capacity
    cap, at = system.capacity()
    assert at == 1 and cap == pytest.approx(system.decode_capacity_rps(2))
    assert cap < 1.0 / system.service_s[1]
    rows = cg.poa_across_system_load(profile, [0.5], TEMPLATES, WORKERS_340B)
    assert rows[0]["system_fraction"] == 0.5 and rows[0]["rate_req_s"] == pytest.approx(0.5 * cap)
    for slots, rate in ((TEMPLATES, 0.9 * cap), (2, 60.0)):
        s = cg.paper_system(profile, rate, slots, WORKERS_340B)
        poa = s.poa_by_game(starts=(1, 2))
        assert poa.system >= 1 - 1e-9 and min(poa.game1, poa.game2, poa.game3) >= 1 - 1e-9
        assert poa.optimum.routing.certificate.ok
        assert all(len(e.certificates) == 3 and all(c.ok for c in e.certificates) for e in poa.equilibria)


def test_price_of_anarchy_finite_when_a_split_carries_the_load():
    # the README system at 3 x 70 req/s: every cold start herds into a saturated split, but 2P/2D with one
    # template cached per prefill worker carries the load; the PoA must be finite and the added start certified
    system = cg.CoupledSystem(
        workers=4, rates=(70.0, 70.0, 70.0),
        prefill_ms=lambda tokens: 5.0 + 0.05 * tokens,
        decode_step_ms=lambda batch, context: 8.0 * (1 + (batch / 128) ** 2),
        prefix_tokens=96, output_tokens=64, cache_slots=1,
    )
    poa = system.poa_by_game()
    assert math.isfinite(poa.optimum.cost) and poa.optimum.n_prefill == 2
    for value in (poa.system, poa.system_best, poa.game1, poa.game2, poa.game3):
        assert math.isfinite(value) and value >= 1 - 1e-12
    assert all(all(c.ok for c in e.certificates) for e in poa.equilibria)


def test_routing_next_to_capacity_is_certified():
    # Both workers start at 0.9998 utilisation; class 0 is cached on worker 1. Pairwise projection from the
    # proportional start crawls (the uncached classes must make room first): the routing restarts from the
    # convex program's point and certifies (a CertificateError at gap 1.3e-3 before).
    a, b = 5.1519550836129335, 0.018562584481898833
    rates = (39.454502133107255, 74.18498970896933, 41.591419530653894, 50.44142350735761, 21.72498448706265,
             38.60684886276329)
    system = cg.CoupledSystem(workers=3, rates=rates, prefill_ms=lambda t: a + b * t, decode_step_ms=decode_ms,
                              input_tokens=128, prefix_tokens=8, output_tokens=64, cache_slots=3)
    cache = np.zeros((6, 2), bool)
    cache[0, 1] = True
    res, flows, rho = route(system, cache)
    assert res.certificate.ok and rho.max() < 1
    wardrop_by_definition(system.work(cache), flows, np.array(rates))
