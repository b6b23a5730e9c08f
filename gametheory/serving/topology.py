"""Disaggregated serving as a network congestion game: router -> prefill workers -> KV links -> decode.

Each request (one origin-destination pair ``router -> done``, rate in requests/s) picks a prefill worker,
a KV-transfer link and a decode worker; its latency (ms) is the sum of the three edge latencies, so the
layout question "how many prefill (P) and decode (D) workers, which KV links" becomes a
:class:`~gametheory.games.network.NetworkGame` with a user equilibrium (what selfish/greedy routing
reaches), a system optimum and their ratio (PoA). Edge curves come from a measured profile
(:func:`gametheory.serving.profiles.load_profile`):

- prefill worker ``router -> P_i``: M/M/1 sojourn time (ms) with service rate ``1000 / prefill_ms(isl)``
  requests/s (one prompt of ``isl`` tokens per pass; the conservative, unbatched model);
- KV link ``P_i -> D_j``: M/M/1 (processor-sharing) sojourn time with service rate
  ``1000 / kv_transfer_ms(isl, bandwidth)`` requests/s (bandwidth per link, GB/s);
- decode worker ``D_j -> done``: ``osl`` steps at the measured step latency of the batch ``B`` that the
  load sustains (Little's law ``B = x * T(B)``, ``T(B) = osl * step_ms(B, isl + osl / 2) / 1000`` s,
  a PCHIP :class:`~gametheory.latency.Tabulated` curve in x), plus an M/M/1 wait ``1000 / (x_max - x)`` ms
  for a batch slot, where ``x_max`` is the rate at the largest batch whose KV cache fits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np

from gametheory._validate import instance, integer, positive_scalar
from gametheory.errors import CapacityExceededError, InvalidInputError
from gametheory.games.network import NetworkGame
from gametheory.latency import MM1, CurveClass, LatencyCurve, Scaled, Tabulated

__all__ = ["DecodeCurve", "LayoutRow", "decode_curve", "layout_sweep", "serving_topology"]

ROUTER, DONE = "router", "done"


@dataclass(frozen=True)
class DecodeCurve(LatencyCurve):
    """Decode sojourn (ms) against request rate (requests/s): batch fixed point plus a slot-wait pole."""

    service: Tabulated
    wait: Scaled

    @property
    def capacity(self) -> float:  # type: ignore[override]
        return self.wait.capacity

    @property
    def curve_class(self) -> CurveClass:
        return CurveClass("general", capacity=self.capacity)

    def _value(self, x):
        return self.service._value(x) + self.wait._value(x)

    def _derivative(self, x):
        return self.service._derivative(x) + self.wait._derivative(x)

    def _integral(self, x):
        return self.service._integral(x) + self.wait._integral(x)


def _profile(profile):
    """A measured profile (:func:`gametheory.serving.profiles.load_profile`), checked."""
    from gametheory.serving.profiles import Profile

    return instance(profile, Profile, "profile", what="Profile (gametheory.serving.profiles.load_profile)")


def decode_curve(profile, isl: int, osl: int) -> DecodeCurve:
    """The decode-worker curve of the module docstring for ``isl`` prompt and ``osl`` output tokens."""
    _profile(profile)
    isl = integer(isl, "isl (input tokens)", minimum=1, maximum=10_000_000)
    osl = integer(osl, "osl (output tokens)", minimum=1, maximum=10_000_000)
    context = isl + osl / 2.0
    bmax = int(profile.max_decode_batch(context))
    if bmax < 1:
        raise InvalidInputError(f"{profile.name}: no decode batch fits at context {context:g} tokens")
    grid = np.unique(np.concatenate([profile.decode_batch[profile.decode_batch <= bmax], [bmax]]))
    t_ms = osl * np.asarray(profile.decode_step_ms(grid, context), dtype=float)
    rate = 1000.0 * grid / t_ms
    keep = [0]  # drop points where throughput does not grow or time falls (measurement artifacts)
    for i in range(1, grid.size):
        if rate[i] > rate[keep[-1]] and t_ms[i] >= t_ms[keep[-1]]:
            keep.append(i)
    if len(keep) < 2:
        raise InvalidInputError(f"{profile.name}: decode throughput does not grow with batch at {context:g}")
    x, y = np.concatenate([[0.0], rate[keep]]), np.concatenate([[t_ms[keep[0]]], t_ms[keep]])
    x_max = float(rate[keep[-1]])
    return DecodeCurve(Tabulated(x, y), Scaled(MM1(x_max), 1000.0))


def serving_topology(profile, n_prefill: int, n_decode: int, rate: float, *, isl: int = 2048, osl: int = 256,
                     kv_bandwidth_gb_per_s=50.0, kv_links=None) -> NetworkGame:
    """A 1-origin network game for ``n_prefill`` P and ``n_decode`` D workers at ``rate`` requests/s.

    ``kv_bandwidth_gb_per_s``: one bandwidth for every KV link or ``{(i, j): GB/s}`` per link;
    ``kv_links``: the (i, j) pairs that exist (default: all). Nodes: ``"router"``, ``("P", i)``,
    ``("D", j)``, ``"done"``; edge latencies in ms.
    """
    for n, name in ((n_prefill, "n_prefill"), (n_decode, "n_decode")):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise InvalidInputError(f"{name} must be an integer >= 1, got {n!r}")
    rate = positive_scalar(rate, "rate")
    links = list(kv_links) if kv_links is not None else [(i, j) for i in range(n_prefill) for j in range(n_decode)]
    g = nx.DiGraph()
    mu_p = 1000.0 / float(profile.prefill_ms(isl))
    for i in range(n_prefill):
        g.add_edge(ROUTER, ("P", i), latency=Scaled(MM1(mu_p), 1000.0))
    dec = decode_curve(profile, isl, osl)
    for j in range(n_decode):
        g.add_edge(("D", j), DONE, latency=dec)
    for i, j in links:
        if not (0 <= i < n_prefill and 0 <= j < n_decode):
            raise InvalidInputError(f"kv_links: ({i}, {j}) outside {n_prefill} P x {n_decode} D workers")
        bw = kv_bandwidth_gb_per_s[(i, j)] if isinstance(kv_bandwidth_gb_per_s, dict) else kv_bandwidth_gb_per_s
        bw = positive_scalar(bw, f"kv_bandwidth_gb_per_s[{i}, {j}]")
        g.add_edge(("P", i), ("D", j), latency=Scaled(MM1(1000.0 / float(profile.kv_transfer_ms(isl, bw))), 1000.0))
    for i in range(n_prefill):
        if not g.has_node(("P", i)) or g.out_degree(("P", i)) == 0:
            raise InvalidInputError(f"prefill worker {i} has no KV link")
    return NetworkGame(g, {(ROUTER, DONE): rate})


@dataclass(frozen=True)
class LayoutRow:
    """One P x D layout at one rate: mean latency (ms) at equilibrium and optimum, PoA; None if overloaded."""

    n_prefill: int
    n_decode: int
    rate: float
    equilibrium_ms: float | None
    optimum_ms: float | None

    @property
    def poa(self) -> float:
        if self.equilibrium_ms is None or self.optimum_ms is None:
            return math.nan
        return self.equilibrium_ms / self.optimum_ms


def layout_sweep(profile, total_workers: int, rate: float, *, rgap: float = 1e-9, **kwargs) -> list[LayoutRow]:
    """Every split P + D = ``total_workers`` at ``rate`` requests/s (kwargs go to :func:`serving_topology`)."""
    _profile(profile)
    total_workers = integer(total_workers, "total_workers", minimum=2, maximum=10_000)
    rate = positive_scalar(rate, "rate")
    rgap = positive_scalar(rgap, "rgap")
    rows = []
    for p in range(1, total_workers):
        game = serving_topology(profile, p, total_workers - p, rate, **kwargs)
        try:
            eq, opt = game.equilibrium(rgap=rgap), game.optimum(rgap=rgap)
            rows.append(LayoutRow(p, total_workers - p, rate, eq.cost / rate, opt.cost / rate))
        except CapacityExceededError:
            rows.append(LayoutRow(p, total_workers - p, rate, None, None))
    return rows
