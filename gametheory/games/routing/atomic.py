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

:class:`AtomicRoutingGame` holds a game and answers the protocol of the games (``equilibrium``,
``optimum``, ``price_of_anarchy``) with :class:`~gametheory.results.Result` objects.

References
----------
.. [1] R. W. Rosenthal, "A class of games possessing pure-strategy Nash equilibria", Int. J. Game Theory 2,
   1973.
.. [2] G. Christodoulou, E. Koutsoupias, "The price of anarchy of finite congestion games", STOC 2005 (5/2 for
   atomic affine congestion games).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from gametheory._validate import (
    choice,
    index,
    integer,
    integer_array,
    nonnegative_array,
    nonnegative_scalar,
    sequence_of,
)
from gametheory.certificates import Certificate
from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.games.dynamics import Orbit, orbit
from gametheory.latency import Affine, LatencyCurve
from gametheory.results import Result

__all__ = [
    "AtomicRoutingGame",
    "best_response_dynamics",
    "deviation_cost",
    "cycling_instance",
    "exact_optimum",
    "player_costs",
    "pure_equilibria",
    "rosenthal_potential",
    "social_cost",
]


#: most players the atomic game takes (the costs are evaluated player by player)
MAX_PLAYERS = 100_000


def _check(curves, n: int, overlap, omega):
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    n = integer(n, "n_players", minimum=1, maximum=MAX_PLAYERS)
    O = np.zeros((n, n)) if overlap is None else nonnegative_array(overlap, "overlap", ndim=2)
    if O.shape != (n, n):
        raise InvalidInputError(f"overlap must be {n} x {n}, got {O.shape}")
    return curves, O, nonnegative_scalar(omega, "omega")


def _assignment(assignment, m: int, name: str = "assignment") -> np.ndarray:
    """Worker index per player: integers in 0..m-1 (at least one player)."""
    a = integer_array(assignment, name, ndim=1, minimum=0, maximum=m - 1)
    if a.size == 0:
        raise InvalidInputError(f"{name} needs at least one player")
    return a


def player_costs(curves, assignment, overlap=None, omega: float = 0.0) -> np.ndarray:
    """Cost of every player under ``assignment`` (worker index per player).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each worker, evaluated at its request count.
    assignment : array_like of int
        Worker index (0..m-1) of each player.
    overlap : array_like, optional
        O[i, j] >= 0, the fraction of i's prompt served from j's cache on a shared worker (n x n; default none).
    omega : float
        Weight (>= 0) of the cache overlap in a player's cost.

    Returns
    -------
    numpy.ndarray
        Cost of each player, ``l_w(n_w) - omega * max_j O[i, j]`` over its mates j on its worker, shape (n,).

    Raises
    ------
    InvalidInputError
        Curves that are not LatencyCurves, an assignment that is not integers in 0..m-1, a malformed overlap
        or a negative omega.
    """
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    a = _assignment(assignment, len(curves))
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
    """Cost of player i if it moved to worker w (others fixed).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each worker, evaluated at its request count.
    assignment : array_like of int
        Worker index (0..m-1) of each player.
    i : int
        The deviating player.
    w : int
        The worker it would move to.
    O : numpy.ndarray
        Overlap matrix, O[i, j] >= 0 the fraction of i's prompt cached by j (n x n), or None for none.
    omega : float
        Weight (>= 0) of the cache overlap in a player's cost.

    Returns
    -------
    float
        Player i's cost on worker w, ``l_w(n_w) - omega * max_j O[i, j]`` with i counted on w.
    """
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    a = _assignment(assignment, len(curves)).copy()
    curves, O, omega = _check(curves, a.size, O, omega)
    i = index(i, "i", a.size, what="players")
    w = index(w, "w", len(curves), what="workers")
    return _deviation_cost(curves, a, i, w, O, omega)


def _deviation_cost(curves, assignment, i, w, O, omega) -> float:
    a = assignment.copy()
    a[i] = w
    n_w = int(np.sum(a == w))
    c = curves[w](float(n_w))
    mates = np.flatnonzero((a == w) & (np.arange(a.size) != i))
    if omega > 0 and mates.size:
        c -= omega * O[i, mates].max()
    return float(c)


