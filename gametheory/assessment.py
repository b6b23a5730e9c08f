"""From a benchmark to a regime and a bound: ``gametheory assess`` and :func:`assess`.

One call reads a user's measurements and answers, in the order a serving engineer asks:

1. **the fitted curve and why that family**: :func:`gametheory.fitting.fit` with ``family="auto"``
   (AICc ranking) on the (load, latency) points;
2. **the knee**: every method of :func:`gametheory.regimes.find_knees`, and whether they agree; when they do
   not, one consensus answer (their median) with an interval that spans every method's interval, and why;
3. **the regime at the operating point** (``at``, default the highest measured load) and ``load / knee``
   with its interval (``at / knee_high`` to ``at / knee_low``);
4. **the PoA bound of the fitted curve's class at that load** (:func:`gametheory.bounds.class_bound`):
   Roughgarden's closed form for polynomials and M/M/1, else the numeric Pigou bound of the fitted curve
   over loads up to ``at``. It bounds the Price of Anarchy of nonatomic routing among workers whose latency
   curves are the fitted one (or any curve of its closed-form class), with loads in the benchmark's unit.
   The same bound at every load up to the operating point is ``bound_across_load``;
5. **PoA-hat** when the input has per-request router decisions: a request log in the schema of
   :data:`gametheory.serving.estimator.LOG_COLUMNS` (the paper's form, realized latencies against the
   Hungarian optimum of the frozen modelled latencies, :func:`gametheory.serving.estimator.poa_hat_log`),
   given as the input itself, with ``log=``, or found in an artifacts folder next to each run (then one
   PoA-hat per load).

Inputs (``path``): an aiperf artifacts folder (a sweep: one run per ``concurrency_N/`` or ``request_rate_X/``
folder), one aiperf per-request export (``profile_export.jsonl``: the requests are grouped by how many were in
flight when they started, so a run whose load varied gives a curve), or any CSV/TSV table with a load
column and a latency column (``load_column``, ``latency_column``). Or arrays: ``assess(load=..., latency=...)``.
For aiperf inputs ``metric`` (ttft, itl, e2e) and ``stat`` (p99, p50, avg, ...) choose the latency.

The result (:class:`Assessment`) prints as a short report (``report()``), converts to strict JSON
(``to_json()``: no Infinity or NaN, null instead), to a DataFrame (``to_frame()``) and to a figure
(``plot()``).

References
----------
.. [1] NVIDIA aiperf documentation (github.com/ai-dynamo/aiperf): the artifacts folder of a sweep and the
   per-request ``profile_export.jsonl`` read here.
.. [2] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel Inference*, 2nd ed., Springer 2002 (AICc).
.. [3] V. Satopaa, J. Albrecht, D. Irwin, B. Raghavan, "Finding a 'kneedle' in a haystack: detecting knee
   points in system behavior", ICDCS Workshops 2011.
.. [4] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003 (the
   class bounds and the Pigou bound).
.. [5] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 6.4
   (PoA-hat).
.. [6] H. W. Kuhn, "The Hungarian method for the assignment problem", Naval Res. Logist. Quart. 2, 1955 (the
   optimum PoA-hat compares against).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from gametheory._validate import choice, integer, random_seed
from gametheory._validate import path as check_path
from gametheory.display import Readable, jsonable
from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.fitting import FAMILIES

__all__ = ["Assessment", "assess", "read_input"]

#: points on the bound-across-load curve
BOUND_GRID = 40


@dataclass(frozen=True, repr=False)
class Assessment(Readable):
    """What :func:`assess` found (see the module docstring for each field's meaning).

    Parameters
    ----------
    data : Measurements
        The points assessed (load, latency in ms, their names and source).
    fit : FitResult
        The chosen curve, its ranking and explanation.
    knee : KneeConsensus
        Every method's knee and the consensus.
    at : float
        The operating point, in the load's unit.
    at_source : str
        Where ``at`` came from ("given", or "the highest measured load").
    regime : str
        "below", "transition", "saturated", or "no knee".
    load_over_knee : float or None
        ``at / knee`` (None without a knee).
    load_over_knee_interval : tuple of (float, float) or None
        ``(at / knee_high, at / knee_low)`` (None without a knee).
    poa_bound : float or None
        The class bound at ``at`` (None when there is none: at or past the fitted capacity).
    bound_kind : str
        What kind of bound it is (:func:`gametheory.bounds.class_bound`'s ``how``), or why there is none.
    bound_across_load : tuple of (float, float)
        (load, bound) at ``BOUND_GRID`` loads from ``at / BOUND_GRID`` to ``at`` (stopping at the first load
        where no bound exists).
    poa_hat : PoAHatResult or None
        PoA-hat of the request log at the operating point (or the only log).
    poa_hat_across_load : tuple of (float, PoAHatResult)
        One PoA-hat per load when the folder has a request log per run.
    warnings : tuple of str
        What makes the answer weak (few points, flat latency, p99 of few requests, ...).
    notes : tuple of str
        How the input was read (runs found, where the load came from).
    """

    data: object
    fit: object
    knee: object
    at: float
    at_source: str
    regime: str
    load_over_knee: float | None
    load_over_knee_interval: tuple | None
    poa_bound: float | None
    bound_kind: str
    bound_across_load: tuple = field(default=(), repr=False)
    poa_hat: object = None
    poa_hat_across_load: tuple = field(default=(), repr=False)
    warnings: tuple = ()
    notes: tuple = ()

    # ---- views ----------------------------------------------------------------------------------------
    def _display_title(self) -> str:
        return f"Assessment of {self.data.source}"

    def _display_items(self):
        return [(k, v) for k, v in self._lines()]

    def __repr__(self) -> str:
        return self.report()

    def _lines(self) -> list[tuple[str, str]]:
        d, f, k = self.data, self.fit, self.knee
        unit = d.load_name
        lines = [("data", f"{len(d)} points of {d.latency_name} (ms) against {unit}, loads "
                          f"{d.load.min():.4g}..{d.load.max():.4g}")]
        lines += [("", note) for note in self.notes]
        params = ", ".join(f"{n} = {v:.4g} +/- {f.stderr.get(n, math.nan):.2g}" for n, v in f.params.items())
        lines.append(("fit", f"{f.family} (k={f.k}), R^2 = {f.r2:.4f}: {params}"))
        lines.append(("why", f.explanation))
        if k.found:
            verdict = "the methods agree" if k.agree else "the methods disagree"
            lines.append(("knee", f"{k.load:.4g} {unit}, interval [{k.interval[0]:.4g}, {k.interval[1]:.4g}] "
                                  f"({verdict})"))
            for m, r in k.knees.items():
                lines.append((f"  {m}", f"{r.load:.4g} [{r.interval[0]:.4g}, {r.interval[1]:.4g}]"))
            for m, why in k.no_knee.items():
                lines.append((f"  {m}", f"no knee: {why}"))
            if not k.agree:
                lines.append(("  why", k.explanation))
        else:
            lines.append(("knee", f"none: {k.explanation}"))
        at = f"{self.at:.4g} {unit} ({self.at_source})"
        if self.load_over_knee is None:
            lines.append(("at", f"{at}: {self.regime}"))
        else:
            lo, hi = self.load_over_knee_interval
            lines.append(("at", f"{at}: {self.regime}; load / knee = {self.load_over_knee:.3g} [{lo:.3g}, {hi:.3g}]"))
        if self.poa_bound is None:
            lines.append(("bound", f"none: {self.bound_kind}"))
        else:
            lines.append(("bound", f"PoA <= {self.poa_bound:.4g} at {self.at:.4g} ({self.bound_kind})"))
        if self.poa_hat is not None:
            p = self.poa_hat
            ci = "" if p.interval is None else f" [{p.interval[0]:.3g}, {p.interval[1]:.3g}]"
            lines.append(("PoA-hat", f"{p.value:.4g}{ci} ({p.form} form; median {p.median:.3g}, P90 {p.p90:.3g} "
                                     f"over {p.windows.size} windows of {p.window})"))
        for load, p in self.poa_hat_across_load:
            lines.append(("  PoA-hat", f"at {load:.4g}: {p.value:.4g}"))
        lines += [("warning", w) for w in self.warnings]
        return lines

    def report(self) -> str:
        """The short text report ``gametheory assess`` prints.

        Returns
        -------
        str
            A headline and one aligned ``name  text`` line per item: data, fit and why, knee (each method), the
            regime at the operating point with load / knee, the bound, PoA-hat when there is one, warnings.
        """
        width = max(len(name) for name, _ in self._lines())
        body = "\n".join(f"{name:<{width}}  {text}" for name, text in self._lines())
        return f"{self._display_title()}\n{body}"

    def summary(self) -> dict:
        """The JSON document of ``gametheory assess --json`` (non-finite numbers become None).

        Returns
        -------
        dict
            Keys source, load_name, latency_name, points, fit, knee, knee_interval, knee_agree, knee_methods,
            knee_explanation, at, at_source, regime, load_over_knee, load_over_knee_interval, poa_bound, bound_kind,
            bound_across_load, poa_hat, poa_hat_across_load, warnings, notes; plain Python values only.
        """
        k = self.knee
        out = {
            "source": self.data.source,
            "load_name": self.data.load_name,
            "latency_name": self.data.latency_name,
            "points": {"load": self.data.load.tolist(), "latency_ms": self.data.latency_ms.tolist()},
            "fit": self.fit.summary(),
            "knee": k.load if k.found else None,
            "knee_interval": list(k.interval) if k.found else None,
            "knee_agree": bool(k.agree) if k.found else None,
            "knee_methods": {m: {"knee": r.load, "interval": list(r.interval), "evidence_aicc": r.evidence}
                             for m, r in k.knees.items()} | {m: {"knee": None, "reason": why}
                                                            for m, why in k.no_knee.items()},
            "knee_explanation": k.explanation,
            "at": self.at,
            "at_source": self.at_source,
            "regime": self.regime,
            "load_over_knee": self.load_over_knee,
            "load_over_knee_interval": list(self.load_over_knee_interval) if self.load_over_knee_interval else None,
            "poa_bound": self.poa_bound,
            "bound_kind": self.bound_kind,
            "bound_across_load": [{"load": x, "bound": b} for x, b in self.bound_across_load],
            "poa_hat": _poa_hat_dict(self.poa_hat),
            "poa_hat_across_load": [{"load": x, **_poa_hat_dict(p)} for x, p in self.poa_hat_across_load],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }
        return jsonable(out)

    def to_json(self, **kwargs) -> str:
        """Strict JSON of :meth:`summary` (``json.dumps(..., allow_nan=False)``).

        Parameters
        ----------
        **kwargs
            Passed to :func:`json.dumps` (``indent`` defaults to 2).

        Returns
        -------
        str
            The JSON text (RFC 8259: null, never NaN or Infinity).
        """
        kwargs.setdefault("indent", 2)
        return json.dumps(self.summary(), allow_nan=False, **kwargs)

    def to_frame(self):
        """One row per measured point: load, latency, fitted latency, regime.

        Returns
        -------
        pandas.DataFrame
        """
        import pandas as pd

        from gametheory.regimes import classify

        x, y = self.data.load, self.data.latency_ms
        fitted = [float(self.fit.curve(v)) if v < self.fit.curve.capacity else math.nan for v in x]
        labels = classify(x, knee=self.knee) if self.knee.found else ["no knee"] * len(x)
        return pd.DataFrame({self.data.load_name: x, f"{self.data.latency_name}": y, "fitted_ms": fitted,
                             "regime": labels})

    def plot(self, ax=None):
        """Latency with its fit and knees (left) and the PoA bound across load (right; with PoA-hat when any).

        Parameters
        ----------
        ax : sequence of two matplotlib.axes.Axes, optional
            Where to draw; by default a new figure with two panels.

        Returns
        -------
        numpy.ndarray of matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        from gametheory.plotting import axis_label, knee_line, legend, ratio_ylim, style

        if ax is None:
            with style():
                fig, ax = plt.subplots(1, 2, figsize=(11.5, 4.2))
        left, right = ax
        d = self.data
        self.knee.plot(left, xlabel=d.load_name, ylabel=d.latency_name)
        hi = max(float(d.load.max()), self.at)
        grid = np.linspace(0.0, hi, 300)
        grid = grid[grid < self.fit.curve.capacity]
        left.plot(grid, self.fit.curve(grid), "-", color="0.25", linewidth=1.2, label=f"{self.fit.family} fit")
        left.axvline(self.at, color="#D55E00", linestyle="-.", linewidth=1.2, label=f"operating point {self.at:.4g}")
        legend(left)
        left.set_title(f"{d.latency_name} against {d.load_name}")
        values = []
        if self.bound_across_load:
            xb, yb = zip(*self.bound_across_load, strict=True)
            right.plot(xb, yb, "-", label=f"PoA bound ({self.bound_kind})")
            values += list(yb)
        if self.poa_hat_across_load:
            xs = [x for x, _ in self.poa_hat_across_load]
            ys = [p.value for _, p in self.poa_hat_across_load]
            right.plot(xs, ys, "o-", label="PoA-hat (paper form)")
            values += ys
        elif self.poa_hat is not None:
            right.plot([self.at], [self.poa_hat.value], "D", label=f"PoA-hat {self.poa_hat.value:.3g}")
            values.append(self.poa_hat.value)
        if self.knee.found:
            knee_line(right, self.knee.load, self.knee.interval, label="knee")
        right.axvline(self.at, color="#D55E00", linestyle="-.", linewidth=1.2, label="operating point")
        right.set_xlabel(d.load_name)
        right.set_ylabel(axis_label("PoA", "equilibrium / optimum"))
        right.set_title("Price of Anarchy bound of the fitted curve's class")
        ratio_ylim(right, values or [1.0])
        legend(right)
        return ax


def _poa_hat_dict(p) -> dict | None:
    if p is None:
        return None
    return {"value": p.value, "median": p.median, "p90": p.p90,
            "interval": list(p.interval) if p.interval is not None else None,
            "windows": int(p.windows.size), "window": p.window, "form": p.form}


# --------------------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------------------
def _is_request_log(path: Path, encoding) -> bool:
    from gametheory.io.table import read_text

    if path.suffix.lower() not in (".csv", ".tsv"):
        return False
    head = read_text(path, encoding).lstrip("\ufeff").split("\n", 1)[0].lower()
    return "model_ms_0" in head or "model_ttft_ms_0" in head


def _is_summary_csv(path: Path, encoding) -> bool:
    from gametheory.io.table import read_text

    if path.suffix.lower() not in (".csv", ".tsv"):
        return False
    first = next((ln for ln in read_text(path, encoding).split("\n") if ln.strip()), "")
    return first.split(",")[0].strip() == "Metric"


def read_input(path, *, load_column=None, latency_column=None, metric="ttft", stat="p99", encoding=None):
    """Read what :func:`assess` reads: the points, and any request logs with the load they belong to.

    Parameters
    ----------
    path : str or Path
        An aiperf artifacts folder, an aiperf per-request ``.jsonl`` export, or a CSV/TSV table.
    load_column, latency_column : str, optional
        Columns of a table (see :func:`gametheory.serving.measurements.choose_columns`).
    metric, stat : str
        Latency of aiperf inputs: ``ttft`` / ``itl`` / ``e2e`` and ``avg`` / ``p50`` / ``p99`` ...
    encoding : str, optional

    Returns
    -------
    (Measurements or None, list of (float or None, Path), list of str)
        The points (None when the input is only a request log), the request logs with their run's load, and
        notes for the report.

    Raises
    ------
    InvalidInputError
        Missing path, an input of one run only (one load: no curve), unreadable content.
    """
    from gametheory.serving.measurements import find_runs, read_csv, read_records, read_sweep

    p = check_path(path)
    for name, value in (("load_column", load_column), ("latency_column", latency_column)):
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(f"{name} must be a column name (a string), got {value!r}")
    metric = choice(metric, "metric", ("ttft", "itl", "e2e"))
    if not isinstance(stat, str):
        raise InvalidInputError(f"stat must be a statistic name such as 'p99' or 'avg', got {stat!r}")
    notes: list[str] = []
    if not p.exists():
        raise InvalidInputError(f"{p}: no such file or folder")
    if p.is_dir():
        logs = sorted(q for q in p.rglob("*") if q.is_file() and _is_request_log(q, encoding))
        runs = find_runs(p)
        data = None
        if runs:
            sweep = read_sweep(p, encoding=encoding)
            if len(sweep.runs) < 2:
                raise InvalidInputError(f"{p}: one run only ({sweep.runs[0].source}); a curve needs a sweep of loads")
            data = replace(sweep.measurements(metric, stat), source=str(p))
            sources = {r.load_source for r in sweep.runs}
            notes.append(f"{len(sweep.runs)} runs; {sweep.load_name} from {', '.join(sorted(s for s in sources if s))}")
        elif not logs:
            raise InvalidInputError(f"{p}: no aiperf/genai-perf exports and no request logs found in this folder")
        tagged = [(_run_load(q), q) for q in logs]
        return data, tagged, notes
    if _is_request_log(p, encoding):
        return None, [(None, p)], notes
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        records = read_records(p, encoding=encoding)
        data = records.by_load(metric, stat)
        notes.append(f"{len(records)} requests ({records.dropped} failed, cancelled or warm-up left out), grouped "
                     "by requests in flight at their start")
        if data.load.size < 4:
            raise InvalidInputError(
                f"{p}: the requests ran at {data.load.size} load level(s) (requests in flight "
                f"{', '.join(f'{v:.3g}' for v in data.load)}); one run at a fixed concurrency gives no curve: pass "
                "the artifacts folder of a sweep (aiperf --concurrency 8,16,32,...)"
            )
        return data, [], notes
    if suffix == ".json" or _is_summary_csv(p, encoding):
        raise InvalidInputError(f"{p}: the summary of one run (one load) gives no curve; pass the artifacts folder "
                                "that holds one run per concurrency or request rate")
    return read_csv(p, load_column, latency_column, encoding=encoding), [], notes


def _run_load(path: Path) -> float | None:
    from gametheory.serving.measurements import load_from_path

    return load_from_path(path, "concurrency") or load_from_path(path, "request_rate")


# --------------------------------------------------------------------------------------------------------
# the assessment
# --------------------------------------------------------------------------------------------------------
def assess(path=None, *, load=None, latency=None, log=None, load_column: str | None = None,
           latency_column: str | None = None, metric: str = "ttft", stat: str = "p99", at: float | None = None,
           family: str = "auto", n_boot: int = 100, seed: int = 0, encoding: str | None = None,
           poa_metric: str = "e2e") -> Assessment:
    """Fit, knee, regime, PoA bound (and PoA-hat) of a benchmark (see the module docstring).

    Parameters
    ----------
    path : str or Path, optional
        An aiperf artifacts folder, an aiperf ``profile_export.jsonl``, a CSV/TSV table, or a request log.
    load, latency : array_like, optional
        The points themselves instead of ``path`` (latency in ms).
    log : str or Path, optional
        A request log (schema :data:`gametheory.serving.estimator.LOG_COLUMNS`) for PoA-hat.
    load_column, latency_column : str, optional
        Columns of a table.
    metric, stat : str
        Latency of aiperf inputs (``ttft``/``itl``/``e2e``; ``p99``/``p50``/``avg``/...).
    at : float, optional
        Operating point (load); default the highest measured load.
    family : str
        Curve family (default ``"auto"``: chosen by AICc).
    n_boot : int
        Bootstrap refits of each knee interval.
    seed : int
    encoding : str, optional
        Of the input files, when not UTF-8.
    poa_metric : {"e2e", "ttft"}
        Which realized latency PoA-hat compares.

    Returns
    -------
    Assessment

    Raises
    ------
    InvalidInputError
        Unreadable or malformed input (naming file, row and column), too few points, an operating point that
        is negative, or neither a path nor points.

    References
    ----------
    Roughgarden, T. (2003), "The price of anarchy is independent of the network topology" (class bounds).
    Burnham & Anderson (2002) (AICc). Satopaa et al. (2011) (Kneedle). The paper, section 6.4 (PoA-hat).
    """
    from gametheory._validate import nonnegative_scalar
    from gametheory.fitting import fit
    from gametheory.regimes import classify, find_knees
    from gametheory.serving.estimator import poa_hat_log, read_request_log
    from gametheory.serving.measurements import Measurements

    notes: list[str] = []
    logs: list = []
    if not isinstance(stat, str):
        raise InvalidInputError(f"stat must be a statistic name such as 'p99' or 'avg', got {stat!r}")
    poa_metric = choice(poa_metric, "poa_metric", ("e2e", "ttft"))
    family = choice(family, "family", FAMILIES + ("auto",))
    n_boot = integer(n_boot, "n_boot", minimum=0, maximum=100_000)
    seed = random_seed(seed)
    if path is not None:
        if load is not None or latency is not None:
            raise InvalidInputError("give either path or load and latency, not both")
        data, logs, notes = read_input(path, load_column=load_column, latency_column=latency_column, metric=metric,
                                       stat=stat, encoding=encoding)
    elif load is not None and latency is not None:
        from gametheory._validate import nonnegative_array

        x = nonnegative_array(load, "load", ndim=1)
        data = Measurements(load=x, latency_ms=nonnegative_array(latency, "latency", ndim=1), source="arrays")
    else:
        raise InvalidInputError("assess needs a path, or load and latency arrays")
    if log is not None:
        logs = [(None, check_path(log, "log"))]
    if data is None:
        raise InvalidInputError(f"{path}: a request log gives PoA-hat but no load-latency curve; pass the benchmark "
                                "as the input and the log with log= (--log)")

    res = fit(data.load, data.latency_ms, family=family, weights=data.weights, warn=False)
    warnings = list(res.warnings)
    knees = find_knees(data.load, data.latency_ms, weights=data.weights, n_boot=n_boot, seed=seed)
    if stat.startswith("p") and stat != "p50" and "requests in flight" in data.load_name:
        warnings.append(f"{stat} of about 20 requests per load is close to their maximum: a noisy statistic")
    at_source = "given"
    if at is None:
        at, at_source = float(np.max(data.load)), "the highest measured load"
    at = nonnegative_scalar(at, "at (operating point)")
    if at > float(np.max(data.load)):
        warnings.append(f"the operating point {at:.4g} is past the highest measured load {np.max(data.load):.4g}: "
                        "the curve, knee and bound are extrapolated there")
    if knees.found:
        regime = classify(at, knee=knees)
        lo, hi = knees.interval
        ratio = at / knees.load if knees.load > 0 else math.inf
        interval = (at / hi if hi > 0 else math.inf, at / lo if lo > 0 else math.inf)
        if not knees.agree:
            warnings.append("the knee methods disagree; the consensus interval spans all of them (see 'why')")
    else:
        regime, ratio, interval = "no knee", None, None
    bound, kind, across = _bound(res.curve, at)
    poa, poa_across = None, []
    for run_load, q in logs:
        est = poa_hat_log(read_request_log(q, encoding=encoding), metric=poa_metric, n_boot=200, seed=seed)
        if run_load is None:
            poa = est
        else:
            poa_across.append((run_load, est))
    if poa_across:
        poa_across.sort(key=lambda t: t[0])
        nearest = min(poa_across, key=lambda t: abs(t[0] - at))
        poa = nearest[1]
        if nearest[0] != at:
            warnings.append(f"PoA-hat is the one of the run at {nearest[0]:.4g}, nearest the operating point")
    return Assessment(data=data, fit=res, knee=knees, at=at, at_source=at_source, regime=regime,
                      load_over_knee=ratio, load_over_knee_interval=interval, poa_bound=bound, bound_kind=kind,
                      bound_across_load=tuple(across), poa_hat=poa, poa_hat_across_load=tuple(poa_across),
                      warnings=tuple(warnings), notes=tuple(notes))


def _bound(curve, at: float):
    """(bound at ``at``, its kind, [(load, bound), ...] up to ``at``) of the curve's class."""
    from gametheory.bounds import class_bound

    if at <= 0:
        return 1.0, "no load", []
    if at >= curve.capacity:
        return None, f"the operating point {at:.4g} is at or past the fitted capacity {curve.capacity:.4g}: " \
                     "latency and the bound are unbounded there", []
    try:
        bound, kind = class_bound([curve], at)
    except (InvalidInputError, CapacityExceededError) as exc:
        return None, str(exc), []
    across = []
    for x in np.linspace(at / BOUND_GRID, at, BOUND_GRID):
        try:
            across.append((float(x), float(class_bound([curve], float(x))[0])))
        except (InvalidInputError, CapacityExceededError):
            break
    return float(bound), kind, across

