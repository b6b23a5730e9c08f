"""The KVBM eviction rule as a caching policy, simulated on a request trace (Dynamo KV Block Manager).

Rule as modelled here (per worker, per block; docs/caching.md):
* a block's frequency count starts at 1 on its first access (the block enters the lower tier, G2);
* each hit doubles the count; counts decay over time (halved every ``decay_interval`` time units);
* a block with count >= ``promote_at`` (2) is promoted to the upper tier (G1);
* when a tier is full the block with the lowest count is evicted (G1 -> demoted to G2, G2 -> dropped).

Each worker runs the rule on its own requests only; it ignores copies held by other workers. The placement
it ends with is a profile of the caching game, so its social cost can be compared with the equilibrium and
the optimum (:func:`compare_with_game`).

References
----------
.. [1] NVIDIA Dynamo documentation, "KV Block Manager" (tiers G1-G4, frequency-based eviction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gametheory._validate import finite_array, finite_scalar, instance, random_seed, size_limit
from gametheory.display import Readable
from gametheory.errors import InvalidInputError
from gametheory.games.caching.game import CachingGame
from gametheory.games.caching.solvers import equilibrium_gap, ratio

__all__ = ["KVBMComparison", "KVBMPolicy", "compare_with_game", "demand_from_trace", "simulate", "synthetic_trace"]


@dataclass(frozen=True)
class KVBMPolicy:
    """Parameters of the frequency rule: promotion threshold, decay half-life (time units), tiers used.

    ``promote_at`` must be finite and >= 1 (a new block's count is 1); ``decay_interval`` > 0 (``inf`` = no
    decay); ``upper_tier`` and ``lower_tier`` are two different tier indices of the game (checked against
    the game in :func:`simulate`). Bad values raise InvalidInputError naming the field.

    Parameters
    ----------
    promote_at : float
        Count at which a block is promoted.
    decay_interval : float
        Half-life of the counts (time units; inf = no decay).
    upper_tier, lower_tier : int
        The tiers the rule moves blocks between.

    Raises
    ------
    InvalidInputError
        Naming the field.

    References
    ----------
    .. [1] NVIDIA Dynamo documentation, "KV Block Manager" (frequency-based eviction and promotion).
    """

    promote_at: float = 2.0
    decay_interval: float = 100.0
    upper_tier: int = 0   # G1
    lower_tier: int = 1   # G2

    def __post_init__(self):
        p = finite_scalar(self.promote_at, "promote_at")
        if p < 1:
            raise InvalidInputError(f"promote_at must be >= 1 (a block's count starts at 1), got {self.promote_at!r}")
        try:
            d = float(self.decay_interval)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"decay_interval must be a number, got {self.decay_interval!r}") from exc
        if not d > 0:   # also rejects NaN
            raise InvalidInputError(
                f"decay_interval must be > 0 time units (inf = no decay), got {self.decay_interval!r}")
        for name in ("upper_tier", "lower_tier"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise InvalidInputError(f"{name} must be a tier index (an integer >= 0), got {v!r}")
        if self.upper_tier == self.lower_tier:
            raise InvalidInputError(f"upper_tier and lower_tier must differ, both are {self.upper_tier!r}")


def synthetic_trace(n_workers: int, n_blocks: int, n_requests: int, *, zipf_s: float = 1.1, seed: int = 0):
    """A seeded request trace: (times, workers, blocks); block popularity Zipf(s), worker-specific ranking.

    Parameters
    ----------
    n_workers : int
        Workers (ids 0..n_workers-1).
    n_blocks : int
        Distinct blocks (ids 0..n_blocks-1).
    n_requests : int
        Requests in the trace.
    zipf_s : float
        Zipf exponent of block popularity.
    seed : int
        Seed of the random generator.

    Returns
    -------
    tuple of numpy.ndarray
        ``(times, workers, blocks)``, each of shape (n_requests,): sorted arrival times (uniform on
        [0, n_requests) time units), the requesting worker's id, the requested block's id.
    """
    n_workers, n_blocks = _count(n_workers, "n_workers"), _count(n_blocks, "n_blocks")
    n_requests = _count(n_requests, "n_requests")
    zipf_s = finite_scalar(zipf_s, "zipf_s")
    size_limit(n_workers * n_blocks + 3 * n_requests, "synthetic_trace sizes", limit=2**27,
               what="entries (n_workers * n_blocks + 3 n_requests)")
    rng = np.random.default_rng(random_seed(seed))
    ranks = np.arange(1, n_blocks + 1, dtype=float) ** -zipf_s
    p = ranks / ranks.sum()
    workers = rng.integers(0, n_workers, n_requests)
    perm = np.array([rng.permutation(n_blocks) for _ in range(n_workers)])
    blocks = perm[workers, rng.choice(n_blocks, n_requests, p=p)]
    times = np.sort(rng.uniform(0, n_requests, n_requests))
    return times, workers, blocks


def _check_trace(trace, n_workers: int, n_blocks: int):
    """Validate ``trace = (times, workers, blocks)``: equal lengths, finite nondecreasing times, known ids."""
    try:
        times, workers, blocks = trace
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("trace must be a tuple (times, workers, blocks) of equal-length arrays") from exc
    times = finite_array(times, "trace times", ndim=1)
    ids = []
    for arr, name, hi in ((workers, "worker", n_workers), (blocks, "block", n_blocks)):
        a = finite_array(arr, f"trace {name} ids", ndim=1)
        whole = a == np.floor(a)
        if not whole.all():
            k = int(np.argmin(whole))
            raise InvalidInputError(f"trace {name} ids must be whole numbers; entry {k} is {a[k]:g}")
        out = (a < 0) | (a >= hi)
        if out.any():
            k = int(np.argmax(out))
            extra = " (unknown block)" if name == "block" else ""
            raise InvalidInputError(
                f"trace {name} id {a[k]:g} at entry {k} is outside 0..{hi - 1}{extra}")
        ids.append(a.astype(int))
    workers, blocks = ids
    if not (len(times) == len(workers) == len(blocks)):
        raise InvalidInputError(f"trace arrays must have equal length, got times {len(times)}, workers "
                                f"{len(workers)}, blocks {len(blocks)}")
    if len(times) == 0:
        raise InvalidInputError("trace is empty: it needs at least one request")
    if np.any(np.diff(times) < 0):
        raise InvalidInputError("trace times must be nondecreasing")
    return times, workers, blocks


def simulate(game: CachingGame, trace, policy: KVBMPolicy = KVBMPolicy()) -> np.ndarray:
    """Run the KVBM rule on ``trace = (times, workers, blocks)``; return the final placement profile (n, B).


    The game needs at least two tiers (the policy's upper and lower tier). Raises InvalidInputError on an
    empty trace, a worker or block id outside the game, non-integer ids, or unsorted/non-finite times.

    Parameters
    ----------
    game : CachingGame
        The game whose workers, tiers and capacities the KVBM rule runs on.
    trace : tuple of array_like
        ``(times, workers, blocks)`` of equal length: nondecreasing finite arrival times, worker ids and block
        ids (whole numbers), as made by :func:`synthetic_trace`.
    policy : KVBMPolicy
        Promotion threshold, decay interval and the upper and lower tiers.

    Returns
    -------
    numpy.ndarray of int
        The final placement profile, shape (n_workers, n_blocks): tier index of each block at each worker,
        -1 where not held.

    Raises
    ------
    InvalidInputError
        When an argument is malformed; the message names it and its value.
    """
    instance(game, CachingGame, "game")
    if not isinstance(policy, KVBMPolicy):
        raise InvalidInputError(f"policy must be a KVBMPolicy, got {type(policy).__name__}")
    if game.n_tiers < 2:
        raise InvalidInputError(f"the KVBM rule needs a game with at least 2 tiers (upper and lower), "
                                f"this game has {game.n_tiers}")
    for name in ("upper_tier", "lower_tier"):
        if getattr(policy, name) >= game.n_tiers:
            raise InvalidInputError(f"policy {name}={getattr(policy, name)} is not a tier of the game "
                                    f"(0..{game.n_tiers - 1})")
    times, workers, blocks = _check_trace(trace, game.n, game.n_blocks)
    up, lo = policy.upper_tier, policy.lower_tier
    cap_up = game.capacity[:, up]
    cap_lo = game.capacity[:, lo]
    count = np.zeros((game.n, game.n_blocks))
    last = np.zeros(game.n)
    s = np.full((game.n, game.n_blocks), -1, dtype=int)
    for t, w, b in zip(times, workers, blocks, strict=True):
        count[w] *= 0.5 ** ((t - last[w]) / policy.decay_interval)      # decay
        last[w] = t
        if s[w, b] >= 0:
            count[w, b] *= 2.0                                           # hit
        else:
            count[w, b] = 1.0                                            # miss: enters the lower tier
            _insert(s[w], count[w], b, lo, cap_lo[w])
        if s[w, b] == lo and count[w, b] >= policy.promote_at and cap_up[w] >= 1:
            s[w, b] = -1
            demoted = _insert(s[w], count[w], b, up, cap_up[w])
            if demoted is not None:
                _insert(s[w], count[w], demoted, lo, cap_lo[w])
    return s


def _insert(row: np.ndarray, count: np.ndarray, b: int, tier: int, cap: float):
    """Put block b in ``tier`` of one worker, evicting the lowest-count block when full; return the evicted."""
    if cap < 1:
        return None
    members = np.nonzero(row == tier)[0]
    evicted = None
    if len(members) >= cap:
        evicted = int(members[np.argmin(count[members])])
        row[evicted] = -1
    row[b] = tier
    return evicted


def demand_from_trace(n_workers: int, n_blocks: int, trace) -> np.ndarray:
    """Empirical demand (requests per unit time) of every worker for every block.

    The rate is the count over the trace's time span (span 1 when all requests share one time).

    Parameters
    ----------
    n_workers : int
        Workers of the game (rows of the result).
    n_blocks : int
        Blocks of the game (columns of the result).
    trace : tuple of array_like
        ``(times, workers, blocks)`` of equal length: nondecreasing finite arrival times, worker ids and block
        ids (whole numbers), as made by :func:`synthetic_trace`.

    Returns
    -------
    numpy.ndarray of float
        Requests per unit time of each (worker, block), shape (n_workers, n_blocks).
    """
    n_workers, n_blocks = _count(n_workers, "n_workers"), _count(n_blocks, "n_blocks")
    times, workers, blocks = _check_trace(trace, n_workers, n_blocks)
    d = np.zeros((n_workers, n_blocks))
    np.add.at(d, (workers, blocks), 1.0)
    span = float(times[-1] - times[0])
    return d / (span if span > 0 else 1.0)


def _count(v, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


@dataclass(repr=False)
class KVBMComparison(Readable):
    """Social cost of the KVBM placement against an equilibrium and the optimum.

    Parameters
    ----------
    kvbm_profile : numpy.ndarray
        The KVBM placement.
    kvbm_cost, equilibrium_cost, optimum_cost : float
        Social costs.
    kvbm_ratio, equilibrium_ratio : float
        Over the optimum.
    kvbm_regret : float
        Equilibrium gap of the KVBM placement.
    """

    kvbm_profile: np.ndarray
    kvbm_cost: float
    equilibrium_cost: float
    optimum_cost: float
    kvbm_ratio: float          # kvbm / optimum
    equilibrium_ratio: float   # equilibrium / optimum
    kvbm_regret: float         # equilibrium gap of the KVBM placement (0 = it is itself an equilibrium)


def compare_with_game(game: CachingGame, trace, policy: KVBMPolicy = KVBMPolicy()) -> KVBMComparison:
    """Simulate KVBM, then evaluate its final placement in ``game`` next to BR dynamics and the MILP optimum.

    Parameters
    ----------
    game : CachingGame
        The game in which the placements are costed.
    trace : tuple of array_like
        ``(times, workers, blocks)`` of equal length: nondecreasing finite arrival times, worker ids and block
        ids (whole numbers), as made by :func:`synthetic_trace`.
    policy : KVBMPolicy
        The KVBM rule's parameters (see :func:`simulate`).

    Returns
    -------
    KVBMComparison
        KVBM, equilibrium and optimum social costs, their ratios and the KVBM placement's regret.
    """
    s = simulate(game, trace, policy)
    cost = game.social_cost(s)
    eq = game.equilibrium()
    opt = game.optimum()
    return KVBMComparison(s, cost, eq.cost, opt.cost, ratio(cost, opt.cost), ratio(eq.cost, opt.cost),
                          equilibrium_gap(game, s)[0])
