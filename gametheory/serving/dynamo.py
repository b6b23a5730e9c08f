"""NVIDIA Dynamo's real KV router in the loop, on B200 timing from our profiles.

Three jobs, all optional at import time (``ai-dynamo==1.6.1`` is installed by ``make dynamo``; the rest of
the toolkit never needs it):

1. **Timing file.** :func:`timing_tables` converts one of our measured profiles
   (:func:`gametheory.serving.profiles.load_profile`) to the mocker's ``--planner-profile-data`` NPZ:
   ``prefill_isl`` (tokens in one prefill step) -> ``prefill_ttft_ms``, and ``decode_itl[kv, ctx]`` (ms per
   decode step) on the grid ``decode_active_kv_tokens`` x ``decode_context_length``. The mocker looks a
   decode step up by active KV tokens K and mean context L = K / batch (dynamo/mocker/utils/
   planner_profiler_perf_data_converter.py), so we tabulate K on every measured ``batch x context`` product
   and fill each cell with our step latency at batch = K / L (linear in batch; clamped at the table ends).
   :func:`round_trip_error` reads the file back with the mocker's lookup and compares it with every measured
   point; :func:`replay_timing_check` runs one request through the real replay and compares its TTFT and ITL
   with the profile.
2. **Replay sweeps** (:func:`replay_run`, :func:`sweep`) over ``dynamo.replay.run_synthetic_trace_replay``:
   the real Rust mocker and KV router on a virtual clock. Closed-loop concurrency C is native
   (``replay_concurrency``), so no Little's-law mapping is needed. From the per-request records we build the
   request log the PoA-hat estimator reads (:func:`request_log`): one row per request in decode-dispatch
   order, the modeled cost of that request on every decode worker under the state frozen at its window's
   start, and the worker the router chose.
3. Helpers the controller's replay actuator uses (:class:`ReplayActuator` in
   :mod:`gametheory.serving.controller`).

Workload (the paper's shape, section 7): 128-token inputs, 5 prefix templates (``num_prefix_groups=5``) that
share the first half of the prompt (``shared_prefix_ratio=0.5``, 64 tokens = 4 blocks of 16), and a fixed
output length of 128 tokens (the paper does not state its output length; 128 is our choice). The replay's
shared prefix is not yet :data:`gametheory.paper_setup.SHARED_PREFIX_TOKENS` (96): it moves with the one
serving workload of the engine-model rework, together with the replay tables of docs/dynamo.md.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.paper_setup import (
    BLOCK_TOKENS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    SETUPS,
    TEMPLATES,
    Setup,
)

__all__ = [
    "SETUPS",
    "TAUS",
    "OMEGAS",
    "Setup",
    "TimingTables",
    "Workload",
    "ReplayResult",
    "RequestLog",
    "dynamo_available",
    "timing_tables",
    "write_timing_file",
    "timing_file_for",
    "read_timing_file",
    "lookup_prefill_ms",
    "lookup_decode_ms",
    "round_trip_error",
    "replay_timing_check",
    "replay_run",
    "request_log",
    "poa_hat_of_log",
    "sweep",
    "interval",
]

BLOCK_SIZE = BLOCK_TOKENS  # tokens per KV block (the paper's and Dynamo's default for vLLM)

# The 16 (tau, omega) configurations of a Pareto sweep: router temperature x overlap_score_weight.
# The paper does not list its grid; this one brackets its three table entries (0,1), (0.7,1.0), (0.8,0.1).
TAUS = (0.0, 0.3, 0.7, 0.8)
OMEGAS = (0.1, 0.5, 1.0, 2.0)


@dataclass(frozen=True)
class Workload:
    """The paper's request shape: input/output tokens, prefix templates and their shared fraction."""

    isl: int = INPUT_TOKENS
    osl: int = OUTPUT_TOKENS
    num_prefix_groups: int = TEMPLATES
    shared_prefix_ratio: float = 0.5


