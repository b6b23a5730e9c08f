"""Multiclass routing with per-class work: class k puts ``work[k, w]`` units of load on worker w per request.

Worker w's load is ``X_w = sum_k work[k, w] x[k, w]`` and a class-k request there costs ``work[k, w] l_w(X_w)``
(a processor-sharing server: the coupled system's prefill workers, where ``work`` is the prefill time of a
request and ``l(X) = 1 / (1 - X)`` the M/M/1-PS slowdown at utilisation X). The Jacobian of this cost map
is symmetric (block ``work work^T l'``), so the game has a potential:

- the Wardrop equilibrium minimizes the Beckmann potential ``sum_w int_0^{X_w} l_w``;
- the social optimum minimizes ``sum_w X_w l_w(X_w)`` (= the flow-weighted total cost), whose KKT conditions
  are Wardrop conditions on the marginal costs ``work[k, w] (l_w + X_w l_w')``.

Both are convex programs for convex nondecreasing curves. :func:`gradient_projection` solves either exactly:
path-based gradient projection (each class shifts flow from its costliest used worker to its cheapest until
their (marginal) costs are equal, the shift found by Brent's method); :func:`cvxpy_start` solves the convex
program with cvxpy (Clarabel) as an independent second solver. The certificate is the relative Wardrop gap
of :func:`relative_gap` on the costs (equilibrium) or marginal costs (optimum).

References
----------
.. [1] D. P. Bertsekas, E. M. Gafni, "Projection methods for variational inequalities with application to
   the traffic assignment problem", Math. Programming Study 17, 1982.
.. [2] R. Jayakrishnan, W. K. Tsai, J. N. Prashker, S. Rajadhyaksha, "A faster path-based algorithm for
   traffic assignment", Transportation Research Record 1443, 1994.
.. [3] S. C. Dafermos, "The traffic assignment problem for multiclass-user transportation networks",
   Transportation Science 6, 1972 (symmetric multiclass costs and their potential).
.. [4] L. Kleinrock, *Queueing Systems*, vol. 2, Wiley 1976, section 4.4 (processor sharing).
"""

from __future__ import annotations

import math
import warnings

import cvxpy as cp
import numpy as np
from scipy.optimize import brentq, linprog

from gametheory._validate import (
    finite_array,
    flag,
    instance,
    integer,
    nonnegative_array,
    positive_scalar,
    sequence_of,
)
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.latency import LatencyCurve, Pole

__all__ = ["UnitCosts", "cvxpy_start", "feasible_start", "gradient_projection", "relative_gap"]


def _instance(units, work, rates) -> tuple[np.ndarray, np.ndarray]:
    """(work, rates) checked against ``units``: positive (classes, workers) work, nonnegative rates per class."""
    instance(units, UnitCosts, "units")
    work = finite_array(work, "work", ndim=2)
    if work.shape[1] != len(units.curves) or work.shape[0] == 0 or (work <= 0).any():
        raise InvalidInputError(f"work must be a positive (classes, {len(units.curves)} workers) matrix, "
                                f"got shape {work.shape}")
    rates = nonnegative_array(rates, "rates", ndim=1)
    if rates.size != work.shape[0]:
        raise InvalidInputError(f"rates needs one rate per class ({work.shape[0]}), got {rates.size}")
    return work, rates


def _flows(flows, work, rates) -> np.ndarray:
    """Class x worker flows carrying each class's rate."""
    flows = nonnegative_array(flows, "flows", ndim=2)
    if flows.shape != work.shape:
        raise InvalidInputError(f"flows must have shape {work.shape} (classes, workers), got {flows.shape}")
    carried = flows.sum(axis=1)
    if (np.abs(carried - rates) > 1e-9 * np.maximum(rates, 1e-300) + 1e-300).any():
        k = int(np.argmax(np.abs(carried - rates)))
        raise InvalidInputError(f"flows must carry the rates: class {k} sums to {carried[k]:.12g}, rate "
                                f"{rates[k]:.12g}")
    return flows


