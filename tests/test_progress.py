"""The progress bar: a pass-through when off, a tqdm bar with a count and an ETA when on."""

from __future__ import annotations

import io

from gametheory._progress import enabled, progress


def test_off_is_a_pass_through(monkeypatch):
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "0")
    stream = io.StringIO()
    assert list(progress(range(3), "work", stream=stream)) == [0, 1, 2]
    assert list(progress(range(3), "work", stream=stream, force=True)) == [0, 1, 2]  # the variable wins
    assert stream.getvalue() == "" and not enabled(stream)


def test_on_draws_count_and_eta(monkeypatch):
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "1")
    stream = io.StringIO()
    assert list(progress([10, 20], "work", stream=stream)) == [10, 20]
    text = stream.getvalue()
    assert text.startswith("\rwork") or "work:" in text
    assert "2/2" in text and "<" in text  # tqdm's "[elapsed<remaining" ETA field
    assert text.endswith("\n")


def test_generator_with_total(monkeypatch):
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "1")
    stream = io.StringIO()
    assert list(progress((i for i in range(4)), "gen", total=4, stream=stream)) == [0, 1, 2, 3]
    assert "4/4" in stream.getvalue()


def test_weighted_items_fill_the_bar_by_their_cost(monkeypatch):
    # items of unequal cost (an enumeration over 2^n profiles): the bar advances by each item's weight
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "1")
    stream = io.StringIO()
    assert list(progress(["a", "b", "c"], "enumerate", stream=stream, weights=[1, 1, 2])) == ["a", "b", "c"]
    text = stream.getvalue()
    assert "enumerate" in text and "100%" in text and "<" in text
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "0")
    assert list(progress(["a"], "off", stream=io.StringIO(), weights=[3])) == ["a"]


def test_default_follows_the_terminal(monkeypatch):
    monkeypatch.delenv("GAMETHEORY_PROGRESS", raising=False)
    stream = io.StringIO()
    assert not enabled(stream)  # not a terminal: no bar in logs or CI
    assert list(progress(range(2), "work", stream=stream)) == [0, 1] and stream.getvalue() == ""


def test_timer_draws_elapsed_time_and_eta(monkeypatch):
    import time

    from gametheory._progress import timer

    monkeypatch.setenv("GAMETHEORY_PROGRESS", "1")
    stream = io.StringIO()
    with timer("section", expected_seconds=10.0, stream=stream, tick=0.05):
        time.sleep(0.3)
    text = stream.getvalue()
    assert "section" in text and "%" in text and "<" in text  # a filling bar with an ETA
    stream = io.StringIO()
    with timer("section", stream=stream, tick=0.05):
        time.sleep(0.2)
    assert "elapsed" in stream.getvalue()
    monkeypatch.setenv("GAMETHEORY_PROGRESS", "0")
    stream = io.StringIO()
    with timer("section", expected_seconds=1.0, stream=stream, tick=0.05):
        time.sleep(0.1)
    assert stream.getvalue() == ""
