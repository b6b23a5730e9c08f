"""Discrete-event simulation of a 1P/mD disaggregated cluster under closed-loop (or open) load.

Stations: one prefill worker (FCFS batches: when idle it takes every queued request, up to
``max_prefill_tokens``; a batch takes ``profile.prefill_ms(uncached tokens)``), KV transfer
(``profile.kv_transfer_ms(input tokens, link_gb_per_s)``), decode workers (continuous batching; the step
time ``profile.decode_step_ms(batch, context)`` is held constant between membership changes and progress
is counted in fractional steps, a fluid-within-step approximation). Each decode worker keeps a progress clock
(decode steps done since start; every member advances with it), so a member's finish is a fixed clock target
kept in a min-heap and a batch update costs O(log b), not O(b). The router (:mod:`gametheory.serving.router`)
picks the decode worker at arrival; each decode worker keeps a block-level prefix cache (LRU or KVBM-like
frequency rule) that decides how many prompt tokens the prefill must compute. Event loop: a binary heap
(``heapq``) of (time_ms, seq, kind, payload); stale decode completions are skipped by a version counter.

Two cost vectors per request (Dynamo's block cost ``omega * prefill_blocks + decode_blocks``, or the credit
form; the same formula for every policy so that any policy's log can be scored):

- ``costs`` (m,): what the router saw when it routed the request (decision time: the state includes the
  earlier requests of the same window, already routed and queued).
- ``window_costs`` (m,): the request's cost under the cluster state (prefix caches, queued prefill tokens,
  active decode tokens) frozen at the start of its window. Windows are m = ``n_decode`` consecutive requests
  in arrival order counted from the first request (field ``window`` = request index // m); at a window's
  first arrival the rows of all its requests are computed from that state, each with its own template and
  input length. This is the cost matrix of the PoA-hat estimator (:mod:`gametheory.serving.estimator`,
  paper section 6.4). With decision-time costs and the argmin router (tau = 0) the router's choice is always
  the row minimum, so PoA-hat would be <= 1 by construction; the window-frozen rows do not have that bias.
  For the window's first request the two vectors are identical.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from gametheory._validate import finite_scalar, nonnegative_scalar
from gametheory.errors import InvalidInputError
from gametheory.serving import router as rt
from gametheory.serving.workload import Workload, paper_workload

LOG_DTYPE_FIELDS = [
    ("arrival_ms", "f8"), ("worker", "i4"), ("template", "i4"), ("input_tokens", "i4"), ("output_tokens", "i4"),
    ("cached_tokens", "i4"), ("ttft_ms", "f8"), ("itl_ms", "f8"), ("end_ms", "f8"),
]
POLICIES = ("dynamo", "dynamo_credit", "round_robin", "random", "least_loaded", "sglang")


@dataclass(frozen=True)
class SimResult:
    """log: structured array, one row per request in arrival order: fields LOG_DTYPE_FIELDS, ``window``
    (window id = request index // m), ``costs`` (m,) = the router's cost vector at decision time (what it
    saw), ``window_costs`` (m,) = the request's cost vector under the state frozen at its window's start (the
    PoA-hat cost matrix; see the module docstring). Costs are in KV blocks (Dynamo's block cost).
    Summary: TTFT/ITL P50/P99 (ms), throughput (requests/s and output tokens/s), per-worker request share."""

    log: np.ndarray
    ttft_p50_ms: float
    ttft_p99_ms: float
    itl_p50_ms: float
    itl_p99_ms: float
    throughput_rps: float
    throughput_tok_s: float
    mean_latency_ms: float
    worker_share: np.ndarray
    horizon_ms: float


class _Cache:
    """Block-level prefix cache of one worker: capacity in blocks; LRU or frequency (KVBM-like) eviction."""

    def __init__(self, capacity_blocks: int, rule: str):
        self.cap, self.rule = capacity_blocks, rule
        self.blocks: OrderedDict = OrderedDict()

    def hit_blocks(self, template: int, n_prefix_blocks: int) -> int:
        h = 0
        while h < n_prefix_blocks and (template, h) in self.blocks:
            h += 1
        return h

    def insert(self, template: int, n_prefix_blocks: int):
        b = self.blocks
        for j in range(n_prefix_blocks):
            key = (template, j)
            if key in b:
                b[key] += 1
                b.move_to_end(key)
            else:
                if len(b) >= self.cap:
                    if self.rule == "lru":
                        b.popitem(last=False)
                    else:
                        victim = min(b, key=b.__getitem__)
                        del b[victim]
                b[key] = 1


def simulate(profile, n_decode: int = 5, concurrency: int = 64, n_requests: int = 10_000, *,
             workload: Workload | None = None, policy: str = "dynamo", omega: float = 1.0, tau: float = 0.0,
             block_size: int = 16, cache_blocks: int = 64, cache_rule: str = "lru",
             link_gb_per_s: float = 900.0, max_prefill_tokens: int = 16384, seed: int = 0,
             warmup: int = 0) -> SimResult:
    """Simulate ``n_requests`` requests on 1 prefill + ``n_decode`` decode workers at closed-loop
    ``concurrency`` C (or open Poisson arrivals if ``workload.arrival_rate_per_s`` is set).

    ``profile``: a Profile (``prefill_ms``, ``decode_step_ms``, ``kv_transfer_ms``) from
    :func:`gametheory.serving.profiles.load_profile`. ``policy`` in :data:`POLICIES`; ``omega`` = Dynamo's
    overlap weight, ``tau`` = router temperature. Deterministic given ``seed``. ``link_gb_per_s`` = NVLink
    (900 GB/s, same node) by default; use ~50 GB/s for 400 Gb/s InfiniBand.
    """
    if policy not in POLICIES:
        raise InvalidInputError(f"policy must be one of {POLICIES}, got {policy!r}")
    if cache_rule not in ("lru", "frequency"):
        raise InvalidInputError("cache_rule must be 'lru' or 'frequency'")
    if n_decode < 1 or concurrency < 1 or n_requests < 1:
        raise InvalidInputError("n_decode, concurrency and n_requests must be >= 1")
    if not 0 <= warmup < n_requests:
        raise InvalidInputError(f"warmup must be in [0, n_requests - 1] = [0, {n_requests - 1}] (requests "
                                f"discarded from the summary metrics), got {warmup}")
    for name, v in (("block_size", block_size), ("cache_blocks", cache_blocks),
                    ("max_prefill_tokens", max_prefill_tokens)):
        try:
            ok = int(v) == v and v >= 1
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidInputError(f"{name} must be an integer >= 1, got {v!r}")
    omega = nonnegative_scalar(omega, "omega")
    tau = nonnegative_scalar(tau, "tau")
    if link_gb_per_s is not None and finite_scalar(link_gb_per_s, "link_gb_per_s") < 0:
        raise InvalidInputError(f"link_gb_per_s must be >= 0 (0 = no KV transfer time), got {link_gb_per_s!r}")
    wl = workload or paper_workload()
    rng = np.random.default_rng(seed)
    req = wl.sample(n_requests, rng)
    tmpl, isl, osl = req["template"], req["input_tokens"], req["output_tokens"]
    m = n_decode
    ctx = float(np.mean(isl) + np.mean(osl) / 2)
    bmax = int(min(4096, profile.max_decode_batch(ctx))) if hasattr(profile, "max_decode_batch") else 4096
    step_tab = np.concatenate([[0.0], np.asarray(profile.decode_step_ms(np.arange(1, bmax + 1), ctx), float)])
    xfer = np.asarray(profile.kv_transfer_ms(isl, link_gb_per_s), float) if link_gb_per_s else np.zeros(n_requests)
    n_pref_blocks = wl.prefix_tokens // block_size
    caches = [_Cache(cache_blocks, cache_rule) for _ in range(m)]

    log = np.zeros(n_requests, dtype=LOG_DTYPE_FIELDS + [("window", "i8"), ("costs", "f8", (m,)),
                                                         ("window_costs", "f8", (m,))])
    log["template"], log["input_tokens"], log["output_tokens"] = tmpl, isl, osl
    log["window"] = np.arange(n_requests) // m
    q_prefill_tok = np.zeros(m)  # tokens queued for prefill per target decode worker
    active_tok = np.zeros(m)  # KV tokens of requests decoding (or bound) on each worker
    n_active = np.zeros(m, dtype=np.int64)
    # decode state per worker: members dict req -> finish target on the progress clock prog[w] (steps),
    # a min-heap of (target, req), last update, version
    members = [dict() for _ in range(m)]
    dheap = [[] for _ in range(m)]
    prog = [0.0] * m
    last_t = np.zeros(m)
    version = np.zeros(m, dtype=np.int64)
    first_tok = np.zeros(n_requests)
    prefill_queue: list[int] = []
    prefill_busy = False
    heap: list = []
    seq = 0
    rr = 0
    uncached = np.zeros(n_requests)

    def push(t, kind, payload):
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (t, seq, kind, payload))

    def advance(w, t):
        mem = members[w]
        if mem:
            prog[w] += (t - last_t[w]) / step_tab[min(len(mem), bmax)]
        last_t[w] = t

    def schedule_decode(w, t):
        version[w] += 1
        h = dheap[w]
        if h:
            s = step_tab[min(len(members[w]), bmax)]
            target, r = h[0]
            push(t + max(target - prog[w], 0.0) * s, 2, (w, int(version[w]), r))

    def start_prefill(t):
        nonlocal prefill_busy
        batch, tok = [], 0.0
        while prefill_queue and (not batch or tok + uncached[prefill_queue[0]] <= max_prefill_tokens):
            r = prefill_queue.pop(0)
            batch.append(r)
            tok += uncached[r]
        prefill_busy = True
        dur = float(profile.prefill_ms(max(tok, 1.0)))
        push(t + dur, 1, batch)

    def cost_vector(hits, n):
        """Router cost of a request of n input tokens with prefix hits (blocks) per worker, current state."""
        if policy == "dynamo_credit":
            return rt.dynamo_credit_costs(q_prefill_tok / block_size + n / block_size, active_tok / block_size,
                                          hits, prefill_scale=omega)  # omega = overlap_score_weight = s
        return omega * ((q_prefill_tok + n - np.minimum(hits * block_size, n)) / block_size) + active_tok / block_size

    def freeze_window(r0):
        """Rows of window_costs for requests r0 .. r0 + m - 1, from the state at r0's arrival."""
        r1 = min(r0 + m, n_requests)
        hit_of = {}
        for tp in tmpl[r0:r1].tolist():
            if tp not in hit_of:
                hit_of[tp] = [c.hit_blocks(tp, n_pref_blocks) for c in caches]
        hits = np.array([hit_of[tp] for tp in tmpl[r0:r1].tolist()], float)  # (k, m)
        if policy == "dynamo_credit":
            for i, j in enumerate(range(r0, r1)):
                log["window_costs"][j] = cost_vector(hits[i], float(isl[j]))
        else:  # cost_vector's arithmetic, broadcast over the window's rows (bit-identical per row)
            n = isl[r0:r1].astype(float)[:, None]
            log["window_costs"][r0:r1] = omega * ((q_prefill_tok + n - np.minimum(hits * block_size, n)) / block_size) \
                + active_tok / block_size

    def arrive(r, t):
        nonlocal rr
        log["arrival_ms"][r] = t
        if r % m == 0:
            freeze_window(r)
        tp = int(tmpl[r])
        hits = np.array([c.hit_blocks(tp, n_pref_blocks) for c in caches], float)
        cached_tok = hits * block_size
        n = float(isl[r])
        costs = cost_vector(hits, n)
        log["costs"][r] = costs
        if policy in ("dynamo", "dynamo_credit"):
            w = rt.select(costs, tau, rng)
        elif policy == "round_robin":
            w = rr % m
            rr += 1
        elif policy == "random":
            w = int(rng.integers(m))
        elif policy == "least_loaded":
            w = int(np.argmin(n_active))
        else:
            tree = np.array([len(c.blocks) for c in caches], float)
            w = rt.sglang_select(n_active, cached_tok / n, tree)
        log["worker"][r] = w
        log["cached_tokens"][r] = cached_tok[w]
        uncached[r] = n - min(cached_tok[w], n)
        caches[w].insert(tp, n_pref_blocks)
        q_prefill_tok[w] += uncached[r]
        active_tok[w] += n + osl[r]
        n_active[w] += 1
        prefill_queue.append(r)
        if not prefill_busy:
            start_prefill(t)

    nxt = 0
    open_rate = wl.arrival_rate_per_s
    if open_rate:
        push(0.0, 0, None)
    else:
        for _ in range(min(concurrency, n_requests)):
            push(0.0, 0, None)
    done_count = 0
    t = 0.0
    while heap:
        t, _, kind, payload = heapq.heappop(heap)
        if kind == 0:  # arrival
            if nxt < n_requests:
                r = nxt
                nxt += 1
                arrive(r, t)
                if open_rate:
                    push(t + rng.exponential(1e3 / open_rate), 0, None)
        elif kind == 1:  # prefill batch done
            prefill_busy = False
            for r in payload:
                w = int(log["worker"][r])
                q_prefill_tok[w] -= uncached[r]
                push(t + xfer[r], 3, r)
            if prefill_queue:
                start_prefill(t)
        elif kind == 3:  # KV arrived at decode worker: join batch
            r = payload
            w = int(log["worker"][r])
            advance(w, t)
            members[w][r] = target = prog[w] + float(osl[r])
            heapq.heappush(dheap[w], (target, r))
            first_tok[r] = t
            schedule_decode(w, t)
        else:  # decode completion candidate
            w, ver, r = payload
            if ver != version[w]:
                continue
            advance(w, t)
            mem, h = members[w], dheap[w]
            fin = []
            while h and h[0][0] - prog[w] <= 1e-9:
                fin.append(heapq.heappop(h)[1])
            for q in fin:
                del mem[q]
                log["end_ms"][q] = t
                active_tok[w] -= isl[q] + osl[q]
                n_active[w] -= 1
                done_count += 1
                if not open_rate:
                    think = rng.exponential(wl.think_ms) if wl.think_ms > 0 else 0.0
                    push(t + think, 0, None)
            schedule_decode(w, t)
    # TTFT = first decode token: prefill + transfer + one decode step (approximated as the step at join).
    log["ttft_ms"] = first_tok - log["arrival_ms"] + step_tab[1]
    log["itl_ms"] = (log["end_ms"] - first_tok) / np.maximum(osl, 1)
    body = log[warmup:]
    span = float(body["end_ms"].max() - body["arrival_ms"].min())
    share = np.bincount(body["worker"], minlength=m) / body.size
    return SimResult(
        log=log, ttft_p50_ms=float(np.percentile(body["ttft_ms"], 50)),
        ttft_p99_ms=float(np.percentile(body["ttft_ms"], 99)), itl_p50_ms=float(np.percentile(body["itl_ms"], 50)),
        itl_p99_ms=float(np.percentile(body["itl_ms"], 99)), throughput_rps=body.size / span * 1e3,
        throughput_tok_s=float(body["output_tokens"].sum()) / span * 1e3,
        mean_latency_ms=float((body["end_ms"] - body["arrival_ms"]).mean()), worker_share=share, horizon_ms=t)
