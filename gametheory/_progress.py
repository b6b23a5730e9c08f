"""Progress bars for long loops (reproduce sections, sweeps, simulations, bootstraps), drawn by tqdm.

``progress(items, label)`` yields the items and, when the bar is on, draws a tqdm bar on stderr with the
count, the elapsed time, the rate and the ETA (``label:  54%|#####     | 7/13 [00:04<00:03, 1.6it/s]``).
The bar is on when stderr is a terminal, or when the environment variable ``GAMETHEORY_PROGRESS`` is
``1``; ``GAMETHEORY_PROGRESS=0`` turns it off. Off, it is a plain pass-through, so logs, notebooks and tests
see no control characters.

References
----------
.. [1] C. O. da Costa-Luis, "tqdm: a fast, extensible progress meter for Python and CLI", JOSS 4(37), 1277,
   2019: the bar, its rate and its ETA (remaining work at the smoothed rate so far).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

__all__ = ["enabled", "progress", "timer"]

T = TypeVar("T")


def enabled(stream=None) -> bool:
    """Whether a bar draws by default.

    Parameters
    ----------
    stream : file-like, optional
        Where the bar would draw (default ``sys.stderr``).

    Returns
    -------
    bool
        ``GAMETHEORY_PROGRESS=1`` / ``0`` forces it on / off; otherwise true only when ``stream`` is a
        terminal (never in CI logs, pipes or captured output).
    """
    flag = os.environ.get("GAMETHEORY_PROGRESS")
    if flag is not None:
        return flag == "1"
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def progress(items: Iterable[T], label: str, total: int | None = None, stream=None,
             force: bool = False, leave: bool = True, weights: Iterable[float] | None = None) -> Iterator[T]:
    """Yield ``items`` while drawing a tqdm progress bar with an ETA.

    Parameters
    ----------
    items : iterable
        What to loop over; yielded unchanged.
    label : str
        Text in front of the bar.
    total : int, optional
        Number of items, when ``len(items)`` is not available (the ETA needs it).
    stream : file-like, optional
        Where to draw (default ``sys.stderr``).
    force : bool
        Draw even where the bar is off by default (an explicit request such as ``sweep(progress=True)``);
        ``GAMETHEORY_PROGRESS=0`` still wins.
    leave : bool
        Keep the finished bar on screen (False: erase it, for loops inside a longer report).
    weights : iterable of float, optional
        The expected cost of each item, in any unit (e.g. ``2 ** n`` for an enumeration over ``n`` players):
        the bar advances by an item's weight when it is done, so the ETA holds when items differ in cost.

    Yields
    ------
    object
        The items, in order.
    """
    stream = stream or sys.stderr
    on = enabled(stream) or (force and os.environ.get("GAMETHEORY_PROGRESS") != "0")
    if not on:
        yield from items
        return
    if weights is not None:
        weights = [float(w) for w in weights]
        with tqdm(desc=label, total=sum(weights), file=stream, leave=leave, dynamic_ncols=True, mininterval=0.2,
                  bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}") as bar:
            for item, weight in zip(items, weights, strict=True):
                yield item
                bar.update(weight)
        return
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with tqdm(items, desc=label, total=total, file=stream, leave=leave, dynamic_ncols=True,
              mininterval=0.2) as bar:
        yield from bar


@contextlib.contextmanager
def timer(label: str, expected_seconds: float | None = None, stream=None, tick: float = 0.5) -> Iterator[None]:
    """A bar for one long step that has no loop to count: it advances with the elapsed time.

    With ``expected_seconds`` (e.g. the step's time in a previous run) the bar fills towards it and shows an
    ETA; without, it shows the elapsed time. It is drawn by a background thread every ``tick`` seconds, only
    where :func:`progress` would draw, and erased when the step ends.

    Parameters
    ----------
    label : str
        Text in front of the bar.
    expected_seconds : float, optional
        How long the step is expected to take (s).
    stream : file-like, optional
        Where to draw (default ``sys.stderr``).
    tick : float
        Seconds between redraws.

    Yields
    ------
    None
        Control to the step; the bar is closed when it ends, also on an exception.
    """
    stream = stream or sys.stderr
    if not enabled(stream):
        yield
        return
    total = round(expected_seconds, 1) if expected_seconds and expected_seconds > 0 else None
    bar = tqdm(desc=label, total=total, file=stream, leave=False, dynamic_ncols=True, unit="s",
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}" if total else
               "{desc}: {elapsed} elapsed")
    stop = threading.Event()
    start = time.perf_counter()

    def advance() -> None:
        while not stop.wait(tick):
            done = time.perf_counter() - start
            bar.n = min(round(done, 1), total) if total else round(done, 1)
            bar.refresh()

    thread = threading.Thread(target=advance, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        bar.close()
