"""``gametheory reproduce``: the paper's analytical section on the shipped B200 profiles.

Runs every section module of :mod:`gametheory.reproduce` in order, prints its tables, writes its figures
(PNG) and a machine-readable ``summary.json`` into the output folder. Nothing printed is typed in: each
number is computed by the section that prints it.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026 (the analysis
   the sections reproduce).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from gametheory._progress import timer
from gametheory.commands.arguments import output_folder
from gametheory.errors import InvalidInputError

__all__ = ["HELP", "NAME", "SECTIONS", "add_arguments", "run", "run_sections"]

NAME = "reproduce"
HELP = "Reproduce the paper's analytical results on the shipped B200 profiles (tables, figures, JSON)."

#: section modules under gametheory.reproduce, in the order they run and print
SECTIONS = ("latency", "resource", "caching", "routing", "regimes", "experiment3", "coupled", "dynamo", "paper")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``gametheory reproduce`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand's parser: ``--out`` (checked by :func:`~gametheory.commands.arguments.output_folder`),
        ``--full`` and ``--only``.
    """
    parser.add_argument("--out", default="out", type=output_folder,
                        help="output folder for figures and summary.json (default: out)")
    parser.add_argument("--full", action="store_true", help="run the large grids (minutes instead of seconds)")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="SECTION",
        help=f"run only these sections (of: {', '.join(SECTIONS)})",
    )


def _jsonable(value):
    """Convert numpy scalars/arrays and non-finite floats so json.dump writes valid JSON."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _previous_seconds(path: Path, full: bool = False) -> dict:
    """Each section's wall time in the summary.json of an earlier run in the same folder and of the same grid
    (default or ``--full``), for the ETA of its bar."""
    try:
        return {name: float(sec["seconds"]) for name, sec in json.loads(path.read_text()).items()
                if bool(sec.get("full", False)) == full}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished child processes (the sections' pools)."""
    try:
        import resource
    except ImportError:  # not on POSIX: this process only
        return time.process_time()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _load_average() -> float | None:
    """The machine's 1-minute load average (None where the system does not report one)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


def run_sections(names: list[str], out_dir: Path, full: bool = False, stream=None) -> dict:
    """Run the named sections, print them and write ``summary.json`` into ``out_dir``.

    Each section's wall time is shown against that of an earlier run in the same folder (its ``summary.json``)
    when there is one.

    Parameters
    ----------
    names : list of str
        Section modules of :mod:`gametheory.reproduce` (entries of :data:`SECTIONS`), run in this order.
    out_dir : pathlib.Path
        Output folder (created if missing) for figures and ``summary.json``.
    full : bool
        Run the large grids (minutes instead of seconds).
    stream : file-like, optional
        Where the tables are printed (standard output at call time by default).

    Returns
    -------
    dict
        Section name -> {the section's key figures (e.g. ``regimes -> 70b_1p5d -> knee_c``), "title",
        "seconds" (wall time, s), "cpu_seconds", "load_average", "full", "tables" (name, columns, rows),
        "figures" (paths), "notes", "summary" (the same key figures, the layout of earlier releases)}: the
        content of ``summary.json``, where non-finite floats are written as strings.

    Raises
    ------
    RuntimeError
        A section names a key figure like one of the record's own fields (a bug of that section).
    """
    stream = stream if stream is not None else sys.stdout
    out_dir.mkdir(parents=True, exist_ok=True)
    expected = _previous_seconds(out_dir / "summary.json", full)
    summary: dict = {}
    for i, name in enumerate(names, 1):
        module = importlib.import_module(f"gametheory.reproduce.{name}")
        print(f"[{i}/{len(names)}] {module.TITLE} ...", file=stream, flush=True)
        start, cpu_start, load = time.perf_counter(), _cpu_seconds(), _load_average()
        with timer(f"[{i}/{len(names)}] {name}", expected.get(name)):
            if "previous" in inspect.signature(module.run).parameters:  # sections that read earlier ones
                section = module.run(out_dir, full=full, previous=summary)
            else:
                section = module.run(out_dir, full=full)
        seconds = time.perf_counter() - start
        print(f"\n== {section.title} ({seconds:.1f} s) ==", file=stream)
        print(section.render(), file=stream)
        print("", file=stream, flush=True)
        record = {
            "title": section.title,
            "seconds": seconds,
            "cpu_seconds": _cpu_seconds() - cpu_start,
            "load_average": load,
            "full": bool(full),
            "summary": section.summary,
            "tables": [{"name": t.name, "columns": t.columns, "rows": t.rows} for t in section.tables],
            "figures": [str(f) for f in section.figures],
            "notes": section.notes,
        }
        summary[name] = _with_key_figures_on_top(name, record, section.summary)
    with open(out_dir / "summary.json", "w") as fh:
        json.dump(_jsonable(summary), fh, indent=2)
    return summary


def _with_key_figures_on_top(name: str, record: dict, figures: dict) -> dict:
    """The section's record with its key figures also at its top level, where other tools read them
    (``summary["regimes"]["70b_1p5d"]["knee_c"]``); ``record["summary"]`` keeps the earlier layout."""
    clash = sorted(set(figures) & set(record))
    if clash:
        raise RuntimeError(f"section {name!r}: key figures {clash} clash with the record's own fields")
    return {**figures, **record}


def run(args: argparse.Namespace) -> int:
    """Run the sections ``--only`` names (default all of :data:`SECTIONS`) into ``--out``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments of :func:`add_arguments`.

    Returns
    -------
    int
        0.

    Raises
    ------
    InvalidInputError
        ``--only`` names a section that does not exist.
    """
    names = list(SECTIONS)
    if args.only:
        unknown = [n for n in args.only if n not in SECTIONS]
        if unknown:
            raise InvalidInputError(f"--only: unknown section(s) {unknown}; choose from {list(SECTIONS)}")
        names = [n for n in names if n in args.only]
    out_dir = Path(args.out)
    start = time.perf_counter()
    run_sections(names, out_dir, full=args.full)
    print(f"wrote {out_dir / 'summary.json'} ({len(names)} sections, {time.perf_counter() - start:.1f} s)")
    return 0
