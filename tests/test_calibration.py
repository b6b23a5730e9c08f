"""Calibration: two unknowns from the 70B 1P/5D knee interval, the rule that closes the family, the record."""

import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.calibration import calibrate
from gametheory.serving.engine import paper_cluster
from gametheory.serving.queueing import analytic_knee
from gametheory.serving.workload import paper_workload


def test_calibration_puts_the_observed_knee_in_the_interval_and_closes_the_family():
    cal = calibrate()
    lo, hi = cal.interval
    assert (lo, hi) == (96.0, 128.0)
    knee = analytic_knee(cal.cluster("70b_1p5d"), cal.workload())
    assert lo < knee <= hi and knee == pytest.approx(cal.knee)
    b_lo, b_hi = cal.batch_range
    assert cal.prefill_batch == round((b_lo * b_hi) ** 0.5)
    # the output length is the nearest to the midpoint: its neighbours are no closer
    mid = (lo + hi) / 2
    neighbours = [analytic_knee(cal.cluster("70b_1p5d"), paper_workload(o))
                  for o in (cal.output_tokens - 1, cal.output_tokens + 1)]
    assert all(abs(knee - mid) <= abs(k - mid) for k in neighbours)
    # the ends of the admissible range: just past them no output length reaches the interval
    eng = cal.engine.__class__(max_prefill_seqs=b_hi + 1)
    c = paper_cluster("70b_1p5d", eng)
    assert all(not (lo < analytic_knee(c, paper_workload(o)) <= hi) for o in range(1, 200))


def test_family_members_all_reproduce_the_observation():
    cal = calibrate()
    for b, o in cal.family():
        k = analytic_knee(paper_cluster("70b_1p5d", cal.engine.__class__(max_prefill_seqs=b)), paper_workload(o))
        assert 96 < k <= 128, (b, o, k)


def test_record_for_summary_json():
    d = calibrate().to_dict()
    assert set(d["parameters"]) == {"max_prefill_seqs", "output_tokens"}
    assert "96" in d["observation"] and "128" in d["observation"]


def test_bad_interval():
    with pytest.raises(InvalidInputError, match="interval"):
        calibrate(interval=(128.0, 96.0))
    with pytest.raises(InvalidInputError, match="no prefill batch"):
        calibrate(interval=(0.1, 0.5))  # below the knee of one request with one output token


def test_the_shared_prefix_is_an_assumption_the_rule_can_be_rerun_under():
    alt = calibrate(prefix_tokens=64)
    assert alt.prefix_tokens == 64 and alt.workload().prefix_tokens == 64
    knee = analytic_knee(alt.cluster("70b_1p5d"), alt.workload())
    assert 96 < knee <= 128 and knee == pytest.approx(alt.knee)
    assert alt.to_dict()["fixed"]["shared_prefix_tokens"] == 64
    with pytest.raises(InvalidInputError, match="prefix_tokens"):
        calibrate(prefix_tokens=200)
