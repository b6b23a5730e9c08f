"""Request-routing policies of serving frameworks, as functions a simulator can call.

- NVIDIA Dynamo KV router (ai-dynamo/dynamo, lib/kv-router; ../shared/references.md):

  * classic form (Dynamo <= ~1.1, the paper's 0.9.0)::

        cost_w = omega * prefill_blocks_w + decode_blocks_w
        prefill_blocks_w = (tokens queued for prefill on w + new request's tokens not cached on w) / block_size
        decode_blocks_w  = active KV blocks on w (+ the new request's)

  * current credit form::

        cost_w = s * max(0, raw_prefill_blocks_w - credit_w) + decode_blocks_w (+ per_request * active_requests_w)
        credit_w = c_dev * device_hits + 0.75 * host_hits + 0.25 * disk_hits (+ shared_mult * shared_hits)

  * selection: temperature 0 -> argmin with uniformly random tie-break; temperature T > 0 -> sample w with
    probability proportional to exp(-(c_w - c_min) / ((c_max - c_min) * T)), uniform if all costs are equal.

- SGLang cache-aware router: imbalanced if (max_load - min_load > 64) and (max_load > 1.5 * min_load) ->
  shortest queue; else if the best prefix match rate > 0.3 -> the longest-match worker; else the worker
  with the smallest cache tree.
- llm-d scheduler: weighted sum of scorers in [0, 1] (defaults queue 2, KV-utilization 2, prefix-cache 3),
  argmax.

Greedy sequential routing (:func:`route_stream`) sends each request, in arrival order, to the worker that
minimizes its cost given the state left by the earlier ones: that is best-response dynamics of the atomic
routing game in which each request is a player moving once (Game 3 of the paper).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from gametheory._validate import (
    finite_array,
    finite_scalar,
    function,
    instance,
    integer,
    nonnegative_array,
    nonnegative_scalar,
    positive_scalar,
    random_seed,
    sequence_of,
)
from gametheory.errors import InvalidInputError

__all__ = [
    "BufferedUniforms",
    "Request",
    "RoutingTrace",
    "WorkerState",
    "dynamo_costs",
    "dynamo_credit_costs",
    "llmd_scores",
    "llmd_select",
    "pick",
    "prefill_blocks",
    "route_stream",
    "select",
    "selection_probabilities",
    "sglang_select",
]


def prefill_blocks(queued_prefill_tokens, request_tokens, cached_tokens, block_size: int = 16) -> np.ndarray:
    """Dynamo ``prefill_blocks_w`` = (tokens queued for prefill on w + new tokens not cached on w) / block_size.

    ``queued_prefill_tokens`` and ``cached_tokens`` are per worker (tokens), ``request_tokens`` the new
    request's prompt length (tokens). Cached tokens beyond the prompt length are clipped.
    """
    q = nonnegative_array(queued_prefill_tokens, "queued_prefill_tokens", ndim=1)
    cached = nonnegative_array(cached_tokens, "cached_tokens", ndim=1)
    if cached.shape != q.shape:
        raise InvalidInputError(f"cached_tokens has {cached.size} workers, queued_prefill_tokens has {q.size}")
    n = nonnegative_scalar(request_tokens, "request_tokens")
    bs = positive_scalar(block_size, "block_size")
    return (q + n - np.minimum(cached, n)) / bs


def dynamo_costs(prefill_blocks_w, decode_blocks_w, omega: float = 1.0) -> np.ndarray:
    """Dynamo classic cost ``omega * prefill_blocks_w + decode_blocks_w`` (blocks; lower is better).

    ``omega`` is Dynamo's ``overlap_score_weight`` (default 1.0).
    """
    p = nonnegative_array(prefill_blocks_w, "prefill_blocks", ndim=1, min_size=1)
    d = nonnegative_array(decode_blocks_w, "decode_blocks", ndim=1, min_size=1)
    if p.shape != d.shape:
        raise InvalidInputError(f"prefill_blocks has {p.size} workers, decode_blocks has {d.size}")
    w = nonnegative_scalar(omega, "omega")
    return w * p + d


def dynamo_credit_costs(
    raw_prefill_blocks_w,
    decode_blocks_w,
    device_hits,
    host_hits=None,
    disk_hits=None,
    *,
    shared_hits=None,
    active_requests=None,
    prefill_scale: float = 1.0,
    device_credit: float = 1.0,
    host_credit: float = 0.75,
    disk_credit: float = 0.25,
    shared_multiplier: float = 0.0,
    per_request_weight: float = 0.0,
) -> np.ndarray:
    """Dynamo current (credit) cost: ``s * max(0, raw_prefill_blocks - credit) + decode_blocks``
    ``(+ per_request_weight * active_requests)``, with ``credit = c_dev * device_hits + 0.75 * host_hits +
    0.25 * disk_hits + shared_multiplier * shared_hits`` (hits in blocks). Defaults are Dynamo's."""
    raw = nonnegative_array(raw_prefill_blocks_w, "raw_prefill_blocks", ndim=1, min_size=1)
    m = raw.size

    def per_worker(values, name):
        if values is None:
            return np.zeros(m)
        arr = nonnegative_array(values, name, ndim=1)
        if arr.size != m:
            raise InvalidInputError(f"{name} has {arr.size} workers, raw_prefill_blocks has {m}")
        return arr

    d = per_worker(decode_blocks_w, "decode_blocks")
    credit = (
        nonnegative_scalar(device_credit, "device_credit") * per_worker(device_hits, "device_hits")
        + nonnegative_scalar(host_credit, "host_credit") * per_worker(host_hits, "host_hits")
        + nonnegative_scalar(disk_credit, "disk_credit") * per_worker(disk_hits, "disk_hits")
        + nonnegative_scalar(shared_multiplier, "shared_multiplier") * per_worker(shared_hits, "shared_hits")
    )
    s = nonnegative_scalar(prefill_scale, "prefill_scale")
    cost = s * np.maximum(0.0, raw - credit) + d
    cost = cost + nonnegative_scalar(per_request_weight, "per_request_weight") * per_worker(
        active_requests, "active_requests"
    )
    return cost


