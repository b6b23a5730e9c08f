"""Safety net: the numbers `gametheory reproduce` writes into summary.json for the sections latency, resource,
caching, routing and coupled, pinned with tight tolerances (tests/data/reproduce_pins.json, with the command that
produced them).

A pinned number may change only with a reason written down where the change is made (commit message and the
section's doc page), and the pin is then updated for exactly those keys. Known legitimate movers:

- resource: the knee keys (``knee_concurrency_calibrated``, ``prefill_knee``) and the
  pool-cost rows follow the serving engine model, which is being unified (one engine model, one knee);
- coupled: numbers move only where the coupled system's tie-breaks differ from the games it is built from
  (docs/coupled.md says which).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

PINS = json.loads((Path(__file__).parent / "data" / "reproduce_pins.json").read_text())
RTOL = 1e-6
ATOL = 1e-9


def _mismatches(expected, actual, where: str):
    """Every place where ``actual`` differs from ``expected``: numbers within RTOL / ATOL, the rest exactly."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping, got {actual!r}"]
        out = [f"{where}: missing key {k!r}" for k in expected if k not in actual]
        out += [f"{where}: unexpected key {k!r}" for k in actual if k not in expected]
        for k in expected:
            if k in actual:
                out += _mismatches(expected[k], actual[k], f"{where}/{k}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected a list of {len(expected)}, got {actual!r}"]
        return [m for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for m in _mismatches(e, a, f"{where}[{i}]")]
    if isinstance(expected, bool) or not isinstance(expected, (int, float)):
        return [] if actual == expected else [f"{where}: expected {expected!r}, got {actual!r}"]
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return [f"{where}: expected the number {expected!r}, got {actual!r}"]
    if math.isclose(actual, expected, rel_tol=RTOL, abs_tol=ATOL):
        return []
    return [f"{where}: expected {expected!r}, got {actual!r}"]


@pytest.mark.parametrize("section", sorted(PINS["sections"]))
def test_reproduce_numbers_are_pinned(reproduce_run, section):
    summary, _, _ = reproduce_run
    assert section in summary, f"section {section!r} did not run"
    problems = _mismatches(PINS["sections"][section], summary[section]["summary"], section)
    assert not problems, f"{len(problems)} pinned number(s) moved:\n" + "\n".join(problems[:40])


def test_pin_comparison_catches_a_moved_number():
    """The comparison itself: a relative move of 1e-5 in one nested number, a changed string, a missing key."""
    pinned = {"a": [1.0, {"b": 2.0, "c": "3P"}], "d": "inf"}
    assert _mismatches(pinned, json.loads(json.dumps(pinned)), "x") == []
    moved = {"a": [1.0, {"b": 2.00002, "c": "3P"}], "d": "inf"}
    assert _mismatches(pinned, moved, "x") == ["x/a[1]/b: expected 2.0, got 2.00002"]
    assert _mismatches(pinned, {"a": [1.0, {"b": 2.0, "c": "2P"}], "d": "inf"}, "x")
    assert _mismatches(pinned, {"a": [1.0, {"b": 2.0}], "d": "inf"}, "x")
    assert _mismatches(pinned, {"a": [1.0, {"b": 2.0, "c": "3P"}], "d": 1.0}, "x")
