"""Social optimum of the selfish KV caching game: a facility-location MILP (cvxpy + HiGHS), and brute force.

Formulation (capacitated facility location, one facility problem per block coupled by tier capacities):

    min  sum_{i,b,t} hold[i,t] x[i,b,t] + sum_{j,b} demand[j,b] (sum_{k,t} fetch[j,k,t] y[j,b,k,t] + R_b r[j,b])
    s.t. sum_{k,t} y[j,b,k,t] + r[j,b] = 1,   y[j,b,k,t] <= x[k,b,t],   sum_t x[i,b,t] <= 1,
         sum_b x[i,b,t] <= capacity[i,t],     x binary, y, r in [0, 1].

With x integral the y/r part is a trivial assignment, so y, r may stay continuous. The certificate is the
MILP relative gap reported by HiGHS, and the cost of the rounded profile re-evaluated by the game must
match the MILP objective.

References
----------
.. [1] D. B. Shmoys, E. Tardos, K. Aardal, "Approximation algorithms for facility location problems", STOC
   1997.
.. [2] Q. Huangfu, J. A. J. Hall, "Parallelizing the dual revised simplex method", Math. Prog. Comp. 10, 2018
   (HiGHS).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from gametheory._validate import instance, positive_scalar, size_limit
from gametheory.certificates import Certificate
from gametheory.errors import CertificateError, ConvergenceError
from gametheory.games.caching.model import CachingModel
from gametheory.games.caching.solvers import enumerate_profiles
from gametheory.quiet import quiet_highs
from gametheory.results import Result

__all__ = ["social_optimum_bruteforce", "social_optimum_milp"]


def social_optimum_milp(game: CachingModel, *, gap_tolerance: float = 1e-7, time_limit_s: float = 60.0) -> Result:
    """The social optimum as a capacitated facility-location MILP (module docstring), HiGHS through cvxpy.

    Parameters
    ----------
    game : CachingModel
        The game.
    gap_tolerance : float
        Relative MILP gap HiGHS must certify.
    time_limit_s : float
        HiGHS time limit.

    Returns
    -------
    Result
        ``profile`` (= ``x``) and its social cost (re-evaluated by the game); certificate ``milp_gap``.

    Raises
    ------
    ConvergenceError
        When HiGHS ends without an optimal solution.
    CertificateError
        When the profile's cost disagrees with the MILP objective, or the gap exceeds the tolerance.

    References
    ----------
    .. [1] D. B. Shmoys, E. Tardos, K. Aardal, "Approximation algorithms for facility location problems",
       STOC 1997 (the facility-location formulation).
    .. [2] Q. Huangfu, J. A. J. Hall, "Parallelizing the dual revised simplex method", Math. Prog. Comp. 10,
       2018 (HiGHS).
    """
    instance(game, CachingModel, "game", what="CachingGame")
    gap_tolerance = positive_scalar(gap_tolerance, "gap_tolerance")
    time_limit_s = positive_scalar(time_limit_s, "time_limit_s")
    n, B, T = game.n, game.n_blocks, game.n_tiers
    size_limit(n * B * n * T, "caching MILP", limit=5_000_000, what="assignment variables")
    fetch = game.fetch
    xs = [(i, b, t) for i in range(n) for b in range(B) for t in range(T) if game.capacity[i, t] >= 1]
    xpos = {key: p for p, key in enumerate(xs)}
    ys = [(j, b, k, t) for j in range(n) for b in range(B) for k in range(n) for t in range(T)
          if (k, b, t) in xpos and game.demand[j, b] > 0 and fetch[j, k, t] < game.recompute_ms[b]]
    nx_, ny, nr = len(xs), len(ys), n * B
    obj_x = np.array([game.hold_cost[i, t] for i, b, t in xs])
    obj_y = np.array([game.demand[j, b] * fetch[j, k, t] for j, b, k, t in ys])
    obj_r = (game.demand * game.recompute_ms[None, :]).ravel()
    if nx_ == 0:
        s = np.full((n, B), -1, dtype=int)
        c = game.social_cost(s)
        return Result("optimum", s, c, Certificate("milp_gap", 0.0, gap_tolerance), status="exact",
                      message="no tier can hold a block", method="milp", x_name="profile")
    x = cp.Variable(nx_, boolean=True)
    r = cp.Variable(nr)
    cons = [r >= 0, r <= 1]
    # assignment rows: sum_y + r = 1
    rows_y = [j * B + b for j, b, k, t in ys]
    expr_assign = r
    obj = obj_x @ x + obj_r @ r
    if ny:
        y = cp.Variable(ny)
        Ay = sp.csr_matrix((np.ones(ny), (rows_y, np.arange(ny))), shape=(nr, ny))
        expr_assign = Ay @ y + r
        Ly = sp.csr_matrix((np.ones(ny), (np.arange(ny), np.arange(ny))), shape=(ny, ny))
        Lx = sp.csr_matrix((np.ones(ny), (np.arange(ny), [xpos[(k, b, t)] for j, b, k, t in ys])), shape=(ny, nx_))
        cons += [y >= 0, Ly @ y <= Lx @ x]
        obj = obj + obj_y @ y
    cons.append(expr_assign == 1)
    one = sp.csr_matrix((np.ones(nx_), ([i * B + b for i, b, t in xs], np.arange(nx_))), shape=(n * B, nx_))
    cons.append(one @ x <= 1)
    capped = [(i, t) for i in range(n) for t in range(T) if np.isfinite(game.capacity[i, t]) and
              1 <= game.capacity[i, t] < B]
    if capped:
        cpos = {key: p for p, key in enumerate(capped)}
        entries = [(cpos[(i, t)], p) for p, (i, b, t) in enumerate(xs) if (i, t) in cpos]
        Ac = sp.csr_matrix((np.ones(len(entries)), tuple(zip(*entries, strict=True))), shape=(len(capped), nx_))
        cons.append(Ac @ x <= np.array([game.capacity[i, t] for i, t in capped]))
    prob = cp.Problem(cp.Minimize(obj), cons)
    quiet_highs()  # no solver banner in the user's output
    prob.solve(solver=cp.HIGHS, mip_rel_gap=gap_tolerance, time_limit=time_limit_s)
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or x.value is None:
        raise ConvergenceError(f"caching MILP: HiGHS status {prob.status}")
    info = prob.solver_stats.extra_stats
    gap = float(getattr(info, "mip_gap", np.nan))
    s = np.full((n, B), -1, dtype=int)
    for p, (i, b, t) in enumerate(xs):
        if x.value[p] > 0.5:
            s[i, b] = t
    cost = game.social_cost(s)
    scale = max(1.0, abs(cost))
    if abs(cost - float(prob.value)) > 1e-6 * scale + gap * scale:
        raise CertificateError(f"caching MILP: objective {prob.value:.9g} but the profile costs {cost:.9g}")
    cert = Certificate("milp_gap", max(gap, 0.0), gap_tolerance).check("caching social optimum MILP")
    nit = int(getattr(info, "mip_node_count", 0) or 0)
    return Result("optimum", s, cost, cert, status="exact", message=f"MILP, HiGHS {prob.status}", nit=nit,
                  method="milp", x_name="profile")


def social_optimum_bruteforce(game: CachingModel, **kwargs) -> Result:
    """The social optimum by enumerating every feasible profile (tiny instances only).

    Parameters
    ----------
    game : CachingModel
        The game.
    **kwargs
        Passed to :func:`~gametheory.games.caching.solvers.enumerate_profiles`.

    Returns
    -------
    Result
        ``profile`` and its cost; certificate ``enumeration_gap`` = 0 (every profile was evaluated).

    Raises
    ------
    InvalidInputError
        When the instance has more profiles than ``max_profiles``.
    """
    res = enumerate_profiles(game, **kwargs)
    return Result("optimum", res.optimum, res.optimum_cost, Certificate("enumeration_gap", 0.0, 0.0),
                  status="exact", message=f"enumerated {res.n_profiles} profiles", nit=res.n_profiles,
                  method="enumeration", x_name="profile")
