"""The KVBM eviction rule as a caching policy, simulated on a request trace (Dynamo KV Block Manager).

Rule as modelled here (per worker, per block; see /work/shared/dynamo.md and docs/caching.md):
* a block's frequency count starts at 1 on its first access (the block enters the lower tier, G2);
* each hit doubles the count; counts decay over time (halved every ``decay_interval`` time units);
* a block with count >= ``promote_at`` (2) is promoted to the upper tier (G1);
* when a tier is full the block with the lowest count is evicted (G1 -> demoted to G2, G2 -> dropped).

Each worker runs the rule on its own requests only; it ignores copies held by other workers. The placement
it ends with is a profile of the caching game, so its social cost can be compared with the equilibrium and
the optimum (:func:`compare_with_game`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.games.caching import CachingGame


@dataclass(frozen=True)
class KVBMPolicy:
    """Parameters of the frequency rule: promotion threshold, decay half-life (time units), tiers used."""

    promote_at: float = 2.0
    decay_interval: float = 100.0
    upper_tier: int = 0   # G1
    lower_tier: int = 1   # G2


def synthetic_trace(n_workers: int, n_blocks: int, n_requests: int, *, zipf_s: float = 1.1, seed: int = 0):
    """A seeded request trace: (times, workers, blocks); block popularity Zipf(s), worker-specific ranking."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, n_blocks + 1, dtype=float) ** -zipf_s
    p = ranks / ranks.sum()
    workers = rng.integers(0, n_workers, n_requests)
    perm = np.array([rng.permutation(n_blocks) for _ in range(n_workers)])
    blocks = perm[workers, rng.choice(n_blocks, n_requests, p=p)]
    times = np.sort(rng.uniform(0, n_requests, n_requests))
    return times, workers, blocks


def simulate(game: CachingGame, trace, policy: KVBMPolicy = KVBMPolicy()) -> np.ndarray:
    """Run the KVBM rule on ``trace = (times, workers, blocks)``; return the final placement profile (n, B)."""
    times, workers, blocks = (np.asarray(a) for a in trace)
    if not (len(times) == len(workers) == len(blocks)):
        raise InvalidInputError("trace arrays must have equal length")
    if len(times) and (workers.min() < 0 or workers.max() >= game.n):
        raise InvalidInputError(f"trace names a worker outside 0..{game.n - 1}")
    if len(times) and (blocks.min() < 0 or blocks.max() >= game.n_blocks):
        raise InvalidInputError(f"trace requests a block outside 0..{game.n_blocks - 1} (unknown block)")
    if np.any(np.diff(times) < 0):
        raise InvalidInputError("trace times must be nondecreasing")
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
    """Empirical demand (requests per unit time) of every worker for every block."""
    times, workers, blocks = (np.asarray(a) for a in trace)
    d = np.zeros((n_workers, n_blocks))
    np.add.at(d, (workers, blocks), 1.0)
    span = float(times.max() - times.min()) if len(times) > 1 else 1.0
    return d / max(span, 1e-12)


@dataclass
class KVBMComparison:
    """Social cost of the KVBM placement against an equilibrium and the optimum."""

    kvbm_profile: np.ndarray
    kvbm_cost: float
    equilibrium_cost: float
    optimum_cost: float
    kvbm_ratio: float          # kvbm / optimum
    equilibrium_ratio: float   # equilibrium / optimum
    kvbm_regret: float         # equilibrium gap of the KVBM placement (0 = it is itself an equilibrium)


def compare_with_game(game: CachingGame, trace, policy: KVBMPolicy = KVBMPolicy()) -> KVBMComparison:
    """Simulate KVBM, then evaluate its final placement in ``game`` next to BR dynamics and the MILP optimum."""
    from gametheory.games.caching_milp import social_optimum_milp
    from gametheory.games.caching_solvers import best_response_dynamics, equilibrium_gap

    s = simulate(game, trace, policy)
    cost = game.social_cost(s)
    eq = best_response_dynamics(game)
    opt = social_optimum_milp(game)
    return KVBMComparison(s, cost, eq.cost, opt.cost, cost / opt.cost, eq.cost / opt.cost,
                          equilibrium_gap(game, s)[0])
