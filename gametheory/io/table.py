"""The one reader of tabular and JSON text files a user brings (benchmarks, measurements, request logs).

Every file the package reads from a user goes through here, so one set of rules holds everywhere:

- **Encoding**: UTF-8 by default; a UTF-8 byte-order mark (what spreadsheet programs write) is skipped;
  UTF-16 with a byte-order mark is decoded; anything else that is not valid UTF-8 raises
  :class:`~gametheory.errors.InvalidInputError` naming the file, the line, the byte and the encoding tried,
  and how to pass another one (``encoding="latin-1"``, ``--encoding latin-1``). A file with NUL bytes and no
  byte-order mark is reported as binary.
- **Tables** (:func:`read_table`): CSV or TSV (the separator is the one of ``,`` tab ``;`` that the header
  line uses most, or tab for ``.tsv``/``.tab`` files), a header row, blank lines and lines starting with
  ``#`` skipped. Header names are matched case-insensitively with surrounding spaces ignored; a duplicate or
  empty column name is rejected. A row with more or fewer fields than the header is rejected.
- **Columns** (:meth:`TextTable.column`, :meth:`TextTable.numbers`): a column is asked for by the user's
  name or by a list of usual names; numbers are parsed with thousands separators (``1,234.5``) accepted,
  and an empty, non-numeric, non-finite, negative (where not allowed) or fractional (where an integer is
  meant) cell raises an error naming the file, the row (the file's line number, 1-based, counting the
  header and comments) and the column.
- **JSON** (:func:`read_json`) and **JSON Lines** (:func:`read_jsonl`): the same decoding, errors naming the
  line.

Every error is an :class:`~gametheory.errors.InvalidInputError`.

References
----------
.. [1] Y. Shafranovich, "Common Format and MIME Type for Comma-Separated Values (CSV) Files", RFC 4180, 2005
   (parsed with Python's ``csv.reader``).
.. [2] T. Bray (ed.), "The JavaScript Object Notation (JSON) Data Interchange Format", RFC 8259, 2017.
.. [3] JSON Lines, jsonlines.org (one JSON value per line).
.. [4] The Unicode Standard, section 23.8 "Specials" (the byte-order mark U+FEFF).
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gametheory._validate import path as check_path
from gametheory.display import Readable
from gametheory.errors import InvalidInputError

__all__ = ["TextTable", "read_json", "read_jsonl", "read_table", "read_text"]

_SEPARATORS = (",", "\t", ";")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_SEP_NAMES = {",": "comma", "\t": "tab", ";": "semicolon"}


def read_text(path, encoding: str | None = None) -> str:
    """The text of ``path``, decoded by the rules of the module docstring.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        Codec to use instead of UTF-8 (a byte-order mark still wins).

    Returns
    -------
    str
        The text, byte-order mark removed, line ends as in the file.

    Raises
    ------
    InvalidInputError
        The file is missing, a folder, unreadable, binary, or not valid in the encoding (the message names
        the line and the byte).
    """
    p = check_path(path)
    encoding = _encoding(encoding)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InvalidInputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InvalidInputError(f"{p}: is a folder, expected a file") from None
    except OSError as exc:
        raise InvalidInputError(f"{p}: cannot read ({exc.strerror})") from None
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            return _decode(p, raw[len(bom):], codec, offset=len(bom))
    if encoding is None and b"\x00" in raw[:8192]:
        raise InvalidInputError(f"{p}: contains NUL bytes: a binary file, or UTF-16 text without a byte-order mark "
                                "(save it as UTF-8)")
    codec = encoding or "utf-8"
    try:
        codecs.lookup(codec)
    except LookupError:
        raise InvalidInputError(f"encoding: unknown codec {codec!r}") from None
    return _decode(p, raw, codec)


def _encoding(encoding) -> str | None:
    """None, or the name of a text codec Python knows."""
    if encoding is None:
        return None
    if not isinstance(encoding, str) or not encoding:
        raise InvalidInputError(f"encoding must be a codec name such as 'latin-1', got {encoding!r}")
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise InvalidInputError(f"encoding {encoding!r}: unknown codec (try 'utf-8' or 'latin-1')") from None
    if not getattr(info, "_is_text_encoding", True):
        raise InvalidInputError(f"encoding {encoding!r} is not a text codec")
    return encoding


def _decode(p: Path, raw: bytes, codec: str, offset: int = 0) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        bad = raw[exc.start:exc.start + 1].hex().upper()
        raise InvalidInputError(
            f"{p}, row {line}: byte 0x{bad} at offset {exc.start + offset} is not valid {codec.upper()}; "
            "save the file as UTF-8, or name its encoding (encoding='latin-1' in Python, --encoding latin-1 "
            "on the command line)"
        ) from None


def _number(cell: str) -> float:
    text = cell.strip()
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    return float(text)


@dataclass(frozen=True, eq=False, repr=False)
class TextTable(Readable):
    """A table read from a text file: the header, the cells as strings, and each row's line in the file.

    Parameters
    ----------
    path : str
        The file it came from (named in every error).
    header : tuple of str
        Column names as written (spaces stripped).
    frame : pandas.DataFrame
        The cells, as strings, one column per header name.
    lines : numpy.ndarray
        The file's line number (1-based) of each row.
    separator : str
        The field separator used.
    """

    path: str
    header: tuple[str, ...]
    frame: object = field(repr=False)
    lines: np.ndarray = field(repr=False)
    separator: str = ","

    def _display_title(self) -> str:
        return f"TextTable {self.path}: {len(self)} rows x {len(self.header)} columns"

    def _display_items(self):
        return [("columns", ", ".join(self.header)), ("separator", _SEP_NAMES.get(self.separator, self.separator))]

    def __len__(self) -> int:
        return int(self.lines.size)

    def has(self, name: str) -> bool:
        """Whether a column of that name exists (case-insensitive, spaces ignored).

        Parameters
        ----------
        name : str
            The column name to look for.

        Returns
        -------
        bool
            True when a header name equals ``name`` ignoring case and surrounding spaces.
        """
        key = name.strip().lower()
        return any(h.lower() == key for h in self.header)

    def column(self, wanted: str | None = None, candidates: Sequence[str] = (), what: str = "column") -> str:
        """The header name of a column: ``wanted`` if given, else the first of ``candidates`` present.

        Parameters
        ----------
        wanted : str, optional
            The user's column name (``--load-column``).
        candidates : sequence of str
            Usual names, tried in order when ``wanted`` is None.
        what : str
            What the column holds, for the error message ("load", "latency").

        Returns
        -------
        str
            The column's name as written in the header.

        Raises
        ------
        InvalidInputError
            No such column; the message lists the header.
        """
        names = (wanted,) if wanted else tuple(candidates)
        lower = [h.lower() for h in self.header]
        for name in names:
            key = name.strip().lower()
            if key in lower:
                return self.header[lower.index(key)]
        looked = ", ".join(repr(n) for n in names)
        hint = "" if wanted else f"; name it ({what}_column=... in Python, --{what}-column on the command line)"
        raise InvalidInputError(f"{self.path}, row {self._header_line}: no {what} column (looked for {looked}; "
                                f"the header is {', '.join(repr(h) for h in self.header)}){hint}")

    @property
    def _header_line(self) -> int:
        return int(self.frame.attrs.get("header_line", 1))

    def _raise_cell(self, name: str, i: int, text: str, **rules) -> None:
        where = f"{self.path}, row {int(self.lines[i])}, column '{name}'"
        if text == "":
            raise InvalidInputError(f"{where}: empty cell")
        try:
            v = _number(text)
        except ValueError:
            raise InvalidInputError(f"{where}: {text!r} is not a number") from None
        if not math.isfinite(v):
            raise InvalidInputError(f"{where}: {text!r} is not finite")
        if rules.get("positive") and v <= 0:
            raise InvalidInputError(f"{where}: must be > 0, got {text!r}")
        if rules.get("nonnegative") and v < 0:
            raise InvalidInputError(f"{where}: must be >= 0, got {text!r}")
        raise InvalidInputError(f"{where}: must be a whole number, got {text!r}")

    def strings(self, name: str) -> list[str]:
        """The cells of column ``name`` as stripped strings.

        Parameters
        ----------
        name : str
            A header name as written in the header (see :meth:`column`).

        Returns
        -------
        list of str
            One string per data row, surrounding spaces removed.
        """
        return [str(v).strip() for v in self.frame[name].tolist()]

    def numbers(self, name: str, *, nonnegative: bool = False, positive: bool = False,
                integer: bool = False) -> np.ndarray:
        """Column ``name`` as a float array (an int array when ``integer``), every cell checked.

        Parameters
        ----------
        name : str
            A header name (see :meth:`column`).
        nonnegative, positive : bool
            Reject negative (or nonpositive) values.
        integer : bool
            Reject fractional values; return int64.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        InvalidInputError
            An empty, non-numeric, non-finite or out-of-range cell, naming file, row and column.
        """
        import pandas as pd

        cells = self.frame[name].str.strip()
        cleaned = cells.where(~cells.str.match(_THOUSANDS), cells.str.replace(",", "", regex=False))
        out = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(out)
        if positive:
            bad |= out <= 0
        if nonnegative:
            bad |= out < 0
        if integer:
            bad |= out != np.round(out)
        if bad.any():
            i = int(np.argmax(bad))
            self._raise_cell(name, i, str(cells.iloc[i]), positive=positive, nonnegative=nonnegative,
                             integer=integer)
        return out.astype(np.int64) if integer else out


def _separator(path: Path, header_line: str, sep: str | None) -> str:
    if sep is not None:
        if not isinstance(sep, str) or len(sep) != 1 or sep in "\n\r\"":
            raise InvalidInputError(f"sep must be one character such as ',' or a tab, got {sep!r}")
        return sep
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    counts = [header_line.count(s) for s in _SEPARATORS]
    best = int(np.argmax(counts))
    return _SEPARATORS[best] if counts[best] > 0 else ","


def read_table(path, *, encoding: str | None = None, sep: str | None = None) -> TextTable:
    """Read a CSV or TSV file with a header row by the rules of the module docstring.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        Codec when the file is not UTF-8 (e.g. ``"latin-1"``).
    sep : str, optional
        Field separator; by default the one of ``,`` tab ``;`` the header uses most (tab for .tsv).

    Returns
    -------
    TextTable

    Raises
    ------
    InvalidInputError
        Unreadable or undecodable file, no header, a duplicate or empty column name, a row with the wrong
        number of fields, or no data rows; the message names the file and the row.
    """
    import csv

    import pandas as pd

    p = check_path(path)
    text = read_text(p, encoding)
    kept = [(no, line.rstrip("\r")) for no, line in enumerate(text.split("\n"), start=1)]
    kept = [(no, line) for no, line in kept if line.strip() and not line.lstrip().startswith("#")]
    if not kept:
        raise InvalidInputError(f"{p}: empty file (expected a header row and data rows)")
    header_no, header_text = kept[0]
    separator = _separator(p, header_text, sep)
    rows = list(csv.reader([line for _, line in kept], delimiter=separator))
    header = tuple(h.strip() for h in rows[0])
    seen: dict[str, int] = {}
    for j, name in enumerate(header, start=1):
        if not name:
            raise InvalidInputError(f"{p}, row {header_no}: column {j} has no name (header {', '.join(header)})")
        key = name.lower()
        if key in seen:
            raise InvalidInputError(f"{p}, row {header_no}: duplicate column {name!r} (columns {seen[key]} and {j}); "
                                    "rename one")
        seen[key] = j
    if len(rows) != len(kept):  # a quoted field spanning lines: the line map would be wrong
        raise InvalidInputError(f"{p}: a quoted field spans several lines; one row per line is expected")
    body = rows[1:]
    if not body:
        raise InvalidInputError(f"{p}, row {header_no}: header only, no data rows")
    for (no, _), r in zip(kept[1:], body, strict=True):
        if len(r) != len(header):
            raise InvalidInputError(f"{p}, row {no}: {len(r)} fields, but the header has {len(header)} "
                                    f"({_SEP_NAMES.get(separator, repr(separator))}-separated)")
    frame = pd.DataFrame(body, columns=list(header), dtype=str)
    frame.attrs["header_line"] = header_no
    lines = np.asarray([no for no, _ in kept[1:]], dtype=np.int64)
    return TextTable(path=str(p), header=header, frame=frame, lines=lines, separator=separator)


def read_json(path, *, encoding: str | None = None):
    """Parse a JSON file (decoded as :func:`read_text`); errors name the line.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional

    Returns
    -------
    object
        The parsed document.

    Raises
    ------
    InvalidInputError
        Unreadable file or invalid JSON (with its line and column).
    """
    p = check_path(path)
    text = read_text(p, encoding)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{p}, row {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None


def read_jsonl(path, *, encoding: str | None = None) -> list[tuple[int, object]]:
    """Parse a JSON Lines file: one JSON value per non-blank line.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional

    Returns
    -------
    list of (int, object)
        (line number, parsed value) per record.

    Raises
    ------
    InvalidInputError
        Unreadable file, a line that is not valid JSON (naming the line), or no records.
    """
    p = check_path(path)
    out = []
    for no, line in enumerate(read_text(p, encoding).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append((no, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{p}, row {no}, column {exc.colno}: not valid JSON ({exc.msg})") from None
    if not out:
        raise InvalidInputError(f"{p}: no records (an empty JSON Lines file)")
    return out
