"""Game 1 on the continuous budget: the variational equilibrium and the social optimum by Brent's method or cvxpy.

Both solutions reduce to one dimension on the budget line ``G_D = G - G_P`` (the budget binds because the
costs do not increase). The solver finds the root of ``phi'(g) = w_P C_P'(g) - w_D C_D'(G - g)``
by Brent's method (scipy ``brentq``) inside the region where both costs are finite, or certifies a corner;
weights (1, 1) give the variational equilibrium, the game's weights the social optimum. The certificate is
the relative KKT residual (Clarke's subgradient condition at a kink). ``method="cvxpy"`` solves the same
convex program with cvxpy (costs that offer a convex ``cvxpy(g)`` expression:
:class:`~gametheory.games.resource.model.InverseCost`, :class:`~gametheory.games.resource.model.MM1PoolCost`),
a second, independent solver for the same point.

The solvers read a :class:`~gametheory.games.resource.model.PDResourceModel`;
:class:`~gametheory.games.resource.game.PDResourceGame` calls them for ``method="brentq"`` and ``"cvxpy"``.

References
----------
.. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
.. [2] R. P. Brent, *Algorithms for Minimization without Derivatives*, Prentice-Hall 1973 (``brentq``).
.. [3] F. H. Clarke, *Optimization and Nonsmooth Analysis*, Wiley 1983 (the subgradient condition).
"""

from __future__ import annotations

import math
import warnings

import cvxpy as cp
import numpy as np
from scipy.optimize import brentq

from gametheory._validate import choice, instance, pair, positive_scalar
from gametheory.certificates import Certificate
from gametheory.errors import CertificateError, InvalidInputError
from gametheory.games.resource.model import GRID_POINTS, PDResourceModel
from gametheory.results import Result

__all__ = [
    "CONTINUOUS_METHODS",
    "CVXPY_KKT_TOL",
    "KKT_TOL",
    "continuous_equilibrium",
    "continuous_optimum",
    "kkt_certificate",
]

#: relative KKT residual every solution must meet (brentq), and the cvxpy path: an interior-point objective
#: gap eps places the minimizer only to O(sqrt(eps)), so its point is certified more loosely
KKT_TOL = 1e-7
CVXPY_KKT_TOL = 1e-4
#: algorithms on the continuous budget, the default first
CONTINUOUS_METHODS = ("brentq", "cvxpy")


def continuous_equilibrium(game: PDResourceModel, method: str = "brentq") -> Result:
    """The variational equilibrium (Proposition 1): equal marginal improvement per GPU, on the continuous budget.

    Parameters
    ----------
    game : PDResourceModel
        The game (any :class:`~gametheory.games.resource.game.PDResourceGame`).
    method : {"brentq", "cvxpy"}
        ``"brentq"`` (default): Brent's method on the slope of ``C_P + C_D`` along the budget line, corners
        checked. ``"cvxpy"``: the convex program (costs with a ``cvxpy(g)`` expression), Clarabel.

    Returns
    -------
    Result
        As :meth:`~gametheory.games.resource.game.PDResourceGame.equilibrium` describes.

    Raises
    ------
    InvalidInputError
        An unknown method, a cost that rises with its GPUs, or ``"cvxpy"`` with costs lacking ``cvxpy``.
    CapacityExceededError
        When no split of the budget keeps both pools finite.
    CertificateError
        When the KKT residual exceeds :data:`KKT_TOL` (:data:`CVXPY_KKT_TOL` for cvxpy).

    References
    ----------
    .. [1] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
    """
    instance(game, PDResourceModel, "game", what="PDResourceGame")
    return _solve_split(game, (1.0, 1.0), "equilibrium", method)


def continuous_optimum(game: PDResourceModel, method: str = "brentq") -> Result:
    """The social optimum of ``w_P C_P + w_D C_D`` (Remark 1), on the continuous budget.

    Parameters
    ----------
    game : PDResourceModel
        The game (any :class:`~gametheory.games.resource.game.PDResourceGame`); its ``weights`` are w_P, w_D.
    method : {"brentq", "cvxpy"}
        As for :func:`continuous_equilibrium`, on the weighted objective.

    Returns
    -------
    Result
        As :meth:`~gametheory.games.resource.game.PDResourceGame.optimum` describes.

    Raises
    ------
    InvalidInputError, CapacityExceededError, CertificateError
        As for :func:`continuous_equilibrium`.

    References
    ----------
    .. [1] S. Boyd, L. Vandenberghe, *Convex Optimization*, Cambridge 2004, section 5.5 (KKT conditions).
    """
    instance(game, PDResourceModel, "game", what="PDResourceGame")
    return _solve_split(game, game.weights, "optimum", method)


