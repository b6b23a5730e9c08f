"""Serving-derived pool costs for Game 1: TTFT of the prefill pool and ITL of the decode pool as
functions of the pool's GPU count, built from a measured profile (:mod:`gametheory.serving.profiles`).

Prefill (``prefill_ttft``): ``n = G_P / tp`` workers share a Poisson stream of ``rate_rps`` requests/s.
A request needs ``s`` ms of prefill work: the profile's batched pass over its uncached tokens,
``prefill_ms(batch * t) / batch`` with ``t = input_tokens (1 - hit_rate)`` (the amortization of
:meth:`gametheory.games.coupled.CoupledSystem.from_profile`). TTFT = s + W_q with W_q from

- ``"md1"``: the router spreads requests evenly at random, so each worker is an M/D/1 queue at
  ``rho = rate s / n``: ``W_q = rho s / (2 (1 - rho))`` (Pollaczek-Khinchine);
- ``"mg1"``: the same with service-time squared coefficient of variation ``service_scv``:
  ``W_q = (1 + scv) / 2 * rho s / (1 - rho)`` (Pollaczek-Khinchine);
- ``"mdc"``: one central queue feeding c = n workers (M/D/c), by Cosmetatos' approximation
  ``W_q(M/D/c) = 1/2 W_q(M/M/c) [1 + (1 - rho)(c - 1)(sqrt(4 + 5c) - 2) / (16 rho c)]``
  (G. P. Cosmetatos, "Some approximate equilibrium results for the multi-server queue M/G/r",
  Oper. Res. Q. 27, 1976; exact for c = 1), with W_q(M/M/c) from the Erlang C formula. Worker counts are
  integers, so between two integers the TTFT is interpolated linearly in c (a convex, decreasing
  piecewise-linear cost whose kinks sit at whole workers; its derivative is the slope of the piece).

Decode (``decode_itl``): ``n = G_D / tp`` workers share the decode traffic evenly; each carries the batch
b that solves Little's law ``b = (rate / n) * output_tokens * ITL(b) / 1000`` with
``ITL(b) = decode_step_ms(b, context)`` at the mid-generation context ``input_tokens + output_tokens / 2``
(:func:`~gametheory.games.resource.decode_pool.little_decode_itl_ms`). No solution up to the worker's batch
limit (its KV budget, capped at the measured batch grid) means the pool is saturated.

Every cost raises :class:`~gametheory.errors.CapacityExceededError` (load and capacity named) where the pool
is unstable and :class:`~gametheory.errors.InvalidInputError` below one worker, so
:class:`~gametheory.games.resource.PDResourceGame` finds the finite region itself; :func:`serving_game`
builds the game with ``min_gpus`` = one worker per pool and ``step`` = tp. Both costs are non-increasing in
the GPU count. M/D/1 and M/G/1 are strictly convex; the decode ITL inherits the shape of the fitted step
curves (convex in practice on the shipped profiles, checked on a grid by :func:`convexity_violations`), and
is flat at low load, where every worker runs a batch of one.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, section 4.1
   (Game 1: the P/D resource game, Definition 1 and Proposition 1).
.. [2] L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley, 1975 (M/G/1 and the Pollaczek-Khinchine mean
   value formula; M/M/c and the Erlang B and C formulas).
.. [3] G. P. Cosmetatos, "Some approximate equilibrium results for the multi-server queue M/G/r", Operational
   Research Quarterly 27, 1976 (the M/D/c approximation).
.. [4] J. D. C. Little, "A proof for the queuing formula L = lambda W", Oper. Res. 9, 1961 (the decode batch).
.. [5] Y. Zhong et al., "DistServe: disaggregating prefill and decoding for goodput-optimized large language
   model serving", OSDI 2024 (goodput under TTFT and ITL SLOs as the figure of merit of a P/D split).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gametheory._validate import finite_scalar, function, instance, integer, nonnegative_scalar, positive_scalar
from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.games.resource.decode_pool import decode_capacity_rps, little_decode_itl_ms
from gametheory.games.resource.game import PDResourceGame
from gametheory.serving.engine import EngineConfig
from gametheory.serving.workload import cluster_and_workload

__all__ = [
    "DecodeITL",
    "PrefillTTFT",
    "convexity_violations",
    "game1_knee",
    "GoodputSplits",
    "decode_itl",
    "goodput_splits",
    "md1_wait",
    "mdc_wait",
    "prefill_service_ms",
    "prefill_ttft",
    "serving_game",
    "slo_goodput_rps",
]

QUEUES = ("md1", "mg1", "mdc")


# --------------------------------------------------------------------------------------------- queueing
def _profile(profile):
    """A measured profile (:func:`gametheory.serving.profiles.load_profile`), checked."""
    from gametheory.serving.profiles import Profile

    return instance(profile, Profile, "profile", what="Profile (gametheory.serving.profiles.load_profile)")


def _tp(tp, profile) -> int:
    """GPUs per worker: ``tp``, else the profile's."""
    return profile.gpus_per_worker if tp is None else integer(tp, "tp (GPUs per worker)", minimum=1, maximum=1024)


