"""Progress bars for long loops (reproduce sections, sweeps, simulations, bootstraps), drawn by tqdm.

``progress(items, label)`` yields the items and, when the bar is on, draws a tqdm bar on stderr with the
count, the elapsed time, the rate and the ETA (``label:  54%|#####     | 7/13 [00:04<00:03, 1.6it/s]``).
The bar is on when stderr is a terminal, or when the environment variable ``GAMETHEORY_PROGRESS`` is
``1``; ``GAMETHEORY_PROGRESS=0`` turns it off. Off, it is a plain pass-through, so logs, notebooks and tests
see no control characters.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

__all__ = ["enabled", "progress"]

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
             force: bool = False) -> Iterator[T]:
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

    Returns
    -------
    iterator
        The items, in order.
    """
    stream = stream or sys.stderr
    on = enabled(stream) or (force and os.environ.get("GAMETHEORY_PROGRESS") != "0")
    if not on:
        yield from items
        return
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with tqdm(items, desc=label, total=total, file=stream, leave=True, dynamic_ncols=True,
              mininterval=0.2) as bar:
        yield from bar
