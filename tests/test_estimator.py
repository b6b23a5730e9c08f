import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from gametheory.errors import InvalidInputError
from gametheory.serving.estimator import poa_hat, read_log_csv


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
