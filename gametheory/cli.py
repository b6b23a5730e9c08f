"""The ``gametheory`` command line (also ``python -m gametheory``).

Each subcommand lives in :mod:`gametheory.commands` as a module with ``NAME``, ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``; this file only lists them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gametheory import __version__
from gametheory.errors import GameTheoryError

#: subcommand modules under gametheory.commands, in the order `--help` shows them
COMMANDS = ("fit", "profiles", "reproduce")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except GameTheoryError as exc:
        print(f"gametheory {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
