"""Argument types and output shared by the subcommands.

argparse ``type=`` callables that reject bad values at parse time (so ``--seed -1`` or ``--bootstrap -5``
stop with exit code 2 and one line on stderr before any work is done), an output-folder check that never
creates anything while parsing, and strict JSON (``null`` for NaN and infinity, never the non-standard
``NaN``/``Infinity`` tokens).

References
----------
.. [1] Python documentation, ``argparse``, "type": a ``type=`` callable that raises
   ``argparse.ArgumentTypeError`` makes the parser report the message and exit with status 2.
.. [2] T. Bray (ed.), "The JavaScript Object Notation (JSON) Data Interchange Format", RFC 8259, 2017 (no
   NaN or Infinity among its numbers).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

from gametheory.display import jsonable

__all__ = ["bounded_int", "finite_float", "nonnegative_int", "output_folder", "positive_float", "strict_json"]


def bounded_int(minimum: int, maximum: int | None = None):
    """An argparse type: an integer in [minimum, maximum] (written as an integer: "2.5" and "1e3" are refused).

    Parameters
    ----------
    minimum : int
        Smallest accepted value.
    maximum : int, optional
        Largest accepted value (no upper bound when None).

    Returns
    -------
    callable
        ``parse(text) -> int``, named ``integer`` (argparse uses the name in its messages); it raises
        ``argparse.ArgumentTypeError`` for text that is not a base-10 integer or lies outside the bounds.
    """

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum:,}, got {value:,}")
        return value

    parse.__name__ = "integer"
    return parse


#: an integer >= 0 (seeds, counts)
nonnegative_int = bounded_int(0)


def finite_float(text: str) -> float:
    """An argparse type: a finite number.

    Parameters
    ----------
    text : str
        The command-line value as typed.

    Returns
    -------
    float
        ``float(text)``.

    Raises
    ------
    argparse.ArgumentTypeError
        Text that is not a number, or NaN or an infinity.
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0.

    Parameters
    ----------
    text : str
        The command-line value as typed.

    Returns
    -------
    float
        ``float(text)``, > 0.

    Raises
    ------
    argparse.ArgumentTypeError
        What :func:`finite_float` refuses, and zero or negative numbers.
    """
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def output_folder(text: str) -> Path:
    """An argparse type: a folder that exists and is writable, or can be created (nothing is created here).

    Parameters
    ----------
    text : str
        The folder as typed (``--out``).

    Returns
    -------
    pathlib.Path
        ``Path(text)``; the caller creates it when it writes.

    Raises
    ------
    argparse.ArgumentTypeError
        A path that is an existing file, lies under a file, is a folder that is not writable, or whose nearest
        existing ancestor is not writable.
    """
    path = Path(text)
    if path.exists():
        if not path.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"folder {text!r} is not writable")
        return path
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"cannot create {text!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot create {text!r}: {str(parent)!r} is not writable")
    return path


def strict_json(value, *, indent: int | None = 2) -> str:
    """``value`` as standard JSON (RFC 8259): NaN and infinities become ``null``, numpy values plain numbers.

    Parameters
    ----------
    value : object
        Dicts, lists, tuples, numbers, strings, numpy scalars and arrays, paths.
    indent : int, optional
        Indentation (None: one line).

    Returns
    -------
    str
        The JSON text; ``json.loads`` (and any strict parser) reads it.
    """
    return json.dumps(jsonable(value), indent=indent, allow_nan=False)
