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
  ``rho_w = sum_k x[k, w] s[k, w]`` and the mean TTFT of a class-k request on w is
  ``s[k, w] / (1 - rho_w)`` (insensitive to the service distribution; Kleinrock 1976, section 4.4).
- Requests choose prefill workers selfishly (Game 3): a Wardrop equilibrium of costs
  ``s[k, w] / (1 - rho_w)``. The Jacobian of this cost map is symmetric (block ``s s^T / (1 - rho)^2``),
  so for a FIXED cache the equilibrium minimizes the convex potential ``sum_w -log(1 - rho_w)`` and the
  routing optimum minimizes ``sum_w rho_w / (1 - rho_w)``: both convex programs in ``x``.
- Each prefill worker caches selfishly (Game 2): its best response keeps the ``cache_slots`` classes
  that save it the most busy time, ``x[k, w] * (s_uncached - s_cached)``. The cache depends on which
  classes a worker receives and the routing cost depends on the cache: this is the positive
  externality of Proposition 3, and it makes the coupled equilibrium path-dependent (several exist).
- Decode workers share the decode traffic evenly (Dynamo's decode-side router ignores overlap). The
  batch b each carries solves Little's law ``b = (Lambda / n_decode) * output_tokens * ITL(b) / 1000``
  with ``ITL(b) = decode_step_ms(b, input_tokens + output_tokens / 2)``; no solution with
  ``b <= max_decode_batch`` means the decode pool is saturated (infinite cost).
- Social cost per request (ms): mean TTFT + ``output_tokens`` * ITL. Game 1's players weigh their own
  metric only (TTFT for P, ITL for D, equal shadow price): the Planner's equilibrium minimizes
  TTFT + ITL, the optimum TTFT + output_tokens * ITL.

Solutions: :func:`coupled_equilibrium` (best-response dynamics of the three games with a certificate, a
detected cycle, or a "saturated" status; CapacityExceededError when no split carries the load),
:func:`joint_optimum` (exact: enumeration of splits and cache placements up to worker symmetry, convex
routing for each), :func:`price_of_anarchy` (whole system and each game alone), :func:`planner_dynamics` (the
Planner loop on a load trace) and :func:`planner_orbit` (the loop at a constant load, run until it repeats:
converged / oscillating / saturated).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import cvxpy as cp
import numpy as np
from scipy.optimize import brentq, linprog

from gametheory._validate import nonnegative_array, positive_scalar
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.games.resource.decode_pool import little_decode_itl_ms
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, SHARED_PREFIX_TOKENS

__all__ = [
    "CoupledEquilibrium",
    "CoupledOptimum",
    "CoupledSystem",
    "RoutingState",
    "SplitDecomposition",
    "cache_best_response",
    "decompose_fixed_split",
    "coupled_equilibrium",
    "decode_capacity_rps",
    "decode_itl_ms",
    "joint_optimum",
    "planner_dynamics",
    "planner_orbit",
    "prefill_capacity_rps",
    "price_of_anarchy",
    "route",
    "split_optima",
]

#: routing solutions must meet this relative Wardrop gap / KKT residual
ROUTING_TOL = 1e-6


@dataclass(frozen=True)
class CoupledSystem:
    """One serving configuration on which the three games are played together.

    ``prefill_ms(tokens)``: prefill time of one request of that many uncached tokens (ms, batch 1);
    ``decode_step_ms(batch, context)``: decode step latency (ms). Rates in requests/s.
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
        if int(self.workers) != self.workers or self.workers < 2:
            raise InvalidInputError(f"workers must be an integer >= 2 (one prefill, one decode), got {self.workers!r}")
        rates = nonnegative_array(self.rates, "rates", ndim=1, min_size=1)
        if rates.sum() <= 0:
            raise InvalidInputError(f"rates must have a positive total, got {list(rates)}")
        object.__setattr__(self, "rates", tuple(float(r) for r in rates))
        for name in ("input_tokens", "output_tokens", "max_decode_batch"):
            positive_scalar(getattr(self, name), name)
        if not 0 <= self.prefix_tokens <= self.input_tokens:
            raise InvalidInputError(
                f"prefix_tokens must be in [0, input_tokens={self.input_tokens}], got {self.prefix_tokens!r}"
            )
        if int(self.cache_slots) != self.cache_slots or self.cache_slots < 0:
            raise InvalidInputError(f"cache_slots must be an integer >= 0, got {self.cache_slots!r}")

    @classmethod
    def from_profile(
        cls,
        profile,
        workers: int,
        rates: Sequence[float],
        prefill_batch: int = 4,
        **kwargs,
    ) -> CoupledSystem:
        """A system on a measured profile (:func:`gametheory.serving.profiles.load_profile`).

        Prefill work per request of ``t`` uncached tokens is the batched pass amortized over
        ``prefill_batch`` requests, ``prefill_ms(prefill_batch * t) / prefill_batch`` (the affine
        a + b * tokens fit: the fixed cost a is shared by the batch); decode steps come from the fitted
        decode-step curves; ``max_decode_batch`` is the worker's KV-cache budget at the full context, capped at
        the largest measured batch (the fit is not extrapolated).
        """
        positive_scalar(prefill_batch, "prefill_batch")
        input_tokens = kwargs.get("input_tokens", INPUT_TOKENS)
        output_tokens = kwargs.get("output_tokens", OUTPUT_TOKENS)
        # the KV budget, but no further than the measured batch grid (no extrapolation of the fit)
        kv_limit = profile.max_decode_batch(input_tokens + output_tokens)
        kwargs.setdefault("max_decode_batch", min(kv_limit, int(np.max(profile.decode_batch))))
        return cls(
            workers=workers,
            rates=tuple(rates),
            prefill_ms=lambda t: float(profile.prefill_ms(prefill_batch * t)) / prefill_batch,
            decode_step_ms=profile.decode_step_ms,
            **kwargs,
        )

    @property
    def classes(self) -> int:
        return len(self.rates)

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

    def work(self, cache: np.ndarray) -> np.ndarray:
        """Prefill work s[k, w] (seconds) of a class-k request on worker w under a 0/1 cache matrix."""
        full, hit = self.service_s
        return np.where(np.asarray(cache, dtype=bool), hit, full)

    @property
    def total_rate(self) -> float:
        return float(sum(self.rates))


# ---------------------------------------------------------------------------------------------------
# Game 3 for a fixed cache: Wardrop equilibrium and optimum are convex programs
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingState:
    """Routing of the classes over the prefill workers under one cache placement."""

    flows: np.ndarray  # (K, n) requests/s
    utilisation: np.ndarray  # (n,)
    ttft_s: np.ndarray  # (K, n) TTFT of a class-k request on worker w, seconds
    mean_ttft_ms: float
    certificate: Certificate


def _routing_costs(work: np.ndarray, flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rho = (work * flows).sum(axis=0)
    if (rho >= 1).any():
        return rho, np.full_like(work, np.inf)
    return rho, work / (1.0 - rho)


def wardrop_gap(work: np.ndarray, flows: np.ndarray, rates: np.ndarray) -> float:
    """Relative Wardrop gap: (sum x c - sum_k r_k min_w c_kw) / sum x c (0 exactly at equilibrium)."""
    _, cost = _routing_costs(work, flows)
    total = float((flows * cost).sum())
    if not math.isfinite(total):
        return math.inf
    best = float((rates * cost.min(axis=1)).sum())
    return (total - best) / total if total > 0 else 0.0


def optimality_gap(work: np.ndarray, flows: np.ndarray, rates: np.ndarray) -> float:
    """Relative KKT residual of the routing optimum: the Wardrop gap on marginal costs
    d/dx_kw [sum_v rho_v / (1 - rho_v)] = s_kw / (1 - rho_w)^2."""
    rho = (work * flows).sum(axis=0)
    if (rho >= 1).any():
        return math.inf
    marginal = work / (1.0 - rho) ** 2
    total = float((flows * marginal).sum())
    best = float((rates * marginal.min(axis=1)).sum())
    return (total - best) / total if total > 0 else 0.0


def route(
    system: CoupledSystem, cache: np.ndarray, objective: str = "equilibrium", method: str = "projection"
) -> RoutingState:
    """Selfish (``"equilibrium"``) or optimal (``"optimum"``) routing under a fixed cache placement.

    ``method="projection"`` (default) is the exact fast path: path-based gradient projection
    (Bertsekas 1976; Jayakrishnan et al. 1994) that, class by class, shifts flow from the costliest used
    worker to the cheapest until their (marginal) costs are equal, the shift found by Brent's method.
    ``method="cvxpy"`` solves the convex program of the module docstring with cvxpy (Clarabel), then polishes
    it the same way. Either way the point is certified by its relative Wardrop gap (equilibrium) or the
    Wardrop gap on marginal costs (optimum, the KKT condition). Raises :class:`ConvergenceError` when the
    prefill pool cannot carry the load.
    """
    if objective not in ("equilibrium", "optimum"):
        raise InvalidInputError(f"objective must be 'equilibrium' or 'optimum', got {objective!r}")
    cache = np.asarray(cache, dtype=bool)
    work = system.work(cache)
    rates = np.asarray(system.rates)
    k, n = work.shape
    capacity = float((1.0 / work.min(axis=0)).sum())
    if system.total_rate >= capacity:
        raise ConvergenceError(
            f"prefill pool of {n} worker(s) saturated: total rate {system.total_rate:.4g} req/s >= "
            f"capacity {capacity:.4g} req/s"
        )
    if method not in ("projection", "cvxpy"):
        raise InvalidInputError(f"method must be 'projection' or 'cvxpy', got {method!r}")
    start = rates[:, None] * (1.0 / work) / (1.0 / work).sum(axis=1, keepdims=True)
    if ((work * start).sum(axis=0) >= 1).any():
        # the proportional start overloads a worker: the least max-utilisation routing decides feasibility
        lp_flows, rho_max = _min_max_utilisation(work, rates)
        if rho_max >= 1.0:
            raise ConvergenceError(
                f"prefill pool of {n} worker(s) saturated: total rate {system.total_rate:.4g} req/s; the least "
                f"maximum utilisation any routing reaches under this cache is {rho_max:.6g} >= 1"
            )
        start = lp_flows
    if method == "cvxpy":
        start = _solve_cvxpy(work, rates, objective)
    flows = _gradient_projection(work, rates, start, objective)
    gap = (wardrop_gap if objective == "equilibrium" else optimality_gap)(work, flows, rates)
    cert = Certificate("relative_gap" if objective == "equilibrium" else "kkt_residual", gap, ROUTING_TOL)
    cert.check(f"coupled routing {objective}")
    rho, ttft = _routing_costs(work, flows)
    mean_ms = 1000.0 * float((flows * ttft).sum()) / system.total_rate
    return RoutingState(flows, rho, ttft, mean_ms, cert)


def _unit_cost(rho, objective):
    """Cost per unit work on a worker at utilisation rho: 1/(1-rho) (equilibrium) or its marginal
    d/drho [rho/(1-rho)] = 1/(1-rho)^2 (optimum)."""
    return 1.0 / (1.0 - rho) if objective == "equilibrium" else 1.0 / (1.0 - rho) ** 2


def _gradient_projection(work, rates, flows, objective, tol=1e-13, max_sweeps=5000):
    """Equalize each class's (marginal) cost over the workers it uses; see :func:`route`."""
    flows = flows.copy()
    rho = (work * flows).sum(axis=0)
    k, n = work.shape
    gap_fn = wardrop_gap if objective == "equilibrium" else optimality_gap
    for _ in range(max_sweeps):
        for c in range(k):
            cost = work[c] * _unit_cost(rho, objective)
            used = flows[c] > 0
            if not used.any():
                continue
            hi = int(np.flatnonzero(used)[np.argmax(cost[used])])
            lo = int(np.argmin(cost))
            if hi == lo or cost[hi] - cost[lo] <= 1e-15 * cost[lo]:
                continue
            s_hi, s_lo = work[c, hi], work[c, lo]
            limit = min(flows[c, hi], (1.0 - rho[lo]) / s_lo * (1 - 1e-12))

            def diff(d, hi=hi, lo=lo, s_hi=s_hi, s_lo=s_lo, rho=rho):
                return s_hi * _unit_cost(rho[hi] - s_hi * d, objective) - s_lo * _unit_cost(
                    rho[lo] + s_lo * d, objective
                )

            d = limit if diff(limit) >= 0 else brentq(diff, 0.0, limit, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                                                      maxiter=2000)  # roots near 0 need more than the default 100
            flows[c, hi] -= d
            flows[c, lo] += d
            if flows[c, hi] < 1e-15 * rates[c]:
                flows[c, hi] = 0.0
            rho = (work * flows).sum(axis=0)
        if gap_fn(work, flows, rates) <= tol:
            break
    return flows


def _min_max_utilisation(work, rates):
    """Routing of least maximum utilisation (linear program, HiGHS): min t s.t. sum_k s_kw x_kw <= t for
    every worker w, sum_w x_kw = r_k, x >= 0. Returns (flows, t); the pool carries the load iff t < 1."""
    k, n = work.shape
    c = np.zeros(k * n + 1)
    c[-1] = 1.0
    a_ub = np.zeros((n, k * n + 1))
    for w in range(n):
        a_ub[w, w:k * n:n] = work[:, w]
        a_ub[w, -1] = -1.0
    a_eq = np.zeros((k, k * n + 1))
    for j in range(k):
        a_eq[j, j * n:(j + 1) * n] = 1.0
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=rates, bounds=(0, None), method="highs")
    if res.status != 0:
        raise ConvergenceError(f"least max-utilisation LP: HiGHS status {res.status} ({res.message})")
    return _polish(np.maximum(res.x[:-1].reshape(k, n), 0.0), rates), float(res.x[-1])