def dynamo_available() -> bool:
    """True when ``dynamo.replay`` (ai-dynamo 1.6.1) can be imported."""
    try:
        os.environ.setdefault("DYN_LOG", "error")
        import dynamo.replay  # noqa: F401
    except Exception:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# 1. profile -> mocker timing file
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimingTables:
    """The mocker's ``--planner-profile-data`` arrays (ms, tokens)."""

    prefill_isl: np.ndarray
    prefill_ttft_ms: np.ndarray
    decode_active_kv_tokens: np.ndarray
    decode_context_length: np.ndarray
    decode_itl: np.ndarray  # [kv index, context index], ms per decode step


def _prefill_curve(profile) -> tuple[np.ndarray, np.ndarray]:
    """Step latency (ms) against tokens in the step, averaged over measured points with equal token count."""
    tok = np.asarray(profile.prefill_tokens, dtype=float)
    lat = np.asarray(profile.prefill_latency_ms, dtype=float)
    grid = np.unique(tok)
    ms = np.array([lat[tok == t].mean() for t in grid])
    return grid, ms


def timing_tables(profile) -> TimingTables:
    """Convert a :class:`~gametheory.serving.profiles.Profile` to the mocker's timing tables.

    Prefill: the measured step latency against tokens per step (points with equal token count averaged),
    extended below the smallest measured step linearly to one block (16 tokens) so that prefix-cache hits
    shorten prefill as they do on a GPU; the mocker clamps outside the grid. Decode: see the module docstring.
    """
    grid, ms = _prefill_curve(profile)
    if grid.size < 2:
        raise InvalidInputError(f"profile {profile.name}: prefill table needs >= 2 token counts")
    if grid[0] > BLOCK_SIZE:
        slope = (ms[1] - ms[0]) / (grid[1] - grid[0])
        low = max(ms[0] - slope * (grid[0] - BLOCK_SIZE), 0.1 * ms[0])
        grid = np.concatenate([[BLOCK_SIZE], grid])
        ms = np.concatenate([[low], ms])
    ctx = np.asarray(profile.decode_context, dtype=float)
    batch = np.asarray(profile.decode_batch, dtype=float)
    step = np.asarray(profile.decode_latency_ms, dtype=float)  # (contexts, batches)
    kv = np.unique(np.outer(batch, ctx).ravel())
    itl = np.empty((kv.size, ctx.size))
    for j, c in enumerate(ctx):
        itl[:, j] = np.interp(kv / c, batch, step[j])
    return TimingTables(grid, ms, kv, ctx, itl)


def write_timing_file(profile, path) -> Path:
    """Write the mocker NPZ for ``profile`` to ``path`` and return the path."""
    t = timing_tables(profile)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, prefill_isl=t.prefill_isl, prefill_ttft_ms=t.prefill_ttft_ms,
             decode_active_kv_tokens=t.decode_active_kv_tokens, decode_context_length=t.decode_context_length,
             decode_itl=t.decode_itl)
    return path


def read_timing_file(path) -> TimingTables:
    """Read a mocker NPZ back; a missing key raises InvalidInputError naming it."""
    with np.load(Path(path)) as data:
        keys = ("prefill_isl", "prefill_ttft_ms", "decode_active_kv_tokens", "decode_context_length", "decode_itl")
        missing = [k for k in keys if k not in data]
        if missing:
            raise InvalidInputError(f"{path}: mocker timing file lacks {missing}")
        return TimingTables(*(np.array(data[k], dtype=float) for k in keys))


def _nearest_index(grid: np.ndarray, x: float) -> int:
    i = int(np.clip(np.searchsorted(grid, x), 0, grid.size - 1))
    if i > 0 and abs(grid[i - 1] - x) <= abs(grid[i] - x):
        i -= 1
    return i


def lookup_prefill_ms(t: TimingTables, tokens: float) -> float:
    """Prefill step time (ms) for ``tokens`` new tokens, by binary search on ``prefill_isl`` as the mocker does."""
    return float(t.prefill_ttft_ms[_nearest_index(t.prefill_isl, tokens)])


