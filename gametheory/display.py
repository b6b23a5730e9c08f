"""How results read: a short text repr, an HTML table in Jupyter, and a pandas DataFrame.

Two pieces, used by every result type of the package:

- :class:`Readable`, a mixin for one result (a fit, a knee, a game solution, an assessment). Its
  ``__repr__`` is a headline and one aligned ``name  value`` line per field, numbers to 4 significant
  digits and arrays summarized (shape and range) instead of printed in full; ``_repr_html_`` is the same as
  an HTML table (Jupyter shows it); ``to_frame()`` returns a one-row :class:`pandas.DataFrame` of the
  fields, so ``pandas.concat([r.to_frame() for r in results])`` tabulates many results. A class chooses what
  it shows by overriding ``_display_title()`` and ``_display_items()`` (default: its dataclass fields, or
  its public attributes). Dataclasses that use it must pass ``repr=False`` (else ``@dataclass`` writes its
  own ``__repr__`` over the mixin's).
- :class:`Table`, a ``list`` of rows (dicts, dataclasses or :class:`Readable` results) for sweeps: it
  behaves as the list it always was (indexing, ``len``, iteration, equality) and adds the same three views,
  one DataFrame row per list item.

pandas is imported only when a frame or an HTML table is asked for.

References
----------
.. [1] IPython documentation, "Integrating your objects with IPython" (rich display: ``_repr_html_``).
.. [2] pandas documentation, ``pandas.DataFrame`` and ``pandas.concat``.
"""

from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Iterable, Mapping
from numbers import Integral, Real

import numpy as np

from gametheory._validate import integer
from gametheory.errors import InvalidInputError

__all__ = ["Readable", "Table", "format_value", "jsonable", "row_dict"]

#: arrays with more entries than this are summarized, not listed
MAX_LISTED = 6
#: rows a Table's text repr shows at each end before eliding the middle
EDGE_ROWS = 5


def format_value(value, digits: int = 4) -> str:
    """A short text form of ``value`` for reprs and tables.

    Parameters
    ----------
    value : object
        A number, string, None, array, sequence, mapping, or any object (then its own short form).
    digits : int
        Significant digits of floats.

    Returns
    -------
    str
        Floats to ``digits`` significant digits (``inf``, ``nan`` spelled out), None as ``-``, arrays with
        more than ``MAX_LISTED`` entries as ``array(n=..., min..max)``, mappings as ``{k: v, ...}``.
    """
    digits = integer(digits, "digits", minimum=1, maximum=17)
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.{digits}g}"
    if isinstance(value, str):
        return value
    if isinstance(value, Readable):
        return value._display_title()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k}: {format_value(v, digits)}" for k, v in list(value.items())[:MAX_LISTED])
        more = ", ..." if len(value) > MAX_LISTED else ""
        return "{" + inner + more + "}"
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and _all_numbers(value)):
        arr = np.asarray(value)
        if arr.dtype.names:  # a structured log
            return f"log(n={arr.shape[0]}, fields={', '.join(arr.dtype.names[:MAX_LISTED])})"
        if arr.size <= MAX_LISTED and arr.ndim <= 1:
            inner = ", ".join(format_value(v, digits) for v in arr.tolist())
            return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        if arr.size and np.issubdtype(arr.dtype, np.number):
            fin = arr[np.isfinite(arr)] if np.issubdtype(arr.dtype, np.floating) else arr
            span = f", {format_value(fin.min(), digits)}..{format_value(fin.max(), digits)}" if fin.size else ""
            return f"array(shape={arr.shape}{span})"
        return f"array(shape={arr.shape})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(format_value(v, digits) for v in value[:MAX_LISTED])
        more = ", ..." if len(value) > MAX_LISTED else ""
        return f"[{inner}{more}]"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def jsonable(value):
    """``value`` made fit for strict JSON: numpy scalars and arrays to Python numbers and lists, tuples to
    lists, paths to strings, and every non-finite float (inf, NaN) to None.

    Parameters
    ----------
    value : object
        Any value: mappings, sequences, numpy scalars and arrays, paths, numbers, strings, None.

    Returns
    -------
    object
        The same data as dicts, lists, Python numbers, strings and None; accepted by
        ``json.dumps(..., allow_nan=False)``.
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _all_numbers(values) -> bool:
    return all(isinstance(v, (Real, np.number)) and not isinstance(v, bool) for v in values)


def _plain(value):
    """A DataFrame cell: numpy scalars as Python numbers, everything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