def selection_probabilities(costs, temperature: float) -> np.ndarray:
    """Dynamo's selection distribution over workers.

    T = 0: uniform over the argmin set (random tie-break). T > 0: the min-max-normalized softmax
    p_w ~ exp(-(c_w - c_min) / ((c_max - c_min) T)); uniform if all costs are equal.
    """
    c = finite_array(costs, "costs", ndim=1, min_size=1)
    t = nonnegative_scalar(temperature, "temperature")
    cmin, cmax = float(c.min()), float(c.max())
    if cmax == cmin:
        return np.full(c.size, 1.0 / c.size)
    if t == 0.0:
        best = (c == cmin).astype(float)
        return best / best.sum()
    logits = -(c - cmin) / ((cmax - cmin) * t)
    p = np.exp(logits - logits.max())
    return p / p.sum()


def select(costs, temperature: float = 0.0, rng: np.random.Generator | int | None = None) -> int:
    """Pick a worker index as Dynamo does: argmin with random tie-break at T = 0, softmax sampling at T > 0."""
    p = selection_probabilities(costs, temperature)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    support = np.flatnonzero(p > 0)
    if support.size == 1:
        return int(support[0])
    return int(gen.choice(p.size, p=p))


class BufferedUniforms:
    """Uniform draws in [0, 1) from a numpy Generator, 8,192 per array call (for event loops that draw one at a
    time).

    Parameters
    ----------
    rng : numpy.random.Generator
    """

    def __init__(self, rng: np.random.Generator, block: int = 8192):
        self.rng = instance(rng, np.random.Generator, "rng", what="numpy.random.Generator")
        self.block, self.buf, self.i = integer(block, "block", minimum=1, maximum=10**7), [], 0

    def __call__(self) -> float:
        if self.i >= len(self.buf):
            self.buf, self.i = self.rng.random(self.block).tolist(), 0
        u = self.buf[self.i]
        self.i += 1
        return u


def _checked_uniform(uniform):
    def draw() -> float:
        u = finite_scalar(uniform(), "uniform()")
        if not 0 <= u < 1:
            raise InvalidInputError(f"uniform() must return a number in [0, 1), got {u!r}")
        return u

    return draw


