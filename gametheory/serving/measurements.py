"""Read latency measurements a user brings: plain CSV, and NVIDIA aiperf / genai-perf exports.

Three inputs are understood:

- a **plain CSV** with a header row and one measurement per row, a load column (``load`` by default:
  concurrency, requests/s, tokens per batch, ...) and a latency column in ms (``latency`` or
  ``latency_ms`` by default); lines starting with ``#`` are comments. :func:`read_csv` returns a
  :class:`Measurements` that :func:`gametheory.fitting.fit` can consume;
- the **summary JSON** of one benchmark run: ``profile_export_aiperf.json`` written by ``aiperf profile``
  (each metric a stats block ``{"unit", "avg", "p50", "p99", ...}``, the run's settings under
  ``input_config.loadgen``) or ``profile_export_genai_perf.json`` written by ``genai-perf profile``
  (same metric blocks, settings flat under ``input_config``);
- the **summary CSV** of one run (``profile_export_aiperf.csv``, ``*_genai_perf.csv``): a section headed
  ``Metric,avg,min,max,p..`` with one row per per-request metric ("Time to First Token (ms)", ...), a
  blank line, and a section headed ``Metric,Value`` with the run-level metrics ("Request Throughput
  (requests/sec)", ...). genai-perf writes numbers with thousands separators ("1,234.56").

:func:`read_benchmark` reads one run into a :class:`BenchmarkRun` (concurrency, TTFT / ITL / request
latency percentiles in ms, request and output-token throughput); :func:`read_sweep` reads many runs into
a :class:`BenchmarkSweep` ordered by concurrency, whose :meth:`BenchmarkSweep.measurements` gives the
load-latency points (e.g. TTFT P99 against concurrency) to fit and to find the knee on.

The CSV exports do not record the concurrency; pass it, or keep it in the run's folder or file name as
genai-perf does (``...-concurrency64/``). Every malformed input raises
:class:`~gametheory.errors.InvalidInputError` naming the file, the row (line number, 1-based) and the field.
"""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gametheory.errors import InvalidInputError

__all__ = [
    "BenchmarkRun",
    "BenchmarkSweep",
    "Measurements",
    "read_benchmark",
    "read_csv",
    "read_sweep",
]

LOAD_COLUMNS = ("load", "concurrency", "rate", "request_rate", "tokens", "batch")
LATENCY_COLUMNS = ("latency", "latency_ms")

#: per-request metrics kept from the exports (normalized names) and run-level throughputs
LATENCY_METRICS = ("time_to_first_token", "inter_token_latency", "request_latency")
THROUGHPUT_METRICS = ("request_throughput", "output_token_throughput")
#: aliases seen in export headers, normalized -> canonical name
_ALIASES = {
    "ttft": "time_to_first_token",
    "itl": "inter_token_latency",
    "request_throughput_per_sec": "request_throughput",
    "output_token_throughput_per_sec": "output_token_throughput",
}
_TIME_UNITS_TO_MS = {"ms": 1.0, "s": 1e3, "sec": 1e3, "seconds": 1e3, "us": 1e-3, "ns": 1e-6}
_CONCURRENCY_IN_PATH = re.compile(r"concurrency[_\-=]?(\d+)", re.IGNORECASE)


# --------------------------------------------------------------------------------------------------
# plain CSV
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Measurements:
    """Load-latency points: ``load`` (the caller's unit) and ``latency_ms`` arrays of equal length."""

    load: np.ndarray
    latency_ms: np.ndarray
    source: str
    load_name: str = "load"
    latency_name: str = "latency_ms"

    def __len__(self) -> int:
        return int(self.load.size)

    def fit(self, family: str = "auto", **kwargs):
        """Fit a latency curve to the points with :func:`gametheory.fitting.fit`."""
        from gametheory.fitting import fit

        return fit(self.load, self.latency_ms, family=family, **kwargs)


def _number(text: str, path: Path, row: int | None, field_name: str, *, nonnegative: bool = True) -> float:
    """Parse one numeric cell; errors name the file, row and field."""
    where = f"{path}" + (f", row {row}" if row is not None else "") + f", field '{field_name}'"
    cleaned = str(text).strip().replace(",", "")
    if cleaned == "":
        raise InvalidInputError(f"{where}: empty value")
    try:
        value = float(cleaned)
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {text!r} is not a number") from exc
    if not math.isfinite(value):
        raise InvalidInputError(f"{where}: {text!r} is not finite")
    if nonnegative and value < 0:
        raise InvalidInputError(f"{where}: {value!r} is negative")
    return value


def _pick_column(header: list[str], wanted: str | None, candidates: tuple[str, ...], path: Path, what: str) -> int:
    lower = [h.strip().lower() for h in header]
    names = (wanted.lower(),) if wanted else candidates
    for name in names:
        if name in lower:
            return lower.index(name)
    raise InvalidInputError(
        f"{path}, row 1: no {what} column (looked for {', '.join(repr(n) for n in names)}; "
        f"header is {', '.join(repr(h) for h in header)})"
    )