def _solve_cvxpy(work, rates, objective):
    k, n = work.shape
    problem, x, work_param, rate_param = _routing_program(k, n, objective)
    work_param.value = work
    rate_param.value = rates
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        raise ConvergenceError(f"routing program: Clarabel failed ({exc})") from exc
    if x.value is None:
        raise ConvergenceError(f"routing program ended {problem.status}")
    return _polish(np.maximum(x.value, 0.0), rates)


@functools.lru_cache(maxsize=64)
def _routing_program(k: int, n: int, objective: str):
    """The routing program for k classes on n workers, built once with cvxpy Parameters (DPP) and
    re-solved for each cache placement: potential sum_w -log(1 - rho_w) (equilibrium) or total cost
    sum_w rho_w / (1 - rho_w) = sum_w 1 / (1 - rho_w) - n (optimum)."""
    x = cp.Variable((k, n), nonneg=True)
    work = cp.Parameter((k, n), nonneg=True)
    rates = cp.Parameter(k, nonneg=True)
    rho = cp.sum(cp.multiply(work, x), axis=0)
    if objective == "equilibrium":
        goal = cp.sum(-cp.log(1 - rho))
    elif objective == "optimum":
        goal = cp.sum(cp.inv_pos(1 - rho)) - n
    else:
        raise InvalidInputError(f"objective must be 'equilibrium' or 'optimum', got {objective!r}")
    return cp.Problem(cp.Minimize(goal), [cp.sum(x, axis=1) == rates]), x, work, rates


