"""``gametheory assess PATH``: from a benchmark to its regime and its PoA bound, in a ten-second report.

PATH is an aiperf artifacts folder (a sweep of runs), an aiperf per-request export (``profile_export.jsonl``),
or any CSV/TSV table with a load column and a latency column; see :mod:`gametheory.assessment` for what is
computed and how. ``--json`` prints the same as strict JSON (null, never Infinity or NaN); ``--plot FILE``
writes the latency curve with its knees and the PoA bound across load.

References
----------
.. [1] NVIDIA aiperf documentation (github.com/ai-dynamo/aiperf): the artifacts folder and the per-request
   ``profile_export.jsonl`` this command reads.
.. [2] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003 (the
   bound it reports).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gametheory.commands.arguments import bounded_int, finite_float, nonnegative_int, strict_json
from gametheory.fitting import FAMILIES

__all__ = ["HELP", "MAX_BOOTSTRAP", "NAME", "add_arguments", "run"]

#: most bootstrap refits per knee method the command runs
MAX_BOOTSTRAP = 10_000

NAME = "assess"
HELP = "Fit, knee, regime and PoA bound of your own benchmark (aiperf folder/export or any CSV/TSV)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``gametheory assess`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser: ``path`` and ``--load-column``, ``--latency-column``, ``--metric``,
        ``--stat``, ``--at``, ``--log``, ``--family``, ``--bootstrap``, ``--seed``, ``--encoding``, ``--plot``,
        ``--json``.
    """
    parser.add_argument("path", type=Path, help="aiperf artifacts folder, profile_export.jsonl, or a CSV/TSV table")
    parser.add_argument("--load-column", help="table column holding the load (concurrency or request rate)")
    parser.add_argument("--latency-column", help="table column holding the latency in ms (TTFT, ITL or end-to-end)")
    parser.add_argument("--metric", default="ttft", choices=("ttft", "itl", "e2e"),
                        help="aiperf inputs: which latency (default ttft)")
    parser.add_argument("--stat", default="p99",
                        help="aiperf inputs: which statistic (avg, p50, p90, p99; default p99)")
    parser.add_argument("--at", type=finite_float, metavar="LOAD",
                        help="operating point (default: the highest measured load)")
    parser.add_argument("--log", type=Path, help="a request log (router decisions) for PoA-hat")
    parser.add_argument("--family", default="auto", choices=("auto",) + FAMILIES, help="curve family (default auto)")
    parser.add_argument("--bootstrap", type=bounded_int(0, MAX_BOOTSTRAP), default=100, metavar="N",
                        help="bootstrap refits per knee method (default 100)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="bootstrap seed (an integer >= 0)")
    parser.add_argument("--encoding", help="encoding of the input files when not UTF-8 (e.g. latin-1)")
    parser.add_argument("--plot", type=Path, metavar="FILE", help="write the figure (PNG, SVG or PDF)")
    parser.add_argument("--json", action="store_true", help="print strict JSON instead of the report")


def run(args: argparse.Namespace) -> int:
    """Assess the benchmark at ``args.path`` (:func:`gametheory.assessment.assess`) and print the report or JSON.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of :func:`add_arguments`.

    Returns
    -------
    int
        0 (user errors raise and :func:`gametheory.cli.main` turns them into exit code 2).

    Raises
    ------
    InvalidInputError
        When the figure of ``--plot`` cannot be written (and, from :func:`~gametheory.assessment.assess`, for
        input it cannot read).
    """
    from gametheory.assessment import assess
    from gametheory.errors import InvalidInputError

    result = assess(args.path, load_column=args.load_column, latency_column=args.latency_column, metric=args.metric,
                    stat=args.stat, at=args.at, log=args.log, family=args.family, n_boot=args.bootstrap,
                    seed=args.seed, encoding=args.encoding)
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        from gametheory.plotting import save

        axes = result.plot()
        try:
            save(axes[0].figure, args.plot)
        except (OSError, ValueError) as exc:
            raise InvalidInputError(f"--plot {args.plot}: cannot write the figure ({exc})") from None
    if args.json:
        print(strict_json(result.summary()))
    else:
        print(result.report())
        if args.plot is not None:
            print(f"figure: {args.plot}")
    return 0
