"""The coupled system of paper section 4.4: P/D split (Game 1) x prefix caching (Game 2) x routing (Game 3).

Model (our canonical form; docs/coupled.md derives every claim below):

- ``workers`` identical workers (a worker = TP GPUs). The Planner splits them into ``n_prefill`` prefill
  and ``workers - n_prefill`` decode workers (Game 1).
- Request classes k (prompt templates) arrive at rate ``rates[k]`` requests/s, each with ``input_tokens``
  of which the first ``prefix_tokens`` are a shared, cacheable prefix, and ``output_tokens`` to decode.
- Each prefill worker w caches the prefixes of at most ``cache_slots`` classes (Game 2). A request of
  class k on w needs ``s[k, w] = prefill_ms(input_tokens - prefix_tokens * cached[k, w]) / 1000`` seconds
  of prefill work.
- A prefill worker is an M/G/1 processor-sharing queue (batched prefill shares the GPU): utilisation
  ``rho_w = sum_k x[k, w] s[k, w]`` and the mean TTFT of a class-k request on w is ``s[k, w] / (1 - rho_w)``
  (insensitive to the service distribution; Kleinrock 1976, section 4.4).
- Game 3 is the routing game's multiclass variant (:class:`~gametheory.games.routing.RoutingGame` with
  ``work = s`` and the curve ``1 / (1 - rho)`` per worker, :mod:`gametheory.games.routing.multiclass`): its
  cost map has a symmetric Jacobian, so for a FIXED cache the equilibrium minimizes the convex potential
  ``sum_w -log(1 - rho_w)`` and the routing optimum ``sum_w rho_w / (1 - rho_w)``.
- Game 2 is the caching game (:class:`~gametheory.games.caching.CachingGame`) of one prefill worker: its
  blocks are the classes, its demand the flows it receives, a block's recompute cost the prefill time its
  prefix saves, ``cache_slots`` slots; its exact best response
  (:func:`~gametheory.games.caching.solvers.best_response`) keeps the classes that save it the most busy
  time. Holding a block has a vanishing cost (1e-15 of a request's saving), so a class a worker does not
  receive is not held. As in best-response dynamics, a worker changes its cache only on a strict
  improvement. The cache depends on which classes a worker receives and the routing cost on the cache:
  the positive externality of Proposition 3, and the reason the coupled equilibrium is path-dependent.
- Decode workers share the decode traffic evenly (Dynamo's decode-side router ignores overlap). Their ITL
  is the Little's-law fixed point of :func:`~gametheory.games.resource.decode_pool.little_decode_itl_ms`
  at the context ``input_tokens + output_tokens / 2``; no fixed point within ``max_decode_batch`` means the
  decode pool is saturated (infinite cost).
- Social cost per request (ms): mean TTFT + ``output_tokens`` * ITL. Game 1 is played by Dynamo's Planner
  (:func:`~gametheory.games.dynamics.planner_step`): it weighs each pool's own metric only (TTFT for P, ITL
  for D, equal shadow prices), so its equilibrium minimizes TTFT + ITL, the optimum TTFT + output_tokens * ITL.

:class:`CoupledSystem` answers the games' protocol: :meth:`~CoupledSystem.equilibrium` (best-response
dynamics of the three games), :meth:`~CoupledSystem.optimum` (exact: every split and cache placement up to
worker symmetry, the convex routing optimum for each), :meth:`~CoupledSystem.price_of_anarchy`; plus the
PoA of each game alone (:meth:`~CoupledSystem.poa_by_game`) and the Planner as a
:class:`~gametheory.games.dynamics.PlannerModel` (:meth:`~CoupledSystem.planner_model`).

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 4.4.
.. [2] L. Kleinrock, *Queueing Systems*, vol. 2, Wiley 1976, section 4.4 (processor sharing).
.. [3] J. D. C. Little, "A proof for the queuing formula L = lambda W", Operations Research 9, 1961.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import networkx as nx
import numpy as np

from gametheory._validate import (
    choice,
    function,
    instance,
    integer,
    integer_array,
    nonnegative_array,
    nonnegative_scalar,
    positive_scalar,
)
from gametheory.certificates import Certificate
from gametheory.display import Readable
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.games.caching.game import CachingGame, make_game
from gametheory.games.caching.solvers import best_response
from gametheory.games.dynamics import orbit, planner_step
from gametheory.games.resource.decode_pool import decode_capacity_rps, little_decode_itl_ms
from gametheory.games.routing.game import MULTICLASS_TOL, RoutingGame
from gametheory.latency import MM1
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, SHARED_PREFIX_TOKENS
from gametheory.results import Result

__all__ = ["PLANNER_RTOL", "CoupledPlannerModel", "CoupledSystem", "PoABreakdown", "SplitDecomposition", "resize"]

#: relative improvement of TTFT + ITL below which the Planner stays (the routing is certified to 1e-6, its
#: mean TTFT to far better; 1e-9 separates real moves from rounding)
PLANNER_RTOL = 1e-9
#: cost of holding one block relative to one request's saving: vanishing, it only breaks the tie of holding a
#: prefix nobody sends (see the module docstring)
HOLD_COST = 1e-15


#: most workers and request classes a coupled system takes (cache placements are enumerated)
MAX_WORKERS = 1_000
MAX_CLASSES = 64

@dataclass(frozen=True)
class CoupledSystem:
    """One serving configuration on which the three games are played together.

    Parameters
    ----------
    workers : int
        Identical workers (>= 2: one prefill, one decode).
    rates : sequence of float
        Arrival rate of each request class (requests/s).
    prefill_ms : callable
        Tokens -> prefill time (ms) of one request with that many uncached tokens.
    decode_step_ms : callable
        (batch, context) -> decode step latency (ms).
    input_tokens, prefix_tokens, output_tokens : int
        Tokens per request: input, its shared prefix, output (defaults: :mod:`gametheory.paper_setup`).
    cache_slots : int
        Prefixes a prefill worker can hold.
    max_decode_batch : int
        Sequences a decode worker can hold.

    Raises
    ------
    InvalidInputError
        Fewer than 2 workers, negative rates or no traffic, a prefix longer than the input, bad token counts
        or cache slots.

    References
    ----------
    .. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026.
    """

    workers: int
    rates: tuple[float, ...]
    prefill_ms: Callable[[float], float]
    decode_step_ms: Callable[[float, float], float]
    input_tokens: int = INPUT_TOKENS
    prefix_tokens: int = SHARED_PREFIX_TOKENS
    output_tokens: int = OUTPUT_TOKENS
    cache_slots: int = 1
    max_decode_batch: int = 512

    def __post_init__(self):
        object.__setattr__(self, "workers", integer(self.workers, "workers (one prefill and one decode at least)",
                                                    minimum=2, maximum=MAX_WORKERS))
        rates = nonnegative_array(self.rates, "rates", ndim=1, min_size=1)
        if rates.size > MAX_CLASSES:
            raise InvalidInputError(f"rates: at most {MAX_CLASSES} request classes, got {rates.size}")
        if rates.sum() <= 0:
            raise InvalidInputError(f"rates must have a positive total, got {list(rates)}")
        object.__setattr__(self, "rates", tuple(float(r) for r in rates))
        function(self.prefill_ms, "prefill_ms")
        function(self.decode_step_ms, "decode_step_ms")
        for name in ("input_tokens", "output_tokens", "max_decode_batch"):
            object.__setattr__(self, name, positive_scalar(getattr(self, name), name))
        prefix = nonnegative_scalar(self.prefix_tokens, "prefix_tokens")
        if not prefix <= self.input_tokens:
            raise InvalidInputError(
                f"prefix_tokens must be in [0, input_tokens={self.input_tokens}], got {self.prefix_tokens!r}"
            )
        object.__setattr__(self, "prefix_tokens", prefix)
        object.__setattr__(self, "cache_slots", integer(self.cache_slots, "cache_slots", minimum=0))

    @classmethod
    def from_profile(cls, profile, workers: int, rates: Sequence[float], prefill_batch: int = 4,
                     **kwargs) -> CoupledSystem:
        """A system on a measured profile (:func:`gametheory.serving.profiles.load_profile`).

        Parameters
        ----------
        profile : Profile
            A measured profile (``prefill_ms``, ``decode_step_ms``, ``max_decode_batch``, ``decode_batch``).
        workers : int
            Workers of the profile's TP size.
        rates : sequence of float
            Per-class rates (requests/s).
        prefill_batch : int
            Prefill work per request of ``t`` uncached tokens is the batched pass amortized over
            ``prefill_batch`` requests, ``prefill_ms(prefill_batch * t) / prefill_batch`` (the affine fit's
            fixed cost is shared by the batch).
        **kwargs
            Other fields of the system. ``max_decode_batch`` defaults to the worker's KV budget at the full
            context, capped at the largest measured batch (the fit is not extrapolated).

        Returns
        -------
        CoupledSystem

        Raises
        ------
        InvalidInputError
            When an argument is malformed; the message names it and its value.
        """
        missing = [a for a in ("prefill_ms", "decode_step_ms", "max_decode_batch") if not callable(getattr(profile, a,
                                                                                                         None))]
        if missing or not hasattr(profile, "decode_batch"):
            raise InvalidInputError(f"profile must be a measured profile (gametheory.serving.profiles.load_profile); "
                                    f"{type(profile).__name__} lacks {missing or ['decode_batch']}")
        positive_scalar(prefill_batch, "prefill_batch")
        input_tokens = kwargs.get("input_tokens", INPUT_TOKENS)
        output_tokens = kwargs.get("output_tokens", OUTPUT_TOKENS)
        kv_limit = profile.max_decode_batch(input_tokens + output_tokens)
        kwargs.setdefault("max_decode_batch", min(kv_limit, int(np.max(profile.decode_batch))))
        return cls(workers=workers, rates=tuple(rates),
                   prefill_ms=lambda t: float(profile.prefill_ms(prefill_batch * t)) / prefill_batch,
                   decode_step_ms=profile.decode_step_ms, **kwargs)

    # ---- the model's quantities ---------------------------------------------------------------------------
    @property
    def classes(self) -> int:
        """Request classes."""
        return len(self.rates)

    @property
    def total_rate(self) -> float:
        """Total arrival rate (requests/s)."""
        return float(sum(self.rates))

    @cached_property
    def service_s(self) -> tuple[float, float]:
        """(uncached, cached) prefill work per request in seconds."""
        full = float(self.prefill_ms(self.input_tokens)) / 1000.0
        hit = float(self.prefill_ms(self.input_tokens - self.prefix_tokens)) / 1000.0
        if not (math.isfinite(full) and math.isfinite(hit)) or full <= 0 or hit <= 0 or hit > full:
            raise InvalidInputError(
                f"prefill_ms must be positive and nondecreasing: {hit * 1e3:.4g} ms at "
                f"{self.input_tokens - self.prefix_tokens} tokens, {full * 1e3:.4g} ms at {self.input_tokens}"
            )
        return full, hit

    def _cache(self, cache, n_prefill: int | None = None) -> np.ndarray:
        """A (classes, prefill workers) matrix of True/False (or 0/1), checked."""
        arr = _matrix_or_none(cache)
        if arr is None or arr.dtype.kind not in "biuf" or arr.ndim != 2 or not np.isin(arr, (0, 1)).all():
            raise InvalidInputError(f"cache must be a (classes, prefill workers) matrix of True/False, got {cache!r}")
        n = arr.shape[1] if n_prefill is None else n_prefill
        if arr.shape != (self.classes, n) or not 1 <= n <= self.workers - 1:
            raise InvalidInputError(f"cache must have shape ({self.classes}, {n}) with 1..{self.workers - 1} prefill "
                                    f"workers, got {arr.shape}")
        return arr.astype(bool)

    def work(self, cache) -> np.ndarray:
        """Prefill work s[k, w] (seconds) of a class-k request on worker w under a 0/1 cache matrix.

        Parameters
        ----------
        cache : array_like
            (classes, prefill workers) booleans.

        Returns
        -------
        numpy.ndarray
        """
        full, hit = self.service_s
        return np.where(self._cache(cache), hit, full)

    def scaled(self, factor: float) -> CoupledSystem:
        """The same system with every rate multiplied by ``factor``.

        Parameters
        ----------
        factor : float

        Returns
        -------
        CoupledSystem
        """
        factor = nonnegative_scalar(factor, "factor")
        return replace(self, rates=tuple(r * factor for r in self.rates))

    def social_cost_ms(self, ttft_ms: float, itl_ms: float) -> float:
        """Social cost per request: TTFT + output_tokens * ITL (ms).

        Parameters
        ----------
        ttft_ms, itl_ms : float

        Returns
        -------
        float
        """
        return _nonnegative_or_inf(ttft_ms, "ttft_ms") + self.output_tokens * _nonnegative_or_inf(
            itl_ms, "itl_ms")

    # ---- Game 3: routing at a fixed cache -----------------------------------------------------------------
    def routing_game(self, cache) -> RoutingGame:
        """Game 3 at a fixed cache: the multiclass routing game with ``work = s`` and ``1 / (1 - rho)``.

        Parameters
        ----------
        cache : array_like
            (classes, prefill workers) booleans.

        Returns
        -------
        RoutingGame
        """
        cache = self._cache(cache)
        return RoutingGame([MM1(1.0)] * cache.shape[1], self.rates, work=self.work(cache))

    def route(self, cache, kind: str = "equilibrium", method: str = "projection") -> Result:
        """Selfish (``"equilibrium"``) or optimal (``"optimum"``) routing under a fixed cache placement.

        Parameters
        ----------
        cache : array_like
            (classes, prefill workers) booleans.
        kind : {"equilibrium", "optimum"}
        method : {"projection", "cvxpy"}
            Passed to :meth:`RoutingGame.equilibrium` / :meth:`RoutingGame.optimum`.

        Returns
        -------
        Result
            ``flows`` (prefill workers, classes) in requests/s, ``cost`` = sum_w rho_w / (1 - rho_w); extra
            ``mean_ttft_ms``.

        Raises
        ------
        InvalidInputError
            An unknown kind.
        CapacityExceededError
            When the prefill pool cannot carry the load under this cache.
        """
        kind = choice(kind, "kind", ("equilibrium", "optimum"))
        game = self.routing_game(cache)
        res = game.equilibrium(method) if kind == "equilibrium" else game.optimum(method)
        res.mean_ttft_ms = 1000.0 * res.cost / self.total_rate
        return res

    # ---- Game 2: the cache of one prefill worker ----------------------------------------------------------
    @cached_property
    def _worker_cache_game(self) -> CachingGame:
        """Game 2 of one prefill worker (demand filled in per call): blocks = classes, one tier of
        ``cache_slots`` slots, recompute = the prefill seconds a cached prefix saves."""
        full, hit = self.service_s
        return make_game(nx.empty_graph(1), demand=np.zeros((1, self.classes)), recompute_ms=full - hit,
                         capacity=[self.cache_slots], access_ms=[0.0], hold_cost=[HOLD_COST * (full - hit)],
                         shared=[False], tier_names=("prefix cache",))

    def cache_best_response(self, flows, current=None) -> np.ndarray:
        """Each prefill worker's best response in Game 2 to the flows it receives.

        Parameters
        ----------
        flows : array_like
            (classes, prefill workers) requests/s.
        current : array_like, optional
            (classes, prefill workers) the caches held now (default: empty); a worker keeps its cache unless
            the best response saves strictly more.

        Returns
        -------
        numpy.ndarray
            (classes, prefill workers) booleans.

        References
        ----------
        .. [1] B.-G. Chun et al., "Selfish caching in distributed systems: a game-theoretic analysis", PODC 2004.

        Raises
        ------
        InvalidInputError
            When an argument is malformed; the message names it and its value.
        """
        flows = nonnegative_array(flows, "flows", ndim=2)
        k, n = flows.shape
        if k != self.classes or not 1 <= n <= self.workers - 1:
            raise InvalidInputError(f"flows must be (classes, prefill workers) = ({self.classes}, "
                                    f"1..{self.workers - 1}), got {flows.shape}")
        current = np.zeros((k, n), bool) if current is None else self._cache(current, n)
        cache = np.zeros((k, n), dtype=bool)
        template = self._worker_cache_game
        for w in range(n):
            game = replace(template, demand=flows[:, w][None, :])
            held = np.where(current[:, w], 0, -1)[None, :]
            row, cost = best_response(game, held, 0)
            now = float(game.player_costs(held)[0])
            keep = now <= cost + 1e-12 * max(1.0, now)
            cache[:, w] = current[:, w] if keep else row >= 0
        return cache

    # ---- Game 1's pools -----------------------------------------------------------------------------------
    def decode_itl_ms(self, n_decode: int) -> float:
        """Inter-token latency (ms) of ``n_decode`` evenly loaded decode workers; ``inf`` when saturated.

        Parameters
        ----------
        n_decode : int

        Returns
        -------
        float
        """
        return _decode_itl_ms(self, integer(n_decode, "n_decode", minimum=0, maximum=self.workers))

    def decode_capacity_rps(self, n_decode: int) -> float:
        """Largest total rate (requests/s) ``n_decode`` evenly loaded decode workers carry
        (:func:`~gametheory.games.resource.decode_pool.decode_capacity_rps`).

        Parameters
        ----------
        n_decode : int

        Returns
        -------
        float
        """
        n_decode = integer(n_decode, "n_decode", minimum=0, maximum=self.workers)
        if n_decode < 1:
            return 0.0
        context = self.input_tokens + self.output_tokens / 2
        per_worker = decode_capacity_rps(lambda b: self.decode_step_ms(b, context), self.output_tokens,
                                         self.max_decode_batch)
        return n_decode * per_worker

    def prefill_capacity_rps(self, n_prefill: int) -> float:
        """Upper bound on the total rate (requests/s, at the system's class mix) ``n_prefill`` prefill workers
        carry: the pool's busy time per second, sum_w rho_w, must stay below ``n_prefill``; it is at least the
        work of serving every class uncached minus the saving of caching the ``n_prefill * cache_slots``
        busiest classes once each (no placement saves more), and it scales linearly with the rates.

        Parameters
        ----------
        n_prefill : int

        Returns
        -------
        float
        """
        n_prefill = integer(n_prefill, "n_prefill", minimum=1, maximum=self.workers)
        full, hit = self.service_s
        rates = np.sort(np.asarray(self.rates))[::-1]
        cached = min(n_prefill * self.cache_slots, rates.size)
        least_work = full * rates.sum() - (full - hit) * rates[:cached].sum()
        return n_prefill * self.total_rate / least_work

    def capacity(self) -> tuple[float, int]:
        """The largest total rate (requests/s, at this class mix) some split carries, and that split: the
        max over splits of min(:meth:`prefill_capacity_rps`, :meth:`decode_capacity_rps`).

        Returns
        -------
        rate : float
        n_prefill : int
        """
        carry = {n: min(self.prefill_capacity_rps(n), self.decode_capacity_rps(self.workers - n))
                 for n in range(1, self.workers)}
        best = max(carry, key=carry.get)
        return carry[best], best

    def _check_some_split_carries(self) -> None:
        """Raise CapacityExceededError when no P/D split can carry the total rate."""
        carry = {}
        for n in range(1, self.workers):
            pre, dec = self.prefill_capacity_rps(n), self.decode_capacity_rps(self.workers - n)
            if self.total_rate < pre and math.isfinite(self.decode_itl_ms(self.workers - n)):
                return
            carry[n] = (min(pre, dec), pre, dec)
        best = max(carry, key=lambda n: carry[n][0])
        cap, pre, dec = carry[best]
        raise CapacityExceededError(
            self.total_rate, cap, "coupled system",
            f"coupled system: total rate {self.total_rate:.6g} req/s saturates every P/D split of "
            f"{self.workers} workers; the largest capacity is {cap:.6g} req/s at {best}P/{self.workers - best}D "
            f"(prefill <= {pre:.6g} req/s with the busiest prefixes cached, decode {dec:.6g} req/s)",
        )

    # ---- Games 3 and 2 at a fixed split -------------------------------------------------------------------
    def settle(self, n_prefill: int, cache, max_rounds: int = 200):
        """Routing and caching best responses at a fixed split until the cache is a best response to the
        routing it induces (:func:`~gametheory.games.dynamics.orbit` on the cache).

        Parameters
        ----------
        n_prefill : int
        cache : array_like
            (classes, n_prefill) the caches at the start.
        max_rounds : int

        Returns
        -------
        ttft_ms, itl_ms : float
            Mean TTFT and the decode ITL (``inf`` where a pool cannot carry the load).
        routing : Result or None
            The Wardrop routing at the settled cache (None when the prefill pool is saturated).
        cache : numpy.ndarray
            The settled cache.
        cycle : tuple
            The caches of a routing/caching cycle (empty at a fixed point).
        """
        routings: dict = {}

        def step(c):
            key = c.tobytes()
            try:
                if key not in routings:
                    routings[key] = self.route(c, "equilibrium")
                flows = routings[key].flows.T
            except CapacityExceededError:
                # the pool cannot carry the load with these caches: the caches still see the offered traffic
                # (split evenly while the queues grow); if that changes nothing, the split is saturated
                routings[key] = None
                flows = np.repeat(np.asarray(self.rates)[:, None] / n_prefill, n_prefill, axis=1)
            return self.cache_best_response(flows, c)

        try:
            path = orbit(step, np.asarray(cache, bool), key=lambda c: c.tobytes(), max_steps=max_rounds)
        except ConvergenceError:
            return math.inf, math.inf, None, np.asarray(cache, bool), ()
        final = path.final
        itl = self.decode_itl_ms(self.workers - n_prefill)
        routing = routings.get(final.tobytes())
        if not path.converged:
            return math.inf, itl, routing, final, path.cycle
        if routing is None:
            return math.inf, itl, None, final, ()
        return routing.mean_ttft_ms, itl, routing, final, ()

    # ---- the coupled equilibrium --------------------------------------------------------------------------
    def equilibrium(self, method: str = "best_response", *, n_prefill: int = 1, cache=None, gain: int = 1,
                    max_rounds: int = 200) -> Result:
        """The coupled equilibrium reached by best-response dynamics of the three games.

        Inner loop (Games 3 and 2 at a fixed split, :meth:`settle`): Wardrop routing for the current cache,
        then each worker's cache best response, until the cache is a best response to the routing it induces.
        Outer loop (Game 1): the Planner's step (:func:`~gametheory.games.dynamics.planner_step` on
        TTFT + ITL, a new prefill worker cold), ``gain`` workers per move. A repeated state (split, caches)
        is a cycle.

        Parameters
        ----------
        method : {"best_response"}
            The only method.
        n_prefill : int
            The start split.
        cache : array_like, optional
            (classes, n_prefill) the start caches (default: cold).
        gain : int
            Workers per Planner move (> 1 overshoots and can cycle).
        max_rounds : int
            Planner steps (and inner rounds) before giving up.

        Returns
        -------
        Result
            ``n_prefill`` (= ``x``); cost = TTFT + output_tokens * ITL (ms per request); extras ``cache``,
            ``routing`` (the Wardrop routing Result), ``ttft_ms``, ``itl_ms``, ``trajectory`` (the states
            visited) and ``certificates``: the routing's relative Wardrop gap, the cache best-response gap
            (busy time a worker could still save, relative to its busy time) and the Planner's gain (the
            best +-1 move's relative improvement of TTFT + ITL), each checked. The result's certificate is
            the largest of the three (relative), at :data:`~gametheory.games.routing.game.MULTICLASS_TOL`.

        Raises
        ------
        InvalidInputError
            An unknown method, a bad start split, cache or gain.
        CapacityExceededError
            When no split carries the load.
        ConvergenceError
            When the dynamics cycle (the message lists the states) or stop at a split where a pool is
            saturated and no Planner step reaches a finite cost.

        References
        ----------
        .. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, §4.4.
        """
        choice(method, "method", ("best_response",))
        k = self.classes
        n_prefill = integer(n_prefill, "n_prefill", minimum=1, maximum=self.workers - 1)
        gain = integer(gain, "gain (workers per Planner step)", minimum=1, maximum=self.workers)
        cache = np.zeros((k, n_prefill), bool) if cache is None else self._cache(cache, n_prefill)
        if cache.shape != (k, n_prefill):
            raise InvalidInputError(f"cache must have shape ({k}, {n_prefill}), got {cache.shape}")
        if (cache.sum(axis=0) > self.cache_slots).any():
            w = int(np.argmax(cache.sum(axis=0) > self.cache_slots))
            raise InvalidInputError(f"cache: prefill worker {w} holds {int(cache[:, w].sum())} classes, more than "
                                    f"cache_slots = {self.cache_slots}")
        pool = functools.lru_cache(maxsize=None)(lambda n, c: self.settle(n, np.frombuffer(c, bool).reshape(k, n),
                                                                          max_rounds))

        def value(n, c):
            ttft, itl, *_ = pool(n, resize(c, n).tobytes())
            return ttft + itl

        def step(state):
            n, c = state
            ttft, itl, _, settled, cycle = pool(n, c.tobytes())
            if cycle:
                raise ConvergenceError(f"routing/caching dynamics cycle at {n}P through {len(cycle)} cache states")
            move = planner_step(lambda m: value(m, settled), n, 1, self.workers - 1,
                                saturated=_saturated(ttft, itl), rtol=PLANNER_RTOL)
            n_next = int(np.clip(n + int(gain) * move, 1, self.workers - 1))
            return n_next, resize(settled, n_next)

        def key(state):
            n, c = state
            return n, _settled_key(pool(n, c.tobytes())[3])

        path = orbit(step, (int(n_prefill), cache), key=key, max_steps=max_rounds)
        trajectory = tuple(key(s) for s in path.states)
        if not path.converged:
            if all(not math.isfinite(sum(pool(n, c.tobytes())[:2])) for n, c in path.cycle):
                self._check_some_split_carries()  # raises when no split carries the load
                raise ConvergenceError(f"the dynamics move between saturated splits {[s[0] for s in path.cycle]}P "
                                       "and never reach one that carries the load")
            raise ConvergenceError(f"coupled dynamics cycle through {len(path.cycle)} states: "
                                   f"{[s[0] for s in path.cycle]} prefill workers")
        n, c = path.final
        ttft, itl, routing, settled, _ = pool(n, c.tobytes())
        if not math.isfinite(ttft + itl):
            self._check_some_split_carries()
            raise ConvergenceError(f"the dynamics stop at {n}P/{self.workers - n}D, where a pool is saturated, and no"
                                   " +-1 Planner step reaches a finite cost")
        full, hit = self.service_s
        flows = routing.flows.T
        best = self.cache_best_response(flows, settled)
        busy = (flows * self.work(settled)).sum(axis=0)
        saved = (flows * (best.astype(float) - settled)).sum(axis=0) * (full - hit)
        cache_gap = float(max(np.max(np.where(busy > 0, saved / np.where(busy > 0, busy, 1.0), 0.0)), 0.0))
        gains = [ttft + itl - value(m, settled) for m in (n - 1, n + 1) if 1 <= m <= self.workers - 1]
        planner_gain = max(max(gains, default=0.0), 0.0) / (ttft + itl)
        certs = (routing.certificate,
                 Certificate("cache_best_response_gap", cache_gap, 1e-12).check("coupled equilibrium cache"),
                 Certificate("planner_relative_gain", planner_gain, PLANNER_RTOL).check("coupled equilibrium planner"))
        worst = Certificate("max_relative_gap", max(c.value for c in certs), MULTICLASS_TOL)
        return Result("equilibrium", n, self.social_cost_ms(ttft, itl), worst, message=f"best-response dynamics of "
                      f"the three games from {n_prefill}P, {len(trajectory)} Planner states", nit=len(trajectory),
                      method=method, x_name="n_prefill", cache=settled, routing=routing, ttft_ms=ttft, itl_ms=itl,
                      trajectory=trajectory, certificates=certs)

    # ---- the joint optimum --------------------------------------------------------------------------------
    def cache_placements(self, n_prefill: int):
        """Every cache placement up to symmetry: a permutation of the (identical) prefill workers, and a
        relabelling of classes with equal rates (which leaves every cost unchanged).

        A worker holds a set of at most ``cache_slots`` classes; holding fewer is never better (a cached
        prefix only lowers work), so sets of exactly ``min(cache_slots, K)`` classes are enumerated.

        Parameters
        ----------
        n_prefill : int

        Yields
        ------
        numpy.ndarray
            (classes, n_prefill) booleans.
        """
        k = self.classes
        size = min(self.cache_slots, k)
        subsets = list(itertools.combinations(range(k), size))
        groups: dict[float, list[int]] = {}
        for c, r in enumerate(self.rates):
            groups.setdefault(r, []).append(c)
        relabels = [
            dict(zip(itertools.chain(*groups.values()), itertools.chain(*perm), strict=True))
            for perm in itertools.product(*(itertools.permutations(g) for g in groups.values()))
        ]
        index = {st: i for i, st in enumerate(subsets)}
        images = [[index[tuple(sorted(m[c] for c in st))] for st in subsets] for m in relabels]
        seen = set()
        for combo in itertools.combinations_with_replacement(range(len(subsets)), n_prefill):
            key = min(tuple(sorted(image[s] for s in combo)) for image in images)
            if key in seen:
                continue
            seen.add(key)
            cache = np.zeros((k, n_prefill), bool)
            for w, s in enumerate(combo):
                cache[list(subsets[s]), w] = True
            yield cache

    def split_optima(self) -> dict[int, Result | None]:
        """For every split, the cache placement and routing of least mean TTFT (exact enumeration; each
        routing is the convex optimum, certified by its KKT residual).

        Returns
        -------
        dict
            Prefill workers -> Result (``x`` = the split, cost = TTFT + output_tokens * ITL, extras ``cache``,
            ``routing``, ``ttft_ms``, ``itl_ms``, ``evaluated``), or None where no placement carries the load
            or the decode pool is saturated.
        """
        return _split_optima(self)

    def optimum(self, method: str = "enumeration") -> Result:
        """The system optimum: TTFT + output_tokens * ITL minimized over the split, the cache placement and the
        routing jointly.

        Parameters
        ----------
        method : {"enumeration"}
            Exact: every split, every cache placement up to symmetry (:meth:`cache_placements`), the convex
            routing optimum for each.

        Returns
        -------
        Result
            ``n_prefill`` (= ``x``); extras ``cache``, ``routing``, ``ttft_ms``, ``itl_ms``, ``evaluated``.
            Certificate ``kkt_residual``: the largest KKT residual of the routing optima the enumeration
            compared (each certified), so the minimum over a complete enumeration is the optimum.

        Raises
        ------
        InvalidInputError
            An unknown method.
        CapacityExceededError
            When no split carries the load.
        """
        choice(method, "method", ("enumeration",))
        optima = self.split_optima()
        feasible = [o for o in optima.values() if o is not None]
        if not feasible:
            self._check_some_split_carries()
            raise CapacityExceededError(self.total_rate, math.nan, message=f"coupled system: no cache placement "
                                        f"lets any split carry {self.total_rate:.6g} req/s")
        best = min(feasible, key=lambda o: o.cost)
        residual = max(o.routing.certificate.value for o in feasible)
        evaluated = sum(o.evaluated for o in feasible)
        return Result("optimum", best.x, best.cost, Certificate("kkt_residual", residual, MULTICLASS_TOL),
                      status="exact", message=f"enumeration of {evaluated} (split, cache) pairs, convex routing "
                      "optimum for each", nit=evaluated, method=method, x_name="n_prefill", cache=best.cache,
                      routing=best.routing, ttft_ms=best.ttft_ms, itl_ms=best.itl_ms, evaluated=evaluated)

    # ---- Price of Anarchy ---------------------------------------------------------------------------------
    def equilibria(self, starts: Sequence[int] | None = None) -> tuple[Result, ...]:
        """The coupled equilibria reached from several start splits with cold caches.

        When no cold start reaches an equilibrium (every one herds into a saturated split), the dynamics also
        start from the optimum's split and caches: a feasible state's best responses stay feasible, so an
        equilibrium with finite cost is reached whenever some split carries the load.

        Parameters
        ----------
        starts : sequence of int, optional
            Start splits (default: every split).

        Returns
        -------
        tuple of Result

        Raises
        ------
        CapacityExceededError
            When no split carries the load.
        """
        starts = range(1, self.workers) if starts is None else _starts(starts, self.workers)
        found = []
        for n in starts:
            try:
                found.append(self.equilibrium(n_prefill=n))
            except ConvergenceError:
                continue
        if not found:
            opt = self.optimum()
            found.append(self.equilibrium(n_prefill=opt.n_prefill, cache=opt.cache))
        return tuple(found)

    def price_of_anarchy(self, starts: Sequence[int] | None = None) -> float:
        """Social cost of the worst coupled equilibrium found (:meth:`equilibria`) / the joint optimum.

        Parameters
        ----------
        starts : sequence of int, optional
            Start splits of the dynamics (default: every split).

        Returns
        -------
        float

        Raises
        ------
        CapacityExceededError
            When no split carries the load.

        References
        ----------
        .. [1] E. Koutsoupias, C. Papadimitriou, "Worst-case equilibria", STACS 1999.
        """
        return self.poa_by_game(starts).system

    def poa_by_game(self, starts: Sequence[int] | None = None) -> PoABreakdown:
        """PoA of the whole system and of each game alone, the other two held at the joint optimum.

        - Game 1 alone: the Planner's split minimizes TTFT + ITL (equal shadow prices), with the best caches
          and routing at every split;
        - Game 2 alone: each worker's cache best-responds to the optimal routing (split and routing optimal);
        - Game 3 alone: Wardrop routing under the optimal split and caches.

        Parameters
        ----------
        starts : sequence of int, optional
            Start splits of the coupled dynamics (default: every split).

        Returns
        -------
        PoABreakdown

        Raises
        ------
        CapacityExceededError
            When no split carries the load.
        """
        optima = self.split_optima()
        opt = self.optimum()
        eqs = self.equilibria(starts)
        costs = [e.cost for e in eqs]
        g3 = self.route(opt.cache, "equilibrium")
        game3 = self.social_cost_ms(g3.mean_ttft_ms, opt.itl_ms) / opt.cost
        flows = opt.routing.flows.T
        cache2 = self.cache_best_response(flows, opt.cache)
        work = self.work(cache2)
        rho = (work * flows).sum(axis=0)
        ttft2 = 1000.0 * float((flows * work / (1.0 - rho)).sum()) / self.total_rate if (rho < 1).all() else math.inf
        game2 = self.social_cost_ms(ttft2, opt.itl_ms) / opt.cost
        feasible = {n: o for n, o in optima.items() if o is not None}
        n1 = min(feasible, key=lambda n: feasible[n].ttft_ms + feasible[n].itl_ms)
        game1 = feasible[n1].cost / opt.cost
        return PoABreakdown(opt, eqs, max(costs) / opt.cost, min(costs) / opt.cost, game1, game2, game3)

    def decompose_fixed_split(self, n_prefill: int) -> SplitDecomposition:
        """PoA of a fixed layout (e.g. the paper's 1P/5D) split into a Game 1 and a Games 2+3 factor.

        Parameters
        ----------
        n_prefill : int

        Returns
        -------
        SplitDecomposition

        Raises
        ------
        InvalidInputError
            A split outside [1, workers - 1].
        """
        n_prefill = integer(n_prefill, "n_prefill", minimum=1, maximum=self.workers - 1)
        optima = self.split_optima()
        ttft, itl, *_ = self.settle(n_prefill, np.zeros((self.classes, n_prefill), bool))
        at_split = optima[n_prefill]
        return SplitDecomposition(n_prefill, self.social_cost_ms(ttft, itl),
                                  at_split.cost if at_split is not None else math.inf, self.optimum().cost)

    # ---- the Planner --------------------------------------------------------------------------------------
    def planner_model(self, max_rounds: int = 50) -> CoupledPlannerModel:
        """The system as a Planner model for :func:`~gametheory.games.dynamics.planner_dynamics` and
        :func:`~gametheory.games.dynamics.planner_orbit` (loads multiply the rates).

        Parameters
        ----------
        max_rounds : int
            Rounds of the routing/caching loop per interval.

        Returns
        -------
        CoupledPlannerModel
        """
        return CoupledPlannerModel(self, max_rounds)


def resize(cache: np.ndarray, n_prefill: int) -> np.ndarray:
    """Cache matrix after the Planner adds (cold, empty cache) or removes (the last) prefill workers.

    Parameters
    ----------
    cache : numpy.ndarray
        (classes, prefill workers) booleans.
    n_prefill : int

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    cache = _matrix_or_none(cache)
    if cache is None or cache.ndim != 2 or cache.dtype.kind not in "biuf" or not np.isin(cache, (0, 1)).all():
        raise InvalidInputError("cache must be a (classes, prefill workers) matrix of True/False")
    cache = cache.astype(bool)
    n_prefill = integer(n_prefill, "n_prefill", minimum=1, maximum=MAX_WORKERS)
    k, n = cache.shape
    if n_prefill <= n:
        return cache[:, :n_prefill].copy()
    return np.hstack([cache, np.zeros((k, n_prefill - n), bool)])


def _matrix_or_none(values):
    """``values`` as a numpy array, or None for strings and ragged nesting (the caller names the error)."""
    if isinstance(values, (str, bytes)):
        return None
    try:
        return np.asarray(values)
    except (ValueError, TypeError):
        return None


def _starts(starts, workers: int) -> list[int]:
    """Start splits: integers in 1..workers-1."""
    if isinstance(starts, (str, bytes, dict)) or not hasattr(starts, "__iter__"):
        raise InvalidInputError(f"starts must be a sequence of prefill-worker counts, got {starts!r}")
    values = list(starts)
    return integer_array(values, "starts", ndim=1, minimum=1, maximum=workers - 1).tolist() if values else []


def _nonnegative_or_inf(value, name: str) -> float:
    """A number >= 0, or +inf (a saturated pool's latency)."""
    if isinstance(value, (float, np.floating)) and value == math.inf:
        return math.inf
    return nonnegative_scalar(value, name)


def _settled_key(cache: np.ndarray) -> tuple:
    return tuple(map(tuple, np.asarray(cache, bool).T.astype(int)))


def _saturated(ttft: float, itl: float) -> str | None:
    bad_p, bad_d = not math.isfinite(ttft), not math.isfinite(itl)
    return "both" if bad_p and bad_d else "prefill" if bad_p else "decode" if bad_d else None


@functools.lru_cache(maxsize=4096)
def _decode_itl_ms(system: CoupledSystem, n_decode: int) -> float:
    if n_decode < 1:
        return math.inf
    context = system.input_tokens + system.output_tokens / 2
    return little_decode_itl_ms(lambda b: system.decode_step_ms(b, context), system.total_rate / n_decode,
                                system.output_tokens, system.max_decode_batch)


@functools.lru_cache(maxsize=256)
def _split_optima(system: CoupledSystem) -> dict[int, Result | None]:
    out: dict[int, Result | None] = {}
    for n_prefill in range(1, system.workers):
        itl = system.decode_itl_ms(system.workers - n_prefill)
        best, evaluated = None, 0
        for cache in system.cache_placements(n_prefill):
            evaluated += 1
            try:
                res = system.route(cache, "optimum")
            except CapacityExceededError:
                continue
            if best is None or res.mean_ttft_ms < best[1].mean_ttft_ms:
                best = (cache, res)
        if best is None or not math.isfinite(itl):
            out[n_prefill] = None
            continue
        cache, routing = best
        out[n_prefill] = Result("optimum", n_prefill, system.social_cost_ms(routing.mean_ttft_ms, itl),
                                routing.certificate, status="exact", message=f"best of {evaluated} cache placements "
                                f"at {n_prefill}P", nit=evaluated, method="enumeration", x_name="n_prefill",
                                cache=cache, routing=routing, ttft_ms=routing.mean_ttft_ms, itl_ms=itl,
                                evaluated=evaluated)
    return out


@dataclass(frozen=True, repr=False)
class PoABreakdown(Readable):
    """PoA of the whole coupled system and of each game alone (others held at the joint optimum).

    Parameters
    ----------
    optimum : Result
        The joint optimum.
    equilibria : tuple of Result
        The coupled equilibria found.
    system, system_best : float
        Worst / best equilibrium over the optimum (PoA and price of stability).
    game1, game2, game3 : float
        Each game alone: the Planner's split (TTFT + ITL), the caches' best response, Wardrop routing.
    """

    optimum: Result
    equilibria: tuple
    system: float
    system_best: float
    game1: float
    game2: float
    game3: float

    def _display_title(self) -> str:
        return f"coupled PoA {self.system:.4g} (games alone: {self.game1:.4g}, {self.game2:.4g}, {self.game3:.4g})"


@dataclass(frozen=True, repr=False)
class SplitDecomposition(Readable):
    """Where the loss of a fixed P/D split comes from (:meth:`CoupledSystem.decompose_fixed_split`).

    Parameters
    ----------
    n_prefill : int
    selfish_cost_ms : float
        Coupled routing/caching equilibrium at the fixed split (cold caches).
    split_optimum_ms : float
        Best caches and routing at that split.
    joint_optimum_ms : float
        Best over all splits.
    """

    n_prefill: int
    selfish_cost_ms: float
    split_optimum_ms: float
    joint_optimum_ms: float

    @property
    def routing_caching(self) -> float:
        """Games 2+3 factor: selfish / split optimum; ``nan`` when the split cannot carry the load."""
        if not math.isfinite(self.split_optimum_ms):
            return math.nan
        return self.selfish_cost_ms / self.split_optimum_ms

    @property
    def split(self) -> float:
        """Game 1 factor: split optimum / joint optimum."""
        return self.split_optimum_ms / self.joint_optimum_ms

    @property
    def total(self) -> float:
        """The fixed layout's PoA: selfish / joint optimum (= split x routing_caching)."""
        return self.selfish_cost_ms / self.joint_optimum_ms


class CoupledPlannerModel:
    """The coupled system as a :class:`~gametheory.games.dynamics.PlannerModel`: each interval the routing
    and caching games settle at the split (:meth:`CoupledSystem.settle`); the state is the caches; a load
    multiplies the system's rates; the Planner descends TTFT + ITL (``target="equilibrium"``).

    Parameters
    ----------
    system : CoupledSystem
    max_rounds : int
        Rounds of the routing/caching loop per interval.
    """

    rtol = PLANNER_RTOL
    target = "equilibrium"

    def __init__(self, system: CoupledSystem, max_rounds: int = 50):
        self.system = instance(system, CoupledSystem, "system")
        self.max_rounds = integer(max_rounds, "max_rounds", minimum=1, maximum=10**6)
        self.lo, self.hi = 1, system.workers - 1
        self.weights = (1.0, float(system.output_tokens))
        self._systems: dict[float, CoupledSystem] = {}

    def prepare(self, loads) -> None:
        """Nothing to evaluate ahead.

        Parameters
        ----------
        loads : numpy.ndarray
        """

    def settle(self, load: float, n: int, state):
        """(TTFT ms, ITL ms, settled caches) at ``load`` x the rates with ``n`` prefill workers.

        Parameters
        ----------
        load : float
        n : int
        state : numpy.ndarray

        Returns
        -------
        tuple
        """
        if load not in self._systems:
            self._systems[load] = self.system if load == 1.0 else self.system.scaled(load)
        ttft, itl, _, cache, _ = self._systems[load].settle(n, self.resize(state, n), self.max_rounds)
        return ttft, itl, cache

    def resize(self, state, n: int) -> np.ndarray:
        """Caches after a split change (a new prefill worker starts cold).

        Parameters
        ----------
        state : numpy.ndarray or None
        n : int

        Returns
        -------
        numpy.ndarray
        """
        if state is None:
            return np.zeros((self.system.classes, n), bool)
        return resize(np.asarray(state, bool), n)

    def key(self, state):
        """The caches as a hashable key.

        Parameters
        ----------
        state : numpy.ndarray or None

        Returns
        -------
        tuple or None
        """
        return None if state is None else (np.asarray(state).shape, np.asarray(state, bool).tobytes())