def md1_wait(rate: float, service: float, scv: float = 0.0) -> float:
    """Mean wait in queue of an M/G/1 queue (Pollaczek-Khinchine): ``(1 + scv)/2 * rho s / (1 - rho)``.

    Parameters
    ----------
    rate : float
        Arrival rate (per time unit, >= 0).
    service : float
        Mean service time s in the reciprocal unit (> 0).
    scv : float, optional
        Squared coefficient of variation of the service time (>= 0; default 0: M/D/1).

    Returns
    -------
    float
        Mean wait in queue, in the unit of ``service``.

    Raises
    ------
    CapacityExceededError
        ``rho = rate * service >= 1``.
    InvalidInputError
        A negative or non-finite rate or scv, or a non-positive service time.
    """
    rate, service = nonnegative_scalar(rate, "rate"), positive_scalar(service, "service")
    scv = nonnegative_scalar(scv, "scv")
    rho = rate * service
    if rho >= 1.0:
        raise CapacityExceededError(rate, 1.0 / service, "M/G/1 queue (arrival rate vs service rate)")
    return (1.0 + scv) / 2.0 * rho * service / (1.0 - rho)


def erlang_c(servers: int, offered: float) -> float:
    """Probability of waiting in M/M/c (Erlang C) for ``servers`` c and offered load ``a = rate * s < c``.

    Computed from the Erlang B recursion ``B_k = a B_{k-1} / (k + a B_{k-1})`` (stable for large c), then
    ``C = c B / (c - a (1 - B))``.

    Parameters
    ----------
    servers : int
        Servers c (>= 1).
    offered : float
        Offered load a = rate x mean service time (Erlangs, 0 <= a < c).

    Returns
    -------
    float
        P(wait > 0), in [0, 1).

    Raises
    ------
    CapacityExceededError
        ``offered >= servers`` (no steady state).
    InvalidInputError
        ``servers`` not an integer >= 1, or a negative or non-finite offered load.
    """
    servers = integer(servers, "servers", minimum=1, maximum=10**6)
    offered = nonnegative_scalar(offered, "offered")
    if offered >= servers:
        raise CapacityExceededError(offered, float(servers), f"M/M/{servers} queue (offered load in Erlangs)")
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return servers * b / (servers - offered * (1.0 - b))


def mdc_wait(rate: float, service: float, servers: int) -> float:
    """Mean wait in queue of M/D/c by Cosmetatos' approximation (exact for c = 1; see the module docstring).

    Parameters
    ----------
    rate : float
        Arrival rate (per time unit, >= 0).
    service : float
        Deterministic service time in the reciprocal unit (> 0).
    servers : int
        Servers c fed by one queue (>= 1).

    Returns
    -------
    float
        Mean wait in queue, in the unit of ``service`` (0 at zero load).

    Raises
    ------
    CapacityExceededError
        ``rate * service >= servers``.
    InvalidInputError
        A bad rate, service time or server count.
    """
    servers = integer(servers, "servers", minimum=1, maximum=10**6)
    rate, service = nonnegative_scalar(rate, "rate"), positive_scalar(service, "service")
    offered = rate * service
    if offered >= servers:
        raise CapacityExceededError(rate, servers / service, f"M/D/{servers} queue (arrival rate vs capacity)")
    if offered == 0.0:
        return 0.0
    rho = offered / servers
    wq_mmc = erlang_c(servers, offered) * service / (servers - offered)
    correction = (1.0 - rho) * (servers - 1) * (math.sqrt(4.0 + 5.0 * servers) - 2.0) / (16.0 * rho * servers)
    return 0.5 * wq_mmc * (1.0 + correction)


def _workers(g: float, gpus_per_worker: int, pool: str) -> float:
    n = float(g) / gpus_per_worker
    if not n >= 1.0 - 1e-12:
        raise InvalidInputError(f"{pool} pool with {float(g):.6g} GPUs has fewer than one worker of "
                                f"{gpus_per_worker} GPUs")
    return max(n, 1.0)


def _largest_rate(holds, start: float, rel_tol: float = 1e-6) -> float:
    """Largest rate with ``holds(rate)`` for a predicate true on [0, r*] and false past it: doubling from
    ``start``, then bisection to ``rel_tol``; inf when it still holds at 1e12."""
    lo, hi = 0.0, max(start, 1.0)
    while holds(hi):
        lo, hi = hi, 2.0 * hi
        if hi > 1e12:
            return math.inf
    while hi - lo > rel_tol * hi:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return lo


