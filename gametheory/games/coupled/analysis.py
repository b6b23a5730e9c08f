"""The coupled system's experiments on a measured profile: PoA across load, the Planner on a load step, the
Planner's orbits by load regime (what ``gametheory reproduce`` prints in its coupled section).

Every function takes a loaded profile (:func:`gametheory.serving.profiles.load_profile`) and builds the
paper's workload on it (:func:`paper_system`: :mod:`gametheory.paper_setup`'s templates, input, shared prefix
and output tokens); loads are fractions of the capacity of one prefill worker with every template cached
(:func:`capacity_one_prefill`) unless said otherwise.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 4.4.
"""

from __future__ import annotations

import math

import numpy as np

from gametheory._progress import progress
from gametheory._validate import nonnegative_scalar, number_list
from gametheory.errors import CapacityExceededError
from gametheory.games.coupled.system import CoupledSystem
from gametheory.games.dynamics import planner_dynamics, planner_orbit
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, SHARED_PREFIX_TOKENS, TEMPLATES, WORKERS_70B

__all__ = [
    "PREFILL_BATCH",
    "capacity_one_prefill",
    "dynamics_by_regime",
    "paper_system",
    "planner_on_load_step",
    "poa_across_load",
    "poa_across_system_load",
]

#: prefill passes amortized over this many requests (our assumption; docs/coupled.md)
PREFILL_BATCH = 4


def paper_system(profile, total_rate: float, cache_slots: int, workers: int = WORKERS_70B) -> CoupledSystem:
    """The paper's workload shape at ``total_rate`` requests/s on ``workers`` workers of ``profile``.

    Parameters
    ----------
    profile : Profile
        A measured profile.
    total_rate : float
        Requests/s, split evenly over the templates.
    cache_slots : int
        Templates a prefill worker can cache.
    workers : int
        Workers of the profile's TP size.

    Returns
    -------
    CoupledSystem
    """
    total_rate = nonnegative_scalar(total_rate, "total_rate")
    return CoupledSystem.from_profile(profile, workers=workers, rates=[total_rate / TEMPLATES] * TEMPLATES,
                                      prefill_batch=PREFILL_BATCH, input_tokens=INPUT_TOKENS,
                                      prefix_tokens=SHARED_PREFIX_TOKENS, output_tokens=OUTPUT_TOKENS,
                                      cache_slots=cache_slots)


def capacity_one_prefill(profile) -> float:
    """Total rate (requests/s) at which one prefill worker saturates with every template cached.

    Parameters
    ----------
    profile : Profile

    Returns
    -------
    float
    """
    return 1.0 / paper_system(profile, 1.0, TEMPLATES).service_s[1]


def poa_across_load(profile, fractions, cache_slots: int, workers: int = WORKERS_70B) -> list[dict]:
    """System and per-game PoA, and the decomposition of the fixed 1P layout, at loads given as fractions of
    :func:`capacity_one_prefill`.

    Parameters
    ----------
    profile : Profile
    fractions : sequence of float
    cache_slots : int
    workers : int

    Returns
    -------
    list of dict
        Per load: ``load_fraction``, ``rate_req_s``, ``opt_split``, ``eq_splits`` (from the starts 1P and
        min(3, workers - 1)P), ``poa_system``, ``poa_game1/2/3``, ``poa_fixed_1p`` (also ``poa_1p5d``, the
        key kept for the paper's 70B layout whatever the worker count), ``factor_split`` and
        ``factor_routing_caching``.

    Raises
    ------
    CapacityExceededError
        At a load no split carries.
    """
    fractions = number_list(fractions, "fractions")
    cap = capacity_one_prefill(profile)
    starts = sorted({1, min(3, workers - 1)})
    rows = []
    for f in progress(list(fractions), "coupled PoA across load", leave=False):
        system = paper_system(profile, f * cap, cache_slots, workers)
        poa = system.poa_by_game(starts=starts)
        dec = system.decompose_fixed_split(1)
        rows.append({
            "load_fraction": float(f),
            "rate_req_s": float(f * cap),
            "opt_split": f"{poa.optimum.n_prefill}P/{workers - poa.optimum.n_prefill}D",
            "eq_splits": sorted({f"{e.n_prefill}P" for e in poa.equilibria}),
            "poa_system": poa.system,
            "poa_game1": poa.game1,
            "poa_game2": poa.game2,
            "poa_game3": poa.game3,
            "poa_1p5d": dec.total,
            "poa_fixed_1p": dec.total,
            "factor_split": dec.split,
            "factor_routing_caching": dec.routing_caching,
        })
    return rows


