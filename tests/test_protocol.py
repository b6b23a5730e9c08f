"""One protocol for every game: ``equilibrium(method=...)``, ``optimum(method=...)`` and ``price_of_anarchy()``,
answered with :class:`gametheory.Result` (finite cost, certificate that holds); two methods of the same game
agree (each is the other's independent check)."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from gametheory.certificates import Certificate
from gametheory.errors import CertificateError, InvalidInputError
from gametheory.games.caching import chun_game, line_topology
from gametheory.games.network import NetworkGame
from gametheory.games.resource import InverseCost, MM1PoolCost, PDResourceGame
from gametheory.games.routing import AtomicRoutingGame, RoutingGame
from gametheory.latency import MM1, Affine
from gametheory.results import Result


def routing():
    return RoutingGame([Affine(1.0, 1.0), Affine(2.0, 0.5), MM1(6.0)], 4.0)


def resource():
    return PDResourceGame(16.0, InverseCost(40.0), MM1PoolCost(2.0, 10.0), weights=(1.0, 8.0), step=2)


def caching():
    return chun_game(line_topology(4, 1.0), 2.0, server_ms=10.0)


def network():
    g = nx.DiGraph()
    for u, v, curve in [(1, 3, Affine(0, 10)), (3, 2, Affine(50, 1)), (1, 4, Affine(50, 1)), (4, 2, Affine(0, 10)),
                        (3, 4, Affine(10, 1))]:
        g.add_edge(u, v, latency=curve)
    return NetworkGame(g, {(1, 2): 6.0})


def atomic():
    return AtomicRoutingGame([Affine(0.0, 1.0), Affine(1.0, 0.5)], 4)


GAMES = {
    # name: (game factory, a second method of equilibrium, a second method of optimum)
    "routing": (routing, "cvxpy", "cvxpy"),
    "resource": (resource, "cvxpy", "cvxpy"),
    "caching": (caching, "enumeration", "enumeration"),
    "network": (network, "cvxpy", "cvxpy"),
    "atomic": (atomic, "enumeration", None),
}


@pytest.mark.parametrize("name", sorted(GAMES))
def test_every_game_answers_the_protocol(name):
    make, eq_method, opt_method = GAMES[name]
    game = make()
    eq, opt = game.equilibrium(), game.optimum()
    for res, kind in ((eq, "equilibrium"), (opt, "optimum")):
        assert isinstance(res, Result) and res.kind == kind
        assert math.isfinite(res.cost) and res.certificate.ok and res.success
        assert res.status in ("converged", "exact", "corner") and res.method and res.message
        assert res.x is getattr(res, res.x_name)
        assert repr(res).splitlines()[0].startswith(kind) and res.to_frame().shape[0] == 1
    poa = game.price_of_anarchy()
    assert poa >= 1 - 1e-6 and opt.cost <= eq.cost * (1 + 1e-6)
    # the second method is an independent solver of the same point (costs agree)
    assert game.equilibrium(method=eq_method).cost == pytest.approx(eq.cost, rel=1e-4)
    if opt_method:
        assert game.optimum(method=opt_method).cost == pytest.approx(opt.cost, rel=1e-4)
    with pytest.raises(InvalidInputError):
        game.equilibrium(method="no such method")


def test_known_poa_values():
    """Pigou's network (4/3), Braess's (552/498) and the integer P/D split agree with closed forms."""
    assert RoutingGame([Affine(0.0, 1.0), Affine(1.0, 0.0)], 1.0).price_of_anarchy() == pytest.approx(4 / 3, 1e-9)
    assert network().price_of_anarchy() == pytest.approx(552 / 498, rel=1e-7)
    game = resource()
    integer_eq = game.equilibrium(method="enumeration")
    assert integer_eq.method == "enumeration" and integer_eq.workers[0] * 2 == integer_eq.split[0]
    assert game.price_of_anarchy(method="enumeration") >= 1.0


def test_result_refuses_what_is_not_a_solution():
    ok = Certificate("relative_gap", 1e-12, 1e-9)
    with pytest.raises(CertificateError):
        Result("equilibrium", np.zeros(2), 1.0, Certificate("relative_gap", 1e-3, 1e-9))
    with pytest.raises(CertificateError):
        Result("optimum", np.zeros(2), math.inf, ok)
    with pytest.raises(InvalidInputError):
        Result("nash", np.zeros(2), 1.0, ok)
    with pytest.raises(InvalidInputError):
        Result("optimum", np.zeros(2), 1.0, ok, status="probably")
    with pytest.raises(InvalidInputError):
        Result("optimum", np.zeros(2), 1.0, ok, x_name="flows", flows=np.ones(2))
    res = Result("optimum", np.arange(3.0), 2.5, ok, x_name="flows", method="test", worker_flows=np.ones(3))
    assert res.flows is res.x and res.extras == {"worker_flows": res.worker_flows}
    with pytest.raises(AttributeError):
        res.no_such_field  # noqa: B018


def test_the_package_exports_the_games_the_result_and_the_errors():
    import gametheory

    for name in gametheory.__all__:
        assert getattr(gametheory, name) is not None
    assert gametheory.RoutingGame is RoutingGame and gametheory.Result is Result
    with pytest.raises(AttributeError):
        gametheory.NoSuchGame  # noqa: B018