# --------------------------------------------------------------------------------------------- prefill
def prefill_service_ms(profile, input_tokens: int, hit_rate: float = 0.0, prefill_batch: int = 4) -> float:
    """Prefill work per request (ms): ``prefill_ms(batch * t) / batch`` for ``t`` uncached input tokens.

    Parameters
    ----------
    profile : Profile
        Measured step latencies (:func:`gametheory.serving.profiles.load_profile`).
    input_tokens : int
        Prompt length (tokens, > 0).
    hit_rate : float, optional
        Fraction of the prompt found in the prefix cache, in [0, 1) (default 0).
    prefill_batch : int, optional
        Requests sharing one prefill pass (> 0, default 4).

    Returns
    -------
    float
        Prefill work per request (ms).

    Raises
    ------
    InvalidInputError
        A bad profile, non-positive tokens or batch, or a hit rate outside [0, 1).
    """
    _profile(profile)
    input_tokens = positive_scalar(input_tokens, "input_tokens")
    hit_rate = nonnegative_scalar(hit_rate, "hit_rate")
    if hit_rate >= 1.0:
        raise InvalidInputError(f"hit_rate must be in [0, 1), got {hit_rate!r} (a full hit leaves no prefill)")
    prefill_batch = positive_scalar(prefill_batch, "prefill_batch")
    tokens = input_tokens * (1.0 - hit_rate)
    return float(profile.prefill_ms(prefill_batch * tokens)) / prefill_batch


@dataclass(frozen=True)
class PrefillTTFT:
    """Mean TTFT (ms) of a prefill pool of ``G / gpus_per_worker`` workers (module docstring has the model).

    Calling it with a GPU count G returns the mean TTFT (ms) = service + queue wait.

    Parameters
    ----------
    service_ms : float
        Prefill work per request (ms, > 0).
    rate_rps : float
        Arrivals to the pool (requests/s, >= 0).
    gpus_per_worker : int
        GPUs per prefill worker (tensor parallelism).
    queue : {"md1", "mg1", "mdc"}, optional
        Queue model (default ``"md1"``).
    service_scv : float, optional
        Squared coefficient of variation of the service time, for ``"mg1"`` (default 0).

    Raises
    ------
    InvalidInputError
        A non-positive service time or worker size, a negative rate or scv, an unknown queue, or
        ``service_scv > 0`` with ``"md1"``.
    """

    service_ms: float
    rate_rps: float
    gpus_per_worker: int
    queue: str = "md1"
    service_scv: float = 0.0

    def __post_init__(self):
        positive_scalar(self.service_ms, "PrefillTTFT.service_ms")
        nonnegative_scalar(self.rate_rps, "PrefillTTFT.rate_rps")
        positive_scalar(self.gpus_per_worker, "PrefillTTFT.gpus_per_worker")
        nonnegative_scalar(self.service_scv, "PrefillTTFT.service_scv")
        if self.queue not in QUEUES:
            raise InvalidInputError(f"queue must be one of {QUEUES}, got {self.queue!r}")
        if self.queue == "md1" and self.service_scv != 0.0:
            raise InvalidInputError("queue='md1' has deterministic service: use queue='mg1' for service_scv > 0")

    @property
    def offered_load(self) -> float:
        """Busy workers needed on average: rate x service time (Erlangs)."""
        return self.rate_rps * self.service_ms / 1000.0

    def workers(self, g: float) -> float:
        """Workers (possibly fractional) in ``g`` GPUs.

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            ``g / gpus_per_worker`` (>= 1).

        Raises
        ------
        InvalidInputError
            Fewer than one worker.
        """
        return _workers(g, self.gpus_per_worker, "prefill")

    def utilisation(self, g: float) -> float:
        """rho = offered load / workers.

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            Utilisation (>= 1 means the pool is saturated).
        """
        return self.offered_load / self.workers(g)

    def __call__(self, g) -> float:
        n, s = self.workers(g), self.service_ms
        if self.queue == "mdc":
            return s + self._mdc_interpolated(n)
        if self.offered_load >= n:
            raise CapacityExceededError(self.rate_rps, 1000.0 * n / s, f"prefill pool of {n:.6g} workers")
        return s + md1_wait(self.rate_rps / n, s / 1000.0, self.service_scv) * 1000.0

    def _mdc_interpolated(self, n: float) -> float:
        lo = math.floor(n + 1e-12)
        frac = n - lo
        s_s = self.service_ms / 1000.0
        w_lo = mdc_wait(self.rate_rps, s_s, lo) * 1000.0
        if frac <= 1e-12:
            return w_lo
        return (1.0 - frac) * w_lo + frac * mdc_wait(self.rate_rps, s_s, lo + 1) * 1000.0

    def cvxpy(self, g):
        """DCP expression of TTFT(G) for M/D/1 and M/G/1 (convex: ``s + (1 + scv)/2 s L tp / (G - L tp)`` with
        L the offered load), so ``PDResourceGame.equilibrium(method="cvxpy")`` can cross-check the serving game.
        M/D/c (piecewise-linear interpolation of Erlang C) has none.

        Parameters
        ----------
        g : cvxpy.Expression
            The prefill pool's GPU count (a variable or affine expression).

        Returns
        -------
        cvxpy.Expression
            Convex TTFT (ms), valid where ``g`` exceeds the busy GPUs.

        Raises
        ------
        InvalidInputError
            ``queue == "mdc"``.
        """
        import cvxpy as cp

        if self.queue == "mdc":
            raise InvalidInputError("queue='mdc' has no cvxpy expression (use method='brentq')")
        busy_gpus = self.offered_load * self.gpus_per_worker
        scale = (1.0 + self.service_scv) / 2.0 * self.service_ms * busy_gpus
        return self.service_ms + scale * cp.inv_pos(g - busy_gpus)

    def derivative(self, g) -> float:
        """dTTFT/dG (ms per GPU), analytic; for M/D/c the slope of the linear piece right of G (at whole
        workers, the right derivative).

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            Derivative (ms per GPU, <= 0).

        Raises
        ------
        CapacityExceededError
            The pool is saturated at ``g`` (M/D/1, M/G/1; for M/D/c when the next piece is).
        InvalidInputError
            Fewer than one worker.
        """
        n, s = self.workers(g), self.service_ms
        if self.queue == "mdc":
            lo = math.floor(n + 1e-12)
            s_s = s / 1000.0
            rise = mdc_wait(self.rate_rps, s_s, lo + 1) - mdc_wait(self.rate_rps, s_s, lo)
            return rise * 1000.0 / self.gpus_per_worker
        rho = self.offered_load / n
        if rho >= 1.0:
            raise CapacityExceededError(self.rate_rps, 1000.0 * n / s, f"prefill pool of {n:.6g} workers")
        # W = (1+scv)/2 s rho/(1-rho), rho = L tp / G  ->  dW/dG = -(1+scv)/2 s rho / (G (1-rho)^2)
        return -(1.0 + self.service_scv) / 2.0 * s * rho / (float(g) * (1.0 - rho) ** 2)


