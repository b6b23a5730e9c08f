"""Sections of ``gametheory reproduce``: each module here computes one part of the paper's analysis.

A section module defines ``TITLE`` (str) and ``run(out_dir: pathlib.Path, full: bool = False) -> Section``.
It computes everything it prints (no typed-in numbers), writes its figures (PNG) into ``out_dir`` and
returns its tables and a JSON-serializable summary. Default runs take a few seconds; ``full=True`` runs
the large grids.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026 (the analysis
   the sections reproduce).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Section", "Table"]


def _cell(value: Any, float_format: str) -> str:
    """One table cell as text; NaN (a quantity that does not exist, e.g. a ratio of two infinities) is 'n/a'."""
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else float_format.format(value)
    return str(value)


@dataclass
class Table:
    """A printed table: a name, column headers and rows of cells (numbers or strings).

    Parameters
    ----------
    name : str
        The table's title, printed above it and used as its name in ``summary.json``.
    columns : list of str
        Column headers (with units where the cells have them, e.g. "TTFT (ms)").
    rows : list of list
        One list of cells per row, as many cells as columns; floats are formatted, NaN prints as "n/a".
    """

    name: str
    columns: list[str]
    rows: list[list[Any]]

    def render(self, float_format: str = "{:.4g}") -> str:
        """The table as aligned plain text.

        Parameters
        ----------
        float_format : str
            ``str.format`` pattern for float cells (default 4 significant digits).

        Returns
        -------
        str
            The name, the header, a rule, then one line per row; numeric columns right-aligned, others left.
        """
        cells = [[_cell(c, float_format) for c in row] for row in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(self.columns)]
        numeric = [all(isinstance(row[i], (int, float)) for row in self.rows) for i in range(len(self.columns))]

        def pad(text, width, i):
            return text.rjust(width) if numeric[i] else text.ljust(width)

        line = "  ".join(pad(h, w, i) for i, (h, w) in enumerate(zip(self.columns, widths, strict=True)))
        out = [self.name, line.rstrip(), "-" * len(line.rstrip())]
        out += ["  ".join(pad(c, w, i) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip() for r in cells]
        return "\n".join(out)


@dataclass
class Section:
    """The result of one reproduce section.

    Parameters
    ----------
    title : str
        The section's title (its module's ``TITLE``).
    tables : list of Table
        The tables it prints.
    figures : list of pathlib.Path
        The figures it wrote (PNG).
    summary : dict
        Its key figures, JSON-serializable; written under the section's name in ``summary.json`` (keys named
        by an issue are a contract other tools read).
    notes : list of str
        Sentences printed after the tables (assumptions, caveats).
    """

    title: str
    tables: list[Table] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """What ``gametheory reproduce`` and the docs/figures scripts print for a section.

        Returns
        -------
        str
            The tables (each after a blank line), then one ``note:`` line per note and one ``figure:`` line per
            figure.
        """
        lines = ["\n" + table.render() for table in self.tables]
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"figure: {fig}" for fig in self.figures]
        return "\n".join(lines)
