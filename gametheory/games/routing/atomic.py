"""Atomic routing game: each request is a player choosing one worker (unsplittable, unit weight).

Player i on worker w costs

    cost_i(w) = l_w(n_w) - omega * max_{j on w, j != i} O[i, j]

where n_w counts the requests on w (including i), l_w is evaluated at that count, and O[i, j] >= 0 is the
fraction of i's prompt served from the cache that j left on w (the prefix match rate SGLang uses). O is
identity-dependent and may be asymmetric: a short prompt that is a prefix of a long one is fully cached
next to it (O = 1) while the long one reuses only a small fraction (O << 1).

- omega = 0: Rosenthal's potential Phi(a) = sum_w sum_{j=1}^{n_w} l_w(j) (Rosenthal 1973) decreases strictly
  at every improving move, so best-response dynamics (BRD) stops at a pure Nash equilibrium.
- omega > 0 with asymmetric O: no potential exists in general; :func:`cycling_instance` is a 2-worker,
  2-request game with no pure equilibrium, on which BRD cycles (the point of the paper's Proposition 3).
- :func:`exact_optimum` and :func:`pure_equilibria` enumerate all m^n assignments (small instances).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from gametheory._validate import nonnegative_array, nonnegative_scalar
from gametheory.certificates import Certificate
from gametheory.errors import InvalidInputError
from gametheory.latency import Affine

__all__ = [
    "AtomicResult",
    "best_response_dynamics",
    "cycling_instance",
    "exact_optimum",
    "player_costs",
    "pure_equilibria",
    "rosenthal_potential",
    "social_cost",
]


def _check(curves, n: int, overlap, omega):
    if n < 1:
        raise InvalidInputError(f"need at least one player, got {n}")
    O = np.zeros((n, n)) if overlap is None else nonnegative_array(overlap, "overlap", ndim=2)
    if O.shape != (n, n):
        raise InvalidInputError(f"overlap must be {n} x {n}, got {O.shape}")
    return list(curves), O, nonnegative_scalar(omega, "omega")


def player_costs(curves, assignment, overlap=None, omega: float = 0.0) -> np.ndarray:
    """Cost of every player under ``assignment`` (worker index per player)."""
    a = np.asarray(assignment, dtype=int)
    curves, O, om = _check(curves, a.size, overlap, omega)
    counts = np.bincount(a, minlength=len(curves))
    lat = np.array([c(float(k)) for c, k in zip(curves, counts, strict=True)])
    cost = lat[a].astype(float)
    if om > 0:
        for i in range(a.size):
            mates = np.flatnonzero((a == a[i]) & (np.arange(a.size) != i))
            if mates.size:
                cost[i] -= om * O[i, mates].max()
    return cost


def deviation_cost(curves, assignment, i: int, w: int, O: np.ndarray, omega: float) -> float:
    """Cost of player i if it moved to worker w (others fixed)."""
    a = np.asarray(assignment, dtype=int).copy()
    a[i] = w
    n_w = int(np.sum(a == w))
    c = curves[w](float(n_w))
    mates = np.flatnonzero((a == w) & (np.arange(a.size) != i))
    if omega > 0 and mates.size:
        c -= omega * O[i, mates].max()
    return float(c)


def social_cost(curves, assignment, overlap=None, omega: float = 0.0) -> float:
    """Sum of the players' costs."""
    return float(player_costs(curves, assignment, overlap, omega).sum())


def rosenthal_potential(curves, assignment) -> float:
    """Phi(a) = sum_w sum_{j=1}^{n_w} l_w(j) (Rosenthal 1973)."""
    a = np.asarray(assignment, dtype=int)
    counts = np.bincount(a, minlength=len(curves))
    return float(sum(sum(c(float(j)) for j in range(1, k + 1)) for c, k in zip(curves, counts, strict=True)))


@dataclass(frozen=True)
class AtomicResult:
    """Outcome of best-response dynamics: final ``assignment``; ``converged`` (a pure NE reached) or
    ``cycle`` (the repeated sequence of assignments); ``history`` of assignments; ``potentials`` (omega = 0);
    ``certificate``: the largest gain any player has from deviating (0 at a pure NE)."""

    assignment: np.ndarray
    converged: bool
    cycle: list[tuple[int, ...]] | None
    history: list[tuple[int, ...]]
    potentials: list[float]
    certificate: Certificate
    nit: int