def read_csv(path, load_column: str | None = None, latency_column: str | None = None) -> Measurements:
    """Read a plain CSV of measurements (header row, one point per row) into :class:`Measurements`.

    ``load_column`` defaults to the first of ``load, concurrency, rate, request_rate, tokens, batch``
    present in the header; ``latency_column`` to ``latency`` or ``latency_ms`` (milliseconds). Blank lines
    and lines starting with ``#`` are skipped. Points are returned in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    with open(path, newline="") as fh:
        rows = [(i, r) for i, r in enumerate(csv.reader(fh), 1) if r and any(c.strip() for c in r)]
    rows = [(i, r) for i, r in rows if not r[0].lstrip().startswith("#")]
    if not rows:
        raise InvalidInputError(f"{path}: empty file (expected a header row and measurements)")
    header_row, header = rows[0]
    li = _pick_column(header, load_column, LOAD_COLUMNS, path, "load")
    yi = _pick_column(header, latency_column, LATENCY_COLUMNS, path, "latency")
    if len(rows) < 2:
        raise InvalidInputError(f"{path}: header only, no measurements")
    loads, lats = [], []
    for line, r in rows[1:]:
        if len(r) <= max(li, yi):
            raise InvalidInputError(f"{path}, row {line}: {len(r)} fields, expected {len(header)} ({','.join(header)})")
        loads.append(_number(r[li], path, line, header[li].strip()))
        lats.append(_number(r[yi], path, line, header[yi].strip()))
    return Measurements(
        load=np.asarray(loads, dtype=float),
        latency_ms=np.asarray(lats, dtype=float),
        source=str(path),
        load_name=header[li].strip(),
        latency_name=header[yi].strip(),
    )


# --------------------------------------------------------------------------------------------------
# aiperf / genai-perf exports
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BenchmarkRun:
    """Summary of one aiperf / genai-perf run.

    ``ttft_ms``, ``itl_ms`` and ``request_latency_ms`` map a statistic name (``avg``, ``min``, ``max``,
    ``p50``, ``p90``, ``p99``, ...) to its value in ms; throughputs are in requests/s and tokens/s
    (``None`` when the export lacks them).
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

    def stat(self, metric: str, stat: str) -> float:
        """One statistic, e.g. ``run.stat("ttft", "p99")``; raises naming what is missing."""
        table = {
            "ttft": self.ttft_ms,
            "time_to_first_token": self.ttft_ms,
            "itl": self.itl_ms,
            "inter_token_latency": self.itl_ms,
            "request_latency": self.request_latency_ms,
        }
        if metric not in table:
            raise InvalidInputError(f"metric must be one of {sorted(table)}, got {metric!r}")
        values = table[metric]
        if stat not in values:
            raise InvalidInputError(
                f"{self.source}: field '{metric}.{stat}' is missing (available: {sorted(values) or 'none'})"
            )
        return values[stat]


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


def _concurrency_from_path(path: Path) -> float | None:
    for part in reversed(path.parts):
        m = _CONCURRENCY_IN_PATH.search(part)
        if m:
            return float(m.group(1))
    return None


def _tool_from(path: Path, data: dict | None = None) -> str:
    name = path.name.lower()
    if "aiperf" in name:
        return "aiperf"
    if "genai_perf" in name or "genai-perf" in name:
        return "genai-perf"
    if data is not None:
        cfg = data.get("input_config")
        if isinstance(cfg, dict) and "loadgen" in cfg:
            return "aiperf"
    return "unknown"


def _read_export_json(path: Path) -> tuple[dict[str, dict[str, float]], dict[str, str | None], dict]:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}, row {exc.lineno}: not valid JSON ({exc.msg})") from exc
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
            if stat == "unit" or v is None:
                continue
            if stat in ("count",):
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise InvalidInputError(f"{path}: field '{key}.{stat}' is not a number: {v!r}")
            values[stat] = _number(v, path, None, f"{key}.{stat}")
        stats[name] = values
    return stats, units, data


def _read_export_csv(path: Path) -> tuple[dict[str, dict[str, float]], dict[str, str | None]]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    stats: dict[str, dict[str, float]] = {}
    units: dict[str, str | None] = {}
    header: list[str] | None = None
    for line, r in enumerate(rows, 1):
        if not r or not any(c.strip() for c in r):
            header = None
            continue
        first = r[0].strip()
        if first == "Metric" or first == "Endpoint":
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
            values[stat] = _number(cell, path, line, f"{first} / {col}")
        stats[name] = values
        units[name] = unit
    if not stats:
        raise InvalidInputError(
            f"{path}: no 'Metric,...' section with TTFT, ITL, request latency or throughput rows; "
            "is this an aiperf/genai-perf summary CSV?"
        )
    return stats, units


