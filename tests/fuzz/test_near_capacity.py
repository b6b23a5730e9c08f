"""Game 3 near capacity: random mixes of 2-5 M/M/1 and pole curves at rho = demand / capacity up to 0.99999.

Every equilibrium and optimum must be returned with a checked certificate (at least 99.9 % of instances; a
CertificateError on the rest, never a wrong result), and every certificate must be true when recomputed in
50-digit arithmetic from the curves' parameters at the returned flows (:mod:`fuzz.exact`). Two parameter
families: "serving" (capacities 0.5-20, the ranges the serving curves take) and "wide" (capacities
1e-2-1e3, pole weights 1e-4-1e2, log-uniform: workers whose own slack is 1e-10 of their capacity).

Instance counts: 150 per (rho, family) in the default profile, 2,500 with HYPOTHESIS_PROFILE=deep. Run
``pytest tests/fuzz/test_near_capacity.py -s`` to print the rates.
"""

import os

import numpy as np
import pytest

from fuzz import exact
from gametheory.bounds import class_bound
from gametheory.errors import CertificateError
from gametheory.games.routing import RoutingGame
from gametheory.latency import MM1, Pole

N = 2500 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 150


def _log_uniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def random_curves(rng, family: str):
    """2-5 curves, each M/M/1 or a pole curve a + b x + c / (kappa - x)."""
    curves = []
    for _ in range(int(rng.integers(2, 6))):
        if family == "serving":
            curves.append(MM1(rng.uniform(0.5, 20)) if rng.random() < 0.5 else
                          Pole(rng.uniform(0, 5), rng.uniform(0, 2), rng.uniform(0.05, 5), rng.uniform(0.5, 20)))
        else:
            curves.append(MM1(_log_uniform(rng, 1e-2, 1e3)) if rng.random() < 0.5 else
                          Pole(rng.uniform(0, 10) * (rng.random() < 0.8),
                               _log_uniform(rng, 1e-4, 10) * (rng.random() < 0.8),
                               _log_uniform(rng, 1e-4, 1e2), _log_uniform(rng, 1e-2, 1e3)))
    return curves


@pytest.mark.parametrize("family", ["serving", "wide"])
@pytest.mark.parametrize("rho", [0.999, 0.99999])
def test_certified_and_true_near_capacity(rho, family):
    rng = np.random.default_rng([int(rho * 1e5), family == "wide"])
    solved = failed = widened = 0
    for _ in range(N):
        curves = random_curves(rng, family)
        demand = rho * sum(c.capacity for c in curves)
        game = RoutingGame(curves, demand)
        for marginal in (False, True):
            try:
                res = game.optimum() if marginal else game.equilibrium()
            except CertificateError:
                failed += 1
                continue
            solved += 1
            cert = res.certificate
            widened += cert.tolerance > 1e-9
            x = res.worker_flows
            assert (x >= 0).all() and all(v < c.capacity for c, v in zip(curves, x, strict=True))
            assert abs(float(exact.total_flow(x)) - demand) <= 1e-12 * demand
            true_gap = exact.relative_gap(curves, x, marginal)
            assert true_gap <= cert.tolerance, (curves, demand, marginal, true_gap, cert)
            # the reported value is the true one (not merely below the tolerance)
            assert abs(cert.value - true_gap) <= 1e-3 * true_gap + 1e-14
    rate = solved / (solved + failed)
    print(f"\nrho={rho} {family}: {solved}/{solved + failed} certified ({100 * rate:.2f} %), "
          f"{widened} with the float64 floor above 1e-9, 0 untruthful")
    assert rate >= 0.999


@pytest.mark.parametrize("rho", [0.9, 0.999, 0.99999])
def test_price_of_anarchy_between_one_and_class_bound_near_capacity(rho):
    rng = np.random.default_rng(int(rho * 1e6))
    for _ in range(max(N // 10, 15)):
        curves = random_curves(rng, "serving")
        demand = rho * sum(c.capacity for c in curves)
        game = RoutingGame(curves, demand)
        eq, opt = game.equilibrium(), game.optimum()
        poa = eq.cost / opt.cost
        bound, _ = class_bound(curves, demand, loads=eq.worker_flows)
        assert 1 - 1e-9 <= poa <= bound * (1 + 1e-9), (curves, demand, poa, bound)


def test_tiny_demand_and_single_worker():
    for demand in (1e-12, 1e-6):
        game = RoutingGame([MM1(1.0), Pole(0.5, 1.0, 1.0, 2.0)], demand)
        for res, marginal in ((game.equilibrium(), False), (game.optimum(), True)):
            assert res.certificate.ok and res.worker_flows.sum() == pytest.approx(demand, rel=1e-14)
            assert exact.relative_gap(game.latencies, res.worker_flows, marginal) <= res.certificate.tolerance
    one = RoutingGame([MM1(2.0)], 1.99999)
    assert one.equilibrium().worker_flows.tolist() == [1.99999]
    assert one.price_of_anarchy() == 1.0
