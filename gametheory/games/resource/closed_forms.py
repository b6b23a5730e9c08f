"""Closed forms of Game 1 for the textbook pool costs, derived with sympy (paper Proposition 1, Remark 1).

Two cases, both with every symbol positive:

- ``inverse``: ``C_P = a / G_P``, ``C_D = b / G_D`` (fixed work spread over the pool's GPUs);
- ``mm1``: M/M/1 pools ``C_P = 1 / (mu_P G_P - lambda_P)``, ``C_D = 1 / (mu_D G_D - lambda_D)`` (service rate
  per GPU mu, arrival rate lambda; stable for ``G > lambda_P / mu_P + lambda_D / mu_D``).

Derivation (done by sympy in :func:`derive`, not typed in): on the budget line ``G_P + G_D = G`` the
objective ``w_P C_P + w_D C_D`` is stationary where ``w_P C_P'(G_P) = w_D C_D'(G_D)``. Both cases have the
form ``C = 1 / s`` with a *slack* ``s = k G - c`` that is positive on the stable side, so the condition reads
``w_P k_P / s_P^2 = w_D k_D / s_D^2``; sympy solves it for the positive ``s_D`` in terms of ``s_P`` (the
other root is the unstable side), then the budget ``(s_P + c_P)/k_P + (s_D + c_D)/k_D = G`` (linear in
``s_P``) for ``s_P``. Weights (1, 1) give the variational equilibrium, (w_P, w_D) the social optimum;
PoA = social cost at the VE / at the optimum, simplified. Both costs are ``multiple / R`` with
``R = G - lambda_P/mu_P - lambda_D/mu_D`` (spare GPUs), so R cancels in PoA. The objective is convex on the
stable region, so the stationary point is the unique minimizer: the closed forms are the solver's answers.

Results (sympy's expressions equal these; tests/test_resource_closed_forms.py checks it symbolically):

- inverse: VE ``G sqrt(a) / (sqrt(a) + sqrt(b))``, optimum ``G sqrt(w_P a) / (sqrt(w_P a) + sqrt(w_D b))``,
  PoA ``(sqrt(a) + sqrt(b)) (w_P sqrt(a) + w_D sqrt(b)) / (sqrt(w_P a) + sqrt(w_D b))^2``;
- mm1: the same PoA with ``a = 1/mu_P``, ``b = 1/mu_D``: it does not depend on the loads or the budget
  (the loads only shift the split by the GPUs each pool needs to be stable).

References
----------
.. [1] A. Meurer et al., "SymPy: symbolic computing in Python", PeerJ Computer Science 3, 2017.
.. [2] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from gametheory._validate import choice, nonnegative_scalar, pair, positive_scalar
from gametheory.errors import CapacityExceededError, InvalidInputError

__all__ = ["CASES", "ClosedForms", "NumericForms", "derive", "evaluate"]

CASES = ("inverse", "mm1")


@dataclass(frozen=True)
class ClosedForms:
    """sympy expressions of one case: ``equilibrium`` / ``optimum`` = G_P at the VE / optimum (GPUs),
    ``equilibrium_cost`` / ``optimum_cost`` = the weighted social cost there, ``poa`` = their ratio
    (simplified); ``costs`` = (C_P, C_D) as expressions of ``G_P``, ``G_D``; ``symbols`` maps names to the
    sympy symbols (``G``, ``G_P``, ``G_D``, ``w_P``, ``w_D`` and the case's parameters).

    Parameters
    ----------
    case : str
    symbols : dict
    costs : tuple
    equilibrium, optimum, equilibrium_cost, optimum_cost, poa : sympy.Expr
    """

    case: str
    symbols: dict
    costs: tuple
    equilibrium: sp.Expr
    optimum: sp.Expr
    equilibrium_cost: sp.Expr
    optimum_cost: sp.Expr
    poa: sp.Expr

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names :func:`evaluate` needs (besides the optional weights)."""
        return tuple(n for n in self.symbols if n not in ("G_P", "G_D", "w_P", "w_D"))


@dataclass(frozen=True)
class NumericForms:
    """The closed forms at numbers: splits (G_P, G_D) in GPUs, weighted social costs, PoA.

    Parameters
    ----------
    equilibrium_split, optimum_split : tuple of float
    equilibrium_cost, optimum_cost, poa : float
    """

    equilibrium_split: tuple[float, float]
    optimum_split: tuple[float, float]
    equilibrium_cost: float
    optimum_cost: float
    poa: float


@lru_cache(maxsize=None)
def derive(case: str) -> ClosedForms:
    """Derive the VE, the optimum and PoA of ``case`` ("inverse" or "mm1") with sympy (cached).

    Parameters
    ----------
    case : str

    Returns
    -------
    ClosedForms

    Raises
    ------
    RuntimeError
        See the message.
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    G, g_p, g_d, w_p, w_d = sp.symbols("G G_P G_D w_P w_D", positive=True)
    if case == "inverse":
        a, b = sp.symbols("a b", positive=True)
        params = {"a": a, "b": b}
        k_p, c_p, k_d, c_d = 1 / a, sp.Integer(0), 1 / b, sp.Integer(0)  # a/G = 1/(G/a)
    elif case == "mm1":
        mu_p, lam_p, mu_d, lam_d = sp.symbols("mu_P lambda_P mu_D lambda_D", positive=True)
        params = {"mu_P": mu_p, "lambda_P": lam_p, "mu_D": mu_d, "lambda_D": lam_d}
        k_p, c_p, k_d, c_d = mu_p, lam_p, mu_d, lam_d
    else:
        raise InvalidInputError(f"case must be one of {CASES}, got {case!r}")
    costs = (sp.simplify(1 / (k_p * g_p - c_p)), sp.simplify(1 / (k_d * g_d - c_d)))

    # R = G - c_P/k_P - c_D/k_D: the GPUs left after each pool gets what it needs to be stable (G for
    # "inverse"); every cost is a multiple of 1/R, so PoA comes out free of G and the loads
    R = sp.Symbol("R", positive=True)
    spare = G - c_p / k_p - c_d / k_d

    def stationary(weight_p, weight_d):
        """(G_P, social cost) where w_P C_P' = w_D C_D', as expressions of R."""
        s_p, s_d = sp.symbols("s_P s_D", positive=True)  # slacks k G - c of the stable region
        # d/dG 1/(k G - c) = -k / s^2: equal weighted marginals, solved for the positive s_D
        roots = sp.solve(sp.Eq(weight_p * k_p / s_p**2, weight_d * k_d / s_d**2), s_d)
        if len(roots) != 1:
            raise RuntimeError(f"expected one positive slack root, sympy gave {roots}")
        # budget (s_P + c_P)/k_P + (s_D + c_D)/k_D = G, i.e. s_P/k_P + s_D/k_D = R
        (slack_p,) = sp.solve(sp.Eq(s_p / k_p + roots[0] / k_d, R), s_p)
        slack_d = sp.simplify(roots[0].subs(s_p, slack_p))
        split = sp.simplify((slack_p + c_p) / k_p)
        cost = sp.simplify(w_p / slack_p + w_d / slack_d)  # weighted social cost w_P/s_P + w_D/s_D
        return split, cost

    ve_r, ve_cost_r = stationary(1, 1)
    opt_r, opt_cost_r = stationary(w_p, w_d)
    poa = sp.simplify(sp.factor(ve_cost_r / opt_cost_r))
    if poa.has(R):
        raise RuntimeError(f"PoA should not depend on the spare GPUs R, sympy gave {poa}")
    ve, opt = (sp.simplify(e.subs(R, spare)) for e in (ve_r, opt_r))
    ve_cost, opt_cost = (sp.factor(e.subs(R, spare)) for e in (ve_cost_r, opt_cost_r))
    symbols = {"G": G, "G_P": g_p, "G_D": g_d, "w_P": w_p, "w_D": w_d, **params}
    return ClosedForms(case, symbols, costs, ve, opt, ve_cost, opt_cost, poa)


def evaluate(case: str, total_gpus: float, weights: tuple[float, float] = (1.0, 1.0), **params) -> NumericForms:
    """The closed forms of ``case`` at numbers (``a``, ``b`` for "inverse"; ``mu_P``, ``lambda_P``, ``mu_D``,
    ``lambda_D`` for "mm1"), evaluated with 30 significant digits (mpmath) and returned as floats.

    Raises :class:`InvalidInputError` for missing/extra/non-positive parameters and
    :class:`CapacityExceededError` when the M/M/1 loads need the whole budget or more.

    Parameters
    ----------
    case : str
    total_gpus : float
    weights : tuple[float, float]
    **params

    Returns
    -------
    NumericForms

    Raises
    ------
    CapacityExceededError
        When the load reaches a capacity (no finite cost).
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    forms = derive(choice(case, "case", CASES))
    missing = set(forms.parameters) - {"G"} - set(params)
    extra = set(params) - set(forms.parameters)
    if missing or extra:
        raise InvalidInputError(f"case {case!r} needs parameters {sorted(set(forms.parameters) - {'G'})}; "
                                f"missing {sorted(missing)}, unexpected {sorted(extra)}")
    values = {"G": positive_scalar(total_gpus, "total_gpus")}
    for name, v in params.items():
        values[name] = nonnegative_scalar(v, name) if name.startswith("lambda") else positive_scalar(v, name)
    values["w_P"], values["w_D"] = pair(weights, "weights", positive=True)
    if case == "mm1":
        need = values["lambda_P"] / values["mu_P"] + values["lambda_D"] / values["mu_D"]
        if need >= values["G"]:
            raise CapacityExceededError(need, values["G"], "M/M/1 pools: GPUs needed for stability vs total_gpus")
    subs = {forms.symbols[k]: sp.Float(v, 30) for k, v in values.items()}

    def num(expr):
        out = float(sp.N(expr.subs(subs), 30))
        if not math.isfinite(out):
            raise InvalidInputError(f"closed form of {case!r} is not finite at {values}")
        return out

    ve, opt = num(forms.equilibrium), num(forms.optimum)
    return NumericForms((ve, values["G"] - ve), (opt, values["G"] - opt), num(forms.equilibrium_cost),
                        num(forms.optimum_cost), num(forms.poa))
