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

The loop itself is :func:`gametheory.games.dynamics.planner_dynamics` (the one Planner of the package, also
the coupled system's); :class:`ResourcePlannerModel` is Game 1 as a Planner model: the split table of each
load's game (:func:`~gametheory.games.resource.integer.split_table`). The trace records the trajectory, the
target split of each interval's true load (the integer VE of least C_P + C_D, or the integer optimum), the
lag behind it in workers and in intervals, and any cycle of splits that repeats while the load is constant.

References
----------
.. [1] NVIDIA Dynamo documentation, "Planner" (adjustment interval 180 s by default, one worker per step).
.. [2] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from gametheory._validate import choice, function, integer
from gametheory.errors import InvalidInputError
from gametheory.games.resource.game import PDResourceGame
from gametheory.games.resource.integer import TIE_RTOL, SplitTable, split_table
from gametheory.paper_setup import PLANNER_INTERVAL_S

__all__ = ["DYNAMO_INTERVAL_S", "PAPER_INTERVAL_S", "ResourcePlannerModel"]

#: adjustment interval of Dynamo's Planner by default, and the one in the paper's experiments (seconds)
DYNAMO_INTERVAL_S = 180.0
PAPER_INTERVAL_S = PLANNER_INTERVAL_S


class ResourcePlannerModel:
    """Game 1 on a load trace, as a :class:`~gametheory.games.dynamics.PlannerModel`.

    Parameters
    ----------
    game_at : callable
        Load (requests/s) -> the :class:`PDResourceGame` at that load; every instance must have the same
        ``total_gpus`` and worker size.
    step : int, optional
        GPUs per worker (default: each game's ``step``).
    target : {"equilibrium", "optimum"}
        The Planner descends ``C_P + C_D`` (Dynamo's, equal shadow prices) or the game's weighted social cost.

    Raises
    ------
    InvalidInputError
        An unknown target; later, a ``game_at`` that returns something else than a PDResourceGame or changes
        the budget between loads.

    References
    ----------
    .. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
    """

    rtol = TIE_RTOL  # exact table values: ties differ by rounding only

    def __init__(self, game_at: Callable[[float], PDResourceGame], step: int | None = None,
                 target: str = "equilibrium"):
        target = choice(target, "target", ("equilibrium", "optimum"))
        self.game_at = function(game_at, "game_at")
        self.step = None if step is None else integer(step, "step", minimum=1)
        self.target = target
        self._tables: dict[float, SplitTable] = {}
        self._shape: tuple | None = None
        self.lo = self.hi = None  # set by the first table
        self.weights = (1.0, 1.0)

    def table(self, load: float) -> SplitTable:
        """The split table of the game at ``load`` (memoized).

        Parameters
        ----------
        load : float

        Returns
        -------
        SplitTable

        Raises
        ------
        InvalidInputError
            When ``game_at`` returns something else than a PDResourceGame or changes the budget.
        """
        if load not in self._tables:
            game = self.game_at(load)
            if not isinstance(game, PDResourceGame):
                raise InvalidInputError(f"game_at({load!r}) must return a PDResourceGame, got {type(game).__name__}")
            table = split_table(game, self.step)
            shape = (game.total_gpus, table.step)
            if self._shape is not None and shape != self._shape:
                raise InvalidInputError(
                    f"game_at({load!r}) has total_gpus = {shape[0]:g}, step = {shape[1]}; earlier loads had "
                    f"{self._shape[0]:g}, {self._shape[1]}: the Planner needs one fixed budget")
            if self._shape is None:
                self._shape = shape
                self.lo, self.hi = 1, table.workers - 1
                self.weights = tuple(table.weights)
            self._tables[load] = table
        return self._tables[load]

    def prepare(self, loads) -> None:
        """Evaluate the first load: it sets the split range and the weights.

        Parameters
        ----------
        loads : numpy.ndarray
            The trace the loop will run.
        """
        self.table(float(loads[0]))

    def settle(self, load: float, n: int, state) -> tuple[float, float, None]:
        """(C_P, C_D, None) at ``load`` with ``n`` prefill workers; a pool below its ``min_gpus`` counts as
        saturated (infinite).

        Parameters
        ----------
        load : float
        n : int
        state : None

        Returns
        -------
        tuple
        """
        table = self.table(load)
        k = table.index(n)
        c_p, c_d = float(table.prefill_costs[k]), float(table.decode_costs[k])
        if not table.feasible[k]:
            game_min = self.game_at(load).min_gpus
            if table.prefill_gpus[k] < game_min[0]:
                c_p = math.inf
            if table.decode_gpus[k] < game_min[1]:
                c_d = math.inf
        return c_p, c_d, None

    def resize(self, state, n: int):
        """Game 1 has no state beyond the split.

        Parameters
        ----------
        state : None
        n : int

        Returns
        -------
        None
        """
        return None

    def key(self, state):
        """The (empty) state's key.

        Parameters
        ----------
        state : None

        Returns
        -------
        None
        """
        return None
