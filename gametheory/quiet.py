"""Keep third-party solver banners out of the package's output (terminals, logs, notebooks).

HiGHS (through ``highspy``, the MILP solver cvxpy calls) prints a two-line copyright banner on the standard
output of the process the first time a solver object is created, from C++ and before any option can turn it
off; in Jupyter it lands in the notebook. :func:`quiet_highs` creates that first object once with the
process's standard output (file descriptor 1) pointed at the null device, so every later solve is silent.
Call it before the first HiGHS solve; it costs one solver construction, once per process.

References
----------
.. [1] Q. Huangfu, J. A. J. Hall, "Parallelizing the dual revised simplex method", Math. Prog. Comp. 10, 2018
   (HiGHS; its Python interface ``highspy`` prints the banner).
.. [2] POSIX.1-2017, ``dup`` and ``dup2``: redirecting file descriptor 1, which silences what C code writes there
   as well as Python's ``print``.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import sys

__all__ = ["quiet_highs", "silenced_stdout"]


@contextlib.contextmanager
def silenced_stdout():
    """Point file descriptor 1 (C and Python standard output) at the null device inside the block.

    C-level buffers are flushed before the descriptor is restored, so nothing written inside leaks out later.
    Where standard output has no file descriptor (some embedded interpreters) the block runs unchanged.

    Yields
    ------
    None
        Control to the block, with descriptor 1 on the null device.
    """
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):
        yield
        return
    libc = None
    with contextlib.suppress(OSError):
        libc = ctypes.CDLL(None)
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        if libc is not None:
            libc.fflush(None)
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


@functools.cache
def quiet_highs() -> None:
    """Create the process's first HiGHS solver with standard output silenced (its banner goes nowhere)."""
    import highspy

    with silenced_stdout():
        highspy.Highs()
