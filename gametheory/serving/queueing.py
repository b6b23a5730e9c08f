"""Analytic closed-loop model of a disaggregated nP/mD cluster: operational bounds, the knee, approximate MVA.

The same :class:`~gametheory.serving.engine.Cluster` (profile, layout, KV link, engine configuration) and
:class:`~gametheory.serving.workload.Workload` that drive the simulator give, in closed form:

- the demand of one request alone, ``D = prefill_ms(u) + transfer + O * step(1)`` (ms; ``u`` = uncached prompt
  tokens, ``O`` = output tokens, ``step`` the decode step at the mean context);
- the most each pool can carry: ``X_prefill = n_P * b / prefill_ms(b u)`` with ``b`` the requests of a full
  prefill step (:meth:`~gametheory.serving.engine.EngineConfig.prefill_batch`), and
  ``X_decode = n_D * max_{b <= slots} b / (O * step(b))``;
- the **knee** ``C* = X_max (R_full + Z)`` (Z = think time): the population that keeps the bottleneck busy
  with full batches and no queue, by Little's law. ``R_full`` is the response time of a request served that
  way: a prefill step of ``b`` requests, ``S_b = prefill_ms(b u)``, entered after waiting for the step before
  it (requests arriving evenly over a step of b wait ``S_b (b - 1) / (2 b)`` on average for it to end), the KV
  transfer, and ``O`` decode steps at the batch Little's law gives each decode worker at ``X_max``:
  ``R_full = S_b (1 + (b - 1) / (2 b)) + transfer + O * step(b_d)``. With serial prefill (b = 1) and light
  decode batches it is the classical ``C*_0 = (D + Z) X_max`` where the asymptotic bounds
  ``X(C) <= min(C / (D + Z), X_max)`` meet (Denning & Buzen 1978); with batched prefill ``C*_0`` is only a
  lower bound, because no request is served at full batches in D. Past the knee the mean response time grows
  as ``C / X_max - Z``, so a hinge fitted to latency against C breaks near C*.

:func:`closed_loop` adds the curves between the bounds by approximate mean value analysis (Reiser & Lavenberg
1980): demands are load dependent (batching), so they are evaluated at the previous population's queue lengths:

    prefill demand per request  d_p(b) = prefill_ms(b u) / b,  b = clip(Q_p(n-1) / n_P, 1, b_full)
    R_p(n) = d_p(b) (1 + Q_p(n-1) / n_P)
    R_d(n) = O step(min(b_d, slots)) max(1, b_d / slots),  b_d = Q_d / n_D (fixed point at population n)
    X(n) = n / (Z + R_p + T_x + R_d),  Q_k(n) = X(n) R_k(n)

Units: ms and requests/ms internally; results in requests/s and ms.

References
----------
.. [1] P. J. Denning and J. P. Buzen, "The operational analysis of queueing network models", ACM Computing
   Surveys 10(3), 1978.
.. [2] M. Reiser and S. S. Lavenberg, "Mean-value analysis of closed multichain queuing networks", J. ACM
   27(2), 1980.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.serving.engine import Cluster
from gametheory.serving.workload import Workload, cluster_and_workload

__all__ = ["MAX_POPULATION", "ClosedLoopResult", "Saturation", "analytic_knee", "closed_loop", "saturation"]

#: the largest closed-loop population :func:`closed_loop` evaluates (its recursion visits every population up to
#: the largest asked for, about 12 microseconds each: a million clients take about 12 s)
MAX_POPULATION = 1_000_000


@dataclass(frozen=True)
class Saturation:
    """Operational bounds and the knee of a cluster under a workload (see the module docstring).

    Parameters
    ----------
    demand_ms : float
        D, one request alone (ms, think time excluded).
    think_ms : float
        Z, mean client think time (ms).
    uncached_tokens : float
        New prompt tokens per request (prefix caching applied).
    prefill_batch : float
        Requests in a full prefill step.
    prefill_rps, decode_rps : float
        Most the prefill and decode pools can carry (requests/s).
    bottleneck : str
        ``"prefill"`` or ``"decode"``.
    full_batch_ms : float
        R_full, the response time at full batches without a queue (ms).
    decode_batch : float
        Batch of each decode worker at X_max (Little's law).
    """

    demand_ms: float
    think_ms: float
    uncached_tokens: float
    prefill_batch: float
    prefill_rps: float
    decode_rps: float
    bottleneck: str
    full_batch_ms: float
    decode_batch: float

    @property
    def max_throughput_rps(self) -> float:
        """X_max = min(prefill_rps, decode_rps)."""
        return min(self.prefill_rps, self.decode_rps)

    @property
    def knee(self) -> float:
        """C* = X_max (R_full + Z), clients."""
        return (self.full_batch_ms + self.think_ms) * self.max_throughput_rps / 1e3

    @property
    def knee_lower(self) -> float:
        """C*_0 = (D + Z) X_max, the Denning-Buzen crossing (clients; <= C* up to rounding)."""
        return (self.demand_ms + self.think_ms) * self.max_throughput_rps / 1e3


def _little_batch(rate_per_ms: float, time_ms, b_max: float) -> float:
    """Smallest b in [1, b_max] with b >= rate * time_ms(b) (Little's law for a station whose residence time
    grows with its batch), by fixed-point iteration from 1; b_max when there is none."""
    b = 1.0
    for _ in range(200):
        nxt = min(max(rate_per_ms * time_ms(b), 1.0), b_max)
        if abs(nxt - b) < 1e-9 * max(b, 1.0):
            return nxt
        b = nxt
    return b


def _check(cluster, workload) -> Workload:
    _, wl = cluster_and_workload(cluster, workload)
    if wl.arrival_rate_per_s is not None:
        raise InvalidInputError("the closed-loop model needs closed-loop clients: workload.arrival_rate_per_s "
                                "must be None")
    return wl


def saturation(cluster: Cluster, workload: Workload | None = None) -> Saturation:
    """Demand, pool capacities and bottleneck of ``cluster`` under ``workload`` (module docstring).

    Parameters
    ----------
    cluster : Cluster
        Profile, layout, KV link and engine configuration.
    workload : Workload, optional
        Closed-loop workload (default :func:`~gametheory.serving.workload.paper_workload`); its mean input,
        output and prefix lengths are used.

    Returns
    -------
    Saturation

    Raises
    ------
    InvalidInputError
        A cluster or workload of the wrong type, or an open-loop workload.

    References
    ----------
    Denning and Buzen (1978).
    """
    wl = _check(cluster, workload)
    eng = cluster.engine
    u = eng.uncached_tokens(wl.mean_input, wl.prefix_tokens)
    b_full = eng.prefill_batch(u)
    o = wl.mean_output
    steps = cluster.step_table(wl.mean_context)
    slots = steps.size - 1
    tx = float(cluster.transfer_ms(wl.mean_input))
    demand = cluster.prefill_ms(u) + tx + o * float(steps[1])
    x_prefill = cluster.n_prefill * b_full / cluster.prefill_ms(b_full * u) * 1e3
    batches = np.arange(1, slots + 1)
    per_worker = batches / (o * steps[1:])
    x_decode = cluster.n_decode * float(per_worker.max()) * 1e3
    x_max = min(x_prefill, x_decode)

    def step(b):
        return float(np.interp(b, batches, steps[1:]))

    b_d = _little_batch(x_max / 1e3 / cluster.n_decode, lambda b: o * step(b), float(slots))
    b_p = _little_batch(x_max / 1e3 / cluster.n_prefill, lambda b: cluster.prefill_ms(b * u), b_full)
    full = cluster.prefill_ms(b_p * u) * (1.0 + (b_p - 1.0) / (2.0 * b_p)) + tx + o * step(b_d)
    return Saturation(demand, wl.think_ms, u, b_full, x_prefill, x_decode,
                      "prefill" if x_prefill <= x_decode else "decode", full, b_d)


def analytic_knee(cluster: Cluster, workload: Workload | None = None) -> float:
    """The knee C* = X_max (R_full + Z) of ``cluster`` under ``workload`` (clients); see :func:`saturation`.

    Parameters
    ----------
    cluster : Cluster
    workload : Workload, optional

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        As :func:`saturation`.

    References
    ----------
    Denning and Buzen (1978).
    """
    return saturation(cluster, workload).knee


@dataclass(frozen=True)
class ClosedLoopResult:
    """Approximate MVA at each requested concurrency.

    Parameters
    ----------
    concurrency : ndarray
        The populations asked for.
    throughput_rps : ndarray
        Requests/s.
    ttft_ms, itl_ms, latency_ms : ndarray
        Mean TTFT, ITL and response time (ms).
    bounds : Saturation
        The operational bounds and the knee.
    """

    concurrency: np.ndarray
    throughput_rps: np.ndarray
    ttft_ms: np.ndarray
    itl_ms: np.ndarray
    latency_ms: np.ndarray
    bounds: Saturation

    @property
    def knee(self) -> float:
        """C* of the bounds (clients)."""
        return self.bounds.knee


def closed_loop(cluster: Cluster, concurrency, workload: Workload | None = None) -> ClosedLoopResult:
    """Approximate MVA for C = 1 .. max(concurrency); the values at the requested C.

    Parameters
    ----------
    cluster : Cluster
    concurrency : int or array_like of int
        Closed-loop populations, 1 .. :data:`MAX_POPULATION`.
    workload : Workload, optional

    Returns
    -------
    ClosedLoopResult

    Raises
    ------
    InvalidInputError
        A population below 1 or above :data:`MAX_POPULATION`, or as :func:`saturation`.

    References
    ----------
    Reiser and Lavenberg (1980); module docstring for the load-dependent demands.
    """
    wl = _check(cluster, workload)
    cs = np.atleast_1d(np.asarray(concurrency))
    if cs.size == 0 or not np.issubdtype(cs.dtype, np.integer) or cs.min() < 1:
        raise InvalidInputError(f"concurrency must hold integers >= 1, got {concurrency!r}")
    if cs.max() > MAX_POPULATION:
        raise InvalidInputError(f"concurrency {int(cs.max()):,} is above MAX_POPULATION = {MAX_POPULATION:,} (the "
                                "recursion visits every population up to it); past the knee the throughput is "
                                "X_max and the response time C / X_max - Z (saturation())")
    bnd = saturation(cluster, wl)
    u, b_full, o, z = bnd.uncached_tokens, bnd.prefill_batch, wl.mean_output, wl.think_ms
    n_p, n_d = cluster.n_prefill, cluster.n_decode
    steps = cluster.step_table(wl.mean_context)
    slots = steps.size - 1
    tx = float(cluster.transfer_ms(wl.mean_input))

    def d_p(b):
        b = min(max(b, 1.0), b_full)
        return cluster.prefill_ms(b * u) / b

    def step(b):
        b = min(max(b, 1.0), float(slots))
        lo = int(np.floor(b))
        hi = min(lo + 1, slots)
        return float(steps[lo] + (b - lo) * (steps[hi] - steps[lo]))

    cmax = int(cs.max())
    out = np.zeros((4, cmax + 1))
    qp = qd = 0.0
    for n in range(1, cmax + 1):
        per_p = qp / n_p
        rp = d_p(per_p) * (1.0 + per_p)
        x = rd = 0.0
        for _ in range(100):  # fixed point for the decode batch at population n
            b = qd / n_d
            rd = o * step(b) * max(1.0, b / slots)
            x = n / (z + rp + tx + rd)
            if abs(x * rd - qd) < 1e-9 * n:
                break
            qd = 0.5 * qd + 0.5 * x * rd
        qp, qd = x * rp, x * rd
        out[:, n] = (x * 1e3, rp + tx + step(qd / n_d), step(qd / n_d), rp + tx + rd)
    return ClosedLoopResult(cs.astype(int), out[0, cs], out[1, cs], out[2, cs], out[3, cs], bnd)
