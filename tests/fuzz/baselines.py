"""Valid calls of the main public entry points: the fuzzer breaks one argument at a time from these.

``CALLS[entry]`` lists valid ``(args, kwargs)`` for ``"module:name"``; ``METHODS[entry]`` lists the methods to
fuzz on an instance built from the entry's first valid call, each with its valid ``(args, kwargs)``.
Entries without a baseline are still fuzzed, from their signature (see ``test_public_api``). Instances are
small so that a valid call takes milliseconds.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from gametheory.games.caching.game import line_topology, make_game
from gametheory.games.coupled.system import CoupledSystem
from gametheory.games.resource.game import InverseCost, PDResourceGame
from gametheory.games.resource.planner import ResourcePlannerModel
from gametheory.games.routing.wardrop import CurveBank
from gametheory.latency import MM1, Affine, Pole, Polynomial

__all__ = ["CALLS", "METHODS"]

CURVES = [Affine(1.0, 2.0), MM1(3.0), Pole(0.5, 0.2, 1.0, 4.0)]
POLYS = [Affine(1.0, 1.0), Polynomial([0.5, 0.0, 1.0])]


def _network_graph():
    g = nx.DiGraph()
    g.add_edge("s", "a", latency=Affine(0.0, 1.0))
    g.add_edge("a", "t", latency=Affine(1.0, 0.0))
    g.add_edge("s", "b", latency=Affine(1.0, 0.0))
    g.add_edge("b", "t", latency=Affine(0.0, 1.0))
    g.add_edge("a", "b", latency=Affine(0.0, 0.0))
    return g


def _caching_game():
    return make_game(line_topology(2), demand=np.array([[1.0, 0.3], [0.2, 1.0]]), recompute_ms=[2.0, 3.0])


LOADS = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 48.0, 64.0]
LATENCY = [10.0, 10.5, 11.0, 12.0, 14.0, 30.0, 60.0, 120.0]
COSTS = np.array([[1.0, 3.0], [3.0, 1.0], [2.0, 5.0], [4.0, 2.0]])
REALIZED = np.array([3.0, 3.0, 2.0, 2.0])


def _objective(n):
    return (n - 4.0) ** 2 + 1.0


def _uniform():
    return 0.25


def _cluster():
    from gametheory.serving.engine import paper_cluster

    return paper_cluster("70b_1p2d")


def _coupled_system():
    return CoupledSystem(workers=4, rates=(20.0, 20.0), prefill_ms=_prefill_ms, decode_step_ms=_decode_step_ms,
                         prefix_tokens=96, output_tokens=16, cache_slots=1)


def _prefill_ms(tokens):
    return 5.0 + 0.05 * tokens


def _decode_step_ms(batch, context):
    return 8.0 * (1 + (batch / 128) ** 2)


def _inverse_game():
    return PDResourceGame(8.0, InverseCost(40.0), InverseCost(10.0), weights=(1.0, 4.0), step=2)


def _game_at(rate):
    return PDResourceGame(16.0, lambda g: 1.0 / max(0.5 * g - rate, 1e-9), lambda g: 2.0 / g, step=2)


CALLS: dict[str, list[tuple[tuple, dict]]] = {
    # latency curves
    "gametheory.latency:Affine": [((1.0, 2.0), {})],
    "gametheory.latency:Polynomial": [(([1.0, 0.5, 0.25],), {})],
    "gametheory.latency:BPR": [((2.0, 10.0), {"alpha": 0.15, "beta": 4.0})],
    "gametheory.latency:Pole": [((0.5, 0.2, 1.0, 4.0), {})],
    "gametheory.latency:MM1": [((3.0,), {})],
    "gametheory.latency:PiecewiseLinear": [(([0.0, 1.0, 3.0], [1.0, 2.0, 6.0]), {"capacity": 5.0})],
    "gametheory.latency:Tabulated": [(([0.0, 1.0, 2.0, 4.0], [1.0, 1.5, 3.0, 9.0]), {})],
    # bounds
    "gametheory.bounds:polynomial": [((2.0,), {})],
    "gametheory.bounds:mm1": [(([3.0, 4.0], 2.0), {})],
    "gametheory.bounds:pigou_curve": [((MM1(3.0), 2.0), {"n_grid": 20})],
    "gametheory.bounds:pigou": [((CURVES, 1.5), {})],
    "gametheory.bounds:class_bound": [((CURVES, 2.0), {"loads": [0.5, 1.0, 0.5]}), ((POLYS, 3.0), {})],
    # routing (Game 3)
    "gametheory.games.routing.game:RoutingGame": [
        ((CURVES, 2.5), {}),
        ((CURVES[:2], [0.7, 0.5]), {"omega": 0.5, "cache_benefit": [1.0, 0.5], "cache_scale": 0.3}),
    ],
    "gametheory.games.routing.wardrop:water_fill": [((CURVES, 2.5), {"marginal": True})],
    "gametheory.games.routing.wardrop:CurveBank": [((CURVES,), {})],
    "gametheory.games.routing.wardrop:level_gap": [((CurveBank(CURVES), [1.0, 1.0, 0.5]), {"marginal": False})],
    "gametheory.games.routing.wardrop:certificate_tolerance": [
        ((CurveBank(CURVES), [1.0, 1.0, 0.5]), {"marginal": True})],
    "gametheory.games.routing.across_load:poa_across_load": [((CURVES, [0.5, 1.5, 3.0]), {})],
    "gametheory.games.routing.cvx:beckmann_cvx": [((CURVES, 2.0), {})],
    "gametheory.games.routing.cvx:optimum_cvx": [((CURVES, 2.0), {})],
    "gametheory.games.routing.atomic:player_costs": [((POLYS, [0, 1, 1]), {})],
    "gametheory.games.routing.atomic:social_cost": [((POLYS, [0, 1, 1]), {"overlap": np.eye(3), "omega": 0.1})],
    "gametheory.games.routing.atomic:rosenthal_potential": [((POLYS, [0, 1, 1]), {})],
    "gametheory.games.routing.atomic:best_response_dynamics": [((POLYS, [0, 0, 0]), {"max_moves": 50})],
    "gametheory.games.routing.atomic:pure_equilibria": [((POLYS, 3), {})],
    "gametheory.games.routing.atomic:exact_optimum": [((POLYS, 3), {})],
    "gametheory.games.routing.cache_routing:project_rows": [
        ((np.array([[0.2, 0.9], [1.5, -0.3]]), np.array([1.0, 0.5])), {})],
    "gametheory.games.routing.cache_routing:cache_benefit": [
        ((np.array([[0.5, 0.5]]), np.array([1.0]), np.array([0.3])), {})],
    "gametheory.games.routing.atomic:AtomicRoutingGame": [((POLYS, 3), {"omega": 0.0})],
    # resource (Game 1)
    "gametheory.games.resource.game:PDResourceGame": [
        ((8.0, InverseCost(40.0), InverseCost(10.0)), {"weights": (1.0, 4.0), "step": 2})],
    "gametheory.games.resource.model:InverseCost": [((40.0,), {})],
    "gametheory.games.resource.model:MM1PoolCost": [((2.0, 5.0), {})],
    "gametheory.games.resource.model:PerGPULoadCost": [((MM1(3.0), 4.0), {})],
    "gametheory.games.resource.model:PDResourceModel": [
        ((8.0, InverseCost(40.0), InverseCost(10.0)), {"weights": (1.0, 4.0), "step": 2})],
    "gametheory.games.resource.continuous:kkt_certificate": [((_inverse_game(), 5.0), {})],
    "gametheory.games.resource.continuous:continuous_equilibrium": [((_inverse_game(),), {"method": "cvxpy"})],
    "gametheory.games.resource.continuous:continuous_optimum": [((_inverse_game(),), {})],
    "gametheory.games.resource.integer:split_table": [((_inverse_game(),), {})],
    "gametheory.games.resource.integer:integer_equilibrium": [((_inverse_game(),), {})],
    "gametheory.games.resource.integer:integer_optimum": [((_inverse_game(),), {"step": 2})],
    "gametheory.games.resource.integer:integer_price_of_anarchy": [((_inverse_game(),), {})],
    "gametheory.games.resource.integer:is_generalized_nash": [((_inverse_game(), (4.0, 4.0)), {})],
    "gametheory.games.resource.integer:one_step_certificate": [((_inverse_game(), 2), {})],
    "gametheory.games.resource.integer:best_responses": [((_inverse_game(), "prefill", 4.0), {})],
    "gametheory.games.resource.integer:compare_with_rounding": [((_inverse_game(),), {})],
    "gametheory.games.resource.closed_forms:evaluate": [(("inverse", 10.0, (1.0, 2.0)), {"a": 4.0, "b": 1.0})],
    "gametheory.games.resource.decode_pool:little_decode_itl_ms": [((_prefill_ms, 2.0, 16.0, 256.0), {})],
    # caching (Game 2)
    "gametheory.games.caching.game:make_game": [
        ((line_topology(2),), {"demand": np.array([[1.0, 0.3], [0.2, 1.0]]), "recompute_ms": [2.0, 3.0]})],
    "gametheory.games.caching.game:chun_game": [((line_topology(3), 1.5), {"server_ms": 100.0})],
    "gametheory.games.caching.game:line_topology": [((3,), {"edge_ms": 1.0})],
    "gametheory.games.caching.game:star_topology": [((3,), {})],
    "gametheory.games.caching.game:complete_topology": [((3,), {})],
    "gametheory.games.caching.game:tree_topology": [((2, 2), {})],
    "gametheory.games.caching.game:hierarchical_topology": [((2, 2), {})],
    "gametheory.games.caching.game:transfer_ms": [((100.0,), {})],
    "gametheory.games.caching.game:block_bytes": [((64, 1024), {})],
    "gametheory.games.caching.solvers:best_response_dynamics": [((_caching_game(),), {"seed": 0})],
    "gametheory.games.caching.solvers:enumerate_profiles": [((_caching_game(),), {})],
    "gametheory.games.caching.solvers:best_response": [((_caching_game(), np.zeros((2, 2), int), 0), {})],
    "gametheory.games.caching.solvers:equilibrium_gap": [((_caching_game(), np.zeros((2, 2), int)), {})],
    "gametheory.games.caching.milp:social_optimum_milp": [((_caching_game(),), {})],
    "gametheory.games.caching.kvbm:synthetic_trace": [((2, 3, 20), {"seed": 0})],
    "gametheory.games.caching.kvbm:KVBMPolicy": [((), {"promote_at": 2.0, "decay_interval": 50.0})],
    "gametheory.games.caching.experiments:complete_graph_poa": [((), {"ns": (2,), "alphas": (0.5,)})],
    "gametheory.games.caching.experiments:line_poa": [((), {"ns": range(2, 4), "alpha_grid": 2})],
    # network
    "gametheory.games.network.game:NetworkGame": [((_network_graph(), {("s", "t"): 1.0}), {})],
    # coupled system
    "gametheory.games.coupled.system:CoupledSystem": [
        ((), {"workers": 4, "rates": (20.0, 20.0), "prefill_ms": _prefill_ms, "decode_step_ms": _decode_step_ms,
              "prefix_tokens": 96, "output_tokens": 16, "cache_slots": 1})],
    # Game 1 Planner (the one Planner loop of games.dynamics)
    "gametheory.games.dynamics:planner_dynamics": [((ResourcePlannerModel(_game_at, step=2), [2.0, 3.0, 4.0, 4.0]),
                                                    {"delay": 1})],
    "gametheory.games.dynamics:planner_step": [((_objective, 3, 1, 6), {})],
    # curves: fitting, knees, regimes
    "gametheory.fitting:fit": [((LOADS, LATENCY), {"family": "auto"})],
    "gametheory.regimes:find_knee": [((LOADS, LATENCY), {"method": "hinge", "n_boot": 5, "seed": 0})],
    "gametheory.regimes:find_knees": [((LOADS, LATENCY), {"n_boot": 5, "seed": 0})],
    "gametheory.assessment:assess": [((), {"load": LOADS, "latency": LATENCY, "n_boot": 5})],
    # serving
    "gametheory.serving.engine:EngineConfig": [((), {"max_num_seqs": 64, "max_num_batched_tokens": 4096})],
    "gametheory.serving.workload:Workload": [((), {"n_templates": 2, "prefix_tokens": 32, "think_ms": 0.0})],
    "gametheory.serving.simulator:simulate": [((_cluster(), None, 8, 300), {"warmup": 16, "seed": 0})],
    "gametheory.serving.estimator:poa_hat": [((COSTS, REALIZED), {"window": 2})],
    "gametheory.serving.estimator:matching_ratio": [((COSTS, [1, 0, 0, 1]), {"window": 2, "n_boot": 10})],
    "gametheory.serving.pool_costs:md1_wait": [((2.0, 0.1), {"scv": 0.5})],
    "gametheory.serving.pool_costs:mdc_wait": [((2.0, 0.1, 2), {})],
    "gametheory.serving.router:pick": [(([1.0, 2.0, 0.5], 0.5, _uniform), {})],
    # display
    "gametheory.display:format_value": [((3.14159,), {"digits": 3})],
    "gametheory.display:Table": [(([{"a": 1.0, "b": 2.0}],), {"title": "t"})],
}

METHODS: dict[str, list[tuple[str, tuple, dict]]] = {
    "gametheory.latency:Affine": [(m, (1.5,), {}) for m in ("__call__", "derivative", "integral", "marginal", "total")]
    + [("scaled", (2.0,), {})],
    "gametheory.latency:MM1": [(m, ([0.5, 1.0],), {}) for m in ("__call__", "derivative", "integral", "marginal")],
    "gametheory.latency:PiecewiseLinear": [(m, (2.0,), {}) for m in ("__call__", "marginal", "integral")],
    "gametheory.latency:Tabulated": [(m, (1.5,), {}) for m in ("__call__", "derivative", "integral")],
    "gametheory.latency:BPR": [(m, (12.0,), {}) for m in ("__call__", "derivative", "integral")],
    "gametheory.games.routing.game:RoutingGame": [
        ("social_cost", ([1.0, 1.0, 0.5],), {}),
        ("equilibrium", (), {"rgap": 1e-9, "method": "water_filling"}),
        ("optimum", (), {"rgap": 1e-9, "method": "water_filling"}),
        ("equilibria", (), {"starts": 2, "seed": 0}),
        ("price_of_anarchy", (), {}),
    ],
    "gametheory.games.resource.game:PDResourceGame": [
        ("pool_costs", (3.0,), {}),
        ("social_cost", (3.0,), {"weights": (1.0, 2.0)}),
        ("marginals", (3.0,), {}),
        ("check_split", (3.0,), {}),
        ("equilibrium", (), {"method": "brentq"}),
        ("optimum", (), {"method": "brentq"}),
        ("price_of_anarchy", (), {}),
    ],
    "gametheory.games.caching.game:make_game": [
        ("player_costs", (np.zeros((2, 2), int),), {}),
        ("social_cost", (np.zeros((2, 2), int),), {}),
        ("check_profile", (np.zeros((2, 2), int),), {}),
        ("with_capacity", (0, 0, 1.0), {}),
        ("equilibrium", (), {"method": "best_response", "max_rounds": 20}),
        ("optimum", (), {"method": "milp"}),
        ("price_of_anarchy", (), {}),
    ],
    "gametheory.games.routing.atomic:AtomicRoutingGame": [
        ("equilibrium", (), {"method": "best_response", "order": "round_robin", "max_moves": 100}),
        ("optimum", (), {"method": "enumeration"}),
        ("social_cost", ([0, 1, 1],), {}),
    ],
    "gametheory.games.network.game:NetworkGame": [
        ("equilibrium", (), {"rgap": 1e-6, "max_iter": 200}),
        ("optimum", (), {"rgap": 1e-6, "max_iter": 200}),
        ("relative_gap", ([0.5, 0.5, 0.5, 0.5, 0.0],), {"kind": "equilibrium"}),
        ("price_of_anarchy", (), {"rgap": 1e-6}),
    ],
    "gametheory.games.caching.game:chun_game": [("social_cost", (np.zeros((3, 1), int),), {})],
    "gametheory.games.coupled.system:CoupledSystem": [
        ("route", (np.zeros((2, 2), bool),), {"kind": "equilibrium"}),
        ("cache_best_response", (np.ones((2, 2)),), {}),
        ("decode_itl_ms", (2,), {}),
        ("decode_capacity_rps", (2,), {}),
        ("prefill_capacity_rps", (2,), {}),
        ("equilibrium", (), {"n_prefill": 1, "gain": 1}),
        ("optimum", (), {}),
        ("price_of_anarchy", (), {"starts": [1, 2]}),
        ("decompose_fixed_split", (1,), {}),
        ("scaled", (0.5,), {}),
        ("social_cost_ms", (10.0, 2.0), {}),
        ("work", (np.zeros((2, 2), bool),), {}),
    ],
}

# other families are exercised through the same methods
for _name in ("Polynomial", "Pole"):
    METHODS[f"gametheory.latency:{_name}"] = METHODS["gametheory.latency:MM1"]
del _name