def social_cost(curves, assignment, overlap=None, omega: float = 0.0) -> float:
    """Sum of the players' costs.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each worker, evaluated at its request count.
    assignment : array_like of int
        Worker index (0..m-1) of each player.
    overlap : array_like, optional
        O[i, j] >= 0, the fraction of i's prompt served from j's cache on a shared worker (n x n; default none).
    omega : float
        Weight (>= 0) of the cache overlap in a player's cost.

    Returns
    -------
    float
        Sum of the players' costs (:func:`player_costs`).
    """
    return float(player_costs(curves, assignment, overlap, omega).sum())


def rosenthal_potential(curves, assignment) -> float:
    """Phi(a) = sum_w sum_{j=1}^{n_w} l_w(j) (Rosenthal 1973).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each worker, evaluated at its request count.
    assignment : array_like of int
        Worker index (0..m-1) of each player.

    Returns
    -------
    float
        Rosenthal's potential ``sum_w sum_{j=1}^{n_w} l_w(j)``.
    """
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    a = _assignment(assignment, len(curves))
    integer(a.size, "players", maximum=MAX_PLAYERS)
    counts = np.bincount(a, minlength=len(curves))
    return float(sum(sum(c(float(j)) for j in range(1, k + 1)) for c, k in zip(curves, counts, strict=True)))


def _max_gain(curves, a, O, omega) -> tuple[float, int, int]:
    own = player_costs(curves, a, O, omega)
    best = (0.0, -1, -1)
    for i in range(a.size):
        for w in range(len(curves)):
            if w == a[i]:
                continue
            gain = own[i] - _deviation_cost(curves, a, i, w, O, omega)
            if gain > best[0] + 1e-12:
                best = (gain, i, w)
    return best


def best_response_dynamics(curves, start, overlap=None, omega: float = 0.0, *, max_moves: int = 10000,
                           order: str = "round_robin") -> Orbit:
    """Best-response dynamics, one improving move at a time, to a pure equilibrium or a cycle.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        One per worker, evaluated at the worker's request count.
    start : array_like of int
        The start assignment (worker per player).
    overlap : array_like, optional
        O[i, j], the fraction of i's prompt cached by j (n x n; default none).
    omega : float
        Weight of the cache overlap.
    max_moves : int
        Moves before giving up.
    order : {"round_robin", "max_gain"}
        The next mover: the next player in index order who can strictly improve, or the player with the
        largest gain.

    Returns
    -------
    Orbit
        ``states`` = the assignment (a tuple) after each move, from ``start``; ``converged`` at a pure Nash
        equilibrium (no player can improve), else ``cycle`` = the assignments that repeat forever.

    Raises
    ------
    InvalidInputError
        A start assignment outside the workers, an unknown order, or a malformed overlap.
    ConvergenceError
        When neither happens within ``max_moves`` moves.

    References
    ----------
    .. [1] R. W. Rosenthal, "A class of games possessing pure-strategy Nash equilibria", Int. J. Game Theory
       2, 1973 (the potential that makes every improving path finite when omega = 0).
    """
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    a0 = _assignment(start, len(curves), "start").copy()
    curves, O, om = _check(curves, a0.size, overlap, omega)
    order = choice(order, "order", ("round_robin", "max_gain"))
    max_moves = integer(max_moves, "max_moves", minimum=1, maximum=10**8)
    n, m = a0.size, len(curves)

    def move(state):
        """One improving move from (assignment, next mover); the same state when nobody can improve."""
        a, nxt = np.array(state[0]), state[1]
        if order == "max_gain":
            _, i, w = _max_gain(curves, a, O, om)
            if i < 0:
                return state
            a[i] = w
            return tuple(a.tolist()), 0
        for i in [(nxt + k) % n for k in range(n)]:
            cur = _deviation_cost(curves, a, i, int(a[i]), O, om)
            devs = [_deviation_cost(curves, a, i, w, O, om) for w in range(m)]
            w = int(np.argmin(devs))
            if devs[w] < cur - 1e-12:
                a[i] = w
                return tuple(a.tolist()), (i + 1) % n
        return state

    path = orbit(move, (tuple(a0.tolist()), 0), max_steps=max_moves)
    return Orbit(tuple(a for a, _ in path.states), path.transient, path.period)