def prefill_ttft(profile, rate_rps: float, input_tokens: int, hit_rate: float = 0.0, queue: str = "md1",
                 service_scv: float = 0.0, prefill_batch: int = 4, tp: int | None = None,
                 engine=None) -> PrefillTTFT:
    """TTFT(G_P) in ms for a measured ``profile`` (``tp`` defaults to the profile's GPUs per worker).

    With ``engine`` (an :class:`~gametheory.serving.engine.EngineConfig`) the pass is amortized over the
    requests a full prefill step of that engine holds (:meth:`EngineConfig.prefill_batch` of the uncached
    tokens), the engine model's capacity, instead of ``prefill_batch``.

    Parameters
    ----------
    profile : Profile
        Measured step latencies.
    rate_rps : float
        Arrivals (requests/s).
    input_tokens : int
        Prompt length (tokens).
    hit_rate : float, optional
        Prefix-cache hit fraction in [0, 1).
    queue : {"md1", "mg1", "mdc"}, optional
        Queue model (default ``"md1"``).
    service_scv : float, optional
        Service-time scv for ``"mg1"``.
    prefill_batch : int, optional
        Requests per prefill pass when no ``engine`` is given (default 4).
    tp : int, optional
        GPUs per worker (default the profile's).
    engine : EngineConfig, optional
        Engine whose full prefill step sets the batch.

    Returns
    -------
    PrefillTTFT
        The pool cost TTFT(G_P) (ms).

    Raises
    ------
    InvalidInputError
        A bad profile, rate, token count, hit rate, queue, tp or engine.
    """
    _profile(profile)
    hit_rate = nonnegative_scalar(hit_rate, "hit_rate")
    tp = _tp(tp, profile)
    if engine is not None:
        instance(engine, EngineConfig, "engine")
        prefill_batch = engine.prefill_batch(positive_scalar(input_tokens, "input_tokens") * (1.0 - hit_rate))
    return PrefillTTFT(
        service_ms=prefill_service_ms(profile, input_tokens, hit_rate, prefill_batch),
        rate_rps=rate_rps,
        gpus_per_worker=tp,
        queue=queue,
        service_scv=service_scv,
    )


