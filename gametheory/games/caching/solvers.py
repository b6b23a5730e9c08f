"""Equilibria of the selfish KV caching game: exact best responses, best-response dynamics, enumeration.

* Best response of one worker (exact): with the other workers fixed, each block b has a cost for every option
  (not held; held in tier t). Capacities make this a transportation problem (blocks -> tier slots), solved
  exactly as an assignment problem (Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``).
* Best-response dynamics (round robin, move only on strict improvement). Its certificate is the
  equilibrium gap ``max_i (cost_i(s) - best-response cost_i)``, which is 0 exactly at a pure Nash equilibrium
  (every unilateral deviation, over all feasible strategies, is checked by the exact best response).
* Enumeration of all profiles (small instances): every pure equilibrium, the social optimum by brute force,
  Price of Anarchy (worst equilibrium / optimum) and Price of Stability (best equilibrium / optimum), as the
  ``poa`` and ``pos`` fields of :class:`EnumerationResult`.

References
----------
.. [1] B.-G. Chun, K. Chaudhuri, H. Wee, M. Barreno, C. H. Papadimitriou, J. Kubiatowicz, "Selfish caching in
   distributed systems: a game-theoretic analysis", PODC 2004.
.. [2] H. W. Kuhn, "The Hungarian method for the assignment problem", Naval Research Logistics 2, 1955.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from gametheory._validate import choice, index, instance, integer, nonnegative_scalar, random_seed
from gametheory.certificates import Certificate
from gametheory.display import Readable
from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.games.caching.model import CachingModel, player_costs_batch, reach_costs
from gametheory.results import Result

__all__ = [
    "EnumerationResult",
    "best_response",
    "best_response_dynamics",
    "enumerate_profiles",
    "equilibrium_gap",
    "ratio",
    "strategies",
]

_BIG = 1e30


def _tol(game: CachingModel) -> float:
    f = game.fetch
    reach = min(float(game.recompute_ms.max()), float(f[np.isfinite(f)].max()) if np.isfinite(f).any() else 0.0)
    scale = float(game.demand.sum() * max(1.0, reach) + game.hold_cost.sum())
    return 1e-9 * max(1.0, scale)


def _option_costs(game: CachingModel, i: int, c_other_i: np.ndarray) -> np.ndarray:
    """(B, T+1) cost of each option for worker i: column 0 = not held, column 1+t = held in tier t."""
    d = game.demand[i]
    own = game.fetch[i, i, :]                                        # (T,)
    held = game.hold_cost[i][None, :] + d[:, None] * np.minimum(own[None, :], c_other_i[:, None])
    held = np.where(game.capacity[i][None, :] >= 1, held, np.inf)
    return np.concatenate([(d * c_other_i)[:, None], held], axis=1)


def best_response(game: CachingModel, s, i: int) -> tuple[np.ndarray, float]:
    """Exact best response of worker ``i`` to profile ``s``: (strategy row (B,), its cost).

    Validates ``s`` (:meth:`~gametheory.games.caching.model.CachingModel.check_profile`) and ``i`` (a worker
    index 0..n-1); raises InvalidInputError otherwise.

    Parameters
    ----------
    game : CachingModel
        The caching game.
    s : array_like of int
        Strategy profile, shape (n, B): tier index each worker holds each block in, -1 where not held.
    i : int
        The worker (0..n-1) whose best response is computed.

    Returns
    -------
    tuple of (numpy.ndarray, float)
        Worker ``i``'s best strategy row, shape (B,), tier index per block or -1; and its cost under ``s``.

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    instance(game, CachingModel, "game", what="CachingGame")
    s = game.check_profile(s)
    return _best_response(game, s, index(i, "worker", game.n, what="workers"))


