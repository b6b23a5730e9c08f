"""Game 1 in whole workers: the prefill/decode split in tensor-parallel-sized steps.

A worker holds ``step`` GPUs (the TP size), so the budget of ``G`` GPUs holds ``N = floor(G / step)``
workers and a full-budget split is ``(n_P, n_D) = (n, N - n)`` workers, i.e. ``(G_P, G_D) = (n step,
(N - n) step)`` GPUs (any ``G - N step`` leftover GPUs cannot host a worker and stay idle). A split is
*feasible* when both pools hold at least one worker, at least their ``min_gpus``, and both costs are finite
(the pool is not saturated): the integer points of ``PDResourceGame.domain``.

Solution concepts on this grid (the discrete counterparts of :mod:`gametheory.games.resource`):

- **Best responses / generalized Nash equilibria.** Given the other pool's GPUs, a pool's best response is
  every feasible count of its own that minimizes its cost within what the budget leaves. With
  non-increasing costs the largest such count is always a best response, so *every full-budget feasible
  split is a generalized Nash equilibrium* (neither pool can add a worker without breaking the shared
  budget, and dropping one cannot lower its cost). With strictly decreasing costs these are the only GNE.
  The GNEP alone therefore does not select a split (:func:`is_generalized_nash`, :func:`best_responses`).
- **Integer variational equilibrium (VE).** The continuous VE is a stationary point of ``C_P + C_D`` on
  the budget line (its VI map is that sum's gradient). On the grid: a split where no one-worker transfer
  lowers ``C_P + C_D``. Writing ``dP(n) = C_P(n) - C_P(n + 1)`` for the prefill pool's gain from its
  (n+1)-th worker and ``dD(m)`` likewise, that is the *discrete equal-marginal condition*
  ``dP(n) <= dD(N - n - 1)`` and ``dD(N - n) <= dP(n - 1)`` (Proposition 1 with differences for
  derivatives; a discrete local minimum, Murota, "Discrete Convex Analysis", 2003, for separable convex
  costs where local = global). The certificate is the largest improvement of a one-step transfer, which
  must be <= 0 (up to ``TIE_RTOL`` of the cost: exact ties differ by float round-off; 0 when neither
  neighbouring split is feasible, so no transfer exists).
- **Integer optimum** of the weighted social cost ``w_P C_P + w_D C_D``: exhaustive enumeration of the
  feasible splits (vectorized; G = 1024 GPUs in steps of 8 is 127 splits), certified by the same one-step
  test on the weighted cost. **Integer PoA** = weighted cost at the worst integer VE / at the integer
  optimum.

:func:`compare_with_rounding` shows when the integer VE is not the continuous VE rounded to the grid.

References
----------
.. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
.. [2] K. Murota, *Discrete Convex Analysis*, SIAM 2003 (local = global minima of separable convex
   functions on the grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gametheory._validate import choice, instance, integer, nonnegative_scalar, pair
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, CertificateError, InvalidInputError
from gametheory.games.resource.continuous import continuous_equilibrium, continuous_optimum
from gametheory.games.resource.model import PDResourceModel
from gametheory.results import Result

__all__ = [
    "RoundingComparison",
    "SplitTable",
    "best_responses",
    "compare_with_rounding",
    "integer_equilibria",
    "integer_equilibrium",
    "integer_optimum",
    "integer_price_of_anarchy",
    "is_generalized_nash",
    "one_step_certificate",
    "split_table",
]

#: relative tolerance of the monotonicity check (a cost may not rise by more than this between workers)
MONOTONE_RTOL = 1e-9
#: a one-step transfer "improves" only when it lowers the objective by more than this fraction of it: exact
#: ties (e.g. 1/16 + 5/48 = 1/24 + 5/40) differ by float round-off and must count as ties, not improvements
TIE_RTOL = 1e-12


# --------------------------------------------------------------------------------------------- the grid
@dataclass(frozen=True)
class SplitTable:
    """Every full-budget split on the worker grid and both pool costs there (one cost evaluation per split).

    ``prefill_workers[k]`` = n_P of the k-th split (ascending), ``prefill_gpus``/``decode_gpus`` in GPUs,
    ``prefill_costs``/``decode_costs`` = C_P(G_P), C_D(G_D) (``inf`` where a pool is saturated),
    ``feasible`` = both costs finite and the ``min_gpus`` bounds met. ``workers`` = N, ``step`` = GPUs per
    worker, ``weights`` = the game's (w_P, w_D).

    Parameters
    ----------
    step, workers : int
        GPUs per worker; workers in the budget.
    weights : tuple of float
        The game's (w_P, w_D).
    prefill_workers, prefill_gpus, decode_gpus : numpy.ndarray
        The splits.
    prefill_costs, decode_costs : numpy.ndarray
        C_P, C_D per split (inf where saturated).
    feasible : numpy.ndarray
        Boolean per split.
    """

    step: int
    workers: int
    weights: tuple[float, float]
    prefill_workers: np.ndarray
    prefill_gpus: np.ndarray
    decode_gpus: np.ndarray
    prefill_costs: np.ndarray
    decode_costs: np.ndarray
    feasible: np.ndarray

    @property
    def vi_costs(self) -> np.ndarray:
        """``C_P + C_D`` per split: the potential whose one-step local minima are the integer VE."""
        return self.prefill_costs + self.decode_costs

    def social_costs(self, weights: tuple[float, float] | None = None) -> np.ndarray:
        """``w_P C_P + w_D C_D`` per split (the game's weights unless given).

        Parameters
        ----------
        weights : tuple of float, optional

        Returns
        -------
        numpy.ndarray
        """
        w = self.weights if weights is None else pair(weights, "weights", positive=True)
        return w[0] * self.prefill_costs + w[1] * self.decode_costs

    def index(self, prefill_workers: int) -> int:
        """Row of the split with ``prefill_workers`` prefill workers.

        Parameters
        ----------
        prefill_workers : int

        Returns
        -------
        int

        Raises
        ------
        InvalidInputError
            When ``prefill_workers`` is not an integer or the split is not on the table.
        """
        prefill_workers = integer(prefill_workers, "prefill_workers")
        k = prefill_workers - int(self.prefill_workers[0])
        if not 0 <= k < self.prefill_workers.size or self.prefill_workers[k] != prefill_workers:
            raise InvalidInputError(
                f"prefill_workers = {prefill_workers!r} is not a split of {self.workers} workers "
                f"(1 .. {self.workers - 1})"
            )
        return k

    def one_step_improvements(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(up, down): how much ``values`` drops when one worker moves decode -> prefill (up) or
        prefill -> decode (down); ``-inf`` where the move leaves the feasible splits, ``+inf`` where it
        leaves an infeasible split for a feasible one.

        Parameters
        ----------
        values : numpy.ndarray
            One objective value per split.

        Returns
        -------
        up, down : numpy.ndarray
        """
        v = np.where(self.feasible, values, math.inf)
        up = np.full(v.size, -math.inf)
        down = np.full(v.size, -math.inf)
        with np.errstate(invalid="ignore"):
            up[:-1] = np.where(self.feasible[1:], v[:-1] - v[1:], -math.inf)
            down[1:] = np.where(self.feasible[:-1], v[1:] - v[:-1], -math.inf)
        # inf - inf (an infeasible split next to an infeasible one) is no improvement
        up[np.isnan(up)] = -math.inf
        down[np.isnan(down)] = -math.inf
        return up, down


def split_table(game: PDResourceModel, step: int | None = None) -> SplitTable:
    """Evaluate both pool costs on every full-budget split of ``game`` in workers of ``step`` GPUs
    (``game.step`` unless given; 1 GPU when neither is set).

    Raises :class:`InvalidInputError` when the budget cannot hold one worker per pool or a cost rises with
    its pool's GPUs, :class:`CapacityExceededError` when no split keeps both pools unsaturated.

    Parameters
    ----------
    game : PDResourceModel
        The game.
    step : int, optional
        GPUs per worker (``game.step`` unless given; 1 GPU when neither is set).

    Returns
    -------
    SplitTable

    Raises
    ------
    InvalidInputError
        The budget cannot hold one worker per pool, or a cost rises with its GPUs.
    CapacityExceededError
        When no split keeps both pools unsaturated.
    """
    step = _step(game, step)
    n_workers = int(math.floor(game.total_gpus / step + 1e-12))
    if n_workers < 2:
        raise InvalidInputError(
            f"total_gpus = {game.total_gpus:g} cannot hold one prefill and one decode worker of step = {step} GPUs"
        )
    n_p = np.arange(1, n_workers)
    g_p = (n_p * step).astype(float)
    g_d = ((n_workers - n_p) * step).astype(float)
    c_p = _evaluate(game.prefill_cost, g_p, "prefill_cost")
    c_d = _evaluate(game.decode_cost, g_d, "decode_cost")
    feasible = np.isfinite(c_p) & np.isfinite(c_d) & (g_p >= game.min_gpus[0]) & (g_d >= game.min_gpus[1])
    if not feasible.any():
        raise CapacityExceededError(
            math.inf, game.total_gpus,
            message=f"GPU budget: no split of {n_workers} workers of {step} GPUs keeps both pools unsaturated and "
            f"above min_gpus {game.min_gpus}",
        )
    _check_non_increasing(g_p, c_p, "prefill_cost")
    _check_non_increasing(g_d[::-1], c_d[::-1], "decode_cost")
    return SplitTable(step, n_workers, tuple(game.weights), n_p, g_p, g_d, c_p, c_d, feasible)


# --------------------------------------------------------------------------------------------- solutions
def integer_equilibria(game: PDResourceModel, step: int | None = None, table: SplitTable | None = None
                       ) -> list[Result]:
    """Every integer variational equilibrium, by enumeration of the worker grid.

    Parameters
    ----------
    game : PDResourceModel
        The game.
    step : int, optional
        GPUs per worker (``game.step`` unless given; 1 GPU when neither is set).
    table : SplitTable, optional
        A table already evaluated for this game (saves the cost evaluations).

    Returns
    -------
    list of Result
        Feasible splits where no one-worker transfer lowers ``C_P + C_D``, ascending in G_P. For convex
        costs these are the minimizers of ``C_P + C_D`` on the grid (one split, or adjacent ties);
        non-convex costs can have several separated ones. Each result: ``split`` (GPUs), extras ``workers``
        (n_P, n_D), ``pool_costs``, ``vi_cost`` (C_P + C_D), ``gains`` (each pool's cost drop from one more
        worker), ``multiplier`` (lo, hi): the bracket of worker prices that support the split (the discrete
        "equal marginal improvement"), ``ties`` (every split with the same status), ``n_splits``, ``step``,
        ``unique``. Certificate: the largest one-step improvement, <= 0.

    Raises
    ------
    InvalidInputError
        When the budget cannot hold one worker per pool or a cost rises with its GPUs.
    CapacityExceededError
        When no split keeps both pools unsaturated.

    References
    ----------
    .. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
    """
    table = _table(game, step, table)
    up, down = table.one_step_improvements(table.vi_costs)
    slack = TIE_RTOL * np.abs(table.vi_costs)
    idx = np.flatnonzero(table.feasible & (up <= slack) & (down <= slack))
    if idx.size == 0:  # impossible: the feasible minimizer of C_P + C_D is always one
        raise CertificateError("no split passes the one-step transfer test; the cost table is inconsistent")
    ties = tuple((float(table.prefill_gpus[k]), float(table.decode_gpus[k])) for k in idx)
    return [_solution(table, int(k), "equilibrium", table.vi_costs, ties) for k in idx]


def integer_equilibrium(game: PDResourceModel, step: int | None = None, table: SplitTable | None = None
                        ) -> Result:
    """The integer VE of least ``C_P + C_D`` (the global minimizer on the grid).

    Parameters
    ----------
    game, step, table
        As for :func:`integer_equilibria` (which lists all of them).

    Returns
    -------
    Result
        As for :func:`integer_equilibria`; its certificate is checked before return.

    Raises
    ------
    InvalidInputError, CapacityExceededError
        As for :func:`integer_equilibria`.
    """
    equilibria = integer_equilibria(game, step, table)
    return min(equilibria, key=lambda s: s.vi_cost)


def integer_optimum(game: PDResourceModel, step: int | None = None, table: SplitTable | None = None
                    ) -> Result:
    """The split of least weighted social cost ``w_P C_P + w_D C_D`` on the worker grid.

    Parameters
    ----------
    game, step, table
        As for :func:`integer_equilibria`.

    Returns
    -------
    Result
        By enumeration of every feasible split; ``ties`` lists every split attaining the least cost.
        Certified by the one-step test on the weighted cost.

    Raises
    ------
    InvalidInputError, CapacityExceededError
        As for :func:`integer_equilibria`.
    """
    table = _table(game, step, table)
    social = np.where(table.feasible, table.social_costs(), math.inf)
    best = float(social.min())
    idx = np.flatnonzero(social <= best + TIE_RTOL * abs(best))
    ties = tuple((float(table.prefill_gpus[k]), float(table.decode_gpus[k])) for k in idx)
    return _solution(table, int(idx[0]), "optimum", table.social_costs(), ties)


def integer_price_of_anarchy(game: PDResourceModel, step: int | None = None, table: SplitTable | None = None
                             ) -> float:
    """Weighted social cost at the *worst* integer VE / at the integer optimum.

    Parameters
    ----------
    game, step, table
        As for :func:`integer_equilibria`.

    Returns
    -------
    float
        The ratio, at least 1.

    Raises
    ------
    InvalidInputError
        When the optimum's social cost is <= 0.
    CertificateError
        When the ratio falls below 1 (the enumerated optimum would not be optimal).
    """
    table = _table(game, step, table)
    worst = max(s.cost for s in integer_equilibria(game, table=table))
    best = integer_optimum(game, table=table).cost
    if not best > 0:
        raise InvalidInputError(f"the integer optimum's social cost is {best!r} <= 0: the PoA ratio is undefined")
    poa = worst / best
    if poa < 1 - 1e-12:
        raise CertificateError(f"integer PoA = {poa!r} < 1: the enumerated optimum is not optimal")
    return max(poa, 1.0)


def one_step_certificate(game: PDResourceModel, prefill_workers: int, step: int | None = None,
                         weights: tuple[float, float] | None = (1.0, 1.0)) -> Certificate:
    """The integer-VE certificate of any split (``weights=(1, 1)``; ``None`` = the game's weights, i.e. the
    optimum's local test): the largest drop of ``w_P C_P + w_D C_D`` from moving one worker either way.
    It holds (``.ok``) when that drop is <= 0; it is ``inf`` at an infeasible split next to a feasible one.

    Parameters
    ----------
    game : PDResourceModel
        The game.
    prefill_workers : int
        The split.
    step : int, optional
        GPUs per worker (``game.step`` unless given; 1 GPU when neither is set).
    weights : tuple of float or None
        (1, 1) for the VE test; None for the game's weights (the optimum's local test).

    Returns
    -------
    Certificate
        Kind ``one_step_improvement``.
    """
    table = split_table(game, step)
    weights = None if weights is None else pair(weights, "weights", positive=True)
    k = table.index(prefill_workers)
    up, down = table.one_step_improvements(table.social_costs(weights))
    worst = _no_move_is_zero(max(float(up[k]), float(down[k])))
    if not table.feasible[k]:
        worst = math.inf
    value = float(table.social_costs(weights)[k]) if table.feasible[k] else 1.0
    return Certificate("one_step_improvement", worst, TIE_RTOL * abs(value))


def _solution(table: SplitTable, k: int, kind: str, objective: np.ndarray, ties) -> Result:
    up, down = table.one_step_improvements(objective)
    worst = _no_move_is_zero(max(float(up[k]), float(down[k])))
    certificate = Certificate("one_step_improvement", worst, TIE_RTOL * abs(float(objective[k])))
    certificate.check(f"{kind} at {table.prefill_workers[k]} prefill workers of {table.step} GPUs")
    c_p, c_d = float(table.prefill_costs[k]), float(table.decode_costs[k])
    n_p = int(table.prefill_workers[k])
    gain_p = _gain(table.prefill_costs, k, k + 1, table.feasible)  # prefill's next worker (taken from decode)
    gain_d = _gain(table.decode_costs, k, k - 1, table.feasible)   # decode's next worker (taken from prefill)
    loss_p = _gain(table.prefill_costs, k - 1, k, table.feasible)  # what prefill loses by giving one up
    loss_d = _gain(table.decode_costs, k + 1, k, table.feasible)
    w = (1.0, 1.0) if kind == "equilibrium" else table.weights
    gains = [w[0] * gain_p, w[1] * gain_d]
    losses = [w[0] * loss_p, w[1] * loss_d]
    lo = max((g for g in gains if math.isfinite(g)), default=math.nan)
    hi = min((x for x in losses if math.isfinite(x)), default=math.nan)
    w_p, w_d = table.weights
    what = "integer variational equilibrium" if kind == "equilibrium" else "integer social optimum"
    n_splits = int(table.feasible.sum())
    return Result(
        kind, (float(table.prefill_gpus[k]), float(table.decode_gpus[k])), w_p * c_p + w_d * c_d, certificate,
        status="exact", nit=n_splits, method="enumeration", x_name="split",
        message=f"{what} by enumeration of {n_splits} feasible splits of {table.step}-GPU workers",
        workers=(n_p, table.workers - n_p), pool_costs=(c_p, c_d), vi_cost=c_p + c_d, gains=(gain_p, gain_d),
        multiplier=(lo, hi), ties=ties, n_splits=n_splits, step=table.step, unique=len(ties) <= 1,
    )


def _no_move_is_zero(improvement: float) -> float:
    """-inf means neither neighbour split is feasible (no transfer exists): nothing improves, report 0."""
    return 0.0 if improvement == -math.inf else improvement


def _gain(costs, before, after, feasible):
    """costs[before] - costs[after] when both rows exist and are feasible, else nan."""
    n = costs.size
    if not (0 <= before < n and 0 <= after < n) or not (feasible[before] and feasible[after]):
        return math.nan
    return float(costs[before] - costs[after])


# --------------------------------------------------------------------------------------------- best responses
def best_responses(game: PDResourceModel, player: str, other_gpus: float, step: int | None = None) -> tuple[float, ...]:
    """The pool's best responses (its GPU counts, ascending) to the other pool holding ``other_gpus``.

    The pool may take any whole number of workers (>= 1, >= its ``min_gpus``) that fits in what the shared
    budget leaves, ``G - other_gpus``; it keeps those of least cost. Empty when none fits or every one
    saturates the pool.

    Parameters
    ----------
    game : PDResourceModel
        The game.
    player : {"prefill", "decode"}
    other_gpus : float
        The other pool's GPUs.
    step : int, optional
        GPUs per worker (``game.step`` unless given; 1 GPU when neither is set).

    Returns
    -------
    tuple of float
        Empty when no feasible count exists.

    Raises
    ------
    InvalidInputError
        An unknown player or a negative or non-finite GPU count.
    """
    player = choice(player, "player", ("prefill", "decode"))
    step = _step(game, step)
    other = nonnegative_scalar(other_gpus, "other_gpus")
    if other > game.total_gpus:
        raise InvalidInputError(f"other_gpus = {other!r} exceeds total_gpus = {game.total_gpus:g}")
    i = 0 if player == "prefill" else 1
    cost = game.prefill_cost if i == 0 else game.decode_cost
    n_max = int(math.floor((game.total_gpus - other) / step + 1e-12))
    gpus = np.arange(1, n_max + 1) * float(step)
    gpus = gpus[gpus >= game.min_gpus[i]]
    if gpus.size == 0:
        return ()
    values = _evaluate(cost, gpus, f"{player}_cost")
    if not np.isfinite(values).any():
        return ()
    best = values[np.isfinite(values)].min()
    return tuple(float(g) for g in gpus[values == best])


def is_generalized_nash(game: PDResourceModel, split: tuple[float, float], step: int | None = None) -> bool:
    """True when each pool's GPUs in ``split`` are a best response to the other's under the shared budget.

    Parameters
    ----------
    game : PDResourceModel
        The game.
    split : tuple of float
        (G_P, G_D) in GPUs.
    step : int, optional
        GPUs per worker (``game.step`` unless given; 1 GPU when neither is set).

    Returns
    -------
    bool

    Raises
    ------
    InvalidInputError
        When the split exceeds the budget.
    """
    _step(game, step)
    g_p, g_d = pair(split, "split")
    if g_p + g_d > game.total_gpus + 1e-9:
        raise InvalidInputError(f"split {split} exceeds total_gpus = {game.total_gpus:g}")
    return g_p in best_responses(game, "prefill", g_d, step) and g_d in best_responses(game, "decode", g_p, step)


# --------------------------------------------------------------------------------------------- rounding
@dataclass(frozen=True)
class RoundingComparison:
    """The continuous solution, its roundings to the worker grid, and the integer solution.

    ``continuous`` = G_P of the continuous VE (or optimum) in GPUs, ``floor``/``ceil``/``nearest`` = its
    roundings to the grid (feasible G_P in GPUs; None when outside the feasible splits), ``integer`` = the
    integer solution, ``integer_splits`` = every integer VE's (or optimal) G_P; ``differs`` = the nearest
    rounding is not among them; ``neither_rounding`` = neither floor nor ceil is; ``excess`` = relative
    excess of the objective (C_P + C_D for the VE, weighted cost for the optimum) at the nearest rounding
    over the integer solution (None when no rounding is feasible).

    Parameters
    ----------
    kind : str
    step : int
    continuous : float
    floor, ceil, nearest : float or None
    integer : Result
    integer_splits : tuple of float
    differs, neither_rounding : bool
    excess : float or None
    """

    kind: str
    step: int
    continuous: float
    floor: float | None
    ceil: float | None
    nearest: float | None
    integer: Result
    integer_splits: tuple[float, ...]
    differs: bool
    neither_rounding: bool
    excess: float | None


def compare_with_rounding(game: PDResourceModel, step: int | None = None, kind: str = "equilibrium"
                          ) -> RoundingComparison:
    """Round the continuous VE (``kind="equilibrium"``) or optimum (``"optimum"``) to the worker grid and
    compare with the integer one. Rounding picks a split the integer game may not: the nearest grid point
    to the continuous minimizer of a convex but asymmetric cost need not be its grid minimizer.

    Parameters
    ----------
    game : PDResourceModel
        The game.
    step : int, optional
        GPUs per worker (``game.step`` unless given; 1 GPU when neither is set).
    kind : {"equilibrium", "optimum"}

    Returns
    -------
    RoundingComparison

    Raises
    ------
    InvalidInputError
        An unknown kind.
    """
    kind = choice(kind, "kind", ("equilibrium", "optimum"))
    table = split_table(game, step)
    if kind == "equilibrium":
        cont = continuous_equilibrium(game)
        sols = integer_equilibria(game, table=table)
        integer = min(sols, key=lambda s: s.vi_cost)
        objective = table.vi_costs
    elif kind == "optimum":
        cont = continuous_optimum(game)
        integer = integer_optimum(game, table=table)
        sols = [integer]
        objective = table.social_costs()
    else:
        raise InvalidInputError(f"kind must be 'equilibrium' or 'optimum', got {kind!r}")
    splits = tuple(g for s in sols for g, _ in (s.ties if kind == "optimum" else (s.split,)))
    g_star = cont.split[0]
    feasible_gp = set(table.prefill_gpus[table.feasible].tolist())

    def on_grid(n):
        g = float(n * table.step)
        return g if g in feasible_gp else None

    lo, hi = on_grid(math.floor(g_star / table.step)), on_grid(math.ceil(g_star / table.step))
    nearest = on_grid(math.floor(g_star / table.step + 0.5))
    if nearest is None:
        nearest = lo if hi is None else hi
    excess = None
    if nearest is not None:
        k = table.index(int(round(nearest / table.step)))
        best = float(objective[table.index(integer.workers[0])])
        excess = float(objective[k]) / best - 1.0
    return RoundingComparison(
        kind=kind, step=table.step, continuous=g_star, floor=lo, ceil=hi, nearest=nearest, integer=integer,
        integer_splits=splits, differs=nearest not in splits, neither_rounding=lo not in splits and hi not in splits,
        excess=excess,
    )


# --------------------------------------------------------------------------------------------- helpers
#: most workers the integer game enumerates
MAX_WORKERS = 1_000_000


def _step(game: PDResourceModel, step) -> int:
    """The worker size in GPUs (``step``, else the game's, else 1), with the game checked."""
    instance(game, PDResourceModel, "game", what="PDResourceGame")
    step = game.step if step is None else step
    step = 1 if step is None else integer(step, "step", minimum=1)
    if game.total_gpus / step > MAX_WORKERS:
        raise InvalidInputError(f"total_gpus / step = {game.total_gpus / step:.6g} workers: more than "
                                f"{MAX_WORKERS:,} to enumerate")
    return step


def _table(game: PDResourceModel, step, table) -> SplitTable:
    """``table`` (checked) or the split table of ``game``."""
    if table is None:
        return split_table(game, step)
    instance(game, PDResourceModel, "game", what="PDResourceGame")
    return instance(table, SplitTable, "table")


def _evaluate(cost, gpus: np.ndarray, name: str) -> np.ndarray:
    """``cost`` at every GPU count: one vectorized call when the callable takes arrays, else one call per
    count; saturation (CapacityExceededError, division by zero, +inf) -> inf; NaN raises."""
    def scalar(g):
        try:
            with np.errstate(divide="ignore"):
                raw = cost(float(g))
        except (CapacityExceededError, ZeroDivisionError):
            return math.inf
        if isinstance(raw, (str, bytes, bool, np.bool_)) or not isinstance(raw, (int, float, np.number)) and not (
                isinstance(raw, np.ndarray) and raw.size == 1):
            raise InvalidInputError(f"{name}({g:.6g} GPUs) returned {raw!r}: a pool cost must be a number or +inf")
        return float(raw)

    values = None
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.asarray(cost(gpus), dtype=float)
        if out.shape == gpus.shape:
            values = out
    except Exception:  # any scalar-only callable: fall back to one call per count
        values = None
    if values is not None:  # trust the array call only where it agrees with scalar calls (ends and middle)
        probe = sorted({0, gpus.size // 2, gpus.size - 1})
        for i in probe:
            v = scalar(gpus[i])
            if not (v == values[i] or abs(v - values[i]) <= 1e-12 * abs(v)):
                values = None
                break
    if values is None:
        values = np.array([scalar(g) for g in gpus])
    if np.isnan(values).any():
        g = gpus[np.flatnonzero(np.isnan(values))[0]]
        raise InvalidInputError(f"{name}({g:.6g} GPUs) returned NaN")
    if (values == -math.inf).any():
        g = gpus[np.flatnonzero(values == -math.inf)[0]]
        raise InvalidInputError(f"{name}({g:.6g} GPUs) returned -inf")
    return values


def _check_non_increasing(gpus: np.ndarray, values: np.ndarray, name: str) -> None:
    """Costs must not rise with the pool's own GPUs (checked where both neighbours are finite)."""
    a, b = values[:-1], values[1:]
    with np.errstate(invalid="ignore"):
        rises = np.isfinite(a) & np.isfinite(b) & (b - a > MONOTONE_RTOL * np.maximum(np.abs(a), 1e-300))
    # a saturated (inf) pool after a finite one also means the cost rises with GPUs
    rises |= np.isfinite(a) & ~np.isfinite(b)
    if rises.any():
        i = int(np.flatnonzero(rises)[0])
        raise InvalidInputError(
            f"{name} must not increase with the pool's GPUs: {a[i]:.6g} at {gpus[i]:.6g} GPUs < "
            f"{b[i]:.6g} at {gpus[i + 1]:.6g} GPUs"
        )
