"""The data model of Game 2, the selfish KV caching game: workers, tiers, demand, and the cost of a profile.

The model generalises the selfish caching game of Chun, Chaudhuri, Wee, Barreno, Papadimitriou and
Kubiatowicz (PODC 2004): every worker (node) chooses which objects (here KV prefix blocks) to hold; holding
costs a placement cost alpha per object, and every request for an object is served by the cheapest copy
(distance on the topology), or by the fallback (recompute = prefill time) when no copy is reachable more
cheaply. The units, fields and cost are described in :mod:`gametheory.games.caching.game`.

This module is the bottom of the package: the solvers (:mod:`~gametheory.games.caching.solvers`,
:mod:`~gametheory.games.caching.milp`) read a :class:`CachingModel` and never import the game object,
and :class:`~gametheory.games.caching.game.CachingGame` (a :class:`CachingModel`) dispatches to them.

References
----------
.. [1] B.-G. Chun, K. Chaudhuri, H. Wee, M. Barreno, C. H. Papadimitriou, J. Kubiatowicz, "Selfish caching in
   distributed systems: a game-theoretic analysis", PODC 2004.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from gametheory._validate import instance, integer_array, size_limit
from gametheory.errors import InvalidInputError

__all__ = ["TIER_NAMES", "CachingModel", "player_costs_batch", "reach_costs"]

#: the tiers of Dynamo's KV Block Manager: G1 HBM, G2 host DRAM, G3 local SSD, G4 networked storage
TIER_NAMES = ("G1", "G2", "G3", "G4")


@dataclass(frozen=True, eq=False)
class CachingModel:
    """The data of the selfish KV caching game and its costs (immutable): what every solver reads.

    :class:`~gametheory.games.caching.game.CachingGame` is this model with the game protocol on top
    (``equilibrium``, ``optimum``, ``price_of_anarchy``); build one with
    :func:`~gametheory.games.caching.game.make_game`, which validates the inputs.

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

    graph: nx.Graph
    dist: np.ndarray          # (n, n) shortest-path ms, inf across components
    capacity: np.ndarray      # (n, T) blocks, inf = uncapacitated
    access_ms: np.ndarray     # (n, T)
    hold_cost: np.ndarray     # (n, T)
    shared: np.ndarray        # (T,) bool: tier reachable by every worker without the topology (G4)
    demand: np.ndarray        # (n, B)
    recompute_ms: np.ndarray  # (B,)
    tier_names: tuple = field(default=TIER_NAMES)
    block_names: tuple = ()

    @property
    def n(self) -> int:
        """Workers."""
        return self.demand.shape[0]

    @property
    def n_blocks(self) -> int:
        """Blocks."""
        return self.demand.shape[1]

    @property
    def n_tiers(self) -> int:
        """Tiers."""
        return self.capacity.shape[1]

    @property
    def fetch(self) -> np.ndarray:
        """``fetch[j, k, t]``: cost (ms) for worker j to read one block from worker k's tier t."""
        d = np.where(self.shared[None, None, :], 0.0, self.dist[:, :, None])
        return d + self.access_ms[None, :, :]

    @property
    def uncapacitated(self) -> bool:
        """True when no capacity can bind (each tier is absent or holds every block)."""
        return bool(np.all((self.capacity == 0) | (self.capacity >= self.n_blocks)))

    # costs ------------------------------------------------------------------------------------------
    def check_profile(self, s) -> np.ndarray:
        """Validate a strategy profile ``s`` (n, B) of tier indices or -1; return it as an int array.

        Parameters
        ----------
        s : array_like
            (n, B) tier index per block or -1.

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        InvalidInputError
            A wrong shape, an unknown tier, or a tier over its capacity.
        """
        s = integer_array(s, "profile")
        if s.shape != (self.n, self.n_blocks):
            raise InvalidInputError(f"profile must have shape {(self.n, self.n_blocks)}, got {s.shape}")
        if np.any((s < -1) | (s >= self.n_tiers)):
            raise InvalidInputError(f"profile entries must be -1 or a tier in 0..{self.n_tiers - 1}")
        s = s.astype(int)
        for t in range(self.n_tiers):
            used = (s == t).sum(axis=1)
            over = np.nonzero(used > self.capacity[:, t])[0]
            if over.size:
                i = int(over[0])
                raise InvalidInputError(
                    f"profile holds {int(used[i])} blocks in tier {self.tier_names[t]} of worker {i}, "
                    f"capacity {self.capacity[i, t]:g}")
        return s

    def player_costs(self, s) -> np.ndarray:
        """Cost of every worker under profile ``s`` (ms-equivalent per unit time).

        Parameters
        ----------
        s : array_like
            A feasible profile (n, B).

        Returns
        -------
        numpy.ndarray
            (n,) costs.
        """
        s = self.check_profile(s)
        return player_costs_batch(self, s[None])[0]

    def social_cost(self, s) -> float:
        """Sum of the workers' costs.

        Parameters
        ----------
        s : array_like
            A feasible profile (n, B).

        Returns
        -------
        float
        """
        return float(self.player_costs(s).sum())