def pick(costs: list, temperature: float, uniform) -> int:
    """Dynamo's selection (:func:`selection_probabilities`) on plain Python floats with one uniform draw:
    argmin with a uniformly random tie-break at temperature 0; at T > 0 the worker w with probability
    proportional to ``exp(-(c_w - c_min) / ((c_max - c_min) T))``; uniform when all costs are equal.

    Parameters
    ----------
    costs : list of float
        Cost per worker (finite; checked cheaply: the simulator calls this per request).
    temperature : float
        T >= 0.
    uniform : callable
        Returns a uniform draw in [0, 1) (e.g. :class:`BufferedUniforms`).

    Returns
    -------
    int
        The chosen worker.

    References
    ----------
    NVIDIA Dynamo KV router (``lib/kv-router``): softmax sampling with min-max normalized costs.
    """
    # cheap checks: the simulator calls this once per routed request
    if type(costs) is not list or not costs:
        costs = finite_array(costs, "costs", ndim=1, min_size=1).tolist()
    try:
        finite = math.isfinite(math.fsum(costs))
    except (TypeError, ValueError):
        finite = False
    if not finite:
        finite_array(costs, "costs", ndim=1)  # names the offending entry
        raise InvalidInputError(f"costs must be finite numbers with a finite sum, got {costs!r}")
    if type(temperature) is not float or not temperature >= 0 or temperature == math.inf:
        temperature = nonnegative_scalar(temperature, "temperature")
    if not isinstance(uniform, BufferedUniforms):
        uniform = _checked_uniform(function(uniform, "uniform"))
    n = len(costs)
    cmin, cmax = min(costs), max(costs)
    if cmax == cmin:
        return min(int(uniform() * n), n - 1)
    if temperature == 0.0:
        ties = [i for i, c in enumerate(costs) if c == cmin]
        return ties[0] if len(ties) == 1 else ties[min(int(uniform() * len(ties)), len(ties) - 1)]
    scale = (cmax - cmin) * temperature
    weights = [math.exp(-(c - cmin) / scale) for c in costs]
    u = uniform() * sum(weights)
    acc = 0.0
    for i, wgt in enumerate(weights):
        acc += wgt
        if u < acc:
            return i
    return n - 1


# ---- other frameworks' policies ---------------------------------------------------------------------


def sglang_select(
    loads,
    match_rates,
    tree_sizes,
    *,
    balance_abs_threshold: float = 64,
    balance_rel_threshold: float = 1.5,
    cache_threshold: float = 0.3,
) -> int:
    """SGLang cache-aware router: shortest queue when imbalanced, else longest prefix match when the best
    match rate exceeds ``cache_threshold``, else the smallest cache tree. Ties go to the lowest index."""
    load = nonnegative_array(loads, "loads", ndim=1, min_size=1)
    match = nonnegative_array(match_rates, "match_rates", ndim=1)
    tree = nonnegative_array(tree_sizes, "tree_sizes", ndim=1)
    if not (load.size == match.size == tree.size):
        raise InvalidInputError("loads, match_rates and tree_sizes must have one entry per worker")
    balance_abs_threshold = nonnegative_scalar(balance_abs_threshold, "balance_abs_threshold")
    balance_rel_threshold = nonnegative_scalar(balance_rel_threshold, "balance_rel_threshold")
    cache_threshold = nonnegative_scalar(cache_threshold, "cache_threshold")
    lo, hi = float(load.min()), float(load.max())
    if hi - lo > balance_abs_threshold and hi > balance_rel_threshold * lo:
        return int(np.argmin(load))
    if float(match.max()) > cache_threshold:
        return int(np.argmax(match))
    return int(np.argmin(tree))


def llmd_scores(queue_score, kv_util_score, prefix_score, weights=(2.0, 2.0, 3.0)) -> np.ndarray:
    """llm-d scheduler score: weighted sum of scorers in [0, 1] (defaults queue 2, KV-utilization 2,
    prefix-cache 3). Higher is better; each scorer is already oriented so that 1 is best."""
    parts = [
        nonnegative_array(s, name, ndim=1, min_size=1)
        for s, name in ((queue_score, "queue_score"), (kv_util_score, "kv_util_score"), (prefix_score, "prefix_score"))
    ]
    if len({p.size for p in parts}) != 1:
        raise InvalidInputError("llm-d scorers must have one entry per worker")
    for p, name in zip(parts, ("queue_score", "kv_util_score", "prefix_score"), strict=True):
        if (p > 1).any():
            raise InvalidInputError(f"{name} must lie in [0, 1], got max {float(p.max())!r}")
    w = nonnegative_array(weights, "weights", ndim=1)
    if w.size != 3:
        raise InvalidInputError(f"weights must have 3 entries (queue, kv, prefix), got {w.size}")
    return w[0] * parts[0] + w[1] * parts[1] + w[2] * parts[2]


def llmd_select(queue_score, kv_util_score, prefix_score, weights=(2.0, 2.0, 3.0)) -> int:
    """argmax of :func:`llmd_scores` (lowest index on ties)."""
    return int(np.argmax(llmd_scores(queue_score, kv_util_score, prefix_score, weights)))