def _solve_split(game: PDResourceModel, weights: tuple[float, float], kind: str, method: str = "brentq") -> Result:
    """Minimize ``w_P C_P(g) + w_D C_D(G - g)`` over the feasible G_P (the VE for weights (1, 1)).

    ``brentq``: scan ``phi'(g) = w_P C_P'(g) - w_D C_D'(G - g)`` on a grid of the finite region for
    sign changes (each bracket -> Brent's method, xtol 1e-13 G), add the two ends as corner candidates,
    keep the candidate of least objective that meets the KKT conditions. ``cvxpy``: the convex program
    with the budget as an explicit constraint (costs must offer ``cvxpy(g)``). Either way the returned
    point is certified by the relative KKT residual before return.
    """
    choice(method, "method", CONTINUOUS_METHODS)
    game.check_costs()
    grid, slopes = _slope_grid(game, weights)
    if method == "cvxpy":
        g, nit = _solve_cvxpy(game, weights), 0
        stationary = ()
    else:
        g, nit, stationary = _solve_brentq(game, weights, grid, slopes)
    certificate, corner, mu = _kkt(game, weights, g, KKT_TOL if method == "brentq" else CVXPY_KKT_TOL)
    certificate.check(f"{kind} of {game.total_gpus:g} GPUs at G_P = {g:.6g}")
    costs = game.pool_costs(g)
    what = "variational equilibrium" if kind == "equilibrium" else "social optimum"
    return Result(
        kind, (g, game.total_gpus - g), game.weights[0] * costs[0] + game.weights[1] * costs[1], certificate,
        status="corner" if corner else "converged", nit=nit, method=method, x_name="split",
        message=f"{what} by {method}" + (f", {corner} pool at its lower bound" if corner else ""),
        pool_costs=costs, multiplier=mu, corner=corner, derivative=game.derivative_method,
        stationary_points=stationary, unique=bool(np.all(np.diff(slopes) > 0)),
    )


def _phi_prime(game, weights, g):
    dp, dd = game.marginals(g)
    return weights[0] * dp - weights[1] * dd


def _slope_grid(game, weights):
    """phi'(g) on GRID_POINTS points of the finite region (just inside its ends)."""
    lo, hi = game.domain
    pad = 1e-9 * game.total_gpus
    grid = np.linspace(lo + pad, hi - pad, GRID_POINTS)
    return grid, np.array([_phi_prime(game, weights, g) for g in grid])


def _solve_brentq(game, weights, grid, slopes):
    lo, hi = game.domain
    roots, nit = [], 0
    for i in np.flatnonzero(np.sign(slopes[:-1]) != np.sign(slopes[1:])):
        if slopes[i] == 0:
            roots.append(float(grid[i]))
            continue
        if slopes[i] < 0 < slopes[i + 1]:  # a minimum of phi, not a maximum
            root, info = brentq(lambda g: _phi_prime(game, weights, g), grid[i], grid[i + 1],
                                xtol=1e-13 * game.total_gpus, rtol=4 * np.finfo(float).eps, full_output=True)
            roots.append(float(root))
            nit += info.iterations
    candidates = list(roots)
    for end in (lo, hi):
        if math.isfinite(game.social_cost(end, weights)):
            candidates.append(end)
    if not candidates:  # phi decreases into one open end and increases into the other: impossible for
        raise CertificateError(  # convex costs; say what was seen
            f"no stationary point or finite corner of the social cost on G_P in ({lo:.6g}, {hi:.6g})"
        )
    best = min(candidates, key=lambda g: game.social_cost(g, weights))
    return best, nit, tuple(roots)


