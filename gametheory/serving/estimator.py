"""PoA-hat, the empirical Price-of-Anarchy estimator of the paper (section 6.4, "PoA estimation").

Operational form (see ../shared/paper.md): split the request log into consecutive windows of ``window``
requests (default m = number of workers). ``costs[i, w]`` is request i's modelled cost on worker w under the
state frozen at its window's start. ACTUAL = sum of costs at the router's choices; OPT = the min-cost
assignment of the window's requests to workers (Hungarian algorithm, Kuhn 1955 / Jonker-Volgenant via
:func:`scipy.optimize.linear_sum_assignment`). PoA-hat = sum of ACTUAL / sum of OPT (ratio of sums).

Matching constraint: OPT places at most ``ceil(window / m)`` requests on each worker (one each when
window = m), while the router may send several requests of a window to the same worker. That is why
PoA-hat can fall below 1: the router's unconstrained choices can beat the constrained matching.

Speed: for m <= 6 the per-window optimum is computed by vectorized enumeration of all m! permutations
(exact, identical to the Hungarian result); otherwise linear_sum_assignment is called per window.

User logs: :func:`read_log_csv` reads a CSV with columns ``choice`` (0-based worker index) and
``cost_0, ..., cost_{m-1}`` (cost of the request on each worker, any nonnegative unit, e.g. ms or blocks);
other columns (``arrival_ms``, ``ttft_ms``, ...) are ignored. Rows must be in arrival order. A column whose
name starts with ``cost_`` but is not ``cost_<integer>`` (e.g. ``cost_total``) is rejected, not guessed at.

Simulator logs: :func:`poa_hat_log` reads the ``window_costs`` field of
:func:`gametheory.serving.simulator.simulate` logs (costs frozen at each window's start, as the estimator
requires), not ``costs`` (the router's decision-time view, under which an argmin router's choice is the row
minimum and PoA-hat <= 1 by construction). It aligns a sliced log to the simulator's windows first.
"""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from gametheory.errors import InvalidInputError

_PERM_MAX_M = 6
_CHUNK_ELEMS = 4_000_000


@dataclass(frozen=True)
class PoAHatResult:
    """PoA-hat of a request log.

    value: sum(ACTUAL) / sum(OPT) over all windows. median, p90: of the per-window ratios.
    windows: per-window ratios (1 where ACTUAL = OPT = 0, inf where OPT = 0 < ACTUAL).
    actual, opt: per-window sums. interval: bootstrap (lo, hi) over windows or None. window: requests per window.
    """

    value: float
    median: float
    p90: float
    windows: np.ndarray
    actual: np.ndarray
    opt: np.ndarray
    interval: tuple[float, float] | None
    window: int


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
    rep = np.repeat(c, per_worker, axis=1) if per_worker > 1 else c
    r, k = linear_sum_assignment(rep)
    return float(rep[r, k].sum())