# --------------------------------------------------------------------------------------------- decode
@dataclass(frozen=True)
class DecodeITL:
    """Mean ITL (ms) of a decode pool of ``G / gpus_per_worker`` workers (module docstring has the model).

    Calling it with a GPU count G returns the mean ITL (ms); it raises CapacityExceededError past the pool's
    capacity.

    Parameters
    ----------
    step_ms : callable
        ``step_ms(batch) -> ms``, decode step latency of one worker at the pool's context (e.g.
        ``profile.decode_step_at(context)``).
    rate_rps : float
        Arrivals to the pool (requests/s, >= 0).
    output_tokens : int
        Output tokens per request (> 0).
    gpus_per_worker : int
        GPUs per decode worker.
    max_batch : float
        Sequences a worker can hold (its KV budget or slot limit).

    Raises
    ------
    InvalidInputError
        A ``step_ms`` that is not callable, or a negative rate or non-positive count.
    """

    step_ms: Callable
    rate_rps: float
    output_tokens: int
    gpus_per_worker: int
    max_batch: float

    def __post_init__(self):
        if not callable(self.step_ms):
            raise InvalidInputError(f"step_ms must be a callable batch -> ms, got {self.step_ms!r}")
        nonnegative_scalar(self.rate_rps, "DecodeITL.rate_rps")
        positive_scalar(self.output_tokens, "DecodeITL.output_tokens")
        positive_scalar(self.gpus_per_worker, "DecodeITL.gpus_per_worker")
        positive_scalar(self.max_batch, "DecodeITL.max_batch")

    def workers(self, g: float) -> float:
        """Workers (possibly fractional) in ``g`` GPUs.

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            ``g / gpus_per_worker`` (>= 1).

        Raises
        ------
        InvalidInputError
            Fewer than one worker.
        """
        return _workers(g, self.gpus_per_worker, "decode")

    def batch(self, g: float) -> float:
        """Sequences each worker carries (Little's law), from the ITL: b = rate/n * OSL * ITL / 1000.

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            Batch per worker (sequences).
        """
        return self.rate_rps / self.workers(g) * self.output_tokens * self(g) / 1000.0

    def utilisation(self, g: float) -> float:
        """Batch per worker / batch limit (1 = the worker's KV budget or its measured batch grid is full).

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            Utilisation; inf when the pool is saturated.
        """
        try:
            return self.batch(g) / self.max_batch
        except CapacityExceededError:
            return math.inf

    def derivative(self, g) -> float:
        """dITL/dG (ms per GPU) by implicit differentiation of Little's law b = r L t(b) / 1000 with
        r = rate / n: ``db/dr = L t(b) / (1000 - r L t'(b))``, ``dr/dG = -r / G``; ``t'`` by a central
        difference of the step curve. Zero where the batch is clipped at one sequence.

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            Derivative (ms per GPU, <= 0 on a non-decreasing step curve).
        """
        itl = self(g)
        r = self.rate_rps / self.workers(g)
        b = r * self.output_tokens * itl / 1000.0
        if b <= 1.0:
            return 0.0
        h = 1e-4 * b
        slope = (float(self.step_ms(b + h)) - float(self.step_ms(b - h))) / (2 * h)
        db_dr = self.output_tokens * itl / (1000.0 - r * self.output_tokens * slope)
        return slope * db_dr * (-r / float(g))

    def capacity_rps(self, g: float) -> float:
        """Largest rate (requests/s) the pool carries with ``g`` GPUs
        (:func:`~gametheory.games.resource.decode_pool.decode_capacity_rps` per worker).

        Parameters
        ----------
        g : float
            GPUs of the pool.

        Returns
        -------
        float
            Capacity (requests/s).
        """
        return self.workers(g) * decode_capacity_rps(self.step_ms, self.output_tokens, self.max_batch)

    def __call__(self, g) -> float:
        n = self.workers(g)
        itl = little_decode_itl_ms(self.step_ms, self.rate_rps / n, self.output_tokens, self.max_batch)
        if not math.isfinite(itl):
            raise CapacityExceededError(self.rate_rps, self.capacity_rps(g),
                                        f"decode pool of {n:.6g} workers (requests/s)")
        return itl


def decode_itl(profile, rate_rps: float, input_tokens: int, output_tokens: int, tp: int | None = None,
               engine=None) -> DecodeITL:
    """ITL(G_D) in ms for a measured ``profile`` at the mid-generation context; the batch limit is the
    worker's KV budget at the full context, capped at the largest measured batch (no extrapolation) and, with
    ``engine``, at its decode slots (``max_num_seqs``).

    Parameters
    ----------
    profile : Profile
        Measured step latencies.
    rate_rps : float
        Arrivals (requests/s).
    input_tokens : int
        Prompt length (tokens, > 0).
    output_tokens : int
        Output length (tokens, >= 1).
    tp : int, optional
        GPUs per worker (default the profile's).
    engine : EngineConfig, optional
        Engine whose ``max_num_seqs`` caps the batch.

    Returns
    -------
    DecodeITL
        The pool cost ITL(G_D) (ms).

    Raises
    ------
    InvalidInputError
        A bad profile, rate, token count, tp or engine.
    """
    _profile(profile)
    input_tokens = positive_scalar(input_tokens, "input_tokens")
    output_tokens = integer(output_tokens, "output_tokens", minimum=1, maximum=10**7)
    tp = _tp(tp, profile)
    kv_limit = profile.max_decode_batch(input_tokens + output_tokens)
    if engine is not None:
        instance(engine, EngineConfig, "engine")
        kv_limit = min(kv_limit, engine.max_num_seqs)
    return DecodeITL(
        step_ms=profile.decode_step_at(input_tokens + output_tokens / 2.0),
        rate_rps=rate_rps,
        output_tokens=output_tokens,
        gpus_per_worker=tp,
        max_batch=float(min(kv_limit, int(np.max(profile.decode_batch)))),
    )


