"""Traffic-assignment solvers over edge arrays: path-based gradient projection and a cvxpy program.

Main solver: path-based gradient projection (Jayakrishnan, Tsai, Prashker & Rajadhyaksha 1994, "A faster
path-based algorithm for traffic assignment"; the Newton-type step of Chen & Lee / Bertsekas' projection
method). Each sweep computes shortest-path trees for all origins at once (Dijkstra, scipy.sparse.csgraph),
reports the relative gap ``(sum t x - sum_od d_od c*_od) / sum t x`` (the stopping rule), adds each
origin-destination pair's shortest path to its working path set and moves flow from every costlier path
``p`` to the cheapest path ``s`` by ``min(f_p, (c_p - c_s) / sum_{a in p xor s} t'_a)``, updating link
costs after each move (Gauss-Seidel). The system optimum is the same method on marginal costs
``t + x t'`` (Beckmann, McGuire & Winsten 1956).

Cross-check: :func:`cvxpy_assignment`, the origin-based link-node convex program (Beckmann objective or
total cost) solved by cvxpy, for small graphs.

Link costs are evaluated by vectorized evaluators over all edges: :class:`BPRCosts` (numpy over arrays of
BPR parameters), :class:`CurveCosts` (any :mod:`gametheory.latency` curves, one call per edge) and
:class:`MarginalCosts` (wraps either for the system optimum).

References
----------
.. [1] R. Jayakrishnan, W. K. Tsai, J. N. Prashker, S. Rajadhyaksha, "A faster path-based algorithm for traffic
   assignment", Transportation Research Record 1443, 1994.
.. [2] D. P. Bertsekas, E. M. Gafni, "Projection methods for variational inequalities with application to the
   traffic assignment problem", Math. Programming Study 17, 1982.
.. [3] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gametheory._validate import (
    choice,
    finite_array,
    flag,
    function,
    instance,
    integer,
    integer_array,
    nonnegative_array,
    positive_scalar,
    sequence_of,
)
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.latency import LatencyCurve
from gametheory.results import Result

__all__ = [
    "BPRCosts",
    "CurveCosts",
    "MarginalCosts",
    "ShortestPaths",
    "cvxpy_assignment",
    "gradient_projection",
    "origin_rows",
]


# ---- link-cost evaluators --------------------------------------------------------------------------------
class BPRCosts:
    """BPR link times ``t0 (1 + alpha (x / cap)^beta)`` vectorized over edges (arrays of length E).

    Parameters
    ----------
    t0, capacity, alpha, beta : array_like
        BPR parameters per edge.

    References
    ----------
    .. [1] Bureau of Public Roads, *Traffic Assignment Manual*, U.S. Department of Commerce, 1964.
    """

    def __init__(self, t0, capacity, alpha, beta):
        self.t0 = nonnegative_array(t0, "t0", ndim=1, min_size=1)
        self.cap = nonnegative_array(capacity, "capacity", ndim=1)
        self.alpha = nonnegative_array(alpha, "alpha", ndim=1)
        self.beta = nonnegative_array(beta, "beta", ndim=1)
        if not self.t0.size == self.cap.size == self.alpha.size == self.beta.size:
            raise InvalidInputError(f"t0, capacity, alpha and beta need one entry per edge, got {self.t0.size}, "
                                    f"{self.cap.size}, {self.alpha.size}, {self.beta.size}")
        if (self.cap <= 0).any():
            raise InvalidInputError(f"capacity must be > 0; edge {int(np.argmax(self.cap <= 0))} has 0")
        self._k = self.t0 * self.alpha  # t0 * alpha

    def time(self, x, idx=None):
        """Link times at flows ``x`` (of the edges ``idx``, default all).

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Link times ``t0 (1 + alpha (x / capacity)^beta)`` (units of ``t0``), same shape as ``x``.
        """
        if idx is None:
            return self.t0 + self._k * (x / self.cap) ** self.beta
        return self.t0[idx] + self._k[idx] * (x / self.cap[idx]) ** self.beta[idx]

    def slope(self, x, idx=None):
        """Derivatives of the link times.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Derivatives ``dt/dx`` of the link times (units of ``t0`` per unit of flow), same shape as ``x``.
        """
        s = slice(None) if idx is None else idx
        b, cap = self.beta[s], self.cap[s]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self._k[s] * b * np.where(b > 0, (x / cap) ** (b - 1.0), 0.0) / cap
        return np.nan_to_num(d, nan=0.0, posinf=0.0)

    def curvature(self, x, idx=None):
        """Second derivatives of the link times.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Second derivatives ``d2t/dx2`` of the link times, same shape as ``x``.
        """
        s = slice(None) if idx is None else idx
        b, cap = self.beta[s], self.cap[s]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = self._k[s] * b * (b - 1.0) * np.where(b > 1, (x / cap) ** (b - 2.0), 0.0) / cap**2
        return np.nan_to_num(d, nan=0.0, posinf=0.0)

    def integral(self, x, idx=None):
        """Beckmann terms int_0^x t.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Beckmann terms ``int_0^x t(s) ds`` (units of ``t0`` x flow), same shape as ``x``.
        """
        s = slice(None) if idx is None else idx
        cap, b = self.cap[s], self.beta[s]
        return self.t0[s] * x + self._k[s] * cap * (x / cap) ** (b + 1.0) / (b + 1.0)


class CurveCosts:
    """Any :mod:`gametheory.latency` curves, one per edge (a Python call per edge: for small graphs).

    Curves with a finite capacity (M/M/1, pole) are continued linearly past ``(1 - 1e-3) capacity`` with
    the slope there, so intermediate iterates (e.g. the first all-or-nothing loading) stay finite;
    :meth:`check` then rejects a final solution in that continued region with CapacityExceededError.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        One per edge.
    """

    MARGIN = 1e-3

    def __init__(self, curves):
        self.curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
        self.limit = np.array([c.capacity * (1.0 - self.MARGIN) for c in self.curves])

    def _eval(self, kind, x, idx):
        ids = range(len(self.curves)) if idx is None else np.asarray(idx).tolist()
        out = np.empty(len(x))
        for i, (e, v) in enumerate(zip(ids, np.asarray(x, dtype=float).tolist(), strict=True)):
            c, lim = self.curves[e], self.limit[e]
            over = v >= lim
            u = lim if over else max(v, 0.0)
            if kind == "time":
                out[i] = c(u) + (c.derivative(u) * (v - u) if over else 0.0)
            elif kind == "slope":
                out[i] = c.derivative(u)
            elif kind == "curvature":
                h = 1e-6 * max(1.0, u)
                lo, hi = max(0.0, u - h), (u + h if u + h < lim else u)
                out[i] = 0.0 if over or hi <= lo else (c.derivative(hi) - c.derivative(lo)) / (hi - lo)
            else:  # integral
                d = v - u
                out[i] = c.integral(u) + (c(u) * d + 0.5 * c.derivative(u) * d * d if over else 0.0)
        return out

    def time(self, x, idx=None):
        """Link times at flows ``x`` (of the edges ``idx``, default all).

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Link times (the curves' latency unit), linearly continued near a capacity, same shape as ``x``.
        """
        return self._eval("time", x, idx)

    def slope(self, x, idx=None):
        """Derivatives of the link times.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Derivatives ``dt/dx`` of the link times, same shape as ``x``.
        """
        return self._eval("slope", x, idx)

    def curvature(self, x, idx=None):
        """Second derivatives of the link times (central difference).

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Central-difference second derivatives of the link times (0 in the continued region), same shape as ``x``.
        """
        return self._eval("curvature", x, idx)

    def integral(self, x, idx=None):
        """Beckmann terms int_0^x t.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Beckmann terms ``int_0^x t(s) ds`` (latency x flow), same shape as ``x``.
        """
        return self._eval("integral", x, idx)

    def check(self, x):
        """Raise CapacityExceededError when a flow reaches the continued region next to a capacity.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge.

        Raises
        ------
        CapacityExceededError
            When the load reaches a capacity (no finite cost).
        """
        bad = np.flatnonzero(np.asarray(x) >= self.limit)
        if bad.size:
            e = int(bad[0])
            raise CapacityExceededError(float(x[e]), float(self.curves[e].capacity), f"edge {e} latency curve")


class MarginalCosts:
    """Marginal social cost ``t + x t'`` (and its slope ``2 t' + x t''``) of a base evaluator.

    Parameters
    ----------
    base : BPRCosts or CurveCosts
        The latencies.
    """

    def __init__(self, base):
        self.base = instance(base, (BPRCosts, CurveCosts), "base")

    def time(self, x, idx=None):
        """Marginal costs t + x t' at flows ``x``.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Marginal social costs ``t + x t'`` (time units), same shape as ``x``.
        """
        return self.base.time(x, idx) + x * self.base.slope(x, idx)

    def slope(self, x, idx=None):
        """Their derivatives 2 t' + x t''.

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Derivatives ``2 t' + x t''`` of the marginal costs, same shape as ``x``.
        """
        return 2.0 * self.base.slope(x, idx) + x * self.base.curvature(x, idx)

    def integral(self, x, idx=None):
        """The integral of the marginal cost: the total cost x t(x).

        Parameters
        ----------
        x : numpy.ndarray
            Link flows (in the OD demand's units), one per edge of ``idx``.
        idx : numpy.ndarray of int, optional
            Edges to evaluate (default: all, then ``x`` has one entry per edge).

        Returns
        -------
        numpy.ndarray
            Total costs ``x t(x)`` per edge (time x flow), same shape as ``x``.
        """
        return x * self.base.time(x, idx)


# ---- shortest paths ---------------------------------------------------------------------------------------
class ShortestPaths:
    """All-origin Dijkstra on a node-split graph (``scipy.sparse.csgraph.dijkstra``).

    Nodes in ``no_through`` keep only their in-edges; their out-edges leave a copy node used only as a
    source, so paths start or end there but never pass through.

    Parameters
    ----------
    tail, head : array_like of int
        Edge endpoints.
    n_nodes : int
        Nodes.
    origins : sequence of int
        Origins to run Dijkstra from.
    no_through : sequence of int
        Zone nodes.

    References
    ----------
    .. [1] E. W. Dijkstra, "A note on two problems in connexion with graphs", Numer. Math. 1, 1959.
    """

    def __init__(self, tail, head, n_nodes, origins, no_through):
        n_nodes = _n_nodes(n_nodes)
        self.tail, self.head = _edges(tail, head, n_nodes)
        origins = _node_ids(origins, "origins", n_nodes)
        nt = np.zeros(n_nodes, dtype=bool)
        nt[_node_ids(no_through, "no_through", n_nodes)] = True
        copy_of = np.full(n_nodes, -1)
        ids = np.flatnonzero(nt)
        copy_of[ids] = n_nodes + np.arange(ids.size)
        self.n = n_nodes + ids.size
        self.stail = np.where(nt[self.tail], copy_of[self.tail], self.tail)
        self.sources = np.array([copy_of[o] if nt[o] else o for o in origins], dtype=int)
        keys = self.stail.astype(np.int64) * self.n + self.head
        self._order = np.argsort(keys)
        self._keys = keys[self._order]
        if np.any(np.diff(self._keys) == 0):
            raise InvalidInputError("network has parallel edges (two edges with the same tail and head)")

    def run(self, t):
        """Shortest-path distances and predecessors from every origin under link costs ``t``.

        Parameters
        ----------
        t : numpy.ndarray
            Link costs, one per edge (nonnegative; zeros are kept as tiny positive weights).

        Returns
        -------
        tuple of numpy.ndarray
            ``(dist, pred)``, each of shape (origins, nodes incl. copies): shortest-path costs (inf where
            unreachable) and predecessor nodes (-9999 where none).
        """
        w = np.maximum(t, np.finfo(float).tiny)  # csgraph drops explicit zeros; keep zero-cost edges
        g = csr_matrix((w, (self.stail, self.head)), shape=(self.n, self.n))
        dist, pred = dijkstra(g, directed=True, indices=self.sources, return_predecessors=True)
        return dist, pred

    def pred_edges(self, pred_row):
        """Edge index into each node on the tree (-1 where none).

        Parameters
        ----------
        pred_row : numpy.ndarray of int
            One origin's row of the predecessor array from :meth:`run` (-9999 where none).

        Returns
        -------
        numpy.ndarray
            Edge index into each node of the tree, shape (nodes incl. copies,), -1 where none.
        """
        ok = pred_row >= 0
        keys = pred_row.astype(np.int64) * self.n + np.arange(self.n)
        out = np.full(self.n, -1)
        pos = np.searchsorted(self._keys, keys[ok])
        out[ok] = self._order[pos]
        return out


# ---- gradient projection ----------------------------------------------------------------------------------
#: most nodes and edges a network may have
MAX_NODES = 10_000_000


def _n_nodes(n_nodes) -> int:
    return integer(n_nodes, "n_nodes", minimum=1, maximum=MAX_NODES)


def _node_ids(values, name: str, n_nodes: int) -> np.ndarray:
    """Node indices 0..n_nodes-1 from any iterable of integers (sets too)."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise InvalidInputError(f"{name} must be a sequence of node indices, got {values!r}")
    values = list(values)
    if not values:
        return np.zeros(0, dtype=int)
    return integer_array(values, name, ndim=1, minimum=0, maximum=n_nodes - 1)


def _edges(tail, head, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    tail = integer_array(tail, "tail", ndim=1, minimum=0, maximum=n_nodes - 1)
    head = integer_array(head, "head", ndim=1, minimum=0, maximum=n_nodes - 1)
    if tail.size != head.size or tail.size == 0 or tail.size > MAX_NODES:
        raise InvalidInputError(f"tail and head need one entry per edge (1 to {MAX_NODES:,}), got {tail.size} and "
                                f"{head.size}")
    return tail, head


def _network(tail, head, n_nodes, od_origin, od_dest, od_demand, no_through):
    """The arrays of a network and its OD pairs, checked."""
    n_nodes = _n_nodes(n_nodes)
    tail, head = _edges(tail, head, n_nodes)
    od_origin = integer_array(od_origin, "od_origin", ndim=1, minimum=0, maximum=n_nodes - 1)
    od_dest = integer_array(od_dest, "od_dest", ndim=1, minimum=0, maximum=n_nodes - 1)
    demand = finite_array(od_demand, "od_demand", ndim=1)
    if demand.size == 0 or np.any(demand <= 0):
        raise InvalidInputError("od_demand: need at least one OD pair and every demand finite and > 0")
    if not od_origin.size == od_dest.size == demand.size:
        raise InvalidInputError(f"od_origin, od_dest and od_demand need one entry per OD pair, got "
                                f"{od_origin.size}, {od_dest.size}, {demand.size}")
    return tail, head, n_nodes, od_origin, od_dest, demand, _node_ids(no_through, "no_through", n_nodes)


def _group_by_origin(od_origin, od_dest):
    origins = sorted(set(int(o) for o in od_origin))
    index = {o: i for i, o in enumerate(origins)}
    groups: list[list[int]] = [[] for _ in origins]
    for k, o in enumerate(od_origin):
        groups[index[int(o)]].append(k)
    return origins, groups


def gradient_projection(tail, head, n_nodes, od_origin, od_dest, od_demand, costs, *, no_through=(),
                        rgap: float = 1e-6, max_iter: int = 1000, objective=None, keep_paths: bool = False,
                        block_newton: bool | None = None) -> Result:
    """Path-based gradient projection to relative gap ``rgap`` (module docstring).

    Parameters
    ----------
    tail, head : array_like of int
        Edge endpoints as node indices 0..n_nodes-1.
    n_nodes : int
        Nodes.
    od_origin, od_dest, od_demand : array_like
        One entry per OD pair (demand > 0).
    costs : BPRCosts, CurveCosts or MarginalCosts
        The link costs users (equilibrium) or the planner (optimum: marginal costs) equalize.
    no_through : sequence of int
        Nodes paths may start or end at but never pass through.
    rgap : float
        Relative gap ``(sum t x - sum_od d_od c*_od) / sum t x`` to reach.
    max_iter : int
        Sweeps before giving up.
    objective : callable, optional
        Link flows -> the reported objective (default ``costs.integral``, the Beckmann potential).
    keep_paths : bool
        Attach the path flows (``paths``: OD index -> [(edge array, flow)]).
    block_newton : bool, optional
        Projected Newton step over each OD pair's paths instead of the diagonal one (default: at most 50
        OD pairs).

    Returns
    -------
    Result
        Kind "optimum" for marginal costs, else "equilibrium"; ``x`` = link flows, ``cost`` = total travel
        time sum_a x_a t_a(x_a); extras ``objective``, ``gap``, ``gap_history``, ``paths``.

    Raises
    ------
    InvalidInputError
        No OD pair, a non-positive demand, or an unreachable destination.
    ConvergenceError
        When the gap is not reached in ``max_iter`` sweeps.
    CapacityExceededError
        When the flows end past a link's capacity.

    References
    ----------
    .. [1] R. Jayakrishnan, W. K. Tsai, J. N. Prashker, S. Rajadhyaksha, "A faster path-based algorithm for
       traffic assignment", Transportation Research Record 1443, 1994.
    .. [2] D. P. Bertsekas, E. M. Gafni, "Projection methods for variational inequalities with application
       to the traffic assignment problem", Math. Programming Study 17, 1982.
    """
    tail, head, n_nodes, od_origin, od_dest, demand, no_through = _network(
        tail, head, n_nodes, od_origin, od_dest, od_demand, no_through)
    E = tail.size
    instance(costs, (BPRCosts, CurveCosts, MarginalCosts), "costs")
    rgap = positive_scalar(rgap, "rgap")
    max_iter = integer(max_iter, "max_iter", minimum=0, maximum=10**7)
    if objective is not None:
        function(objective, "objective")
    keep_paths = flag(keep_paths, "keep_paths")
    if block_newton is not None:
        flag(block_newton, "block_newton")
    origins, groups = _group_by_origin(od_origin, od_dest)
    sp = ShortestPaths(tail, head, n_nodes, origins, no_through)
    stail = sp.stail.tolist()
    paths: list[list[np.ndarray]] = [[] for _ in demand]
    pkeys: list[list[bytes]] = [[] for _ in demand]
    flows: list[list[float]] = [[] for _ in demand]
    x = np.zeros(E)
    history: list[float] = []
    gap = math.inf
    nit = 0
    oi = origin_rows(origins, od_origin)
    block = demand.size <= 50 if block_newton is None else bool(block_newton)
    for it in range(max_iter + 1):
        t = costs.time(x)
        dist, pred = sp.run(t)
        sp_cost = dist[oi, od_dest]
        if it == 0:
            bad = ~np.isfinite(sp_cost)
            if np.any(bad):
                k = int(np.flatnonzero(bad)[0])
                raise InvalidInputError(f"OD pair {od_origin[k]}->{od_dest[k]}: destination unreachable")
        else:
            tx = float(t @ x)
            gap = max((tx - float(demand @ sp_cost)) / tx, 0.0) if tx > 0 else 0.0
            history.append(gap)
            if gap <= rgap:
                break
        if it == max_iter:
            break
        nit = it + 1
        slope = costs.slope(x)
        for r, ks in enumerate(groups):
            pe = sp.pred_edges(pred[r]).tolist()
            src = int(sp.sources[r])
            for k in ks:
                node, new = int(od_dest[k]), []
                while node != src:
                    e = pe[node]
                    new.append(e)
                    node = stail[e]
                new_arr = np.array(new[::-1], dtype=int)
                key = new_arr.tobytes()
                if key not in pkeys[k]:
                    paths[k].append(new_arr)
                    pkeys[k].append(key)
                    flows[k].append(0.0)
                if len(paths[k]) == 1:  # all-or-nothing on a fresh pair
                    if flows[k][0] == 0.0:
                        flows[k][0] = demand[k]
                        x[new_arr] += demand[k]
                        t[new_arr] = costs.time(x[new_arr], new_arr)
                        slope[new_arr] = costs.slope(x[new_arr], new_arr)
                    continue
                if block:
                    _shift_block_newton(paths[k], pkeys[k], flows[k], x, t, slope, costs)
                else:
                    _shift(paths[k], pkeys[k], flows[k], x, t, slope, costs)
        # rebuild link flows from path flows to stop rounding drift
        x = _link_flows(paths, flows, E)
    if gap > rgap:
        raise ConvergenceError(f"gradient projection: relative gap {gap:.3e} > {rgap:.1e} after {nit} sweeps",
                               gap=float(gap), tolerance=float(rgap))
    cert = Certificate("relative_gap", float(gap), float(rgap))
    obj_fn = objective if objective is not None else costs.integral
    optimum = isinstance(costs, MarginalCosts)
    evaluator = costs.base if optimum else costs
    if hasattr(evaluator, "check"):
        evaluator.check(x)
    return Result(
        "optimum" if optimum else "equilibrium", x, float(evaluator.time(x) @ x), cert,
        message=f"path-based gradient projection, relative gap {gap:.2e} after {nit} sweeps", nit=nit,
        method="gradient_projection", objective=float(np.sum(obj_fn(x))), gap=float(gap), gap_history=history,
        paths={k: list(zip(paths[k], flows[k], strict=True)) for k in range(demand.size)} if keep_paths else None,
    )


def origin_rows(origins, od_origin) -> np.ndarray:
    """Row of each OD pair's origin in the all-origin shortest-path arrays.

    Parameters
    ----------
    origins : sequence of int
        The origins, in the order of :class:`ShortestPaths`.
    od_origin : array_like of int
        Origin of each OD pair.

    Returns
    -------
    numpy.ndarray
        Index into ``origins`` per OD pair.

    Raises
    ------
    InvalidInputError
        An origin of an OD pair that is not among ``origins``.
    """
    origins = integer_array(origins, "origins", ndim=1)
    od_origin = integer_array(od_origin, "od_origin", ndim=1)
    index = {int(o): i for i, o in enumerate(origins)}
    missing = [int(o) for o in od_origin if int(o) not in index]
    if missing:
        raise InvalidInputError(f"od_origin {missing[0]} is not among the origins {sorted(index)[:10]}")
    return np.array([index[int(o)] for o in od_origin], dtype=int)


def _shift(paths, keys, flows, x, t, slope, costs):
    """Move flow of one OD pair from each costlier path to the cheapest (Newton step), Gauss-Seidel."""
    c = [float(t[p].sum()) for p in paths]
    s = int(np.argmin(c))
    ps = paths[s]
    for j, p in enumerate(paths):
        if j == s or flows[j] <= 0.0:
            continue
        cp, cs = float(t[p].sum()), float(t[ps].sum())
        if cp <= cs:
            continue
        common = np.intersect1d(p, ps, assume_unique=True)
        denom = float(slope[p].sum() + slope[ps].sum() - 2.0 * slope[common].sum())
        step = flows[j] if denom <= 0.0 else min(flows[j], (cp - cs) / denom)
        if step <= 0.0:
            continue
        flows[j] -= step
        flows[s] += step
        x[p] -= step
        x[ps] += step
        both = np.concatenate((p, ps))
        x[both] = np.maximum(x[both], 0.0)
        t[both] = costs.time(x[both], both)
        slope[both] = costs.slope(x[both], both)
    # drop unused paths (keep the cheapest)
    for j in range(len(paths) - 1, -1, -1):
        if j != s and flows[j] <= 0.0:
            del paths[j], keys[j], flows[j]
            if j < s:
                s -= 1


def _shift_block_newton(paths, keys, flows, x, t, slope, costs):
    """Projected Newton step on one OD pair's path flows (Bertsekas & Gafni 1982): minimize
    c'D + D'HD/2 with H = L' diag(t') L (L: edge-path incidence), sum D = 0, over the used paths and the
    cheapest, then the largest step in [0, 1] that keeps flows >= 0. Handles coupled paths (shared
    edges with steep costs) where the diagonal step of :func:`_shift` crawls."""
    c = np.array([float(t[p].sum()) for p in paths])
    s = int(np.argmin(c))
    free = [j for j in range(len(paths)) if flows[j] > 0.0 or j == s]
    if len(free) < 2:
        return
    edges = np.unique(np.concatenate([paths[j] for j in free]))
    L = np.zeros((edges.size, len(free)))
    for col, j in enumerate(free):
        L[np.searchsorted(edges, paths[j]), col] = 1.0
    H = L.T @ (slope[edges][:, None] * L)
    f0 = np.array([flows[j] for j in free])
    f, cost = f0.copy(), c[free].copy()
    active = np.ones(len(free), dtype=bool)
    for _ in range(len(free)):  # active set: drop a path that the step empties, re-solve the rest
        ids = np.flatnonzero(active)
        m = ids.size
        if m < 2:
            break
        Hs = H[np.ix_(ids, ids)]
        K = np.zeros((m + 1, m + 1))
        K[:m, :m] = Hs + 1e-12 * (np.trace(Hs) / m + 1.0) * np.eye(m)
        K[:m, m] = K[m, :m] = 1.0
        step = np.linalg.lstsq(K, np.concatenate([-cost[ids], [0.0]]), rcond=None)[0][:m]
        neg = step < 0
        ratio = np.where(neg, f[ids] / np.where(neg, -step, 1.0), np.inf)
        theta = min(1.0, float(ratio.min()))
        full = np.zeros(len(free))
        full[ids] = theta * step
        f = np.maximum(f + full, 0.0)
        cost = cost + H @ full  # linear model of the path costs
        if theta >= 1.0:
            break
        active[ids[int(np.argmin(ratio))]] = False
    if not np.any(f != f0):
        return _shift(paths, keys, flows, x, t, slope, costs)
    new = f * (f0.sum() / f.sum())
    delta = L @ (new - f0)
    # Armijo backtracking on the potential (Beckmann, or total cost for marginal costs): Newton steps
    # overshoot on steep (pole-like) curves
    xe = x[edges]
    f_old = float(np.sum(costs.integral(xe, edges)))
    descent = float(t[edges] @ delta)
    theta = 1.0
    while theta > 1e-8:
        trial = np.maximum(xe + theta * delta, 0.0)
        if float(np.sum(costs.integral(trial, edges))) <= f_old + 1e-4 * theta * descent:
            break
        theta *= 0.5
    new = f0 + theta * (new - f0)
    delta = theta * delta
    x[edges] = np.maximum(x[edges] + delta, 0.0)
    t[edges] = costs.time(x[edges], edges)
    slope[edges] = costs.slope(x[edges], edges)
    for col, j in enumerate(free):
        flows[j] = float(new[col])
    for j in range(len(paths) - 1, -1, -1):
        if flows[j] <= 0.0 and j != s:
            del paths[j], keys[j], flows[j]
            if j < s:
                s -= 1


def _link_flows(paths, flows, E):
    idx, w = [], []
    for ps, fs in zip(paths, flows, strict=True):
        for p, f in zip(ps, fs, strict=True):
            if f > 0:
                idx.append(p)
                w.append(np.full(p.size, f))
    if not idx:
        return np.zeros(E)
    return np.bincount(np.concatenate(idx), weights=np.concatenate(w), minlength=E)


# ---- cvxpy cross-check ------------------------------------------------------------------------------------
def cvxpy_assignment(tail, head, n_nodes, od_origin, od_dest, od_demand, curves, *, system_optimum=False,
                     no_through=(), solver=None):
    """Origin-based link-node convex program (Beckmann 1956) with cvxpy: returns (link flows, objective).

    One flow vector per origin over the edges (edges leaving a ``no_through`` node other than that origin
    are dropped), flow conservation at every node; minimize sum of ``curve.cvxpy_integral`` (UE) or
    ``curve.cvxpy_total`` (SO). For small graphs; the independent check of :func:`gradient_projection`.

    Parameters
    ----------
    tail : array_like of int
        Tail node of each edge, node indices 0..n_nodes-1.
    head : array_like of int
        Head node of each edge, node indices 0..n_nodes-1.
    n_nodes : int
        Number of nodes.
    od_origin : array_like of int
        Origin node of each OD pair.
    od_dest : array_like of int
        Destination node of each OD pair.
    od_demand : array_like of float
        Demand of each OD pair (> 0, flow units such as vehicles/h or req/s).
    curves : sequence of LatencyCurve
        Latency curve of each edge (one per edge).
    system_optimum : bool
        Minimize total cost ``sum x t(x)`` (system optimum) instead of the Beckmann potential (equilibrium).
    no_through : sequence of int
        Nodes that flows may start or end at but never pass through.
    solver : str, optional
        Name of an installed cvxpy solver (default: cvxpy's choice).

    Returns
    -------
    tuple of (numpy.ndarray, float)
        Link flows (shape (E,), demand units) and the optimal objective (Beckmann potential or total cost).

    Raises
    ------
    ConvergenceError
        When the method stops before meeting its tolerance.
    """
    import cvxpy as cp

    tail, head, n_nodes, od_origin, od_dest, od_demand, no_through = _network(
        tail, head, n_nodes, od_origin, od_dest, od_demand, no_through)
    E = tail.size
    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    if len(curves) != E:
        raise InvalidInputError(f"curves needs one curve per edge ({E}), got {len(curves)}")
    system_optimum = flag(system_optimum, "system_optimum")
    if solver is not None:
        solver = choice(solver, "solver", tuple(cp.installed_solvers()))
    origins, groups = _group_by_origin(od_origin, od_dest)
    nt = set(int(v) for v in no_through)
    A = np.zeros((n_nodes, E))
    A[tail, np.arange(E)] = 1.0
    A[head, np.arange(E)] -= 1.0
    scale = float(np.max(od_demand))  # flow unit of the variables, so they are O(1)
    flows, cons = [], []
    for o, ks in zip(origins, groups, strict=True):
        b = np.zeros(n_nodes)
        for k in ks:
            b[o] += od_demand[k] / scale
            b[od_dest[k]] -= od_demand[k] / scale
        f = cp.Variable(E, nonneg=True)
        cons.append(A @ f == b)
        banned = [e for e in range(E) if int(tail[e]) in nt and int(tail[e]) != o]
        if banned:
            cons.append(f[banned] == 0)
        flows.append(f)
    y = cp.sum(cp.vstack(flows), axis=0) if len(flows) > 1 else flows[0]
    terms = [_cvxpy_term(c, y[e], scale, system_optimum) for e, c in enumerate(curves)]
    prob = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), cons)
    try:
        prob.solve(solver=solver)
    except cp.error.SolverError as exc:
        raise ConvergenceError(f"cvxpy assignment: {exc}") from None
    if prob.status not in ("optimal", "optimal_inaccurate"):
        raise ConvergenceError(f"cvxpy assignment: solver status {prob.status}")
    return np.maximum(scale * np.asarray(y.value, dtype=float), 0.0), float(prob.value) * scale


def _cvxpy_term(curve, y, scale, system_optimum):
    """Beckmann term (or total cost) of one edge divided by ``scale``, for flow ``scale * y``. BPR edges
    are written in the utilization ``u = x / capacity`` so the program stays well scaled."""
    import cvxpy as cp

    from gametheory.latency import BPR

    if type(curve) is BPR:
        u_per_y = scale / curve.practical_capacity
        coef = curve.t0 * curve.alpha * curve.practical_capacity / scale
        if not system_optimum:
            coef /= curve.beta + 1.0
        return curve.t0 * y + coef * cp.power(u_per_y * y, curve.beta + 1.0)
    term = curve.cvxpy_total(scale * y) if system_optimum else curve.cvxpy_integral(scale * y)
    return term / scale