def _max_gain(curves, a, O, omega) -> tuple[float, int, int]:
    own = player_costs(curves, a, O, omega)
    best = (0.0, -1, -1)
    for i in range(a.size):
        for w in range(len(curves)):
            if w == a[i]:
                continue
            gain = own[i] - deviation_cost(curves, a, i, w, O, omega)
            if gain > best[0] + 1e-12:
                best = (gain, i, w)
    return best


def best_response_dynamics(curves, start, overlap=None, omega: float = 0.0, *, max_moves: int = 10000,
                           order: str = "round_robin") -> AtomicResult:
    """Best-response dynamics: players in round-robin order (or ``order="max_gain"``) move to their best
    worker while that strictly lowers their cost. Stops at a pure Nash equilibrium or when an assignment
    repeats with the same next mover (a cycle)."""
    a = np.asarray(start, dtype=int).copy()
    curves, O, om = _check(curves, a.size, overlap, omega)
    if (a < 0).any() or (a >= len(curves)).any():
        raise InvalidInputError(f"start assigns a player to a worker outside 0..{len(curves) - 1}")
    history = [tuple(a.tolist())]
    pots = [rosenthal_potential(curves, a)] if om == 0 else []
    seen = {(history[0], 0): 0}
    nxt = 0
    idle = 0
    for move in range(1, max_moves + 1):
        if order == "max_gain":
            gain, i, w = _max_gain(curves, a, O, om)
            if i < 0:
                break
        else:
            i = nxt
            nxt = (nxt + 1) % a.size
            cur = deviation_cost(curves, a, i, int(a[i]), O, om)
            devs = [deviation_cost(curves, a, i, w, O, om) for w in range(len(curves))]
            w = int(np.argmin(devs))
            if devs[w] >= cur - 1e-12:
                idle += 1
                if idle >= a.size:
                    break
                continue
            idle = 0
        a[i] = w
        state = tuple(a.tolist())
        history.append(state)
        if om == 0:
            pots.append(rosenthal_potential(curves, a))
        key = (state, nxt)
        if key in seen:
            cyc = history[seen[key]:]
            gain, _, _ = _max_gain(curves, a, O, om)
            return AtomicResult(a, False, cyc, history, pots, Certificate("max_deviation_gain", gain, 1e-12), move)
        seen[key] = len(history) - 1
    gain, _, _ = _max_gain(curves, a, O, om)
    cert = Certificate("max_deviation_gain", gain, 1e-9)
    return AtomicResult(a, cert.ok, None, history, pots, cert, len(history) - 1)


def pure_equilibria(curves, n_players: int, overlap=None, omega: float = 0.0) -> list[tuple[int, ...]]:
    """All pure Nash equilibria, by enumerating the m^n assignments (small instances)."""
    curves, O, om = _check(curves, n_players, overlap, omega)
    if len(curves) ** n_players > 200000:
        raise InvalidInputError(f"{len(curves)}^{n_players} assignments is too many to enumerate")
    out = []
    for a in itertools.product(range(len(curves)), repeat=n_players):
        if _max_gain(curves, np.array(a), O, om)[1] < 0:
            out.append(a)
    return out


def exact_optimum(curves, n_players: int, overlap=None, omega: float = 0.0) -> tuple[tuple[int, ...], float]:
    """(assignment, social cost) minimizing total cost, by enumeration (exact; gap 0)."""
    curves, O, om = _check(curves, n_players, overlap, omega)
    if len(curves) ** n_players > 200000:
        raise InvalidInputError(f"{len(curves)}^{n_players} assignments is too many to enumerate")
    best = None
    for a in itertools.product(range(len(curves)), repeat=n_players):
        v = social_cost(curves, a, O, om)
        if best is None or v < best[1]:
            best = (a, v)
    return best


def cycling_instance():
    """(curves, overlap, omega): 2 identical workers l(n) = 0.5 n, request A with a short prompt that is a
    prefix of request B's long one (O[A, B] = 1, O[B, A] = 0.1), omega = 1. A gains by joining B
    (1 - 1 = 0 < 0.5) and B gains by leaving A (0.5 < 1 - 0.1): no pure equilibrium, BRD cycles."""
    curves = [Affine(0.0, 0.5), Affine(0.0, 0.5)]
    overlap = np.array([[0.0, 1.0], [0.1, 0.0]])
    return curves, overlap, 1.0
