"""Game 2: the selfish KV caching game over the tiered cache G1 (HBM), G2 (DRAM), G3 (local SSD), G4 (network).

The model generalises the selfish caching game of Chun, Chaudhuri, Wee, Barreno, Papadimitriou and
Kubiatowicz, "Selfish caching in distributed systems: a game-theoretic analysis", PODC 2004: every worker
(node) chooses which objects (here KV prefix blocks) to hold; holding costs a placement cost alpha per object,
and every request for an object is served by the cheapest copy (distance on the topology), or by the fallback
(recompute = prefill time) when no copy is reachable more cheaply.

Model as implemented (units: costs in ms-equivalent per unit time, demand in requests per unit time):

* ``graph``: a networkx graph of workers ``0..n-1``; edge attribute ``cost`` (ms per block transfer).
  ``dist[j, k]`` = shortest-path cost, ``inf`` between components.
* tiers ``t = 0..T-1`` per worker with ``capacity[i, t]`` (blocks; ``inf`` = uncapacitated, ``0`` = absent),
  ``access_ms[i, t]`` (ms to read a block from that tier) and ``hold_cost[i, t]`` (placement cost per block
  held, Chun et al.'s alpha, per tier). A tier flagged ``shared`` (G4, networked storage) is read by every
  worker at ``access_ms`` without crossing the topology; the other tiers are read by worker ``j`` from
  worker ``k`` at ``access_ms[k, t] + dist[j, k]``.
* ``demand[i, b]``: requests of worker ``i`` for block ``b``; ``recompute_ms[b]``: fallback cost per request.
* A strategy of worker ``i`` is a row ``s[i, :]`` with ``s[i, b] = -1`` (do not hold ``b``) or a tier index;
  at most ``capacity[i, t]`` blocks in tier ``t``.
* Cost of worker ``i``: ``sum_b hold_cost[i, s[i,b]] + demand[i,b] * min(recompute_ms[b], min over copies
  (k, t) of fetch[i, k, t])``. Social cost = sum over workers.

The uncapacitated variant (all capacities ``inf``, one tier, access 0) is exactly Chun et al.'s basic game.

The package's layers (nashpy-like: the game is the face, the solvers sit below it and never import it):
:mod:`gametheory.games.caching.model` holds the data and the costs
(:class:`~gametheory.games.caching.model.CachingModel`, :func:`~gametheory.games.caching.model.player_costs_batch`,
:func:`~gametheory.games.caching.model.reach_costs`); the solvers read a model:
:mod:`gametheory.games.caching.solvers` (equilibria, enumeration, PoA/PoS) and
:mod:`gametheory.games.caching.milp` (social optimum); this module builds the game (topologies, tier costs,
:func:`make_game`) and :class:`CachingGame` dispatches to the solvers by ``method=``.

References
----------
.. [1] B.-G. Chun, K. Chaudhuri, H. Wee, M. Barreno, C. H. Papadimitriou, J. Kubiatowicz, "Selfish caching in
   distributed systems: a game-theoretic analysis", PODC 2004.
.. [2] NVIDIA Dynamo documentation, "KV Block Manager" (tiers G1 HBM, G2 host DRAM, G3 local SSD, G4 remote).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from gametheory._validate import (
    choice,
    finite_array,
    index,
    instance,
    integer,
    nonnegative_array,
    nonnegative_scalar,
    positive_scalar,
    size_limit,
)
from gametheory.errors import ConvergenceError, InvalidInputError
from gametheory.games.caching.milp import social_optimum_bruteforce, social_optimum_milp
from gametheory.games.caching.model import TIER_NAMES, CachingModel, player_costs_batch, reach_costs
from gametheory.games.caching.solvers import best_response_dynamics, enumerate_profiles

__all__ = [
    "BLOCK_TOKENS",
    "CachingGame",
    "IB_NDR_GBPS",
    "KV_BYTES_PER_TOKEN",
    "NVLINK5_GBPS",
    "TIER_BANDWIDTH_GBPS",
    "TIER_HOLD_WEIGHT",
    "TIER_LATENCY_MS",
    "TIER_NAMES",
    "block_bytes",
    "chun_game",
    "complete_topology",
    "default_tier_access_ms",
    "hierarchical_topology",
    "infiniband_ms",
    "line_topology",
    "make_game",
    "nvlink_ms",
    "player_costs_batch",
    "reach_costs",
    "recompute_ms_from_profile",
    "star_topology",
    "transfer_ms",
    "tree_topology",
]


# ---------------------------------------------------------------------------------------------------------
# Defaults (documented in docs/caching.md). They are DEFAULTS from public spec pages, not measurements.
# ---------------------------------------------------------------------------------------------------------
#: bytes of KV cache per token for a Llama-3-70B-like model: 2 (K,V) * 80 layers * 8 KV heads * 128 dims * 2 B.
KV_BYTES_PER_TOKEN = 2 * 80 * 8 * 128 * 2
#: tokens per KV block (a Dynamo/vLLM-style paged block; 64 here).
BLOCK_TOKENS = 64
#: read bandwidth (GB/s) per tier: B200 HBM3e ~8 TB/s; host DRAM over PCIe Gen5 x16 ~64 GB/s; local NVMe
#: Gen5 SSD ~14 GB/s (Gen4 ~7 GB/s); networked storage over one 400 Gb/s InfiniBand NDR port = 50 GB/s.
TIER_BANDWIDTH_GBPS = {"G1": 8000.0, "G2": 64.0, "G3": 14.0, "G4": 50.0}
#: per-access latency (ms) added to the transfer time: NVMe read ~0.1 ms, remote storage round trip ~0.05 ms.
TIER_LATENCY_MS = {"G1": 0.0, "G2": 0.0, "G3": 0.1, "G4": 0.05}
#: relative placement (holding) cost per block and tier: HBM is the scarce resource (a modelling choice).
TIER_HOLD_WEIGHT = {"G1": 1.0, "G2": 0.2, "G3": 0.05, "G4": 0.02}
#: NVLink 5 (B200): 1.8 TB/s per GPU; InfiniBand NDR: 400 Gb/s = 50 GB/s per port.
NVLINK5_GBPS = 1800.0
IB_NDR_GBPS = 50.0


def block_bytes(block_tokens: int = BLOCK_TOKENS, kv_bytes_per_token: int = KV_BYTES_PER_TOKEN) -> float:
    """Bytes of one KV block.

    Parameters
    ----------
    block_tokens : int
        Tokens per block.
    kv_bytes_per_token : int
        KV bytes per token.

    Returns
    -------
    float
    """
    return float(integer(block_tokens, "block_tokens", minimum=1)) * float(
        integer(kv_bytes_per_token, "kv_bytes_per_token", minimum=1))


def transfer_ms(gbps: float, nbytes: float | None = None) -> float:
    """Milliseconds to move ``nbytes`` (default: one block) at ``gbps`` GB/s.

    Parameters
    ----------
    gbps : float
        Bandwidth, GB/s (> 0).
    nbytes : float, optional
        Bytes to move (> 0; default: one block, :func:`block_bytes`).

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        A bandwidth or size that is not a positive finite number.
    """
    nbytes = block_bytes() if nbytes is None else positive_scalar(nbytes, "nbytes")
    return float(nbytes) / (positive_scalar(gbps, "bandwidth_gbps") * 1e9) * 1e3


def nvlink_ms() -> float:
    """Default NVLink 5 edge cost: one block over 1.8 TB/s (ms).

    Returns
    -------
    float
    """
    return transfer_ms(NVLINK5_GBPS)


def infiniband_ms() -> float:
    """Default InfiniBand NDR edge cost: one block over 50 GB/s (ms).

    Returns
    -------
    float
    """
    return transfer_ms(IB_NDR_GBPS)


def default_tier_access_ms(nbytes: float | None = None) -> np.ndarray:
    """Access cost (ms) per tier G1..G4 for one block: latency + bytes / bandwidth.

    Parameters
    ----------
    nbytes : float, optional
        Bytes per block (default :func:`block_bytes`).

    Returns
    -------
    numpy.ndarray
        (4,) ms for G1..G4.
    """
    return np.array([TIER_LATENCY_MS[t] + transfer_ms(TIER_BANDWIDTH_GBPS[t], nbytes) for t in TIER_NAMES])


def recompute_ms_from_profile(profile, tokens: int = BLOCK_TOKENS) -> float:
    """Recompute cost of a block = prefill time of ``tokens`` tokens on a measured profile (ms).

    ``profile``: anything with a ``prefill_ms(tokens)`` method, e.g. a profile loaded by
    :func:`gametheory.serving.profiles.load_profile`.

    Parameters
    ----------
    profile : object
        Anything with ``prefill_ms(tokens)``.
    tokens : int
        Tokens of the block.

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        When ``profile`` has no ``prefill_ms`` method.
    """
    if not callable(getattr(profile, "prefill_ms", None)):
        raise InvalidInputError(f"profile must have a prefill_ms(tokens) method, got {profile!r}")
    tokens = integer(tokens, "tokens", minimum=1)
    return nonnegative_scalar(profile.prefill_ms(float(tokens)), "profile.prefill_ms(tokens)")


# ---------------------------------------------------------------------------------------------------------
# topologies
# ---------------------------------------------------------------------------------------------------------
def _weighted(g: nx.Graph, cost: float) -> nx.Graph:
    c = positive_scalar(cost, "edge_cost_ms")
    nx.set_edge_attributes(g, c, "cost")
    return g


def complete_topology(n: int, edge_ms: float | None = None) -> nx.Graph:
    """n workers all linked at the same cost (NVLink inside a node; default one block over NVLink 5).

    Parameters
    ----------
    n : int
        Workers.
    edge_ms : float, optional
        Edge cost (default :func:`nvlink_ms`).

    Returns
    -------
    networkx.Graph
        Workers 0..n-1 with edge attribute ``cost`` (ms per block).
    """
    return _weighted(nx.complete_graph(_count(n, "n", MAX_COMPLETE)), nvlink_ms() if edge_ms is None else edge_ms)


def line_topology(n: int, edge_ms: float = 1.0) -> nx.Graph:
    """n workers on a path, neighbours ``edge_ms`` apart (Chun et al.'s line).

    Parameters
    ----------
    n : int
        Workers.
    edge_ms : float
        Cost between neighbours.

    Returns
    -------
    networkx.Graph
        Workers 0..n-1 with edge attribute ``cost`` (ms per block).
    """
    return _weighted(nx.path_graph(_count(n, "n")), edge_ms)


def star_topology(n: int, edge_ms: float = 1.0) -> nx.Graph:
    """One hub (worker 0) and n-1 leaves.

    Parameters
    ----------
    n : int
        Workers (hub included).
    edge_ms : float
        Hub-leaf cost.

    Returns
    -------
    networkx.Graph
        Workers 0..n-1 with edge attribute ``cost`` (ms per block).
    """
    return _weighted(nx.star_graph(_count(n, "n") - 1), edge_ms)


def tree_topology(branching: int, depth: int, edge_ms: float = 1.0) -> nx.Graph:
    """A balanced tree (networkx ``balanced_tree``) of workers.

    Parameters
    ----------
    branching : int
        Children per node.
    depth : int
        Levels below the root.
    edge_ms : float
        Edge cost.

    Returns
    -------
    networkx.Graph
        Workers 0..n-1 with edge attribute ``cost`` (ms per block).

    Raises
    ------
    InvalidInputError
        A branching or depth that is not a whole number in range, or a tree over MAX_WORKERS workers.
    """
    branching, depth = _count(branching, "branching"), integer(depth, "depth", minimum=0)
    if sum(branching**k for k in range(min(depth, 64) + 1)) > MAX_WORKERS:
        raise InvalidInputError(f"a tree of branching {branching} and depth {depth} has more than {MAX_WORKERS:,} "
                                "workers")
    return _weighted(nx.balanced_tree(branching, depth), edge_ms)


def hierarchical_topology(nodes: int, gpus_per_node: int, intra_ms: float | None = None,
                          inter_ms: float | None = None) -> nx.Graph:
    """Two-level hierarchy: complete NVLink graphs inside each node, InfiniBand between GPUs of different nodes.

    Worker ``g`` sits in node ``g // gpus_per_node``; node attribute ``node`` records it.

    Parameters
    ----------
    nodes : int
        Nodes.
    gpus_per_node : int
        Workers per node.
    intra_ms, inter_ms : float, optional
        Edge costs inside a node (default :func:`nvlink_ms`) and across nodes (default :func:`infiniband_ms`).

    Returns
    -------
    networkx.Graph
        Workers 0..n-1 with edge attribute ``cost`` (ms per block).
    """
    nodes, gpn = _count(nodes, "nodes"), _count(gpus_per_node, "gpus_per_node")
    _count(nodes * gpn, "nodes * gpus_per_node", MAX_COMPLETE)
    intra = positive_scalar(nvlink_ms() if intra_ms is None else intra_ms, "intra_ms")
    inter = positive_scalar(infiniband_ms() if inter_ms is None else inter_ms, "inter_ms")
    g = nx.Graph()
    n = nodes * gpn
    for a in range(n):
        g.add_node(a, node=a // gpn)
    for a in range(n):
        for b in range(a + 1, n):
            g.add_edge(a, b, cost=intra if a // gpn == b // gpn else inter)
    return g


#: most workers a topology holds (a complete graph: fewer, its edges grow as n^2)
MAX_WORKERS = 100_000
MAX_COMPLETE = 2_000


def _count(n, name: str, maximum: int = MAX_WORKERS) -> int:
    return integer(n, name, minimum=1, maximum=maximum)


# ---------------------------------------------------------------------------------------------------------
# the game
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CachingGame(CachingModel):
    """The selfish KV caching game (immutable; solving never mutates it). Build with :func:`make_game`.

    A :class:`~gametheory.games.caching.model.CachingModel` (the data, the topology's fetch costs and the
    cost of a profile) with the game protocol on top: :meth:`equilibrium`, :meth:`optimum` and
    :meth:`price_of_anarchy` choose an algorithm by ``method=`` and call the solvers below it.

    Parameters
    ----------
    graph : networkx.Graph
        The topology.
    dist : numpy.ndarray
        (n, n) shortest-path ms, inf across components.
    capacity, access_ms, hold_cost : numpy.ndarray
        (n, T) blocks per tier (inf = uncapacitated), read ms, placement cost per block.
    shared : numpy.ndarray
        (T,) tiers every worker reads without the topology (G4).
    demand : numpy.ndarray
        (n, B) requests per unit time.
    recompute_ms : numpy.ndarray
        (B,) fallback cost per request.
    tier_names, block_names : tuple
        Labels.

    References
    ----------
    .. [1] B.-G. Chun et al., "Selfish caching in distributed systems: a game-theoretic analysis", PODC 2004.
    """

    def equilibrium(self, method: str = "best_response", **kwargs):
        """A pure Nash equilibrium.

        Parameters
        ----------
        method : {"best_response", "enumeration"}
            ``"best_response"`` (default): best-response dynamics with exact (assignment) best responses,
            :func:`~gametheory.games.caching.solvers.best_response_dynamics`. ``"enumeration"``: every
            feasible profile is checked (small instances) and the lowest-cost equilibrium returned.
        **kwargs
            Passed to the solver (``start``, ``max_rounds``, ``order``, ``seed``; ``max_profiles``).

        Returns
        -------
        Result
            ``profile`` (n, B) of tier indices or -1; certificate ``equilibrium_gap``.

        Raises
        ------
        InvalidInputError
            An unknown method or solver option.
        ConvergenceError
            When best-response dynamics does not settle, or the game has no pure equilibrium (enumeration).

        References
        ----------
        .. [1] B.-G. Chun et al., "Selfish caching in distributed systems: a game-theoretic analysis",
           PODC 2004.
        """
        method = choice(method, "method", ("best_response", "enumeration"))
        if method == "best_response":
            return best_response_dynamics(self, **kwargs)
        if method == "enumeration":
            return enumerate_profiles(self, **kwargs).best_equilibrium()
        raise InvalidInputError(f"method must be 'best_response' or 'enumeration', got {method!r}")

    def optimum(self, method: str = "milp", **kwargs):
        """The social optimum.

        Parameters
        ----------
        method : {"milp", "enumeration"}
            ``"milp"`` (default): a capacitated facility-location MILP solved by HiGHS,
            :func:`~gametheory.games.caching.milp.social_optimum_milp`. ``"enumeration"``: brute force.
        **kwargs
            Passed to the solver (``gap_tolerance``, ``time_limit_s``; ``max_profiles``).

        Returns
        -------
        Result
            ``profile``; certificate ``milp_gap`` or ``enumeration_gap``.

        Raises
        ------
        InvalidInputError
            An unknown method, or an instance too large to enumerate.
        ConvergenceError, CertificateError
            When the MILP is not solved to its gap.
        """
        method = choice(method, "method", ("milp", "enumeration"))
        if method == "milp":
            return social_optimum_milp(self, **kwargs)
        if method == "enumeration":
            return social_optimum_bruteforce(self, **kwargs)
        raise InvalidInputError(f"method must be 'milp' or 'enumeration', got {method!r}")

    def price_of_anarchy(self, **kwargs) -> float:
        """Social cost of the worst pure equilibrium / the optimum, by enumeration (small instances).

        Parameters
        ----------
        **kwargs
            Passed to :func:`~gametheory.games.caching.solvers.enumerate_profiles`.

        Returns
        -------
        float
            The ratio (1 when both costs are 0, inf when only the optimum's is).

        Raises
        ------
        InvalidInputError
            When the instance is too large to enumerate.
        ConvergenceError
            When the game has no pure equilibrium.

        References
        ----------
        .. [1] E. Koutsoupias, C. Papadimitriou, "Worst-case equilibria", STACS 1999.
        """
        res = enumerate_profiles(self, **kwargs)
        if not res.equilibrium_costs.size:
            raise ConvergenceError("the caching game has no pure Nash equilibrium: its PoA is undefined")
        return res.poa

    def with_capacity(self, worker: int, tier: int, capacity: float) -> CachingGame:
        """A copy with one capacity changed (e.g. to add a cache).

        Parameters
        ----------
        worker, tier : int
        capacity : float
            Blocks (inf = uncapacitated).

        Returns
        -------
        CachingGame

        Raises
        ------
        InvalidInputError
            A worker or tier index out of range, or a capacity that is not whole blocks >= 0 or inf.
        """
        worker = index(worker, "worker", self.n, what="workers")
        tier = index(tier, "tier", self.n_tiers, what="tiers")
        cap = self.capacity.copy()
        value = finite_array(capacity, "capacity", allow_posinf=True)
        if value.ndim != 0:
            raise InvalidInputError(f"capacity must be one number (blocks, or inf), got shape {value.shape}")
        cap[worker, tier] = value.item()
        return make_game(self.graph, demand=self.demand, recompute_ms=self.recompute_ms, capacity=cap,
                         access_ms=self.access_ms, hold_cost=self.hold_cost, shared=self.shared,
                         tier_names=self.tier_names, block_names=self.block_names)



def make_game(graph: nx.Graph, demand, recompute_ms, *, capacity=None, access_ms=None, hold_cost=None,
              shared=None, tier_names=None, block_names=None) -> CachingGame:
    """Validate the inputs and build a :class:`CachingGame`.

    ``demand``: (n, B) array, or a list of dicts ``{block_name: rate}`` per worker (then ``block_names`` lists
    the known blocks and a demand for an unknown block is an error). ``recompute_ms``: scalar or (B,).
    ``capacity``/``access_ms``/``hold_cost``: (T,) (same for all workers) or (n, T). Defaults: the four tiers
    G1..G4 with :func:`default_tier_access_ms`, hold cost :data:`TIER_HOLD_WEIGHT`, uncapacitated, G4 shared.
    A disconnected topology needs a shared (remote) tier with positive capacity somewhere.

    Parameters
    ----------
    graph : networkx.Graph
        Workers 0..n-1, edge attribute ``cost`` (ms, finite, >= 0).
    demand : array_like or list of dict
    recompute_ms : float or array_like
    capacity, access_ms, hold_cost : array_like, optional
    shared : array_like of bool, optional
    tier_names, block_names : sequence, optional

    Returns
    -------
    CachingGame

    Raises
    ------
    InvalidInputError
        Naming the argument: bad nodes or edge costs, negative or NaN demand, capacities or costs, mismatched
        shapes, an unknown block, fractional capacities, or a disconnected topology without a shared tier.
    """
    if not isinstance(graph, nx.Graph) or graph.number_of_nodes() == 0:
        raise InvalidInputError("graph must be a non-empty networkx Graph of workers")
    nodes = sorted(graph.nodes)
    if nodes != list(range(len(nodes))):
        raise InvalidInputError(f"graph nodes must be the workers 0..n-1, got {nodes[:5]}...")
    n = len(nodes)
    _count(n, "workers (graph nodes)")
    for a, b, data in graph.edges(data=True):
        c = data.get("cost")
        if c is None:
            raise InvalidInputError(f"edge ({a}, {b}) needs a finite nonnegative 'cost' (ms), got None")
        nonnegative_scalar(c, f"cost of edge ({a}, {b})")
    # demand
    if isinstance(demand, (list, tuple)) and demand and isinstance(demand[0], dict):
        if block_names is None:
            raise InvalidInputError("demand given as dicts needs block_names (the known KV blocks)")
        block_names = _names(block_names, "block_names")
        pos = {b: i for i, b in enumerate(block_names)}
        if len(demand) != n:
            raise InvalidInputError(f"demand lists {len(demand)} workers, topology has {n}")
        dm = np.zeros((n, len(block_names)))
        for i, row in enumerate(demand):
            if not isinstance(row, dict):
                raise InvalidInputError(f"demand[{i}] must be a dict {{block_name: rate}}, got {row!r}")
            for b, rate in row.items():
                if not isinstance(b, (str, int)) or b not in pos:
                    raise InvalidInputError(f"worker {i} demands unknown block {b!r}; known: {block_names}")
                dm[i, pos[b]] = nonnegative_scalar(rate, f"demand[{i}][{b!r}]")
        demand = dm
    dm = nonnegative_array(demand, "demand", ndim=2)
    if dm.shape[0] != n:
        raise InvalidInputError(f"demand has {dm.shape[0]} rows, topology has {n} workers")
    nb = dm.shape[1]
    if nb == 0:
        raise InvalidInputError("demand needs at least one block")
    block_names = tuple(range(nb)) if block_names is None else _names(block_names, "block_names")
    if len(block_names) != nb:
        raise InvalidInputError(f"block_names has {len(block_names)} names, demand has {nb} blocks")
    rc = nonnegative_array(recompute_ms, "recompute_ms")
    if rc.ndim > 1 or rc.ndim == 1 and rc.size != nb:
        raise InvalidInputError(f"recompute_ms must be one value or one per block ({nb}), got shape {rc.shape}")
    rc = np.broadcast_to(rc, (nb,)).copy()
    # tiers
    acc = default_tier_access_ms() if access_ms is None else access_ms
    acc = _per_worker(nonnegative_array(acc, "access_ms"), n, "access_ms")
    T = acc.shape[1]
    if hold_cost is None:
        if T != 4:
            raise InvalidInputError("hold_cost is required unless the four default tiers are used")
        hold_cost = np.array([TIER_HOLD_WEIGHT[t] for t in TIER_NAMES])
    hold = _per_worker(nonnegative_array(hold_cost, "hold_cost"), n, "hold_cost")
    cap = np.full((n, T), np.inf) if capacity is None else finite_array(capacity, "capacity", allow_posinf=True)
    if (cap < 0).any():
        i = tuple(int(v) for v in np.argwhere(cap < 0)[0])
        raise InvalidInputError(f"capacity must be >= 0 blocks; entry {i} is {cap[i]!r}")
    cap = _per_worker(cap, n, "capacity")
    if np.any(np.isfinite(cap) & (cap != np.floor(cap))):
        raise InvalidInputError("capacity must be whole blocks (or inf)")
    if hold.shape[1] != T or cap.shape[1] != T:
        raise InvalidInputError(f"access_ms, hold_cost and capacity must list the same {T} tiers")
    if shared is None:
        shared = np.array([name == "G4" for name in (tier_names or TIER_NAMES)[:T]], dtype=bool)
    shared = np.asarray(shared)
    if shared.dtype.kind not in "biu" or (shared.dtype.kind in "iu" and not np.isin(shared, (0, 1)).all()):
        raise InvalidInputError(f"shared must be one True/False flag per tier, got {shared!r}")
    shared = shared.astype(bool)
    if shared.shape != (T,):
        raise InvalidInputError(f"shared must have one flag per tier ({T}), got shape {shared.shape}")
    tier_names = _names(tier_names, "tier_names") if tier_names is not None else (TIER_NAMES if T == 4 else tuple(
        f"T{t}" for t in range(T)))
    if len(tier_names) != T:
        raise InvalidInputError(f"tier_names has {len(tier_names)} names for {T} tiers")
    if not nx.is_connected(graph):
        remote = bool(np.any(shared & (cap > 0).any(axis=0)))
        if not remote:
            comps = [sorted(c) for c in nx.connected_components(graph)]
            raise InvalidInputError(
                f"topology is disconnected ({len(comps)} components, e.g. {comps[0][:4]} and {comps[1][:4]}) "
                "and has no shared remote tier (G4) with capacity to connect them")
    dist = np.full((n, n), np.inf)
    for a, lengths in nx.all_pairs_dijkstra_path_length(graph, weight="cost"):
        for b, d in lengths.items():
            dist[a, b] = d
    for arr in (dist, cap, acc, hold, dm, rc, shared):
        arr.setflags(write=False)
    return CachingGame(graph=graph, dist=dist, capacity=cap, access_ms=acc, hold_cost=hold, shared=shared,
                       demand=dm, recompute_ms=rc, tier_names=tier_names, block_names=block_names)


def chun_game(graph: nx.Graph, alpha: float, demand=1.0, server_ms: float = 1e6, n_blocks: int = 1) -> CachingGame:
    """Chun et al.'s basic game: one uncapacitated tier with placement cost ``alpha`` and access 0.

    ``server_ms`` is the cost of a request when no replica exists (their origin server); large by default.

    Parameters
    ----------
    graph : networkx.Graph
    alpha : float
        Placement cost per object.
    demand : float or array_like
        Per worker (and block).
    server_ms : float
        Cost of a request with no replica.
    n_blocks : int
        Objects.

    Returns
    -------
    CachingGame

    References
    ----------
    .. [1] B.-G. Chun et al., "Selfish caching in distributed systems: a game-theoretic analysis", PODC 2004.

    Raises
    ------
    InvalidInputError
        A graph that is not a networkx Graph, a demand of the wrong shape, a negative alpha.
    """
    instance(graph, nx.Graph, "graph")
    n = _count(graph.number_of_nodes(), "workers (graph nodes)")
    n_blocks = _count(n_blocks, "n_blocks")
    size_limit(n * n_blocks, "n_blocks", what="demands")
    dm = nonnegative_array(demand, "demand")
    if dm.ndim == 1:
        dm = dm.reshape(-1, 1)
    try:
        dm = np.broadcast_to(dm, (n, n_blocks)).copy()
    except ValueError:
        raise InvalidInputError(f"demand must be one rate, one per worker ({n}) or (n, n_blocks) = ({n}, {n_blocks}); "
                                f"got shape {dm.shape}") from None
    return make_game(graph, demand=dm, recompute_ms=server_ms, capacity=[np.inf], access_ms=[0.0],
                     hold_cost=[nonnegative_scalar(alpha, "alpha")], shared=[False], tier_names=("cache",))


def _names(values, name: str) -> tuple:
    """Names (strings or integers), from a sequence."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise InvalidInputError(f"{name} must be a sequence of names, got {values!r}")
    names = tuple(values)
    for i, v in enumerate(names):
        if isinstance(v, bool) or not isinstance(v, (str, int, np.integer)):
            raise InvalidInputError(f"{name}[{i}] must be a string or an integer, got {v!r}")
    return names


def _per_worker(arr: np.ndarray, n: int, name: str) -> np.ndarray:
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (n, arr.shape[0]))
    if arr.ndim != 2 or arr.shape[0] != n:
        raise InvalidInputError(f"{name} must be (T,) or (n={n}, T), got shape {arr.shape}")
    return np.array(arr, dtype=float)
