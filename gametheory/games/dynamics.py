"""Dynamics shared by the games: iterating a deterministic map to its orbit, and the Planner's one step.

- :func:`orbit` iterates a map (a round of best responses, a Planner interval) from a start state until a
  state repeats. A deterministic map on a finite state set is eventually periodic, so the first repeat
  gives the whole orbit: a transient, then a cycle of ``period`` states (period 1: a fixed point, e.g. a
  pure Nash equilibrium of best-response dynamics). Every best-response loop of the package and the Planner
  loops use it, so cycle detection is written once.
- :func:`planner_step` is Dynamo's Planner rule (paper section 5.2): move one worker between the prefill and
  decode pools, toward the neighbouring split that lowers the objective more, or stay. It is the discrete
  best response of Game 1 (the pools' equal shadow prices; Facchinei and Kanzow's variational equilibrium on
  the worker grid) and is used by Game 1's Planner dynamics and by the coupled system.

References
----------
.. [1] D. Monderer, L. S. Shapley, "Potential games", Games and Economic Behavior 14, 1996 (finite improvement
   paths; cycles of best responses when there is no potential).
.. [2] R. W. Floyd, "Nondeterministic algorithms", J. ACM 14(4), 1967 (eventually periodic orbits of a map
   on a finite set; here every state is stored, so the first repeat is found directly).
.. [3] NVIDIA Dynamo documentation, "Planner": one worker moved per adjustment interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gametheory._validate import (
    choice,
    finite_scalar,
    function,
    integer,
    nonnegative_array,
    nonnegative_scalar,
    positive_scalar,
)
from gametheory.display import Readable
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError

__all__ = [
    "Orbit",
    "Oscillation",
    "PlannerModel",
    "PlannerTrace",
    "orbit",
    "planner_dynamics",
    "planner_orbit",
    "planner_step",
]


@dataclass(frozen=True, repr=False)
class Orbit(Readable):
    """The orbit of a deterministic map from a start state: ``states[:transient]`` then one cycle.

    Parameters
    ----------
    states : tuple
        Every state visited, in order, up to (not including) the first repeat.
    transient : int
        Index of the first state of the cycle.
    period : int
        Length of the cycle; 1 means ``states[-1]`` is a fixed point.
    """

    states: tuple
    transient: int
    period: int

    @property
    def converged(self) -> bool:
        """True when the orbit ends at a fixed point (period 1)."""
        return self.period == 1

    @property
    def final(self):
        """The last state visited (the fixed point when converged)."""
        return self.states[-1]

    @property
    def cycle(self) -> tuple:
        """The states of the cycle (one state when converged)."""
        return self.states[self.transient:]

    @property
    def nit(self) -> int:
        """Applications of the map before the repeat."""
        return len(self.states)

    def _display_title(self) -> str:
        what = "fixed point" if self.converged else f"cycle of period {self.period}"
        return f"orbit: {what} after {self.transient} transient state(s)"


def orbit(step: Callable, start, *, key: Callable[[object], Hashable] = lambda s: s,
          max_steps: int = 10_000) -> Orbit:
    """Iterate ``state = step(state)`` from ``start`` until a state repeats.

    Parameters
    ----------
    step : callable
        The map, state -> next state. Deterministic: the same state always maps to the same next state.
    start : object
        The first state.
    key : callable
        State -> a hashable key; two states with equal keys are the same state (default: the state itself).
    max_steps : int
        Applications of ``step`` before giving up.

    Returns
    -------
    Orbit
        The visited states, the transient and the period (1 at a fixed point).

    Raises
    ------
    InvalidInputError
        When ``max_steps`` is not a positive integer.
    ConvergenceError
        When no state repeats within ``max_steps`` applications.

    References
    ----------
    .. [1] R. W. Floyd, "Nondeterministic algorithms", J. ACM 14(4), 1967.
    """
    function(step, "step")
    function(key, "key")
    max_steps = integer(max_steps, "max_steps", minimum=1, maximum=10**8)
    seen: dict = {}
    states = []
    state = start
    for t in range(int(max_steps) + 1):
        k = key(state)
        if k in seen:
            return Orbit(tuple(states), seen[k], t - seen[k])
        seen[k] = t
        states.append(state)
        if t < max_steps:
            state = step(state)
    raise ConvergenceError(f"no state repeated in {max_steps} steps")


def planner_step(objective: Callable[[int], float], n: int, lo: int, hi: int, *, saturated: str | None = None,
                 rtol: float = 1e-9) -> int:
    """The Planner's move at ``n`` prefill workers: +1 (a worker to prefill), -1 (to decode) or 0.

    At a split where both pools carry the load, the Planner compares the objective one worker up and one
    down and moves toward the larger improvement, when it exceeds ``rtol`` of the current objective (ties
    go to prefill); it stays otherwise. At a split where a pool is saturated, that pool gains a worker
    (toward the feasible splits); when both are, the Planner moves to the neighbour of lower objective
    (prefill on a tie).

    Parameters
    ----------
    objective : callable
        Prefill workers -> the objective the Planner descends at the load it observes (``C_P + C_D`` for
        Dynamo's Planner, equal shadow prices; the weighted social cost for a Planner that optimizes); ``inf``
        where a pool is saturated.
    n : int
        Prefill workers now.
    lo, hi : int
        The valid range of prefill workers.
    saturated : {None, "prefill", "decode", "both"}
        Which pool is saturated at ``n`` (None: neither).
    rtol : float
        Relative improvement below which the Planner stays.

    Returns
    -------
    int
        +1, -1 or 0.

    Raises
    ------
    InvalidInputError
        When ``n`` is outside ``[lo, hi]`` or ``saturated`` is not one of the values above.

    References
    ----------
    .. [1] NVIDIA Dynamo documentation, "Planner" (one worker per adjustment interval).
    .. [2] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
    """
    function(objective, "objective")
    n, lo, hi = integer(n, "n"), integer(lo, "lo"), integer(hi, "hi")
    if saturated is not None:
        choice(saturated, "saturated", ("prefill", "decode", "both"))
    rtol = nonnegative_scalar(rtol, "rtol")
    objective = _checked_objective(objective)
    if not lo <= n <= hi:
        raise InvalidInputError(f"n = {n!r} prefill workers is outside [{lo}, {hi}]")
    if saturated == "prefill":
        return 1 if n < hi else 0
    if saturated == "decode":
        return -1 if n > lo else 0
    if saturated not in (None, "both"):
        raise InvalidInputError(f"saturated must be None, 'prefill', 'decode' or 'both', got {saturated!r}")
    current = objective(n)
    up = objective(n + 1) if n < hi else math.inf
    down = objective(n - 1) if n > lo else math.inf
    if saturated == "both" or not math.isfinite(current):
        if n == lo == hi:
            return 0
        return 1 if up <= down and n < hi else -1 if n > lo else 0
    gain_up, gain_down = current - up, current - down
    if max(gain_up, gain_down) <= rtol * abs(current):
        return 0
    return 1 if gain_up >= gain_down else -1


# --------------------------------------------------------------------------------------------- the Planner
class PlannerModel(Protocol):
    """What the Planner loop needs from a system (Game 1 on a load trace, the coupled system).

    ``lo``/``hi``: the valid prefill worker counts; ``rtol``: the relative improvement below which the Planner
    stays (the precision of the model's costs); ``weights``: (w_P, w_D) of the social cost; ``target``:
    ``"equilibrium"`` (the Planner descends C_P + C_D, Dynamo's equal shadow prices) or ``"optimum"`` (it
    descends the social cost).
    """

    lo: int
    hi: int
    rtol: float
    weights: tuple[float, float]
    target: str

    def settle(self, load: float, n: int, state) -> tuple[float, float, object]:
        """(C_P, C_D, settled state) at ``load`` with ``n`` prefill workers, from ``state``.

        Parameters
        ----------
        load : float
            The load of the interval (multiple of the model's base rates, or its request rate).
        n : int
            Prefill workers (``lo``..``hi``).
        state : object
            The model's state from the previous interval (model-specific: None for Game 1, the KV caches
            for the coupled system).

        Returns
        -------
        tuple of (float, float, object)
            The prefill and decode pool costs C_P and C_D, and the settled state.
        """

    def resize(self, state, n: int):
        """The state after the split changes to ``n`` prefill workers.

        Parameters
        ----------
        state : object
            The model's current state (model-specific, as in :meth:`settle`).
        n : int
            The new number of prefill workers.
        """

    def key(self, state) -> Hashable:
        """A hashable key of a state.

        Parameters
        ----------
        state : object
            A state of the model (model-specific, as in :meth:`settle`).

        Returns
        -------
        Hashable
            Equal for states the loop must treat as the same (to detect cycles).
        """

    def prepare(self, loads) -> None:
        """Evaluate what the loop needs before it starts (e.g. the split range at the first load).

        Parameters
        ----------
        loads : numpy.ndarray of float
            The load trace the loop will run, one load per interval.
        """


@dataclass(frozen=True)
class Oscillation:
    """A cycle of splits under a constant load: from interval ``start`` the prefill worker counts ``cycle``
    repeat with ``period`` intervals; ``load`` = the load; ``targets`` = the target splits there.

    Parameters
    ----------
    start, period : int
    cycle : tuple of int
    load : float
    targets : tuple of int
    """

    start: int
    period: int
    cycle: tuple[int, ...]
    load: float
    targets: tuple[int, ...]

    @property
    def amplitude(self) -> int:
        """Largest distance (workers) of the cycle from the nearest target split."""
        return max(min(abs(n - e) for e in self.targets) for n in self.cycle)


@dataclass(frozen=True, repr=False)
class PlannerTrace(Readable):
    """The Planner's trajectory: one entry per adjustment interval.

    Parameters
    ----------
    loads : numpy.ndarray
        The load of each interval.
    prefill_workers : numpy.ndarray
        Prefill workers during each interval.
    prefill_costs, decode_costs : numpy.ndarray
        C_P, C_D at the interval's true load (``inf`` where a pool is saturated).
    social_costs : numpy.ndarray
        w_P C_P + w_D C_D.
    moves : numpy.ndarray
        The Planner's decision at the end of each interval (+1: a worker to prefill, -1: to decode, 0: stay).
    target_workers : numpy.ndarray
        The split minimizing the Planner's objective at the interval's load and state.
    lag_workers : numpy.ndarray
        Prefill workers minus the nearest target split (signed; 0 = on target).
    lag_intervals : numpy.ndarray
        How many intervals ago the current split was a target (-1: never so far).
    oscillations : tuple of Oscillation
        Cycles of more than one split under a constant load.
    delay, gain : int
        Intervals between what the Planner observes and its decision; workers it moves per decision.
    observe : str
        ``"load"`` (the current split and a stale load) or ``"metrics"`` (the whole state ``delay`` back).
    target : str
        What the Planner descends.
    interval_s : float
        Seconds per interval.
    transient, period : int or None
        For :func:`planner_orbit`: the intervals before the cycle and its length (None for a load trace).
    states : tuple
        The settled state of each interval (the coupled system's caches; None for Game 1).
    """

    loads: np.ndarray
    prefill_workers: np.ndarray
    prefill_costs: np.ndarray
    decode_costs: np.ndarray
    social_costs: np.ndarray
    moves: np.ndarray
    target_workers: np.ndarray
    lag_workers: np.ndarray
    lag_intervals: np.ndarray
    oscillations: tuple
    delay: int
    gain: int
    observe: str
    target: str
    interval_s: float
    transient: int | None = None
    period: int | None = None
    states: tuple = field(default=(), repr=False)

    @property
    def objective_costs(self) -> np.ndarray:
        """C_P + C_D per interval (the potential Dynamo's Planner descends)."""
        return self.prefill_costs + self.decode_costs

    @property
    def times_s(self) -> np.ndarray:
        """Start of each interval in seconds."""
        return np.arange(self.loads.size) * self.interval_s

    @property
    def reversals(self) -> int:
        """The most direction reversals of the split within one constant-load stretch."""
        most, start = 0, 0
        loads, n = self.loads, self.prefill_workers
        while start < loads.size:
            end = start
            while end + 1 < loads.size and loads[end + 1] == loads[start]:
                end += 1
            moves = np.sign(np.diff(n[start:end + 1]))
            moves = moves[moves != 0]
            most = max(most, int((np.diff(moves) != 0).sum()) if moves.size > 1 else 0)
            start = end + 1
        return most

    @property
    def oscillating(self) -> bool:
        """True when, under a constant load, the splits cycle (:attr:`oscillations`) or reverse direction at
        least twice (a cycle longer than the stretch still shows as back-and-forth moves)."""
        return bool(self.oscillations) or self.reversals >= 2

    @property
    def max_lag_workers(self) -> int:
        """Largest distance from the target split over the trace."""
        return int(np.abs(self.lag_workers).max())

    @property
    def saturated(self) -> np.ndarray:
        """Intervals at a split where a pool cannot carry the load."""
        return ~np.isfinite(self.social_costs)

    # -- an orbit at a constant load (planner_orbit) --------------------------------------------------------
    @property
    def status(self) -> str | None:
        """For :func:`planner_orbit`: ``"saturated"`` (every interval of the cycle at a split that cannot carry
        the load), ``"converged"`` (period 1) or ``"oscillating"``; None for a load trace."""
        if self.period is None:
            return None
        if self.saturated[self.transient:].all():
            return "saturated"
        return "converged" if self.period == 1 else "oscillating"

    @property
    def cycle_workers(self) -> np.ndarray:
        """The splits of one cycle (:func:`planner_orbit`)."""
        return self.prefill_workers[self.transient or 0:]

    @property
    def amplitude(self) -> int:
        """Max - min prefill workers over the cycle."""
        cycle = self.cycle_workers
        return int(cycle.max() - cycle.min())

    @property
    def mean_cost(self) -> float:
        """Time average of the social cost over the cycle (``inf`` when it visits a saturated split)."""
        return float(np.mean(self.social_costs[self.transient or 0:]))

    @property
    def saturated_share(self) -> float:
        """Share of the cycle's intervals at a saturated split."""
        return float(np.mean(self.saturated[self.transient or 0:]))

    def _display_title(self) -> str:
        if self.period is not None:
            return (f"Planner orbit: {self.status}, period {self.period}, amplitude {self.amplitude} "
                    f"(delay {self.delay}, gain {self.gain})")
        return (f"Planner trace: {self.loads.size} intervals, max lag {self.max_lag_workers} workers, "
                f"{'oscillating' if self.oscillating else 'no oscillation'} (delay {self.delay}, gain {self.gain})")


def _saturated(c_p: float, c_d: float) -> str | None:
    bad_p, bad_d = not math.isfinite(c_p), not math.isfinite(c_d)
    return "both" if bad_p and bad_d else "prefill" if bad_p else "decode" if bad_d else None


def _checked_objective(objective):
    """``objective`` whose values are checked: a number or +inf (a saturated split), never NaN or a non-number."""
    def value(k):
        raw = objective(k)
        if isinstance(raw, (float, np.floating)) and raw == math.inf:
            return math.inf
        return finite_scalar(raw, f"objective({k})")

    return value


def _check_model(model) -> None:
    """Duck-typed check of a :class:`PlannerModel` (the protocol is not runtime-checkable)."""
    missing = [a for a in ("settle", "resize", "key", "prepare") if not callable(getattr(model, a, None))]
    if missing:
        raise InvalidInputError(f"model must be a PlannerModel (settle, resize, key, prepare); "
                                f"{type(model).__name__} lacks {missing}")


def _check_planner_args(model: PlannerModel, delay, gain, observe):
    delay = integer(delay, "delay", minimum=0, maximum=10**6)
    gain = integer(gain, "gain", minimum=1, maximum=10**6)
    choice(observe, "observe", ("load", "metrics"))
    if model.hi < model.lo:
        raise InvalidInputError(f"the Planner needs at least one split, got prefill workers {model.lo}..{model.hi}")
    return int(delay), int(gain)


class _Loop:
    """The Planner loop's memoized evaluations: settled costs and states, targets, and the one step."""

    def __init__(self, model: PlannerModel):
        self.model = model
        self.memo: dict = {}
        self.unit = model.target == "equilibrium"

    def settle(self, load, n, state):
        k = (float(load), int(n), self.model.key(state))
        if k not in self.memo:
            self.memo[k] = self.model.settle(float(load), int(n), state)
        return self.memo[k]

    def objective(self, c_p, c_d):
        w = (1.0, 1.0) if self.unit else self.model.weights
        return w[0] * c_p + w[1] * c_d if math.isfinite(c_p) and math.isfinite(c_d) else math.inf

    def value(self, load, n, state):
        c_p, c_d, _ = self.settle(load, n, self.model.resize(state, n))
        return self.objective(c_p, c_d)

    def targets(self, load, state) -> tuple[int, ...]:
        values = {n: self.value(load, n, state) for n in range(self.model.lo, self.model.hi + 1)}
        best = min(values.values())
        if not math.isfinite(best):
            return ()
        slack = self.model.rtol * abs(best)
        return tuple(sorted((n for n, v in values.items() if v <= best + slack), key=lambda n: (values[n], n)))

    def step(self, load, n, state, c_p, c_d) -> int:
        return planner_step(lambda m: self.value(load, m, state), n, self.model.lo, self.model.hi,
                            saturated=_saturated(c_p, c_d), rtol=self.model.rtol)


def planner_dynamics(model: PlannerModel, loads, initial: int | None = None, *, delay: int = 0, gain: int = 1,
                     observe: str = "metrics", interval_s: float = 30.0) -> PlannerTrace:
    """The Planner loop on a load trace: one :func:`planner_step` per adjustment interval.

    Each interval the system settles at the current split (Game 1: the pool costs at the load; the coupled
    system: the routing and caching games to their fixed point). The Planner then observes the system as it
    was ``delay`` intervals ago (``observe="metrics"``: load, split and state of then, as when it reads
    TTFT/ITL averaged over past intervals; ``"load"``: a stale load forecast with the current split), takes
    :func:`planner_step` there and moves ``gain`` workers that way from the current split.

    Parameters
    ----------
    model : PlannerModel
        The system: :class:`gametheory.games.resource.planner.ResourcePlannerModel` (Game 1 on a load trace)
        or :meth:`gametheory.games.coupled.CoupledSystem.planner_model`.
    loads : array_like
        One load per interval (the model's unit: requests/s for Game 1, a multiple of the rates for the
        coupled system).
    initial : int, optional
        Prefill workers in the first interval (default: the first target split).
    delay, gain : int
        Intervals of observation delay (>= 0) and workers per move (>= 1).
    observe : {"metrics", "load"}
        What the delayed observation holds.
    interval_s : float
        Seconds per interval (30 s in the paper's experiments).

    Returns
    -------
    PlannerTrace
        Splits, costs, moves, targets, lags and the cycles found under constant load.

    Raises
    ------
    InvalidInputError
        Bad loads, delay, gain, observe or initial split.
    CapacityExceededError
        When no split carries the first load and no ``initial`` is given.

    References
    ----------
    .. [1] NVIDIA Dynamo documentation, "Planner" (adjustment interval, one worker per step).
    """
    _check_model(model)
    trace = nonnegative_array(loads, "loads", ndim=1, min_size=1)
    model.prepare(trace)
    delay, gain = _check_planner_args(model, delay, gain, observe)
    positive_scalar(interval_s, "interval_s")
    loop = _Loop(model)
    if initial is None:
        first = loop.targets(float(trace[0]), model.resize(None, model.lo))
        if not first:
            raise CapacityExceededError(math.inf, float(trace[0]), message=f"no split carries the first load "
                                        f"{trace[0]:.6g}; give the initial split")
        n = first[0]
    else:
        n = integer(initial, "initial (prefill workers)", minimum=model.lo, maximum=model.hi)
    state = model.resize(None, n)
    rows, states, moves, targets = [], [], [], []
    for t, load in enumerate(trace):
        c_p, c_d, state = loop.settle(load, n, state)
        rows.append((n, c_p, c_d))
        states.append(state)
        targets.append(loop.targets(float(load), state))
        seen = max(t - delay, 0)
        if observe == "metrics":
            n_seen, state_seen = rows[seen][0], states[seen]
            c_p_seen, c_d_seen = rows[seen][1], rows[seen][2]
        else:
            n_seen, state_seen, c_p_seen, c_d_seen = n, state, c_p, c_d
            if seen != t:
                c_p_seen, c_d_seen, _ = loop.settle(trace[seen], n, state)
        move = loop.step(float(trace[seen]), n_seen, state_seen, c_p_seen, c_d_seen)
        moves.append(move)
        n = int(np.clip(n + gain * move, model.lo, model.hi))
        state = model.resize(state, n)
    return _trace(model, trace, rows, moves, targets, states, delay, gain, observe, interval_s)


def planner_orbit(model: PlannerModel, load: float, initial: int, *, delay: int = 0, gain: int = 1,
                  max_intervals: int = 1000) -> PlannerTrace:
    """The Planner loop of :func:`planner_dynamics` (``observe="metrics"``) at a constant load, run until its
    state repeats: its orbit, classified converged / oscillating / saturated.

    At a constant load the loop is a deterministic map on its state (the current split and settled state
    plus the last ``delay`` observed ones) over a finite set, so its orbit is eventually periodic; the first
    repeated state (once the Planner's memory is full) gives the transient and the exact period
    (:func:`orbit`).

    Parameters
    ----------
    model : PlannerModel
        The system.
    load : float
        The constant load.
    initial : int
        Prefill workers at the start.
    delay, gain : int
        As for :func:`planner_dynamics`.
    max_intervals : int
        Intervals before giving up.

    Returns
    -------
    PlannerTrace
        One transient, then exactly one cycle; ``transient``, ``period`` and ``status`` set.

    Raises
    ------
    InvalidInputError
        Bad arguments, or a system with a single split (no move).
    ConvergenceError
        When no state repeats within ``max_intervals`` intervals.
    """
    _check_model(model)
    load = nonnegative_scalar(load, "load")
    max_intervals = integer(max_intervals, "max_intervals", minimum=1, maximum=10**7)
    model.prepare(np.array([load]))
    delay, gain = _check_planner_args(model, delay, gain, "metrics")
    if model.hi <= model.lo:
        raise InvalidInputError("planner_orbit needs at least two splits (a Planner with one split has no move)")
    initial = integer(initial, "initial", minimum=model.lo, maximum=model.hi)
    loop = _Loop(model)
    load = float(load)

    def interval(s):
        """(history of settled (n, state), current n, current state) -> the next interval's."""
        history, n, state = s
        c_p, c_d, settled = loop.settle(load, n, state)
        history = history + ((n, settled, c_p, c_d),)
        n_seen, state_seen, c_p_seen, c_d_seen = history[max(len(history) - 1 - delay, 0)]
        move = loop.step(load, n_seen, state_seen, c_p_seen, c_d_seen)
        n_next = int(np.clip(n + gain * move, model.lo, model.hi))
        return history, n_next, model.resize(settled, n_next)

    def key(s):
        history, n, state = s
        if len(history) < delay:
            return ("warm-up", len(history))
        recent = tuple((m, model.key(st)) for m, st, _, _ in history[len(history) - delay:])
        return recent, n, model.key(state)

    start = ((), int(initial), model.resize(None, int(initial)))
    path = orbit(interval, start, key=key, max_steps=max_intervals)
    history = path.states[-1][0]
    last_n, last_state = path.states[-1][1], path.states[-1][2]
    c_p, c_d, settled = loop.settle(load, last_n, last_state)
    history = history + ((last_n, settled, c_p, c_d),)
    transient = path.transient
    rows = [(m, cp_, cd_) for m, _, cp_, cd_ in history[:len(path.states)]]
    states = [st for _, st, _, _ in history[:len(path.states)]]
    moves = [int(np.sign(b - a)) for a, b in zip([r[0] for r in rows], [r[0] for r in rows[1:]] + [rows[transient][0]],
                                                 strict=True)]
    targets = [loop.targets(load, st) for st in states]
    trace = np.full(len(rows), load)
    return _trace(model, trace, rows, moves, targets, states, delay, gain, "metrics", 30.0, transient,
                  len(rows) - transient)


def _trace(model, trace, rows, moves, targets, states, delay, gain, observe, interval_s, transient=None,
           period=None) -> PlannerTrace:
    workers = np.array([r[0] for r in rows], dtype=int)
    c_p = np.array([r[1] for r in rows], dtype=float)
    c_d = np.array([r[2] for r in rows], dtype=float)
    w = model.weights
    with np.errstate(invalid="ignore"):
        social = np.where(np.isfinite(c_p) & np.isfinite(c_d), w[0] * c_p + w[1] * c_d, np.inf)
    goal = np.array([t[0] if t else -1 for t in targets], dtype=int)
    lag = np.array([min((int(n) - e for e in t), key=abs) if t else 0 for n, t in zip(workers, targets, strict=True)])
    lag_intervals = np.array([next((k for k in range(t + 1) if workers[t] in targets[t - k]), -1)
                              for t in range(workers.size)])
    memory = delay if observe == "metrics" else 0
    return PlannerTrace(
        loads=np.asarray(trace, dtype=float), prefill_workers=workers, prefill_costs=c_p, decode_costs=c_d,
        social_costs=social, moves=np.array(moves, dtype=int), target_workers=goal, lag_workers=lag.astype(int),
        lag_intervals=lag_intervals, oscillations=_oscillations(model, trace, workers, states, delay, memory, targets),
        delay=delay, gain=gain, observe=observe, target=model.target, interval_s=float(interval_s),
        transient=transient, period=period, states=tuple(states))


def _oscillations(model, trace, workers, states, delay, memory, targets) -> tuple[Oscillation, ...]:
    """Cycles of more than one split within constant-load stretches. From ``delay`` intervals into a stretch
    the Planner observes only its load; its state at interval t is then the splits and settled states it may
    still observe (``memory`` intervals back), and under a constant load a repeated state repeats forever, so
    the first repeat closes the cycle."""
    found = []
    T = len(trace)
    start = 0
    while start < T:
        end = start
        while end + 1 < T and trace[end + 1] == trace[start]:
            end += 1
        seen: dict = {}
        for t in range(start + delay, end + 1):
            state = tuple((int(workers[u]), model.key(states[u])) for u in range(t - memory, t + 1))
            if state in seen:
                t0 = seen[state]
                cycle = tuple(int(x) for x in workers[t0:t])
                if len(set(cycle)) > 1:
                    found.append(Oscillation(t0, t - t0, cycle, float(trace[start]), tuple(sorted(targets[t0]))))
                break
            seen[state] = t
        start = end + 1
    return tuple(found)
