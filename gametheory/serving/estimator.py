"""PoA-hat, the empirical Price-of-Anarchy estimator of the paper (section 6.4, "PoA estimation"), in two forms.

Both forms cut a request log (rows in routing order) into consecutive windows of ``window`` requests (default
m = number of workers) and compute, per window, OPT = the minimum-cost assignment of the window's requests to
the workers under a cost matrix frozen at the window's start (Hungarian algorithm, Kuhn 1955 /
Jonker-Volgenant via :func:`scipy.optimize.linear_sum_assignment`; at most ``ceil(window / m)`` requests per
worker). The value is the ratio of sums over windows, sum ACTUAL / sum OPT.

- **The paper's form** (:func:`poa_hat`): ACTUAL = the *realized* latencies of the window's requests (ms;
  end-to-end by default, TTFT selectable); OPT = the Hungarian optimum of the *modelled* latency matrix
  ``model_ms[i, w]`` (ms: the engine model's predicted latency of request i on worker w, frozen at the window's
  start). This is the reading that fits every sentence the paper gives: "Hungarian algorithm on a
  frozen-latency cost matrix against actual routing outcomes"; an upper bound "because OPT is underestimated
  when computed from frozen latencies"; below 1 at a few points because the frozen model "imperfectly
  approximates the actual cache state"; 284 in deep saturation "means overload". Frozen latencies leave out
  the queueing that the window's own requests and the ones behind them cause, so past the knee ACTUAL grows
  with the queue while OPT does not: PoA-hat grows about in proportion to C / C* (docs/theory.md).
- **The matching ratio** (:func:`matching_ratio`, the form this project used first): ACTUAL = the same
  modelled matrix read at the router's choices; OPT as above. A modelled-vs-modelled comparison of the
  router's assignment with the best matching: at most m per window (exactly ``max/mean`` when the rows of a
  window are equal), so it cannot show values such as 18.7 on two workers.

A window whose OPT is 0 while its ACTUAL is positive has ratio ``inf``; the summary statistics (value, median,
P90) are then ``inf`` wherever the quantity they summarize is, never NaN.

Request logs (:data:`LOG_COLUMNS`; :func:`read_request_log` reads a CSV, :func:`poa_hat_log` any structured
array with these fields, including the simulator's and the Dynamo replay's logs):

- ``worker`` (index): 0-based worker the router chose (matching ratio only);
- ``latency_ms`` (ms): realized end-to-end latency, arrival to last token;
- ``ttft_ms`` (ms): realized time to first token (``metric="ttft"``);
- ``model_ms_0`` .. ``model_ms_<m-1>`` (ms): modelled end-to-end latency on each worker, frozen at the
  window's start;
- ``model_ttft_ms_0`` .. ``model_ttft_ms_<m-1>`` (ms): modelled TTFT on each worker, frozen likewise;
- ``window`` (id, optional): window id, request index // m; default consecutive blocks of m rows.

Rows are in routing (arrival) order. Speed: for m <= 6 and window = m the per-window optimum is computed by
vectorized enumeration of all m! permutations (exact, identical to the Hungarian result).

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, section 6.4.
.. [2] H. W. Kuhn, "The Hungarian method for the assignment problem", Naval Res. Logist. Q. 2, 1955.
.. [3] B. Efron, "Bootstrap methods: another look at the jackknife", Ann. Statist. 7, 1979.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from gametheory._validate import choice, finite_array, finite_scalar, integer, integer_array, random_seed, size_limit
from gametheory.display import Readable
from gametheory.errors import InvalidInputError
from gametheory.io.table import read_table

__all__ = [
    "LOG_COLUMNS",
    "METRICS",
    "PoAHatResult",
    "aligned_window_rows",
    "matching_ratio",
    "poa_hat",
    "poa_hat_log",
    "read_request_log",
]

#: the request-log columns (see the module docstring); ``model_ms`` and ``model_ttft_ms`` are per worker
LOG_COLUMNS = {
    "worker": "0-based index of the worker the router chose",
    "latency_ms": "realized end-to-end latency, ms (arrival to last token)",
    "ttft_ms": "realized time to first token, ms",
    "model_ms_<w>": "modelled end-to-end latency of the request on worker w, frozen at its window's start, ms",
    "model_ttft_ms_<w>": "modelled TTFT of the request on worker w, frozen at its window's start, ms",
    "window": "optional window id (request index // m)",
}
#: metric -> (realized field, modelled field) of a request log
METRICS = {"e2e": ("latency_ms", "model_ms"), "ttft": ("ttft_ms", "model_ttft_ms")}

_PERM_MAX_M = 6
_CHUNK_ELEMS = 4_000_000


@dataclass(frozen=True, repr=False)
class PoAHatResult(Readable):
    """PoA-hat of a request log.

    Parameters
    ----------
    value : float
        sum(ACTUAL) / sum(OPT) over all windows (inf when sum OPT = 0 < sum ACTUAL).
    median, p90 : float
        Median and 90th percentile of the per-window ratios (inf where the order statistics are).
    windows : ndarray
        Per-window ratios (1 where ACTUAL = OPT = 0, inf where OPT = 0 < ACTUAL).
    actual, opt : ndarray
        Per-window sums (the unit of the input: ms for the paper's form).
    interval : tuple of float or None
        Bootstrap (lo, hi) over windows, or None.
    window : int
        Requests per window.
    form : str
        ``"paper"`` (realized vs frozen model, :func:`poa_hat`) or ``"matching"`` (:func:`matching_ratio`).
    """

    value: float
    median: float
    p90: float
    windows: np.ndarray
    actual: np.ndarray
    opt: np.ndarray
    interval: tuple[float, float] | None
    window: int
    form: str = "paper"

    def _display_title(self) -> str:
        ci = "" if self.interval is None else f" [{self.interval[0]:.4g}, {self.interval[1]:.4g}]"
        return (f"PoAHatResult ({self.form} form): {self.value:.4g}{ci} over {self.windows.size} windows of "
                f"{self.window}")

    def _display_items(self):
        return [("value", self.value), ("median", self.median), ("p90", self.p90), ("interval", self.interval),
                ("windows", self.windows)]

    def to_frame(self):
        """One row per window.

        Returns
        -------
        pandas.DataFrame
            Columns ``window``, ``actual``, ``opt`` and ``ratio``.
        """
        import pandas as pd

        return pd.DataFrame({"window": np.arange(self.windows.size), "actual": self.actual, "opt": self.opt,
                             "ratio": self.windows})

    def plot(self, ax=None, *, unit: str = "window"):
        """Per-window ratios in routing order with the overall value.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default a new figure's).
        unit : str
            Label of the x axis' unit.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from gametheory.plotting import axes, legend, ratio_ylim

        ax = axes(ax)
        idx = np.arange(self.windows.size)
        ax.plot(idx, self.windows, ".", alpha=0.5, label="per window")
        ax.axhline(self.value, color="0.2", linestyle="--", label=f"PoA-hat {self.value:.3g} (ratio of sums)")
        ax.set_xlabel(f"{unit} (routing order)")
        ax.set_ylabel(f"PoA-hat ({'realized / modelled optimum' if self.form == 'paper' else 'matching ratio'})")
        ratio_ylim(ax, np.append(self.windows, self.value))
        legend(ax)
        return ax


def _opt_perm(block: np.ndarray) -> np.ndarray:
    """Min over permutations of sum_i block[:, i, perm[i]] for square (W, m, m) blocks, chunked."""
    w_count, m, _ = block.shape
    perms = np.array(list(itertools.permutations(range(m))), dtype=np.intp)  # (P, m)
    rows = np.arange(m)
    out = np.empty(w_count)
    step = max(1, _CHUNK_ELEMS // (perms.shape[0] * m))
    for s in range(0, w_count, step):
        b = block[s : s + step]  # (k, m, m)
        vals = b[:, rows[None, :], perms]  # (k, P, m)
        out[s : s + step] = vals.sum(axis=2).min(axis=1)
    return out


def _opt_hungarian(c: np.ndarray, per_worker: int) -> float:
    per_worker = min(per_worker, c.shape[0])  # no worker can take more rows than the window has
    rep = np.repeat(c, per_worker, axis=1) if per_worker > 1 else c
    r, k = linear_sum_assignment(rep)
    return float(rep[r, k].sum())


def _matrix(values, name: str) -> np.ndarray:
    c = finite_array(values, name)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise InvalidInputError(f"{name} must be a non-empty (n, m) array, got shape {c.shape}")
    if not np.isfinite(c).all():
        bad = np.argwhere(~np.isfinite(c))[0]
        raise InvalidInputError(f"{name} has a non-finite entry at row {bad[0]}, worker {bad[1]}: {c[tuple(bad)]!r}")
    if (c < 0).any():
        bad = np.argwhere(c < 0)[0]
        raise InvalidInputError(f"{name} has a negative entry at row {bad[0]}, worker {bad[1]}: {c[tuple(bad)]!r}")
    return c


def _window_size(window, m: int) -> int:
    k = m if window is None else window
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidInputError(f"window must be an integer >= 1 (requests per window), got {window!r}")
    return int(k)


def _check_window_size(n: int, m: int, k: int) -> None:
    """Refuse a window whose Hungarian cost matrix (rows x m copies of each worker) would exhaust memory."""
    rows = min(k, n)
    size_limit(rows * m * min(-(-k // m), rows), "window", limit=2**26,
               what=f"entries of one window's assignment matrix (window {k:,} of {n:,} requests on {m} workers)")


def _window_opt(c: np.ndarray, k: int) -> np.ndarray:
    """Per-window Hungarian optimum of the frozen matrix ``c`` (n, m), windows of ``k`` consecutive rows."""
    n, m = c.shape
    _check_window_size(n, m, k)
    per_worker = -(-k // m)
    n_full = n // k
    opt = np.empty(n_full + (1 if n % k else 0))
    if n_full and k == m and m <= _PERM_MAX_M:
        opt[:n_full] = _opt_perm(c[: n_full * k].reshape(n_full, k, m))
    else:
        for j in range(n_full):
            opt[j] = _opt_hungarian(c[j * k : (j + 1) * k], per_worker)
    if opt.size > n_full:
        opt[-1] = _opt_hungarian(c[n_full * k :], min(per_worker, n - n_full * k))
    return opt


def _quantile(ratios: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile that is inf (not NaN) where an order statistic it uses is inf."""
    s = np.sort(ratios)
    pos = q * (s.size - 1)
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    frac = pos - lo
    if math.isinf(s[hi]) and (frac > 0 or lo == hi):
        return math.inf
    if math.isinf(s[lo]):
        return math.inf
    return float(s[lo] + frac * (s[hi] - s[lo]))


def _summarize(actual: np.ndarray, opt: np.ndarray, k: int, form: str, n_boot: int, confidence: float,
               seed) -> PoAHatResult:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(opt > 0, actual / np.where(opt > 0, opt, 1.0), np.where(actual > 0, np.inf, 1.0))
    tot_a, tot_o = float(actual.sum()), float(opt.sum())
    value = tot_a / tot_o if tot_o > 0 else (1.0 if tot_a == 0 else math.inf)
    interval = None
    n_boot = integer(n_boot, "n_boot", minimum=0, maximum=100_000)
    if n_boot:
        confidence = finite_scalar(confidence, "confidence")
        if not 0 < confidence < 1:
            raise InvalidInputError(f"confidence must be in (0, 1), got {confidence!r}")
        rng = np.random.default_rng(random_seed(seed))
        n_win = actual.size
        reps = np.empty(int(n_boot))
        step = max(1, _CHUNK_ELEMS // n_win)  # replicates per chunk: windows drawn with replacement, vectorized
        for s in range(0, int(n_boot), step):
            idx = rng.integers(0, n_win, size=(min(step, int(n_boot) - s), n_win))
            num, den = actual[idx].sum(axis=1), opt[idx].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                reps[s : s + idx.shape[0]] = np.where(den > 0, num / np.where(den > 0, den, 1.0),
                                                      np.where(num > 0, math.inf, 1.0))
        a = (1 - confidence) / 2
        interval = (_quantile(reps, a), _quantile(reps, 1 - a))
    return PoAHatResult(value=value, median=_quantile(ratios, 0.5), p90=_quantile(ratios, 0.9), windows=ratios,
                        actual=actual, opt=opt, interval=interval, window=k, form=form)


def poa_hat(model_ms, realized_ms, window: int | None = None, *, n_boot: int = 0, confidence: float = 0.95,
            seed: int | None = 0) -> PoAHatResult:
    """PoA-hat in the paper's form: realized latencies against the Hungarian optimum of frozen modelled ones.

    Parameters
    ----------
    model_ms : array_like, shape (n, m)
        Modelled latency (ms) of request i on worker w, frozen at the start of request i's window (the engine
        model's prediction; finite, >= 0).
    realized_ms : array_like, shape (n,)
        Realized latency (ms) of each request (end-to-end, or TTFT with a TTFT ``model_ms``); finite, >= 0.
    window : int, optional
        Requests per window (default m). A final partial window is kept (rectangular matching).
    n_boot : int
        Percentile-bootstrap replicates over windows (Efron 1979); 0 = no interval.
    confidence : float
        Level of the bootstrap interval.
    seed : int or None
        Seed of the bootstrap.

    Returns
    -------
    PoAHatResult
        ``form = "paper"``; ACTUAL per window = sum of ``realized_ms``, OPT = Hungarian minimum of ``model_ms``.

    Raises
    ------
    InvalidInputError
        Shapes that do not match, NaN, inf or negative entries, a window below 1.

    References
    ----------
    Paper section 6.4 (see the module docstring); Kuhn (1955) for the assignment.
    """
    c = _matrix(model_ms, "model_ms")
    n, m = c.shape
    real = finite_array(realized_ms, "realized_ms")
    if real.shape != (n,):
        raise InvalidInputError(f"realized_ms must have shape ({n},) (one latency per row of model_ms), "
                                f"got {real.shape}")
    if not np.isfinite(real).all() or (real < 0).any():
        i = int(np.flatnonzero(~np.isfinite(real) | (real < 0))[0])
        raise InvalidInputError(f"realized_ms must be finite and >= 0; row {i} is {real[i]!r}")
    k = _window_size(window, m)
    actual = np.add.reduceat(real, np.arange(0, n, k))
    return _summarize(actual, _window_opt(c, k), k, "paper", n_boot, confidence, seed)


def matching_ratio(costs, choices, window: int | None = None, *, n_boot: int = 0, confidence: float = 0.95,
                   seed: int | None = 0) -> PoAHatResult:
    """The modelled-vs-modelled matching ratio: the frozen cost matrix at the router's choices against its
    Hungarian optimum (at most m per window; below 1 when the router stacks requests the matching must spread).

    Parameters
    ----------
    costs : array_like, shape (n, m)
        Frozen cost of request i on worker w (any nonnegative unit), frozen at the window's start.
    choices : array_like of int, shape (n,)
        Worker the router chose for each request (0-based).
    window, n_boot, confidence, seed
        As in :func:`poa_hat`.

    Returns
    -------
    PoAHatResult
        ``form = "matching"``.

    Raises
    ------
    InvalidInputError
        Bad shapes, non-finite or negative costs, choices outside 0..m-1 or not integers.

    References
    ----------
    Kuhn (1955); this project's first reading of the paper's section 6.4 (docs/theory.md).
    """
    c = _matrix(costs, "costs")
    n, m = c.shape
    ch = integer_array(choices, "choices (worker indices)")
    if ch.shape != (n,):
        raise InvalidInputError(f"choices must have shape ({n},), got {ch.shape}")
    if ch.min() < 0 or ch.max() >= m:
        raise InvalidInputError(f"choices must lie in [0, {m - 1}]; found {int(ch.min())}..{int(ch.max())}")
    k = _window_size(window, m)
    actual = np.add.reduceat(c[np.arange(n), ch], np.arange(0, n, k))
    return _summarize(actual, _window_opt(c, k), k, "matching", n_boot, confidence, seed)


def read_request_log(path, *, encoding: str | None = None) -> np.ndarray:
    """Read a request-log CSV (columns of :data:`LOG_COLUMNS`) into a structured array for :func:`poa_hat_log`.

    The file goes through :func:`gametheory.io.table.read_table` (UTF-8 byte-order mark, ``#`` comments, TSV,
    the encoding named in errors, duplicate columns rejected).

    Parameters
    ----------
    path : str or Path
        CSV file with a header row; rows in routing order. Columns not in the schema are ignored.
    encoding : str, optional
        When the file is not UTF-8.

    Returns
    -------
    ndarray
        Structured array with the fields present among ``worker``, ``latency_ms``, ``ttft_ms``, ``window``,
        ``model_ms`` (n, m) and ``model_ttft_ms`` (n, m).

    Raises
    ------
    InvalidInputError
        No ``model_ms_<w>`` / ``model_ttft_ms_<w>`` columns, per-worker columns that are not 0..m-1, a column
        whose name starts with ``model_`` but is not of the schema, a value that is not a number, negative, or
        (``worker``, ``window``) not a whole number, or a worker index outside 0..m-1 (file, row, column named).
    """
    table = read_table(path, encoding=encoding)
    p = table.path
    groups: dict[str, list[str]] = {"model_ms": [], "model_ttft_ms": []}
    for f in table.header:
        if not f.lower().startswith("model_"):
            continue
        prefix, _, idx = f.rpartition("_")
        if prefix.lower() not in groups or not idx.isdigit():
            raise InvalidInputError(f"{p}: column {f!r} is not a per-worker model column (model_ms_<w> or "
                                    "model_ttft_ms_<w>); rename or drop it")
        groups[prefix.lower()].append(f)
    m = None
    for prefix, cols in groups.items():
        cols.sort(key=lambda f: int(f.rpartition("_")[2]))
        if cols and [int(f.rpartition("_")[2]) for f in cols] != list(range(len(cols))):
            raise InvalidInputError(f"{p}: columns {prefix}_<w> must be {prefix}_0..{prefix}_{len(cols) - 1}")
        if cols and m is not None and len(cols) != m:
            raise InvalidInputError(f"{p}: model_ms has {m} workers but model_ttft_ms has {len(cols)}")
        m = len(cols) if cols else m
    if not m:
        raise InvalidInputError(f"{p}: needs per-worker columns model_ms_0..model_ms_<m-1> (and/or "
                                f"model_ttft_ms_<w>); found {list(table.header)}")
    scalars = [f for f in ("worker", "latency_ms", "ttft_ms", "window") if table.has(f)]
    dtype = [(f, "i8" if f in ("worker", "window") else "f8") for f in scalars]
    dtype += [(g, "f8", (m,)) for g, cols in groups.items() if cols]
    log = np.zeros(len(table), dtype=dtype)
    for f in scalars:
        log[f] = table.numbers(table.column(f), nonnegative=True, integer=f in ("worker", "window"))
    if "worker" in scalars and len(table) and log["worker"].max() >= m:
        i = int(np.argmax(log["worker"] >= m))
        raise InvalidInputError(f"{p}, row {int(table.lines[i])}, column 'worker': worker {int(log['worker'][i])} "
                                f"but the log has {m} per-worker model columns (workers 0..{m - 1})")
    for g, cols in groups.items():
        if cols:
            log[g] = np.column_stack([table.numbers(c, nonnegative=True) for c in cols])
    return log


def _log_fields(log) -> tuple:
    """The field names of a request log (a structured array from :func:`read_request_log`)."""
    if not isinstance(log, np.ndarray) or log.dtype.names is None or log.ndim != 1:
        raise InvalidInputError(f"log must be a request log (a structured array from read_request_log), "
                                f"got {type(log).__name__}")
    return log.dtype.names


def aligned_window_rows(log, m: int | None = None) -> np.ndarray:
    """Rows of a request log (or a slice of one) that form whole frozen-state windows.

    Parameters
    ----------
    log : structured ndarray
        Needs the ``window`` field (window id = request index // m).
    m : int, optional
        Requests per window (default: the width of the log's ``model_ms`` field).

    Returns
    -------
    ndarray of int
        Row indices: leading rows of a window cut by a slice are dropped, so every block of m consecutive rows
        left is one window frozen at one state; a trailing partial window (or a log of one window) is kept.

    Raises
    ------
    InvalidInputError
        An empty log, a window with more than m rows, or rows that are not consecutive windows (a filtered log).
    """
    if "window" not in _log_fields(log):
        raise InvalidInputError("log lacks the field 'window' (read_request_log gives it)")
    if m is None:
        m = log[_model_field(log)].shape[1]
    m = integer(m, "m (workers)", minimum=1)
    wid = integer_array(log["window"], "log field 'window'", ndim=1)
    if wid.size == 0:
        raise InvalidInputError("log is empty")
    change = np.flatnonzero(wid != wid[0])
    lead = int(change[0]) if change.size else wid.size
    if lead > m:
        raise InvalidInputError(f"log field 'window': window {int(wid[0])} has {lead} rows, more than m = {m}")
    start = 0 if (lead == m or not change.size) else lead  # a log of one (partial) window is one frozen state
    rows = np.arange(start, wid.size)
    expect = wid[start] + (rows - start) // m
    if not np.array_equal(wid[start:], expect):
        raise InvalidInputError("log field 'window': rows are not consecutive windows of m requests in routing "
                                "order (was the log filtered?)")
    return rows


def _model_field(log) -> str:
    names = log.dtype.names or ()
    for f in ("model_ms", "model_ttft_ms"):
        if f in names:
            return f
    raise InvalidInputError(f"log needs a per-worker field 'model_ms' or 'model_ttft_ms'; found {names}")


def poa_hat_log(log, *, metric: str = "e2e", form: str = "paper", **kw) -> PoAHatResult:
    """PoA-hat of a request log (simulator, Dynamo replay or :func:`read_request_log`).

    Parameters
    ----------
    log : structured ndarray
        Fields of :data:`LOG_COLUMNS`; with a ``window`` field the rows are first aligned to whole windows
        (:func:`aligned_window_rows`) and the window is m.
    metric : {"e2e", "ttft"}
        End-to-end latency (``latency_ms`` against ``model_ms``) or TTFT (``ttft_ms`` against ``model_ttft_ms``).
    form : {"paper", "matching"}
        :func:`poa_hat` (realized vs frozen model) or :func:`matching_ratio` (the frozen model at the
        router's choices, needs ``worker``).
    **kw
        ``window`` (only without a ``window`` field), ``n_boot``, ``confidence``, ``seed``.

    Returns
    -------
    PoAHatResult

    Raises
    ------
    InvalidInputError
        Unknown metric or form, a missing field (named), a ``window`` that contradicts the log's windows.
    """
    metric = choice(metric, "metric", tuple(sorted(METRICS)))
    form = choice(form, "form", ("paper", "matching"))
    names = _log_fields(log)
    real_f, model_f = METRICS[metric]
    need = [model_f] + ([real_f] if form == "paper" else ["worker"])
    missing = [f for f in need if f not in names]
    if missing:
        raise InvalidInputError(f"log lacks field(s) {missing} needed for metric={metric!r}, form={form!r}; "
                                f"found {names}")
    m = log[model_f].shape[1]
    if "window" in names:
        if kw.get("window") not in (None, m):
            raise InvalidInputError(f"window must be m = {m} for a log with a 'window' field (frozen per m "
                                    f"requests), got {kw['window']}")
        kw["window"] = m
        log = log[aligned_window_rows(log, m)]
    if form == "paper":
        return poa_hat(log[model_f], log[real_f], **kw)
    return matching_ratio(log[model_f], log["worker"], **kw)