def _best_response(game: CachingModel, s: np.ndarray, i: int) -> tuple[np.ndarray, float]:
    """:func:`best_response` without input checks (``s`` a feasible int profile, ``i`` a valid worker)."""
    c_other, _ = reach_costs(game, s[None])
    opt = _option_costs(game, i, c_other[0, i])                      # (B, T+1)
    B, T = game.n_blocks, game.n_tiers
    caps = game.capacity[i]
    if np.all((caps == 0) | (caps >= B)):                            # no capacity binds: per-block argmin
        choice = np.argmin(opt, axis=1)
        return choice - 1, float(opt[np.arange(B), choice].sum())
    # assignment: rows = blocks, columns = one "not held" column per block + min(cap, B) slots per tier
    cols, owner = [], []
    none_cols = np.full((B, B), _BIG)
    none_cols[np.arange(B), np.arange(B)] = opt[:, 0]
    cols.append(none_cols)
    owner += [-1] * B
    for t in range(T):
        k = int(min(caps[t], B))
        if k > 0:
            c = np.where(np.isfinite(opt[:, 1 + t]), opt[:, 1 + t], _BIG)
            cols.append(np.repeat(c[:, None], k, axis=1))
            owner += [t] * k
    cost = np.concatenate(cols, axis=1)
    rows, colidx = linear_sum_assignment(cost)
    choice = np.array(owner)[colidx[np.argsort(rows)]]
    total = float(opt[np.arange(B), choice + 1].sum())
    return choice, total


def equilibrium_gap(game: CachingModel, s) -> tuple[float, np.ndarray]:
    """``max_i (cost_i(s) - best-response cost_i)`` and the per-worker regrets (all >= 0).

    Parameters
    ----------
    game : CachingModel
        The caching game.
    s : array_like of int
        Strategy profile, shape (n, B): tier index each worker holds each block in, -1 where not held.

    Returns
    -------
    tuple of (float, numpy.ndarray)
        The largest regret (0 exactly at a pure Nash equilibrium) and every worker's regret, shape (n,);
        in the game's cost units.
    """
    instance(game, CachingModel, "game", what="CachingGame")
    s = game.check_profile(s)
    costs = game.player_costs(s)
    regrets = np.array([costs[i] - _best_response(game, s, i)[1] for i in range(game.n)])
    return float(max(regrets.max(), 0.0)), np.maximum(regrets, 0.0)


def best_response_dynamics(game: CachingModel, start=None, *, max_rounds: int = 200, seed: int | None = None,
                           order: str = "round_robin") -> Result:
    """Best-response dynamics from ``start`` to a pure Nash equilibrium.

    A worker moves only when its exact best response improves its cost by more than a tolerance. Stops at
    a round without moves; the certificate (:func:`equilibrium_gap`) is recomputed from scratch and checked.

    Parameters
    ----------
    game : CachingModel
        The game.
    start : array_like, optional
        Start profile (n, B) of tier indices or -1 (default: nobody holds anything).
    max_rounds : int
        Rounds before giving up.
    seed : int, optional
        Seed of the worker order when ``order="random"``.
    order : {"round_robin", "random"}
        Workers in index order, or shuffled each round.

    Returns
    -------
    Result
        ``profile`` (= ``x``), the social cost, extra ``player_costs``; certificate ``equilibrium_gap``.

    Raises
    ------
    InvalidInputError
        An unknown ``order``, a non-positive ``max_rounds`` or an infeasible ``start``.
    ConvergenceError
        When no equilibrium is reached in ``max_rounds`` rounds (pure equilibria need not be reached by
        dynamics in general capacitated games).

    References
    ----------
    .. [1] D. Monderer, L. S. Shapley, "Potential games", Games and Economic Behavior 14, 1996.
    """
    instance(game, CachingModel, "game", what="CachingGame")
    order = choice(order, "order", ("round_robin", "random"))
    max_rounds = integer(max_rounds, "max_rounds", minimum=1, maximum=10**7)
    s = np.full((game.n, game.n_blocks), -1, dtype=int) if start is None else game.check_profile(start).copy()
    tol = _tol(game)
    rng = np.random.default_rng(random_seed(seed))
    gap = np.inf
    for rnd in range(1, max_rounds + 1):
        moved = False
        workers = rng.permutation(game.n) if order == "random" else range(game.n)
        for i in workers:
            cur = game.player_costs(s)[i]
            row, br = _best_response(game, s, int(i))
            if br < cur - tol:
                s[i] = row
                moved = True
        if not moved:
            gap, _ = equilibrium_gap(game, s)
            cert = Certificate("equilibrium_gap", gap, tol).check("caching best-response dynamics")
            costs = game.player_costs(s)
            return Result("equilibrium", s.copy(), float(costs.sum()), cert, message=f"pure Nash equilibrium after "
                          f"{rnd} rounds of best responses", nit=rnd, method="best_response", x_name="profile",
                          player_costs=costs)
    gap, _ = equilibrium_gap(game, s)
    raise ConvergenceError(f"best-response dynamics did not settle in {max_rounds} rounds", gap, tol)


