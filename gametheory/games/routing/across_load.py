"""PoA of a routing game swept across load, next to the bound of the curves' class.

:func:`poa_across_load` solves the Wardrop equilibrium and the social optimum of a
:class:`~gametheory.games.routing.RoutingGame` at each total demand, with the class bound of
:func:`gametheory.bounds.class_bound` and the load regime of :func:`gametheory.regimes.classify`.
"""

from __future__ import annotations

import math

import numpy as np

from gametheory._validate import finite_array
from gametheory.bounds import class_bound
from gametheory.errors import InvalidInputError
from gametheory.games.routing.game import RoutingGame
from gametheory.regimes import classify

__all__ = ["poa_across_load"]


def poa_across_load(curves, loads, *, n_classes: int = 1, omega: float = 0.0, cache_benefit=1.0,
                    cache_scale=1.0, regimes: bool = True) -> list[dict]:
    """Sweep total demand over ``loads`` (requests/s, light load to near capacity): for each point the
    equilibrium cost, optimum cost, PoA and the class bound (:func:`class_bound`, a bound for omega = 0
    only; ``nan`` is reported for omega > 0, where no classical bound applies). With ``omega > 0`` the
    worst equilibrium found from several starts is used and the optimum is the MILP's. When ``regimes`` is
    true and :func:`gametheory.regimes.classify` finds a knee, each row also
    carries the regime ("below", "transition", "saturated") of its load, from the knee of the mean
    equilibrium latency against total demand."""
    curves = list(curves)
    rows = []
    for R in finite_array(loads, "loads", ndim=1):
        demands = np.full(n_classes, float(R) / n_classes)
        game = RoutingGame(curves, demands, omega=omega, cache_benefit=cache_benefit, cache_scale=cache_scale)
        opt = game.optimum()
        if omega == 0:
            eq = game.equilibrium()
            bound, how = class_bound(curves, float(R), loads=eq.worker_flows)
        else:
            eq = max(game.equilibria(starts=4), key=lambda e: e.cost)
            bound, how = math.nan, "none (omega > 0)"
        row = {"load": float(R), "equilibrium_cost": eq.cost, "optimum_cost": opt.cost,
               "poa": eq.cost / opt.cost if opt.cost > 0 else math.nan, "bound": bound, "bound_kind": how,
               "equilibrium_flows": eq.worker_flows}
        rows.append(row)
    if regimes and len(rows) >= 4:
        # regime of each load from the knee of the mean equilibrium latency (ms) against total demand
        x = np.array([r["load"] for r in rows])
        y = np.array([r["equilibrium_cost"] / r["load"] if r["load"] > 0 else 0.0 for r in rows])
        try:
            labels = classify(x, y)
        except InvalidInputError:
            labels = None
        if labels is not None:
            for row, lab in zip(rows, labels, strict=True):
                row["regime"] = lab
    return rows
