import itertools
import math

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from gametheory.errors import InvalidInputError
from gametheory.serving.estimator import (
    aligned_window_rows,
    matching_ratio,
    poa_hat,
    poa_hat_log,
    read_request_log,
)


def _brute_opt(block: np.ndarray, per_worker: int) -> float:
    """Minimum over every assignment of the block's rows to workers with at most per_worker rows per worker."""
    n, m = block.shape
    best = math.inf
    for a in itertools.product(range(m), repeat=n):
        if max(a.count(w) for w in range(m)) <= per_worker:
            best = min(best, sum(block[i, a[i]] for i in range(n)))
    return best


# ---- the paper's form: realized latencies against the frozen model's optimum -------------------------------
def test_paper_form_hand_computation():
    # window 1: model [[10, 30], [20, 10]] -> OPT = 10 + 10 = 20; realized 25 + 35 = 60 -> 3
    # window 2: model [[20, 20], [50, 10]] -> OPT = 30;           realized 15 + 15 = 30 -> 1
    model = np.array([[10, 30], [20, 10], [20, 20], [50, 10]], float)
    r = poa_hat(model, [25, 35, 15, 15])
    assert r.form == "paper"
    np.testing.assert_allclose(r.opt, [20, 30])
    np.testing.assert_allclose(r.actual, [60, 30])
    np.testing.assert_allclose(r.windows, [3.0, 1.0])
    assert r.value == pytest.approx(90 / 50)
    assert r.median == pytest.approx(2.0)
    assert r.p90 == pytest.approx(1.0 + 0.9 * 2.0)


