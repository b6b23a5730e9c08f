"""Analytic closed-loop model of a 1P/mD cluster: approximate mean value analysis (MVA).

Network (C clients, zero think time by default): prefill queue (FCFS, batched) -> KV transfer (delay) ->
decode (continuous batching on m workers, modelled as a delay station whose per-request time is
``output_tokens x step_ms(batch, context)``). Exact MVA (Reiser & Lavenberg 1980) applies to product-form
networks with fixed demands; here demands are load dependent (batching), so we use the standard
approximation of evaluating them at the previous population's queue lengths:

    prefill demand per request d_p(b) = prefill_ms(b * u) / b, b = max(1, Q_p(n-1))   (u = uncached tokens)
    decode time   R_d(n) = O * step_ms(max(1, Q_d(n-1) / m), context)
    R_p(n) = d_p(b) (1 + Q_p(n-1)),  X(n) = n / (Z + R_p + T_x + R_d)
    (past the KV-memory batch cap B, R_d is scaled by b / B: excess requests wait for a slot),  Q_k(n) = X(n) R_k(n).

Asymptotic bounds (Denning & Buzen 1978): X(C) <= min(C / D, X_max) with D = total demand of one request
alone and X_max the bottleneck throughput; the saturation point C* = D X_max = D / D_bottleneck is the
predicted knee. Units: ms and requests/ms internally; results in requests/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gametheory._validate import nonnegative_scalar
from gametheory.errors import InvalidInputError


@dataclass(frozen=True)
class ClosedLoopResult:
    """Per concurrency C: throughput_rps, ttft_ms, itl_ms, latency_ms; knee = C*; bounds."""

    concurrency: np.ndarray
    throughput_rps: np.ndarray
    ttft_ms: np.ndarray
    itl_ms: np.ndarray
    latency_ms: np.ndarray
    total_demand_ms: float
    max_throughput_rps: float
    bottleneck: str
    knee: float


def _demands(profile, n_decode, input_tokens, output_tokens, uncached_tokens, link_gb_per_s, max_prefill_tokens):
    u = input_tokens if uncached_tokens is None else uncached_tokens
    ctx = input_tokens + output_tokens / 2
    tx = float(profile.kv_transfer_ms(input_tokens, link_gb_per_s)) if link_gb_per_s else 0.0
    bmax = int(min(4096, profile.max_decode_batch(ctx)))

    def d_p(b):
        b = max(1.0, min(b, max_prefill_tokens / max(u, 1)))
        return float(profile.prefill_ms(max(b * u, 1.0))) / b

    def step(b):
        return float(profile.decode_step_ms(min(max(b, 1.0), bmax), ctx))

    return d_p, step, tx, bmax, ctx


def closed_loop(profile, n_decode: int, concurrency, *, input_tokens: int = 128, output_tokens: int = 128,
                uncached_tokens: float | None = None, think_ms: float = 0.0, link_gb_per_s: float = 900.0,
                max_prefill_tokens: int = 16384) -> ClosedLoopResult:
    """Approximate MVA for C = 1..max(concurrency); returns the values at the requested C values.

    ``uncached_tokens``: prompt tokens the prefill computes per request (default all ``input_tokens``;
    with a warm prefix cache use input - prefix). ``think_ms``: mean client think time (ms, >= 0)."""
    cs = np.atleast_1d(np.asarray(concurrency, dtype=int))
    if n_decode < 1 or cs.min() < 1 or output_tokens < 1 or input_tokens < 1:
        raise InvalidInputError("n_decode, concurrency, input_tokens and output_tokens must be >= 1")
    think_ms = nonnegative_scalar(think_ms, "think_ms")
    d_p, step, tx, bmax, _ = _demands(profile, n_decode, input_tokens, output_tokens, uncached_tokens,
                                      link_gb_per_s, max_prefill_tokens)
    cmax = int(cs.max())
    X = np.zeros(cmax + 1)
    ttft = np.zeros(cmax + 1)
    itl = np.zeros(cmax + 1)
    lat = np.zeros(cmax + 1)
    qp = qd = 0.0
    for n in range(1, cmax + 1):
        qp_prev = qp
        for _ in range(50):  # fixed point for the decode batch at population n (Q_p uses n-1, as in MVA)
            rp = d_p(max(1.0, qp_prev)) * (1.0 + qp_prev)
            b = qd / n_decode
            s = step(min(b, bmax))
            rd = output_tokens * s * max(1.0, b / bmax)  # past the KV-memory batch cap requests wait
            x = n / (think_ms + rp + tx + rd)
            if abs(x * rd - qd) < 1e-9 * n:
                break
            qd = 0.5 * qd + 0.5 * x * rd
        qp, qd = x * rp, x * rd
        X[n], ttft[n], itl[n], lat[n] = x, rp + tx + step(qd / n_decode), s, rp + tx + rd
    D, xmax, bott = bounds(profile, n_decode, input_tokens=input_tokens, output_tokens=output_tokens,
                           uncached_tokens=uncached_tokens, link_gb_per_s=link_gb_per_s,
                           max_prefill_tokens=max_prefill_tokens)
    return ClosedLoopResult(cs, X[cs] * 1e3, ttft[cs], itl[cs], lat[cs], D, xmax, bott, D * xmax / 1e3 + 0.0)


def bounds(profile, n_decode: int, *, input_tokens: int = 128, output_tokens: int = 128,
           uncached_tokens: float | None = None, link_gb_per_s: float = 900.0,
           max_prefill_tokens: int = 16384) -> tuple[float, float, str]:
    """(D ms, X_max requests/s, bottleneck name): D = one request alone (prefill + transfer + O steps at
    batch 1); X_max = min(prefill at full batches, decode at the batch b* maximizing b / step_ms(b) on n_decode
    workers, b* <= the KV-memory cap)."""
    d_p, step, tx, bmax, _ = _demands(profile, n_decode, input_tokens, output_tokens, uncached_tokens,
                                      link_gb_per_s, max_prefill_tokens)
    D = d_p(1.0) + tx + output_tokens * step(1.0)
    x_prefill = 1e3 / d_p(1e9)
    bs = np.arange(1, bmax + 1, dtype=float)
    steps = np.asarray(profile.decode_step_ms(bs, _demands_ctx(input_tokens, output_tokens)), float)
    x_decode = 1e3 * n_decode * float(np.max(bs / steps)) / output_tokens  # best batch b* = argmax b / step(b)
    return D, min(x_prefill, x_decode), ("prefill" if x_prefill < x_decode else "decode")


def _demands_ctx(input_tokens, output_tokens):
    return input_tokens + output_tokens / 2


def predicted_knee(profile, n_decode: int, **kw) -> float:
    """Saturation point C* = D x X_max (clients) from :func:`bounds`."""
    D, xmax, _ = bounds(profile, n_decode, **kw)
    return D * xmax / 1e3