# --------------------------------------------------------------------------------------------- the game
def serving_game(profile, total_gpus: int, rate_rps: float, input_tokens: int, output_tokens: int,
                 hit_rate: float = 0.0, queue: str = "md1", weights: tuple[float, float] | None = None,
                 prefill_batch: int = 4, tp: int | None = None, engine=None):
    """Game 1 on a measured profile: TTFT(G_P) and ITL(G_D) pool costs, ``step`` = tp GPUs, at least one
    worker per pool, social cost weights (1, output_tokens) by default (TTFT + OSL x ITL per request).
    ``engine``: an :class:`~gametheory.serving.engine.EngineConfig` whose prefill step and decode slots set the
    pools' capacities (see :func:`prefill_ttft`, :func:`decode_itl`).

    Parameters
    ----------
    profile : Profile
        Measured step latencies.
    total_gpus : int
        GPU budget G shared by the pools.
    rate_rps : float
        Arrivals (requests/s).
    input_tokens, output_tokens : int
        Prompt and output length (tokens).
    hit_rate : float, optional
        Prefix-cache hit fraction in [0, 1).
    queue : {"md1", "mg1", "mdc"}, optional
        Prefill queue model.
    weights : (float, float), optional
        Social cost weights of TTFT and ITL (default (1, output_tokens)).
    prefill_batch : int, optional
        Requests per prefill pass without ``engine`` (default 4).
    tp : int, optional
        GPUs per worker (default the profile's).
    engine : EngineConfig, optional
        Engine model setting the pools' capacities.

    Returns
    -------
    PDResourceGame
        Game 1 with ``step = tp`` and ``min_gpus = (tp, tp)``.

    Raises
    ------
    InvalidInputError
        Bad arguments (also from :class:`~gametheory.games.resource.PDResourceGame`).
    """
    from gametheory.games.resource import PDResourceGame

    _profile(profile)
    tp = _tp(tp, profile)
    output_tokens = positive_scalar(output_tokens, "output_tokens")
    return PDResourceGame(
        total_gpus,
        prefill_ttft(profile, rate_rps, input_tokens, hit_rate, queue, prefill_batch=prefill_batch, tp=tp,
                     engine=engine),
        decode_itl(profile, rate_rps, input_tokens, output_tokens, tp=tp, engine=engine),
        weights=weights or (1.0, float(output_tokens)),
        step=tp,
        min_gpus=(float(tp), float(tp)),
    )


def convexity_violations(cost: Callable[[float], float], lo: float, hi: float, points: int = 129) -> list[float]:
    """GPU counts in (lo, hi) where ``cost`` bends the wrong way on a uniform grid: the second difference is
    below ``-1e-9`` of the cost scale (measured tables are not perfectly convex; the game's solver does not
    need convexity, but uniqueness of the VE does).

    Parameters
    ----------
    cost : callable
        ``cost(G) -> float``, a pool cost.
    lo, hi : float
        The GPU range, ``lo < hi``.
    points : int, optional
        Grid points (>= 3, default 129).

    Returns
    -------
    list of float
        Interior grid points with a negative second difference beyond the tolerance (empty: convex on the grid).

    Raises
    ------
    InvalidInputError
        A non-callable cost, ``lo >= hi``, a bad ``points``, or a cost value that is not finite.
    """
    function(cost, "cost")
    lo, hi = finite_scalar(lo, "lo"), finite_scalar(hi, "hi")
    if not lo < hi:
        raise InvalidInputError(f"lo must be below hi, got {lo!r} and {hi!r}")
    points = integer(points, "points", minimum=3, maximum=10**6)
    grid = np.linspace(lo, hi, points)
    values = np.array([finite_scalar(cost(g), f"cost({g:.6g})") for g in grid])
    second = values[:-2] - 2 * values[1:-1] + values[2:]
    scale = 1e-9 * np.max(np.abs(values))
    return [float(g) for g in grid[1:-1][second < -scale]]


