"""Request-routing policies of serving frameworks, as functions a simulator can call.

- NVIDIA Dynamo KV router (ai-dynamo/dynamo, ``lib/kv-router``):

  * classic form (Dynamo <= ~1.1, the paper's 0.9.0; ``omega`` = ``--kv-overlap-score-weight``, default 1)::

        cost_w = omega * prefill_blocks_w + decode_blocks_w
        prefill_blocks_w = (tokens queued for prefill on w + new request's tokens not cached on w) / block_size
        decode_blocks_w  = active KV blocks on w (+ the new request's)

  * current credit form (``lib/kv-router/src/scheduling/selector/default.rs``, defaults in
    ``scheduling/config.rs``: ``prefill_load_scale`` 1, host 0.75, disk 0.25)::

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

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, section 4.3
   (Game 3: routing as a congestion game with positive externalities; the greedy router as best-response
   dynamics).
.. [2] NVIDIA Dynamo, https://github.com/ai-dynamo/dynamo: ``docs/router/kv_cache_routing.md`` and
   ``docs/design_docs/router_design.md`` (classic cost, ``--kv-overlap-score-weight``, ``--router-temperature``);
   ``lib/kv-router/src/scheduling/selector/default.rs`` (credit cost, min-max normalized softmax, uniformly
   random tie-break at temperature 0) and ``lib/kv-router/src/scheduling/config.rs`` (defaults).
.. [3] SGLang router, https://github.com/sgl-project/sglang (``sgl-router``, cache-aware policy: balance
   thresholds 64 and 1.5, cache threshold 0.3).
.. [4] llm-d inference scheduler, https://github.com/llm-d/llm-d-inference-scheduler (weighted scorers: queue,
   KV-cache utilization, prefix cache).
.. [5] R. W. Rosenthal, "A class of games possessing pure-strategy Nash equilibria", Int. J. Game Theory 2,
   1973 (atomic congestion games; best-response dynamics).
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

    Parameters
    ----------
    queued_prefill_tokens : array_like of float, shape (m,)
        Tokens waiting for prefill on each of the m workers (>= 0).
    request_tokens : float
        The new request's prompt length (tokens, >= 0).
    cached_tokens : array_like of float, shape (m,)
        Tokens of the new prompt already cached on each worker (>= 0); values above ``request_tokens`` are
        clipped to it.
    block_size : int, optional
        KV block size (tokens, > 0); Dynamo's default is 16.

    Returns
    -------
    numpy.ndarray, shape (m,)
        Prefill load per worker, in blocks (fractional).

    Raises
    ------
    InvalidInputError
        Negative or non-finite entries, a non-positive ``block_size``, or per-worker arrays of different
        lengths.
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

    Parameters
    ----------
    prefill_blocks_w : array_like of float, shape (m,)
        Prefill load per worker (blocks, >= 0; see :func:`prefill_blocks`).
    decode_blocks_w : array_like of float, shape (m,)
        Active KV blocks per worker including the new request's (blocks, >= 0).
    omega : float, optional
        Dynamo's ``overlap_score_weight`` (>= 0, default 1.0).

    Returns
    -------
    numpy.ndarray, shape (m,)
        Cost per worker (blocks).

    Raises
    ------
    InvalidInputError
        Empty, negative or non-finite loads, arrays of different lengths, or a negative ``omega``.
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
    0.25 * disk_hits + shared_multiplier * shared_hits`` (hits in blocks).

    Dynamo's ``overlap_score_credit_decay`` (a load-dependent reduction of ``c_dev``) is not modelled: pass the
    decayed credit as ``device_credit`` if you need it.

    Parameters
    ----------
    raw_prefill_blocks_w : array_like of float, shape (m,)
        Prefill load per worker before cache credit (blocks, >= 0).
    decode_blocks_w : array_like of float, shape (m,)
        Decode load per worker (blocks, >= 0).
    device_hits, host_hits, disk_hits : array_like of float, shape (m,)
        Blocks of the prompt cached on each worker's GPU, host memory and disk (>= 0); ``None`` means 0.
    shared_hits : array_like of float, shape (m,), optional
        Blocks found in a shared cache beyond the device (>= 0).
    active_requests : array_like of float, shape (m,), optional
        Requests active on each worker (>= 0).
    prefill_scale : float, optional
        ``prefill_load_scale`` (default 1.0).
    device_credit, host_credit, disk_credit : float, optional
        Credit per cached block on each tier: ``overlap_score_credit`` (default 1.0),
        ``host_cache_hit_weight`` (0.75), ``disk_cache_hit_weight`` (0.25).
    shared_multiplier : float, optional
        ``shared_cache_multiplier`` (default 0.0).
    per_request_weight : float, optional
        ``decode_active_request_weight`` (default 0.0).

    Returns
    -------
    numpy.ndarray, shape (m,)
        Cost per worker (blocks; lower is better).

    Raises
    ------
    InvalidInputError
        Negative or non-finite entries or weights, or a per-worker array whose length differs from
        ``raw_prefill_blocks_w``.
    """
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

    Parameters
    ----------
    costs : array_like of float, shape (m,)
        Cost per worker (finite; lower is better).
    temperature : float
        Router temperature T (>= 0).

    Returns
    -------
    numpy.ndarray, shape (m,)
        Probability of each worker (sums to 1).

    Raises
    ------
    InvalidInputError
        Empty or non-finite costs, or a negative or non-finite temperature.
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
    """Pick a worker index as Dynamo does: argmin with random tie-break at T = 0, softmax sampling at T > 0.

    Parameters
    ----------
    costs : array_like of float, shape (m,)
        Cost per worker (finite).
    temperature : float, optional
        Router temperature T (>= 0, default 0).
    rng : numpy.random.Generator or int or None, optional
        Random source or seed for the draw.

    Returns
    -------
    int
        The chosen worker, in ``range(m)``.

    Raises
    ------
    InvalidInputError
        As :func:`selection_probabilities`.
    """
    p = selection_probabilities(costs, temperature)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    support = np.flatnonzero(p > 0)
    if support.size == 1:
        return int(support[0])
    return int(gen.choice(p.size, p=p))