def _polish(flows: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Drop solver dust and rescale each class to its exact demand."""
    flows = np.where(flows < 1e-10 * max(1.0, rates.max()), 0.0, flows)
    sums = flows.sum(axis=1, keepdims=True)
    return np.where(sums > 0, flows * (rates[:, None] / np.where(sums > 0, sums, 1.0)), 0.0)


# ---------------------------------------------------------------------------------------------------
# Game 2 best response and the decode pool
# ---------------------------------------------------------------------------------------------------


def cache_best_response(system: CoupledSystem, flows: np.ndarray, current: np.ndarray | None = None) -> np.ndarray:
    """Each prefill worker keeps the ``cache_slots`` classes that save it the most busy time.

    Saving of class k on w: ``x[k, w] * (s_uncached - s_cached)``; classes with no traffic save nothing
    and are not cached. Ties keep what the worker already holds (inertia), then the lower class index.
    """
    flows = np.asarray(flows, dtype=float)
    k, n = flows.shape
    current = np.zeros((k, n), bool) if current is None else np.asarray(current, bool)
    cache = np.zeros((k, n), dtype=bool)
    for w in range(n):
        order = sorted(range(k), key=lambda c: (-round(flows[c, w], 12), not current[c, w], c))
        for c in order[: system.cache_slots]:
            if flows[c, w] > 1e-12:
                cache[c, w] = True
    return cache


@functools.lru_cache(maxsize=4096)
def decode_itl_ms(system: CoupledSystem, n_decode: int) -> float:
    """Inter-token latency (ms) of ``n_decode`` evenly loaded decode workers; ``inf`` when saturated.

    Fixed point of Little's law b = (Lambda / n_decode) * output_tokens * ITL(b) / 1000 over the batch b,
    with the context at ``input_tokens + output_tokens / 2`` (mid-generation).
    """
    if n_decode < 1:
        return math.inf
    context = system.input_tokens + system.output_tokens / 2
    return little_decode_itl_ms(lambda b: system.decode_step_ms(b, context), system.total_rate / n_decode,
                                system.output_tokens, system.max_decode_batch)


# ---------------------------------------------------------------------------------------------------
# The coupled equilibrium: best-response dynamics of the three games
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoupledEquilibrium:
    """Outcome of :func:`coupled_equilibrium`.

    ``status`` is ``"converged"`` (a fixed point of the three best responses with finite cost, certified),
    ``"cycle"`` (the dynamics revisited a state: ``cycle`` lists the states of the loop, a proof of
    non-convergence) or ``"saturated"`` (the dynamics stopped at a split whose prefill or decode pool cannot
    carry the load, ``cost_ms`` is ``inf``, and no +-1 Planner step reaches a finite cost; ``routing`` is
    ``None`` when the prefill pool is the saturated one; no certificates). When no split at all can carry the
    load, :func:`coupled_equilibrium` raises :class:`~gametheory.errors.CapacityExceededError` instead.
    """

    status: str
    n_prefill: int
    cache: np.ndarray
    routing: RoutingState | None
    ttft_ms: float
    itl_ms: float
    cost_ms: float
    certificates: tuple[Certificate, ...]
    trajectory: tuple[tuple[int, tuple], ...]
    cycle: tuple[tuple[int, tuple], ...] = field(default=())

    @property
    def converged(self) -> bool:
        return self.status == "converged"


def social_cost_ms(system: CoupledSystem, ttft_ms: float, itl_ms: float) -> float:
    """Social cost per request: TTFT + output_tokens * ITL (ms)."""
    return ttft_ms + system.output_tokens * itl_ms


def _key(n_prefill: int, cache: np.ndarray) -> tuple[int, tuple]:
    return n_prefill, tuple(map(tuple, np.asarray(cache, bool).T.astype(int)))


def _inner(system, n_prefill, cache, max_rounds):
    """Routing/caching best responses at a fixed split until the cache stops changing (or cycles)."""
    seen = {}
    for round_ in range(max_rounds):
        try:
            state = route(system, cache, "equilibrium")
            flows = state.flows
        except ConvergenceError:
            # the pool cannot carry the load with these caches: the caches still see the offered
            # traffic (split evenly while the queues grow); if that changes nothing, it is saturated
            flows = np.repeat(np.asarray(system.rates)[:, None] / n_prefill, n_prefill, axis=1)
            new = cache_best_response(system, flows, cache)
            if np.array_equal(new, cache):
                raise
            cache = new
            continue
        new = cache_best_response(system, flows, cache)
        if np.array_equal(new, cache):
            return state, cache, None
        key = _key(n_prefill, new)
        if key in seen:
            return state, new, list(seen)[seen[key]:]
        seen[_key(n_prefill, cache)] = round_
        seen.setdefault(key, round_ + 1)
        cache = new
    raise ConvergenceError(f"routing/caching dynamics did not settle in {max_rounds} rounds")


def _resize(cache: np.ndarray, n_prefill: int) -> np.ndarray:
    """Cache matrix after the Planner adds (cold, empty cache) or removes (the last) prefill workers."""
    k, n = cache.shape
    if n_prefill <= n:
        return cache[:, :n_prefill].copy()
    return np.hstack([cache, np.zeros((k, n_prefill - n), bool)])


def decode_capacity_rps(system: CoupledSystem, n_decode: int) -> float:
    """Largest total rate (requests/s) ``n_decode`` evenly loaded decode workers carry: Little's law
    b = rate * output_tokens * ITL(b) / 1000 has a solution with b <= ``max_decode_batch`` iff the per-worker
    rate is at most max_b 1000 b / (output_tokens ITL(b)) (maximized on a fine geometric grid of b)."""
    if n_decode < 1:
        return 0.0
    context = system.input_tokens + system.output_tokens / 2
    b = np.geomspace(1e-3, float(system.max_decode_batch), 400)
    step = np.array([float(system.decode_step_ms(x, context)) for x in b])
    return float(n_decode * np.max(1000.0 * b / (system.output_tokens * step)))


def prefill_capacity_rps(system: CoupledSystem, n_prefill: int) -> float:
    """Upper bound on the total rate (requests/s, at the system's class mix) ``n_prefill`` prefill workers
    carry. The pool's busy time per second, sum_w rho_w, must stay below ``n_prefill``; it is at least the
    work of serving every class uncached minus the saving of caching the ``n_prefill * cache_slots`` busiest
    classes once each (no placement saves more), and it scales linearly with the rates."""
    full, hit = system.service_s
    rates = np.sort(np.asarray(system.rates))[::-1]
    cached = min(n_prefill * system.cache_slots, rates.size)
    least_work = full * rates.sum() - (full - hit) * rates[:cached].sum()  # busy seconds per second
    return n_prefill * system.total_rate / least_work


def _check_some_split_carries(system: CoupledSystem) -> None:
    """Raise CapacityExceededError when no P/D split can carry the total rate: at every split the decode
    pool is saturated (:func:`decode_itl_ms` is infinite) or the rate reaches the prefill bound
    :func:`prefill_capacity_rps`."""
    carry = {}
    for n in range(1, system.workers):
        pre, dec = prefill_capacity_rps(system, n), decode_capacity_rps(system, system.workers - n)
        if system.total_rate < pre and math.isfinite(decode_itl_ms(system, system.workers - n)):
            return
        carry[n] = (min(pre, dec), pre, dec)
    best = max(carry, key=lambda n: carry[n][0])
    cap, pre, dec = carry[best]
    raise CapacityExceededError(
        system.total_rate, cap, "coupled system",
        f"coupled system: total rate {system.total_rate:.6g} req/s saturates every P/D split of "
        f"{system.workers} workers; the largest capacity is {cap:.6g} req/s at {best}P/{system.workers - best}D "
        f"(prefill <= {pre:.6g} req/s with the busiest prefixes cached, decode {dec:.6g} req/s)",
    )


def _pool_costs(system, n_prefill, cache, max_rounds):
    try:
        state, cache, cycle = _inner(system, n_prefill, cache, max_rounds)
    except ConvergenceError:
        return math.inf, math.inf, None, cache, None
    return state.mean_ttft_ms, decode_itl_ms(system, system.workers - n_prefill), state, cache, cycle


def coupled_equilibrium(
    system: CoupledSystem,
    n_prefill: int = 1,
    cache: np.ndarray | None = None,
    max_rounds: int = 200,
    gain: int = 1,
) -> CoupledEquilibrium:
    """Best-response dynamics of the three games from a start state, with a certificate.

    Inner loop (Games 3 and 2 at a fixed split): Wardrop routing for the current cache, then each worker's
    cache best response, until the cache is a best response to the routing it induces. Outer loop
    (Game 1): the Planner takes the +-1 step (as Dynamo's Planner does) that lowers the pools' unweighted
    cost TTFT + ITL (equal shadow prices, Proposition 1), evaluating it with the caches the workers hold (a
    new prefill worker starts cold), and moves ``gain`` workers in that direction (clipped to the valid
    splits). A repeated state (split, caches) is a cycle.

    With ``gain=1`` each Planner step lowers TTFT + ITL of the settled state strictly (the step it evaluates
    is the state it moves to), so the outer loop cannot revisit a state; a cycle could only come from the
    routing/caching loop at a fixed split (none is known: a randomized search over small systems found
    none, docs/coupled.md). A coarse Planner (``gain`` > 1) overshoots the step it evaluated and can cycle.

    Certificates of a converged point: the routing Wardrop gap; the cache best-response gap (busy time
    a worker could still save by re-caching, relative to its busy time; 0 at a fixed point); the Planner
    gap (the best +-1 move's improvement of TTFT + ITL; <= 0 at a fixed point).
    """
    k = system.classes
    if not 1 <= n_prefill <= system.workers - 1:
        raise InvalidInputError(f"n_prefill must be in [1, {system.workers - 1}], got {n_prefill!r}")
    if int(gain) != gain or gain < 1:
        raise InvalidInputError(f"gain must be an integer >= 1 (workers per Planner step), got {gain!r}")
    cache = np.zeros((k, n_prefill), bool) if cache is None else np.asarray(cache, bool)
    if cache.shape != (k, n_prefill):
        raise InvalidInputError(f"cache must have shape ({k}, {n_prefill}), got {cache.shape}")
    trajectory: list[tuple[int, tuple]] = []
    for _ in range(max_rounds):
        ttft, itl, state, cache, cycle = _pool_costs(system, n_prefill, cache, max_rounds)
        key = _key(n_prefill, cache)
        if cycle is not None:
            return _finish(system, "cycle", n_prefill, cache, state, ttft, itl, trajectory + [key], cycle)
        if key in trajectory:
            loop = trajectory[trajectory.index(key):]
            return _finish(system, "cycle", n_prefill, cache, state, ttft, itl, trajectory, loop)
        trajectory.append(key)
        move, improvement = _planner_move(system, n_prefill, cache, ttft + itl, max_rounds)
        if move == 0:
            if not math.isfinite(ttft + itl):
                _check_some_split_carries(system)
                return _finish(system, "saturated", n_prefill, cache, state, ttft, itl, trajectory, ())
            return _finish(system, "converged", n_prefill, cache, state, ttft, itl, trajectory, (), improvement)
        n_prefill = int(np.clip(n_prefill + int(gain) * move, 1, system.workers - 1))
        cache = _resize(cache, n_prefill)
    raise ConvergenceError(f"coupled dynamics did not settle in {max_rounds} Planner steps")


def _planner_move(system, n_prefill, cache, current, max_rounds):
    """The Planner's +-1 best response; returns (move, improvement of TTFT + ITL of the best move)."""
    best_move, best_gain = 0, -math.inf
    for move in (+1, -1):
        n = n_prefill + move
        if not 1 <= n <= system.workers - 1:
            continue
        ttft, itl, *_ = _pool_costs(system, n, _resize(cache, n), max_rounds)
        gain = current - (ttft + itl)
        if gain > best_gain:
            best_move, best_gain = move, gain
    tol = 1e-9 * max(1.0, abs(current)) if math.isfinite(current) else 0.0
    if not math.isfinite(current) and math.isfinite(best_gain):
        return best_move, best_gain
    return (best_move, best_gain) if best_gain > tol else (0, best_gain)


def _cache_gap(system, flows, cache) -> float:
    full, hit = system.service_s
    br = cache_best_response(system, flows, cache)
    saved = lambda c: (flows * c).sum(axis=0) * (full - hit)  # noqa: E731
    busy = (flows * system.work(cache)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(busy > 0, (saved(br) - saved(cache)) / busy, 0.0)
    return float(max(rel.max(), 0.0))


def _finish(system, status, n_prefill, cache, state, ttft, itl, trajectory, cycle, planner_gain=math.nan):
    certs: tuple[Certificate, ...] = ()
    if status == "converged":
        certs = (
            state.certificate,
            Certificate("cache_best_response_gap", _cache_gap(system, state.flows, cache), 1e-12).check(
                "coupled equilibrium cache"
            ),
            Certificate("planner_gain_ms", max(planner_gain, 0.0), 1e-9 * max(1.0, ttft + itl)).check(
                "coupled equilibrium planner"
            ),
        )
    return CoupledEquilibrium(
        status, n_prefill, cache, state, ttft, itl, social_cost_ms(system, ttft, itl), certs,
        tuple(trajectory), tuple(cycle),
    )


# ---------------------------------------------------------------------------------------------------
# The joint optimum (exact by enumeration) and the Price of Anarchy of the system and of each game
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoupledOptimum:
    """The system optimum over the split, the cache placement and the routing jointly."""

    n_prefill: int
    cache: np.ndarray
    routing: RoutingState
    ttft_ms: float
    itl_ms: float
    cost_ms: float
    evaluated: int


def cache_placements(system: CoupledSystem, n_prefill: int):
    """Every cache placement up to symmetry: a permutation of the (identical) prefill workers, and a
    relabelling of classes with equal rates (which leaves every cost unchanged).

    A worker holds a set of at most ``cache_slots`` classes; holding fewer is never better (a cached
    prefix only lowers work), so sets of exactly ``min(cache_slots, K)`` classes are enumerated.
    """
    k = system.classes
    size = min(system.cache_slots, k)
    subsets = list(itertools.combinations(range(k), size))
    groups: dict[float, list[int]] = {}
    for c, r in enumerate(system.rates):
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


@dataclass(frozen=True)
class SplitOptimum:
    """Best cache placement and routing at one split (``ttft_ms`` is ``inf`` when it cannot carry the load)."""

    n_prefill: int
    cache: np.ndarray | None
    routing: RoutingState | None
    ttft_ms: float
    itl_ms: float
    evaluated: int


def split_optima(system: CoupledSystem) -> dict[int, SplitOptimum]:
    """For every split, the cache placement and routing of least mean TTFT (exact enumeration; each
    routing is the convex optimum of :func:`route`, certified by its KKT residual)."""
    out = {}
    for n_prefill in range(1, system.workers):
        itl = decode_itl_ms(system, system.workers - n_prefill)
        best, evaluated = None, 0
        for cache in cache_placements(system, n_prefill):
            evaluated += 1
            try:
                state = route(system, cache, "optimum")
            except ConvergenceError:
                continue
            if best is None or state.mean_ttft_ms < best[1].mean_ttft_ms:
                best = (cache, state)
        if best is None:
            out[n_prefill] = SplitOptimum(n_prefill, None, None, math.inf, itl, evaluated)
        else:
            out[n_prefill] = SplitOptimum(n_prefill, best[0], best[1], best[1].mean_ttft_ms, itl, evaluated)
    return out


def joint_optimum(system: CoupledSystem, optima: dict[int, SplitOptimum] | None = None) -> CoupledOptimum:
    """Minimize TTFT + output_tokens * ITL over the split, the cache placement and the routing.

    Exact: the best of :func:`split_optima` (every split, every cache placement up to symmetry, the
    convex routing optimum for each).
    """
    optima = split_optima(system) if optima is None else optima
    feasible = [o for o in optima.values() if math.isfinite(o.ttft_ms) and math.isfinite(o.itl_ms)]
    if not feasible:
        raise ConvergenceError(
            f"no feasible configuration: the load {system.total_rate:.4g} req/s saturates every split"
        )
    best = min(feasible, key=lambda o: social_cost_ms(system, o.ttft_ms, o.itl_ms))
    return CoupledOptimum(
        best.n_prefill, best.cache, best.routing, best.ttft_ms, best.itl_ms,
        social_cost_ms(system, best.ttft_ms, best.itl_ms), sum(o.evaluated for o in optima.values()),
    )


@dataclass(frozen=True)
class SystemPoA:
    """PoA of the whole coupled system and of each game alone (others held at the joint optimum)."""

    optimum: CoupledOptimum
    equilibria: tuple[CoupledEquilibrium, ...]
    system: float  # worst converged coupled equilibrium / optimum
    system_best: float  # best converged coupled equilibrium / optimum (price of stability)
    game1: float  # Planner selfish (TTFT + ITL), caches and routing optimal for each split
    game2: float  # caches selfish (best response to the optimal routing), split and routing optimal
    game3: float  # routing selfish, split and caches at the optimum


def price_of_anarchy(system: CoupledSystem, starts: Sequence[int] | None = None) -> SystemPoA:
    """PoA of the coupled system (equilibria reached from several start splits with cold caches) and of
    each game alone, the other two held at the joint optimum:

    - Game 1 alone: the Planner's split minimizes TTFT + ITL (equal shadow prices), with the best caches
      and routing at every split;
    - Game 2 alone: each worker's cache best-responds to the optimal routing (split and routing optimal);
    - Game 3 alone: Wardrop routing under the optimal split and caches.

    When no cold start converges (every one herds into a saturated split), the dynamics are also started
    from the optimum's split and caches: a feasible state's best responses stay feasible, so an equilibrium
    with finite cost is reached and the ratios are finite whenever some split carries the load.
    """
    optima = split_optima(system)
    opt = joint_optimum(system, optima)
    starts = range(1, system.workers) if starts is None else starts
    eqs = tuple(coupled_equilibrium(system, n) for n in starts)
    if not any(e.converged for e in eqs):
        # every cold start saturated, yet the optimum carries the load: the dynamics from the optimum's
        # split and caches reach an equilibrium (a feasible state's best responses stay feasible)
        eqs += (coupled_equilibrium(system, opt.n_prefill, opt.cache),)
    costs = [e.cost_ms for e in eqs if e.converged and math.isfinite(e.cost_ms)]
    whole = max(costs) / opt.cost_ms if costs else math.inf
    best = min(costs) / opt.cost_ms if costs else math.inf

    g3 = route(system, opt.cache, "equilibrium")
    game3 = social_cost_ms(system, g3.mean_ttft_ms, opt.itl_ms) / opt.cost_ms

    cache2 = cache_best_response(system, opt.routing.flows, opt.cache)
    _, ttft = _routing_costs(system.work(cache2), opt.routing.flows)
    ttft2 = 1000.0 * float((opt.routing.flows * ttft).sum()) / system.total_rate
    game2 = social_cost_ms(system, ttft2, opt.itl_ms) / opt.cost_ms

    n1 = min(optima, key=lambda n: optima[n].ttft_ms + optima[n].itl_ms)
    game1 = social_cost_ms(system, optima[n1].ttft_ms, optima[n1].itl_ms) / opt.cost_ms
    return SystemPoA(opt, eqs, whole, best, game1, game2, game3)


@dataclass(frozen=True)
class SplitDecomposition:
    """Where the loss of a fixed P/D split comes from (:func:`decompose_fixed_split`).

    ``selfish_cost_ms``: coupled routing/caching equilibrium at the fixed split (cold caches);
    ``split_optimum_ms``: best caches and routing at that split; ``joint_optimum_ms``: best over all.
    ``routing_caching`` = selfish / split optimum (Games 2 and 3), ``split`` = split optimum / joint
    optimum (Game 1); their product is the PoA of the fixed layout.
    """

    n_prefill: int
    selfish_cost_ms: float
    split_optimum_ms: float
    joint_optimum_ms: float

    @property
    def routing_caching(self) -> float:
        """Games 2+3 factor; ``nan`` when the split cannot carry the load whatever the routing."""
        if not math.isfinite(self.split_optimum_ms):
            return math.nan
        return self.selfish_cost_ms / self.split_optimum_ms

    @property
    def split(self) -> float:
        return self.split_optimum_ms / self.joint_optimum_ms

    @property
    def total(self) -> float:
        return self.selfish_cost_ms / self.joint_optimum_ms


def decompose_fixed_split(
    system: CoupledSystem, n_prefill: int, optima: dict[int, SplitOptimum] | None = None
) -> SplitDecomposition:
    """PoA of a fixed layout (e.g. the paper's 1P/5D) split into a Game 1 and a Games 2+3 factor."""
    if not 1 <= n_prefill <= system.workers - 1:
        raise InvalidInputError(f"n_prefill must be in [1, {system.workers - 1}], got {n_prefill!r}")
    optima = split_optima(system) if optima is None else optima
    ttft, itl, _, _, _ = _pool_costs(system, n_prefill, np.zeros((system.classes, n_prefill), bool), 200)
    at_split = optima[n_prefill]
    return SplitDecomposition(
        n_prefill,
        social_cost_ms(system, ttft, itl),
        social_cost_ms(system, at_split.ttft_ms, at_split.itl_ms),
        joint_optimum(system, optima).cost_ms,
    )


# ---------------------------------------------------------------------------------------------------
# Dynamics on a load trace: Planner delay and gain
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannerTrace:
    """Split, costs and cache state per interval of :func:`planner_dynamics`."""

    n_prefill: np.ndarray
    ttft_ms: np.ndarray
    itl_ms: np.ndarray
    target: np.ndarray
    oscillating: bool


def planner_dynamics(
    system: CoupledSystem,
    load_scale: Sequence[float],
    n_prefill: int = 1,
    delay: int = 0,
    gain: int = 1,
) -> PlannerTrace:
    """Run the coupled loop on a load trace (one entry per Planner interval, multiplying ``rates``).

    Each interval the router and the caches play to their fixed point at the current split and load.
    The Planner is reactive, as Dynamo's is: it sees the system as it was ``delay`` intervals ago (split,
    caches and load), takes the Game-1 best-response direction there (the +-1 move that most lowers
    TTFT + ITL, a new worker cold; 0 when none does) and moves ``gain`` workers that way from the
    current split. ``target`` records the split that minimizes TTFT + ITL at the current load and caches.
    Delay and gain > 1 make it overshoot: ``oscillating`` is True when the split reverses direction at
    least twice.
    """
    if delay < 0 or gain < 1:
        raise InvalidInputError(f"delay must be >= 0 and gain >= 1, got delay={delay!r}, gain={gain!r}")
    scales = nonnegative_array(load_scale, "load_scale", ndim=1, min_size=1)
    k = system.classes
    cache = np.zeros((k, n_prefill), bool)
    splits, caches, ttfts, itls, targets = [], [], [], [], []
    memo: dict = {}  # load traces repeat levels: settle each (load, split, cache) once

    def settle(scale, n, start_cache):
        key = (float(scale), n, np.asarray(start_cache, bool).tobytes())
        if key not in memo:
            memo[key] = _pool_costs(_scaled(system, scale), n, start_cache, 50)
        return memo[key]

    for t, scale in enumerate(scales):
        ttft, itl, _, cache, _ = settle(scale, n_prefill, cache)
        splits.append(n_prefill)
        caches.append(cache)
        ttfts.append(ttft)
        itls.append(itl)
        options = {n: sum(settle(scale, n, _resize(cache, n))[:2]) for n in range(1, system.workers)}
        targets.append(min(options, key=options.get))
        seen = max(t - delay, 0)
        n_seen, cache_seen = splits[seen], caches[seen]
        moves = {
            m: sum(settle(scales[seen], n_seen + m, _resize(cache_seen, n_seen + m))[:2])
            for m in (+1, -1)
            if 1 <= n_seen + m <= system.workers - 1
        }
        current = ttfts[seen] + itls[seen]
        best = min(moves, key=moves.get)
        direction = best if moves[best] < current - 1e-9 * max(1.0, abs(current)) or not math.isfinite(current) else 0
        n_prefill = int(np.clip(n_prefill + gain * direction, 1, system.workers - 1))
        cache = _resize(cache, n_prefill)
    n = np.array(splits)
    moves = np.sign(np.diff(n))
    moves = moves[moves != 0]
    reversals = int((np.diff(moves) != 0).sum()) if moves.size > 1 else 0
    return PlannerTrace(n, np.array(ttfts), np.array(itls), np.array(targets), reversals >= 2)


def _scaled(system: CoupledSystem, scale: float) -> CoupledSystem:
    from dataclasses import replace

    return replace(system, rates=tuple(r * scale for r in system.rates))


# ---------------------------------------------------------------------------------------------------
# The Planner loop at a constant load: its orbit, classified (converged / oscillating / saturated)
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannerOrbit:
    """Outcome of :func:`planner_orbit`: the loop at a constant load, run until its state repeats.

    ``splits``/``ttft_ms``/``itl_ms``/``cost_ms`` (social cost, ms per request) cover every interval run:
    the transient (``transient`` intervals) then exactly one cycle (``period`` intervals), after which
    the state (split, caches and the Planner's ``delay``-interval memory) is the one at index ``transient``.
    ``status``: ``"saturated"`` when every interval of the cycle sits at a split that cannot carry the load
    (stuck there, or moving between saturated splits), else ``"converged"`` (period 1: the Planner's rule
    keeps the split) or ``"oscillating"`` (period > 1). ``amplitude`` is max - min of the splits over the cycle,
    ``mean_cost_ms`` the time average of the social cost over the cycle (``inf`` when the cycle visits a
    saturated split, ``saturated_share`` of its intervals).
    """

    status: str
    splits: np.ndarray
    ttft_ms: np.ndarray
    itl_ms: np.ndarray
    cost_ms: np.ndarray
    transient: int
    period: int
    delay: int
    gain: int
    caches: tuple = ()  # settled cache matrix (classes x prefill workers) per interval

    @property
    def cycle_splits(self) -> np.ndarray:
        return self.splits[self.transient:]

    @property
    def amplitude(self) -> int:
        return int(self.cycle_splits.max() - self.cycle_splits.min())

    @property
    def mean_cost_ms(self) -> float:
        return float(np.mean(self.cost_ms[self.transient:]))

    @property
    def saturated_share(self) -> float:
        return float(np.mean(~np.isfinite(self.cost_ms[self.transient:])))


def planner_orbit(
    system: CoupledSystem, n_prefill: int = 1, delay: int = 0, gain: int = 1, max_intervals: int = 1000
) -> PlannerOrbit:
    """The loop of :func:`planner_dynamics` at the constant load ``system.rates``, run until it repeats.

    Same rule, interval by interval: routing and caches settle at the current split; the Planner takes
    the Game-1 best-response direction of the state ``delay`` intervals back and moves ``gain`` workers
    that way. At a constant load the loop is a deterministic map on its state (the current split and
    caches plus the last ``delay`` settled (split, caches)), over a finite set: its orbit is eventually
    periodic. Once ``t >= delay`` (so the Planner's memory is full) the first repeated state ends the run
    and gives the transient and the exact period (every state is stored: the state space is small).
    Raises :class:`ConvergenceError` if no state repeats in ``max_intervals``.
    """
    if not 1 <= n_prefill <= system.workers - 1:
        raise InvalidInputError(f"n_prefill must be in [1, {system.workers - 1}], got {n_prefill!r}")
    if int(delay) != delay or delay < 0 or int(gain) != gain or gain < 1:
        raise InvalidInputError(f"delay must be an integer >= 0 and gain >= 1, got delay={delay!r}, gain={gain!r}")
    if system.workers < 3:
        raise InvalidInputError("planner_orbit needs workers >= 3 (a Planner with a single split has no move)")
    memo: dict = {}

    def settle(n, start_cache):
        key = (n, np.asarray(start_cache, bool).tobytes())
        if key not in memo:
            memo[key] = _pool_costs(system, n, start_cache, 50)
        return memo[key]

    cache = np.zeros((system.classes, n_prefill), bool)
    splits, caches, ttfts, itls = [], [], [], []
    seen_states: dict = {}
    for t in range(max_intervals):
        if t >= delay:
            history = tuple(_key(splits[i], caches[i]) for i in range(t - delay, t))
            state = (history, _key(n_prefill, cache))
            if state in seen_states:
                start = seen_states[state]
                return _orbit(system, splits, caches, ttfts, itls, start, t - start, delay, gain)
            seen_states[state] = t
        ttft, itl, _, cache, _ = settle(n_prefill, cache)
        splits.append(n_prefill)
        caches.append(cache)
        ttfts.append(ttft)
        itls.append(itl)
        seen = max(t - delay, 0)
        n_seen, cache_seen = splits[seen], caches[seen]
        moves = {
            m: sum(settle(n_seen + m, _resize(cache_seen, n_seen + m))[:2])
            for m in (+1, -1)
            if 1 <= n_seen + m <= system.workers - 1
        }
        current = ttfts[seen] + itls[seen]
        best = min(moves, key=moves.get)
        direction = best if not math.isfinite(current) or moves[best] < current - 1e-9 * max(1.0, abs(current)) else 0
        n_prefill = int(np.clip(n_prefill + gain * direction, 1, system.workers - 1))
        cache = _resize(cache, n_prefill)
    raise ConvergenceError(f"the Planner loop did not repeat a state in {max_intervals} intervals")


def _orbit(system, splits, caches, ttfts, itls, start, period, delay, gain) -> PlannerOrbit:
    ttft, itl = np.array(ttfts), np.array(itls)
    with np.errstate(invalid="ignore"):
        cost = np.where(np.isfinite(ttft) & np.isfinite(itl), ttft + system.output_tokens * itl, np.inf)
    if not np.isfinite(cost[start:]).any():
        status = "saturated"  # every interval of the cycle sits at a split that cannot carry the load
    else:
        status = "converged" if period == 1 else "oscillating"
    return PlannerOrbit(status, np.array(splits), ttft, itl, cost, start, period, delay, gain,
                        tuple(np.array(c, bool) for c in caches))
