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
from dataclasses import dataclass

from gametheory.display import Readable
from gametheory.errors import ConvergenceError, InvalidInputError

__all__ = ["Orbit", "orbit", "planner_step"]


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
    if isinstance(max_steps, bool) or int(max_steps) != max_steps or max_steps < 1:
        raise InvalidInputError(f"max_steps must be a positive integer, got {max_steps!r}")
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
