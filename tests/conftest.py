"""Shared fixtures: one run of ``gametheory reproduce`` (the whole default demo) serves every test that reads it."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from gametheory.cli import main


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