# ---------------------------------------------------------------------------------------------------------
# enumeration
# ---------------------------------------------------------------------------------------------------------
@dataclass(repr=False)
class EnumerationResult(Readable):
    """All pure equilibria and the brute-force optimum of a small game (:func:`enumerate_profiles`).

    Parameters
    ----------
    equilibria : numpy.ndarray
        (E, n, B) every pure equilibrium.
    equilibrium_costs : numpy.ndarray
        (E,) their social costs.
    optimum : numpy.ndarray
        (n, B) a socially optimal profile.
    optimum_cost : float
    n_profiles : int
        Profiles enumerated.
    poa, pos : float
        Worst / best equilibrium over the optimum.
    certificate : Certificate
        The largest equilibrium gap over the listed equilibria, re-checked exactly.
    """

    equilibria: np.ndarray        # (E, n, B) profiles
    equilibrium_costs: np.ndarray  # (E,) social costs
    optimum: np.ndarray           # (n, B) a socially optimal profile
    optimum_cost: float
    n_profiles: int
    poa: float                    # worst equilibrium / optimum
    pos: float                    # best equilibrium / optimum
    certificate: Certificate      # max equilibrium gap over the listed equilibria (re-checked exactly)

    def _display_title(self) -> str:
        return (f"enumeration of {self.n_profiles} profiles: {len(self.equilibria)} pure equilibria, "
                f"PoA {self.poa:.4g}, PoS {self.pos:.4g}")

    def best_equilibrium(self) -> Result:
        """The lowest-cost pure equilibrium as a :class:`~gametheory.results.Result`.

        Returns
        -------
        Result
            ``profile``; certificate ``equilibrium_gap`` (the enumeration's, over every listed equilibrium).

        Raises
        ------
        ConvergenceError
            When the game has no pure equilibrium.
        """
        if not self.equilibrium_costs.size:
            raise ConvergenceError(f"no pure Nash equilibrium among the {self.n_profiles} profiles")
        k = int(np.argmin(self.equilibrium_costs))
        return Result("equilibrium", self.equilibria[k], float(self.equilibrium_costs[k]), self.certificate,
                      status="exact", message=f"lowest-cost of {len(self.equilibria)} pure equilibria, by "
                      f"enumeration of {self.n_profiles} profiles", nit=self.n_profiles, method="enumeration",
                      x_name="profile")


#: most strategy rows of one worker :func:`strategies` lists
MAX_STRATEGIES = 1_000_000


def strategies(game: CachingModel, i: int) -> np.ndarray:
    """All feasible strategy rows of worker ``i``.

    Parameters
    ----------
    game : CachingModel
        The game.
    i : int
        A worker.

    Returns
    -------
    numpy.ndarray
        (S, B) rows of tier indices or -1 within worker ``i``'s capacities.

    Raises
    ------
    InvalidInputError
        A game that is not a CachingGame, a worker index out of range, or more than MAX_STRATEGIES rows.
    """
    instance(game, CachingModel, "game", what="CachingGame")
    i = index(i, "i", game.n, what="workers")
    allowed = [-1] + [t for t in range(game.n_tiers) if game.capacity[i, t] >= 1]
    if len(allowed) ** game.n_blocks > MAX_STRATEGIES:
        raise InvalidInputError(f"worker {i} has {len(allowed)}^{game.n_blocks} strategies: more than "
                                f"{MAX_STRATEGIES:,} to list")
    rows = np.array(list(itertools.product(allowed, repeat=game.n_blocks)), dtype=int).reshape(-1, game.n_blocks)
    ok = np.ones(len(rows), dtype=bool)
    for t in range(game.n_tiers):
        ok &= (rows == t).sum(axis=1) <= game.capacity[i, t]
    return rows[ok]


