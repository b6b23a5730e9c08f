"""A dependency-free progress bar for long loops (reproduce sections, sweeps).

``progress(items, label)`` yields the items and, when the bar is on, redraws one line on stderr:
``label [#######.......] 7/13  4.2 s``. The bar is on when stderr is a terminal, or when the environment
variable ``GAMETHEORY_PROGRESS`` is ``1``; ``GAMETHEORY_PROGRESS=0`` turns it off. Off, it is a plain pass-through,
so logs, notebooks and tests see no control characters.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
WIDTH = 24


def enabled(stream=None) -> bool:
    """Whether the bar draws: GAMETHEORY_PROGRESS=1/0 forces it, else only on an interactive stderr."""
    flag = os.environ.get("GAMETHEORY_PROGRESS")
    if flag is not None:
        return flag == "1"
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def progress(items: Iterable[T], label: str, total: int | None = None, stream=None,
             force: bool = False) -> Iterator[T]:
    """Yield ``items`` while drawing a progress bar (see the module docstring); ``force`` draws it even where
    it would be off by default (an explicit request such as ``sweep(progress=True)``)."""
    stream = stream or sys.stderr
    if not (force or enabled(stream)):
        yield from items
        return
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    start = time.perf_counter()

    def draw(done: int) -> None:
        elapsed = time.perf_counter() - start
        if total:
            filled = int(WIDTH * done / total)
            bar = "#" * filled + "." * (WIDTH - filled)
            text = f"\r{label} [{bar}] {done}/{total}  {elapsed:.1f} s"
        else:
            text = f"\r{label} {done}  {elapsed:.1f} s"
        stream.write(text)
        stream.flush()

    draw(0)
    done = 0
    for item in items:
        yield item
        done += 1
        draw(done)
    stream.write("\n")
    stream.flush()
