"""NVIDIA Dynamo's real KV router in the loop, on B200 timing from our profiles and our engine configuration.

Three jobs, all optional at import time (``ai-dynamo==1.6.1`` is installed by ``make dynamo``; the rest of
the toolkit never needs it):

1. **Timing file.** :func:`timing_tables` converts one of our measured profiles
   (:func:`gametheory.serving.profiles.load_profile`) to the mocker's ``--planner-profile-data`` NPZ:
   ``prefill_isl`` (tokens in one prefill step) -> ``prefill_ttft_ms``, and ``decode_itl[kv, ctx]`` (ms per
   decode step) on the grid ``decode_active_kv_tokens`` x ``decode_context_length``. The mocker looks a
   decode step up by active KV tokens K and mean context L = K / batch
   (``components/src/dynamo/mocker/utils/planner_profiler_perf_data_converter.py``), so we tabulate K on every
   measured ``batch x context`` product and fill each cell with our step latency at batch = K / L (linear in
   batch; clamped at the table ends).
   :func:`round_trip_error` reads the file back with the mocker's lookup and compares it with every measured
   point; :func:`replay_timing_check` runs one request through the real replay and compares its TTFT and ITL
   with the profile.
2. **Replay** (:func:`replay_run`, :func:`sweep`) over ``dynamo.replay.run_synthetic_trace_replay``: the real
   Rust mocker workers and KV router on a virtual clock, configured from the same
   :class:`~gametheory.serving.engine.Cluster` as our simulator (:func:`engine_args`: ``max_num_seqs``,
   ``max_num_batched_tokens``, prefix caching, chunked prefill, block size, KV blocks from the profile's
   memory budget, KV-transfer bandwidth and bytes per token) and the same
   :class:`~gametheory.serving.workload.Workload` (``isl``, ``osl``, ``num_prefix_groups``,
   ``shared_prefix_ratio``). Closed-loop concurrency C is native (``replay_concurrency``).
3. **Request log** (:func:`request_log`): the replay's per-request records in the estimator's schema
   (:data:`gametheory.serving.estimator.LOG_COLUMNS`): realized latencies and the frozen modelled latencies
   of each window, computed as the simulator computes them (module docstring of
   :mod:`gametheory.serving.simulator`), so PoA-hat means the same thing on both.

References
----------
.. [1] NVIDIA Dynamo 1.6.1, https://github.com/ai-dynamo/dynamo: ``dynamo.replay``
   (``run_synthetic_trace_replay``), ``dynamo.mocker`` (``components/src/dynamo/mocker``, its
   ``--planner-profile-data`` NPZ and lookup) and the KV router (``lib/kv-router``, ``KvRouterConfig``).
.. [2] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, sections 6.4
   (PoA-hat) and 7-8 (the setups and concurrency sweeps the replay reproduces).
.. [3] "Student" (W. S. Gosset), "The probable error of a mean", Biometrika 6, 1908 (the t interval of
   :func:`interval`).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gametheory._progress import progress
from gametheory._validate import (
    choice,
    finite_array,
    finite_scalar,
    flag,
    instance,
    integer,
    nonnegative_scalar,
    number_list,
    pair,
    positive_scalar,
)
from gametheory._validate import path as check_path
from gametheory.errors import InvalidInputError

__all__ = [
    "ReplayResult",
    "TimingTables",
    "dynamo_available",
    "engine_args",
    "interval",
    "lookup_decode_ms",
    "lookup_prefill_ms",
    "read_timing_file",
    "replay_run",
    "replay_timing_check",
    "request_log",
    "round_trip_error",
    "sweep",
    "timing_file_for",
    "timing_tables",
    "write_timing_file",
]

BLOCK_SIZE = 16  # tokens per KV block at the bottom of the prefill timing table (one block)


def dynamo_available() -> bool:
    """Whether NVIDIA Dynamo's replay can be used here.

    Returns
    -------
    bool
        True when ``dynamo.replay`` (ai-dynamo 1.6.1, installed by ``make dynamo``) imports; any import error
        gives False.
    """
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
    """The mocker's ``--planner-profile-data`` arrays (ms, tokens).

    Parameters
    ----------
    prefill_isl : numpy.ndarray, shape (p,)
        Tokens in one prefill step, increasing.
    prefill_ttft_ms : numpy.ndarray, shape (p,)
        Prefill step time (ms) at each token count.
    decode_active_kv_tokens : numpy.ndarray, shape (k,)
        Active KV tokens K on a decode worker, increasing.
    decode_context_length : numpy.ndarray, shape (c,)
        Mean context length L (tokens), increasing.
    decode_itl : numpy.ndarray, shape (k, c)
        Decode step time (ms) at ``[K index, L index]``.
    """

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


def _profile(profile):
    """A measured profile (:func:`gametheory.serving.profiles.load_profile`), checked."""
    from gametheory.serving.profiles import Profile

    return instance(profile, Profile, "profile", what="Profile (gametheory.serving.profiles.load_profile)")


SOURCES = ("model", "measured")


def timing_tables(profile, source: str = "model") -> TimingTables:
    """Convert a :class:`~gametheory.serving.profiles.Profile` to the mocker's timing tables.

    Parameters
    ----------
    profile : Profile
        Measured step latencies (:func:`gametheory.serving.profiles.load_profile`).
    source : {"model", "measured"}
        ``"model"`` (default): the profile's fitted curves, the step times every model of this toolkit uses
        (``prefill_ms``, ``decode_step_ms``), on a grid from one block (16 tokens) to 16,384 prefill tokens and
        decode batches up to 1,024, so the replay and the simulator run on identical timing and their
        differences are the scheduler's and the router's. ``"measured"``: the measured points themselves
        (points with equal token count averaged; prefill extended below the smallest measured step linearly to
        one block, so prefix-cache hits shorten prefill as on a GPU); :func:`round_trip_error` checks them.

    Returns
    -------
    TimingTables
        Prefill and decode tables in ms.

    Raises
    ------
    InvalidInputError
        An unknown source, a ``profile`` that is not a Profile, or (measured) fewer than two prefill token
        counts.
    """
    source = choice(source, "source", SOURCES)
    _profile(profile)
    ctx = np.asarray(profile.decode_context, dtype=float)
    if source == "model":
        grid = np.unique(np.concatenate([np.round(np.geomspace(BLOCK_SIZE, 16384, 96)),
                                         np.asarray(profile.prefill_tokens, float)]))
        ms = np.asarray(profile.prefill_ms(grid), float)
        batch = np.unique(np.concatenate([np.asarray(profile.decode_batch, float),
                                          np.arange(640.0, 1025.0, 128.0)]))
        kv = np.unique(np.outer(batch, ctx).ravel())
        itl = np.empty((kv.size, ctx.size))
        for j, c in enumerate(ctx):
            itl[:, j] = np.asarray(profile.decode_step_ms(np.clip(kv / c, 1.0, batch[-1]), c), float)
        return TimingTables(grid, ms, kv, ctx, itl)
    grid, ms = _prefill_curve(profile)
    if grid.size < 2:
        raise InvalidInputError(f"profile {profile.name}: prefill table needs >= 2 token counts")
    if grid[0] > BLOCK_SIZE:
        slope = (ms[1] - ms[0]) / (grid[1] - grid[0])
        low = max(ms[0] - slope * (grid[0] - BLOCK_SIZE), 0.1 * ms[0])
        grid = np.concatenate([[BLOCK_SIZE], grid])
        ms = np.concatenate([[low], ms])
    batch = np.asarray(profile.decode_batch, dtype=float)
    step = np.asarray(profile.decode_latency_ms, dtype=float)  # (contexts, batches)
    kv = np.unique(np.outer(batch, ctx).ravel())
    itl = np.empty((kv.size, ctx.size))
    for j, c in enumerate(ctx):
        itl[:, j] = np.interp(kv / c, batch, step[j])
    return TimingTables(grid, ms, kv, ctx, itl)


def write_timing_file(profile, path, source: str = "model") -> Path:
    """Write the mocker NPZ for ``profile`` (:func:`timing_tables` of ``source``) to ``path``.

    Parameters
    ----------
    profile : Profile
        Measured step latencies.
    path : str or os.PathLike
        Where to write (``numpy.savez`` adds ``.npz`` when missing); parent folders are created.
    source : {"model", "measured"}, optional
        As :func:`timing_tables`.

    Returns
    -------
    pathlib.Path
        ``path`` as given (checked).

    Raises
    ------
    InvalidInputError
        A bad profile or source (see :func:`timing_tables`), an invalid path, or a parent folder that cannot
        be created.
    """
    t = timing_tables(profile, source)
    path = check_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(f"{path}: cannot create its folder ({exc.strerror or exc})") from None
    np.savez(path, prefill_isl=t.prefill_isl, prefill_ttft_ms=t.prefill_ttft_ms,
             decode_active_kv_tokens=t.decode_active_kv_tokens, decode_context_length=t.decode_context_length,
             decode_itl=t.decode_itl)
    return path


def read_timing_file(path) -> TimingTables:
    """Read a mocker NPZ back.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`write_timing_file` or any ``--planner-profile-data`` NPZ.

    Returns
    -------
    TimingTables
        The five arrays as floats.

    Raises
    ------
    InvalidInputError
        An unreadable file, a file that is not an NPZ archive, or a missing key (named).
    """
    path = check_path(path)
    try:
        loaded = np.load(path)
    except (OSError, ValueError, EOFError) as exc:
        raise InvalidInputError(f"{path}: not a readable mocker timing file (.npz): {exc}") from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise InvalidInputError(f"{path}: not a mocker timing file (.npz archive of arrays)")
    with loaded as data:
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
    """Prefill step time (ms) for ``tokens`` new tokens, by nearest grid point on ``prefill_isl`` (the mocker's
    binary search).

    Parameters
    ----------
    t : TimingTables
        The tables.
    tokens : float
        New tokens in the step (>= 0).

    Returns
    -------
    float
        Step time (ms) at the nearest ``prefill_isl`` entry (ties to the lower one).

    Raises
    ------
    InvalidInputError
        ``t`` is not a TimingTables, or ``tokens`` is negative or not finite.
    """
    instance(t, TimingTables, "t")
    tokens = nonnegative_scalar(tokens, "tokens")
    return float(t.prefill_ttft_ms[_nearest_index(t.prefill_isl, tokens)])


def lookup_decode_ms(t: TimingTables, active_kv_tokens: float, batch: float) -> float:
    """Decode step time (ms): context = K / batch, nearest point on both grids (the mocker's lookup).

    Parameters
    ----------
    t : TimingTables
        The tables.
    active_kv_tokens : float
        Active KV tokens K on the worker (>= 0).
    batch : float
        Requests in the decode batch (> 0).

    Returns
    -------
    float
        ``decode_itl`` (ms) at the grid points nearest K and K / batch.

    Raises
    ------
    InvalidInputError
        ``t`` is not a TimingTables, a negative K or a non-positive batch.
    """
    instance(t, TimingTables, "t")
    active_kv_tokens = nonnegative_scalar(active_kv_tokens, "active_kv_tokens")
    batch = positive_scalar(batch, "batch")
    i = _nearest_index(t.decode_active_kv_tokens, active_kv_tokens)
    j = _nearest_index(t.decode_context_length, active_kv_tokens / batch)
    return float(t.decode_itl[i, j])


def round_trip_error(profile, t: TimingTables) -> dict:
    """Max relative error of the timing tables against every measured profile point.

    Prefill points are compared at their token count; decode points at K = batch x context, L = context.

    Parameters
    ----------
    profile : Profile
        The measured profile.
    t : TimingTables
        Tables to check (usually ``timing_tables(profile, "measured")``).

    Returns
    -------
    dict
        ``{"prefill_max_rel": float, "decode_max_rel": float}``, largest relative errors (fractions).

    Raises
    ------
    InvalidInputError
        ``profile`` is not a Profile or ``t`` not a TimingTables.
    """
    _profile(profile)
    instance(t, TimingTables, "t")
    grid, ms = _prefill_curve(profile)
    pre = max(abs(lookup_prefill_ms(t, g) - m) / m for g, m in zip(grid, ms, strict=True))
    dec = 0.0
    for j, c in enumerate(profile.decode_context):
        for k, b in enumerate(profile.decode_batch):
            want = float(profile.decode_latency_ms[j, k])
            dec = max(dec, abs(lookup_decode_ms(t, b * c, b) - want) / want)
    return {"prefill_max_rel": float(pre), "decode_max_rel": float(dec)}


def engine_args(cluster, worker_type: str, timing_source: str = "model") -> dict:
    """The mocker's engine arguments for one worker of ``cluster`` (the same :class:`EngineConfig` as our
    simulator): block size, KV blocks (the profile's KV budget), ``max_num_seqs`` (``max_prefill_seqs`` on a
    prefill worker), ``max_num_batched_tokens``, prefix caching, chunked prefill, KV-transfer bandwidth and
    bytes per token, and the timing file of the profile.

    Parameters
    ----------
    cluster : Cluster
        Profile, layout, KV link and engine configuration.
    worker_type : {"prefill", "decode"}
        The worker's role.
    timing_source : {"model", "measured"}
        Timing file of :func:`timing_tables`.

    Returns
    -------
    dict
        ``{"engine": {...}}`` as ``run_synthetic_trace_replay`` takes it.

    Raises
    ------
    InvalidInputError
        An unknown worker type or timing source, or ``cluster`` not a Cluster.
    """
    from gametheory.serving.engine import Cluster

    worker_type = choice(worker_type, "worker_type", ("prefill", "decode"))
    instance(cluster, Cluster, "cluster")
    if timing_source is not None:
        choice(timing_source, "timing_source", SOURCES)
    eng, profile = cluster.engine, cluster.profile
    blocks = max(int(profile.memory.max_kv_tokens_per_worker // eng.block_size), 1024)
    args = {"block_size": eng.block_size, "num_gpu_blocks": blocks, "worker_type": worker_type,
            "max_num_seqs": eng.prefill_seqs if worker_type == "prefill" else eng.max_num_seqs,
            "max_num_batched_tokens": eng.max_num_batched_tokens,
            "enable_prefix_caching": bool(eng.prefix_caching), "enable_chunked_prefill": bool(eng.chunked_prefill),
            "kv_transfer_bandwidth": float(cluster.link_gb_per_s),
            "kv_transfer_bytes_per_token": int(profile.kv_bytes(1)),
            "timing_model": {"type": "external", "provider": "dynamo_profile",
                             "config": {"path": str(timing_file_for(profile, timing_source))}}}
    return {"engine": args}


def _replay(cluster, workload, *, concurrency: int, n_requests: int, tau: float, omega: float, seed: int,
            router_mode: str = "kv_router", timing_source: str = "model"):
    os.environ.setdefault("DYN_LOG", "error")
    from dynamo.llm import KvRouterConfig
    from dynamo.replay import run_synthetic_trace_replay

    return run_synthetic_trace_replay(
        int(workload.mean_input), int(workload.mean_output), n_requests,
        prefill_engine_args=engine_args(cluster, "prefill", timing_source),
        decode_engine_args=engine_args(cluster, "decode", timing_source),
        num_prefill_workers=cluster.n_prefill, num_decode_workers=cluster.n_decode,
        router_mode=router_mode,
        router_config=KvRouterConfig(overlap_score_weight=float(omega), router_temperature=float(tau)),
        replay_concurrency=int(concurrency), arrival_seed=int(seed),
        shared_prefix_ratio=workload.shared_prefix_ratio if workload.prefix_tokens else 0.0,
        num_prefix_groups=workload.n_templates if workload.prefix_tokens else 0,
        capture_per_request=True,
    )


_NPZ_CACHE: dict[tuple[str, str], Path] = {}


def timing_file_for(profile, source: str = "model") -> Path:
    """The mocker NPZ for ``profile`` and ``source``, written once per process to a temporary directory.

    Parameters
    ----------
    profile : Profile
        Measured step latencies (cached by ``profile.name``).
    source : {"model", "measured"}, optional
        As :func:`timing_tables`.

    Returns
    -------
    pathlib.Path
        The NPZ file.

    Raises
    ------
    InvalidInputError
        A bad profile or source.
    """
    _profile(profile)
    source = choice(source, "source", SOURCES)
    key = (profile.name, source)
    if key not in _NPZ_CACHE:
        d = Path(tempfile.mkdtemp(prefix="gametheory-dynamo-"))
        _NPZ_CACHE[key] = write_timing_file(profile, d / f"{profile.name}-{source}.npz", source)
    return _NPZ_CACHE[key]


def replay_timing_check(profile, osl: int = 32, source: str = "model") -> dict:
    """Run ONE request (isl 128, ``osl`` tokens) on 1P/1D through the real replay; compare with the profile.

    In a disaggregated replay the first token comes out of the decode worker, so the expected TTFT is the
    prefill step at 128 tokens plus one decode step at batch 1 (context 128); the expected ITL is that decode
    step, both from ``source`` ("model": the fitted curves; "measured": the table). No KV-transfer time (link
    0).

    Parameters
    ----------
    profile : Profile
        Measured step latencies.
    osl : int, optional
        Output tokens of the request (default 32).
    source : {"model", "measured"}, optional
        Timing file and expectation source.

    Returns
    -------
    dict
        ``ttft_ms`` and ``itl_ms`` from the replay, ``profile_ttft_ms`` and ``profile_decode_ms`` expected (ms),
        ``ttft_rel`` and ``itl_rel`` their relative errors.

    Raises
    ------
    InvalidInputError
        A bad profile, ``osl`` or source.
    ModuleNotFoundError
        ``ai-dynamo`` is not installed.
    """
    from gametheory.serving.engine import Cluster, EngineConfig
    from gametheory.serving.workload import Workload

    _profile(profile)
    osl = integer(osl, "osl (output tokens)", minimum=1, maximum=100_000)
    source = choice(source, "source", SOURCES)
    cluster = Cluster(profile, 1, 1, 0.0, EngineConfig(prefix_caching=False), f"{profile.name} 1P/1D")
    rep = _replay(cluster, Workload(n_templates=1, output_tokens=(osl, osl), prefix_tokens=0),
                  concurrency=1, n_requests=1, tau=0.0, omega=1.0, seed=1, timing_source=source)
    r = rep.per_request[0]
    if source == "model":
        ctx = 128.0 + osl / 2.0
        want_itl = float(profile.decode_step_ms(1.0, ctx))
        want_ttft = float(profile.prefill_ms(128.0)) + float(profile.decode_step_ms(1.0, 128.0))
    else:
        grid, ms = _prefill_curve(profile)
        j = int(np.argmin(np.abs(np.asarray(profile.decode_context) - 128)))
        want_itl = float(profile.decode_latency_ms[j, 0])
        want_ttft = float(np.interp(128, grid, ms)) + want_itl
    return {"ttft_ms": float(r["ttft_ms"]), "profile_ttft_ms": want_ttft,
            "ttft_rel": abs(r["ttft_ms"] - want_ttft) / want_ttft,
            "itl_ms": float(r["itl_ms"]), "profile_decode_ms": want_itl,
            "itl_rel": abs(r["itl_ms"] - want_itl) / want_itl}


# --------------------------------------------------------------------------------------------------
# 3. request log, replay runs and sweeps
# --------------------------------------------------------------------------------------------------
def request_log(records: list[dict], cluster, workload) -> np.ndarray:
    """The estimator's request log (:data:`gametheory.serving.estimator.LOG_COLUMNS`) from per-request records.

    Parameters
    ----------
    records : list of dict
        Replay (or live) records with ``arrival_time_ms``, ``decode_admit_ms``, ``terminal_time_ms``,
        ``decode_worker_idx``, ``input_length``, ``output_length`` and ``ttft_ms``; records without a decode
        worker or a terminal time (unfinished) are left out.
    cluster : Cluster
        The engine model whose frozen latencies form the matrix (the replay's own configuration).
    workload : Workload
        For the shared prefix (the model assumes the prefill worker's prefix cache is warm).

    Returns
    -------
    ndarray
        Structured array in arrival order: ``arrival_ms``, ``worker``, ``latency_ms``, ``ttft_ms``, ``window``,
        ``model_ms`` and ``model_ttft_ms`` (n, m) with m = ``cluster.n_decode``. Windows are m consecutive
        requests; at a window's first arrival t0 the batch of decode worker w is the number of requests admitted
        to it at or before t0 and not finished (capped at its slots), and request i's frozen latencies are
        ``prefill_ms(u_i) + transfer_i + step(b_w + 1)`` (TTFT) and ``... + output_i * step(b_w + 1)``
        (end-to-end), ``u_i`` its uncached tokens under a warm prefix cache: what the simulator logs.

    Raises
    ------
    InvalidInputError
        Fewer finished records than one window, a decode worker index outside 0..m-1.
    """
    from gametheory.serving.engine import Cluster
    from gametheory.serving.workload import Workload

    instance(cluster, Cluster, "cluster")
    if workload is not None:
        instance(workload, Workload, "workload")
    if isinstance(records, (str, bytes, dict)) or not hasattr(records, "__iter__"):
        raise InvalidInputError(f"records must be a list of request records (dicts), got {records!r}")
    records = list(records)
    for i, r in enumerate(records):
        instance(r, dict, f"records[{i}]", what="dict (a mocker request record)")
    m = cluster.n_decode
    recs = [r for r in records if r.get("decode_worker_idx") is not None and r.get("terminal_time_ms") is not None
            and r.get("decode_admit_ms") is not None]
    if len(recs) < m:
        raise InvalidInputError(f"request log needs >= {m} finished requests, got {len(recs)}")
    recs.sort(key=lambda r: r["arrival_time_ms"])
    arrival = np.array([r["arrival_time_ms"] for r in recs], float)
    admit = np.array([r["decode_admit_ms"] for r in recs], float)
    end = np.array([r["terminal_time_ms"] for r in recs], float)
    worker = np.array([int(r["decode_worker_idx"]) for r in recs])
    if worker.min() < 0 or worker.max() >= m:
        raise InvalidInputError(f"decode_worker_idx must lie in 0..{m - 1}, found {worker.min()}..{worker.max()}")
    isl = np.array([r["input_length"] for r in recs], float)
    osl = np.array([r.get("output_length", workload.mean_output) for r in recs], float)
    steps = cluster.step_table(workload.mean_context)
    slots = steps.size - 1
    eng = cluster.engine
    base = np.array([cluster.prefill_ms(eng.uncached_tokens(n, workload.prefix_tokens)) for n in isl])
    base = base + np.asarray(cluster.transfer_ms(isl), float)
    n = arrival.size
    log = np.zeros(n, dtype=[("arrival_ms", "f8"), ("worker", "i4"), ("latency_ms", "f8"), ("ttft_ms", "f8"),
                             ("window", "i8"), ("model_ms", "f8", (m,)), ("model_ttft_ms", "f8", (m,))])
    log["arrival_ms"], log["worker"], log["latency_ms"] = arrival, worker, end - arrival
    log["ttft_ms"] = [r.get("ttft_ms", math.nan) for r in recs]
    log["window"] = np.arange(n) // m
    order = np.argsort(admit, kind="stable")
    admit_sorted = admit[order]
    for s in range(0, n, m):
        t0 = arrival[s]
        k = int(np.searchsorted(admit_sorted, t0, side="right"))  # admitted at or before t0
        on = order[:k]
        on = on[end[on] > t0]
        b = np.bincount(worker[on], minlength=m)
        step = steps[np.minimum(b + 1, slots)]
        rows = slice(s, min(s + m, n))
        log["model_ttft_ms"][rows] = base[rows, None] + step[None, :]
        log["model_ms"][rows] = base[rows, None] + osl[rows, None] * step[None, :]
    return log


@dataclass(frozen=True)
class ReplayResult:
    """One replay run: setup, load, router setting, and what it measured (ms, requests/s).

    Parameters
    ----------
    setup : str
        The cluster's name.
    concurrency : int
        Closed-loop clients C.
    tau, omega : float
        Router temperature and overlap weight.
    seed : int
        Arrival seed.
    poa_hat : float or None
        PoA-hat (paper form, :func:`request_log`); None when not computed (``with_poa=False``).
    ttft_p50_ms, ttft_p99_ms : float
        TTFT median and 99th percentile (ms) over the measured requests.
    itl_mean_ms, itl_p50_ms : float
        Inter-token latency mean and median (ms).
    mean_latency_ms : float
        Mean end-to-end latency (ms).
    throughput_rps : float
        Completions per second in the measured span.
    duration_ms : float
        Virtual duration of the whole replay (ms).
    per_request : list of dict, optional
        The replay's per-request records (kept only with ``keep_records=True``).
    """

    setup: str
    concurrency: int
    tau: float
    omega: float
    seed: int
    poa_hat: float | None  # paper form; None when the run was asked not to compute it (with_poa=False)
    ttft_p50_ms: float
    ttft_p99_ms: float
    itl_mean_ms: float
    itl_p50_ms: float
    mean_latency_ms: float
    throughput_rps: float
    duration_ms: float
    per_request: list = field(repr=False, compare=False, default_factory=list)


def _cluster_of(setup):
    from gametheory.serving.engine import PAPER_SETUPS, Cluster, paper_cluster

    if isinstance(setup, Cluster):
        return setup
    if isinstance(setup, str) and setup in PAPER_SETUPS:
        return paper_cluster(setup)
    raise InvalidInputError(f"setup: unknown name {setup!r}; known setups are {sorted(PAPER_SETUPS)} "
                            "(or pass a Cluster)")


def replay_run(setup, concurrency: int, tau: float = 0.0, omega: float = 1.0, *, workload=None, n_requests=None,
               seed: int = 0, keep_records: bool = False, with_poa: bool = True, warmup: int | None = None
               ) -> ReplayResult:
    """One closed-loop replay of the real Dynamo KV router at concurrency C with setting (tau, omega).

    Parameters
    ----------
    setup : str or Cluster
        A name of :data:`gametheory.serving.engine.PAPER_SETUPS` (vLLM default engine) or a Cluster.
    concurrency : int
        Closed-loop clients C (>= 1).
    tau, omega : float
        Router temperature and overlap weight.
    workload : Workload, optional
        Default :func:`~gametheory.serving.workload.paper_workload`.
    n_requests : int, optional
        Default ``2 C + max(1000, 4 C)``.
    seed : int
        Arrival seed (Dynamo breaks routing ties at random whatever the seed: repeat runs).
    keep_records : bool
        Keep the per-request records in the result.
    with_poa : bool
        Compute PoA-hat (paper form, :func:`request_log`).
    warmup : int, optional
        Requests (in arrival order) left out of the metrics; default 2 C (all C clients send at t = 0).

    Returns
    -------
    ReplayResult
        TTFT, ITL and latency statistics over the measured requests; throughput = completions between the first
        measured arrival and the last arrival per second (as the simulator measures it).

    Raises
    ------
    InvalidInputError
        An unknown setup, C below 1, a bad router setting, seed or flag, a warm-up that leaves no request.
    ModuleNotFoundError
        ``ai-dynamo`` is not installed.
    """
    from gametheory.serving.estimator import poa_hat_log
    from gametheory.serving.workload import Workload, paper_workload

    cluster = _cluster_of(setup)
    wl = paper_workload() if workload is None else instance(workload, Workload, "workload")
    c = integer(concurrency, "concurrency", minimum=1, maximum=100_000)
    tau, omega = nonnegative_scalar(tau, "tau"), nonnegative_scalar(omega, "omega")
    seed = integer(seed, "seed", minimum=0)
    keep_records, with_poa = flag(keep_records, "keep_records"), flag(with_poa, "with_poa")
    n = (integer(n_requests, "n_requests", minimum=1, maximum=10_000_000) if n_requests is not None
         else 2 * c + max(1000, 4 * c))
    warm = 2 * c if warmup is None else integer(warmup, "warmup", minimum=0)
    if not 0 <= warm < n:
        raise InvalidInputError(f"warmup must be in [0, {n - 1}], got {warm}")
    rep = _replay(cluster, wl, concurrency=c, n_requests=n, tau=tau, omega=omega, seed=seed)
    recs = [r for r in rep.per_request if r.get("terminal_time_ms") is not None]
    recs.sort(key=lambda r: r["arrival_time_ms"])
    body = recs[warm:] if len(recs) > warm else recs
    ttft = np.array([r["ttft_ms"] for r in body], float)
    itl = np.array([r["itl_ms"] for r in body if r.get("itl_ms") is not None], float)
    lat = np.array([r["terminal_time_ms"] - r["arrival_time_ms"] for r in body], float)
    t_a, t_b = body[0]["arrival_time_ms"], recs[-1]["arrival_time_ms"]
    ends = np.array([r["terminal_time_ms"] for r in recs], float)
    thr = (float(np.count_nonzero((ends >= t_a) & (ends <= t_b))) / (t_b - t_a) * 1e3 if t_b > t_a
           else float(rep.summary["request_throughput_rps"]))
    poa = None
    if with_poa:
        log = request_log(recs, cluster, wl)
        poa = float(poa_hat_log(log[warm:] if log.size > warm + cluster.n_decode else log).value)
    return ReplayResult(cluster.name, c, float(tau), float(omega), int(seed), poa,
                        float(np.percentile(ttft, 50)), float(np.percentile(ttft, 99)), float(itl.mean()),
                        float(np.percentile(itl, 50)), float(lat.mean()), thr, float(rep.summary["duration_ms"]),
                        recs if keep_records else [])


def interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval (lo, hi) of repeated runs.

    Parameters
    ----------
    values : array_like of float, shape (n,)
        One value per run (n >= 1, finite).
    level : float, optional
        Confidence level in (0, 1) (default 0.95).

    Returns
    -------
    (float, float, float)
        Mean, lower and upper bound; all three equal the value when n = 1.

    Raises
    ------
    InvalidInputError
        Empty or non-finite values, or a level outside (0, 1).
    """
    from scipy import stats

    x = finite_array(values, "values", ndim=1, min_size=1)
    level = finite_scalar(level, "level")
    if not 0 < level < 1:
        raise InvalidInputError(f"level must be in (0, 1), got {level!r}")
    m = float(x.mean())
    if x.size < 2:
        return m, m, m
    h = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return m, m - h, m + h


def sweep(setup, concurrencies, configs=((0.0, 1.0),), repeats: int = 3, *, workload=None, n_requests=None,
          with_poa: bool = True) -> list[dict]:
    """Replay grid: every concurrency x (tau, omega), ``repeats`` runs each (routing ties are random).

    Parameters
    ----------
    setup : str or Cluster
        As :func:`replay_run`.
    concurrencies : sequence of int
        Closed-loop concurrencies C.
    configs : sequence of (float, float), optional
        Router settings (tau, omega); default Dynamo's (0, 1).
    repeats : int, optional
        Runs per grid point, seeds 0 .. repeats - 1 (default 3).
    workload : Workload, optional
        As :func:`replay_run`.
    n_requests : int, optional
        As :func:`replay_run`.
    with_poa : bool, optional
        Compute PoA-hat (default True).

    Returns
    -------
    list of dict
        One row per (C, tau, omega): ``setup``, ``concurrency``, ``tau``, ``omega`` and, for ``poa_hat``,
        ``ttft_p50_ms``, ``ttft_p99_ms``, ``itl_mean_ms``, ``mean_latency_ms`` and ``throughput_rps``, the mean
        and its 95 % interval (``_lo``, ``_hi``); None for PoA-hat without ``with_poa``.

    Raises
    ------
    InvalidInputError
        Bad concurrencies, configs, repeats, flags or setup (also from :func:`replay_run`).
    ModuleNotFoundError
        ``ai-dynamo`` is not installed.
    """
    concurrencies = number_list(concurrencies, "concurrencies", integers=True)
    if isinstance(configs, (str, bytes, dict)) or not hasattr(configs, "__iter__"):
        raise InvalidInputError(f"configs must be a sequence of (tau, omega) pairs, got {configs!r}")
    configs = [pair(cfg, "configs entry (tau, omega)") for cfg in configs]
    repeats = integer(repeats, "repeats", minimum=1, maximum=10_000)
    with_poa = flag(with_poa, "with_poa")
    _cluster_of(setup)
    rows = []
    grid = [(c, tau, omega) for c in concurrencies for tau, omega in configs]
    for c, tau, omega in progress(grid, "Dynamo replay sweep", leave=False):
        runs = [replay_run(setup, c, tau, omega, workload=workload, n_requests=n_requests, seed=k,
                           with_poa=with_poa) for k in range(repeats)]
        row = {"setup": runs[0].setup, "concurrency": int(c), "tau": tau, "omega": omega}
        for key in ("poa_hat", "ttft_p50_ms", "ttft_p99_ms", "itl_mean_ms", "mean_latency_ms",
                    "throughput_rps"):
            vals = [getattr(r, key) for r in runs]
            if any(v is None for v in vals):
                row[key] = row[key + "_lo"] = row[key + "_hi"] = None
                continue
            row[key], row[key + "_lo"], row[key + "_hi"] = interval(vals)
        rows.append(row)
    return rows