def lookup_decode_ms(t: TimingTables, active_kv_tokens: float, batch: float) -> float:
    """Decode step time (ms): context = K / batch, binary search on both grids (the mocker's lookup)."""
    if batch <= 0:
        raise InvalidInputError(f"batch must be > 0, got {batch}")
    i = _nearest_index(t.decode_active_kv_tokens, active_kv_tokens)
    j = _nearest_index(t.decode_context_length, active_kv_tokens / batch)
    return float(t.decode_itl[i, j])


def round_trip_error(profile, t: TimingTables) -> dict:
    """Max relative error of the timing tables against every measured profile point.

    Prefill points are compared at their token count; decode points at K = batch x context, L = context.
    """
    grid, ms = _prefill_curve(profile)
    pre = max(abs(lookup_prefill_ms(t, g) - m) / m for g, m in zip(grid, ms, strict=True))
    dec = 0.0
    for j, c in enumerate(profile.decode_context):
        for k, b in enumerate(profile.decode_batch):
            want = float(profile.decode_latency_ms[j, k])
            dec = max(dec, abs(lookup_decode_ms(t, b * c, b) - want) / want)
    return {"prefill_max_rel": float(pre), "decode_max_rel": float(dec)}


def _engine_args(npz: Path, worker_type: str, profile, max_num_seqs: int | None = None) -> dict:
    blocks = max(int(profile.memory.max_kv_tokens_per_worker // BLOCK_SIZE), 1024)
    eng = {"block_size": BLOCK_SIZE, "num_gpu_blocks": blocks, "worker_type": worker_type,
           "timing_model": {"type": "external", "provider": "dynamo_profile", "config": {"path": str(npz)}}}
    if max_num_seqs is not None:
        eng["max_num_seqs"] = int(max_num_seqs)
    return {"engine": eng}


def _replay(npz, profile, setup: Setup, workload: Workload, *, concurrency: int, n_requests: int, tau: float,
            omega: float, seed: int, router_mode: str = "kv_router"):
    os.environ.setdefault("DYN_LOG", "error")
    from dynamo.llm import KvRouterConfig
    from dynamo.replay import run_synthetic_trace_replay

    return run_synthetic_trace_replay(
        workload.isl, workload.osl, n_requests,
        prefill_engine_args=_engine_args(npz, "prefill", profile),
        decode_engine_args=_engine_args(npz, "decode", profile),
        num_prefill_workers=setup.n_prefill, num_decode_workers=setup.n_decode,
        router_mode=router_mode,
        router_config=KvRouterConfig(overlap_score_weight=float(omega), router_temperature=float(tau)),
        replay_concurrency=int(concurrency), arrival_seed=int(seed),
        shared_prefix_ratio=workload.shared_prefix_ratio, num_prefix_groups=workload.num_prefix_groups,
        capture_per_request=True,
    )


_NPZ_CACHE: dict[str, Path] = {}


def timing_file_for(profile) -> Path:
    """The mocker NPZ for ``profile``, written once per process to a temporary directory."""
    if profile.name not in _NPZ_CACHE:
        d = Path(tempfile.mkdtemp(prefix="gametheory-dynamo-"))
        _NPZ_CACHE[profile.name] = write_timing_file(profile, d / f"{profile.name}.npz")
    return _NPZ_CACHE[profile.name]


def replay_timing_check(profile, osl: int = 32) -> dict:
    """Run ONE request (isl 128, ``osl`` tokens) on 1P/1D through the real replay; compare with the profile.

    In a disaggregated replay the first token comes out of the decode worker, so the expected TTFT is the
    profile's prefill step at 128 tokens plus one decode step at batch 1 (context 128); the expected ITL is
    that decode step. Returns replay and profile times (ms) and their relative errors.
    """
    npz = timing_file_for(profile)
    setup = Setup("check", profile.name, 1, 1)
    rep = _replay(npz, profile, setup, Workload(isl=128, osl=osl, num_prefix_groups=0, shared_prefix_ratio=0.0),
                  concurrency=1, n_requests=1, tau=0.0, omega=1.0, seed=1)
    r = rep.per_request[0]
    grid, ms = _prefill_curve(profile)
    j = int(np.argmin(np.abs(np.asarray(profile.decode_context) - 128)))
    want_itl = float(profile.decode_latency_ms[j, 0])
    want_ttft = float(np.interp(128, grid, ms)) + want_itl
    return {"ttft_ms": float(r["ttft_ms"]), "profile_ttft_ms": want_ttft,
            "ttft_rel": abs(r["ttft_ms"] - want_ttft) / want_ttft,
            "itl_ms": float(r["itl_ms"]), "profile_decode_ms": want_itl,
            "itl_rel": abs(r["itl_ms"] - want_itl) / want_itl}


# --------------------------------------------------------------------------------------------------
# 2. request log and PoA-hat
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestLog:
    """What the PoA-hat estimator reads: per request (decode-dispatch order), cost on every decode worker
    under the frozen state of its window (ms), and the router's choice (decode worker index)."""

    costs: np.ndarray  # (n_requests, n_decode) ms
    choices: np.ndarray  # (n_requests,) int
    window: int  # m = number of decode workers


def request_log(per_request: list[dict], profile, n_decode: int, osl: int) -> RequestLog:
    """Build the estimator's request log from replay/live per-request records.

    Requests are taken in decode-admission order and cut into windows of m = ``n_decode``. Each worker's
    state is frozen at the window's first admission: its active decode requests (admitted earlier in
    dispatch order, not finished; batches admitted at the same instant count in order) and their KV
    tokens. The modeled cost of request i on worker w is the decode time it would see there:
    ``osl x step_ms(batch_w + 1, context)`` from the profile's decode table, with context the mean KV length
    of w's batch (including i, whose KV is its own ``input_length`` + osl / 2). This is the paper's "frozen
    latencies" form (section 6.4).

    What this cost model implies: a request's cost depends on the worker's frozen batch and on the request
    only through its input length. With equal input lengths (the paper's workload: every request 128 tokens)
    every row of a window holds the same cost c_w per worker, so every assignment that places one request on
    each worker costs sum_w c_w: OPT is fixed, ACTUAL <= m max_w c_w, and PoA-hat <= max_w c_w / mean_w c_w.
    It stays near 1 whenever the decode pool is balanced, whatever the router does; cache misses and prefill
    work are not in the cost. PoA-hat of a replay therefore measures decode-batch imbalance only.
    """
    t = timing_tables(profile)
    recs = [r for r in per_request if r.get("decode_admit_ms") is not None and r.get("decode_worker_idx") is not None]
    if len(recs) < n_decode:
        raise InvalidInputError(f"request log needs >= {n_decode} completed requests, got {len(recs)}")
    recs.sort(key=lambda r: r["decode_admit_ms"])
    admit = np.array([r["decode_admit_ms"] for r in recs])
    end = np.array([r["terminal_time_ms"] if r.get("terminal_time_ms") is not None else math.inf for r in recs])
    worker = np.array([int(r["decode_worker_idx"]) for r in recs])
    ctx_tokens = np.array([r["input_length"] + 0.5 * r.get("output_length", osl) for r in recs], dtype=float)
    own_kv = np.array([r["input_length"] + 0.5 * osl for r in recs], dtype=float)  # request i at mid-decode
    n = len(recs) - len(recs) % n_decode
    costs = np.empty((n, n_decode))
    for s in range(0, n, n_decode):
        t0 = admit[s]
        active = (np.arange(admit.size) < s) & (end > t0)  # placed before this window, still decoding
        rows = range(s, s + n_decode)
        for w in range(n_decode):
            on = active & (worker == w)
            b = int(on.sum()) + 1
            busy_kv = float(ctx_tokens[on].sum())
            # request i's own KV (its input_length + half its output) joins w's batch; one lookup per distinct size
            step = {k: lookup_decode_ms(t, busy_kv + k, b) for k in set(own_kv[s:s + n_decode].tolist())}
            for i in rows:
                costs[i, w] = osl * step[float(own_kv[i])]
    return RequestLog(costs, worker[:n].copy(), n_decode)


def poa_hat_of_log(log: RequestLog) -> float:
    """PoA-hat of a request log through the toolkit's estimator (:func:`gametheory.serving.estimator.poa_hat`)."""
    from gametheory.serving.estimator import matching_ratio

    return float(matching_ratio(log.costs, log.choices, log.window).value)


# --------------------------------------------------------------------------------------------------
# 3. replay runs and sweeps
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayResult:
    """One replay run: setup, load, router setting, and what it measured (ms, requests/s)."""

    setup: str
    concurrency: int
    tau: float
    omega: float
    seed: int
    poa_hat: float | None  # None when the run was asked not to compute it (with_poa=False)
    ttft_p50_ms: float
    ttft_p99_ms: float
    itl_mean_ms: float
    throughput_rps: float
    duration_ms: float
    per_request: list = field(repr=False, compare=False, default_factory=list)


def replay_run(setup: str | Setup, concurrency: int, tau: float = 0.0, omega: float = 1.0, *, n_requests=None,
               seed: int = 0, workload: Workload = Workload(), keep_records: bool = False,
               with_poa: bool = True) -> ReplayResult:
    """One closed-loop replay of the real Dynamo KV router at concurrency C with setting (tau, omega).

    ``n_requests`` defaults to max(400, 4 C). PoA-hat comes from :func:`request_log` through the toolkit's
    estimator (skip it with ``with_poa=False``).
    """
    from gametheory.serving.profiles import load_profile

    if isinstance(setup, str) and setup not in SETUPS:
        raise InvalidInputError(f"setup: unknown name {setup!r}; known setups are {sorted(SETUPS)}")
    s = SETUPS[setup] if isinstance(setup, str) else setup
    if int(concurrency) < 1:
        raise InvalidInputError(f"concurrency must be >= 1, got {concurrency}")
    profile = load_profile(s.profile)
    n = int(n_requests) if n_requests is not None else max(400, 4 * int(concurrency))
    rep = _replay(timing_file_for(profile), profile, s, workload, concurrency=concurrency, n_requests=n,
                  tau=tau, omega=omega, seed=seed)
    recs = list(rep.per_request)
    summ = rep.summary
    ttft = np.array([r["ttft_ms"] for r in recs if r.get("ttft_ms") is not None])
    poa = poa_hat_of_log(request_log(recs, profile, s.n_decode, workload.osl)) if with_poa else None
    return ReplayResult(s.name, int(concurrency), float(tau), float(omega), int(seed), poa,
                        float(np.percentile(ttft, 50)), float(np.percentile(ttft, 99)),
                        float(summ["mean_itl_ms"]), float(summ["request_throughput_rps"]),
                        float(summ["duration_ms"]), recs if keep_records else [])


def interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval (lo, hi) of repeated runs."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    m = float(x.mean())
    if x.size < 2:
        return m, m, m
    h = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - h, m + h


def sweep(setup: str, concurrencies, configs=((0.0, 1.0),), repeats: int = 3, n_requests=None,
          with_poa: bool = True) -> list[dict]:
    """Replay grid: every concurrency x (tau, omega), ``repeats`` runs each (routing ties are random).

    Returns one row per grid point: mean and 95 % interval of PoA-hat (None without ``with_poa``),
    TTFT P50/P99, ITL and throughput.
    """
    rows = []
    for c in concurrencies:
        for tau, omega in configs:
            runs = [replay_run(setup, c, tau, omega, n_requests=n_requests, seed=k, with_poa=with_poa)
                    for k in range(repeats)]
            row = {"setup": setup, "concurrency": int(c), "tau": tau, "omega": omega}
            for key in ("poa_hat", "ttft_p50_ms", "ttft_p99_ms", "itl_mean_ms", "throughput_rps"):
                vals = [getattr(r, key) for r in runs]
                if any(v is None for v in vals):
                    row[key] = row[key + "_lo"] = row[key + "_hi"] = None
                    continue
                row[key], row[key + "_lo"], row[key + "_hi"] = interval(vals)
            rows.append(row)
    return rows
