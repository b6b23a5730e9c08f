"""Shared fixtures and settings.

One run of ``gametheory reproduce`` (the whole default demo) serves every test that reads it.

Hypothesis profiles: ``ci`` (the default, what ``make test`` runs) keeps every property test within seconds
and is derandomized so that CI runs are reproducible; ``deep`` (``HYPOTHESIS_PROFILE=deep make test`` or
``... pytest tests/fuzz``) runs 25 times more examples per test, with random seeds, for hunting rare
failures. Tests that set their own ``max_examples`` keep it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os

import pytest
from hypothesis import HealthCheck, Phase, settings

from gametheory.cli import main

settings.register_profile("ci", max_examples=40, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=1000, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
# triage: every failing fuzz case reported fast (no shrinking), for fixing many at once
settings.register_profile("triage", max_examples=30, deadline=None, derandomize=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate],
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def reproduce_run(tmp_path_factory):
    """``gametheory reproduce --out DIR`` run once per test session: (summary.json as a dict, printed text, DIR)."""
    out_dir = tmp_path_factory.mktemp("reproduce")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["reproduce", "--out", str(out_dir)])
    assert code == 0
    summary = json.loads((out_dir / "summary.json").read_text())
    return summary, printed.getvalue(), out_dir
