"""Read latency measurements a user brings: a plain table, and NVIDIA aiperf / genai-perf artifacts.

Inputs understood (every file goes through :mod:`gametheory.io.table`, so UTF-8 byte-order marks, ``#``
comments and the encoding rules are the same everywhere, and errors name the file, row and column):

- a **plain table** (CSV or TSV) with a header row and one measurement per row: a load column
  (concurrency, requests/s, ...) and a latency column in ms. :func:`read_csv` returns a
  :class:`Measurements` that :func:`gametheory.fitting.fit` can consume. Columns are chosen by name
  (``load_column=``, ``latency_column=``) or found among the usual names (:data:`LOAD_COLUMNS`; for latency
  ``latency`` / ``latency_ms``, else the one column whose name mentions ttft, itl, tpot, e2e or latency);
- the **summary JSON** of one run: ``profile_export_aiperf.json`` written by ``aiperf profile`` (each metric
  a stats block ``{"unit", "avg", "p50", "p99", ...}``, the run's settings under ``input_config``) or
  ``profile_export_genai_perf.json`` written by ``genai-perf profile``;
- the **summary CSV** of one run (``profile_export_aiperf.csv``, ``*_genai_perf.csv``): a section headed
  ``Metric,avg,min,max,p..`` with one row per per-request metric, a blank line, and a section headed
  ``Metric,Value`` with the run-level metrics; genai-perf writes thousands separators ("1,234.56");
- the **per-request records** of one run (``profile_export.jsonl``, aiperf): one JSON object per request
  with ``metadata`` (``request_start_ns``, ``request_end_ns``, ``benchmark_phase``, ...), ``metrics``
  (``{"time_to_first_token": {"value": ..., "unit": "ms"}, ...}``) and ``error`` (null on success).
  Failed, cancelled and warm-up requests are left out; the statistics (avg, min, max, std, p1 ... p99) are
  computed from the rest (:class:`RequestRecords`);
- an **artifacts folder**: every run found under it (aiperf's sweep layouts ``concurrency_10/``,
  ``request_rate_5.0/``, with trials under ``profile_runs/trial_NNNN/``; genai-perf's ``...-concurrency64/``),
  one run per folder, its summary JSON preferred to its CSV and the CSV to its JSONL. aiperf's
  cross-run aggregates (``*_aggregate.*``, ``*_collated.*``, ``*_sweep.*``) are skipped.

:func:`read_benchmark` reads one run into a :class:`BenchmarkRun`; :func:`read_sweep` reads many into a
:class:`BenchmarkSweep` ordered by load, whose :meth:`BenchmarkSweep.measurements` gives the load-latency
points (e.g. TTFT P99 against concurrency) to fit and to find the knee on. A run's load is its
concurrency (or request rate) from the export's settings, else from its folder name; for per-request
records with neither, the mean number of requests in flight (Little's law: total request time divided by
the run's wall time), and the run says so in ``load_source``.

References
----------
.. [1] NVIDIA aiperf, https://github.com/ai-dynamo/aiperf: export formats in
   ``docs/tutorials/working-with-profile-exports.md``, ``docs/reference/json-export-schema.md`` and
   ``docs/api/sweep-aggregates.md``.
.. [2] NVIDIA genai-perf (triton-inference-server/perf_analyzer, ``genai-perf``): ``profile_export_genai_perf``
   JSON and CSV summaries.
.. [3] J. D. C. Little, "A proof for the queuing formula L = lambda W", Oper. Res. 9, 1961 (the mean number
   of requests in flight from per-request timestamps).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gametheory._validate import choice, instance, positive_scalar
from gametheory._validate import path as check_path
from gametheory.display import Readable
from gametheory.errors import InvalidInputError
from gametheory.io.table import TextTable, read_json, read_jsonl, read_table, read_text

__all__ = [
    "LATENCY_METRICS",
    "LOAD_COLUMNS",
    "BenchmarkRun",
    "BenchmarkSweep",
    "Measurements",
    "RequestRecords",
    "choose_columns",
    "find_runs",
    "load_from_path",
    "read_benchmark",
    "read_csv",
    "read_records",
    "read_sweep",
]

#: usual names of a load column, tried in order
LOAD_COLUMNS = ("load", "concurrency", "rate", "request_rate", "qps", "rps", "tokens", "batch")
#: exact names of a latency column (ms), tried first
LATENCY_COLUMNS = ("latency", "latency_ms")
#: words that mark a latency-like column when no exact name is present
LATENCY_HINTS = ("ttft", "itl", "tpot", "e2e", "latency")

#: per-request metrics kept from the exports (normalized names) and run-level throughputs
LATENCY_METRICS = ("time_to_first_token", "inter_token_latency", "request_latency")
THROUGHPUT_METRICS = ("request_throughput", "output_token_throughput")
#: the metric names users type, to the export's names
METRIC_NAMES = {
    "ttft": "time_to_first_token", "time_to_first_token": "time_to_first_token",
    "itl": "inter_token_latency", "inter_token_latency": "inter_token_latency",
    "e2e": "request_latency", "request_latency": "request_latency",
}
#: aliases seen in export headers, normalized -> canonical name
_ALIASES = {
    "ttft": "time_to_first_token",
    "itl": "inter_token_latency",
    "request_throughput_per_sec": "request_throughput",
    "output_token_throughput_per_sec": "output_token_throughput",
}
_TIME_UNITS_TO_MS = {"ms": 1.0, "s": 1e3, "sec": 1e3, "seconds": 1e3, "us": 1e-3, "ns": 1e-6}
_LOAD_IN_PATH = (
    ("concurrency", re.compile(r"concurrency[_\-=]?(\d+(?:\.\d+)?)", re.IGNORECASE)),
    ("request_rate", re.compile(r"request[_\-]?rate[_\-=]?(\d+(?:\.\d+)?)", re.IGNORECASE)),
)
_PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
_SKIPPED_EXPORTS = ("aggregate", "collated", "sweep", "telemetry", "server_metrics", "inputs", "outputs")


# --------------------------------------------------------------------------------------------------
# plain tables
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class Measurements(Readable):
    """Load-latency points: ``load`` (the caller's unit) and ``latency_ms`` arrays of equal length.

    Parameters
    ----------
    load : numpy.ndarray, shape (n,)
        Load of each point (concurrency, requests/s, ...: the caller's unit).
    latency_ms : numpy.ndarray, shape (n,)
        Latency of each point (ms).
    source : str
        Where the points came from (a file, or several joined by commas).
    load_name, latency_name : str, optional
        Column names, used as axis labels and frame columns.
    weights : numpy.ndarray, shape (n,), optional
        Per-point weights for the fit (> 0).
    """

    load: np.ndarray
    latency_ms: np.ndarray
    source: str
    load_name: str = "load"
    latency_name: str = "latency_ms"
    weights: np.ndarray | None = None

    def _display_title(self) -> str:
        return f"Measurements: {len(self)} points of {self.latency_name} against {self.load_name} ({self.source})"

    def _display_items(self):
        return [("load", self.load), ("latency_ms", self.latency_ms)]

    def __len__(self) -> int:
        return int(self.load.size)

    def to_frame(self):
        """One row per point: load, latency (ms) and weight when present.

        Returns
        -------
        pandas.DataFrame
            Columns ``load_name``, ``latency_name`` and ``weight`` (when weights were read).
        """
        import pandas as pd

        data = {self.load_name: self.load, f"{self.latency_name}": self.latency_ms}
        if self.weights is not None:
            data["weight"] = self.weights
        return pd.DataFrame(data)

    def fit(self, family: str = "auto", **kwargs):
        """Fit a latency curve to the points with :func:`gametheory.fitting.fit`.

        Parameters
        ----------
        family : str, optional
            Curve family (default ``"auto"``: the best by the fit's criterion).
        **kwargs
            Passed to :func:`gametheory.fitting.fit`; ``weights`` defaults to the points' weights.

        Returns
        -------
        FitResult
            The fitted curve and its diagnostics.
        """
        from gametheory.fitting import fit

        kwargs.setdefault("weights", self.weights)
        return fit(self.load, self.latency_ms, family=family, **kwargs)

    def plot(self, ax=None):
        """Scatter of latency against load.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw into (default a new figure in the shared style).

        Returns
        -------
        matplotlib.axes.Axes
            The axes, labelled with the load name and latency (ms).
        """
        from gametheory.plotting import axes, axis_label

        ax = axes(ax)
        ax.plot(self.load, self.latency_ms, "o", label="measured")
        ax.set_xlabel(self.load_name)
        ax.set_ylabel(axis_label(self.latency_name, "ms"))
        return ax


def choose_columns(table, load_column: str | None = None, latency_column: str | None = None) -> tuple[str, str]:
    """The (load, latency) column names of a :class:`~gametheory.io.table.TextTable`.

    Parameters
    ----------
    table : TextTable
        A table read by :func:`gametheory.io.table.read_table`.
    load_column, latency_column : str, optional
        The user's names; by default the first of :data:`LOAD_COLUMNS`, and ``latency`` / ``latency_ms`` or
        else the single column whose name mentions one of :data:`LATENCY_HINTS`.

    Returns
    -------
    (str, str)
        The load column and the latency column.

    Raises
    ------
    InvalidInputError
        A named column is missing, none is found, or several latency-like columns leave the choice open.
    """
    instance(table, TextTable, "table", what="TextTable (gametheory.io.table.read_table)")
    for name, value in (("load_column", load_column), ("latency_column", latency_column)):
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(f"{name} must be a column name (a string), got {value!r}")
    load = table.column(load_column, LOAD_COLUMNS, what="load")
    if latency_column or any(table.has(n) for n in LATENCY_COLUMNS):
        return load, table.column(latency_column, LATENCY_COLUMNS, what="latency")
    hinted = [h for h in table.header if h != load and any(k in h.lower() for k in LATENCY_HINTS)]
    if len(hinted) == 1:
        return load, hinted[0]
    if len(hinted) > 1:
        raise InvalidInputError(
            f"{table.path}, row {table.frame.attrs.get('header_line', 1)}: several latency columns "
            f"({', '.join(repr(h) for h in hinted)}); choose one (latency_column=..., --latency-column ...)"
        )
    return load, table.column(None, LATENCY_COLUMNS, what="latency")


def read_csv(path, load_column: str | None = None, latency_column: str | None = None, *,
             weight_column: str | None = None, encoding: str | None = None) -> Measurements:
    """Read a plain CSV/TSV table of measurements (header row, one point per row).

    Parameters
    ----------
    path : str or Path
        The CSV or TSV file.
    load_column, latency_column : str, optional
        Column names (see :func:`choose_columns` for the defaults). Latency is in ms.
    weight_column : str, optional
        A column of per-point weights (> 0); a column named ``weight`` is used when present.
    encoding : str, optional
        When the file is not UTF-8.

    Returns
    -------
    Measurements
        Points in file order.

    Raises
    ------
    InvalidInputError
        Unreadable file, missing columns, or a bad cell (naming file, row and column).
    """
    if weight_column is not None and not isinstance(weight_column, str):
        raise InvalidInputError(f"weight_column must be a column name (a string), got {weight_column!r}")
    table = read_table(path, encoding=encoding)
    load, latency = choose_columns(table, load_column, latency_column)
    if load == latency:
        raise InvalidInputError(f"{table.path}: the load and latency columns are both {load!r}")
    weights = None
    if weight_column or table.has("weight"):
        weights = table.numbers(table.column(weight_column, ("weight",), what="weight"), positive=True)
    return Measurements(
        load=table.numbers(load, nonnegative=True),
        latency_ms=table.numbers(latency, nonnegative=True),
        source=table.path,
        load_name=load,
        latency_name=latency,
        weights=weights,
    )


# --------------------------------------------------------------------------------------------------
# aiperf / genai-perf runs
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class BenchmarkRun(Readable):
    """Summary of one aiperf / genai-perf run.

    Parameters
    ----------
    source : str
        The export file.
    tool : str
        ``"aiperf"``, ``"genai-perf"`` or ``"unknown"``.
    concurrency : float or None
        Closed-loop concurrency of the run, when known.
    request_rate : float or None
        Request rate of the run (requests/s), when known.
    ttft_ms, itl_ms, request_latency_ms : dict of str to float, optional
        Statistic name (``avg``, ``min``, ``max``, ``p50``, ``p90``, ``p99``, ...) to its value in ms.
    request_throughput : float or None, optional
        Requests/s (None when the export lacks it).
    output_token_throughput : float or None, optional
        Output tokens/s (None when the export lacks it).
    load_source : str, optional
        Where the concurrency or rate came from (export settings, folder name, given, Little's law).
    """

    source: str
    tool: str  # "aiperf" | "genai-perf" | "unknown"
    concurrency: float | None
    request_rate: float | None
    ttft_ms: dict[str, float] = field(default_factory=dict)
    itl_ms: dict[str, float] = field(default_factory=dict)
    request_latency_ms: dict[str, float] = field(default_factory=dict)
    request_throughput: float | None = None  # requests/s
    output_token_throughput: float | None = None  # tokens/s
    load_source: str = ""

    def _display_title(self) -> str:
        return f"BenchmarkRun ({self.tool}) {self.source}"

    def stat(self, metric: str, stat: str) -> float:
        """One statistic, e.g. ``run.stat("ttft", "p99")``.

        Parameters
        ----------
        metric : str
            ``"ttft"``, ``"itl"``, ``"e2e"`` or their long names (``time_to_first_token``, ...).
        stat : str
            ``"avg"``, ``"min"``, ``"max"``, ``"p50"``, ``"p99"``, ...

        Returns
        -------
        float
            The value (ms).

        Raises
        ------
        InvalidInputError
            An unknown metric, or a statistic the export does not have (naming the file and the field).
        """
        table = {
            "ttft": self.ttft_ms, "time_to_first_token": self.ttft_ms,
            "itl": self.itl_ms, "inter_token_latency": self.itl_ms,
            "e2e": self.request_latency_ms, "request_latency": self.request_latency_ms,
        }
        if metric not in table:
            raise InvalidInputError(f"metric must be one of {sorted(table)}, got {metric!r}")
        values = table[metric]
        if stat not in values:
            raise InvalidInputError(
                f"{self.source}: field '{metric}.{stat}' is missing (available: {sorted(values) or 'none'})"
            )
        return values[stat]

    def load(self, name: str) -> float | None:
        """The run's ``"concurrency"`` or ``"request_rate"``.

        Parameters
        ----------
        name : str
            ``"concurrency"``; anything else gives the request rate.

        Returns
        -------
        float or None
            The load (clients, or requests/s), None when unknown.
        """
        return self.concurrency if name == "concurrency" else self.request_rate


def _normalize(name: str) -> tuple[str, str | None]:
    """'Time to First Token (ms)' -> ('time_to_first_token', 'ms')."""
    unit = None
    m = re.match(r"^(.*?)\s*\(([^)]*)\)\s*$", name.strip())
    if m:
        name, unit = m.group(1), m.group(2).strip()
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return _ALIASES.get(key, key), unit


def _to_ms(value: float, unit: str | None, where: str) -> float:
    if unit is None:
        return value
    u = unit.strip().lower()
    if u not in _TIME_UNITS_TO_MS:
        raise InvalidInputError(f"{where}: unknown time unit {unit!r} (expected one of {sorted(_TIME_UNITS_TO_MS)})")
    return value * _TIME_UNITS_TO_MS[u]


def _cell(text, path: Path, row: int | None, field_name: str) -> float:
    """One numeric value of an export (thousands separators allowed); errors name file, row and field."""
    where = f"{path}" + (f", row {row}" if row is not None else "") + f", field '{field_name}'"
    cleaned = str(text).strip().replace(",", "")
    if cleaned == "":
        raise InvalidInputError(f"{where}: empty value")
    try:
        value = float(cleaned)
    except ValueError:
        raise InvalidInputError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InvalidInputError(f"{where}: {text!r} is not finite")
    if value < 0:
        raise InvalidInputError(f"{where}: {value!r} is negative")
    return value


def _find_key(obj: Any, key: str) -> Any:
    """First value stored under ``key`` anywhere in nested dicts (depth-first), else None."""
    if isinstance(obj, dict):
        if key in obj and obj[key] is not None:
            return obj[key]
        for v in obj.values():
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


def load_from_path(path: Path, name: str) -> float | None:
    """The ``concurrency`` or ``request_rate`` a run's path names (``concurrency_64``, ``request_rate_5.0``,
    genai-perf's ``...-concurrency64``), innermost folder first.

    Parameters
    ----------
    path : str or Path
        A run's export file or folder.
    name : {"concurrency", "request_rate"}
        Which load to look for.

    Returns
    -------
    float or None
        The number in the innermost path part that names it; None when no part does.

    Raises
    ------
    InvalidInputError
        An unknown ``name`` or an invalid path.
    """
    pattern = dict(_LOAD_IN_PATH)[choice(name, "name", tuple(dict(_LOAD_IN_PATH)))]
    path = check_path(path)
    for part in reversed(path.parts):
        m = pattern.search(part)
        if m:
            return float(m.group(1))
    return None


def _tool_from(path: Path, data: dict | None = None) -> str:
    name = path.name.lower()
    if "genai_perf" in name or "genai-perf" in name:
        return "genai-perf"
    if "aiperf" in name or name.startswith("profile_export"):
        return "aiperf"
    if data is not None:
        cfg = data.get("input_config")
        if isinstance(cfg, dict) and "loadgen" in cfg:
            return "aiperf"
    return "unknown"


def _read_export_json(path: Path, encoding: str | None):
    data = read_json(path, encoding=encoding)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected a JSON object of metric blocks, got {type(data).__name__}")
    stats: dict[str, dict[str, float]] = {}
    units: dict[str, str | None] = {}
    for key, block in data.items():
        name, _ = _normalize(key)
        if name not in LATENCY_METRICS + THROUGHPUT_METRICS:
            continue
        if not isinstance(block, dict):
            raise InvalidInputError(f"{path}: field '{key}' must be a stats object, got {block!r}")
        units[name] = block.get("unit")
        values = {}
        for stat, v in block.items():
            if stat in ("unit", "count", "sum") or v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise InvalidInputError(f"{path}: field '{key}.{stat}' is not a number: {v!r}")
            values[stat] = _cell(v, path, None, f"{key}.{stat}")
        stats[name] = values
    return stats, units, data


def _read_export_csv(path: Path, encoding: str | None):
    rows = list(csv.reader(read_text(path, encoding).splitlines()))
    stats: dict[str, dict[str, float]] = {}
    units: dict[str, str | None] = {}
    header: list[str] | None = None
    for line, r in enumerate(rows, 1):
        if not r or not any(c.strip() for c in r):
            header = None
            continue
        first = r[0].strip()
        if first in ("Metric", "Endpoint"):
            header = [c.strip() for c in r] if first == "Metric" else None
            continue
        if header is None:
            continue  # telemetry or unknown section
        name, unit = _normalize(first)
        if name not in LATENCY_METRICS + THROUGHPUT_METRICS:
            continue
        if len(r) > len(header):
            raise InvalidInputError(f"{path}, row {line}: {len(r)} fields but the section header has {len(header)}")
        values = {}
        for col, cell in zip(header[1:], r[1:], strict=False):
            if cell.strip() == "":
                continue
            stat = "avg" if col.lower() == "value" else col.lower()
            values[stat] = _cell(cell, path, line, f"{first} / {col}")
        stats[name] = values
        units[name] = unit
    if not stats:
        raise InvalidInputError(
            f"{path}: no 'Metric,...' section with TTFT, ITL, request latency or throughput rows; "
            "is this an aiperf/genai-perf summary CSV?"
        )
    return stats, units


@dataclass(frozen=True, eq=False, repr=False)
class RequestRecords(Readable):
    """Per-request records of one run (aiperf ``profile_export.jsonl``), successful profiling requests only.

    Parameters
    ----------
    source : str
        The JSONL file.
    start_ns, end_ns : numpy.ndarray, shape (n,)
        Request start and end (epoch ns; NaN when absent), one entry per kept request in file order.
    metrics : dict of str to numpy.ndarray
        One array of shape (n,) per latency metric (:data:`LATENCY_METRICS`), in ms; NaN where a request lacks
        the metric (e.g. TTFT of a non-streaming request).
    dropped : int, optional
        Failed, cancelled and warm-up records left out.
    """

    source: str
    start_ns: np.ndarray
    end_ns: np.ndarray
    metrics: dict
    dropped: int = 0

    def _display_title(self) -> str:
        return f"RequestRecords {self.source}: {len(self)} requests ({self.dropped} dropped)"

    def _display_items(self):
        return [(k, v) for k, v in self.metrics.items()]

    def __len__(self) -> int:
        return int(self.start_ns.size)

    def to_frame(self):
        """One row per request: start/end (ns) and each latency metric (ms).

        Returns
        -------
        pandas.DataFrame
            Columns ``request_start_ns``, ``request_end_ns`` and ``<metric>_ms``.
        """
        import pandas as pd

        return pd.DataFrame({"request_start_ns": self.start_ns, "request_end_ns": self.end_ns,
                             **{f"{k}_ms": v for k, v in self.metrics.items()}})

    def stats(self, metric: str) -> dict[str, float]:
        """avg, min, max, std and p1 ... p99 of one metric (ms) over the requests that have it.

        Parameters
        ----------
        metric : str
            One of :data:`LATENCY_METRICS`.

        Returns
        -------
        dict of str to float
            ``avg``, ``min``, ``max``, ``std`` (sample, 0 for one request) and ``p1`` ... ``p99`` (ms); empty
            when no request has the metric (or the metric is unknown).
        """
        v = self.metrics.get(metric, np.zeros(0))
        v = v[np.isfinite(v)]
        if v.size == 0:
            return {}
        out = {"avg": float(v.mean()), "min": float(v.min()), "max": float(v.max()),
               "std": float(v.std(ddof=1)) if v.size > 1 else 0.0}
        out.update({f"p{q}": float(x) for q, x in zip(_PERCENTILES, np.percentile(v, _PERCENTILES), strict=True)})
        return out

    def mean_in_flight(self) -> float | None:
        """Little's law: total request time / wall time of the run.

        Returns
        -------
        float or None
            Mean requests in flight; None with fewer than two timestamped requests or a zero span.
        """
        ok = np.isfinite(self.start_ns) & np.isfinite(self.end_ns)
        if ok.sum() < 2:
            return None
        span = float(self.end_ns[ok].max() - self.start_ns[ok].min())
        return float(np.sum(self.end_ns[ok] - self.start_ns[ok]) / span) if span > 0 else None

    def in_flight(self) -> np.ndarray:
        """Requests in flight when each request started (itself included), from the timestamps.

        Returns
        -------
        numpy.ndarray
            One count per request (float; NaN where a request lacks a timestamp).

        Raises
        ------
        InvalidInputError
            No request has both timestamps.
        """
        ok = np.isfinite(self.start_ns) & np.isfinite(self.end_ns)
        if not ok.any():
            raise InvalidInputError(f"{self.source}: no request has both request_start_ns and request_end_ns")
        starts, ends = np.sort(self.start_ns[ok]), np.sort(self.end_ns[ok])
        out = np.full(self.start_ns.size, np.nan)
        s = self.start_ns[ok]
        out[ok] = np.searchsorted(starts, s, side="right") - np.searchsorted(ends, s, side="right")
        return out

    def by_load(self, metric: str = "ttft", stat: str = "p99", *, min_requests: int = 20) -> Measurements:
        """Load-latency points from one run whose load varied (a ramp, a request-rate run): the requests
        grouped by how many were in flight when they started, one point per group.

        Parameters
        ----------
        metric : {"ttft", "itl", "e2e"}
            The latency metric.
        stat : str
            ``avg`` or ``p<q>`` (e.g. ``p99``) of the metric over each group's requests.
        min_requests : int
            Requests per group at least (equal in-flight counts are never split).

        Returns
        -------
        Measurements
            ``load`` = mean requests in flight of each group, ``latency_ms`` = the statistic.

        Raises
        ------
        InvalidInputError
            Unknown metric or statistic, or no request with the metric and timestamps.
        """
        name = METRIC_NAMES.get(metric)
        if name is None:
            raise InvalidInputError(f"metric must be one of {sorted(METRIC_NAMES)}, got {metric!r}")
        if stat != "avg" and not re.fullmatch(r"p\d{1,2}(\.\d+)?", stat):
            raise InvalidInputError(f"stat must be 'avg' or a percentile such as 'p99', got {stat!r}")
        load = self.in_flight()
        value = self.metrics[name]
        ok = np.isfinite(load) & np.isfinite(value)
        if not ok.any():
            raise InvalidInputError(f"{self.source}: no request has {name} and both timestamps")
        order = np.argsort(load[ok], kind="stable")
        load, value = load[ok][order], value[ok][order]
        groups, start = [], 0
        while start < load.size:
            end = min(start + max(int(min_requests), 1), load.size)
            while end < load.size and load[end] == load[end - 1]:
                end += 1
            if load.size - end < min_requests:  # a short tail joins the last group
                end = load.size
            groups.append((start, end))
            start = end
        loads = np.array([load[a:b].mean() for a, b in groups])
        stats = np.array([value[a:b].mean() if stat == "avg" else np.percentile(value[a:b], float(stat[1:]))
                          for a, b in groups])
        return Measurements(load=loads, latency_ms=stats, source=self.source, load_name="requests in flight",
                            latency_name=f"{metric}_{stat}_ms")

    def throughput(self) -> float | None:
        """Completed requests per second over the run's wall time.

        Returns
        -------
        float or None
            Requests/s; None with fewer than two timestamped requests or a zero span.
        """
        ok = np.isfinite(self.start_ns) & np.isfinite(self.end_ns)
        if ok.sum() < 2:
            return None
        span = float(self.end_ns[ok].max() - self.start_ns[ok].min()) * 1e-9
        return float(ok.sum() / span) if span > 0 else None


def read_records(path, *, encoding: str | None = None) -> RequestRecords:
    """Read aiperf's per-request JSON Lines export (``profile_export.jsonl``).

    Parameters
    ----------
    path : str or Path
        The ``profile_export.jsonl`` file.
    encoding : str, optional
        When the file is not UTF-8.

    Returns
    -------
    RequestRecords
        Successful profiling requests in file order.

    Raises
    ------
    InvalidInputError
        A line that is not JSON or not a record object, a metric value that is not a nonnegative number or
        has an unknown time unit (naming file, row and field), or no successful profiling request.
    """
    p = check_path(path)
    starts, ends, dropped = [], [], 0
    values: dict[str, list[float]] = {m: [] for m in LATENCY_METRICS}
    for no, rec in read_jsonl(p, encoding=encoding):
        if not isinstance(rec, dict) or "metrics" not in rec:
            raise InvalidInputError(f"{p}, row {no}: expected a record object with 'metadata' and 'metrics'")
        meta = rec.get("metadata") or {}
        if not isinstance(meta, dict):
            raise InvalidInputError(f"{p}, row {no}, field 'metadata': expected an object")
        if rec.get("error") or meta.get("was_cancelled") or meta.get("benchmark_phase", "profiling") != "profiling":
            dropped += 1
            continue
        metrics = rec.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise InvalidInputError(f"{p}, row {no}, field 'metrics': expected an object")
        for name in LATENCY_METRICS:
            block = metrics.get(name)
            if block is None:
                values[name].append(math.nan)
                continue
            if not isinstance(block, dict) or "value" not in block:
                raise InvalidInputError(f"{p}, row {no}, field 'metrics.{name}': expected {{'value', 'unit'}}")
            raw = block["value"]
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise InvalidInputError(f"{p}, row {no}, field 'metrics.{name}.value': not a number: {raw!r}")
            v = _cell(raw, p, no, f"metrics.{name}.value")
            values[name].append(_to_ms(v, block.get("unit"), f"{p}, row {no}, field 'metrics.{name}.unit'"))
        for key, out in (("request_start_ns", starts), ("request_end_ns", ends)):
            t = meta.get(key)
            out.append(float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else math.nan)
    if not starts:
        raise InvalidInputError(f"{p}: no successful profiling request among {dropped} records")
    return RequestRecords(source=str(p), start_ns=np.asarray(starts), end_ns=np.asarray(ends),
                          metrics={m: np.asarray(v, float) for m, v in values.items()}, dropped=dropped)


def _sibling_settings(path: Path, encoding: str | None) -> dict | None:
    """The summary JSON next to a JSONL export (for its input_config), if any."""
    for name in ("profile_export_aiperf.json", "profile_export_genai_perf.json"):
        sib = path.parent / name
        if sib.is_file():
            data = read_json(sib, encoding=encoding)
            return data if isinstance(data, dict) else None
    return None


def _setting(data: dict, name: str):
    """A run setting (``concurrency``, ``request_rate``) from an export: the sweep coordinates in
    ``run_info.variation_values`` first, then ``input_config.loadgen`` and ``input_config.phases.profiling``
    (aiperf), then anywhere under ``input_config`` (genai-perf keeps it flat)."""
    run_info = data.get("run_info")
    if isinstance(run_info, dict) and isinstance(run_info.get("variation_values"), dict):
        for key, value in run_info["variation_values"].items():
            if str(key).split(".")[-1] == name:
                return value
    cfg = data.get("input_config")
    if not isinstance(cfg, dict):
        return None
    for route in (("loadgen",), ("phases", "profiling")):
        node = cfg
        for step in route:
            node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict) and node.get(name) is not None:
            return node[name]
    return _find_key(cfg, name)


def _loads_from(data: dict | None, path: Path) -> tuple[float | None, float | None, str]:
    """(concurrency, request rate, where they came from) from an export's settings or its path."""
    found = {}
    source = ""
    for name in ("concurrency", "request_rate"):
        value = _setting(data, name) if data is not None else None
        if value is not None and not isinstance(value, (dict, list)):
            found[name], source = _cell(value, path, None, f"input_config.{name}"), source or "export settings"
        else:
            found[name] = load_from_path(path, name)
            if found[name] is not None:
                source = source or "folder name"
    return found["concurrency"], found["request_rate"], source


def read_benchmark(path, concurrency: float | None = None, *, encoding: str | None = None) -> BenchmarkRun:
    """Read one run: an aiperf / genai-perf summary (``.json``, ``.csv``) or per-request records (``.jsonl``).

    Parameters
    ----------
    path : str or Path
        The export (``.json``, ``.csv`` or ``.jsonl``).
    concurrency : float, optional
        Overrides what the file's settings or its path (``concurrency_64``) say.
    encoding : str, optional
        When the file is not UTF-8.

    Returns
    -------
    BenchmarkRun
        Latencies converted to ms from the unit the export states.

    Raises
    ------
    InvalidInputError
        Unknown file type, malformed content (naming file, row and field), or no latency metric.
    """
    path = check_path(path)
    if concurrency is not None:
        concurrency = positive_scalar(concurrency, "concurrency")
    suffix = path.suffix.lower()
    data = None
    throughput = None
    if suffix == ".json":
        stats, units, data = _read_export_json(path, encoding)
    elif suffix in (".csv", ".tsv"):
        stats, units = _read_export_csv(path, encoding)
    elif suffix == ".jsonl":
        records = read_records(path, encoding=encoding)
        stats = {m: records.stats(m) for m in LATENCY_METRICS}
        units = {m: "ms" for m in LATENCY_METRICS}
        data = _sibling_settings(path, encoding)
        throughput = records.throughput()
    else:
        if not path.exists():
            raise InvalidInputError(f"{path}: no such file")
        raise InvalidInputError(f"{path}: expected a .json, .csv or .jsonl aiperf/genai-perf export, got {suffix!r}")

    c, rate, source = _loads_from(data, path)
    if concurrency is not None:
        c, source = float(_cell(concurrency, path, None, "concurrency")), "given"
    if suffix == ".jsonl" and c is None and rate is None:
        c, source = records.mean_in_flight(), "mean requests in flight (Little's law on the timestamps)"

    def latency(name: str) -> dict[str, float]:
        values = stats.get(name, {})
        return {k: _to_ms(v, units.get(name), f"{path}, field '{name}.{k}'") for k, v in values.items()}

    def scalar(name: str) -> float | None:
        values = stats.get(name)
        return None if not values else values.get("avg")

    run = BenchmarkRun(
        source=str(path),
        tool=_tool_from(path, data),
        concurrency=c,
        request_rate=rate,
        ttft_ms=latency("time_to_first_token"),
        itl_ms=latency("inter_token_latency"),
        request_latency_ms=latency("request_latency"),
        request_throughput=scalar("request_throughput") if throughput is None else throughput,
        output_token_throughput=scalar("output_token_throughput"),
        load_source=source,
    )
    if not (run.ttft_ms or run.itl_ms or run.request_latency_ms):
        raise InvalidInputError(f"{path}: no time_to_first_token, inter_token_latency or request_latency metric")
    return run


@dataclass(frozen=True, repr=False)
class BenchmarkSweep(Readable):
    """Runs of one deployment at several loads, ordered by load.

    Parameters
    ----------
    runs : tuple of BenchmarkRun
        The runs, in increasing load.
    load_name : {"concurrency", "request_rate"}, optional
        The load that orders them (default concurrency).
    """

    runs: tuple[BenchmarkRun, ...]
    load_name: str = "concurrency"

    def _display_title(self) -> str:
        return f"BenchmarkSweep: {len(self.runs)} runs over {self.load_name}"

    def _display_items(self):
        return [(self.load_name, self.loads), ("sources", [r.source for r in self.runs])]

    def to_frame(self):
        """One row per run: load, TTFT / ITL / request-latency avg, p50, p99 (ms), throughputs.

        Returns
        -------
        pandas.DataFrame
            Columns: the load, ``ttft_avg_ms`` ... ``e2e_p99_ms``, ``request_throughput_rps``,
            ``output_token_throughput_tok_s`` and ``source``.
        """
        import pandas as pd

        rows = []
        for r in self.runs:
            row = {self.load_name: r.load(self.load_name)}
            for metric, table in (("ttft", r.ttft_ms), ("itl", r.itl_ms), ("e2e", r.request_latency_ms)):
                for s in ("avg", "p50", "p99"):
                    row[f"{metric}_{s}_ms"] = table.get(s)
            row["request_throughput_rps"] = r.request_throughput
            row["output_token_throughput_tok_s"] = r.output_token_throughput
            row["source"] = r.source
            rows.append(row)
        return pd.DataFrame(rows)

    @property
    def loads(self) -> np.ndarray:
        """The load of every run."""
        return np.asarray([r.load(self.load_name) for r in self.runs], dtype=float)

    @property
    def concurrency(self) -> np.ndarray:
        """The concurrency of every run (NaN where unknown)."""
        return np.asarray([r.concurrency for r in self.runs], dtype=float)

    def series(self, metric: str = "ttft", stat: str = "p99") -> np.ndarray:
        """One statistic of one latency metric per run (ms), e.g. ``series("itl", "p50")``.

        Parameters
        ----------
        metric : str, optional
            ``"ttft"`` (default), ``"itl"`` or ``"e2e"``.
        stat : str, optional
            ``"p99"`` (default), ``"avg"``, ``"p50"``, ...

        Returns
        -------
        numpy.ndarray, shape (runs,)
            The statistic per run (ms), in load order.

        Raises
        ------
        InvalidInputError
            An unknown metric, or a run that lacks the statistic (from :meth:`BenchmarkRun.stat`).
        """
        return np.asarray([r.stat(metric, stat) for r in self.runs], dtype=float)

    @property
    def throughput(self) -> np.ndarray:
        """Request throughput per run (requests/s); raises if a run lacks it."""
        out = []
        for r in self.runs:
            if r.request_throughput is None:
                raise InvalidInputError(f"{r.source}: field 'request_throughput' is missing")
            out.append(r.request_throughput)
        return np.asarray(out, dtype=float)

    def measurements(self, metric: str = "ttft", stat: str = "p99") -> Measurements:
        """Load-latency points for fitting and knee detection.

        Parameters
        ----------
        metric : str, optional
            ``"ttft"`` (default), ``"itl"`` or ``"e2e"``.
        stat : str, optional
            ``"p99"`` (default), ``"avg"``, ``"p50"``, ...

        Returns
        -------
        Measurements
            ``load`` = the runs' loads, ``latency_ms`` = the statistic per run.

        Raises
        ------
        InvalidInputError
            As :meth:`series`.
        """
        return Measurements(
            load=self.loads,
            latency_ms=self.series(metric, stat),
            source=", ".join(r.source for r in self.runs),
            load_name=self.load_name,
            latency_name=f"{metric}_{stat}_ms",
        )


def _export_priority(p: Path) -> int | None:
    """0 summary JSON, 1 summary CSV, 2 per-request JSONL; None for files that are not one run's export."""
    name = p.name.lower()
    if any(s in name for s in _SKIPPED_EXPORTS):
        return None
    if p.suffix.lower() == ".jsonl":
        return 2 if name.startswith("profile_export") and "raw" not in name else None
    if p.suffix.lower() not in (".json", ".csv"):
        return None
    if "aiperf" in name or "genai_perf" in name or "genai-perf" in name:
        return 0 if p.suffix.lower() == ".json" else 1
    return None


def find_runs(root: Path) -> list[Path]:
    """One export per run folder under ``root`` (summary JSON, else CSV, else JSONL).

    aiperf's cross-run aggregates and other non-run files are skipped.

    Parameters
    ----------
    root : str or Path
        An artifacts folder, searched recursively.

    Returns
    -------
    list of pathlib.Path
        One export per folder that holds one, sorted by path.

    Raises
    ------
    InvalidInputError
        An invalid path or one that is not a folder.
    """
    root = check_path(root, "root")
    if not root.is_dir():
        raise InvalidInputError(f"{root}: not a folder")
    best: dict[Path, tuple[int, Path]] = {}
    for p in sorted(root.rglob("*")):
        if not p.is_file():
            continue
        prio = _export_priority(p)
        if prio is None:
            continue
        if p.parent not in best or prio < best[p.parent][0]:
            best[p.parent] = (prio, p)
    return sorted(p for _, p in best.values())


def read_sweep(paths, *, load: str | None = None, encoding: str | None = None) -> BenchmarkSweep:
    """Read several runs (a list of files, or an artifacts folder searched recursively) into a sweep.

    Parameters
    ----------
    paths : str, Path or list of them
        An artifacts folder, one export, or a list of exports.
    load : {"concurrency", "request_rate"}, optional
        Which load to order by; by default concurrency when every run knows it, else request rate.
    encoding : str, optional
        When the files are not UTF-8.

    Returns
    -------
    BenchmarkSweep
        The runs in increasing load.

    Raises
    ------
    InvalidInputError
        No run found, a run without the load, or the same load twice outside aiperf's trial folders.
    """
    if load is not None:
        choice(load, "load", ("concurrency", "request_rate"))
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        root = check_path(paths, "paths")
        files = find_runs(root)
        if not files:
            raise InvalidInputError(f"{root}: no aiperf/genai-perf summary exports or per-request records found")
    else:
        if not isinstance(paths, (str, Path)) and (isinstance(paths, (bytes, dict)) or not hasattr(paths, "__iter__")):
            raise InvalidInputError(f"paths must be a folder, a file or a list of files, got {paths!r}")
        files = [check_path(p, "paths entry") for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
        if not files:
            raise InvalidInputError("paths: no file given")
    runs = [read_benchmark(p, encoding=encoding) for p in files]
    if load is None:
        load = "concurrency" if all(r.concurrency is not None for r in runs) or not \
            all(r.request_rate is not None for r in runs) else "request_rate"
    if load not in ("concurrency", "request_rate"):
        raise InvalidInputError(f"load must be 'concurrency' or 'request_rate', got {load!r}")
    for r in runs:
        if r.load(load) is None:
            raise InvalidInputError(
                f"{r.source}: field '{load}' is unknown; pass it to read_benchmark or keep "
                f"'{load}_<N>' in the run's folder name"
            )
    runs.sort(key=lambda r: (r.load(load), r.source))
    seen: dict[float, list[str]] = {}
    for r in runs:
        seen.setdefault(r.load(load), []).append(r.source)
    for value, sources in seen.items():
        if len(sources) > 1 and not all(re.search(r"(trial|run)_\d+", s) for s in sources):
            raise InvalidInputError(f"{load} {value:g} appears in more than one run: {sources}")
    return BenchmarkSweep(tuple(runs), load_name=load)