class BufferedUniforms:
    """Uniform draws in [0, 1) from a numpy Generator, ``block`` per array call (for event loops that draw one
    at a time). Calling the object returns the next draw (a float).

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.
    block : int, optional
        Draws per refill (default 8,192).

    Raises
    ------
    InvalidInputError
        ``rng`` is not a numpy Generator, or ``block`` is not an integer in [1, 10**7].
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

    Raises
    ------
    InvalidInputError
        Empty or non-finite costs (or a non-finite sum), a negative or non-finite temperature, a ``uniform``
        that is not callable or returns a value outside [0, 1).

    References
    ----------
    NVIDIA Dynamo KV router, ``lib/kv-router/src/scheduling/selector/default.rs``: softmax sampling with
    min-max normalized costs.
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
    match rate exceeds ``cache_threshold``, else the smallest cache tree. Ties go to the lowest index.

    Imbalanced means ``max_load - min_load > balance_abs_threshold`` and
    ``max_load > balance_rel_threshold * min_load``.

    Parameters
    ----------
    loads : array_like of float, shape (m,)
        Load per worker (requests in flight, >= 0).
    match_rates : array_like of float, shape (m,)
        Fraction of the prompt matched in each worker's prefix tree (>= 0).
    tree_sizes : array_like of float, shape (m,)
        Size of each worker's cache tree (tokens, >= 0).
    balance_abs_threshold, balance_rel_threshold, cache_threshold : float, optional
        SGLang's defaults 64, 1.5 and 0.3 (>= 0).

    Returns
    -------
    int
        The chosen worker.

    Raises
    ------
    InvalidInputError
        Empty, negative or non-finite entries, arrays of different lengths, or negative thresholds.
    """
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
    prefix-cache 3). Higher is better; each scorer is already oriented so that 1 is best.

    Parameters
    ----------
    queue_score, kv_util_score, prefix_score : array_like of float, shape (m,)
        Scorer values per worker, each in [0, 1].
    weights : sequence of 3 float, optional
        Weights of the queue, KV-utilization and prefix-cache scorers (>= 0; default (2, 2, 3)).

    Returns
    -------
    numpy.ndarray, shape (m,)
        Score per worker (higher is better).

    Raises
    ------
    InvalidInputError
        Scorers of different lengths, entries outside [0, 1], or ``weights`` without exactly 3 non-negative
        entries.
    """
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
    """argmax of :func:`llmd_scores` (lowest index on ties).

    Parameters
    ----------
    queue_score, kv_util_score, prefix_score : array_like of float, shape (m,)
        Scorer values per worker, each in [0, 1].
    weights : sequence of 3 float, optional
        Scorer weights (default (2, 2, 3)).

    Returns
    -------
    int
        The chosen worker.

    Raises
    ------
    InvalidInputError
        As :func:`llmd_scores`.
    """
    return int(np.argmax(llmd_scores(queue_score, kv_util_score, prefix_score, weights)))


# ---- greedy sequential routing = best-response dynamics ----------------------------------------------


@dataclass(frozen=True)
class Request:
    """One request of a routing stream.

    Parameters
    ----------
    tokens : int
        Prompt length (tokens).
    output_tokens : int, optional
        Output length (tokens, default 0).
    prefix : int, optional
        Prefix class: requests of a class share their first ``shared_tokens`` prompt tokens (default 0).
    shared_tokens : int, optional
        Length of the shared prefix (tokens, default 0).
    """

    tokens: int
    output_tokens: int = 0
    prefix: int = 0
    shared_tokens: int = 0


@dataclass
class WorkerState:
    """What the Dynamo router sees of one worker.

    Parameters
    ----------
    queued_prefill_tokens : float, optional
        Tokens waiting for prefill (default 0).
    active_blocks : float, optional
        Active KV blocks (default 0).
    cached_prefix_tokens : dict of int to float, optional
        Per prefix class, the tokens of that prefix cached on the worker (default empty).
    """

    queued_prefill_tokens: float = 0.0
    active_blocks: float = 0.0
    cached_prefix_tokens: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RoutingTrace:
    """Result of :func:`route_stream`.

    Parameters
    ----------
    assignment : numpy.ndarray of int, shape (n,)
        ``assignment[i]`` is the worker of request i.
    costs : list of numpy.ndarray, each shape (m,)
        ``costs[i]`` is the cost vector request i saw (blocks for the Dynamo cost).
    states : list of WorkerState
        The m worker states after the stream.
    """

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
    and caches its shared prefix there.

    Parameters
    ----------
    requests : sequence of Request
        The stream, in arrival order.
    n_workers : int
        Workers m (>= 1).
    omega : float, optional
        Dynamo's ``overlap_score_weight`` (>= 0, default 1).
    temperature : float, optional
        Router temperature (>= 0, default 0: argmin with random tie-break).
    block_size : int, optional
        KV block size (tokens, default 16).
    rng : numpy.random.Generator or int or None, optional
        Random source or seed for tie-breaks and softmax draws.
    cost_fn : callable, optional
        ``cost_fn(request, states) -> costs`` (shape (m,)) replacing the Dynamo classic cost.
    states : list of WorkerState, optional
        Initial worker states (copied; default all idle and empty).

    Returns
    -------
    RoutingTrace
        The assignment, the cost vector each request saw and the final worker states.

    Raises
    ------
    InvalidInputError
        A bad count, weight or seed; ``requests`` that are not Request objects or have negative token counts;
        a non-callable ``cost_fn``; ``states`` whose length is not ``n_workers``.
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
