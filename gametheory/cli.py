"""The ``gametheory`` command line (also ``python -m gametheory``).

Each subcommand lives in :mod:`gametheory.commands` as a module with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; this file only lists them and turns user errors into
one line on stderr and exit code 2 (:func:`main`): bad arguments, any
:class:`~gametheory.errors.GameTheoryError`, files that cannot be read or written (``--out`` on a file, an
unwritable folder), text that is not in the expected encoding, malformed CSV. A traceback means a bug.

References
----------
.. [1] Python documentation, ``argparse``: sub-commands (``add_subparsers``) and ``ArgumentParser.error``,
   whose exit status 2 for a usage error this command keeps for every user error.
.. [2] GNU Bash Reference Manual, section 3.7.5 "Exit Status": 128 + N for a command ended by signal N,
   hence 130 after Ctrl-C (SIGINT = 2).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib
import os
import sys
from pathlib import Path

from gametheory import __version__
from gametheory.errors import GameTheoryError

__all__ = ["COMMANDS", "build_parser", "main", "user_error_message"]

#: subcommand modules under gametheory.commands, in the order `--help` shows them
COMMANDS = ("assess", "fit", "profiles", "reproduce")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``gametheory fit: error: argument --seed: must be >= 0, got -1``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``gametheory`` argument parser with one subparser per module of :data:`COMMANDS`.

    Each subcommand module adds its own arguments (``add_arguments``) and is dispatched through its ``run``.

    Returns
    -------
    argparse.ArgumentParser
        The parser; its errors print one line (with a pointer to ``--help``) and exit with status 2.
    """
    parser = _Parser(
        prog="gametheory",
        description="Disaggregated LLM serving as three coupled games: equilibria, optima, Price of Anarchy.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"gametheory.commands.{name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def user_error_message(exc: BaseException) -> str | None:
    """The one-line message of a user error, or None when ``exc`` is not one (a bug: let it raise).

    Parameters
    ----------
    exc : BaseException
        The exception a subcommand raised.

    Returns
    -------
    str or None
        The message on one line (whitespace collapsed) for a
        :class:`~gametheory.errors.GameTheoryError`, a ``UnicodeDecodeError`` (the byte and its offset), an
        ``OSError`` (the file and the reason) or a ``csv.Error``; None for anything else.
    """
    if isinstance(exc, GameTheoryError):
        return _one_line(exc)
    if isinstance(exc, UnicodeDecodeError):
        return _one_line(f"the input is not {exc.encoding} text (byte {exc.object[exc.start:exc.start + 1]!r} at "
                         f"offset {exc.start}); convert it to UTF-8 or name its encoding")
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return _one_line(f"{where}{exc.strerror or exc}")
    if isinstance(exc, csv.Error):
        return _one_line(f"malformed CSV ({exc})")
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 2 user error, 130 interrupted).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code. User errors print one line on stderr (``gametheory COMMAND: error: ...``) and return 2;
        other exceptions propagate (a bug).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print(f"gametheory {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (| head): nothing left to say
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - only user errors are reported; the rest re-raises
        message = user_error_message(exc)
        if message is None:
            raise
        if isinstance(exc, UnicodeDecodeError):  # name the file: the error itself does not know it
            inputs = [str(v) for v in vars(args).values() if isinstance(v, Path) and v.is_file()]
            message = f"{inputs[0]}: {message}" if len(inputs) == 1 else message
        print(f"gametheory {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