class Readable:
    """Mixin giving a result a short ``__repr__``, ``_repr_html_`` and ``to_frame()``.

    Override ``_display_title()`` (one line: what the result is and its headline number) and
    ``_display_items()`` (the ``(name, value)`` pairs to show, raw values) to choose the view.
    """

    def _display_title(self) -> str:
        return type(self).__name__

    def _display_items(self) -> list[tuple[str, object]]:
        if dataclasses.is_dataclass(self):
            return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self) if f.repr]
        return [(k, v) for k, v in vars(self).items() if not k.startswith("_")]

    def __repr__(self) -> str:
        items = self._display_items()
        if not items:
            return self._display_title()
        width = max(len(name) for name, _ in items)
        lines = [self._display_title()]
        lines += [f"  {name:>{width}}: {format_value(value)}" for name, value in items]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><th style='text-align:right'>{html.escape(name)}</th>"
            f"<td style='text-align:left'>{html.escape(format_value(value))}</td></tr>"
            for name, value in self._display_items()
        )
        return (f"<table><caption style='text-align:left'><b>{html.escape(self._display_title())}</b>"
                f"</caption>{rows}</table>")

    def to_frame(self):
        """One-row :class:`pandas.DataFrame` of the displayed fields (raw values, not formatted).

        Returns
        -------
        pandas.DataFrame
            Columns are the names of ``_display_items()``.
        """
        import pandas as pd

        return pd.DataFrame([{name: _plain(value) for name, value in self._display_items()}])


def row_dict(row) -> dict:
    """One row of a :class:`Table` as a dict of its fields.

    Parameters
    ----------
    row : dict, dataclass instance or Readable
        A sweep row.

    Returns
    -------
    dict
        Field name -> raw value (a dataclass shallowly, a Readable by its displayed items).

    Raises
    ------
    InvalidInputError
        When ``row`` is none of the above.
    """
    if isinstance(row, Mapping):
        return dict(row)
    if isinstance(row, Readable):
        return dict(row._display_items())
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
    if isinstance(row, tuple) and hasattr(row, "_asdict"):
        return dict(row._asdict())
    raise InvalidInputError(
        f"a Table row must be a dict, a dataclass or a Readable result, got {type(row).__name__}")


class Table(list):
    """A list of rows (a sweep) that also prints as a table and converts to a DataFrame.

    Parameters
    ----------
    rows : iterable
        Dicts, dataclass instances or :class:`Readable` results, one per sweep point.
    title : str
        Headline of the text and HTML views.
    """

    def __init__(self, rows: Iterable = (), title: str = "rows"):
        if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
            raise InvalidInputError(f"rows must be an iterable of rows, got {type(rows).__name__}")
        super().__init__(rows)
        for row in self:
            row_dict(row)
        if not isinstance(title, str):
            raise InvalidInputError(f"title must be a string, got {title!r}")
        self.title = title

    def columns(self) -> list[str]:
        """Column names in first-seen order over all rows.

        Returns
        -------
        list of str
            Every field name of every row (via :func:`row_dict`), each once, in the order first met.
        """
        seen: dict[str, None] = {}
        for row in self:
            for k in row_dict(row):
                seen.setdefault(k, None)
        return list(seen)

    def to_frame(self):
        """A :class:`pandas.DataFrame` with one row per list item (missing fields are NaN).

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        return pd.DataFrame([{k: _plain(v) for k, v in row_dict(r).items()} for r in self], columns=self.columns())

    def _text_rows(self) -> tuple[list[str], list[list[str]]]:
        cols = self.columns()
        index = list(range(len(self)))
        if len(index) > 2 * EDGE_ROWS:
            index = index[:EDGE_ROWS] + [None] + index[-EDGE_ROWS:]
        body = []
        for i in index:
            if i is None:
                body.append(["..."] * len(cols))
                continue
            d = row_dict(self[i])
            body.append([format_value(d.get(c)) if c in d else "" for c in cols])
        return cols, body

    def __repr__(self) -> str:
        head = f"{self.title}: {len(self)} row{'s' if len(self) != 1 else ''}"
        if not self:
            return head
        cols, body = self._text_rows()
        widths = [max(len(c), *(len(r[j]) for r in body)) for j, c in enumerate(cols)]
        lines = [head, "  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in body]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cols, body = self._text_rows()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in body)
        return (f"<table><caption style='text-align:left'><b>{html.escape(self.title)}</b> "
                f"({len(self)} rows)</caption><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