class UnitCosts:
    """Per-worker cost per unit of work: ``l_w(X)`` (equilibrium) or ``l_w(X) + X l_w'(X)`` (optimum).

    Pole curves (M/M/1 included) are evaluated by their closed forms, other curves through their public
    ``__call__`` / ``marginal``; ``inf`` at or past a worker's capacity.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        One per worker, of the worker's load X (work units).
    marginal : bool
        Marginal costs (optimum) instead of latencies (equilibrium).
    """

    def __init__(self, curves, marginal: bool):
        self.curves = tuple(sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve"))
        self.marginal = flag(marginal, "marginal")
        self.capacity = np.array([c.capacity for c in self.curves], dtype=float)

    def one(self, w: int, x: float) -> float:
        """The cost per unit of work of worker ``w`` at load ``x``.

        Parameters
        ----------
        w : int
            Worker.
        x : float
            Its load.

        Returns
        -------
        float
            ``inf`` at or past the capacity.
        """
        curve = self.curves[w]
        if x >= curve.capacity:
            return math.inf
        if isinstance(curve, Pole):
            slack = curve.kappa - x
            if self.marginal:
                return curve.a + 2.0 * curve.b * x + curve.c * curve.kappa / slack**2
            return curve.a + curve.b * x + curve.c / slack
        return float(curve.marginal(x) if self.marginal else curve(x))

    def all(self, load: np.ndarray) -> np.ndarray:
        """:meth:`one` for every worker at the loads ``load`` (m,).

        Parameters
        ----------
        load : numpy.ndarray

        Returns
        -------
        numpy.ndarray
        """
        return np.array([self.one(w, float(x)) for w, x in enumerate(load)])


def relative_gap(units: UnitCosts, work: np.ndarray, flows: np.ndarray, rates: np.ndarray) -> float:
    """Relative Wardrop gap ``(sum x c - sum_k r_k min_w c_kw) / sum x c`` with ``c_kw = work[k, w] u_w(X_w)``.

    Parameters
    ----------
    units : UnitCosts
        Latencies (equilibrium) or marginal costs (optimum) per unit of work.
    work : numpy.ndarray
        (K, m) work per request.
    flows : numpy.ndarray
        (K, m) requests/s.
    rates : numpy.ndarray
        (K,) class demands.

    Returns
    -------
    float
        0 exactly at the equilibrium (optimum); ``inf`` when a worker is past its capacity.
    """
    work, rates = _instance(units, work, rates)
    flows = _flows(flows, work, rates)
    cost = work * units.all((work * flows).sum(axis=0))
    total = float((flows * cost).sum())
    if not math.isfinite(total):
        return math.inf
    best = float((rates * cost.min(axis=1)).sum())
    return (total - best) / total if total > 0 else 0.0


def feasible_start(units: UnitCosts, work: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """A start inside every worker's capacity: each class spread in proportion to ``1 / work``, or, when that
    overloads a worker, the routing of least maximum utilisation (a linear program, HiGHS).

    Parameters
    ----------
    units : UnitCosts
        The workers' capacities.
    work, rates : numpy.ndarray
        (K, m) work per request, (K,) demands.

    Returns
    -------
    numpy.ndarray
        (K, m) flows meeting the demands with every load below capacity.

    Raises
    ------
    CapacityExceededError
        When no routing keeps every worker below its capacity.
    ConvergenceError
        When HiGHS fails on the linear program.

    References
    ----------
    .. [1] Q. Huangfu, J. A. J. Hall, "Parallelizing the dual revised simplex method", Math. Prog. Comp. 10,
       2018 (HiGHS).
    """
    work, rates = _instance(units, work, rates)
    k, n = work.shape
    cap = units.capacity
    total = float(rates.sum())
    reach = float((cap / work.min(axis=0)).sum())
    if total >= reach:
        raise CapacityExceededError(total, reach, f"{n} worker(s)",
                                    f"{n} worker(s) saturated: total rate {total:.4g} req/s >= capacity "
                                    f"{reach:.4g} req/s even with the least work everywhere")
    start = rates[:, None] * (1.0 / work) / (1.0 / work).sum(axis=1, keepdims=True)
    if ((work * start).sum(axis=0) < cap).all():
        return start
    c = np.zeros(k * n + 1)
    c[-1] = 1.0
    a_ub = np.zeros((n, k * n + 1))
    for w in range(n):
        a_ub[w, w:k * n:n] = work[:, w] / cap[w]
        a_ub[w, -1] = -1.0
    a_eq = np.zeros((k, k * n + 1))
    for j in range(k):
        a_eq[j, j * n:(j + 1) * n] = 1.0
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n), A_eq=a_eq, b_eq=rates, bounds=(0, None), method="highs")
    if res.status != 0:
        raise ConvergenceError(f"least max-utilisation LP: HiGHS status {res.status} ({res.message})")
    rho_max = float(res.x[-1])
    if rho_max >= 1.0:
        raise CapacityExceededError(total, total / rho_max, f"{n} worker(s)",
                                    f"{n} worker(s) saturated: total rate {total:.4g} req/s; the least maximum "
                                    f"utilisation any routing reaches is {rho_max:.6g} >= 1")
    return _polish(np.maximum(res.x[:-1].reshape(k, n), 0.0), rates)