def pure_equilibria(curves, n_players: int, overlap=None, omega: float = 0.0) -> list[tuple[int, ...]]:
    """All pure Nash equilibria, by enumerating the m^n assignments (small instances).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each worker, evaluated at its request count.
    n_players : int
        Number of players (unit requests).
    overlap : array_like, optional
        O[i, j] >= 0, the fraction of i's prompt served from j's cache on a shared worker (n x n; default none).
    omega : float
        Weight (>= 0) of the cache overlap in a player's cost.

    Returns
    -------
    list of tuple of int
        Every assignment (worker per player) from which no player can strictly improve; empty if none.

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    curves, O, om = _check(curves, n_players, overlap, omega)
    n_players = integer(n_players, "n_players")
    if len(curves) ** n_players > 200000:
        raise InvalidInputError(f"{len(curves)}^{n_players} assignments is too many to enumerate")
    out = []
    for a in itertools.product(range(len(curves)), repeat=n_players):
        if _max_gain(curves, np.array(a), O, om)[1] < 0:
            out.append(a)
    return out


def exact_optimum(curves, n_players: int, overlap=None, omega: float = 0.0) -> tuple[tuple[int, ...], float]:
    """(assignment, social cost) minimizing total cost, by enumeration (exact; gap 0).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency of each worker, evaluated at its request count.
    n_players : int
        Number of players (unit requests).
    overlap : array_like, optional
        O[i, j] >= 0, the fraction of i's prompt served from j's cache on a shared worker (n x n; default none).
    omega : float
        Weight (>= 0) of the cache overlap in a player's cost.

    Returns
    -------
    tuple of (tuple of int, float)
        The assignment of least social cost (first found in enumeration order) and that cost.

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    curves, O, om = _check(curves, n_players, overlap, omega)
    n_players = integer(n_players, "n_players")
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
    (1 - 1 = 0 < 0.5) and B gains by leaving A (0.5 < 1 - 0.1): no pure equilibrium, BRD cycles.

    Returns
    -------
    tuple of (list of LatencyCurve, numpy.ndarray, float)
        The two worker curves, the 2 x 2 overlap matrix and omega = 1.0.
    """
    curves = [Affine(0.0, 0.5), Affine(0.0, 0.5)]
    overlap = np.array([[0.0, 1.0], [0.1, 0.0]])
    return curves, overlap, 1.0


@dataclass(frozen=True)
class AtomicRoutingGame:
    """The atomic routing game: ``n_players`` unit requests each choose one worker.

    Parameters
    ----------
    latencies : sequence of LatencyCurve
        One per worker, evaluated at the worker's request count.
    n_players : int
        Requests.
    overlap : array_like, optional
        O[i, j] >= 0, the fraction of i's prompt served from j's cache on a shared worker (n x n).
    omega : float
        Weight of the overlap.

    Raises
    ------
    InvalidInputError
        No worker, a curve that is not a LatencyCurve, fewer than one player, or a malformed overlap.

    References
    ----------
    .. [1] R. W. Rosenthal, "A class of games possessing pure-strategy Nash equilibria", 1973.
    """

    latencies: tuple
    n_players: int
    overlap: np.ndarray | None = field(default=None)
    omega: float = 0.0

    def __post_init__(self):
        curves = tuple(sequence_of(self.latencies, LatencyCurve, "latencies", what="LatencyCurve"))
        _, O, om = _check(curves, self.n_players, self.overlap, self.omega)
        object.__setattr__(self, "latencies", curves)
        object.__setattr__(self, "n_players", int(self.n_players))
        object.__setattr__(self, "overlap", O)
        object.__setattr__(self, "omega", om)

    def social_cost(self, assignment) -> float:
        """Sum of the players' costs under ``assignment`` (worker per player).

        Parameters
        ----------
        assignment : array_like of int
            Worker index (0..m-1) of each player.

        Returns
        -------
        float
            Sum of the players' costs (:func:`player_costs`).
        """
        return social_cost(self.latencies, assignment, self.overlap, self.omega)

    def _result(self, kind, a, gain, status, message, nit, method) -> Result:
        cert = Certificate("max_deviation_gain" if kind == "equilibrium" else "enumeration_gap", gain, 1e-9)
        return Result(kind, tuple(int(v) for v in a), self.social_cost(a), cert, status=status, message=message,
                      nit=nit, method=method, x_name="assignment")

    def equilibrium(self, method: str = "best_response", *, start=None, order: str = "round_robin",
                    max_moves: int = 10000) -> Result:
        """A pure Nash equilibrium.

        Parameters
        ----------
        method : {"best_response", "enumeration"}
            ``"best_response"`` (default): :func:`best_response_dynamics` from ``start`` (default: players
            spread round robin over the workers). ``"enumeration"``: the lowest-cost of all pure equilibria.
        start, order, max_moves
            Passed to :func:`best_response_dynamics`.

        Returns
        -------
        Result
            ``assignment`` (= ``x``); certificate ``max_deviation_gain`` (0 at an equilibrium).

        Raises
        ------
        InvalidInputError
            An unknown method, or too many assignments to enumerate.
        ConvergenceError
            When best-response dynamics cycles (no pure equilibrium reached; the message lists the cycle), or
            the game has no pure equilibrium at all (enumeration).
        """
        method = choice(method, "method", ("best_response", "enumeration"))
        if method == "best_response":
            start = [i % len(self.latencies) for i in range(self.n_players)] if start is None else start
            path = best_response_dynamics(self.latencies, start, self.overlap, self.omega, max_moves=max_moves,
                                          order=order)
            if not path.converged:
                raise ConvergenceError(f"best-response dynamics cycles through {list(path.cycle)}")
            a = np.array(path.final)
            gain = _max_gain(self.latencies, a, self.overlap, self.omega)[0]
            return self._result("equilibrium", a, gain, "converged", f"best-response dynamics, {path.nit - 1} "
                                "improving moves", path.nit - 1, method)
        if method == "enumeration":
            eqs = pure_equilibria(self.latencies, self.n_players, self.overlap, self.omega)
            if not eqs:
                raise ConvergenceError("the atomic game has no pure Nash equilibrium")
            a = np.array(min(eqs, key=self.social_cost))
            gain = _max_gain(self.latencies, a, self.overlap, self.omega)[0]
            return self._result("equilibrium", a, gain, "exact", f"lowest-cost of {len(eqs)} pure equilibria",
                                len(self.latencies) ** self.n_players, method)
        raise InvalidInputError(f"method must be 'best_response' or 'enumeration', got {method!r}")

    def optimum(self, method: str = "enumeration") -> Result:
        """The assignment of least social cost.

        Parameters
        ----------
        method : {"enumeration"}
            Every one of the m^n assignments (the only method; small instances).

        Returns
        -------
        Result
            ``assignment``; certificate ``enumeration_gap`` = 0.

        Raises
        ------
        InvalidInputError
            An unknown method, or too many assignments to enumerate.
        """
        choice(method, "method", ("enumeration",))
        a, _ = exact_optimum(self.latencies, self.n_players, self.overlap, self.omega)
        return self._result("optimum", np.array(a), 0.0, "exact", "enumeration of every assignment",
                            len(self.latencies) ** self.n_players, method)

    def price_of_anarchy(self) -> float:
        """Social cost of the worst pure equilibrium / the optimum, by enumeration.

        Returns
        -------
        float
            Worst pure-equilibrium social cost over the optimal social cost (>= 1, dimensionless).

        Raises
        ------
        ConvergenceError
            When the game has no pure equilibrium.
        InvalidInputError
            When the optimum's cost is <= 0 (the ratio is undefined) or the instance is too large.

        References
        ----------
        .. [1] G. Christodoulou, E. Koutsoupias, "The price of anarchy of finite congestion games", STOC 2005.
        """
        eqs = pure_equilibria(self.latencies, self.n_players, self.overlap, self.omega)
        if not eqs:
            raise ConvergenceError("the atomic game has no pure Nash equilibrium: its PoA is undefined")
        opt = self.optimum().cost
        if opt <= 0:
            raise InvalidInputError(f"optimum social cost {opt:.6g} <= 0: the PoA ratio is undefined")
        return max(self.social_cost(a) for a in eqs) / opt