def player_costs_batch(game: CachingModel, profiles: np.ndarray) -> np.ndarray:
    """Costs (K, n) of a batch of profiles (K, n, B); profiles are assumed feasible.

    Parameters
    ----------
    game : CachingModel
    profiles : numpy.ndarray
        (K, n, B) feasible profiles.

    Returns
    -------
    numpy.ndarray
        (K, n) costs.
    """
    profiles = _profiles(game, profiles)
    c_other, own = reach_costs(game, profiles)
    held = profiles >= 0
    hold = np.where(held, game.hold_cost[np.arange(game.n)[None, :, None], np.maximum(profiles, 0)], 0.0)
    return (hold + game.demand[None] * np.minimum(c_other, own)).sum(axis=2)


def reach_costs(game: CachingModel, profiles: np.ndarray):
    """For a batch of profiles, each worker's cost of serving each block without and with its own copy.

    Parameters
    ----------
    game : CachingModel
        The game.
    profiles : numpy.ndarray
        (K, n, B) feasible profiles.

    Returns
    -------
    c_other, own : numpy.ndarray
        (K, n, B): the cheapest way for worker j to serve block b without its own copy (another worker's
        copy or recompute), and its own copy's cost (inf when it holds none).
    """
    profiles = _profiles(game, profiles)
    fetch = game.fetch  # (n, n, T)
    n = game.n
    held = profiles >= 0                                         # (K, k, b)
    idx = np.maximum(profiles, 0)                                # (K, k, b)
    # copy_cost[K, j, k, b] = fetch[j, k, profiles[K, k, b]]
    copy_cost = fetch[np.arange(n)[None, :, None, None], np.arange(n)[None, None, :, None], idx[:, None, :, :]]
    copy_cost = np.where(held[:, None, :, :], copy_cost, np.inf)
    diag = np.arange(n)
    own = copy_cost[:, diag, diag, :]                             # (K, j, b)
    copy_cost[:, diag, diag, :] = np.inf
    c_other = np.minimum(copy_cost.min(axis=2), game.recompute_ms[None, None, :])
    return c_other, own


def _profiles(game, profiles) -> np.ndarray:
    """A batch (K, n, B) of tier indices or -1 for ``game``."""
    instance(game, CachingModel, "game", what="CachingGame")
    p = integer_array(profiles, "profiles", ndim=3, minimum=-1, maximum=game.n_tiers - 1)
    if p.shape[1:] != (game.n, game.n_blocks):
        raise InvalidInputError(f"profiles must have shape (K, {game.n}, {game.n_blocks}), got {p.shape}")
    size_limit(p.shape[0] * game.n * game.n * game.n_blocks, "profiles", what="fetch costs")
    return p