# --------------------------------------------------------------------------------------------- regimes
def saturation_rate(cost, gpus: float, rel_tol: float = 1e-6) -> float:
    """The arrival rate (requests/s) at which a pool cost of this module saturates with ``gpus`` GPUs: the
    decode pool's capacity (:meth:`DecodeITL.capacity_rps`, computed once for the package), else bisection on
    finiteness of ``replace(cost, rate_rps=r)(gpus)`` after doubling past it.

    Parameters
    ----------
    cost : PrefillTTFT or DecodeITL
        A pool cost of this module (a dataclass with ``rate_rps``).
    gpus : float
        GPUs of the pool.
    rel_tol : float, optional
        Relative tolerance of the bisection (default 1e-6).

    Returns
    -------
    float
        Saturation rate (requests/s); inf if the cost stays finite up to 1e12 requests/s.
    """
    from dataclasses import replace

    if isinstance(cost, DecodeITL):
        return cost.capacity_rps(gpus)

    def finite(rate):
        try:
            return math.isfinite(replace(cost, rate_rps=rate)(gpus))
        except CapacityExceededError:
            return False

    return _largest_rate(finite, cost.rate_rps, rel_tol)


def pool_regime(cost, gpus: float, points: int = 40) -> tuple[str, float, tuple[float, float]]:
    """Regime of a pool at its current rate with ``gpus`` GPUs: the knee of its cost against the arrival
    rate (``gametheory.regimes.find_knee``, hinge fit, on ``points`` rates up to 99 % of saturation) and
    ``classify`` of the current rate.

    Parameters
    ----------
    cost : PrefillTTFT or DecodeITL
        A pool cost of this module at its current rate.
    gpus : float
        GPUs of the pool.
    points : int, optional
        Rates sampled for the knee (default 40).

    Returns
    -------
    (str, float, (float, float))
        The regime of the current rate, the utilisation rate / saturation rate, and the knee's interval
        (requests/s).
    """
    from dataclasses import replace

    from gametheory.regimes import classify, find_knee

    cap = saturation_rate(cost, gpus)
    rates = np.linspace(0.02, 0.99, points) * cap
    values = np.array([replace(cost, rate_rps=float(r))(gpus) for r in rates])
    knee = find_knee(rates, values, n_boot=0)
    return classify([cost.rate_rps], knee=knee)[0], cost.rate_rps / cap, knee.interval


# --------------------------------------------------------------------------------------------- goodput
def slo_goodput_rps(game, g_prefill: float, ttft_slo_ms: float, itl_slo_ms: float, rel_tol: float = 1e-6) -> float:
    """Goodput (requests/s) of the split (G_P, G - G_P) under SLOs on the mean TTFT and mean ITL: the largest
    arrival rate at which both pools meet their SLO. Both costs grow with the rate, so the feasible rates form
    an interval [0, goodput]; bisection on it (the game's costs must carry ``rate_rps``, as the costs of this
    module do). 0 when even an idle system misses an SLO.

    Parameters
    ----------
    game : PDResourceGame
        A game whose pool costs carry ``rate_rps`` (e.g. from :func:`serving_game`).
    g_prefill : float
        GPUs of the prefill pool; the decode pool gets the rest.
    ttft_slo_ms, itl_slo_ms : float
        SLOs on mean TTFT and mean ITL (ms, > 0).
    rel_tol : float, optional
        Relative tolerance of the bisection.

    Returns
    -------
    float
        Goodput (requests/s); 0 when an idle system misses an SLO.

    Raises
    ------
    InvalidInputError
        Non-positive SLOs, or pool costs without a ``rate_rps`` field.
    """
    from dataclasses import replace

    positive_scalar(ttft_slo_ms, "ttft_slo_ms")
    positive_scalar(itl_slo_ms, "itl_slo_ms")
    g_decode = game.total_gpus - g_prefill
    costs = (game.prefill_cost, game.decode_cost)
    if not all(hasattr(c, "rate_rps") for c in costs):
        raise InvalidInputError("slo_goodput_rps needs pool costs with a rate_rps field (PrefillTTFT, DecodeITL)")

    def meets(rate):
        try:
            return (replace(costs[0], rate_rps=rate)(g_prefill) <= ttft_slo_ms
                    and replace(costs[1], rate_rps=rate)(g_decode) <= itl_slo_ms)
        except CapacityExceededError:
            return False

    if not meets(0.0):
        return 0.0
    return _largest_rate(meets, costs[0].rate_rps, rel_tol)


