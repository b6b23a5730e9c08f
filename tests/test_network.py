"""Network congestion games: closed forms (Pigou, Braess), published TNTP values, cvxpy cross-check."""

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.games.network import NetworkGame, read_tntp
from gametheory.io.tntp import read_tntp_flows
from gametheory.latency import BPR, MM1, Affine, Polynomial

TNTP = Path(__file__).resolve().parents[1].parent / "shared" / "validation" / "tntp"
needs_tntp = pytest.mark.skipif(not TNTP.is_dir(), reason=f"TNTP validation data absent ({TNTP})")


def game_from(edges, demands, no_through=()):
    g = nx.DiGraph()
    for u, v, curve in edges:
        g.add_edge(u, v, latency=curve)
    return NetworkGame(g, demands, frozenset(no_through))


def pigou():
    return game_from([("s", "t", Affine(1.0, 0.0)), ("s", "a", Affine(0.0, 1.0)), ("a", "t", Affine(0.0, 0.0))],
                     {("s", "t"): 1.0})


def braess_classic():
    return game_from([("s", "a", Affine(0, 1)), ("a", "t", Affine(1, 0)), ("s", "b", Affine(1, 0)),
                      ("b", "t", Affine(0, 1)), ("a", "b", Affine(0, 0))], {("s", "t"): 1.0})


def test_pigou_closed_form():
    g = pigou()
    eq, opt = g.equilibrium(rgap=1e-10), g.optimum(rgap=1e-10)
    assert eq.cost == pytest.approx(1.0, abs=1e-8)
    assert opt.cost == pytest.approx(0.75, abs=1e-8)
    assert opt.flows[("s", "a")] == pytest.approx(0.5, abs=1e-8)
    assert g.price_of_anarchy(1e-10) == pytest.approx(4 / 3, abs=1e-7)


def test_braess_classic_closed_form():
    g = braess_classic()
    eq, opt = g.equilibrium(rgap=1e-10), g.optimum(rgap=1e-10)
    assert eq.cost == pytest.approx(2.0, abs=1e-7)
    assert eq.flows[("a", "b")] == pytest.approx(1.0, abs=1e-6)
    assert opt.cost == pytest.approx(1.5, abs=1e-7)
    assert opt.flows[("a", "b")] == pytest.approx(0.0, abs=1e-6)
    assert eq.certificate.ok and eq.certificate.kind == "relative_gap"


def random_grid(seed):
    """A 3x3 grid with two-way links, mixed curve families, three OD pairs (the cvxpy cross-check)."""
    rng = np.random.default_rng(seed)
    g = nx.grid_2d_graph(3, 3).to_directed()
    edges = []
    for u, v in g.edges:
        kind = rng.integers(3)
        if kind == 0:
            curve = Affine(rng.uniform(1, 3), rng.uniform(0.1, 1))
        elif kind == 1:
            curve = Polynomial([rng.uniform(1, 2), 0.0, rng.uniform(0.05, 0.3)])
        else:
            curve = BPR(rng.uniform(1, 3), rng.uniform(2, 5), 0.15, 4)
        edges.append((u, v, curve))
    demands = {((0, 0), (2, 2)): 4.0, ((2, 0), (0, 2)): 3.0, ((0, 1), (2, 1)): 2.0}
    return game_from(edges, demands)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["equilibrium", "optimum"])
def test_gradient_projection_matches_cvxpy(seed, kind):
    g = random_grid(seed)
    ours = getattr(g, kind)(rgap=1e-10)
    ref = getattr(g, kind)(method="cvxpy")
    assert ours.objective <= ref.objective + 1e-9  # the minimizer: never above the conic solver's point
    assert ours.objective == pytest.approx(ref.objective, rel=1e-5)
    np.testing.assert_allclose(ours.x, ref.x, atol=5e-3)
    assert g.relative_gap(ours.x, kind) <= 1e-9


def test_optimum_not_worse_and_mm1_curves():
    g = game_from([("s", "t", MM1(3.0)), ("s", "a", MM1(5.0)), ("a", "t", Affine(0.1, 0.0))], {("s", "t"): 2.5})
    eq, opt = g.equilibrium(rgap=1e-10), g.optimum(rgap=1e-10)
    assert opt.cost <= eq.cost + 1e-12
    ref = g.optimum(method="cvxpy", tolerance=1e-3)
    assert opt.cost <= ref.cost + 1e-9  # ours is at least as good as the conic solver's point
    assert opt.cost == pytest.approx(ref.cost, rel=1e-5)


def test_no_through_nodes_are_not_crossed():
    # the short route s->z->t crosses zone z; with z no-through, flow must take the long link
    edges = [("s", "z", Affine(1, 0)), ("z", "t", Affine(1, 0)), ("s", "t", Affine(10, 0)),
             ("z", "s", Affine(1, 0))]
    free = game_from(edges, {("s", "t"): 1.0, ("z", "t"): 1.0})
    assert free.equilibrium().flows[("s", "z")] == pytest.approx(1.0)
    zoned = game_from(edges, {("s", "t"): 1.0, ("z", "t"): 1.0}, no_through={"z"})
    res = zoned.equilibrium()
    assert res.flows[("s", "z")] == pytest.approx(0.0)
    assert res.flows[("z", "t")] == pytest.approx(1.0)  # z may still originate
    assert zoned.equilibrium(method="cvxpy").cost == pytest.approx(res.cost, rel=1e-6)


def test_solving_does_not_mutate_the_game():
    g = braess_classic()
    before = (dict(g.demands), [(u, v, d["latency"]) for u, v, d in g.graph.edges(data=True)])
    g.equilibrium()
    g.optimum()
    assert (dict(g.demands), [(u, v, d["latency"]) for u, v, d in g.graph.edges(data=True)]) == before


