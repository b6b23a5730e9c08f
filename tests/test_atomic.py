"""Atomic routing: Rosenthal potential, best-response dynamics, cycling under asymmetric overlaps."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.bounds import atomic_linear
from gametheory.errors import ConvergenceError
from gametheory.games.routing.atomic import (
    AtomicRoutingGame,
    best_response_dynamics,
    cycling_instance,
    exact_optimum,
    player_costs,
    pure_equilibria,
    rosenthal_potential,
    social_cost,
)
from gametheory.latency import Affine
from gametheory.serving.router import Request, route_stream


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6))
def test_rosenthal_potential_decreases_and_brd_reaches_ne(seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(2, 4)), int(rng.integers(2, 6))
    curves = [Affine(rng.uniform(0, 3), rng.uniform(0.1, 2)) for _ in range(m)]
    start = rng.integers(0, m, n)
    res = best_response_dynamics(curves, start)
    potentials = [rosenthal_potential(curves, a) for a in res.states]
    assert res.converged
    assert all(b < a - 1e-12 for a, b in zip(potentials, potentials[1:], strict=False))
    assert tuple(res.final) in pure_equilibria(curves, n)
    eq = AtomicRoutingGame(curves, n).equilibrium(start=start)
    assert eq.assignment == tuple(res.final) and eq.certificate.ok and eq.certificate.value <= 1e-12
    # potential property: a unilateral move changes Phi by exactly the mover's cost change
    a = np.array(res.final)
    for i, w in itertools.product(range(n), range(m)):
        b = a.copy()
        b[i] = w
        d_phi = rosenthal_potential(curves, b) - rosenthal_potential(curves, a)
        d_cost = player_costs(curves, b)[i] - player_costs(curves, a)[i]
        assert abs(d_phi - d_cost) <= 1e-9


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10**6))
def test_atomic_linear_poa_below_five_halves(seed):
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(2, 4)), int(rng.integers(2, 6))
    curves = [Affine(rng.uniform(0, 3), rng.uniform(0.1, 2)) for _ in range(m)]
    _, opt = exact_optimum(curves, n)
    worst = max(social_cost(curves, a) for a in pure_equilibria(curves, n))
    assert opt <= worst + 1e-12
    assert worst <= atomic_linear() * opt + 1e-9
    game = AtomicRoutingGame(curves, n)
    assert game.price_of_anarchy() == pytest.approx(worst / opt, rel=1e-12)
    assert game.optimum().cost == pytest.approx(opt, rel=1e-12)
    assert game.equilibrium(method="enumeration").cost <= worst + 1e-12


def test_asymmetric_overlap_cycles_without_equilibrium():
    curves, O, omega = cycling_instance()
    assert pure_equilibria(curves, 2, O, omega) == []
    res = best_response_dynamics(curves, [0, 1], O, omega)
    assert not res.converged and len(set(res.cycle)) == 4 and res.period == 4
    with pytest.raises(ConvergenceError, match="cycles"):
        AtomicRoutingGame(curves, 2, O, omega).equilibrium(start=[0, 1])
    with pytest.raises(ConvergenceError, match="no pure Nash"):
        AtomicRoutingGame(curves, 2, O, omega).price_of_anarchy()
    # with omega = 0 the same game has equilibria and BRD converges
    assert pure_equilibria(curves, 2) and best_response_dynamics(curves, [0, 0]).converged


def test_symmetric_overlap_has_several_equilibria():
    curves = [Affine(0.0, 0.5), Affine(0.0, 0.5)]
    O = np.array([[0.0, 1.0], [1.0, 0.0]])
    eqs = pure_equilibria(curves, 2, O, 1.0)
    assert sorted(eqs) == [(0, 0), (1, 1)]
    assert exact_optimum(curves, 2, O, 1.0)[1] == 0.0


def test_greedy_router_is_one_pass_of_brd():
    # one prefix class, omega = 0 in blocks: the greedy stream equals sequential best responses
    reqs = [Request(160, 0) for _ in range(7)]
    trace = route_stream(reqs, 3, omega=0.0, rng=0)
    counts = np.bincount(trace.assignment, minlength=3)
    assert counts.max() - counts.min() <= 1  # balanced, as BRD on identical linear workers
