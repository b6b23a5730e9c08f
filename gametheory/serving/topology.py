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

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, section 4
   (the serving system as coupled games; the P/D layout as Game 1).
.. [2] J. G. Wardrop, "Some theoretical aspects of road traffic research", Proc. Inst. Civil Engineers 1, 1952
   (user equilibrium); M. Beckmann, C. B. McGuire, C. B. Winsten, *Studies in the Economics of
   Transportation*, 1956 (system optimum on marginal costs).
.. [3] L. Kleinrock, *Queueing Systems, Vol. 1: Theory*, Wiley, 1975 (M/M/1 and processor-sharing sojourn
   time ``1 / (mu - x)``); J. D. C. Little, "A proof for the queuing formula L = lambda W", Oper. Res. 9, 1961.
.. [4] F. N. Fritsch, R. E. Carlson, "Monotone piecewise cubic interpolation", SIAM J. Numer. Anal. 17, 1980
   (the PCHIP decode-service curve).
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
    """Decode sojourn (ms) against request rate (requests/s): batch fixed point plus a slot-wait pole.

    Built by :func:`decode_curve`; its value at rate x is ``service(x) + wait(x)``, and so are its derivative
    and integral (the Beckmann potential the network solvers use).

    Parameters
    ----------
    service : Tabulated
        Decode time of one request (ms) at rate x (requests/s): ``osl`` steps at the Little's-law batch,
        PCHIP through the measured batch grid.
    wait : Scaled
        Wait for a batch slot (ms): ``1000 / (x_max - x)``, an M/M/1 pole at the rate ``x_max`` of the
        largest batch whose KV cache fits.
    """

    service: Tabulated
    wait: Scaled

    @property
    def capacity(self) -> float:  # type: ignore[override]
        """Largest sustainable rate (requests/s): the slot-wait pole ``x_max``."""
        return self.wait.capacity

    @property
    def curve_class(self) -> CurveClass:
        """``"general"`` with the pole's capacity (the sum is neither affine nor polynomial)."""
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
    """The decode-worker curve of the module docstring for ``isl`` prompt and ``osl`` output tokens.

    Parameters
    ----------
    profile : Profile
        Measured step latencies (:func:`gametheory.serving.profiles.load_profile`).
    isl : int
        Prompt length (tokens, >= 1).
    osl : int
        Output length (tokens, >= 1); decode steps run at context ``isl + osl / 2``.

    Returns
    -------
    DecodeCurve
        Decode sojourn (ms) against the worker's request rate (requests/s), with capacity ``x_max``.

    Raises
    ------
    InvalidInputError
        ``profile`` is not a Profile; ``isl`` or ``osl`` is not an integer >= 1; no decode batch fits in the
        KV cache at that context; or throughput does not grow with the batch (fewer than two usable points).
    """
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

    Nodes: ``"router"``, ``("P", i)``, ``("D", j)``, ``"done"``; edge latencies (ms) as in the module
    docstring.

    Parameters
    ----------
    profile : Profile
        Measured step latencies (:func:`gametheory.serving.profiles.load_profile`).
    n_prefill, n_decode : int
        Prefill and decode workers (>= 1 each).
    rate : float
        Demand from ``"router"`` to ``"done"`` (requests/s, > 0).
    isl, osl : int, optional
        Prompt and output length (tokens); defaults 2048 and 256.
    kv_bandwidth_gb_per_s : float or dict, optional
        One bandwidth (GB/s) for every KV link, or ``{(i, j): GB/s}`` per link; default 50.
    kv_links : iterable of (int, int), optional
        The (prefill i, decode j) pairs that have a KV link; default all pairs.

    Returns
    -------
    NetworkGame
        The game on a :class:`networkx.DiGraph` with one origin-destination pair ``("router", "done")``.

    Raises
    ------
    InvalidInputError
        A worker count that is not an integer >= 1, a rate or bandwidth that is not positive and finite, a KV
        link outside the P x D grid, a prefill worker without a KV link, a ``profile`` that is not a Profile, or
        a bad ``isl`` or ``osl`` (see :func:`decode_curve`).
    """
    _profile(profile)
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
    """One P x D layout at one rate: mean latency (ms) at equilibrium and optimum, PoA; None if overloaded.

    Parameters
    ----------
    n_prefill, n_decode : int
        The layout (workers).
    rate : float
        Demand (requests/s).
    equilibrium_ms, optimum_ms : float or None
        Mean latency per request (ms) at the user equilibrium and at the system optimum; None when the layout
        cannot carry ``rate`` (capacity exceeded).
    """

    n_prefill: int
    n_decode: int
    rate: float
    equilibrium_ms: float | None
    optimum_ms: float | None

    @property
    def poa(self) -> float:
        """Price of anarchy ``equilibrium_ms / optimum_ms`` (NaN for an overloaded layout)."""
        if self.equilibrium_ms is None or self.optimum_ms is None:
            return math.nan
        return self.equilibrium_ms / self.optimum_ms


def layout_sweep(profile, total_workers: int, rate: float, *, rgap: float = 1e-9, **kwargs) -> list[LayoutRow]:
    """Every split P + D = ``total_workers`` at ``rate`` requests/s: equilibrium, optimum and PoA per layout.

    Parameters
    ----------
    profile : Profile
        Measured step latencies (:func:`gametheory.serving.profiles.load_profile`).
    total_workers : int
        P + D (>= 2); layouts P = 1 .. total_workers - 1.
    rate : float
        Demand (requests/s, > 0).
    rgap : float, optional
        Relative gap at which the network solvers stop (default 1e-9).
    **kwargs
        Passed to :func:`serving_topology` (``isl``, ``osl``, ``kv_bandwidth_gb_per_s``, ``kv_links``).

    Returns
    -------
    list of LayoutRow
        One row per split, in order of P; latencies None where the layout's capacity is below ``rate``.

    Raises
    ------
    InvalidInputError
        A bad ``profile``, ``total_workers``, ``rate`` or ``rgap``, or bad ``kwargs`` (see
        :func:`serving_topology`).
    """
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
