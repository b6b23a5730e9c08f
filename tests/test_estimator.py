import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from gametheory.errors import InvalidInputError
from gametheory.serving.estimator import poa_hat, poa_hat_log, read_log_csv


def test_hand_built_known_value():
    # window 1: costs [[1,3],[2,1]]; router picks (1,1) -> actual 3+1 = 4; opt = 1+1 = 2
    # window 2: [[2,2],[5,1]]; router picks (0,1) -> 3; opt = 3
    costs = np.array([[1, 3], [2, 1], [2, 2], [5, 1]], float)
    r = poa_hat(costs, [1, 1, 0, 1])
    assert r.value == pytest.approx(7 / 5)
    np.testing.assert_allclose(r.windows, [2.0, 1.0])
    assert r.median == pytest.approx(1.5)


def test_exactly_one_when_router_optimal_per_window():
    rng = np.random.default_rng(1)
    costs = rng.random((60, 4))
    choices = np.empty(60, int)
    for j in range(15):
        _, cols = linear_sum_assignment(costs[4 * j : 4 * j + 4])
        choices[4 * j : 4 * j + 4] = cols
    r = poa_hat(costs, choices)
    assert r.value == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(r.windows, 1.0)


def test_below_one_from_matching_constraint():
    # Both requests are cheapest on worker 0; the router sends both there (cost 2),
    # but a matching must use worker 1 once (cost 1 + 10 = 11): PoA-hat = 2/11 < 1.
    costs = np.array([[1, 10], [1, 10]], float)
    r = poa_hat(costs, [0, 0])
    assert r.value == pytest.approx(2 / 11)


def test_permutation_fast_path_matches_hungarian():
    rng = np.random.default_rng(2)
    for m in (2, 3, 5, 6):
        costs = rng.random((m * 40 + 3, m))
        ch = rng.integers(0, m, costs.shape[0])
        r = poa_hat(costs, ch)
        ref = []
        for s in range(0, costs.shape[0], m):
            blk = costs[s : s + m]
            a, b = linear_sum_assignment(blk)
            ref.append(blk[a, b].sum())
        np.testing.assert_allclose(r.opt, ref, rtol=1e-12)


def test_window_larger_than_workers_brute_force():
    rng = np.random.default_rng(3)
    costs = rng.random((4, 2))
    r = poa_hat(costs, [0, 0, 0, 0], window=4)
    best = min(sum(costs[i, a[i]] for i in range(4)) for a in itertools.product(range(2), repeat=4)
               if max(a.count(0), a.count(1)) <= 2)
    assert r.opt[0] == pytest.approx(best)


def test_bootstrap_interval_contains_value():
    rng = np.random.default_rng(4)
    c = rng.random((500, 5))
    r = poa_hat(c, rng.integers(0, 5, 500), n_boot=100)
    assert r.interval[0] <= r.value <= r.interval[1]


def test_bad_input():
    with pytest.raises(InvalidInputError):
        poa_hat(np.array([[1.0, np.nan]]), [0])
    with pytest.raises(InvalidInputError):
        poa_hat(np.ones((2, 2)), [0, 2])
    with pytest.raises(InvalidInputError):
        poa_hat(-np.ones((2, 2)), [0, 1])


def test_csv_reader(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("arrival_ms,choice,cost_0,cost_1\n0,1,1,3\n1,1,2,1\n")
    costs, ch = read_log_csv(p)
    assert costs.shape == (2, 2)
    assert poa_hat(costs, ch).value == pytest.approx(2.0)
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    with pytest.raises(InvalidInputError):
        read_log_csv(tmp_path / "bad.csv")
    (tmp_path / "total.csv").write_text("choice,cost_0,cost_1,cost_total\n1,1,3,4\n")
    with pytest.raises(InvalidInputError, match="cost_total"):
        read_log_csv(tmp_path / "total.csv")


def _log(worker, costs, window_costs=None, window=None):
    m = np.asarray(costs).shape[1]
    fields = [("worker", "i4"), ("costs", "f8", (m,))]
    if window_costs is not None:
        fields += [("window", "i8"), ("window_costs", "f8", (m,))]
    log = np.zeros(len(worker), dtype=fields)
    log["worker"], log["costs"] = worker, costs
    if window_costs is not None:
        log["window_costs"] = window_costs
        log["window"] = np.arange(len(worker)) // m if window is None else window
    return log


def test_log_uses_window_frozen_costs_not_decision_time_costs():
    # One window, 2 workers, state frozen at its start: request 0 costs [1, 3], request 1 costs [1, 5].
    # Request 0 goes to worker 0 (its minimum). Request 1 then sees worker 0 loaded by request 0: decision-time
    # costs [6, 5], so it picks worker 1, its decision-time minimum.
    # Decision-time costs: ACTUAL = 1 + 5 = 6, OPT = min(1 + 5, 3 + 6) = 6 -> PoA-hat 1 (<= 1 by construction).
    # Frozen costs: ACTUAL = 1 + 5 = 6, OPT = min(1 + 5, 3 + 1) = 4 -> PoA-hat 1.5.
    log = _log([0, 1], [[1, 3], [6, 5]], window_costs=[[1, 3], [1, 5]])
    assert poa_hat(log["costs"], log["worker"]).value == pytest.approx(1.0)
    assert poa_hat_log(log).value == pytest.approx(1.5)
    # a log without window_costs (a user's log) falls back to costs
    assert poa_hat_log(_log([0, 1], [[1, 3], [6, 5]])).value == pytest.approx(1.0)


def test_log_windows_are_aligned_after_a_partial_warmup_slice():
    # 3 windows of m = 2 with window-frozen rows; slicing off 1 request (a warm-up not a multiple of m) must drop
    # the rest of window 0 instead of pairing its request 1 with window 1's request 2 (two different states).
    wc = np.array([[1, 9], [9, 1], [1, 2], [1, 4], [3, 1], [2, 1]], float)
    worker = np.array([0, 1, 1, 1, 1, 1])
    log = _log(worker, wc, window_costs=wc)
    full = poa_hat_log(log)  # ACTUAL per window 2, 2 + 4, 1 + 1; OPT 2, 2 + 1, 1 + 2
    assert full.value == pytest.approx((2 + 6 + 2) / (2 + 3 + 3))
    sliced = poa_hat_log(log[1:])
    np.testing.assert_allclose(sliced.windows, full.windows[1:])
    assert sliced.value == pytest.approx((6 + 2) / (3 + 3))
    misaligned = poa_hat(wc[1:], worker[1:])  # what the consecutive chunking would give without alignment
    assert misaligned.value != pytest.approx(sliced.value)
    # a trailing partial window is kept (one frozen state); a filtered log is refused; window must be m
    assert poa_hat_log(log[1:5]).windows.size == 2
    with pytest.raises(InvalidInputError, match="consecutive"):
        poa_hat_log(log[[0, 1, 2, 4, 5]])
    with pytest.raises(InvalidInputError, match="window"):
        poa_hat_log(log, window=4)
