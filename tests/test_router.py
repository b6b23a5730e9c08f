"""Tests of gametheory.serving.router against the documented Dynamo example and brute-force checks."""

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.router import (
    Request,
    dynamo_costs,
    dynamo_credit_costs,
    llmd_select,
    prefill_blocks,
    route_stream,
    select,
    selection_probabilities,
    sglang_select,
)


def test_documented_three_worker_example():
    # references.md: cached 2, 5, 8 blocks -> prefill blocks 8, 5, 2; decode 10, 5, 9; weight 1
    block = 16
    prompt = 10 * block
    pre = prefill_blocks([0, 0, 0], prompt, np.array([2, 5, 8]) * block, block)
    np.testing.assert_allclose(pre, [8, 5, 2])
    costs = dynamo_costs(pre, [10, 5, 9], omega=1.0)
    np.testing.assert_allclose(costs, [18, 10, 11])
    assert select(costs, 0.0, 0) == 1
    for seed in range(20):
        assert select(costs, 0.0, seed) == 1


def test_tie_break_is_random_over_argmin():
    costs = [3.0, 1.0, 1.0, 2.0]
    picks = {select(costs, 0.0, seed) for seed in range(200)}
    assert picks == {1, 2}


def test_softmax_matches_formula_and_sampling():
    c = np.array([18.0, 10.0, 11.0])
    t = 0.5
    p = selection_probabilities(c, t)
    expect = np.exp(-(c - 10) / (8 * t))
    np.testing.assert_allclose(p, expect / expect.sum())
    rng = np.random.default_rng(1)
    draws = np.array([select(c, t, rng) for _ in range(4000)])
    freq = np.bincount(draws, minlength=3) / draws.size
    np.testing.assert_allclose(freq, p, atol=0.03)
    np.testing.assert_allclose(selection_probabilities([4, 4, 4], 1.0), [1 / 3] * 3)


def test_credit_form():
    cost = dynamo_credit_costs([10, 10], [5, 5], device_hits=[4, 12], host_hits=[4, 0])
    np.testing.assert_allclose(cost, [10 - 4 - 3 + 5, 0 + 5])


def test_other_policies():
    assert sglang_select([100, 10, 50], [0.9, 0.0, 0.0], [1, 1, 1]) == 1  # imbalanced -> shortest queue
    assert sglang_select([10, 12, 11], [0.1, 0.6, 0.4], [1, 1, 1]) == 1  # longest match
    assert sglang_select([10, 12, 11], [0.1, 0.2, 0.3], [5, 2, 9]) == 1  # smallest tree
    assert llmd_select([1, 0], [1, 0], [0, 1]) == 0  # 2 + 2 > 3


def test_route_stream_is_greedy_best_response():
    rng = np.random.default_rng(0)
    reqs = [Request(int(rng.integers(64, 512)), 32, prefix=int(rng.integers(0, 3)), shared_tokens=48)
            for _ in range(60)]
    trace = route_stream(reqs, 4, omega=1.0, rng=0)
    for costs, w in zip(trace.costs, trace.assignment, strict=True):
        assert costs[w] == costs.min()
    total = sum(np.ceil((r.tokens + r.output_tokens) / 16) for r in reqs)
    assert sum(s.active_blocks for s in trace.states) == pytest.approx(total)


def test_bad_inputs():
    with pytest.raises(InvalidInputError):
        dynamo_costs([1, 2], [1], 1.0)
    with pytest.raises(InvalidInputError):
        select([1.0, float("nan")])
    with pytest.raises(InvalidInputError):
        dynamo_costs([1, 2], [1, 2], -1.0)
