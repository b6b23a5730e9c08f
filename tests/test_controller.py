"""The adaptive controller's state machine on synthetic TTFT P99 traces, and its Prometheus signal."""

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.controller import (
    PAPER_TABLE,
    AdaptiveController,
    IntervalReport,
    histogram_quantile,
    run_controller,
    run_trace,
)


def test_switch_points_on_a_step_ramp_with_alpha_one():
    # alpha = 1: the EWMA is the signal itself, so the switch points are exactly the threshold crossings.
    c = AdaptiveController(1000.0, 10000.0, alpha=1.0, hysteresis=0.2)
    trace = [500, 900, 999, 1000, 5000, 9999, 10000, 20000, 9000, 8001, 7999, 900, 801, 799]
    want = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1, 1, 1, 0]
    assert run_trace(c, trace).tolist() == want


def test_ewma_delays_the_switch_by_the_closed_form_number_of_polls():
    # From e = 0 (first poll 0) a step to x: e_k = x (1 - (1 - a)^k); crossing theta when k >= log(1 - t/x)/log(1 - a).
    a, x, t1 = 0.3, 2000.0, 1000.0
    c = AdaptiveController(t1, 10 * t1, alpha=a)
    regimes = run_trace(c, [0.0] + [x] * 10)
    k = int(np.ceil(np.log(1 - t1 / x) / np.log(1 - a)))
    assert regimes[k] == 1 and regimes[k - 1] == 0  # index 0 is the zero poll


def test_table_settings_follow_the_paper():
    c = AdaptiveController(1.0, 10.0, alpha=1.0)
    d = c.step(0.5)
    assert (d.regime, d.tau, d.omega) == (0, *PAPER_TABLE[0])
    d = c.step(5.0)
    assert (d.regime, d.tau, d.omega) == (1, 0.7, 1.0)
    d = c.step(50.0)
    assert (d.regime, d.tau, d.omega) == (2, 0.8, 0.1)


def test_no_flapping_under_noise_near_a_threshold():
    rng = np.random.default_rng(0)
    theta1 = 1000.0
    # Signal sits on theta1 with +-10 % multiplicative noise for 500 polls.
    trace = theta1 * (1 + 0.1 * rng.uniform(-1, 1, size=500))
    with_h = run_trace(AdaptiveController(theta1, 10 * theta1, alpha=0.5, hysteresis=0.2), trace)
    without = run_trace(AdaptiveController(theta1, 10 * theta1, alpha=0.5, hysteresis=0.0), trace)
    switches = lambda r: int(np.count_nonzero(np.diff(r)))  # noqa: E731
    assert switches(with_h) <= 1  # escalates at most once and stays
    assert switches(without) > 20  # the same trace makes a controller without hysteresis flap


def test_from_baseline_and_bad_input():
    c = AdaptiveController.from_baseline(50.0, f1=2.0, f2=10.0)
    assert (c.theta1_ms, c.theta2_ms) == (100.0, 500.0)
    with pytest.raises(InvalidInputError):
        AdaptiveController(10.0, 5.0)
    with pytest.raises(InvalidInputError):
        AdaptiveController(1.0, 5.0, alpha=0.0)
    with pytest.raises(InvalidInputError):
        AdaptiveController(1.0, 5.0).step(float("nan"))


class _FakeActuator:
    """TTFT grows with load and falls when the transition setting is on: checks the loop wiring."""

    def __init__(self, loads):
        self.loads, self.seen = loads, []

    def run_interval(self, index, tau, omega):
        self.seen.append((tau, omega))
        ttft = 100.0 * self.loads[index] * (0.5 if tau > 0 else 1.0)
        return IntervalReport(ttft, 1.0, 1.0, self.loads[index], 5.0)


def test_run_controller_applies_the_decision_to_the_next_interval():
    act = _FakeActuator([1, 1, 30, 30, 30])
    out = run_controller(AdaptiveController(1000.0, 100000.0, alpha=1.0), act, 5)
    assert act.seen[:3] == [PAPER_TABLE[0]] * 3  # interval 2 (load 30) is observed before the switch
    assert act.seen[3] == PAPER_TABLE[1]
    assert [d.regime for _, d in out] == [0, 0, 1, 1, 1]
    static = _FakeActuator([1, 1, 30, 30, 30])
    run_controller(None, static, 5)
    assert static.seen == [PAPER_TABLE[0]] * 5


_HIST = """# HELP dynamo_frontend_time_to_first_token_seconds Time to first token
# TYPE dynamo_frontend_time_to_first_token_seconds histogram
dynamo_frontend_time_to_first_token_seconds_bucket{model="m",le="0.1"} {a}
dynamo_frontend_time_to_first_token_seconds_bucket{model="m",le="0.5"} {b}
dynamo_frontend_time_to_first_token_seconds_bucket{model="m",le="1"} {c}
dynamo_frontend_time_to_first_token_seconds_bucket{model="m",le="+Inf"} {d}
dynamo_frontend_time_to_first_token_seconds_sum{model="m"} 1.0
dynamo_frontend_time_to_first_token_seconds_count{model="m"} {d}
"""


def _scrape(a, b, c, d):
    return _HIST.replace("{a}", str(a)).replace("{b}", str(b)).replace("{c}", str(c)).replace("{d}", str(d))


def test_histogram_quantile_matches_prometheus_interpolation():
    m = "dynamo_frontend_time_to_first_token_seconds"
    before = _scrape(10, 10, 10, 10)
    # 100 new observations: 50 in (0, 0.1], 40 in (0.1, 0.5], 10 in (0.5, 1].
    after = _scrape(60, 100, 110, 110)
    # P50: rank 50 -> end of the first bucket = 0.1; P90: rank 90 -> end of second = 0.5;
    # P99: rank 99 -> 0.5 + 0.5 * (99 - 90) / 10 = 0.95.
    assert histogram_quantile(0.5, before, after, m) == pytest.approx(0.1)
    assert histogram_quantile(0.9, before, after, m) == pytest.approx(0.5)
    assert histogram_quantile(0.99, before, after, m) == pytest.approx(0.95)
    with pytest.raises(InvalidInputError):
        histogram_quantile(0.99, after, after, m)
    with pytest.raises(InvalidInputError):
        histogram_quantile(0.99, before, after, "no_such_metric")


def test_static_vs_adaptive_names_an_out_of_range_saturated_index():
    from gametheory.serving.controller import static_vs_adaptive

    calls = []

    def make_actuator(trial):
        calls.append(trial)
        return _FakeActuator([1, 1, 30])

    with pytest.raises(InvalidInputError, match=r"saturated: interval index 3 is outside 0\.\.2"):
        static_vs_adaptive(make_actuator, lambda: AdaptiveController(1000.0, 100000.0), 3, (1, 3), trials=1)
    with pytest.raises(InvalidInputError, match="saturated"):
        static_vs_adaptive(make_actuator, lambda: AdaptiveController(1000.0, 100000.0), 3, (-1,), trials=1)
    assert calls == []  # rejected before any interval runs
    out = static_vs_adaptive(make_actuator, lambda: AdaptiveController(1000.0, 100000.0, alpha=1.0), 3, (2,), 1)
    assert [o.ttft_p99_ms for o in out] == [3000.0, 3000.0]  # the valid index still works