def read_benchmark(path, concurrency: float | None = None) -> BenchmarkRun:
    """Read one aiperf / genai-perf summary export (``.json`` or ``.csv``) into a :class:`BenchmarkRun`.

    ``concurrency`` overrides what the file (JSON ``input_config``) or its path (``concurrency64``) says.
    Latencies are converted to ms from the unit the export states.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    data = None
    if suffix == ".json":
        stats, units, data = _read_export_json(path)
    elif suffix == ".csv":
        stats, units = _read_export_csv(path)
    else:
        raise InvalidInputError(f"{path}: expected a .json or .csv aiperf/genai-perf export, got {suffix!r}")

    rate = None
    if concurrency is None and data is not None:
        cfg = data.get("input_config", {})
        c = _find_key(cfg, "concurrency")
        if c is not None:
            concurrency = _number(c, path, None, "input_config.concurrency")
        r = _find_key(cfg, "request_rate")
        if r is not None and not isinstance(r, (dict, list)):
            rate = _number(r, path, None, "input_config.request_rate")
    if concurrency is None:
        concurrency = _concurrency_from_path(path)
    elif not isinstance(concurrency, float):
        concurrency = _number(concurrency, path, None, "concurrency")

    def latency(name: str) -> dict[str, float]:
        values = stats.get(name, {})
        return {k: _to_ms(v, units.get(name), f"{path}, field '{name}.{k}'") for k, v in values.items()}

    def scalar(name: str) -> float | None:
        values = stats.get(name)
        return None if not values else values.get("avg")

    run = BenchmarkRun(
        source=str(path),
        tool=_tool_from(path, data),
        concurrency=concurrency,
        request_rate=rate,
        ttft_ms=latency("time_to_first_token"),
        itl_ms=latency("inter_token_latency"),
        request_latency_ms=latency("request_latency"),
        request_throughput=scalar("request_throughput"),
        output_token_throughput=scalar("output_token_throughput"),
    )
    if not (run.ttft_ms or run.itl_ms or run.request_latency_ms):
        raise InvalidInputError(f"{path}: no time_to_first_token, inter_token_latency or request_latency metric")
    return run


@dataclass(frozen=True)
class BenchmarkSweep:
    """Runs of one deployment at several concurrencies, ordered by concurrency."""

    runs: tuple[BenchmarkRun, ...]

    @property
    def concurrency(self) -> np.ndarray:
        return np.asarray([r.concurrency for r in self.runs], dtype=float)

    def series(self, metric: str = "ttft", stat: str = "p99") -> np.ndarray:
        """One statistic of one latency metric per run (ms), e.g. ``series("itl", "p50")``."""
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
        """Concurrency-latency points for fitting and knee detection."""
        return Measurements(
            load=self.concurrency,
            latency_ms=self.series(metric, stat),
            source=", ".join(r.source for r in self.runs),
            load_name="concurrency",
            latency_name=f"{metric}_{stat}_ms",
        )


def read_sweep(paths) -> BenchmarkSweep:
    """Read several runs (a list of files, or a folder searched recursively for ``profile_export*`` /
    ``*genai_perf*`` summaries) into a :class:`BenchmarkSweep`. Every run must know its concurrency and
    no concurrency may repeat."""
    if isinstance(paths, (str, Path)) and Path(paths).is_dir():
        root = Path(paths)
        files = sorted(
            p
            for p in root.rglob("*")
            if p.suffix.lower() in (".json", ".csv")
            and ("aiperf" in p.name.lower() or "genai_perf" in p.name.lower())
            and "telemetry" not in p.name.lower()
        )
        # a run folder may hold both a JSON and a CSV summary: prefer the JSON
        by_dir: dict[Path, Path] = {}
        for p in files:
            if p.parent not in by_dir or p.suffix.lower() == ".json":
                by_dir[p.parent] = p
        files = sorted(by_dir.values())
        if not files:
            raise InvalidInputError(f"{root}: no aiperf/genai-perf summary exports found")
    else:
        files = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    runs = [read_benchmark(p) for p in files]
    for r in runs:
        if r.concurrency is None:
            raise InvalidInputError(
                f"{r.source}: field 'concurrency' is unknown; pass it to read_benchmark or keep "
                "'concurrency<N>' in the run's folder name"
            )
    runs.sort(key=lambda r: r.concurrency)
    seen = [r.concurrency for r in runs]
    dup = [c for c in set(seen) if seen.count(c) > 1]
    if dup:
        raise InvalidInputError(f"concurrency {dup[0]:g} appears in more than one run: {[r.source for r in runs]}")
    return BenchmarkSweep(tuple(runs))
