"""Routing game (Game 3): closed forms, fast path vs cvxpy, cache-affinity equilibria and MILP optimum."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import CapacityExceededError, CertificateError, InvalidInputError
from gametheory.games.routing import RoutingGame
from gametheory.games.routing import cache_routing as cr
from gametheory.games.routing.cvx import beckmann_cvx, optimum_cvx
from gametheory.games.routing.wardrop import water_fill
from gametheory.latency import MM1, Affine, Pole, Polynomial


def test_pigou_closed_form():
    g = RoutingGame([Affine(1, 0), Affine(0, 1)], 1.0)
    eq, opt = g.equilibrium(), g.optimum()
    np.testing.assert_allclose(eq.flows, [0, 1], atol=1e-12)
    np.testing.assert_allclose(opt.flows, [0.5, 0.5], atol=1e-12)
    assert eq.cost == pytest.approx(1.0) and opt.cost == pytest.approx(0.75)
    assert g.price_of_anarchy() == pytest.approx(4 / 3, rel=1e-12)
    assert eq.certificate.ok and opt.certificate.kind == "kkt_residual"


def test_nonlinear_pigou_degree_p():
    # Pigou with x^p: equilibrium all on x^p (cost 1), optimum x = (p+1)^(-1/p)
    for p in (2, 4):
        g = RoutingGame([Affine(1, 0), Polynomial([0] * p + [1])], 1.0)
        x = (p + 1) ** (-1 / p)
        assert g.optimum().cost == pytest.approx(x ** (p + 1) + 1 - x, rel=1e-10)
        assert g.equilibrium().cost == pytest.approx(1.0, rel=1e-10)


def test_mm1_equal_split_and_closed_form():
    g = RoutingGame([MM1(2.0), MM1(2.0)], 3.0)
    eq = g.equilibrium()
    np.testing.assert_allclose(eq.flows, [1.5, 1.5], atol=1e-10)
    assert eq.cost == pytest.approx(3.0 / 0.5)


def _random_curves(rng, m):
    out = []
    for _ in range(m):
        kind = rng.integers(3)
        if kind == 0:
            out.append(Affine(rng.uniform(0, 3), rng.uniform(0.1, 2)))
        elif kind == 1:
            out.append(Polynomial([rng.uniform(0, 2), 0.0, rng.uniform(0.1, 1), rng.uniform(0, 0.5)]))
        else:
            out.append(Pole(rng.uniform(0, 2), rng.uniform(0, 1), rng.uniform(0.1, 2), rng.uniform(3, 10)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_path_matches_cvxpy(seed):
    rng = np.random.default_rng(seed)
    curves = _random_curves(rng, 12)
    R = 10.0
    eq = water_fill(curves, R)
    x, _ = beckmann_cvx(curves, R)
    np.testing.assert_allclose(eq.flows, x, atol=2e-5)
    g = RoutingGame(curves, R)
    assert g.equilibrium().cost == pytest.approx(g.equilibrium(method="cvxpy").cost, rel=1e-6)
    assert g.optimum().cost == pytest.approx(optimum_cvx(curves, R)[1], rel=1e-6)
    assert g.optimum().cost == pytest.approx(g.optimum(method="cvxpy").cost, rel=1e-6)
    assert eq.certificate.value <= 1e-9


def test_multiclass_omega_zero_reduces_to_totals():
    curves = [Affine(1, 1), Affine(0.5, 2), Pole(0.2, 0.1, 0.5, 8)]
    g = RoutingGame(curves, [1.0, 2.0, 0.5])
    eq = g.equilibrium()
    assert eq.flows.shape == (3, 3)
    np.testing.assert_allclose(eq.flows.sum(axis=1), water_fill(curves, 3.5).flows)
    np.testing.assert_allclose(eq.flows.sum(axis=0), [1.0, 2.0, 0.5])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10**6), st.integers(2, 6), st.floats(0.1, 5.0))
def test_poa_at_least_one_and_below_class_bound(seed, m, R):
    from gametheory.bounds import class_bound

    rng = np.random.default_rng(seed)
    curves = _random_curves(rng, m)
    caps = sum(min(c.capacity, 1e9) for c in curves)
    R = min(R, 0.9 * caps)
    g = RoutingGame(curves, R)
    poa = g.price_of_anarchy()
    bound, _ = class_bound(curves, R, loads=g.equilibrium().worker_flows)
    assert poa >= 1 - 1e-9
    assert poa <= bound * (1 + 1e-9)


def test_cache_affinity_multiple_equilibria():
    # two identical workers, one class, strong cache benefit: the symmetric split and both "all on one
    # worker" points are equilibria; the dynamics find all three from different starts
    g = RoutingGame([Affine(0.2, 1), Affine(0.2, 1)], 1.0, omega=1.0, cache_benefit=2.0, cache_scale=0.2)
    eqs = g.equilibria(starts=4)
    tops = sorted(tuple(np.round(e.worker_flows, 6)) for e in eqs)
    assert tops == [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    for e in eqs:
        c = cr.class_costs(g.latencies, e.flows[:, None].T, 1.0, g.cache_benefit, g.cache_scale)
        used = e.flows > 0
        assert c[0, used].max() - c[0].min() <= 1e-6


def test_cache_affinity_milp_optimum_is_global():
    curves = [Affine(0.2, 1), Affine(0.3, 2), Pole(0.1, 0.5, 0.2, 3)]
    g = RoutingGame(curves, [1.0, 0.5], omega=0.5, cache_benefit=[1.0, 0.5], cache_scale=0.3)
    opt = g.optimum()
    assert opt.certificate.kind == "milp_gap" and opt.gap <= 1e-2
    assert opt.lower_bound <= opt.cost
    # brute force on a grid of the 4-dimensional flow simplex product: nothing beats the lower bound
    n = 14
    best = np.inf
    for a in range(n + 1):
        for b in range(n + 1 - a):
            for c in range(n + 1):
                for d in range(n + 1 - c):
                    x = np.array([[a, b, n - a - b], [c, d, n - c - d]]) / n * np.array([[1.0], [0.5]])
                    if (x.sum(axis=0) >= 3).any():
                        continue
                    best = min(best, g.social_cost(x.T))
    assert opt.lower_bound <= best + 1e-12
    assert opt.cost <= best + 1e-9
    eq = g.equilibrium()
    assert eq.cost >= opt.lower_bound


def test_bad_inputs():
    with pytest.raises(InvalidInputError):
        RoutingGame([Affine(1, 1)], -1.0)
    with pytest.raises(InvalidInputError):
        RoutingGame([MM1(1.0)], 1.5)
    with pytest.raises(InvalidInputError):
        RoutingGame([Affine(1, 1)], [float("nan")])
    with pytest.raises(InvalidInputError):
        RoutingGame(["not a curve"], 1.0)
    with pytest.raises(InvalidInputError):
        RoutingGame([Affine(1, 1)], 1.0, omega=-1)
    assert issubclass(CapacityExceededError, InvalidInputError)


def test_vectorized_cvxpy_pole_and_immutability():
    rng = np.random.default_rng(5)
    curves = [Pole(rng.uniform(0, 2), rng.uniform(0, 1), rng.uniform(0.1, 2), rng.uniform(3, 10)) for _ in range(30)]
    R = 60.0
    for marginal, solve in ((False, beckmann_cvx), (True, optimum_cvx)):
        x, _ = solve(curves, R)
        np.testing.assert_allclose(water_fill(curves, R, marginal=marginal).flows, x, atol=2e-5)
    g = RoutingGame(curves, [20.0, 40.0])
    before = g.demands.copy()
    g.equilibrium()
    g.optimum()
    np.testing.assert_array_equal(g.demands, before)
    with pytest.raises(AttributeError):
        g.omega = 1.0


def test_spread_certificate_reported():
    g = RoutingGame([Affine(1, 1), Affine(0.5, 2), MM1(5.0)], [1.0, 1.5])
    eq = g.equilibrium()
    assert eq.spread is not None and eq.spread <= 1e-9
    assert g.optimum().spread is None


def test_water_fill_mm1_near_pole_regression():
    # equal latencies 1/(10 - x) = 1/(9 - (12 - x)) -> x = 6.5; Newton's tiny steps next to the pole at 9
    # once passed for convergence far from the root
    eq = RoutingGame([MM1(10.0), MM1(9.0)], 12.0).equilibrium()
    assert eq.flows == pytest.approx([6.5, 5.5], rel=1e-10) and eq.certificate.ok


def test_water_fill_optimum_on_kinked_piecewise_linear_curves():
    from scipy.optimize import minimize_scalar

    from gametheory.latency import PiecewiseLinear

    curves = [PiecewiseLinear([0.0, 1.0, 2.0, 4.0], [1.0, 1.5, 3.0, 8.0]),
              PiecewiseLinear([0.0, 2.0, 3.0, 6.0], [2.0, 2.2, 3.0, 9.0])]
    demand = 3.0
    game = RoutingGame(curves, demand)
    opt = game.optimum()
    assert opt.certificate.ok

    def total(x):
        return x * float(curves[0](x)) + (demand - x) * float(curves[1](demand - x))

    brute = minimize_scalar(total, bounds=(0.0, demand), method="bounded", options={"xatol": 1e-12})
    assert game.social_cost(opt.flows) == pytest.approx(brute.fun, rel=1e-9)
    # the subgradient certificate still rejects a point off the optimum
    from gametheory.games.routing.wardrop import CurveBank, level_gap

    bank = CurveBank(curves)
    assert bank.kinked.all()
    assert level_gap(bank, opt.flows, marginal=True) <= 1e-9
    moved = np.asarray(opt.flows, dtype=float) + np.array([0.05, -0.05])
    assert level_gap(bank, moved, marginal=True) > 1e-3
    # the optimum sits on a kink: without the subgradient allowance its marginal costs differ
    smooth = CurveBank(curves)
    smooth.kinked[:] = False
    assert level_gap(smooth, opt.flows, marginal=True) > 1e-3


def test_cache_affinity_optimum_refines_its_pieces_until_the_gap_is_certified():
    # an instance whose 32-piece MILP bound leaves a 2.9e-2 gap (> 1e-2): the optimum refines to 64 pieces (7.4e-3)
    rng = np.random.default_rng(0)
    for _ in range(8):
        m = int(rng.integers(2, 4))
        curves = [Affine(float(rng.uniform(0.5, 2)), float(rng.uniform(0.1, 1))) if rng.random() < 0.5
                  else MM1(float(rng.uniform(3, 8))) for _ in range(m)]
        cap = sum(c.capacity for c in curves)
        total = float(rng.uniform(0.5, 2.5)) if np.isinf(cap) else 0.6 * cap
        demands = rng.dirichlet([1, 1]) * total
        benefit, scale = float(rng.uniform(0.5, 3)), float(rng.uniform(0.3, 1.5))
    game = RoutingGame(curves, demands, omega=1.0, cache_benefit=benefit, cache_scale=scale)
    with pytest.raises(CertificateError):
        cr.milp_optimum(game.latencies, game.demands, 1.0, game.cache_benefit, game.cache_scale, pieces=32,
                        max_pieces=32)
    opt = game.optimum()
    assert opt.certificate.ok and "64 piecewise-linear pieces" in opt.message
    assert opt.lower_bound <= opt.cost <= opt.lower_bound + 1e-2 * abs(opt.cost) + 1e-12


def test_worst_equilibrium_search_tries_every_class_on_one_worker():
    # "all classes on worker w" is an exact equilibrium whenever no class gains by moving a sliver of flow to
    # another worker (cost of an empty worker: l_v(0), cache benefit 0); checked here in closed form. The
    # search must find it whenever it holds (round-robin starts alone missed it on 12 of 30 such instances).
    rng = np.random.default_rng(3)
    checked = 0
    for _ in range(30):
        curves = [Affine(float(rng.uniform(0, 1)), float(rng.uniform(0.1, 1))) for _ in range(2)]
        demands = rng.uniform(0.2, 1.0, size=2)
        H, s = float(rng.uniform(0.5, 4)), float(rng.uniform(0.05, 0.5))
        game = RoutingGame(curves, demands, omega=1.0, cache_benefit=H, cache_scale=s)
        worst = max(e.cost for e in game.equilibria(starts=4))
        for w in range(2):
            x = np.zeros((2, 2))
            x[w] = demands  # (m, K) flows: every class on worker w
            load = demands.sum()
            stay = curves[w](load) - H * (1 - np.exp(-demands / s))  # each class's cost on w
            move = curves[1 - w](0.0)  # a sliver on the empty worker: no cache benefit yet
            if (stay <= move).all():
                checked += 1
                cost = game.social_cost(x)
                assert worst >= cost - 1e-9 * abs(cost)
    assert checked >= 10


def test_cache_affinity_five_equilibria_three_stable():
    # two identical workers 0.2 + x, one class, omega = 1, H = 2, s = 0.2, demand 1: with y on worker 1 the
    # cost difference f(y) = c_1 - c_2 = 2y - 1 + 2 exp(-5y) - 2 exp(-5(1 - y)). Equilibria: y = 0 and y = 1
    # (f(0) > 0 > f(1)) and every interior root of f; stable where flow moving to the cheaper worker returns
    # (f' > 0 inside, the boundary points always). The docs quote these figures.
    from scipy.optimize import brentq

    def f(y):
        return 2 * y - 1 + 2 * np.exp(-5 * y) - 2 * np.exp(-5 * (1 - y))

    def df(y):
        return 2 - 10 * np.exp(-5 * y) - 10 * np.exp(-5 * (1 - y))

    grid = np.linspace(0, 1, 20001)
    v = f(grid)
    interior = [brentq(f, a, b, xtol=1e-15) for a, b, fa, fb in zip(grid[:-1], grid[1:], v[:-1], v[1:], strict=True)
                if fa * fb < 0 or fa == 0 and a > 0]
    assert f(0.0) > 0 > f(1.0)
    assert len(interior) == 3 and interior[1] == pytest.approx(0.5, abs=1e-12)
    assert interior[0] == pytest.approx(0.278062, abs=1e-6)
    stable = [0.0] + [y for y in interior if df(y) > 0] + [1.0]
    assert stable == [0.0, pytest.approx(0.5), 1.0]  # the roots at 0.278 and 0.722 are unstable
    g = RoutingGame([Affine(0.2, 1), Affine(0.2, 1)], 1.0, omega=1.0, cache_benefit=2.0, cache_scale=0.2)
    assert g.social_cost([interior[0], 1 - interior[0]]) == pytest.approx(-1.023941, abs=1e-6)
    found = sorted(float(e.worker_flows[0]) for e in g.equilibria(starts=8))
    assert found == pytest.approx(stable, abs=1e-6)  # projection dynamics find exactly the stable three