def test_paper_form_opt_is_brute_force_minimum_over_assignments():
    rng = np.random.default_rng(7)
    for m, k in ((2, 2), (3, 3), (2, 5), (3, 4), (4, 4)):
        model = rng.random((3 * k + 1, m)) * 100
        real = rng.random(3 * k + 1) * 100
        r = poa_hat(model, real, window=k)
        ref = [_brute_opt(model[s : s + k], -(-k // m)) for s in range(0, model.shape[0], k)]
        np.testing.assert_allclose(r.opt, ref, rtol=1e-12)
        np.testing.assert_allclose(r.actual, [real[s : s + k].sum() for s in range(0, real.size, k)])


def test_paper_form_is_one_when_realized_equals_the_frozen_optimum():
    rng = np.random.default_rng(1)
    model = rng.random((40, 4)) * 50
    real = np.empty(40)
    for s in range(0, 40, 4):
        rows, cols = linear_sum_assignment(model[s : s + 4])
        real[s + rows] = model[s + rows, cols]
    r = poa_hat(model, real)
    np.testing.assert_allclose(r.windows, 1.0)
    assert r.value == pytest.approx(1.0)


def test_paper_form_grows_with_queueing_the_frozen_model_leaves_out():
    # every request's realized latency = modelled service + a queue wait that grows with the backlog q:
    # PoA-hat = (service + wait) / service exactly when the router's choices are the optimum
    model = np.tile([[100.0, 120.0]], (20, 1))
    for wait in (0.0, 100.0, 900.0):
        real = np.tile([100.0, 120.0], 10) + wait
        assert poa_hat(model, real).value == pytest.approx((220 + 2 * wait) / 220)


def test_inf_not_nan_when_opt_is_zero_and_actual_positive():
    r = poa_hat(np.zeros((2, 2)), [1.0, 2.0])
    assert r.value == math.inf and r.median == math.inf and r.p90 == math.inf
    assert not np.isnan([r.value, r.median, r.p90]).any()
    # 1 of 10 windows infinite: the P90 (between the 9th and 10th order statistics) is inf, the median finite
    model = np.ones((20, 2))
    model[18:] = 0.0
    r = poa_hat(model, np.full(20, 1.0))
    assert r.p90 == math.inf and math.isfinite(r.median) and math.isfinite(r.value)
    assert poa_hat(np.zeros((2, 2)), [0.0, 0.0]).value == 1.0  # 0 / 0 windows count as 1


def test_paper_form_bad_input():
    with pytest.raises(InvalidInputError, match="realized_ms"):
        poa_hat(np.ones((2, 2)), [1.0])
    with pytest.raises(InvalidInputError, match="realized_ms"):
        poa_hat(np.ones((2, 2)), [1.0, np.nan])
    with pytest.raises(InvalidInputError, match="model_ms"):
        poa_hat(np.array([[1.0, -1.0]]), [1.0])
    with pytest.raises(InvalidInputError, match="window"):
        poa_hat(np.ones((2, 2)), [1.0, 1.0], window=0)


# ---- the matching ratio (modelled vs modelled) ---------------------------------------------------------------
def test_matching_hand_built_known_value():
    # window 1: costs [[1,3],[2,1]]; router picks (1,1) -> actual 3+1 = 4; opt = 1+1 = 2
    # window 2: [[2,2],[5,1]]; router picks (0,1) -> 3; opt = 3
    costs = np.array([[1, 3], [2, 1], [2, 2], [5, 1]], float)
    r = matching_ratio(costs, [1, 1, 0, 1])
    assert r.form == "matching"
    assert r.value == pytest.approx(7 / 5)
    np.testing.assert_allclose(r.windows, [2.0, 1.0])
    assert r.median == pytest.approx(1.5)


def test_matching_exactly_one_when_router_optimal_per_window():
    rng = np.random.default_rng(1)
    costs = rng.random((60, 4))
    choices = np.empty(60, int)
    for j in range(15):
        _, cols = linear_sum_assignment(costs[4 * j : 4 * j + 4])
        choices[4 * j : 4 * j + 4] = cols
    r = matching_ratio(costs, choices)
    assert r.value == pytest.approx(1.0, abs=1e-12)


def test_matching_below_one_from_matching_constraint_and_at_most_m():
    # Both requests are cheapest on worker 0; the router sends both there (cost 2),
    # but a matching must use worker 1 once (cost 1 + 10 = 11): ratio = 2/11 < 1.
    assert matching_ratio(np.array([[1, 10], [1, 10]], float), [0, 0]).value == pytest.approx(2 / 11)
    # equal rows: the ratio is at most max / mean <= m whatever the router does
    rng = np.random.default_rng(5)
    for m in (2, 3, 5):
        row = rng.random(m) + 0.01
        costs = np.tile(row, (m, 1))
        worst = matching_ratio(costs, np.full(m, int(np.argmax(row))))
        assert worst.value == pytest.approx(row.max() / row.mean()) and worst.value <= m


def test_permutation_fast_path_matches_hungarian():
    rng = np.random.default_rng(2)
    for m in (2, 3, 5, 6):
        costs = rng.random((m * 40 + 3, m))
        ch = rng.integers(0, m, costs.shape[0])
        r = matching_ratio(costs, ch)
        ref = []
        for s in range(0, costs.shape[0], m):
            blk = costs[s : s + m]
            a, b = linear_sum_assignment(blk)
            ref.append(blk[a, b].sum())
        np.testing.assert_allclose(r.opt, ref, rtol=1e-12)


def test_bootstrap_interval_contains_value():
    rng = np.random.default_rng(4)
    c = rng.random((500, 5))
    r = matching_ratio(c, rng.integers(0, 5, 500), n_boot=100)
    assert r.interval[0] <= r.value <= r.interval[1]
    r = poa_hat(c, rng.random(500), n_boot=100)
    assert r.interval[0] <= r.value <= r.interval[1]


def test_matching_bad_input():
    with pytest.raises(InvalidInputError):
        matching_ratio(np.array([[1.0, np.nan]]), [0])
    with pytest.raises(InvalidInputError):
        matching_ratio(np.ones((2, 2)), [0, 2])
    with pytest.raises(InvalidInputError):
        matching_ratio(-np.ones((2, 2)), [0, 1])


# ---- request logs ---------------------------------------------------------------------------------------------
def test_csv_request_log(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("arrival_ms,worker,latency_ms,ttft_ms,model_ms_0,model_ms_1,model_ttft_ms_0,model_ttft_ms_1\n"
                 "0,1,60,12,10,30,5,6\n1,1,40,30,20,10,6,5\n")
    log = read_request_log(p)
    assert log["model_ms"].shape == (2, 2)
    assert poa_hat_log(log).value == pytest.approx(100 / 20)
    assert poa_hat_log(log, metric="ttft").value == pytest.approx(42 / 10)
    assert poa_hat_log(log, form="matching").value == pytest.approx(40 / 20)
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n")
    with pytest.raises(InvalidInputError, match="model_ms_0"):
        read_request_log(tmp_path / "bad.csv")
    (tmp_path / "total.csv").write_text("model_ms_0,model_ms_1,model_total\n1,3,4\n")
    with pytest.raises(InvalidInputError, match="model_total"):
        read_request_log(tmp_path / "total.csv")
    (tmp_path / "gap.csv").write_text("model_ms_0,model_ms_2\n1,3\n")
    with pytest.raises(InvalidInputError, match="model_ms_0..model_ms_1"):
        read_request_log(tmp_path / "gap.csv")
    (tmp_path / "text.csv").write_text("latency_ms,model_ms_0\n1,x\n")
    with pytest.raises(InvalidInputError, match="row 2, column 'model_ms_0'"):
        read_request_log(tmp_path / "text.csv")
    (tmp_path / "noreal.csv").write_text("model_ms_0,model_ms_1\n1,2\n")
    with pytest.raises(InvalidInputError, match="latency_ms"):
        poa_hat_log(read_request_log(tmp_path / "noreal.csv"))


def _log(model, latency, window=None, worker=None):
    model = np.asarray(model, float)
    m = model.shape[1]
    fields = [("latency_ms", "f8"), ("model_ms", "f8", (m,)), ("worker", "i4")]
    if window is not None:
        fields.append(("window", "i8"))
    log = np.zeros(len(latency), dtype=fields)
    log["latency_ms"], log["model_ms"] = latency, model
    log["worker"] = 0 if worker is None else worker
    if window is not None:
        log["window"] = window
    return log


def test_log_windows_are_aligned_after_a_partial_warmup_slice():
    # 3 windows of m = 2; slicing off 1 request (a warm-up not a multiple of m) must drop the rest of window 0
    # instead of pairing its request 1 with window 1's request 2 (two different frozen states).
    model = np.array([[1, 9], [9, 1], [1, 2], [1, 4], [3, 1], [2, 1]], float)
    lat = np.array([2, 2, 3, 3, 2, 2], float)
    log = _log(model, lat, window=np.arange(6) // 2)
    full = poa_hat_log(log)  # OPT 2, 1 + 4 = ... min(1 + 4, 2 + 1) = 3, min(3 + 1, 1 + 2) = 3
    np.testing.assert_allclose(full.opt, [2, 3, 3])
    sliced = poa_hat_log(log[1:])
    np.testing.assert_allclose(sliced.windows, full.windows[1:])
    assert np.array_equal(aligned_window_rows(log[1:]), np.arange(1, 5))
    assert poa_hat_log(log[1:5]).windows.size == 2  # a trailing partial window is kept
    with pytest.raises(InvalidInputError, match="consecutive"):
        poa_hat_log(log[[0, 1, 2, 4, 5]])
    with pytest.raises(InvalidInputError, match="window"):
        poa_hat_log(log, window=4)
    with pytest.raises(InvalidInputError, match="metric"):
        poa_hat_log(log, metric="itl")
