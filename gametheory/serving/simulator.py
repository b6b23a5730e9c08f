"""Discrete-event simulation of a disaggregated nP/mD cluster under closed-loop (or open) load.

One event loop (:class:`ClusterSim`), resumable: :meth:`ClusterSim.run_until` stops at a virtual time and keeps
every queue, batch, cache and client, so the router setting (tau, omega) and the closed-loop concurrency can
change between calls (the adaptive controller's actuator, :mod:`gametheory.serving.sim_actuator`);
:func:`simulate` runs one to the end. Everything is timed by one :class:`~gametheory.serving.engine.Cluster`
(measured profile, layout, KV link, :class:`~gametheory.serving.engine.EngineConfig`) and one
:class:`~gametheory.serving.workload.Workload`.

Stations and what they do (times in ms):

- **Router** (NVIDIA Dynamo's KV router in disaggregated mode, ai-dynamo/dynamo ``lib/mocker/src/replay/
  offline/extensions/kv_router/composition_disagg.rs``): at arrival a request picks a prefill worker by the
  classic cost ``omega * prefill_blocks`` (tokens queued for prefill there plus the request's tokens not cached
  there, in blocks; the prefill router does not track decode blocks) and a decode worker by its active KV
  blocks only (the decode router ignores cache overlap and prefill load); temperature tau replaces argmin by
  Dynamo's normalized softmax (:func:`gametheory.serving.router.selection_probabilities`). With one prefill
  worker omega changes nothing; tau changes the decode choice. Other policies: ``round_robin``, ``random``,
  ``least_loaded`` (both stages).
- **Prefill workers** (vLLM-like scheduler): FCFS; when idle, a worker takes requests from the head of its queue
  into one step until the step holds ``max_prefill_seqs`` requests or ``max_num_batched_tokens`` new tokens
  (with chunked prefill the last request may be split and finishes in a later step). A step over T new tokens
  takes ``profile.prefill_ms(T)`` (the mocker's rule too). With prefix caching a request's cached prefix blocks
  are looked up when it is first scheduled and the template's prefix is cached when its prefill completes
  (LRU over templates, ``prefix_cache_blocks``).
- **KV transfer**: ``profile.kv_transfer_ms(input tokens, link GB/s)`` after the prefill.
- **Decode workers**: continuous batching with ``max_num_seqs`` slots (the KV budget may allow fewer; a
  request whose KV arrives at a full worker waits there, FIFO). The step time ``step_ms(batch, context)`` at
  the workload's mean context is held constant between membership changes and progress is counted in
  fractional steps (fluid within a step): each worker keeps a progress clock and a heap of finish targets,
  O(log b) per batch change. A request's first token comes one step after it joins; it finishes
  ``output_tokens`` steps after it joins.

The request log (:data:`LOG_FIELDS`) carries, per request, the realized latencies and the **frozen modelled
latencies** of the PoA-hat estimator (:mod:`gametheory.serving.estimator`, paper section 6.4): windows are m =
``n_decode`` consecutive requests in arrival order (field ``window``); at a window's first arrival the state
is frozen and, for each request i of the window and decode worker w, ``model_ttft_ms[i, w] = prefill_ms(u_i) +
transfer_i + step(b_w + 1)`` and ``model_ms[i, w] = prefill_ms(u_i) + transfer_i + output_i * step(b_w + 1)``,
with ``u_i`` the request's uncached tokens under the best prefill cache at that instant and ``b_w`` the batch
decoding on w (capped at the slot limit). These are service latencies: no queue wait, the batch frozen.

References
----------
.. [1] W. Kwon et al., "Efficient Memory Management for Large Language Model Serving with PagedAttention",
   SOSP 2023 (vLLM: continuous batching, chunked prefill, prefix caching).
.. [2] NVIDIA Dynamo KV router and mocker, https://github.com/ai-dynamo/dynamo (router cost and
   disaggregated routing; mocker step timing).
.. [3] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026 (section 6.4).
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np

from gametheory._validate import choice, integer, nonnegative_scalar
from gametheory.errors import InvalidInputError, SimulationLimitError
from gametheory.serving.engine import Cluster
from gametheory.serving.router import BufferedUniforms, pick
from gametheory.serving.workload import Workload, cluster_and_workload

__all__ = ["LOG_FIELDS", "MAX_REQUESTS", "POLICIES", "ClusterSim", "SimResult", "simulate"]

#: the most requests (and closed-loop clients) one simulation may send: the request log and the per-request
#: state take about 0.9 kB a request, so 5,000,000 requests hold about 4.5 GB; a larger budget is an error before
#: anything is allocated, and an open-ended run that reaches it stops with SimulationLimitError
MAX_REQUESTS = 5_000_000
POLICIES = ("dynamo", "round_robin", "random", "least_loaded")
LOG_FIELDS = [
    ("arrival_ms", "f8"), ("prefill_worker", "i4"), ("worker", "i4"), ("template", "i4"),
    ("input_tokens", "i4"), ("output_tokens", "i4"), ("cached_tokens", "i4"), ("prefill_done_ms", "f8"),
    ("ttft_ms", "f8"), ("itl_ms", "f8"), ("latency_ms", "f8"), ("end_ms", "f8"), ("window", "i8"),
]
_ARRIVE, _PREFILL, _KV, _DECODE = 0, 1, 2, 3


@dataclass(frozen=True)
class SimResult:
    """What a simulation measured.

    Parameters
    ----------
    log : ndarray
        One row per request in arrival order: :data:`LOG_FIELDS` plus ``model_ms`` and ``model_ttft_ms`` (m,).
    warmup : int
        Requests at the start left out of every summary metric (and of :meth:`poa_hat`).
    ttft_p50_ms, ttft_p99_ms, itl_p50_ms, itl_p99_ms, mean_latency_ms : float
        Over the measured requests (ms).
    throughput_rps, throughput_tok_s : float
        Completions per second (and output tokens per second) of all requests between the first measured
        arrival and the last arrival: the steady flow, without the drain after the last request was sent.
    worker_share : ndarray
        Share of the measured requests per decode worker.
    horizon_ms : float
        Virtual time of the last event.
    """

    log: np.ndarray
    warmup: int
    ttft_p50_ms: float
    ttft_p99_ms: float
    itl_p50_ms: float
    itl_p99_ms: float
    mean_latency_ms: float
    throughput_rps: float
    throughput_tok_s: float
    worker_share: np.ndarray
    horizon_ms: float

    def poa_hat(self, metric: str = "e2e", form: str = "paper", **kw):
        """PoA-hat of the measured requests (:func:`gametheory.serving.estimator.poa_hat_log`).

        Parameters
        ----------
        metric : {"e2e", "ttft"}
            End-to-end latency or TTFT.
        form : {"paper", "matching"}
            The paper's form or the matching ratio.
        **kw
            ``n_boot``, ``confidence``, ``seed`` of the bootstrap.

        Returns
        -------
        PoAHatResult
        """
        from gametheory.serving.estimator import poa_hat_log

        return poa_hat_log(self.log[self.warmup:], metric=metric, form=form, **kw)


class ClusterSim:
    """Resumable discrete-event simulation of an nP/mD cluster (see the module docstring).

    Parameters
    ----------
    cluster : Cluster
        Profile, layout, KV link and engine configuration.
    workload : Workload, optional
        Default :func:`~gametheory.serving.workload.paper_workload` (128 output tokens).
    concurrency : int
        Closed-loop clients C, 1 .. :data:`MAX_REQUESTS` (ignored with open arrivals,
        ``workload.arrival_rate_per_s``).
    n_requests : int or None
        Requests to send in all (a budget, 1 .. :data:`MAX_REQUESTS`), or None for an open-ended run (requests
        are drawn in chunks; :meth:`run_until` then needs a finite end time).
    policy : str
        One of :data:`POLICIES`.
    tau, omega : float
        Router temperature and overlap weight (>= 0).
    seed : int
        Seed of every random stream (an integer >= 0); equal seeds give equal logs.
    max_events : int or None
        Bound on processed events; default ``64 (requests sent + C) + 100,000``. Exceeding it raises
        :class:`~gametheory.errors.SimulationLimitError`.

    Raises
    ------
    InvalidInputError
        A cluster or workload of the wrong type, an unknown policy, C or the budget below 1 or above
        :data:`MAX_REQUESTS`, NaN or negative tau/omega, a seed that is not an integer >= 0.
    """

    def __init__(self, cluster: Cluster, workload: Workload | None = None, concurrency: int = 64,
                 n_requests: int | None = None, *, policy: str = "dynamo", tau: float = 0.0, omega: float = 1.0,
                 seed: int = 0, max_events: int | None = None):
        _, wl = cluster_and_workload(cluster, workload)
        policy = choice(policy, "policy", POLICIES)
        for name, v in (("concurrency", concurrency), ("n_requests", n_requests), ("max_events", max_events)):
            if v is None and name != "concurrency":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise InvalidInputError(f"{name} must be an integer >= 1, got {v!r}")
            if name != "max_events" and v > MAX_REQUESTS:
                raise InvalidInputError(f"{name} = {v:,} is above the simulator's limit of {MAX_REQUESTS:,} "
                                        "(about 0.9 kB of request log and state per request); run fewer requests")
        seed = integer(seed, "seed", minimum=0)
        self.cluster, self.wl, self.policy = cluster, wl, policy
        self.tau = nonnegative_scalar(tau, "tau")
        self.omega = nonnegative_scalar(omega, "omega")
        eng = cluster.engine
        self.m, self.n_p = cluster.n_decode, cluster.n_prefill
        self.bs = eng.block_size
        self.budget = None if n_requests is None else int(n_requests)
        self.max_events = None if max_events is None else int(max_events)
        self.events = 0
        self.rng = np.random.default_rng(seed)
        self.uniform = BufferedUniforms(np.random.default_rng([seed, 2]))
        self._wl_rng = np.random.default_rng([seed, 1])
        self.open_rate = wl.arrival_rate_per_s
        # engine limits and timing tables
        self.ctx = wl.mean_context
        self.step_tab = cluster.step_table(self.ctx).tolist()
        self.slots = len(self.step_tab) - 1
        self.prefill_tab = cluster.prefill_table.tolist()
        self.max_tokens = eng.max_num_batched_tokens
        self.prefill_seqs = eng.prefill_seqs
        self.chunked = eng.chunked_prefill
        self.prefix_caching = eng.prefix_caching
        self.npb = wl.prefix_tokens // self.bs  # cacheable prefix blocks per template
        self.cache_cap = eng.prefix_cache_blocks
        # per-request columns (Python lists: scalar access in the event loop is faster than numpy)
        self.tmpl, self.isl, self.osl, self.xfer, self.blocks = [], [], [], [], []
        self.arrival, self.pw, self.dw, self.remaining, self.cached, self.route_tok = [], [], [], [], [], []
        self.prefill_done, self.join, self.first_tok, self.end = [], [], [], []
        self.model_base = []  # per request: the frozen prefill pass + transfer (ms)
        self.window_steps = []  # per window: each decode worker's frozen step time (ms)
        self._chunk = self.m * 1024
        self._sample(self.budget if self.budget is not None else self._chunk)
        # prefill workers
        self.pqueue = [deque() for _ in range(self.n_p)]
        self.pbusy = [False] * self.n_p
        self.pcache = [OrderedDict() for _ in range(self.n_p)]  # template -> cached prefix blocks
        self.queued_tok = [0.0] * self.n_p  # the router's view: tokens queued for prefill
        # decode workers
        m = self.m
        self.members = [dict() for _ in range(m)]
        self.dheap = [[] for _ in range(m)]
        self.prog = [0.0] * m
        self.last_t = [0.0] * m
        self.version = [0] * m
        self.waiting = [deque() for _ in range(m)]
        self.active_blocks = [0.0] * m  # the router's view: KV blocks of requests bound to w
        self.n_bound = [0] * m
        self.rr_p = self.rr_d = 0
        # clock and clients
        self.heap: list = []
        self.seq = 0
        self.nxt = 0
        self.now = 0.0
        self.concurrency = int(concurrency)
        self._retire = 0
        if self.open_rate:
            self._push(0.0, _ARRIVE, None)
        else:
            for _ in range(self.concurrency if self.budget is None else min(self.concurrency, self.budget)):
                self._push(0.0, _ARRIVE, None)

    # ---- request table ---------------------------------------------------------------------------------
    def _sample(self, n: int) -> None:
        req = self.wl.sample(n, self._wl_rng)
        isl, osl = req["input_tokens"], req["output_tokens"]
        x = np.broadcast_to(np.asarray(self.cluster.transfer_ms(isl), float), (n,))
        self.tmpl += req["template"].tolist()
        self.isl += isl.tolist()
        self.osl += osl.tolist()
        self.xfer += x.tolist()
        self.blocks += ((isl + osl) / self.bs).tolist()
        nan = [math.nan] * n
        for col in (self.arrival, self.prefill_done, self.join, self.first_tok, self.end):
            col += nan
        self.pw += [-1] * n
        self.dw += [-1] * n
        self.remaining += [-1] * n
        self.cached += [0] * n
        self.route_tok += [0.0] * n
        self.model_base += [math.nan] * n

    # ---- controls --------------------------------------------------------------------------------------
    def set_setting(self, tau: float, omega: float) -> None:
        """Router temperature and overlap weight from now on.

        Parameters
        ----------
        tau, omega : float
            Finite, >= 0.
        """
        self.tau = nonnegative_scalar(tau, "tau")
        self.omega = nonnegative_scalar(omega, "omega")

    def set_concurrency(self, c: int) -> None:
        """Closed-loop concurrency from now on: extra clients send at once; surplus clients leave when their
        current request finishes (none is dropped).

        Parameters
        ----------
        c : int
            Clients, 1 .. :data:`MAX_REQUESTS`.

        Raises
        ------
        InvalidInputError
            ``c`` not an integer in that range.
        """
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 1 <= c <= MAX_REQUESTS:
            raise InvalidInputError(f"concurrency must be an integer in [1, {MAX_REQUESTS:,}], got {c!r}")
        c = int(c)
        live = self.concurrency - self._retire
        if c > live:
            add = c - live
            cancel = min(add, self._retire)
            self._retire -= cancel
            for _ in range(add - cancel):
                self._push(self.now, _ARRIVE, None)
        else:
            self._retire += live - c
        self.concurrency = c + self._retire  # clients still in the system

    # ---- stations ----------------------------------------------------------------------------------------
    def _push(self, t, kind, payload):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def _hit_blocks(self, p: int, template: int) -> int:
        return self.pcache[p].get(template, 0) if self.prefix_caching else 0

    def _cache_insert(self, p: int, template: int) -> None:
        if not (self.prefix_caching and self.npb):
            return
        cache = self.pcache[p]
        cache[template] = self.npb
        cache.move_to_end(template)
        if self.cache_cap is not None:
            while len(cache) * self.npb > self.cache_cap and cache:
                cache.popitem(last=False)

    def _freeze_window(self, r0: int) -> None:
        """Freeze the state for requests r0 .. r0 + m - 1 (one window): each decode worker's step time at its
        batch + 1 and each request's prefill pass of its uncached tokens (under the best prefill cache now) plus
        its transfer. :meth:`log` builds the frozen latencies from them (``model_ms = base + O step_w``,
        ``model_ttft_ms = base + step_w``)."""
        r1 = min(r0 + self.m, len(self.isl))
        step_tab, slots, tab = self.step_tab, self.slots, self.prefill_tab
        self.window_steps.append([step_tab[min(len(mem) + 1, slots)] for mem in self.members])
        hits: dict = {}
        for i in range(r0, r1):
            n, t = self.isl[i], self.tmpl[i]
            hit = hits.get(t)
            if hit is None:
                hit = hits[t] = max(self._hit_blocks(p, t) for p in range(self.n_p)) * self.bs
            u = n - min(hit, n - 1)
            self.model_base[i] = (tab[u] if u < len(tab) else self.cluster.prefill_ms(u)) + self.xfer[i]

    def _route(self, r: int) -> tuple[int, int]:
        pol, uniform = self.policy, self.uniform
        n, tp = self.isl[r], self.tmpl[r]
        if self.n_p == 1:
            p = 0
        elif pol == "dynamo":
            bs, om = self.bs, self.omega
            costs = [om * (self.queued_tok[q] + n - min(self._hit_blocks(q, tp) * bs, n)) / bs
                     for q in range(self.n_p)]
            p = pick(costs, self.tau, uniform)
        elif pol == "round_robin":
            p, self.rr_p = self.rr_p % self.n_p, self.rr_p + 1
        elif pol == "random":
            p = min(int(uniform() * self.n_p), self.n_p - 1)
        else:
            p = min(range(self.n_p), key=self.queued_tok.__getitem__)
        if pol == "dynamo":
            w = pick(self.active_blocks, self.tau, uniform)
        elif pol == "round_robin":
            w, self.rr_d = self.rr_d % self.m, self.rr_d + 1
        elif pol == "random":
            w = min(int(uniform() * self.m), self.m - 1)
        else:
            w = min(range(self.m), key=self.n_bound.__getitem__)
        return p, w

    def _arrive(self, r: int, t: float) -> None:
        self.arrival[r] = t
        if r % self.m == 0:
            self._freeze_window(r)
        p, w = self._route(r)
        self.pw[r], self.dw[r] = p, w
        n = self.isl[r]
        est = n - min(self._hit_blocks(p, self.tmpl[r]) * self.bs, n)
        self.route_tok[r] = est
        self.queued_tok[p] += est
        self.active_blocks[w] += self.blocks[r]
        self.n_bound[w] += 1
        self.pqueue[p].append(r)
        if not self.pbusy[p]:
            self._start_prefill(p, t)

    def _start_prefill(self, p: int, t: float) -> None:
        budget, limit = self.max_tokens, self.prefill_seqs
        batch, tokens = [], 0
        for r in self.pqueue[p]:
            if len(batch) >= limit or budget <= 0:
                break
            rem = self.remaining[r]
            if rem < 0:  # first scheduled: the prefix-cache lookup (the last prompt token is always computed)
                n = self.isl[r]
                hit = min(self._hit_blocks(p, self.tmpl[r]) * self.bs, n - 1)
                self.cached[r] = hit
                rem = self.remaining[r] = n - hit
            take = rem
            if take > budget:
                if self.chunked:
                    take = budget
                elif batch:
                    break
            batch.append((r, take))
            tokens += take
            budget -= take
            if take < rem:
                break
        self.pbusy[p] = True
        tab = self.prefill_tab
        dur = tab[tokens] if tokens < len(tab) else self.cluster.prefill_ms(tokens)
        self._push(t + dur, _PREFILL, (p, batch))

    def _prefill_done(self, p: int, batch: list, t: float) -> None:
        self.pbusy[p] = False
        q = self.pqueue[p]
        for r, take in batch:
            rem = self.remaining[r] - take
            self.remaining[r] = rem
            if rem == 0:
                q.popleft()
                self.prefill_done[r] = t
                self._cache_insert(p, self.tmpl[r])
                self.queued_tok[p] -= self.route_tok[r]
                self._push(t + self.xfer[r], _KV, r)
        if q:
            self._start_prefill(p, t)

    def _advance(self, w: int, t: float) -> None:
        mem = self.members[w]
        if mem:
            self.prog[w] += (t - self.last_t[w]) / self.step_tab[len(mem)]
        self.last_t[w] = t

    def _schedule_decode(self, w: int, t: float) -> None:
        self.version[w] += 1
        h = self.dheap[w]
        if h:
            s = self.step_tab[len(self.members[w])]
            self._push(t + max(h[0][0] - self.prog[w], 0.0) * s, _DECODE, (w, self.version[w]))

    def _admit(self, w: int, r: int, t: float) -> None:
        mem = self.members[w]
        mem[r] = target = self.prog[w] + self.osl[r]
        heapq.heappush(self.dheap[w], (target, r))
        self.join[r] = t
        self.first_tok[r] = t + self.step_tab[len(mem)]

    def _kv_arrived(self, r: int, t: float) -> None:
        w = self.dw[r]
        if len(self.members[w]) >= self.slots:
            self.waiting[w].append(r)
            return
        self._advance(w, t)
        self._admit(w, r, t)
        self._schedule_decode(w, t)

    def _decode_done(self, w: int, t: float) -> None:
        self._advance(w, t)
        mem, h, prog = self.members[w], self.dheap[w], self.prog[w]
        while h and h[0][0] - prog <= 1e-9:
            r = heapq.heappop(h)[1]
            del mem[r]
            self.end[r] = t
            self.active_blocks[w] -= self.blocks[r]
            self.n_bound[w] -= 1
            if self.open_rate:
                continue
            if self._retire > 0:  # this client leaves (C was lowered)
                self._retire -= 1
                self.concurrency -= 1
                continue
            think = self.wl.think_ms
            self._push(t + (self.rng.exponential(think) if think > 0 else 0.0), _ARRIVE, None)
        wait = self.waiting[w]
        while wait and len(mem) < self.slots:
            self._admit(w, wait.popleft(), t)
        self._schedule_decode(w, t)

    # ---- event loop ------------------------------------------------------------------------------------
    def run_until(self, t_end_ms: float = math.inf) -> ClusterSim:
        """Process every event with time <= ``t_end_ms`` (ms); the clock then reads ``t_end_ms`` (or the last
        event's time when the run drains first).

        Parameters
        ----------
        t_end_ms : float
            Virtual time to stop at (ms), or inf to run until every request of the budget has finished (an
            open-ended run, ``n_requests=None``, needs a finite time: it never drains by itself).

        Returns
        -------
        ClusterSim
            The simulation itself.

        Raises
        ------
        SimulationLimitError
            More events than the bound (``max_events``, or ``64 (requests sent + C) + 100,000``), or an open-ended
            run that reaches :data:`MAX_REQUESTS` requests.
        InvalidInputError
            ``t_end_ms`` not a number or NaN; inf on an open-ended run.
        """
        if isinstance(t_end_ms, (bool, np.bool_)) or not isinstance(t_end_ms, (int, float, np.integer, np.floating)):
            raise InvalidInputError(f"t_end_ms must be a time in ms or inf, got {t_end_ms!r}")
        t_end_ms = float(t_end_ms)
        if math.isnan(t_end_ms):
            raise InvalidInputError("t_end_ms must be a time (ms) or inf, got nan")
        if t_end_ms == math.inf and self.budget is None:
            raise InvalidInputError("an open-ended run (n_requests=None) never ends by itself: give a finite "
                                    "t_end_ms, or call drain() to finish the requests sent")
        heap, pop = self.heap, heapq.heappop
        cap = self._event_cap()
        while heap and heap[0][0] <= t_end_ms:
            t, _, kind, payload = pop(heap)
            self.now = t
            self.events += 1
            if self.events > cap:
                cap = self._event_cap()
                if self.events > cap:
                    raise SimulationLimitError(f"simulation stopped after {self.events} events at t = {t:.6g} ms "
                                               f"with {self.nxt} requests sent (bound {cap}; raise max_events if "
                                               "the run is legitimate)")
            if kind == _DECODE:
                w, ver = payload
                if ver == self.version[w]:
                    self._decode_done(w, t)
            elif kind == _KV:
                self._kv_arrived(payload, t)
            elif kind == _PREFILL:
                self._prefill_done(payload[0], payload[1], t)
            else:
                if self.budget is not None and self.nxt >= self.budget:
                    continue
                if self.nxt >= len(self.isl):
                    if self.nxt >= MAX_REQUESTS:
                        raise SimulationLimitError(f"open-ended simulation stopped at t = {t:.6g} ms after "
                                                   f"{self.nxt:,} requests sent (limit MAX_REQUESTS = "
                                                   f"{MAX_REQUESTS:,}); give an earlier t_end_ms")
                    self._sample(min(self._chunk, MAX_REQUESTS - self.nxt))
                r = self.nxt
                self.nxt += 1
                self._arrive(r, t)
                if self.open_rate:
                    self._push(t + self.rng.exponential(1e3 / self.open_rate), _ARRIVE, None)
        if t_end_ms != math.inf:
            self.now = max(self.now, float(t_end_ms))
        return self

    def drain(self) -> ClusterSim:
        """Send no further request and run until every request sent has finished.

        Returns
        -------
        ClusterSim
            The simulation itself.
        """
        self.budget = self.nxt
        return self.run_until()

    def _event_cap(self) -> int:
        if self.max_events is not None:
            return self.max_events
        return 64 * (self.nxt + self.concurrency) + 100_000

    # ---- results -----------------------------------------------------------------------------------------
    @property
    def n_sent(self) -> int:
        """Requests sent so far."""
        return self.nxt

    def log(self) -> np.ndarray:
        """The request log of the requests sent so far.

        Returns
        -------
        ndarray
            Structured, one row per request in arrival order: :data:`LOG_FIELDS`, ``model_ms`` and
            ``model_ttft_ms`` (m,); times of events that have not happened yet are NaN.
        """
        n, m = self.nxt, self.m
        out = np.zeros(n, dtype=LOG_FIELDS + [("model_ms", "f8", (m,)), ("model_ttft_ms", "f8", (m,))])
        arr = np.asarray(self.arrival[:n])
        out["arrival_ms"] = arr
        out["prefill_worker"], out["worker"] = self.pw[:n], self.dw[:n]
        out["template"], out["input_tokens"], out["output_tokens"] = self.tmpl[:n], self.isl[:n], self.osl[:n]
        out["cached_tokens"] = self.cached[:n]
        out["prefill_done_ms"] = self.prefill_done[:n]
        end = np.asarray(self.end[:n])
        out["end_ms"] = end
        out["ttft_ms"] = np.asarray(self.first_tok[:n]) - arr
        out["latency_ms"] = end - arr
        out["itl_ms"] = (end - np.asarray(self.join[:n])) / np.maximum(out["output_tokens"], 1)
        out["window"] = np.arange(n) // m
        if n:
            base = np.asarray(self.model_base[:n])[:, None]
            steps = np.asarray(self.window_steps, float)[out["window"]]
            out["model_ms"] = base + out["output_tokens"][:, None].astype(float) * steps
            out["model_ttft_ms"] = base + steps
        return out

    def result(self, warmup: int = 0) -> SimResult:
        """Summary of the finished requests after the first ``warmup``.

        Parameters
        ----------
        warmup : int
            Requests at the start left out of every metric.

        Returns
        -------
        SimResult

        Raises
        ------
        InvalidInputError
            ``warmup`` outside [0, requests sent - 1], or no measured request has finished.
        """
        n = self.nxt
        if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or not 0 <= warmup < max(n, 1):
            raise InvalidInputError(f"warmup must be an integer in [0, {n - 1}] (requests discarded from the "
                                    f"summary), got {warmup!r}")
        log = self.log()
        body = log[warmup:]
        done = body[~np.isnan(body["end_ms"])]
        if done.size == 0:
            raise InvalidInputError("no measured request has finished yet: run longer or lower warmup")
        t_a, t_b = float(body["arrival_ms"][0]), float(log["arrival_ms"][-1])
        if t_b - t_a > 0 and n > warmup + 1:  # every completion in [t_a, t_b], warm-up requests included
            ends = log["end_ms"]
            flow_rows = log[(ends >= t_a) & (ends <= t_b)]
            span = t_b - t_a
        else:
            flow_rows = done
            span = max(float(done["end_ms"].max() - t_a), 1e-9)
        return SimResult(
            log=log, warmup=int(warmup),
            ttft_p50_ms=float(np.percentile(done["ttft_ms"], 50)),
            ttft_p99_ms=float(np.percentile(done["ttft_ms"], 99)),
            itl_p50_ms=float(np.percentile(done["itl_ms"], 50)),
            itl_p99_ms=float(np.percentile(done["itl_ms"], 99)),
            mean_latency_ms=float(done["latency_ms"].mean()),
            throughput_rps=flow_rows.size / span * 1e3,
            throughput_tok_s=float(flow_rows["output_tokens"].sum()) / span * 1e3,
            worker_share=np.bincount(done["worker"], minlength=self.m) / done.size,
            horizon_ms=self.now)


def simulate(cluster: Cluster, workload: Workload | None = None, concurrency: int = 64, n_requests: int = 10_000,
             *, warmup: int = 0, policy: str = "dynamo", tau: float = 0.0, omega: float = 1.0, seed: int = 0,
             max_events: int | None = None) -> SimResult:
    """Simulate ``n_requests`` requests to the end and summarize the ones after ``warmup``.

    Parameters
    ----------
    cluster : Cluster
        Profile, layout, KV link, engine configuration (:class:`~gametheory.serving.engine.Cluster`).
    workload : Workload, optional
        Default :func:`~gametheory.serving.workload.paper_workload`.
    concurrency : int
        Closed-loop clients (ignored with open arrivals).
    n_requests : int
        Requests sent in all.
    warmup : int
        Requests left out of the summary (all C clients send at t = 0: keep at least 2 C out for steady state).
    policy, tau, omega, seed, max_events
        As :class:`ClusterSim`.

    Returns
    -------
    SimResult

    Raises
    ------
    InvalidInputError
        Bad arguments (named).
    SimulationLimitError
        The event bound was exceeded.

    References
    ----------
    Module docstring.
    """
    sim = ClusterSim(cluster, workload, concurrency, n_requests, policy=policy, tau=tau, omega=omega, seed=seed,
                     max_events=max_events)
    return sim.run_until().result(warmup)