# ---- greedy sequential routing = best-response dynamics ----------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request: prompt length ``tokens``, output length ``output_tokens`` (both tokens) and the prefix
    class ``prefix`` (requests of a class share their first ``shared_tokens`` prompt tokens)."""

    tokens: int
    output_tokens: int = 0
    prefix: int = 0
    shared_tokens: int = 0


@dataclass
class WorkerState:
    """What the Dynamo router sees of worker w: queued prefill tokens, active KV blocks and, per prefix
    class, the number of tokens of that prefix cached on w."""

    queued_prefill_tokens: float = 0.0
    active_blocks: float = 0.0
    cached_prefix_tokens: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutingTrace:
    """Result of :func:`route_stream`: ``assignment[i]`` is the worker of request i; ``costs[i]`` the cost
    vector it saw; ``states`` the final worker states."""

    assignment: np.ndarray
    costs: list[np.ndarray]
    states: list[WorkerState]


def route_stream(
    requests: Sequence[Request],
    n_workers: int,
    *,
    omega: float = 1.0,
    temperature: float = 0.0,
    block_size: int = 16,
    rng: np.random.Generator | int | None = None,
    cost_fn: Callable[[Request, list[WorkerState]], np.ndarray] | None = None,
    states: list[WorkerState] | None = None,
) -> RoutingTrace:
    """Route ``requests`` in order with the Dynamo classic cost; each request best-responds to the state the
    previous ones left (greedy sequential routing = one pass of best-response dynamics).

    Nothing completes during the stream (a burst): each routed request adds its prompt tokens to the
    worker's prefill queue, ``ceil((tokens + output_tokens) / block_size)`` blocks to its active KV blocks,
    and caches its shared prefix there. ``cost_fn(request, states)`` may replace the Dynamo classic cost.
    """
    m = integer(n_workers, "n_workers", minimum=1, maximum=100_000)
    omega, temperature = nonnegative_scalar(omega, "omega"), nonnegative_scalar(temperature, "temperature")
    block_size = integer(block_size, "block_size", minimum=1, maximum=2**20)
    if cost_fn is not None:
        function(cost_fn, "cost_fn")
    if isinstance(requests, (str, bytes, dict)) or not hasattr(requests, "__iter__"):
        raise InvalidInputError(f"requests must be a sequence of Request, got {requests!r}")
    requests = list(requests)
    for i, req in enumerate(requests):
        instance(req, Request, f"requests[{i}]")
        for name in ("tokens", "output_tokens", "shared_tokens"):
            nonnegative_scalar(getattr(req, name), f"requests[{i}].{name}")
    if states is not None:
        states = sequence_of(states, WorkerState, "states", min_size=0)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(random_seed(rng, "rng"))
    st = [WorkerState() for _ in range(m)] if states is None else [
        WorkerState(s.queued_prefill_tokens, s.active_blocks, dict(s.cached_prefix_tokens)) for s in states
    ]
    if len(st) != m:
        raise InvalidInputError(f"states has {len(st)} workers, n_workers is {m}")
    assignment = np.empty(len(requests), dtype=int)
    seen: list[np.ndarray] = []
    for i, req in enumerate(requests):
        if req.tokens < 0 or req.output_tokens < 0 or req.shared_tokens < 0:
            raise InvalidInputError(f"request {i} has a negative token count: {req!r}")
        if cost_fn is None:
            cached = np.array([s.cached_prefix_tokens.get(req.prefix, 0.0) for s in st])
            pre = prefill_blocks([s.queued_prefill_tokens for s in st], req.tokens, cached, block_size)
            new_blocks = np.ceil((req.tokens + req.output_tokens) / block_size)
            dec = np.array([s.active_blocks for s in st]) + new_blocks
            costs = dynamo_costs(pre, dec, omega)
        else:
            costs = np.asarray(cost_fn(req, st), dtype=float)
        w = select(costs, temperature, gen)
        assignment[i] = w
        seen.append(costs)
        s = st[w]
        s.queued_prefill_tokens += req.tokens
        s.active_blocks += float(np.ceil((req.tokens + req.output_tokens) / block_size))
        share = min(req.shared_tokens, req.tokens)
        s.cached_prefix_tokens[req.prefix] = max(s.cached_prefix_tokens.get(req.prefix, 0.0), float(share))
    return RoutingTrace(assignment, seen, st)
