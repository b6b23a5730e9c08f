"""cvxpy formulations of the parallel-worker routing game with omega = 0 (the reference the fast path is
checked against).

- Equilibrium: Beckmann's program min sum_w int_0^{X_w} l_w(s) ds over x_kw >= 0, sum_w x_kw = r_k,
  X_w = sum_k x_kw (Beckmann, McGuire & Winsten 1956).
- Optimum: min sum_w X_w l_w(X_w) over the same set.

Both need curves with a DCP form (Polynomial, Affine, Pole, MM1, BPR). Per-class flows are not unique at
omega = 0 (only the worker totals are), so the programs are posed on worker totals X_w with sum_w X_w = R.

References
----------
.. [1] M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of Transportation*, 1956.
.. [2] S. Diamond, S. Boyd, "CVXPY: a Python-embedded modeling language for convex optimization", JMLR 17, 2016.
"""

from __future__ import annotations

import numpy as np

from gametheory._validate import choice, nonnegative_scalar, sequence_of
from gametheory.errors import CapacityExceededError, ConvergenceError
from gametheory.latency import LatencyCurve

__all__ = ["beckmann_cvx", "optimum_cvx"]


def _solve(curves, demand: float, total: bool, solver: str | None):
    import cvxpy as cp

    curves = sequence_of(curves, LatencyCurve, "curves", what="LatencyCurve")
    demand = nonnegative_scalar(demand, "demand")
    capacity = sum(c.capacity for c in curves)
    if demand >= capacity:
        raise CapacityExceededError(demand, capacity, "demand vs total capacity")
    if solver is not None:
        solver = choice(solver, "solver", tuple(cp.installed_solvers()))
    m = len(curves)
    x = cp.Variable(m, nonneg=True)
    objective = _vectorized(curves, x, total)
    if objective is None:
        terms = [(c.cvxpy_total(x[i]) if total else c.cvxpy_integral(x[i])) for i, c in enumerate(curves)]
        objective = cp.sum(cp.hstack(terms))
    cons = [cp.sum(x) == float(demand)]
    caps = np.array([c.capacity for c in curves])
    fin = np.flatnonzero(np.isfinite(caps))
    if fin.size:
        cons.append(x[fin] <= caps[fin])
    prob = cp.Problem(cp.Minimize(objective), cons)
    try:
        if solver in (None, "CLARABEL"):
            opts = {"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11, "max_iter": 500}
            prob.solve(solver="CLARABEL", **opts)
        else:
            prob.solve(solver=solver)
    except cp.error.SolverError as exc:
        raise ConvergenceError(f"cvxpy {'optimum' if total else 'Beckmann'} program: {exc}") from None
    if prob.status not in ("optimal", "optimal_inaccurate") or x.value is None:
        raise ConvergenceError(f"cvxpy {'optimum' if total else 'Beckmann'} program: status {prob.status}")
    return np.maximum(np.asarray(x.value, dtype=float), 0.0), float(prob.value)


def _vectorized(curves, x, total: bool):
    """One vectorized expression when every curve is a Pole (incl. MM1) or an affine Polynomial, else None
    (cvxpy compiles m scalar terms slowly)."""
    import cvxpy as cp

    from gametheory.latency import Pole, Polynomial

    if all(isinstance(c, Pole) for c in curves):
        a, b, c, k = (np.array([getattr(cv, f) for cv in curves]) for f in ("a", "b", "c", "kappa"))
        if total:
            return a @ x + b @ cp.square(x) + (c * k) @ cp.inv_pos(k - x) - c.sum()
        return a @ x + 0.5 * b @ cp.square(x) - c @ cp.log(k - x) + float(c @ np.log(k))
    if all(isinstance(cv, Polynomial) and len(cv.coeffs) <= 2 for cv in curves):
        a = np.array([cv.coeffs[0] for cv in curves])
        b = np.array([cv.coeffs[1] if len(cv.coeffs) > 1 else 0.0 for cv in curves])
        return a @ x + (1.0 if total else 0.5) * b @ cp.square(x)
    return None


def beckmann_cvx(curves, demand: float, solver: str | None = None) -> tuple[np.ndarray, float]:
    """(worker flows, Beckmann potential) of the Wardrop equilibrium, by cvxpy (Clarabel by default).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency curve of each worker (ms at a load in requests/s).
    demand : float
        Total request rate to split (requests/s, >= 0, below the total capacity).
    solver : str, optional
        Name of an installed cvxpy solver (default: Clarabel).

    Returns
    -------
    tuple of (numpy.ndarray, float)
        Worker flows (requests/s, shape (m,)) and the Beckmann potential ``sum_w int_0^x_w l_w``.
    """
    return _solve(curves, demand, False, solver)


def optimum_cvx(curves, demand: float, solver: str | None = None) -> tuple[np.ndarray, float]:
    """(worker flows, total cost sum X l(X)) of the social optimum, by cvxpy (Clarabel by default).

    Parameters
    ----------
    curves : sequence of LatencyCurve
        Latency curve of each worker (ms at a load in requests/s).
    demand : float
        Total request rate to split (requests/s, >= 0, below the total capacity).
    solver : str, optional
        Name of an installed cvxpy solver (default: Clarabel).

    Returns
    -------
    tuple of (numpy.ndarray, float)
        Worker flows (requests/s, shape (m,)) and the total cost ``sum_w x_w l_w(x_w)`` (ms x requests/s).
    """
    return _solve(curves, demand, True, solver)