def ratio(a: float, b: float) -> float:
    """``a / b`` for costs: 1 when both are 0, inf when only ``b`` is.

    Parameters
    ----------
    a, b : float
        Nonnegative costs (an equilibrium's and the optimum's).

    Returns
    -------
    float
    """
    a, b = nonnegative_scalar(a, "a"), nonnegative_scalar(b, "b")
    if b > 0:
        return a / b
    return 1.0 if a <= 0 else np.inf


def enumerate_profiles(game: CachingModel, *, max_profiles: int = 2_000_000, chunk: int = 4096) -> EnumerationResult:
    """Check every feasible profile: list all pure equilibria, the brute-force optimum, PoA and PoS.

    Vectorized over chunks of profiles; a profile is an equilibrium when every worker's cost is within
    tolerance of its exact best response (so every unilateral deviation is checked). The certificate is the
    largest equilibrium gap over *every* listed equilibrium, recomputed one profile at a time with
    :func:`equilibrium_gap` (the assignment best response, not the vectorized screen) and checked before
    returning. With no pure equilibrium, PoA and PoS are NaN and the certificate is 0 (nothing to check).

    Parameters
    ----------
    game : CachingModel
    max_profiles : int
    chunk : int

    Returns
    -------
    EnumerationResult

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    instance(game, CachingModel, "game", what="CachingGame")
    max_profiles = integer(max_profiles, "max_profiles", minimum=1, maximum=10**9)
    chunk = integer(chunk, "chunk", minimum=1, maximum=10**6)
    strat = [strategies(game, i) for i in range(game.n)]
    total = int(np.prod([len(r) for r in strat], dtype=float))
    if total > max_profiles:
        raise InvalidInputError(f"{total} profiles exceed max_profiles={max_profiles}; instance too large to enumerate")
    tol = _tol(game)
    free = game.uncapacitated
    memo: dict = {}
    eq, eq_cost = [], []
    best_cost, best_prof = np.inf, None
    idx_iter = itertools.product(*[range(len(r)) for r in strat])
    while True:
        block = list(itertools.islice(idx_iter, chunk))
        if not block:
            break
        idx = np.array(block, dtype=int)
        prof = np.stack([strat[i][idx[:, i]] for i in range(game.n)], axis=1)   # (K, n, B)
        costs = player_costs_batch(game, prof)                                  # (K, n)
        social = costs.sum(axis=1)
        k = int(np.argmin(social))
        if social[k] < best_cost:
            best_cost, best_prof = float(social[k]), prof[k].copy()
        if free:
            c_other, _ = reach_costs(game, prof)                                # (K, n, B)
            own = game.fetch[np.arange(game.n), np.arange(game.n), :]           # (n, T)
            d = game.demand[None, :, :, None]
            held = game.hold_cost[None, :, None, :] + d * np.minimum(own[None, :, None, :], c_other[..., None])
            held = np.where(game.capacity[None, :, None, :] >= 1, held, np.inf)
            br = np.minimum(game.demand[None] * c_other, held.min(axis=3)).sum(axis=2)   # (K, n)
        else:
            br = np.empty(costs.shape)
            for q, p in enumerate(prof):
                for i in range(game.n):
                    key = (i, np.delete(p, i, axis=0).tobytes())   # a best response depends on the others only
                    if key not in memo:
                        memo[key] = _best_response(game, p, i)[1]
                    br[q, i] = memo[key]
        is_eq = np.all(costs - br <= tol, axis=1)
        eq.extend(prof[is_eq])
        eq_cost.extend(social[is_eq])
    eqs = np.array(eq, dtype=int).reshape(-1, game.n, game.n_blocks)
    eqc = np.array(eq_cost, dtype=float)
    if len(eqs) == 0:
        return EnumerationResult(eqs, eqc, best_prof, best_cost, total, np.nan, np.nan,
                                 Certificate("equilibrium_gap", 0.0, tol))
    # independent re-check of every listed equilibrium with the exact (assignment) best response
    gap = max(equilibrium_gap(game, e)[0] for e in eqs)
    cert = Certificate("equilibrium_gap", gap, tol).check("caching enumeration")
    return EnumerationResult(eqs, eqc, best_prof, best_cost, total, ratio(float(eqc.max()), best_cost),
                             ratio(float(eqc.min()), best_cost), cert)
