"""The decode pool's inter-token latency from its step-latency curve, by Little's law.

Shared by Game 1's pool costs (:mod:`gametheory.serving.pool_costs`) and the coupled system
(:mod:`gametheory.games.coupled`): a decode worker fed ``rate`` requests/s, each generating
``output_tokens`` tokens, carries the batch b that solves ``b = rate * output_tokens * ITL(b) / 1000``;
:func:`decode_capacity_rps` is the largest rate for which that batch fits.

References
----------
.. [1] J. D. C. Little, "A proof for the queuing formula L = lambda W", Operations Research 9, 1961.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq, minimize_scalar

from gametheory._validate import function, nonnegative_scalar, positive_scalar
from gametheory.errors import InvalidInputError

__all__ = ["decode_capacity_rps", "little_decode_itl_ms"]


def little_decode_itl_ms(step_ms: Callable, rate_per_worker_rps: float, output_tokens: float,
                         max_batch: float) -> float:
    """Inter-token latency (ms) of one decode worker fed ``rate_per_worker_rps``; ``inf`` when saturated.

    ``step_ms(batch)``: the decode step latency (ms) at the worker's context. The batch b is the smallest
    fixed point of Little's law ``b = rate * output_tokens * ITL(b) / 1000`` in
    ``[0, max_batch]`` (a geometric scan for the first sign change, then Brent's method); the ITL is the
    step latency at ``max(b, 1)`` (a worker never runs less than one sequence).

    Parameters
    ----------
    step_ms : callable
        Batch -> decode step latency (ms) at the worker's context (vectorized or scalar).
    rate_per_worker_rps : float
        Requests/s the worker is fed.
    output_tokens : float
        Tokens each request decodes.
    max_batch : float
        Sequences the worker can hold.

    Returns
    -------
    float
        ms; ``inf`` when no fixed point fits in ``max_batch`` (the worker is saturated).
    """
    function(step_ms, "step_ms")
    rate_per_worker_rps = nonnegative_scalar(rate_per_worker_rps, "rate_per_worker_rps")
    output_tokens = positive_scalar(output_tokens, "output_tokens")
    max_batch = positive_scalar(max_batch, "max_batch")
    per_worker = rate_per_worker_rps * output_tokens / 1000.0

    def step(b):
        raw = step_ms(b)
        if isinstance(raw, (str, bytes, bool, np.bool_)) or not isinstance(raw, (int, float, np.number)):
            raise InvalidInputError(f"step_ms({b:.6g}) returned {raw!r}: a step latency must be a number (ms)")
        value = float(raw)
        if math.isnan(value) or value < 0:
            raise InvalidInputError(f"step_ms({b:.6g}) returned {value!r}: a step latency must be >= 0 (ms)")
        return value

    def excess(b):
        return per_worker * step(b) - b

    grid = np.unique(np.r_[0.0, np.geomspace(1e-3, float(max_batch), 200)])
    try:  # vectorized step-latency functions (profiles) are evaluated in one call
        values = per_worker * np.asarray(step_ms(grid), dtype=float) - grid
        if values.shape != grid.shape or np.isnan(values).any():
            raise TypeError
    except (TypeError, ValueError):
        values = np.array([excess(b) for b in grid])
    below = np.flatnonzero(values <= 0)
    if below.size == 0:
        return math.inf
    i = int(below[0])
    b = 0.0 if i == 0 else brentq(excess, grid[i - 1], grid[i], xtol=1e-12)
    return step(max(b, 1.0))


def decode_capacity_rps(step_ms: Callable, output_tokens: float, max_batch: float) -> float:
    """Largest request rate (requests/s) one decode worker carries: Little's law
    ``b = rate * output_tokens * ITL(b) / 1000`` has a solution with ``b <= max_batch`` exactly when
    ``rate <= max_b 1000 b / (output_tokens ITL(b))``.

    The maximum over ``b`` in ``(0, max_batch]`` is bracketed on a 400-point geometric grid and refined by
    bounded Brent minimization (scipy ``minimize_scalar``) between the grid neighbours of the best point.

    Parameters
    ----------
    step_ms : callable
        Batch -> decode step latency (ms) at the worker's context.
    output_tokens : float
        Tokens each request decodes.
    max_batch : float
        Sequences the worker can hold.

    Returns
    -------
    float
        Requests/s; :func:`little_decode_itl_ms` is finite below it and infinite above.

    References
    ----------
    .. [1] J. D. C. Little, "A proof for the queuing formula L = lambda W", Operations Research 9, 1961.
    .. [2] R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall 1973.
    """
    function(step_ms, "step_ms")
    output_tokens = positive_scalar(output_tokens, "output_tokens")
    max_batch = positive_scalar(max_batch, "max_batch")

    def throughput(b):
        step = nonnegative_scalar(step_ms(b), f"step_ms({b:.6g})")
        return 1000.0 * b / (output_tokens * step) if step > 0 else np.inf

    grid = np.geomspace(1e-3, float(max_batch), 400)
    try:  # vectorized step-latency functions (profiles) are evaluated in one call
        values = 1000.0 * grid / (output_tokens * np.asarray(step_ms(grid), dtype=float))
        if values.shape != grid.shape:
            raise TypeError
    except (TypeError, ValueError):
        values = np.array([throughput(b) for b in grid])
    i = int(np.argmax(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
    if hi > lo:
        res = minimize_scalar(lambda b: -throughput(b), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-9 * hi})
        return float(max(values[i], -res.fun))
    return float(values[i])