def poa_across_system_load(profile, fractions, cache_slots: int, workers: int) -> list[dict]:
    """:func:`poa_across_load` at loads given as fractions of the largest rate any split carries
    (:meth:`CoupledSystem.capacity`), for setups that are decode-bound below one prefill worker's capacity.

    Parameters
    ----------
    profile : Profile
    fractions : sequence of float
    cache_slots : int
    workers : int

    Returns
    -------
    list of dict
        As :func:`poa_across_load`, plus ``system_fraction``; ``load_fraction`` stays the fraction of
        :func:`capacity_one_prefill`.
    """
    fractions = number_list(fractions, "fractions")
    cap_sys, _ = paper_system(profile, 1.0, cache_slots, workers).capacity()
    cap_1p = capacity_one_prefill(profile)
    rows = poa_across_load(profile, [f * cap_sys / cap_1p for f in fractions], cache_slots, workers)
    for f, row in zip(fractions, rows, strict=True):
        row["system_fraction"] = float(f)
    return rows


def planner_on_load_step(profile, delays=(0, 1, 3), gains=(1, 2), cache_slots: int = 2,
                         workers: int = WORKERS_70B) -> list[dict]:
    """The Planner loop (:func:`~gametheory.games.dynamics.planner_dynamics`, observing metrics ``delay``
    intervals old) on a load step, 30 % -> 90 % -> 40 % of :func:`capacity_one_prefill`, from 1P with cold
    caches, for delay x gain.

    Parameters
    ----------
    profile : Profile
    delays, gains : sequence of int
    cache_slots : int
    workers : int

    Returns
    -------
    list of dict
        ``delay``, ``gain``, ``oscillating`` (a cycle of splits under a constant load), ``splits`` and
        ``targets`` (one digit per interval).
    """
    delays, gains = number_list(delays, "delays", integers=True), number_list(gains, "gains", integers=True)
    system = paper_system(profile, capacity_one_prefill(profile), cache_slots, workers)
    trace = np.r_[np.full(6, 0.3), np.full(14, 0.9), np.full(14, 0.4)]
    model = system.planner_model()
    out = []
    for delay in delays:
        for gain in gains:
            tr = planner_dynamics(model, trace, initial=1, delay=delay, gain=gain, observe="metrics")
            out.append({"delay": delay, "gain": gain, "oscillating": bool(tr.oscillating),
                        "splits": "".join(str(n) for n in tr.prefill_workers),
                        "targets": "".join(str(n) for n in tr.target_workers)})
    return out


def dynamics_by_regime(profile, fractions=(0.3, 0.7, 0.9, 0.99, 1.1), delays=(0, 1, 3), gains=(1, 2),
                       cache_slots: int = TEMPLATES, workers: int = WORKERS_70B, n_prefill: int = 1) -> list[dict]:
    """The Planner loop at constant loads for delay x gain, classified by
    :func:`~gametheory.games.dynamics.planner_orbit` (run until its state repeats, from ``n_prefill``
    prefill workers with cold caches).

    Parameters
    ----------
    profile : Profile
    fractions : sequence of float
        Loads as fractions of :func:`capacity_one_prefill`.
    delays, gains : sequence of int
    cache_slots, workers, n_prefill : int

    Returns
    -------
    list of dict
        Per (load, delay, gain): ``status`` (converged / oscillating / saturated), ``period`` and
        ``amplitude`` of the cycle, ``cycle`` (its splits), ``transient``, ``path`` (transient then one cycle)
        and ``path_saturated`` (1 where an interval sits at a split that cannot carry the load),
        ``saturated_share``, ``cost_vs_opt`` (time-average social cost over the cycle / joint optimum; inf
        when the cycle visits a saturated split), ``saturated_splits`` (splits no cache placement or routing
        carries) and ``opt_split``.
    """
    fractions = number_list(fractions, "fractions")
    delays, gains = number_list(delays, "delays", integers=True), number_list(gains, "gains", integers=True)
    cap = capacity_one_prefill(profile)
    rows = []
    for f in progress(list(fractions), "Planner orbits by load", leave=False):
        system = paper_system(profile, f * cap, cache_slots, workers)
        optima = system.split_optima()
        saturated = [n for n, o in optima.items() if o is None]
        try:
            opt = system.optimum()
            opt_cost, opt_split = opt.cost, f"{opt.n_prefill}P"
        except CapacityExceededError:  # no split carries the load
            opt_cost, opt_split = math.nan, "none"
        model = system.planner_model()
        for delay in delays:
            for gain in gains:
                orb = planner_orbit(model, 1.0, n_prefill, delay=delay, gain=gain)
                rows.append({
                    "load_fraction": float(f),
                    "rate_req_s": float(f * cap),
                    "delay": delay,
                    "gain": gain,
                    "status": orb.status,
                    "period": orb.period,
                    "amplitude": orb.amplitude,
                    "cycle": "".join(str(n) for n in orb.cycle_workers),
                    "transient": orb.transient,
                    "path": "".join(str(n) for n in orb.prefill_workers),
                    "path_saturated": "".join("1" if s else "0" for s in orb.saturated),
                    "saturated_share": orb.saturated_share,
                    "cost_vs_opt": orb.mean_cost / opt_cost,
                    "saturated_splits": ",".join(f"{n}P" for n in saturated) or "none",
                    "opt_split": opt_split,
                })
    return rows