def test_bad_inputs():
    with pytest.raises(InvalidInputError, match="latency"):
        NetworkGame(nx.DiGraph([("a", "b")]), {("a", "b"): 1.0})
    with pytest.raises(InvalidInputError, match="not in graph"):
        game_from([("a", "b", Affine(1, 1))], {("a", "c"): 1.0})
    with pytest.raises(InvalidInputError, match="rate must be finite|rate must be >= 0"):
        game_from([("a", "b", Affine(1, 1))], {("a", "b"): float("nan")})
    with pytest.raises(InvalidInputError, match="unreachable"):
        game_from([("a", "b", Affine(1, 1)), ("c", "b", Affine(1, 1))], {("a", "c"): 1.0}).equilibrium()
    with pytest.raises(InvalidInputError, match="rgap"):
        braess_classic().equilibrium(rgap=0.0)
    with pytest.raises(ConvergenceError):
        random_grid(0).equilibrium(rgap=1e-12, max_iter=1)


@needs_tntp
def test_braess_example_file():
    g = read_tntp(TNTP / "Braess_net.tntp", TNTP / "Braess_trips.tntp")
    eq, opt = g.equilibrium(rgap=1e-9), g.optimum(rgap=1e-9)
    assert eq.cost == pytest.approx(552.0, rel=1e-7)
    assert opt.cost == pytest.approx(498.0, rel=1e-7)
    assert opt.flows[(3, 4)] == pytest.approx(0.0, abs=1e-6)  # the bridge is unused at the optimum
    assert eq.cost / opt.cost == pytest.approx(1.1084, abs=1e-4)


@pytest.fixture(scope="module")
def sioux_falls():
    g = read_tntp(TNTP / "SiouxFalls_net.tntp", TNTP / "SiouxFalls_trips.tntp")
    return g, g.equilibrium(rgap=1e-8)


@needs_tntp
def test_sioux_falls_published_values(sioux_falls):
    sioux_falls, eq = sioux_falls
    opt = sioux_falls.optimum(rgap=1e-7)
    assert eq.objective == pytest.approx(4_231_335.2871, rel=1e-7)
    assert eq.cost == pytest.approx(7_480_225.3, rel=1e-6)
    assert eq.gap <= 1e-8
    assert opt.cost == pytest.approx(7_194_256.05, rel=1e-7)
    assert eq.cost / opt.cost == pytest.approx(1.03975, abs=1e-5)
    flows = read_tntp_flows(TNTP / "SiouxFalls_flow.tntp")
    ref = np.array([flows[e][0] for e in sioux_falls.edges])
    assert np.max(np.abs(eq.x - ref)) <= 1e-4 * ref.max()


@needs_tntp
def test_sioux_falls_cvxpy_agrees(sioux_falls):
    sioux_falls, ours = sioux_falls
    ref = sioux_falls.equilibrium(method="cvxpy", tolerance=1e-5)
    assert ours.objective <= ref.objective + 1e-6
    assert ours.objective == pytest.approx(ref.objective, rel=1e-7)
    assert ours.cost == pytest.approx(ref.cost, rel=1e-5)


@needs_tntp
def test_anaheim_zones_and_flow_file():
    g = read_tntp(TNTP / "Anaheim_net.tntp", TNTP / "Anaheim_trips.tntp")
    assert g.no_through == frozenset(range(1, 39))
    eq = g.equilibrium(rgap=1e-5)
    flows = read_tntp_flows(TNTP / "Anaheim_flow.tntp")
    ref_total = sum(flows[e][0] * flows[e][1] for e in g.edges)
    assert eq.cost == pytest.approx(ref_total, rel=1e-4)
    zone_out = [i for i, (u, _) in enumerate(g.edges) if u < 39]
    assert eq.x[zone_out].sum() == pytest.approx(sum(g.demands.values()), rel=1e-9)  # each trip leaves its zone once


def test_demand_beyond_capacity_is_rejected():
    from gametheory.errors import CapacityExceededError

    g = game_from([("s", "t", MM1(1.0)), ("s", "a", MM1(2.0)), ("a", "t", Affine(0.0, 0.0))], {("s", "t"): 3.5})
    with pytest.raises(CapacityExceededError, match="max flow"):
        g.equilibrium()
    ok = game_from([("s", "t", MM1(1.0)), ("s", "a", MM1(2.0)), ("a", "t", Affine(0.0, 0.0))], {("s", "t"): 2.9})
    res = ok.equilibrium(rgap=1e-10)  # both links near their poles, still below capacity
    assert res.flows[("s", "t")] < 1.0 and res.flows[("s", "a")] < 2.0
    assert 1 / (1 - res.flows[("s", "t")]) == pytest.approx(1 / (2 - res.flows[("s", "a")]), rel=1e-6)


def test_used_paths_have_equal_cost_wardrop():
    """Wardrop's condition checked on the path flows, independently of the relative-gap certificate."""
    from gametheory.games.network.solvers import gradient_projection

    g = random_grid(2)
    tail, head, n, o, d, rate, nt = g.arrays()
    costs = g.link_costs()
    res = gradient_projection(tail, head, n, o, d, rate, costs, rgap=1e-11, keep_paths=True)
    t = costs.time(res.x)
    for k, paths in res.paths.items():
        used = [float(t[p].sum()) for p, f in paths if f > 1e-9]
        assert sum(f for _, f in paths) == pytest.approx(rate[k], rel=1e-12)
        assert max(used) - min(used) <= 1e-7 * min(used)
    with pytest.raises(InvalidInputError, match="one flow per edge"):
        g.relative_gap(res.x[:-1])
