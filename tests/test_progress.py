"""The progress bar: a pass-through when off, one redrawn stderr line when on."""

from __future__ import annotations

import io

from gametheory._progress import enabled, progress


def test_off_is_a_pass_through(monkeypatch):
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "0")
    stream = io.StringIO()
    assert list(progress(range(3), "work", stream=stream)) == [0, 1, 2]
    assert stream.getvalue() == "" and not enabled(stream)


def test_on_draws_every_step(monkeypatch):
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "1")
    stream = io.StringIO()
    assert list(progress([10, 20], "work", stream=stream)) == [10, 20]
    text = stream.getvalue()
    assert text.count("\r") == 3 and "work [" in text and "2/2" in text and text.endswith("\n")


def test_default_follows_the_terminal(monkeypatch):
    monkeypatch.delenv("GAMETHEORY_PROGRESS", raising=False)
    assert not enabled(io.StringIO())  # not a terminal: no bar in logs or CI
