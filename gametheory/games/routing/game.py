"""Game 3: request routing over parallel workers as a nonatomic congestion game with cache affinity.

Workers w = 1..m have latency curves l_w (ms at load X_w requests/s); classes k = 1..K (a shared prompt
prefix) have demand r_k (requests/s). A class-k request on w costs

    c_kw = l_w(X_w) - omega * h_k(x_kw),     h_k(y) = H_k (1 - exp(-y / s_k))

(see :mod:`gametheory.games.routing.cache_routing` for the form and why the potential is no longer convex).

- omega = 0: a plain parallel-link congestion game. Equilibrium and optimum by the exact water-filling
  fast path (:mod:`gametheory.games.routing.wardrop`); the cvxpy Beckmann program is in
  :mod:`gametheory.games.routing.cvx` (``method="cvxpy"``). Only worker totals are unique; per-class flows
  are reported proportional to demand.
- omega > 0: equilibria by projection dynamics from several starts (distinct equilibria are returned by
  :meth:`RoutingGame.equilibria`); the social optimum by a MILP with a certified gap (small instances).

Results are :class:`~gametheory.results.Result` objects: the flows (``x``, also ``flows``), the social cost,
a checked certificate, and the extras ``worker_flows``, ``gap``, ``lower_bound`` (MILP optimum) and ``spread``
(equilibria).

References
----------
.. [1] J. G. Wardrop, "Some theoretical aspects of road traffic research", Proc. Inst. Civil Engineers 1, 1952.
.. [2] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956.
.. [3] T. Roughgarden, E. Tardos, "How bad is selfish routing?", J. ACM 49(2), 2002.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from gametheory._validate import (
    choice,
    finite_array,
    integer,
    nonnegative_array,
    nonnegative_scalar,
    positive_scalar,
    random_seed,
    sequence_of,
)
from gametheory.certificates import Certificate
from gametheory.errors import CapacityExceededError, ConvergenceError, InvalidInputError
from gametheory.games.routing import cache_routing as cr
from gametheory.games.routing import multiclass as mc
from gametheory.games.routing.cvx import beckmann_cvx, optimum_cvx
from gametheory.games.routing.wardrop import CurveBank, certificate_tolerance, level_gap, water_fill
from gametheory.latency import LatencyCurve
from gametheory.results import Result

__all__ = ["EQUILIBRIUM_METHODS", "MAX_MILP_PIECES", "MULTICLASS_TOL", "OPTIMUM_METHODS", "RoutingGame"]


#: finest piecewise-linear grid the omega > 0 optimum refines to before giving up
MAX_MILP_PIECES = 256
#: algorithms of :meth:`RoutingGame.equilibrium` and :meth:`RoutingGame.optimum` (None picks the default)
EQUILIBRIUM_METHODS = ("water_filling", "cvxpy", "projection")
OPTIMUM_METHODS = ("water_filling", "cvxpy", "milp", "projection")
#: relative gap the multiclass variant (``work`` given) certifies
MULTICLASS_TOL = 1e-6


def _per_class(value, K: int, name: str) -> np.ndarray:
    """A nonnegative scalar or one value per class, as a (K,) array."""
    arr = nonnegative_array(value, name)
    if arr.ndim > 1 or arr.ndim == 1 and arr.size != K:
        raise InvalidInputError(f"{name} must be one value or one per class ({K}), got shape {arr.shape}")
    return np.broadcast_to(arr, (K,)).copy()


@dataclass(frozen=True)
class RoutingGame:
    """Game 3: a nonatomic routing game over parallel workers, with cache affinity when ``omega > 0``.

    Parameters
    ----------
    latencies : sequence of LatencyCurve
        One curve per worker: latency (ms) at the worker's load (requests/s).
    demands : float or array_like
        A total rate, or one rate per request class (requests/s).
    omega : float
        Weight of the cache benefit (Dynamo's ``overlap_score_weight``); 0 is a plain congestion game.
    cache_benefit, cache_scale : float or array_like
        H_k (latency unit) and s_k (requests/s) of the cache benefit ``h_k(y) = H_k (1 - exp(-y / s_k))``:
        scalars or one per class.
    work : array_like, optional
        (K, m) work a class-k request puts on worker w (the multiclass variant of
        :mod:`~gametheory.games.routing.multiclass`): worker w's load is ``X_w = sum_k work[k, w] x[k, w]``
        and a class-k request there costs ``work[k, w] l_w(X_w)``. Requires ``omega = 0`` (a cache acts
        through the work). The curves are then of the load in work units.

    Raises
    ------
    InvalidInputError
        A curve that is not a LatencyCurve, a negative or non-finite demand or cache parameter, or a total
        demand at or beyond the workers' total capacity.

    References
    ----------
    .. [1] T. Roughgarden, E. Tardos, "How bad is selfish routing?", J. ACM 49(2), 2002.
    """

    latencies: tuple
    demands: np.ndarray
    omega: float = 0.0
    cache_benefit: np.ndarray = field(default=None)  # type: ignore[assignment]
    cache_scale: np.ndarray = field(default=None)  # type: ignore[assignment]
    work: np.ndarray | None = field(default=None)

    def __post_init__(self):
        curves = tuple(sequence_of(self.latencies, LatencyCurve, "latencies", what="LatencyCurve"))
        object.__setattr__(self, "omega", nonnegative_scalar(self.omega, "omega"))
        d = np.atleast_1d(nonnegative_array(self.demands, "demands"))
        if d.ndim != 1 or d.size == 0:
            raise InvalidInputError(f"demands must be one rate or one rate per class, got shape {d.shape}")
        K = d.size
        H = _per_class(1.0 if self.cache_benefit is None else self.cache_benefit, K, "cache_benefit")
        s = _per_class(1.0 if self.cache_scale is None else self.cache_scale, K, "cache_scale")
        if (s <= 0).any():
            raise InvalidInputError(f"cache_scale must be > 0, got {s.tolist()}")
        if self.work is not None:
            work = finite_array(self.work, "work", ndim=2)
            if work.shape != (K, len(curves)):
                raise InvalidInputError(f"work must be (classes, workers) = {(K, len(curves))}, got {work.shape}")
            if (work <= 0).any():
                raise InvalidInputError(f"work must be > 0 everywhere, got min {work.min()!r}")
            if self.omega != 0:
                raise InvalidInputError("work (per-class loads) and omega (cache affinity) do not combine: omega = 0")
            work.setflags(write=False)
            object.__setattr__(self, "work", work)
        else:
            cap = float(sum(c.capacity for c in curves))
            if d.sum() >= cap:
                raise InvalidInputError(f"total demand {d.sum():.6g} is at or beyond the total capacity {cap:.6g}")
        object.__setattr__(self, "latencies", curves)
        object.__setattr__(self, "demands", d)
        object.__setattr__(self, "cache_benefit", H)
        object.__setattr__(self, "cache_scale", s)

    # ---- helpers ---------------------------------------------------------------------------------
    @property
    def n_workers(self) -> int:
        """Workers."""
        return len(self.latencies)

    @property
    def n_classes(self) -> int:
        """Request classes."""
        return int(self.demands.size)

    @property
    def total_demand(self) -> float:
        """Total demand (requests/s)."""
        return float(self.demands.sum())

    def _bank(self) -> CurveBank:
        """The curves vectorized once per game (solvers and certificates reuse it)."""
        return self._curve_bank

    @cached_property
    def _curve_bank(self) -> CurveBank:
        return CurveBank(self.latencies)

    def social_cost(self, flows) -> float:
        """Social cost of worker x class flows (m, K) or worker flows (m,) (split proportionally).

        Parameters
        ----------
        flows : array_like, shape (m,) or (m, K)
            Nonnegative flows (requests/s) that carry each class's demand, below every worker's capacity.

        Returns
        -------
        float
            sum_w X_w l_w(X_w) - omega sum_kw x_kw h_k(x_kw).

        Raises
        ------
        InvalidInputError
            Wrong shape, negative or non-finite flows, or flows that do not sum to the demands.
        CapacityExceededError
            A worker's load at or past its capacity.
        """
        x = self._class_matrix(self.check_flows(flows))
        return cr.social_cost(self.latencies, x, self.omega, self.cache_benefit, self.cache_scale, self._bank())

    def check_flows(self, flows) -> np.ndarray:
        """``flows`` as a float array after checking shape, signs, demands and capacities.

        Parameters
        ----------
        flows : array_like, shape (m,) or (m, K)
            Worker flows, or worker x class flows (requests/s).

        Returns
        -------
        numpy.ndarray
            The flows as floats.

        Raises
        ------
        InvalidInputError, CapacityExceededError
            As :meth:`social_cost`.
        """
        m, K = self.n_workers, self.n_classes
        x = nonnegative_array(flows, "flows")
        if x.shape not in ((m,), (m, K)):
            shapes = f"({m},)" + (f" or ({m}, {K})" if K > 1 else "")
            raise InvalidInputError(f"flows must have shape {shapes} (workers x classes), got {x.shape}")
        carried = x.sum(axis=0) if x.ndim == 2 else np.array([x.sum()])
        target = self.demands if x.ndim == 2 else np.array([self.total_demand])
        bad = np.abs(carried - target) > 1e-9 * np.maximum(np.abs(target), 1e-300) + 1e-300
        if bad.any():
            k = int(np.argmax(bad))
            what = f"class {k}" if x.ndim == 2 else "the total"
            raise InvalidInputError(f"flows must carry the demand: {what} sums to {carried[k]:.12g}, "
                                    f"demand {target[k]:.12g}")
        loads = x.sum(axis=1) if x.ndim == 2 else x
        for w, (curve, load) in enumerate(zip(self.latencies, loads, strict=True)):
            if load >= curve.capacity:
                raise CapacityExceededError(load, curve.capacity, f"worker {w}")
        return x

    def _class_matrix(self, flows: np.ndarray) -> np.ndarray:
        """K x m matrix from (m,) worker flows (proportional split) or (m, K) flows."""
        if flows.ndim == 1:
            return np.outer(self.demands / max(self.total_demand, 1e-300), flows)
        return flows.T

    def _result(self, kind: str, x: np.ndarray, cert: Certificate, nit: int, method: str, message: str,
                lower=None, status: str = "converged") -> Result:
        X = x.sum(axis=0)
        flows = X if self.n_classes == 1 else x.T.copy()
        bank = self._bank()
        cost = cr.social_cost(self.latencies, x, self.omega, self.cache_benefit, self.cache_scale, bank)
        spread = None
        if cert.kind == "relative_gap":
            spread, _ = cr.equilibrium_gap(self.latencies, x, self.omega, self.cache_benefit, self.cache_scale,
                                           self.demands, bank)
        return Result(kind, flows, cost, cert, status=status, message=message, nit=nit, method=method,
                      x_name="flows", worker_flows=X, gap=cert.value, lower_bound=lower, spread=spread)

    def _method(self, method: str | None, allowed: tuple, kind: str) -> str:
        """The algorithm: ``method`` checked against what applies, or the documented default."""
        plain = ("water_filling", "cvxpy")
        if self.work is not None:
            applies = ("projection", "cvxpy")
        else:
            applies = plain if self.omega == 0 else tuple(m for m in allowed if m not in plain)
        if method is None:
            return applies[0]
        return choice(method, f"{kind} method (omega = {self.omega:g})", applies)

    # ---- solvers ---------------------------------------------------------------------------------
    def equilibrium(self, method: str | None = None, *, rgap: float = 1e-9, starts: int = 4,
                    seed: int | None = 0) -> Result:
        """The Wardrop equilibrium (the lowest-cost one found when ``omega > 0``).

        Parameters
        ----------
        method : {None, "water_filling", "cvxpy", "projection"}
            ``omega = 0``: ``"water_filling"`` (default; exact level search on the latencies,
            :func:`~gametheory.games.routing.wardrop.water_fill`) or ``"cvxpy"`` (the Beckmann program,
            Clarabel). ``omega > 0``: ``"projection"`` (default and only; projection dynamics from ``starts``
            starts, see :meth:`equilibria`). With ``work`` (the multiclass variant): ``"projection"``
            (default; gradient projection from a feasible start,
            :func:`~gametheory.games.routing.multiclass.gradient_projection`, restarted from cvxpy's point when
            it crawls next to capacity) or ``"cvxpy"`` (the same from cvxpy's point of the potential's
            program); certified at :data:`MULTICLASS_TOL`.
        rgap : float
            Relative Wardrop gap to reach.
        starts, seed : int
            Starts of the projection dynamics and the seed of the random ones (``omega > 0``).

        Returns
        -------
        Result
            ``flows`` (m,) for one class, (m, K) otherwise; ``worker_flows``; certificate ``relative_gap``.

        Raises
        ------
        InvalidInputError
            An unknown method, or one that does not apply to this ``omega``.
        CertificateError
            When the relative gap of the point found exceeds the tolerance.

        References
        ----------
        .. [1] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956.
        """
        method = self._method(method, EQUILIBRIUM_METHODS, "equilibrium")
        rgap = positive_scalar(rgap, "rgap")
        if self.work is not None:
            return self._multiclass("equilibrium", method)
        if self.omega == 0:
            R = self.total_demand
            if method == "water_filling":
                res = water_fill(self.latencies, R, rgap=rgap, bank=self._bank())
                X, nit = res.flows, res.nit
            else:
                X, _ = beckmann_cvx(self.latencies, R)
                nit = 0
            x = self._class_matrix(X)
            _, rel = cr.equilibrium_gap(self.latencies, x, 0.0, self.cache_benefit, self.cache_scale,
                                        self.demands, self._bank())
            tol = (certificate_tolerance(self._bank(), X, marginal=False, rgap=rgap, ulps=self.n_classes + 1)
                   if method == "water_filling" else 1e-6)
            cert = Certificate("relative_gap", rel, tol).check("RoutingGame.equilibrium")
            return self._result("equilibrium", x, cert, nit, method, f"Wardrop equilibrium by {method}")
        eqs = self.equilibria(starts=starts, rgap=max(rgap, 1e-8), seed=seed)
        return min(eqs, key=lambda e: e.cost)

    def equilibria(self, *, starts: int = 8, rgap: float = 1e-8, seed: int | None = 0,
                   max_iter: int = 50000) -> list[Result]:
        """Distinct equilibria found by projection dynamics from several starts.

        Parameters
        ----------
        starts : int
            The omega = 0 equilibrium; with several classes, the m points "every class on worker w" (always
            tried: the cache term rewards concentration, so the worst equilibrium is often one of them); then
            ``starts - 1`` more: each class concentrated on one worker in round robin (class k on worker
            (j + k) mod m), then random simplex points. Starts past a worker's capacity are skipped.
        rgap : float
            Relative Wardrop gap (flow-weighted cost spread over total latency) each must reach.
        seed : int or None
            Seed of the random starts.
        max_iter : int
            Iterations per start.

        Returns
        -------
        list of Result
            One per distinct equilibrium (flows further apart than 1e-4 of the demand).

        Raises
        ------
        CertificateError
            When no start converges.

        References
        ----------
        .. [1] F. Facchinei, J.-S. Pang, *Finite-Dimensional Variational Inequalities and Complementarity
           Problems*, Springer 2003 (projection methods for monotone and non-monotone VIs).
        """
        starts = integer(starts, "starts", minimum=1, maximum=10_000)
        rgap = positive_scalar(rgap, "rgap")
        max_iter = integer(max_iter, "max_iter", minimum=1, maximum=10**8)
        rng = np.random.default_rng(random_seed(seed))
        K, m = self.n_classes, self.n_workers
        caps = np.array([c.capacity for c in self.latencies])
        # first start: the omega = 0 Wardrop equilibrium, split across classes in proportion to demand
        starts_x = [self._class_matrix(water_fill(self.latencies, self.total_demand, bank=self._bank()).flows)]
        if K > 1:  # every class on worker w: the concentrated equilibria a cache favours (one class: below)
            for w in range(m):
                x0 = np.zeros((K, m))
                x0[:, w] = self.demands
                if (x0.sum(axis=0) < caps).all():
                    starts_x.append(x0)
        for j in range(max(starts - 1, 0)):
            if j < m:
                x0 = np.zeros((K, m))
                for k in range(K):
                    x0[k, (j + k) % m] = self.demands[k]
            else:
                x0 = rng.dirichlet(np.ones(m), size=K) * self.demands[:, None]
            if (x0.sum(axis=0) < caps).all():
                starts_x.append(x0)
        found: list[Result] = []
        bank = self._bank()
        for x0 in starts_x:
            try:
                x, _, rel, nit = cr.projection_equilibrium(self.latencies, self.demands, self.omega,
                                                           self.cache_benefit, self.cache_scale, x0, rgap=rgap,
                                                           max_iter=max_iter, bank=bank)
            except ConvergenceError:
                continue  # this start did not converge; others may (an error is raised if none does)
            cert = Certificate("relative_gap", rel, rgap)
            if not cert.ok:
                continue
            if any(np.abs(x.sum(axis=0) - e.worker_flows).max() <= 1e-4 * max(self.total_demand, 1)
                   and np.abs(x.T - (e.flows if e.flows.ndim == 2 else e.flows[:, None])).max()
                   <= 1e-4 * max(self.total_demand, 1) for e in found):
                continue
            found.append(self._result("equilibrium", x, cert.check("RoutingGame.equilibria"), nit, "projection",
                                      "projection dynamics"))
        if not found:
            Certificate("relative_gap", math.inf, rgap).check("RoutingGame.equilibria: no start converged")
        return found

    def optimum(self, method: str | None = None, *, rgap: float = 1e-9, milp_gap: float = 1e-2,
                pieces: int = 32) -> Result:
        """The social optimum.

        Parameters
        ----------
        method : {None, "water_filling", "cvxpy", "milp"}
            ``omega = 0``: ``"water_filling"`` (default; water-filling on marginal costs) or ``"cvxpy"``.
            ``omega > 0``: ``"milp"`` (default and only): a MILP over piecewise-linear pieces (HiGHS) with a
            certified relative optimality gap; when ``pieces`` leave the gap above ``milp_gap`` the pieces are
            doubled (up to :data:`MAX_MILP_PIECES`). With ``work``: ``"projection"`` (default) or ``"cvxpy"``,
            on marginal costs.
        rgap : float
            Relative KKT residual to reach (``omega = 0``).
        milp_gap, pieces : float, int
            Certified relative gap and the starting piece count of the MILP (``omega > 0``).

        Returns
        -------
        Result
            ``flows``, ``worker_flows``; certificate ``kkt_residual`` (relative gap of the marginal costs) or
            ``milp_gap`` with the certified ``lower_bound``.

        Raises
        ------
        InvalidInputError
            An unknown method, or one that does not apply to this ``omega``.
        CertificateError
            When the residual or the MILP gap exceeds its tolerance.

        References
        ----------
        .. [1] H. Markowitz, A. Manne, "On the solution of discrete programming problems", Econometrica 25,
           1957 (piecewise-linear MILP models of separable costs).
        """
        method = self._method(method, OPTIMUM_METHODS, "optimum")
        rgap = positive_scalar(rgap, "rgap")
        milp_gap = positive_scalar(milp_gap, "milp_gap")
        pieces = integer(pieces, "pieces", minimum=1, maximum=MAX_MILP_PIECES)
        if self.work is not None:
            return self._multiclass("optimum", method)
        if self.omega == 0:
            R = self.total_demand
            if method == "water_filling":
                res = water_fill(self.latencies, R, marginal=True, rgap=rgap, bank=self._bank())
                X, nit = res.flows, res.nit
            else:
                X, _ = optimum_cvx(self.latencies, R)
                nit = 0
            tol = (certificate_tolerance(self._bank(), X, marginal=True, rgap=rgap) if method == "water_filling"
                   else 1e-6)
            kkt = level_gap(self._bank(), X, marginal=True, tolerance=tol)
            cert = Certificate("kkt_residual", kkt, tol).check("RoutingGame.optimum")
            return self._result("optimum", self._class_matrix(X), cert, nit, method, f"social optimum by {method}")
        x, best, lower, gap, pieces = cr.milp_optimum(self.latencies, self.demands, self.omega, self.cache_benefit,
                                                      self.cache_scale, pieces=pieces, rgap=milp_gap,
                                                      max_pieces=MAX_MILP_PIECES)
        cert = Certificate("milp_gap", max(gap, 0.0), milp_gap).check("RoutingGame.optimum")
        return self._result("optimum", x, cert, 0, "milp", f"MILP (HiGHS) over {pieces} piecewise-linear pieces",
                            lower, status="exact")

    def _multiclass(self, kind: str, method: str) -> Result:
        """Equilibrium or optimum of the multiclass variant (``work`` given): gradient projection from a
        feasible start, or from cvxpy's point; certified by the relative gap on (marginal) costs."""
        marginal = kind == "optimum"
        units = mc.UnitCosts(self.latencies, marginal)
        work, rates = np.asarray(self.work), self.demands
        start = (mc.cvxpy_start(self.latencies, work, rates, marginal) if method == "cvxpy"
                 else mc.feasible_start(units, work, rates))
        flows, sweeps = mc.gradient_projection(units, work, rates, start)
        gap = mc.relative_gap(units, work, flows, rates)
        if gap > MULTICLASS_TOL and method == "projection":
            # next to capacity the pairwise shifts can crawl (a class must wait for others to make room):
            # restart from the convex program's point, which lands in the right basin at once
            flows, more = mc.gradient_projection(units, work, rates,
                                                 mc.cvxpy_start(self.latencies, work, rates, marginal))
            sweeps += more
            gap = mc.relative_gap(units, work, flows, rates)
        cert = Certificate("kkt_residual" if marginal else "relative_gap", gap, MULTICLASS_TOL).check(
            f"multiclass routing {kind}")
        load = (work * flows).sum(axis=0)
        latency = mc.UnitCosts(self.latencies, False).all(load)
        return Result(kind, flows.T.copy(), float(load @ latency), cert, message=f"multiclass {kind} by gradient "
                      f"projection from a {'cvxpy' if method == 'cvxpy' else 'feasible'} start, {sweeps} sweeps",
                      nit=sweeps, method=method, x_name="flows", worker_flows=flows.sum(axis=0), load=load,
                      class_costs=work * latency, gap=cert.value)

    def price_of_anarchy(self, **kwargs) -> float:
        """Equilibrium cost / optimum cost.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`equilibria` when ``omega > 0`` (the worst equilibrium found is used).

        Returns
        -------
        float
            The ratio (>= 1 up to the certificates' tolerances).

        Raises
        ------
        InvalidInputError
            When the optimum's social cost is <= 0 (possible with ``omega > 0``): the ratio is undefined.

        References
        ----------
        .. [1] E. Koutsoupias, C. Papadimitriou, "Worst-case equilibria", STACS 1999.
        """
        opt = self.optimum()
        if self.omega == 0:
            eq_cost = self.equilibrium().cost
        else:
            eq_cost = max(e.cost for e in self.equilibria(**kwargs))
        if opt.cost <= 0:
            raise InvalidInputError(f"optimum social cost {opt.cost:.6g} <= 0: the PoA ratio is undefined")
        return eq_cost / opt.cost