def cvxpy_start(curves, work: np.ndarray, rates: np.ndarray, marginal: bool) -> np.ndarray:
    """The convex program solved by cvxpy (Clarabel): the Beckmann potential (equilibrium) or the total cost
    (optimum) of the loads ``X = sum_k work x``, subject to the class demands.

    Parameters
    ----------
    curves : sequence of LatencyCurve
        With ``cvxpy_integral`` / ``cvxpy_total`` forms.
    work, rates : numpy.ndarray
        (K, m) work per request, (K,) demands.
    marginal : bool
        The optimum (total cost) instead of the equilibrium (potential).

    Returns
    -------
    numpy.ndarray
        (K, m) flows, polished to the exact demands.

    Raises
    ------
    ConvergenceError
        When Clarabel fails.

    References
    ----------
    .. [1] S. Diamond, S. Boyd, "CVXPY: a Python-embedded modeling language for convex optimization", JMLR 17,
       2016.
    """
    units = UnitCosts(curves, marginal)
    work, rates = _instance(units, work, rates)
    k, n = work.shape
    x = cp.Variable((k, n), nonneg=True)
    load = cp.sum(cp.multiply(work, x), axis=0)
    terms = [(c.cvxpy_total(load[w]) if marginal else c.cvxpy_integral(load[w])) for w, c in enumerate(curves)]
    problem = cp.Problem(cp.Minimize(cp.sum(cp.hstack(terms))), [cp.sum(x, axis=1) == rates])
    try:
        with warnings.catch_warnings():  # "inaccurate" is judged by the certificate after the polish, not here
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as exc:
        raise ConvergenceError(f"routing program: Clarabel failed ({exc})") from exc
    if x.value is None:
        raise ConvergenceError(f"routing program ended {problem.status}")
    return _polish(np.maximum(x.value, 0.0), rates)


def gradient_projection(units: UnitCosts, work: np.ndarray, rates: np.ndarray, flows: np.ndarray, *,
                        tol: float = 1e-13, max_sweeps: int = 5000) -> tuple[np.ndarray, int]:
    """Equalize each class's (marginal) cost over the workers it uses (module docstring).

    Parameters
    ----------
    units : UnitCosts
        Latencies (equilibrium) or marginal costs (optimum) per unit of work.
    work, rates : numpy.ndarray
        (K, m) work per request, (K,) demands.
    flows : numpy.ndarray
        (K, m) a start inside every worker's capacity (:func:`feasible_start`).
    tol : float
        Relative gap at which the sweeps stop.
    max_sweeps : int
        Sweeps over the classes.

    Returns
    -------
    flows : numpy.ndarray
        (K, m) the point reached (certify it with :func:`relative_gap`).
    sweeps : int
        Sweeps taken.

    References
    ----------
    .. [1] D. P. Bertsekas, E. M. Gafni, "Projection methods for variational inequalities with application to
       the traffic assignment problem", Math. Programming Study 17, 1982.
    """
    work, rates = _instance(units, work, rates)
    flows = _flows(flows, work, rates).copy()
    tol = positive_scalar(tol, "tol")
    max_sweeps = integer(max_sweeps, "max_sweeps", minimum=1, maximum=10**7)
    load = (work * flows).sum(axis=0)
    k, n = work.shape
    cap = units.capacity
    sweeps = 0
    for sweeps in range(1, max_sweeps + 1):  # noqa: B007 - the count is returned
        for c in range(k):
            cost = work[c] * units.all(load)
            used = flows[c] > 0
            if not used.any():
                continue
            hi = int(np.flatnonzero(used)[np.argmax(cost[used])])
            lo = int(np.argmin(cost))
            if hi == lo or cost[hi] - cost[lo] <= 1e-15 * cost[lo]:
                continue
            s_hi, s_lo = work[c, hi], work[c, lo]
            limit = min(flows[c, hi], (cap[lo] - load[lo]) / s_lo * (1 - 1e-12))

            def diff(d, hi=hi, lo=lo, s_hi=s_hi, s_lo=s_lo, load=load):
                return s_hi * units.one(hi, load[hi] - s_hi * d) - s_lo * units.one(lo, load[lo] + s_lo * d)

            d = limit if diff(limit) >= 0 else brentq(diff, 0.0, limit, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                                                      maxiter=2000)  # roots near 0 need more than the default 100
            flows[c, hi] -= d
            flows[c, lo] += d
            if flows[c, hi] < 1e-15 * rates[c]:
                flows[c, hi] = 0.0
            load = (work * flows).sum(axis=0)
        if relative_gap(units, work, flows, rates) <= tol:
            break
    return flows, sweeps


def _polish(flows: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Drop solver dust and rescale each class to its exact demand."""
    flows = np.where(flows < 1e-10 * max(1.0, rates.max()), 0.0, flows)
    sums = flows.sum(axis=1, keepdims=True)
    return np.where(sums > 0, flows * (rates[:, None] / np.where(sums > 0, sums, 1.0)), 0.0)

