"""PoA of a routing game swept across load, next to the bound of the curves' class.

:func:`poa_across_load` solves the Wardrop equilibrium and the social optimum of a
:class:`~gametheory.games.routing.RoutingGame` at each total demand, with the class bound of
:func:`gametheory.bounds.class_bound` (and a note where the bound's class changes, since the bound can jump
there) and the load regime of each demand from the knee of the mean equilibrium latency
(:func:`gametheory.regimes.find_knees`). The rows come back as a :class:`PoAAcrossLoad` (a list of dicts that
also prints as a table, converts to a DataFrame and plots).

References
----------
.. [1] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67, 2003 (the
   class bound).
"""

from __future__ import annotations

import numpy as np

from gametheory._progress import progress
from gametheory._validate import finite_array, flag, integer, nonnegative_scalar, sequence_of
from gametheory.bounds import class_bound
from gametheory.display import Table, format_value
from gametheory.games.routing.game import RoutingGame
from gametheory.latency import LatencyCurve
from gametheory.regimes import classify, find_knees

__all__ = ["PoAAcrossLoad", "poa_across_load"]


class PoAAcrossLoad(Table):
    """Rows of :func:`poa_across_load` (a list of dicts, one per load) with the knee they were classified by.

    ``knee`` is the :class:`~gametheory.regimes.KneeConsensus` of the mean equilibrium latency against total
    demand (None when regimes were not asked for or too few loads were given); ``knee_note`` says how the
    ``regime`` column was filled.

    Parameters
    ----------
    rows : iterable of dict
        One per load.
    knee : KneeConsensus, optional
    knee_note : str
    """

    def __init__(self, rows=(), knee=None, knee_note: str = ""):
        super().__init__(rows, title="PoA across load")
        self.knee = knee
        self.knee_note = knee_note

    def plot(self, ax=None, *, unit: str = "requests/s"):
        """PoA and its class bound against load, the knee and every change of bound class marked.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        unit : str
            Unit of the loads, for the x-label.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from gametheory.plotting import axes, axis_label, knee_line, legend, ratio_ylim

        ax = axes(ax)
        x = np.array([r["load"] for r in self])
        poa = np.array([r["poa"] for r in self], dtype=float)
        bound = np.array([r["bound"] for r in self], dtype=float)
        ax.plot(x, poa, "o-", label="PoA (equilibrium / optimum)")
        if np.isfinite(bound).any():
            ax.plot(x, bound, "s--", label="class bound")
        for r in self:
            if r.get("bound_change"):
                ax.axvline(r["load"], color="0.5", linestyle=":", linewidth=1.2)
                ax.annotate(f"bound: {r['bound_kind']}", xy=(r["load"], 0.04), xycoords=("data", "axes fraction"),
                            xytext=(3, 0), textcoords="offset points", fontsize=8.5, rotation=90, va="bottom")
        if self.knee is not None and self.knee.found:
            knee_line(ax, self.knee.load, self.knee.interval, unit="")
        ax.set_xlabel(axis_label("total demand", unit))
        ax.set_ylabel("PoA (equilibrium / optimum cost)")
        ratio_ylim(ax, np.concatenate([poa[np.isfinite(poa)], bound[np.isfinite(bound)]]))
        legend(ax)
        return ax


def poa_across_load(curves, loads, *, n_classes: int = 1, omega: float = 0.0, cache_benefit=1.0,
                    cache_scale=1.0, regimes: bool = True) -> PoAAcrossLoad:
    """PoA of nonatomic routing over parallel workers at each total demand, with its class bound and regime.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        One latency curve (ms) per worker.
    loads : array_like
        Total demands (requests/s), light load to near capacity.
    n_classes : int
        Request classes sharing the demand equally.
    omega, cache_benefit, cache_scale
        Cache affinity of :class:`~gametheory.games.routing.RoutingGame`. With ``omega > 0`` the worst
        equilibrium found from several starts is used, the optimum is the MILP's and no classical bound
        applies (``bound`` is None; ``poa`` is None where the optimum's cost is <= 0).
    regimes : bool
        Classify each load by the knee of the mean equilibrium latency against total demand
        (:func:`gametheory.regimes.find_knees`).

    Returns
    -------
    PoAAcrossLoad
        A list of dicts, one per load, with keys ``load``, ``equilibrium_cost``, ``optimum_cost``, ``poa``,
        ``bound``, ``bound_kind`` (:func:`gametheory.bounds.class_bound`), ``bound_change`` (None, or a
        sentence where the bound class differs from the previous row's: the bound may jump there),
        ``equilibrium_flows`` and ``regime`` (always present: a label of :data:`gametheory.regimes.LABELS`,
        or ``"no knee"`` when no knee is found or fewer than 4 loads are given, or ``"not classified"``
        with ``regimes=False``).

    Raises
    ------
    InvalidInputError
        Bad loads or curves; a load at or past total capacity.

    References
    ----------
    Roughgarden, T. (2003). The price of anarchy is independent of the network topology. JCSS 67(2).
    Correa, J., Schulz, A. & Stier-Moses, N. (2004). Selfish routing in capacitated networks. Math. Oper.
    Res. 29(4).
    """
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    n_classes = integer(n_classes, "n_classes", minimum=1, maximum=10_000)
    omega = nonnegative_scalar(omega, "omega")
    regimes = flag(regimes, "regimes")
    rows = []
    for R in progress(finite_array(loads, "loads", ndim=1, min_size=1), "routing PoA across load", leave=False):
        demands = np.full(n_classes, float(R) / n_classes)
        game = RoutingGame(curves, demands, omega=omega, cache_benefit=cache_benefit, cache_scale=cache_scale)
        opt = game.optimum()
        if omega == 0:
            eq = game.equilibrium()
            bound, how = class_bound(curves, float(R), loads=eq.worker_flows)
        else:
            eq = max(game.equilibria(starts=4), key=lambda e: e.cost)
            bound, how = None, "none (omega > 0)"
        change = None
        if rows and how != rows[-1]["bound_kind"]:
            change = (f"bound class changes here: {rows[-1]['bound_kind']} -> {how} "
                      f"({format_value(rows[-1]['bound'], 3)} -> {format_value(bound, 3)})")
        rows.append({"load": float(R), "equilibrium_cost": eq.cost, "optimum_cost": opt.cost,
                     "poa": eq.cost / opt.cost if opt.cost > 0 else None, "bound": bound, "bound_kind": how,
                     "bound_change": change, "equilibrium_flows": eq.worker_flows})
    knee, note = None, "regimes not asked for"
    labels = ["not classified"] * len(rows)
    if regimes:
        x = np.array([r["load"] for r in rows])
        y = np.array([r["equilibrium_cost"] / r["load"] if r["load"] > 0 else 0.0 for r in rows])
        if np.unique(x).size < 4:
            labels, note = ["no knee"] * len(rows), f"{np.unique(x).size} loads: too few to find a knee (need 4)"
        else:
            knee = find_knees(x, y, n_boot=50)
            labels = classify(x, knee=knee) if knee.found else ["no knee"] * len(rows)
            note = knee.explanation
    for row, lab in zip(rows, labels, strict=True):
        row["regime"] = lab
    return PoAAcrossLoad(rows, knee=knee, knee_note=note)