@dataclass(frozen=True)
class GoodputSplits:
    """Goodput (requests/s) of every whole-worker split under the SLOs, the best split and the goodput at a
    reference split (e.g. the integer VE).

    Parameters
    ----------
    prefill_gpus : numpy.ndarray, shape (k,)
        The splits' prefill GPU counts.
    goodput_rps : numpy.ndarray, shape (k,)
        Goodput of each split (requests/s).
    best_prefill_gpus, best_goodput_rps : float
        The goodput-maximizing split and its goodput.
    reference_prefill_gpus, reference_goodput_rps : float
        The reference split and its goodput.
    """

    prefill_gpus: np.ndarray
    goodput_rps: np.ndarray
    best_prefill_gpus: float
    best_goodput_rps: float
    reference_prefill_gpus: float
    reference_goodput_rps: float

    @property
    def loss(self) -> float:
        """best / reference goodput (>= 1; inf if the reference meets no load)."""
        if self.reference_goodput_rps <= 0:
            return math.inf
        return self.best_goodput_rps / self.reference_goodput_rps


def goodput_splits(game, ttft_slo_ms: float, itl_slo_ms: float, reference_prefill_gpus: float) -> GoodputSplits:
    """:func:`slo_goodput_rps` of every split in whole workers of ``game.step`` GPUs (at least one worker per
    pool) and of the reference split; the goodput-maximizing split by enumeration.

    Parameters
    ----------
    game : PDResourceGame
        A game with ``step`` set (:func:`serving_game`).
    ttft_slo_ms, itl_slo_ms : float
        SLOs on mean TTFT and ITL (ms).
    reference_prefill_gpus : float
        The split to compare with (e.g. the equilibrium's).

    Returns
    -------
    GoodputSplits
        Goodput per split, the best split and the reference's goodput.

    Raises
    ------
    InvalidInputError
        ``game`` not a PDResourceGame, a game without ``step``, or bad SLOs.
    """
    instance(game, PDResourceGame, "game")
    step = game.step
    if step is None:
        raise InvalidInputError("goodput_splits needs a game with step = GPUs per worker (serving_game sets it)")
    splits = np.arange(step, game.total_gpus - step + 1, step, dtype=float)
    goodput = np.array([slo_goodput_rps(game, g, ttft_slo_ms, itl_slo_ms) for g in splits])
    k = int(np.argmax(goodput))
    reference = slo_goodput_rps(game, reference_prefill_gpus, ttft_slo_ms, itl_slo_ms)
    return GoodputSplits(splits, goodput, float(splits[k]), float(goodput[k]), float(reference_prefill_gpus),
                         reference)


# --------------------------------------------------------------------------------------------- the knee
def game1_knee(cluster, workload=None) -> dict:
    """The closed-loop knee from Game 1's pool costs of ``cluster`` under ``workload``: the rates at which its
    prefill pool (``n_prefill`` workers) and its decode pool (``n_decode`` workers) saturate, and the knee
    ``C* = X_max (R_full + Z)`` with the full-batch response time of the same engine model
    (:func:`gametheory.serving.queueing.saturation`).

    Parameters
    ----------
    cluster : Cluster
        Profile, layout and engine configuration (:mod:`gametheory.serving.engine`).
    workload : Workload, optional
        Closed-loop workload (default :func:`gametheory.serving.workload.paper_workload`).

    Returns
    -------
    dict
        ``prefill_rps``, ``decode_rps`` (saturation rates of the pool costs, requests/s), ``service_ms`` (prefill
        work per request), ``prefill_batch``, ``full_batch_ms``, ``knee`` (clients) and ``knee_analytic`` (the
        analytic model's, equal when both pools saturate where the analytic model says).

    Raises
    ------
    InvalidInputError
        ``cluster`` not a Cluster or ``workload`` not a Workload.

    References
    ----------
    P. J. Denning and J. P. Buzen, "The operational analysis of queueing network models", ACM Computing Surveys
    10(3), 1978; :mod:`gametheory.serving.queueing`.
    """
    from gametheory.serving.queueing import saturation

    _, wl = cluster_and_workload(cluster, workload)
    profile, tp = cluster.profile, cluster.profile.gpus_per_worker
    u = cluster.engine.uncached_tokens(wl.mean_input, wl.prefix_tokens)
    hit = 1.0 - u / wl.mean_input
    pre = prefill_ttft(profile, 1e-3, wl.mean_input, hit, tp=tp, engine=cluster.engine)
    dec = decode_itl(profile, 1e-3, wl.mean_input, wl.mean_output, tp=tp, engine=cluster.engine)
    x_p = saturation_rate(pre, cluster.n_prefill * tp)
    x_d = saturation_rate(dec, cluster.n_decode * tp)
    sat = saturation(cluster, wl)
    return {"prefill_rps": x_p, "decode_rps": x_d, "service_ms": pre.service_ms,
            "prefill_batch": cluster.engine.prefill_batch(u), "full_batch_ms": sat.full_batch_ms,
            "knee": min(x_p, x_d) * (sat.full_batch_ms + wl.think_ms) / 1e3, "knee_analytic": sat.knee}
