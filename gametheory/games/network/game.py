"""Network congestion games: multi-commodity nonatomic routing on a directed graph (traffic assignment).

A :class:`NetworkGame` is a networkx ``DiGraph`` whose edges carry a :mod:`gametheory.latency` curve in
the ``latency`` attribute, plus demands ``{(origin, destination): rate}``. Users pick least-cost paths:

- :meth:`NetworkGame.equilibrium` - user equilibrium (Wardrop 1952), the minimizer of the Beckmann
  potential sum_e int_0^{x_e} l_e; ``objective`` is that potential.
- :meth:`NetworkGame.optimum` - system optimum, the minimizer of the total cost sum_e x_e l_e(x_e),
  found by the same solver on marginal costs l + x l'; ``objective`` is the total cost.

Both use path-based gradient projection (Jayakrishnan et al. 1994; see
:mod:`gametheory.games.network.solvers`) with the relative gap (sum t x - sum t y_AON) / sum t x as
stopping rule and certificate. ``method="cvxpy"`` is the convex-program cross-check for
small graphs. :func:`read_tntp` builds a game from TNTP net and trips files (BPR links).

References
----------
.. [1] J. G. Wardrop, "Some theoretical aspects of road traffic research", Proc. ICE 1, 1952.
.. [2] R. Jayakrishnan et al., "A faster path-based algorithm for traffic assignment", TRR 1443, 1994.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from gametheory._validate import choice, integer, nonnegative_array, nonnegative_scalar, path, positive_scalar
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.games.network.solvers import (
    BPRCosts,
    CurveCosts,
    MarginalCosts,
    ShortestPaths,
    cvxpy_assignment,
    gradient_projection,
    origin_rows,
)
from gametheory.io.tntp import read_tntp_net, read_tntp_trips
from gametheory.latency import BPR, LatencyCurve
from gametheory.results import Result

__all__ = ["METHODS", "NetworkGame", "read_tntp"]

#: algorithms of :meth:`NetworkGame.equilibrium` and :meth:`NetworkGame.optimum`, the default first
METHODS = ("gradient_projection", "cvxpy")


@dataclass(frozen=True)
class NetworkGame:
    """Multi-commodity nonatomic congestion game on a directed graph.

    ``graph``: networkx DiGraph, every edge with a ``latency`` attribute (a :class:`LatencyCurve`, e.g.
    ``BPR``); ``demands``: ``{(origin, destination): rate}`` with rates > 0 (flow units per time unit);
    ``no_through``: nodes paths may start or end at but never pass through (TNTP zones below the first
    thru node). The game is immutable: solving never changes it.

    Parameters
    ----------
    graph : networkx.DiGraph
        Edges with a ``latency`` LatencyCurve.
    demands : dict
        (origin, destination) -> rate > 0.
    no_through : frozenset
        Nodes paths may start or end at but never pass through.

    Raises
    ------
    InvalidInputError
        A graph without edges or with a non-curve latency, empty or malformed demands, unknown nodes.

    References
    ----------
    .. [1] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956.
    """

    graph: nx.DiGraph
    demands: dict
    no_through: frozenset = field(default_factory=frozenset)

    def __post_init__(self):
        if not isinstance(self.graph, nx.DiGraph) or self.graph.is_multigraph():
            raise InvalidInputError("graph: need a networkx DiGraph (no multigraph)")
        if self.graph.number_of_edges() == 0:
            raise InvalidInputError("graph: has no edges")
        for u, v, data in self.graph.edges(data=True):
            if not isinstance(data.get("latency"), LatencyCurve):
                raise InvalidInputError(f"graph edge {u}->{v}: 'latency' attribute must be a LatencyCurve")
        if not isinstance(self.demands, Mapping):
            raise InvalidInputError(f"demands must be a dict {{(origin, destination): rate}}, got {self.demands!r}")
        if not self.demands:
            raise InvalidInputError("demands: empty")
        clean = {}
        for key, rate in dict(self.demands).items():
            if not isinstance(key, tuple) or len(key) != 2:
                raise InvalidInputError(f"demands: key {key!r} is not an (origin, destination) pair")
            o, d = key
            for node in (o, d):
                if not isinstance(node, Hashable) or node not in self.graph:
                    raise InvalidInputError(f"demands[{key!r}]: node {node!r} not in graph")
            r = nonnegative_scalar(rate, f"demands[{key!r}]: rate")
            if r > 0 and o != d:
                clean[(o, d)] = r
        if not clean:
            raise InvalidInputError("demands: no positive rate between distinct nodes")
        object.__setattr__(self, "demands", clean)
        if isinstance(self.no_through, (str, bytes)) or not isinstance(self.no_through, Iterable):
            raise InvalidInputError(f"no_through must be a set of nodes, got {self.no_through!r}")
        no_through = list(self.no_through)
        for node in no_through:
            if not isinstance(node, Hashable) or node not in self.graph:
                raise InvalidInputError(f"no_through: node {node!r} not in graph")
        object.__setattr__(self, "no_through", frozenset(no_through))
        self._check_reachable()

    def _check_reachable(self) -> None:
        """Every destination reachable from its origin without passing through a ``no_through`` node (the
        error names the OD pair by the graph's own node labels)."""
        for o, d in self.demands:
            seen, frontier = {o}, [o]
            while frontier and d not in seen:
                node = frontier.pop()
                if node != o and node in self.no_through:
                    continue
                for nxt in self.graph.successors(node):
                    if nxt not in seen:
                        seen.add(nxt)
                        frontier.append(nxt)
            if d not in seen:
                raise InvalidInputError(f"OD pair {o!r}->{d!r}: destination unreachable"
                                        + (" (zones in no_through are not passed through)" if self.no_through else ""))

    # ---- arrays ---------------------------------------------------------------------------------------
    @property
    def nodes(self) -> list:
        """The graph's nodes, in order."""
        return list(self.graph.nodes)

    @property
    def edges(self) -> list:
        """The edges (u, v), in the order of every flow vector."""
        return list(self.graph.edges)

    @property
    def curves(self) -> list:
        """The edges' latency curves, in edge order."""
        return [data["latency"] for _, _, data in self.graph.edges(data=True)]

    def arrays(self):
        """The game as the solvers' edge arrays.

        Returns
        -------
        tuple
            (tail, head, n_nodes, od_origin, od_dest, od_demand, no_through): node indices in the graph's node
            order, one entry per edge and per OD pair.
        """
        index = {n: i for i, n in enumerate(self.graph.nodes)}
        edges = self.edges
        tail = np.array([index[u] for u, _ in edges], dtype=int)
        head = np.array([index[v] for _, v in edges], dtype=int)
        ods = list(self.demands)
        o = np.array([index[a] for a, _ in ods], dtype=int)
        d = np.array([index[b] for _, b in ods], dtype=int)
        rate = np.array([self.demands[k] for k in ods], dtype=float)
        nt = [index[n] for n in self.no_through if n in index]
        return tail, head, len(index), o, d, rate, nt

    def link_costs(self):
        """The link-cost evaluator of the solvers: :class:`BPRCosts` when every edge is BPR, else
        :class:`CurveCosts`.

        Returns
        -------
        BPRCosts or CurveCosts
            Evaluator of the link times over the edges, in :meth:`arrays` edge order.
        """
        curves = self.curves
        if all(type(c) is BPR for c in curves):
            return BPRCosts([c.t0 for c in curves], [c.practical_capacity for c in curves],
                            [c.alpha for c in curves], [c.beta for c in curves])
        return CurveCosts(curves)

    def _check_capacity(self) -> None:
        """Each OD pair's demand must fit under the edge capacities alone (max flow, less the relative margin
        ``CurveCosts.MARGIN`` = 1e-3): a necessary condition for a finite-latency assignment; raises
        CapacityExceededError otherwise."""
        caps = {(u, v): d["latency"].capacity for u, v, d in self.graph.edges(data=True)}
        if all(math.isinf(c) for c in caps.values()):
            return
        g = nx.DiGraph()
        for (u, v), c in caps.items():
            g.add_edge(u, v, **({} if math.isinf(c) else {"capacity": c}))
        for (o, d), r in self.demands.items():
            try:
                value = nx.maximum_flow_value(g, o, d)
            except nx.NetworkXUnbounded:
                continue
            if r >= value * (1.0 - CurveCosts.MARGIN):
                raise CapacityExceededError(
                    r, value * (1.0 - CurveCosts.MARGIN),
                    f"OD pair {o!r}->{d!r} (max flow under edge capacities, less a {CurveCosts.MARGIN:g} margin)")

    # ---- solutions ------------------------------------------------------------------------------------
    def _solve(self, kind: str, method: str, rgap: float, max_iter: int, tolerance: float, solver) -> Result:
        method = choice(method, "method", METHODS)
        if method == "cvxpy":
            return self._solve_cvxpy(kind, positive_scalar(tolerance, "tolerance"), solver)
        rgap = positive_scalar(rgap, "rgap")
        if not rgap < 1:
            raise InvalidInputError(f"rgap must be in (0, 1), got {rgap!r}")
        max_iter = integer(max_iter, "max_iter", minimum=1, maximum=10**7)
        self._check_capacity()
        tail, head, n, o, d, rate, nt = self.arrays()
        base = self.link_costs()
        costs = base if kind == "equilibrium" else MarginalCosts(base)
        objective = base.integral if kind == "equilibrium" else (lambda x: x * base.time(x))
        res = gradient_projection(tail, head, n, o, d, rate, costs, no_through=nt, rgap=rgap, max_iter=max_iter,
                                  objective=objective)
        res.flows = dict(zip(self.edges, res.x.tolist(), strict=True))
        return res

    def equilibrium(self, method: str = "gradient_projection", *, rgap: float = 1e-6, max_iter: int = 2000,
                    tolerance: float = 1e-5, solver=None) -> Result:
        """The user (Wardrop) equilibrium.

        Parameters
        ----------
        method : {"gradient_projection", "cvxpy"}
            ``"gradient_projection"`` (default): path-based gradient projection to relative gap ``rgap``
            (:func:`~gametheory.games.network.solvers.gradient_projection`). ``"cvxpy"``: the origin-based
            link-node Beckmann program (small graphs), certified by its relative gap at ``tolerance``.
        rgap, max_iter : float, int
            Gradient projection's target gap and sweep limit.
        tolerance, solver
            The cvxpy path's certified gap and solver (default Clarabel).

        Returns
        -------
        Result
            ``x`` = link flows in ``edges`` order, ``flows`` = {edge: flow}, ``cost`` = total travel time;
            extras ``objective`` (Beckmann potential), ``gap``; certificate ``relative_gap``.

        Raises
        ------
        InvalidInputError
            An unknown method, or ``rgap`` outside (0, 1).
        CapacityExceededError
            When an OD pair's demand exceeds the max flow under the edge capacities.
        ConvergenceError, CertificateError
            When the gap is not reached.

        References
        ----------
        .. [1] J. G. Wardrop, "Some theoretical aspects of road traffic research", 1952.
        .. [2] R. Jayakrishnan et al., "A faster path-based algorithm for traffic assignment", TRR 1443, 1994.
        """
        return self._solve("equilibrium", method, rgap, max_iter, tolerance, solver)

    def optimum(self, method: str = "gradient_projection", *, rgap: float = 1e-6, max_iter: int = 2000,
                tolerance: float = 1e-5, solver=None) -> Result:
        """The system optimum: the same methods on marginal costs ``t + x t'``.

        Parameters
        ----------
        method, rgap, max_iter, tolerance, solver
            As for :meth:`equilibrium` (the gap is measured on marginal costs).

        Returns
        -------
        Result
            As for :meth:`equilibrium`; ``objective`` is the total travel time.

        Raises
        ------
        InvalidInputError, CapacityExceededError, ConvergenceError, CertificateError
            As for :meth:`equilibrium`.

        References
        ----------
        .. [1] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956.
        """
        return self._solve("optimum", method, rgap, max_iter, tolerance, solver)

    def price_of_anarchy(self, rgap: float = 1e-8) -> float:
        """Total travel time at the user equilibrium / at the system optimum.

        Parameters
        ----------
        rgap : float
            Relative gap of both solutions.

        Returns
        -------
        float
            The ratio.

        Raises
        ------
        CapacityExceededError, ConvergenceError
            As for :meth:`equilibrium`.

        References
        ----------
        .. [1] T. Roughgarden, E. Tardos, "How bad is selfish routing?", J. ACM 49(2), 2002.
        """
        return self.equilibrium(rgap=rgap).cost / self.optimum(rgap=rgap).cost

    def relative_gap(self, x, kind: str = "equilibrium") -> float:
        """Relative gap of link flows ``x`` (edges order) on latencies or marginal costs: the certificate.

        Parameters
        ----------
        x : array_like of float
            Link flows, one per edge in :meth:`arrays` order (the OD demand's units, e.g. vehicles/h).
        kind : {"equilibrium", "optimum"}
            Gap on the latencies (Wardrop equilibrium) or on the marginal costs (system optimum).

        Returns
        -------
        float
            ``(sum t x - sum_od d_od c*_od) / sum t x``, dimensionless (0 at an exact solution, 0 if no flow).

        Raises
        ------
        InvalidInputError
            When an argument is malformed; the message names it and its value.
        """
        kind = choice(kind, "kind", ("equilibrium", "optimum"))
        tail, head, n, o, d, rate, nt = self.arrays()
        x = nonnegative_array(x, "x (link flows)", ndim=1)
        if x.size != tail.size:
            raise InvalidInputError(f"x (link flows): need one flow per edge ({tail.size}), got {x.size}")
        base = self.link_costs()
        costs = base if kind == "equilibrium" else MarginalCosts(base)
        origins = sorted(set(o.tolist()))
        dist, _ = ShortestPaths(tail, head, n, origins, nt).run(costs.time(x))
        t = costs.time(x)
        tx = float(t @ x)
        best = float(rate @ dist[origin_rows(origins, o), d])
        if not (math.isfinite(tx) and math.isfinite(best)):
            raise InvalidInputError("x (link flows): the link costs overflow at these flows (inf/NaN); the gap is "
                                    "undefined")
        return (tx - best) / tx if tx > 0 else 0.0

    def _solve_cvxpy(self, kind: str, tolerance: float, solver) -> Result:
        """The convex program (origin-based link-node form) with cvxpy; certificate: its relative gap."""
        tail, head, n, o, d, rate, nt = self.arrays()
        x, value = cvxpy_assignment(tail, head, n, o, d, rate, self.curves, system_optimum=kind == "optimum",
                                    no_through=nt, solver=solver)
        base = self.link_costs()
        total = float(base.time(x) @ x)
        objective = float(np.sum(base.integral(x))) if kind == "equilibrium" else total  # at the returned flows
        gap = max(self.relative_gap(x, kind), 0.0)
        cert = Certificate("relative_gap", gap, tolerance).check(f"cvxpy {kind}")
        return Result(kind, x, total, cert, message=f"cvxpy (solver objective {value:.10g})", method="cvxpy",
                      flows=dict(zip(self.edges, x.tolist(), strict=True)), objective=objective, gap=gap)


def read_tntp(net_path, trips_path) -> NetworkGame:
    """Build a :class:`NetworkGame` from TNTP net and trips files (nodes are the file's integers).

    Each link gets ``BPR(free_flow_time, capacity, b, power)``; zones below ``<FIRST THRU NODE>`` become
    ``no_through`` nodes.

    Parameters
    ----------
    net_path : str or os.PathLike
        TNTP ``*_net.tntp`` file (links: init/term node, capacity, free-flow time, BPR b and power).
    trips_path : str or os.PathLike
        TNTP ``*_trips.tntp`` file (OD demand per origin-destination pair).

    Returns
    -------
    NetworkGame
        The network with one BPR latency per link and the file's OD demand.
    """
    net = read_tntp_net(path(net_path, "net_path"))
    trips = read_tntp_trips(path(trips_path, "trips_path"))
    g = nx.DiGraph()
    g.add_nodes_from(range(1, net.num_nodes + 1))
    for i in range(net.num_links):
        g.add_edge(int(net.init_node[i]), int(net.term_node[i]),
                   latency=BPR(net.free_flow_time[i], net.capacity[i], net.b[i], net.power[i]))
    no_through = frozenset(range(1, net.first_thru_node)) if net.first_thru_node > 1 else frozenset()
    return NetworkGame(g, trips, no_through)
