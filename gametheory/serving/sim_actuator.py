"""Our discrete-event simulator as the adaptive controller's actuator (paper section 6: "our simulator and
the live Dynamo stack" are the two implementations of one interface).

:class:`ClusterSim` is a resumable form of :func:`gametheory.serving.simulator.simulate`: the same stations
(one FCFS batched prefill worker, KV transfer, ``n_decode`` continuous-batching decode workers with the
fluid-within-step approximation and per-worker progress clocks), the same prefix caches and the same router,
but the event loop stops at a virtual time (:meth:`ClusterSim.run_until`) and keeps every queue, batch,
cache and client between calls, so the router setting (tau, omega) and the closed-loop concurrency C can
change at a poll boundary without a cold restart. With a fixed setting and C, running it to the end
reproduces ``simulate`` request for request (same seed, same random stream; tests/test_sim_actuator.py
checks the logs are equal).

Changing C at a boundary: new clients send their first request at the boundary; when C falls, the next
finishing clients leave instead of sending again (no request is dropped).

Optional ``max_num_seqs``: at most that many requests decode on one worker at once (vLLM / the Dynamo
mocker's batch-slot limit, default 256 in the mocker); requests whose KV arrives at a full worker wait
there in FIFO order and get their first token when admitted. ``None`` (default) = no slot limit, as in
``simulate``.

:class:`SimulatorActuator` implements :class:`gametheory.serving.controller.Actuator`: interval k runs
``interval_s`` seconds of virtual time at C = ``ramp[k]`` under the given (tau, omega) and reports what a
Prometheus poll would: TTFT P99 of the first tokens produced in the interval (ms), completions per second,
and PoA-hat of the requests admitted to decode in the interval, computed exactly as for the real router's
replay (:func:`gametheory.serving.dynamo.request_log`: frozen per-window decode latencies from the
profile, Hungarian OPT) so that simulator and replay numbers are comparable.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.paper_setup import OUTPUT_TOKENS
from gametheory.serving import router as rt
from gametheory.serving.controller import IntervalReport
from gametheory.serving.simulator import POLICIES, _Cache
from gametheory.serving.workload import Workload, paper_workload

__all__ = ["ClusterSim", "SimulatorActuator", "replay_workload", "decode_poa_hat"]

_CHUNK = 4096  # requests sampled at a time when the request count is open-ended


def replay_workload(output_tokens: int = OUTPUT_TOKENS) -> Workload:
    """The workload of :mod:`gametheory.serving.dynamo`'s replay in the simulator's terms: 5 templates,
    128-token inputs of which the first 64 (``shared_prefix_ratio`` 0.5) are shared, ``output_tokens`` out."""
    return Workload(output_tokens=(output_tokens, output_tokens), prefix_tokens=64)


class ClusterSim:
    """Resumable discrete-event simulation of a 1P/mD cluster under closed-loop load (see module docstring).

    ``n_requests``: a hard budget (requests beyond it are not sent, as in ``simulate``) or ``None`` for an
    open-ended run (requests are drawn in chunks from a generator seeded by (seed, 1)). Times are ms.
    """

    def __init__(self, profile, n_decode: int = 5, concurrency: int = 64, n_requests: int | None = None, *,
                 workload: Workload | None = None, policy: str = "dynamo", omega: float = 1.0, tau: float = 0.0,
                 block_size: int = 16, cache_blocks: int = 64, cache_rule: str = "lru",
                 link_gb_per_s: float = 900.0, max_prefill_tokens: int = 16384, max_num_seqs: int | None = None,
                 seed: int = 0):
        if policy not in POLICIES:
            raise InvalidInputError(f"policy must be one of {POLICIES}, got {policy!r}")
        if cache_rule not in ("lru", "frequency"):
            raise InvalidInputError("cache_rule must be 'lru' or 'frequency'")
        if n_decode < 1 or concurrency < 1 or (n_requests is not None and n_requests < 1):
            raise InvalidInputError("n_decode, concurrency and n_requests must be >= 1")
        if max_num_seqs is not None and max_num_seqs < 1:
            raise InvalidInputError(f"max_num_seqs must be >= 1 or None, got {max_num_seqs}")
        wl = workload or paper_workload()
        if wl.arrival_rate_per_s is not None:
            raise InvalidInputError("ClusterSim runs closed-loop load only; use simulate() for open arrivals")
        self.profile, self.m, self.wl, self.policy = profile, int(n_decode), wl, policy
        self.omega, self.tau = float(omega), float(tau)
        self.block_size, self.max_prefill_tokens = int(block_size), float(max_prefill_tokens)
        self.link = link_gb_per_s
        self.max_num_seqs = None if max_num_seqs is None else int(max_num_seqs)
        self.rng = np.random.default_rng(seed)
        self.budget = None if n_requests is None else int(n_requests)
        self._wl_rng = self.rng if n_requests is not None else np.random.default_rng([seed, 1])
        # per-request columns (Python lists: scalar access in the event loop is faster than numpy)
        self.template, self.isl, self.osl, self.xfer = [], [], [], []
        self.arrival, self.worker, self.cached, self.uncached = [], [], [], []
        self.first_tok, self.end, self.costs = [], [], []
        self._sample(self.budget if self.budget is not None else _CHUNK)
        if self.budget is not None:  # as simulate(): mean context of the sampled requests
            ctx = float(np.mean(self.isl) + np.mean(self.osl) / 2)
        else:  # open-ended: the workload's expected context (uniform integer lengths)
            ctx = sum(wl.input_tokens) / 2 + sum(wl.output_tokens) / 4
        self.bmax = int(min(4096, profile.max_decode_batch(ctx))) if hasattr(profile, "max_decode_batch") else 4096
        self.step_tab = np.concatenate([[0.0], np.asarray(profile.decode_step_ms(np.arange(1, self.bmax + 1), ctx),
                                                          float)]).tolist()
        self.n_pref_blocks = wl.prefix_tokens // self.block_size
        self.caches = [_Cache(cache_blocks, cache_rule) for _ in range(self.m)]
        self.q_prefill_tok = np.zeros(self.m)
        self.active_tok = np.zeros(self.m)
        self.n_active = np.zeros(self.m, dtype=np.int64)
        self.members = [dict() for _ in range(self.m)]  # req -> finish target on the progress clock (steps)
        self.dheap = [[] for _ in range(self.m)]  # min-heap of (target, req) per worker
        self.prog = [0.0] * self.m  # decode steps done on each worker since start
        self.waiting = [[] for _ in range(self.m)]  # KV arrived, no batch slot yet (max_num_seqs)
        self.last_t = [0.0] * self.m
        self.version = [0] * self.m
        self.prefill_queue: list[int] = []
        self.prefill_busy = False
        self.heap: list = []
        self.seq = 0
        self.rr = 0
        self.nxt = 0
        self.now = 0.0
        self.concurrency = int(concurrency)
        self._retire = 0
        for _ in range(self.concurrency if self.budget is None else min(self.concurrency, self.budget)):
            self._push(0.0, 0, None)

    # ---- request table ---------------------------------------------------------------------------
    def _sample(self, n: int) -> None:
        req = self.wl.sample(n, self._wl_rng)
        isl = req["input_tokens"]
        x = (np.asarray(self.profile.kv_transfer_ms(isl, self.link), float) if self.link else np.zeros(n))
        self.template += req["template"].tolist()
        self.isl += isl.tolist()
        self.osl += req["output_tokens"].tolist()
        self.xfer += np.broadcast_to(x, (n,)).tolist()
        for col in (self.arrival, self.first_tok, self.end):
            col += [math.nan] * n
        self.worker += [-1] * n
        self.cached += [0] * n
        self.uncached += [0.0] * n
        self.costs += [None] * n

    # ---- controls --------------------------------------------------------------------------------
    def set_setting(self, tau: float, omega: float) -> None:
        """Router temperature and overlap weight from now on."""
        if not (math.isfinite(tau) and math.isfinite(omega)) or tau < 0 or omega < 0:
            raise InvalidInputError(f"tau and omega must be finite and >= 0, got {(tau, omega)}")
        self.tau, self.omega = float(tau), float(omega)

    def set_concurrency(self, c: int) -> None:
        """Closed-loop concurrency from now on: extra clients send at once; surplus clients leave when their
        current request finishes."""
        c = int(c)
        if c < 1:
            raise InvalidInputError(f"concurrency must be >= 1, got {c}")
        live = self.concurrency - self._retire
        if c > live:
            add = c - live
            cancel = min(add, self._retire)
            self._retire -= cancel
            for _ in range(add - cancel):
                self._push(self.now, 0, None)
        else:
            self._retire += live - c
        self.concurrency = c + self._retire  # clients still in the system

    # ---- event loop ------------------------------------------------------------------------------
    def _push(self, t, kind, payload):
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, payload))

    def _advance(self, w, t):
        mem = self.members[w]
        if mem:
            self.prog[w] += (t - self.last_t[w]) / self.step_tab[min(len(mem), self.bmax)]
        self.last_t[w] = t

    def _schedule_decode(self, w, t):
        self.version[w] += 1
        h = self.dheap[w]
        if h:
            s = self.step_tab[min(len(self.members[w]), self.bmax)]
            target, r = h[0]
            self._push(t + max(target - self.prog[w], 0.0) * s, 2, (w, self.version[w], r))

    def _start_prefill(self, t):
        batch, tok = [], 0.0
        q = self.prefill_queue
        while q and (not batch or tok + self.uncached[q[0]] <= self.max_prefill_tokens):
            r = q.pop(0)
            batch.append(r)
            tok += self.uncached[r]
        self.prefill_busy = True
        self._push(t + float(self.profile.prefill_ms(max(tok, 1.0))), 1, batch)

    def _arrive(self, r, t):
        m, bs = self.m, self.block_size
        self.arrival[r] = t
        tp = self.template[r]
        hits = np.array([c.hit_blocks(tp, self.n_pref_blocks) for c in self.caches], float)
        cached_tok = hits * bs
        n = float(self.isl[r])
        pb = (self.q_prefill_tok + n - np.minimum(cached_tok, n)) / bs
        db = self.active_tok / bs
        if self.policy == "dynamo_credit":
            costs = rt.dynamo_credit_costs(self.q_prefill_tok / bs + n / bs, db, hits, prefill_scale=self.omega)
        else:
            costs = self.omega * pb + db
        self.costs[r] = costs
        pol = self.policy
        if pol in ("dynamo", "dynamo_credit"):
            w = rt.select(costs, self.tau, self.rng)
        elif pol == "round_robin":
            w = self.rr % m
            self.rr += 1
        elif pol == "random":
            w = int(self.rng.integers(m))
        elif pol == "least_loaded":
            w = int(np.argmin(self.n_active))
        else:
            tree = np.array([len(c.blocks) for c in self.caches], float)
            w = rt.sglang_select(self.n_active, cached_tok / n, tree)
        self.worker[r] = w
        self.cached[r] = int(cached_tok[w])
        self.uncached[r] = n - min(cached_tok[w], n)
        self.caches[w].insert(tp, self.n_pref_blocks)
        self.q_prefill_tok[w] += self.uncached[r]
        self.active_tok[w] += n + self.osl[r]
        self.n_active[w] += 1
        self.prefill_queue.append(r)
        if not self.prefill_busy:
            self._start_prefill(t)

    def _admit(self, w, r, t):
        self.members[w][r] = target = self.prog[w] + float(self.osl[r])
        heapq.heappush(self.dheap[w], (target, r))
        self.first_tok[r] = t

    def _join(self, w, r, t):
        self._advance(w, t)
        self._admit(w, r, t)
        self._schedule_decode(w, t)

    def run_until(self, t_end_ms: float = math.inf) -> None:
        """Process every event with time <= ``t_end_ms``; the clock then reads ``t_end_ms`` (or the last
        event's time when the run drains first)."""
        heap = self.heap
        while heap and heap[0][0] <= t_end_ms:
            t, _, kind, payload = heapq.heappop(heap)
            self.now = t
            if kind == 0:  # a client sends its next request
                if self.budget is not None and self.nxt >= self.budget:
                    continue
                if self.nxt >= len(self.isl):
                    self._sample(_CHUNK)
                r = self.nxt
                self.nxt += 1
                self._arrive(r, t)
            elif kind == 1:  # prefill batch done
                self.prefill_busy = False
                for r in payload:
                    w = self.worker[r]
                    self.q_prefill_tok[w] -= self.uncached[r]
                    self._push(t + self.xfer[r], 3, r)
                if self.prefill_queue:
                    self._start_prefill(t)
            elif kind == 3:  # KV arrived at the decode worker
                w = self.worker[payload]
                if self.max_num_seqs is not None and len(self.members[w]) >= self.max_num_seqs:
                    self.waiting[w].append(payload)
                else:
                    self._join(w, payload, t)
            else:  # decode completion candidate
                w, ver, _ = payload
                if ver != self.version[w]:
                    continue
                self._advance(w, t)
                mem, h = self.members[w], self.dheap[w]
                fin = []
                while h and h[0][0] - self.prog[w] <= 1e-9:
                    fin.append(heapq.heappop(h)[1])
                for q in fin:
                    del mem[q]
                    self.end[q] = t
                    self.active_tok[w] -= self.isl[q] + self.osl[q]
                    self.n_active[w] -= 1
                    if self._retire > 0:  # this client leaves (C was lowered)
                        self._retire -= 1
                        self.concurrency -= 1
                        continue
                    think = self.rng.exponential(self.wl.think_ms) if self.wl.think_ms > 0 else 0.0
                    self._push(t + think, 0, None)
                wait = self.waiting[w]
                while wait and len(mem) < self.max_num_seqs:
                    self._admit(w, wait.pop(0), t)
                self._schedule_decode(w, t)
        if t_end_ms != math.inf:
            self.now = max(self.now, float(t_end_ms))

    # ---- results ---------------------------------------------------------------------------------
    @property
    def n_sent(self) -> int:
        return self.nxt

    def ttft_ms(self) -> np.ndarray:
        """TTFT (ms) of the first ``n_sent`` requests: first decode token = decode admission + one step at
        batch 1 (as in ``simulate``); NaN while a request waits for it."""
        n = self.nxt
        return np.asarray(self.first_tok[:n]) - np.asarray(self.arrival[:n]) + self.step_tab[1]

    def log(self) -> np.ndarray:
        """The request log of the requests sent so far, in ``simulate``'s format (structured array with
        ``costs``); ``itl_ms`` and ``end_ms`` are NaN for unfinished requests."""
        from gametheory.serving.simulator import LOG_DTYPE_FIELDS

        n = self.nxt
        out = np.zeros(n, dtype=LOG_DTYPE_FIELDS + [("costs", "f8", (self.m,))])
        out["arrival_ms"] = self.arrival[:n]
        out["worker"] = self.worker[:n]
        out["template"] = self.template[:n]
        out["input_tokens"] = self.isl[:n]
        out["output_tokens"] = self.osl[:n]
        out["cached_tokens"] = self.cached[:n]
        out["ttft_ms"] = self.ttft_ms()
        first = np.asarray(self.first_tok[:n])
        out["end_ms"] = self.end[:n]
        out["itl_ms"] = (out["end_ms"] - first) / np.maximum(out["output_tokens"], 1)
        if n:
            out["costs"] = np.vstack(self.costs[:n])
        return out

    def decode_records(self, lo_ms: float = -math.inf, hi_ms: float = math.inf) -> list[dict]:
        """Per-request records in the replay's schema (``decode_admit_ms``, ``decode_worker_idx``,
        ``terminal_time_ms``, ``input_length``, ``output_length``) for requests admitted to decode before
        ``hi_ms`` and still decoding at, or admitted after, ``lo_ms``: what :func:`dynamo.request_log` needs
        to freeze worker states for windows starting in [lo_ms, hi_ms)."""
        recs = []
        for r in range(self.nxt):
            a = self.first_tok[r]
            if math.isnan(a) or a >= hi_ms:
                continue
            e = self.end[r]
            if not math.isnan(e) and e <= lo_ms and a < lo_ms:
                continue
            recs.append({"decode_admit_ms": a, "decode_worker_idx": self.worker[r],
                         "terminal_time_ms": None if math.isnan(e) else e,
                         "input_length": self.isl[r], "output_length": self.osl[r]})
        recs.sort(key=lambda d: d["decode_admit_ms"])
        return recs


def decode_poa_hat(records: list[dict], profile, n_decode: int, osl: int, lo_ms: float = -math.inf):
    """PoA-hat with the replay's cost model (:func:`gametheory.serving.dynamo.request_log`) over the windows
    whose first decode admission is at or after ``lo_ms``; None when fewer than one window qualifies."""
    from gametheory.serving.dynamo import request_log
    from gametheory.serving.estimator import matching_ratio

    if len(records) < n_decode:
        return None
    log = request_log(records, profile, n_decode, osl)
    admit = np.array([r["decode_admit_ms"] for r in records[: log.costs.shape[0]]])
    starts = np.arange(0, admit.size, n_decode)
    keep = starts[admit[starts] >= lo_ms]
    if keep.size == 0:
        return None
    rows = (keep[:, None] + np.arange(n_decode)[None, :]).ravel()
    return float(matching_ratio(log.costs[rows], log.choices[rows], n_decode).value)


@dataclass
class SimulatorActuator:
    """:class:`~gametheory.serving.controller.Actuator` on :class:`ClusterSim`: one continuous simulation,
    interval k = ``interval_s`` seconds of virtual time at C = ``ramp[k]`` (state carried across intervals).

    ``setup`` names one of :data:`gametheory.serving.dynamo.SETUPS` (profile, decode workers); ``sim_kw``
    passes options to :class:`ClusterSim` (default workload: :func:`replay_workload`, prefill batches of
    8,192 tokens as the mocker's ``max_num_batched_tokens``). Intervals must be run in order 0, 1, 2, ...
    """

    setup: str
    ramp: tuple
    seed: int = 0
    interval_s: float = 5.0
    with_poa: bool = True
    sim_kw: dict = field(default_factory=dict)
    sim: ClusterSim | None = field(default=None, init=False, repr=False)
    _next: int = field(default=0, init=False, repr=False)

    def __post_init__(self):
        from gametheory.serving.dynamo import SETUPS
        from gametheory.serving.profiles import load_profile

        if self.setup not in SETUPS:
            raise InvalidInputError(f"setup must be one of {sorted(SETUPS)}, got {self.setup!r}")
        if not self.ramp or min(int(c) for c in self.ramp) < 1:
            raise InvalidInputError("ramp must list concurrencies >= 1")
        if not self.interval_s > 0:
            raise InvalidInputError(f"interval_s must be > 0, got {self.interval_s}")
        s = SETUPS[self.setup]
        self.profile = load_profile(s.profile)
        kw = {"workload": replay_workload(), "max_prefill_tokens": 8192, **self.sim_kw}
        self.osl = int(kw["workload"].output_tokens[1])
        self.sim = ClusterSim(self.profile, s.n_decode, int(self.ramp[0]), None, seed=self.seed, **kw)

    def run_interval(self, index: int, tau: float, omega: float) -> IntervalReport:
        if index != self._next:
            raise InvalidInputError(f"SimulatorActuator runs intervals in order: expected {self._next}, got {index}")
        self._next += 1
        sim = self.sim
        c = int(self.ramp[index])
        t0 = index * self.interval_s * 1e3
        t1 = t0 + self.interval_s * 1e3
        sim.set_setting(tau, omega)
        sim.set_concurrency(c)
        sim.run_until(t1)
        n = sim.n_sent
        first = np.asarray(sim.first_tok[:n]) + sim.step_tab[1]  # first-token times (ms)
        seen = (first >= t0) & (first < t1)
        if seen.any():
            ttft_p99 = float(np.percentile(sim.ttft_ms()[seen], 99))
        else:  # no first token in the interval: the oldest waiting request's age is a lower bound
            arr = np.asarray(sim.arrival[:n])
            ttft_p99 = float(t1 - np.nanmin(np.where(np.isnan(first), arr, np.nan)))
        end = np.asarray(sim.end[:n])
        done = int(np.count_nonzero((end >= t0) & (end < t1)))
        poa = None
        if self.with_poa:
            poa = decode_poa_hat(sim.decode_records(t0, t1), self.profile, sim.m, self.osl, lo_ms=t0)
        return IntervalReport(ttft_p99, done / self.interval_s, poa, c, self.interval_s)