def _solve_cvxpy(game, weights):
    pieces = [getattr(c, "cvxpy", None) for c in (game.prefill_cost, game.decode_cost)]
    if any(p is None for p in pieces):
        raise InvalidInputError("method='cvxpy' needs costs with a cvxpy(g) expression (InverseCost, MM1PoolCost)")
    # well-scaled program: budget shares u in [0, 1] and the objective normalized by its value at the middle
    # of the finite region (O(1) at the solution whatever the units; Clarabel's tolerances are absolute)
    u_p, u_d = cp.Variable(), cp.Variable()
    total = game.total_gpus
    lo, hi = game.domain
    scale = 1.0 / game.social_cost(0.5 * (lo + hi), weights)
    constraints = [u_p + u_d <= 1.0, total * u_p >= game.min_gpus[0], total * u_d >= game.min_gpus[1]]
    objective = scale * (weights[0] * pieces[0](total * u_p) + weights[1] * pieces[1](total * u_d))
    problem = cp.Problem(cp.Minimize(objective), constraints)
    with warnings.catch_warnings():  # "optimal_inaccurate" is judged by the KKT certificate, not by a warning
        warnings.simplefilter("ignore", UserWarning)
        problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    if problem.status not in ("optimal", "optimal_inaccurate") or u_p.value is None:
        raise CertificateError(f"cvxpy: {problem.status}")
    # the budget binds for non-increasing costs; project the solver's point onto it
    share = float(u_p.value) / (float(u_p.value) + float(u_d.value))
    return float(np.clip(share * total, lo, hi))


def kkt_certificate(game: PDResourceModel, g_prefill: float, weights: tuple[float, float] = (1.0, 1.0),
                    tolerance: float = KKT_TOL) -> Certificate:
    """The KKT certificate of the split (G_P, G - G_P) for the objective with ``weights`` ((1, 1): the VE).

    Interior: ``|w_P C_P' - w_D C_D'| / max(|w_P C_P'|, |w_D C_D'|)``; at a pool's lower bound the
    residual is 0 when moving a GPU toward that pool would raise the objective, else the same ratio. At a
    kink of a cost (piecewise-linear or clipped curves) where that ratio is not small, the certificate is
    Clarke's: kind ``kkt_subgradient``, residual 0 when the one-sided slopes 1e-9 G away bracket 0.

    Parameters
    ----------
    game : PDResourceModel
    g_prefill : float
    weights : tuple of float
    tolerance : float

    Returns
    -------
    Certificate

    References
    ----------
    .. [1] F. H. Clarke, *Optimization and Nonsmooth Analysis*, Wiley 1983 (the subgradient condition).
    """
    instance(game, PDResourceModel, "game", what="PDResourceGame")
    return _kkt(game, pair(weights, "weights", positive=True), game.check_split(g_prefill),
                positive_scalar(tolerance, "tolerance"))[0]


def _kkt(game, weights, g, tolerance):
    """Relative KKT residual of G_P = g on the budget line, the active corner, and the multiplier mu."""
    lo, hi = game.domain
    dp, dd = game.marginals(g)
    slope = weights[0] * dp - weights[1] * dd
    scale = max(abs(weights[0] * dp), abs(weights[1] * dd), 1e-300)
    tol_g = 1e-9 * game.total_gpus
    if g <= lo + tol_g and slope > 0:
        corner, residual = "prefill", 0.0  # moving GPUs to prefill would raise the cost: KKT holds at lo
    elif g >= hi - tol_g and slope < 0:
        corner, residual = "decode", 0.0
    else:
        corner, residual = None, abs(slope) / scale
        if residual > tolerance and _straddles_kink(game, weights, g, lo, hi):
            kind = "kkt_subgradient"  # a kink (piecewise costs, a clipped batch): 0 lies in the subdifferential
            mu = -0.5 * (weights[0] * dp + weights[1] * dd)
            return Certificate(kind, 0.0, tolerance), None, mu
    mu = max(-weights[0] * dp, -weights[1] * dd) if corner else -0.5 * (weights[0] * dp + weights[1] * dd)
    return Certificate("kkt_residual", residual, tolerance), corner, mu


def _straddles_kink(game, weights, g, lo, hi):
    """Clarke stationarity at a kink: the slope of the objective on the budget line is <= 0 just left of g
    and >= 0 just right (one-sided points 1e-9 G away, inside the domain), so g is a local minimum."""
    delta = 1e-9 * game.total_gpus
    if not lo + delta < g < hi - delta:
        return False
    return _phi_prime(game, weights, g - delta) <= 0.0 <= _phi_prime(game, weights, g + delta)
