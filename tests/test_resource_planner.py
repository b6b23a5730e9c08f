"""Planner dynamics of Game 1 (gametheory.games.resource.planner): lag on a ramp against targets computed
here by brute force, no cycle with a stale load, the hand-derived cycle with stale metrics, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.games.dynamics import planner_dynamics as loop
from gametheory.games.resource import InverseCost, MM1PoolCost, PDResourceGame
from gametheory.games.resource.planner import ResourcePlannerModel


def planner_dynamics(game_at, rates, initial=None, delay=0, observe="load", interval_s=180.0, target="equilibrium"):
    """Game 1's Planner: the one Planner loop on the Game-1 model (the old call shape, for these tests)."""
    return loop(ResourcePlannerModel(game_at, target=target), rates, initial, delay=delay, observe=observe,
                interval_s=interval_s)

TOTAL, STEP = 128, 4  # 32 workers of 4 GPUs


def prefill_bound(rate):
    """Prefill load grows with the rate (M/M/1 pool, 0.5 requests/s per GPU); decode work is fixed."""
    return PDResourceGame(TOTAL, MM1PoolCost(0.5, rate), InverseCost(2.0), step=STEP)


def brute_target(rate):
    """Prefill workers minimizing C_P + C_D at ``rate``, by plain enumeration (the integer VE for these
    convex costs)."""
    best, arg = math.inf, None
    for n in range(1, TOTAL // STEP):
        g_p = n * STEP
        if 0.5 * g_p <= rate:
            continue
        value = 1 / (0.5 * g_p - rate) + 2.0 / (TOTAL - g_p)
        if value < best:
            best, arg = value, n
    return arg


RAMP = np.concatenate([np.full(2, 5.0), np.linspace(5.0, 40.0, 8), np.full(12, 40.0)])


def test_lag_on_a_ramp():
    res = planner_dynamics(prefill_bound, RAMP, interval_s=30.0)
    targets = [brute_target(r) for r in RAMP]
    assert res.target_workers.tolist() == targets
    n = res.prefill_workers
    assert n[0] == targets[0] and np.all(np.abs(np.diff(n)) <= 1)  # one worker per interval
    assert res.lag_workers.tolist() == (n - np.array(targets)).tolist()
    # the target climbs ~2.5 workers per interval, the Planner 1: it falls behind, then catches up
    assert res.lag_workers.min() <= -3 and res.max_lag_workers >= 3
    assert res.lag_intervals.max() >= 2
    assert res.lag_workers[-1] == 0 and not res.oscillating
    lagging = res.lag_workers < 0
    at_target = [sum(prefill_bound(r).pool_costs(t * STEP))
                 for r, t in zip(RAMP[lagging], res.target_workers[lagging], strict=True)]
    assert np.all(res.objective_costs[lagging] > np.array(at_target))
    assert res.times_s[-1] == 30.0 * (RAMP.size - 1)
    # a stale load (delay 2) only adds lag
    late = planner_dynamics(prefill_bound, RAMP, delay=2)
    assert late.lag_workers.min() < res.lag_workers.min() and late.lag_workers[-1] == 0 and not late.oscillating


@pytest.mark.parametrize("delay", [0, 1, 2, 3])
def test_stale_load_never_cycles_under_constant_load(delay):
    """observe='load': every move strictly lowers C_P + C_D at the (constant) load, so no cycle exists."""
    res = planner_dynamics(prefill_bound, np.full(30, 20.0), initial=1, delay=delay)
    assert not res.oscillating and res.prefill_workers[-1] == brute_target(20.0)
    assert np.all(np.diff(res.prefill_workers) >= 0)


@pytest.mark.parametrize("delay,period", [(1, 6), (2, 10), (3, 14)])
def test_stale_metrics_cycle_around_the_equilibrium(delay, period):
    """observe='metrics' with delay d: at the VE n* the metrics still show the split of d intervals ago, so
    the Planner keeps moving d more workers, holds one extra interval, and walks back: the cycle
    n*, n*+1, ..., n*+d, n*+d, n*+d-1, ..., n*-d, n*-d, ... has period 4d + 2 and amplitude d (derived by
    hand from the rule; the costs are strictly convex so the direction always points at n*)."""
    res = planner_dynamics(prefill_bound, np.full(60, 20.0), initial=1, delay=delay, observe="metrics")
    n_star = brute_target(20.0)
    assert res.oscillating and len(res.oscillations) == 1
    osc = res.oscillations[0]
    assert osc.period == period and osc.amplitude == delay and osc.targets == (n_star,)
    assert set(osc.cycle) == set(range(n_star - delay, n_star + delay + 1))
    tail = res.prefill_workers[osc.start:]
    assert np.array_equal(tail[period:], tail[:-period])  # it really repeats
    # delay 0 (fresh metrics) is the same as observing the load: it settles
    assert not planner_dynamics(prefill_bound, np.full(60, 20.0), initial=1, observe="metrics").oscillating


def test_load_jump_saturates_the_lagging_pool():
    """After a jump from 5 to 40 requests/s the prefill pool needs more than 80 GPUs (20 workers); the
    Planner holds 17 and adds one per interval: the pool is saturated (infinite cost) until it catches up."""
    trace = np.concatenate([np.full(3, 5.0), np.full(12, 40.0)])
    res = planner_dynamics(prefill_bound, trace)
    saturated = ~np.isfinite(res.prefill_costs)
    assert saturated.any() and np.all(res.prefill_workers[saturated] * STEP * 0.5 <= 40.0)
    assert np.all(res.moves[saturated] == 1) and res.lag_workers[-1] == 0


def test_optimum_target_follows_the_weighted_cost():
    """target='optimum': the Planner descends w_P C_P + w_D C_D; its targets are the brute-force minimizers
    of the weighted cost, which differ from the VE's, and it reaches them once the load holds."""
    def weighted(rate):
        return PDResourceGame(TOTAL, MM1PoolCost(0.5, rate), InverseCost(2.0), weights=(1.0, 20.0), step=STEP)

    def brute(rate):
        ok = [n for n in range(1, TOTAL // STEP) if 0.5 * n * STEP > rate]
        return min(ok, key=lambda n: 1 / (0.5 * n * STEP - rate) + 20.0 * 2.0 / (TOTAL - n * STEP))

    res = planner_dynamics(weighted, RAMP, target="optimum")
    assert res.target == "optimum" and res.target_workers.tolist() == [brute(r) for r in RAMP]
    assert res.target_workers[-1] != brute_target(RAMP[-1]) and res.lag_workers[-1] == 0
    assert res.lag_workers.min() < 0 and np.all(np.abs(np.diff(res.prefill_workers)) <= 1)


def test_bad_input():
    with pytest.raises(InvalidInputError, match="loads"):
        planner_dynamics(prefill_bound, [5.0, -1.0])
    with pytest.raises(InvalidInputError, match="delay"):
        planner_dynamics(prefill_bound, [5.0], delay=-1)
    with pytest.raises(InvalidInputError, match="observe"):
        planner_dynamics(prefill_bound, [5.0], observe="forecast")
    with pytest.raises(InvalidInputError, match="target"):
        planner_dynamics(prefill_bound, [5.0], target="median")
    with pytest.raises(InvalidInputError, match="initial"):
        planner_dynamics(prefill_bound, [5.0], initial=32)
    with pytest.raises(InvalidInputError, match="one fixed budget"):
        planner_dynamics(lambda r: PDResourceGame(64 + r, InverseCost(1.0), InverseCost(1.0), step=4), [1.0, 2.0])
    with pytest.raises(InvalidInputError, match="PDResourceGame"):
        planner_dynamics(lambda r: None, [1.0])
    with pytest.raises(CapacityExceededError):  # a load no split can serve
        planner_dynamics(prefill_bound, [5.0, 70.0])