def poa_hat(costs, choices, window: int | None = None, *, n_boot: int = 0, confidence: float = 0.95,
            seed: int | None = 0) -> PoAHatResult:
    """PoA-hat of a log: ``costs`` (n, m) frozen costs, ``choices`` (n,) chosen worker per request.

    ``window`` = requests per window (default m). A final partial window is kept (rectangular matching).
    ``n_boot`` > 0 adds a percentile bootstrap interval over windows (Efron 1979) at ``confidence``.
    """
    c = np.asarray(costs, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        raise InvalidInputError(f"costs must be a non-empty (n, m) array, got shape {c.shape}")
    if not np.isfinite(c).all():
        bad = np.argwhere(~np.isfinite(c))[0]
        raise InvalidInputError(f"costs has a non-finite entry at row {bad[0]}, worker {bad[1]}")
    if (c < 0).any():
        bad = np.argwhere(c < 0)[0]
        raise InvalidInputError(f"costs has a negative entry at row {bad[0]}, worker {bad[1]}")
    n, m = c.shape
    ch = np.asarray(choices)
    if ch.shape != (n,):
        raise InvalidInputError(f"choices must have shape ({n},), got {ch.shape}")
    if not np.issubdtype(ch.dtype, np.integer):
        if not np.all(np.asarray(ch, float) == np.round(np.asarray(ch, float))):
            raise InvalidInputError("choices must be integer worker indices")
        ch = ch.astype(np.intp)
    if ch.min() < 0 or ch.max() >= m:
        raise InvalidInputError(f"choices must lie in [0, {m - 1}]; found {int(ch.min())}..{int(ch.max())}")
    k = m if window is None else int(window)
    if k < 1:
        raise InvalidInputError(f"window must be >= 1, got {window}")
    per_worker = -(-k // m)
    picked = c[np.arange(n), ch]
    n_full = n // k
    n_win = n_full + (1 if n % k else 0)
    actual = np.add.reduceat(picked, np.arange(0, n, k)) if n else np.zeros(0)
    opt = np.empty(n_win)
    if n_full and k == m and m <= _PERM_MAX_M:
        opt[:n_full] = _opt_perm(c[: n_full * k].reshape(n_full, k, m))
    else:
        for j in range(n_full):
            opt[j] = _opt_hungarian(c[j * k : (j + 1) * k], per_worker)
    if n_win > n_full:
        opt[-1] = _opt_hungarian(c[n_full * k :], per_worker)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(opt > 0, actual / np.where(opt > 0, opt, 1.0), np.where(actual > 0, np.inf, 1.0))
    tot_a, tot_o = float(actual.sum()), float(opt.sum())
    value = tot_a / tot_o if tot_o > 0 else (1.0 if tot_a == 0 else float("inf"))
    interval = None
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        reps = np.empty(n_boot)
        p = np.full(n_win, 1.0 / n_win)
        for b in range(n_boot):
            wts = rng.multinomial(n_win, p)
            den = float(wts @ opt)
            reps[b] = float(wts @ actual) / den if den > 0 else np.inf
        a = (1 - confidence) / 2
        interval = (float(np.quantile(reps, a)), float(np.quantile(reps, 1 - a)))
    return PoAHatResult(value=value, median=float(np.median(ratios)), p90=float(np.quantile(ratios, 0.9)),
                        windows=ratios, actual=actual, opt=opt, interval=interval, window=k)


def read_log_csv(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a user log CSV (schema in the module docstring); returns (costs (n, m), choices (n,))."""
    p = Path(path)
    with p.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        bad = [f for f in fields if f.startswith("cost_") and not f[5:].isdigit()]
        if bad:
            raise InvalidInputError(f"{p}: column {bad[0]!r} is not a cost column name: cost columns must be "
                                    "cost_0..cost_<m-1> (one per worker); rename or drop it")
        cost_cols = sorted((f for f in fields if f.startswith("cost_")), key=lambda f: int(f[5:]))
        if "choice" not in fields or not cost_cols:
            raise InvalidInputError(f"{p}: needs columns 'choice' and 'cost_0'..'cost_<m-1>', found {fields}")
        if [int(f[5:]) for f in cost_cols] != list(range(len(cost_cols))):
            raise InvalidInputError(f"{p}: cost columns must be cost_0..cost_{len(cost_cols) - 1}")
        costs, choices = [], []
        for line, row in enumerate(reader, start=2):
            try:
                costs.append([float(row[f]) for f in cost_cols])
                choices.append(int(row["choice"]))
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f"{p}: line {line}: {exc}") from exc
    return np.asarray(costs, float).reshape(-1, len(cost_cols)), np.asarray(choices, np.intp)


def aligned_window_rows(log) -> np.ndarray:
    """Rows of a simulator log (or a slice of one) that form whole frozen-state windows.

    Uses the ``window`` field (request index // m): leading rows of a partial window (a log sliced after a
    warm-up that is not a multiple of m) are dropped, so every block of m consecutive rows left is one
    window frozen at one state; a trailing partial window (the log's last requests), or a log of a single
    window, is kept (its rows share one frozen state; rectangular matching). Raises
    InvalidInputError if the rows left are not consecutive windows (e.g. a filtered log)."""
    m = log["window_costs"].shape[1]
    wid = np.asarray(log["window"], np.int64)
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
        raise InvalidInputError("log field 'window': rows are not consecutive windows of m requests in arrival "
                                "order (was the log filtered?)")
    return rows


def poa_hat_log(log, window: int | None = None, **kw) -> PoAHatResult:
    """PoA-hat of a request log (structured array with a ``worker`` field and a cost field).

    With a ``window_costs`` (m,) field (simulator logs: costs frozen at each window's start) it uses those,
    after dropping the leading rows of a partial window (:func:`aligned_window_rows`, needs the ``window``
    field); ``window`` must then be m (or None). Without it (e.g. a user's log) it uses ``costs`` (n, m) as
    they are, assumed frozen per window by the user. ``kw`` go to :func:`poa_hat`."""
    names = log.dtype.names or ()
    if "window_costs" in names:
        m = log["window_costs"].shape[1]
        if window is not None and int(window) != m:
            raise InvalidInputError(f"window must be m = {m} for a log with window_costs (frozen per m requests), "
                                    f"got {window}; pass other windows to poa_hat with your own cost matrix")
        if "window" in names:
            log = log[aligned_window_rows(log)]
        return poa_hat(log["window_costs"], log["worker"], m, **kw)
    if "costs" not in names or "worker" not in names:
        raise InvalidInputError(f"log needs fields 'worker' and 'window_costs' or 'costs', found {names}")
    return poa_hat(log["costs"], log["worker"], window, **kw)
