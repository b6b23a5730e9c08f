"""Planner dynamics of Game 1: Dynamo's Planner moving one worker per adjustment interval (paper Section 5.2).

Dynamo's Planner re-balances prefill and decode workers every adjustment interval (30 s in the paper's
experiments, 180 s by default in Dynamo) by one worker of ``step`` GPUs. Here that is a discrete-time
process on a load trace (one arrival rate per interval). ``game_at(rate)`` builds the Game-1 instance at a
load (any pool costs: textbook, M/M/1, serving-derived), so the same dynamics run on every cost model.

At the end of interval t the Planner observes the system and sets the split of interval t + 1: it computes,
at what it observes, how much one worker moved decode -> prefill or prefill -> decode would lower
``C_P + C_D`` (the potential of the variational equilibrium, :mod:`gametheory.games.resource.integer`) and
moves one worker the way that lowers it more, or stays when neither does. A one-step best-improvement
(greedy) walk toward the integer VE of the load it sees. What it observes (``observe``):

- ``"load"``: the current split and the load of ``delay`` intervals ago (a stale load forecast). With a
  constant load every move strictly lowers ``C_P + C_D`` at that load, so the walk stops at an integer VE
  and *cannot* oscillate: lag, but no cycle.
- ``"metrics"``: the pool costs measured ``delay`` intervals ago, i.e. the load *and the split* of then,
  as when the Planner reads TTFT/ITL from metrics averaged over past intervals while new workers are still
  starting. It then keeps moving after reaching the VE (the metrics still show the old split), overshoots
  and, for ``delay >= 1``, settles into a cycle around the VE while the load is constant.

With ``target="optimum"`` the Planner descends the weighted social cost (w_P C_P + w_D C_D) instead, a
Planner that optimizes what users pay; the same two observation modes apply.

The result records the trajectory, the integer VE of each interval's true load (the target), the lag
behind it in workers and in intervals, and any cycle of splits that repeats while the load is constant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gametheory._validate import nonnegative_array, positive_scalar
from gametheory.errors import InvalidInputError
from gametheory.games.resource.game import PDResourceGame
from gametheory.games.resource.integer import (
    TIE_RTOL,
    SplitTable,
    integer_equilibria,
    integer_optimum,
    split_table,
)
from gametheory.paper_setup import PLANNER_INTERVAL_S

__all__ = ["DYNAMO_INTERVAL_S", "PAPER_INTERVAL_S", "Oscillation", "PlannerResult", "planner_dynamics"]

#: adjustment interval of Dynamo's Planner by default, and the one in the paper's experiments (seconds)
DYNAMO_INTERVAL_S = 180.0
PAPER_INTERVAL_S = PLANNER_INTERVAL_S


@dataclass(frozen=True)
class Oscillation:
    """A cycle of splits repeating under a constant load: from interval ``start`` the prefill worker counts
    ``cycle`` repeat with ``period`` intervals (the Planner's whole observed state repeats, so it would
    repeat forever); ``rate`` = the constant load; ``equilibria`` = the integer VE (prefill workers) there."""

    start: int
    period: int
    cycle: tuple[int, ...]
    rate: float
    equilibria: tuple[int, ...]

    @property
    def amplitude(self) -> int:
        """Largest distance (workers) of the cycle from the nearest integer VE."""
        return max(min(abs(n - e) for e in self.equilibria) for n in self.cycle)


@dataclass(frozen=True)
class PlannerResult:
    """The Planner's trajectory on a load trace (one entry per adjustment interval).

    ``rates`` = load per interval; ``prefill_workers``/``decode_workers`` = the split during each interval
    (workers of ``step`` GPUs), ``splits`` = (G_P, G_D) in GPUs (shape (T, 2)); ``prefill_costs``,
    ``decode_costs`` = C_P, C_D at the true load (``inf`` where a pool is saturated); ``vi_costs`` = C_P + C_D;
    ``social_costs`` = w_P C_P + w_D C_D; ``moves`` = the Planner's decision at the end of each interval
    (+1: a worker to prefill, -1: to decode, 0: stay); ``target_workers`` = prefill workers of the integer
    VE of the interval's load (the one of least C_P + C_D; the integer optimum when ``target="optimum"``);
    ``lag_workers`` = prefill workers minus the nearest target split (signed; 0 = on target);
    ``lag_intervals`` = how many intervals ago the current split was a target (-1: never so far);
    ``oscillations`` = cycles found under constant load; ``interval_s`` = seconds per interval.
    """

    rates: np.ndarray
    prefill_workers: np.ndarray
    decode_workers: np.ndarray
    splits: np.ndarray
    prefill_costs: np.ndarray
    decode_costs: np.ndarray
    vi_costs: np.ndarray
    social_costs: np.ndarray
    moves: np.ndarray
    target_workers: np.ndarray
    lag_workers: np.ndarray
    lag_intervals: np.ndarray
    oscillations: tuple[Oscillation, ...]
    delay: int
    observe: str
    step: int
    interval_s: float
    target: str = "equilibrium"

    @property
    def times_s(self) -> np.ndarray:
        """Start of each interval in seconds."""
        return np.arange(self.rates.size) * self.interval_s

    @property
    def oscillating(self) -> bool:
        """True when some constant-load stretch ends in a cycle of more than one split."""
        return bool(self.oscillations)

    @property
    def max_lag_workers(self) -> int:
        return int(np.abs(self.lag_workers).max())

    @property
    def intervals_off_equilibrium(self) -> int:
        return int(np.count_nonzero(self.lag_workers))


def planner_dynamics(
    game_at: Callable[[float], PDResourceGame],
    rates: Sequence[float],
    initial: int | None = None,
    delay: int = 0,
    observe: str = "load",
    step: int | None = None,
    interval_s: float = DYNAMO_INTERVAL_S,
    target: str = "equilibrium",
) -> PlannerResult:
    """Run the +-1-worker Planner on the load trace ``rates`` (one arrival rate per interval).

    ``game_at(rate)`` returns the Game-1 instance at that load; every instance must have the same
    ``total_gpus`` and worker size (``step``, else each game's ``step``). ``initial`` = prefill workers in
    the first interval (default: the integer VE of the first load). ``delay`` = intervals between what the
    Planner observes and the decision (``observe`` = "load" or "metrics", see the module docstring).
    ``target="optimum"`` makes the Planner descend the game's weighted social cost instead (a Planner that
    knows what users pay, e.g. TTFT + OSL x ITL) and measures lag against the integer optimum.
    Each distinct rate is evaluated once (``game_at`` and the split table are memoized).
    """
    trace = nonnegative_array(rates, "rates", ndim=1, min_size=1)
    if isinstance(delay, bool) or int(delay) != delay or delay < 0:
        raise InvalidInputError(f"delay must be a whole number of intervals >= 0, got {delay!r}")
    delay = int(delay)
    if observe not in ("load", "metrics"):
        raise InvalidInputError(f"observe must be 'load' or 'metrics', got {observe!r}")
    positive_scalar(interval_s, "interval_s")
    if target not in ("equilibrium", "optimum"):
        raise InvalidInputError(f"target must be 'equilibrium' or 'optimum', got {target!r}")
    unit = target == "equilibrium"  # descend C_P + C_D (weights (1, 1)) or the game's weighted cost

    tables: dict[float, SplitTable] = {}
    equilibria: dict[float, tuple[int, ...]] = {}
    shape: list = []

    def table_at(rate: float) -> SplitTable:
        if rate not in tables:
            game = game_at(rate)
            if not isinstance(game, PDResourceGame):
                raise InvalidInputError(f"game_at({rate!r}) must return a PDResourceGame, got {type(game).__name__}")
            table = split_table(game, step)
            if shape and (shape[0] != (game.total_gpus, table.step)):
                raise InvalidInputError(
                    f"game_at({rate!r}) has total_gpus = {game.total_gpus:g}, step = {table.step}; earlier loads had "
                    f"{shape[0][0]:g}, {shape[0][1]}: the Planner needs one fixed budget"
                )
            shape.append((game.total_gpus, table.step))
            tables[rate] = table
            if unit:
                ve = integer_equilibria(game, table=table)
                best = min(ve, key=lambda s: s.vi_cost).workers[0]
                others = tuple(s.workers[0] for s in ve if s.workers[0] != best)
            else:
                opt = integer_optimum(game, table=table)
                best = opt.workers[0]
                others = tuple(int(round(g / table.step)) for g, _ in opt.ties if round(g / table.step) != best)
            equilibria[rate] = (best,) + others  # first = least cost
        return tables[rate]

    first = table_at(float(trace[0]))
    n_workers, lo, hi = first.workers, 1, first.workers - 1
    if initial is None:
        n = equilibria[float(trace[0])][0]
    else:
        if isinstance(initial, bool) or int(initial) != initial or not lo <= initial <= hi:
            raise InvalidInputError(
                f"initial must be a whole number of prefill workers in [{lo}, {hi}], got {initial!r}")
        n = int(initial)

    T = trace.size
    workers = np.empty(T, int)
    moves = np.zeros(T, int)
    for t in range(T):
        workers[t] = n
        seen = max(t - delay, 0)
        rate_seen = float(trace[seen])
        n_seen = n if observe == "load" else int(workers[seen])
        moves[t] = _decide(table_at(rate_seen), n_seen, equilibria[rate_seen], unit)
        n = int(np.clip(n + moves[t], lo, hi))

    # what each interval costs at its true load, and the targets
    c_p, c_d, social, goal, lag = (np.empty(T) for _ in range(5))
    for t in range(T):
        rate = float(trace[t])
        table = table_at(rate)
        k = table.index(int(workers[t]))
        c_p[t], c_d[t] = table.prefill_costs[k], table.decode_costs[k]
        social[t] = table.weights[0] * c_p[t] + table.weights[1] * c_d[t]  # that load's game weights
        ve = equilibria[rate]
        goal[t] = ve[0]
        lag[t] = min((int(workers[t]) - e for e in ve), key=abs)
    lag_intervals = np.array([_lag_intervals(t, int(workers[t]), trace, equilibria) for t in range(T)])
    step_gpus = first.step
    return PlannerResult(
        rates=trace, prefill_workers=workers, decode_workers=n_workers - workers,
        splits=np.column_stack([workers * step_gpus, (n_workers - workers) * step_gpus]).astype(float),
        prefill_costs=c_p, decode_costs=c_d, vi_costs=c_p + c_d, social_costs=social,
        moves=moves, target_workers=goal.astype(int), lag_workers=lag.astype(int), lag_intervals=lag_intervals,
        oscillations=_oscillations(trace, workers, delay, delay if observe == "metrics" else 0, equilibria),
        delay=delay, observe=observe, step=step_gpus, interval_s=float(interval_s), target=target,
    )


def _decide(table: SplitTable, n: int, equilibria: tuple[int, ...], unit: bool = True) -> int:
    """+1, -1 or 0: the one-worker transfer that lowers C_P + C_D (``unit``; else the weighted social cost)
    more at split ``n`` (0 when none does).
    At a split where a pool is saturated, move toward the nearest integer VE (the saturated pool gains)."""
    k = table.index(n)
    if not table.feasible[k]:
        nearest = min(equilibria, key=lambda e: abs(e - n))
        return int(np.sign(nearest - n))
    objective = table.vi_costs if unit else table.social_costs()
    up, down = table.one_step_improvements(objective)
    slack = TIE_RTOL * abs(float(objective[k]))
    if max(up[k], down[k]) <= slack:
        return 0
    return 1 if up[k] >= down[k] else -1


def _lag_intervals(t: int, n: int, trace: np.ndarray, equilibria) -> int:
    """Smallest k >= 0 such that split n is an integer VE of the load of interval t - k; -1 if none."""
    for k in range(t + 1):
        if n in equilibria[float(trace[t - k])]:
            return k
    return -1


def _oscillations(trace, workers, delay, memory, equilibria) -> tuple[Oscillation, ...]:
    """Cycles of more than one split within constant-load stretches. From ``delay`` intervals into a stretch
    the Planner observes only its load; its state at interval t is then the splits it may still observe
    (``workers[t - memory .. t]``), and under a constant observed load a repeated state repeats forever, so
    the first repeat closes the cycle."""
    found = []
    T = trace.size
    start = 0
    while start < T:
        end = start
        while end + 1 < T and trace[end + 1] == trace[start]:
            end += 1
        seen: dict[tuple, int] = {}
        for t in range(start + delay, end + 1):  # from here on the Planner observes only this load
            state = tuple(int(x) for x in workers[t - memory:t + 1])
            if state in seen:
                t0 = seen[state]
                cycle = tuple(int(x) for x in workers[t0:t])
                if len(set(cycle)) > 1:
                    rate = float(trace[start])
                    found.append(Oscillation(t0, t - t0, cycle, rate, tuple(sorted(equilibria[rate]))))
                break
            seen[state] = t
        start = end + 1
    return tuple(found)
