"""Game 1 on a measured profile: the P/D split across load, the paper's fixed layouts, goodput under SLOs and
the knee from the pool costs (what ``gametheory reproduce`` prints in its resource section).

The game at a rate is :func:`gametheory.serving.pool_costs.serving_game` on the profile with the paper's
workload (:mod:`gametheory.paper_setup`: 24 GPUs, 128 input tokens, our 128 output tokens); each function
returns plain rows.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Definition 1,
   Proposition 1, Remark 1.
.. [2] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007.
"""

from __future__ import annotations

import math

from gametheory._validate import instance, nonnegative_scalar, number_list
from gametheory.errors import CapacityExceededError
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, SETUPS, TOTAL_GPUS
from gametheory.paper_setup import PROFILE_70B as PROFILE

__all__ = [
    "GOODPUT_RATE",
    "LAYOUTS",
    "PREFILL_BATCH",
    "SLOS_MS",
    "across_load",
    "game_at",
    "goodput_under_slos",
    "layouts_across_load",
    "prefill_knee",
]

PREFILL_BATCH = 4  # prefill pass amortized over 4 requests (as in docs/coupled.md)
#: the paper's 70B layouts, (prefill, decode) workers
LAYOUTS = {f"{s.n_prefill}P/{s.n_decode}D": (s.n_prefill, s.n_decode) for s in SETUPS.values() if s.profile == PROFILE}


def _profile(profile=None):
    """``profile`` checked, or the paper's 70B profile when None."""
    from gametheory.serving.profiles import Profile, load_profile

    if profile is None:
        return load_profile(PROFILE)
    return instance(profile, Profile, "profile", what="Profile (gametheory.serving.profiles.load_profile)")


def game_at(rate_rps: float, total_gpus: int = TOTAL_GPUS, profile=None, prefill_batch: int = PREFILL_BATCH):
    """Game 1 at ``rate_rps`` requests/s on the profile (the paper's workload).

    Parameters
    ----------
    rate_rps : float
    total_gpus : int
    profile : Profile, optional
        Default: the paper's 70B TP4 FP8 profile.
    prefill_batch : int

    Returns
    -------
    PDResourceGame
    """
    from gametheory.serving.pool_costs import serving_game

    rate_rps = nonnegative_scalar(rate_rps, "rate_rps")
    return serving_game(_profile(profile), total_gpus, rate_rps, INPUT_TOKENS, OUTPUT_TOKENS,
                        prefill_batch=prefill_batch)


def _integer_split(game):
    """(integer VE prefill GPUs, integer optimum prefill GPUs, integer PoA) over whole TP workers
    (:mod:`gametheory.games.resource.integer`; the PoA takes the worst integer VE). CapacityExceededError
    when no whole-worker split is stable."""
    from gametheory.games.resource.integer import (
        integer_equilibrium,
        integer_optimum,
        integer_price_of_anarchy,
        split_table,
    )

    table = split_table(game)
    eq, opt = integer_equilibrium(game, table=table), integer_optimum(game, table=table)
    return eq.split[0], opt.split[0], integer_price_of_anarchy(game, table=table)


def across_load(rates, profile=None) -> list[dict]:
    """Equilibrium vs optimum (continuous and whole workers) and pool regimes at each rate.

    Parameters
    ----------
    rates : sequence of float
        Requests/s.
    profile : Profile, optional

    Returns
    -------
    list of dict
        ``feasible`` False (with ``reason``) where no split is stable.
    """
    from gametheory._progress import progress
    from gametheory.serving.pool_costs import pool_regime

    profile = _profile(profile)
    rates = number_list(rates, "rates")
    rows = []
    for rate in progress(rates, "Game 1: equilibrium vs optimum across load"):
        try:
            game = game_at(float(rate), profile=profile)
            eq, opt = game.equilibrium(), game.optimum()
        except CapacityExceededError as err:
            rows.append({"rate_rps": float(rate), "feasible": False, "reason": str(err)})
            continue
        try:
            eq_int, opt_int, poa_int = _integer_split(game)
        except CapacityExceededError:  # stable on a continuous split only
            eq_int, opt_int, poa_int = math.nan, math.nan, math.nan
        regime_p = pool_regime(game.prefill_cost, eq.split[0])
        regime_d = pool_regime(game.decode_cost, eq.split[1])
        rows.append({
            "rate_rps": float(rate), "feasible": True,
            "eq_prefill_gpus": eq.split[0], "opt_prefill_gpus": opt.split[0],
            "eq_ttft_ms": eq.pool_costs[0], "eq_itl_ms": eq.pool_costs[1],
            "opt_ttft_ms": opt.pool_costs[0], "opt_itl_ms": opt.pool_costs[1],
            "poa": eq.cost / opt.cost, "certificates": max(eq.certificate.value, opt.certificate.value),
            "eq_prefill_workers_int": eq_int / game.step, "opt_prefill_workers_int": opt_int / game.step,
            "poa_int": poa_int,
            "prefill_regime": regime_p[0], "prefill_utilisation": regime_p[1],
            "decode_regime": regime_d[0], "decode_utilisation": regime_d[1],
        })
    return rows


def layouts_across_load(rates, profile=None) -> list[dict]:
    """Cost per request of the paper's fixed layouts and the best whole-worker split of the same budget
    (``inf`` where the layout is saturated; the ratio is NaN where every split of the budget is).

    Parameters
    ----------
    rates : sequence of float
    profile : Profile, optional

    Returns
    -------
    list of dict
    """
    from gametheory._progress import progress
    from gametheory.games.resource.integer import integer_optimum

    profile = _profile(profile)
    rates = number_list(rates, "rates")
    rows = []
    for rate in progress(rates, "Game 1: fixed layouts across load"):
        row = {"rate_rps": float(rate)}
        for name, (n_p, n_d) in LAYOUTS.items():
            tp = profile.gpus_per_worker
            try:
                game = game_at(float(rate), total_gpus=(n_p + n_d) * tp, profile=profile)
                fixed = game.social_cost(n_p * tp)
                best_gpus = integer_optimum(game).split[0]
                best = game.social_cost(best_gpus)
            except CapacityExceededError:
                fixed, best, best_gpus = math.inf, math.inf, math.nan
            row[f"{name}_ms"] = fixed
            row[f"{name}_best"] = f"{best_gpus / tp:.0f}P/{n_p + n_d - best_gpus / tp:.0f}D" if best < math.inf else "-"
            row[f"{name}_vs_opt"] = fixed / best if math.isfinite(best) else math.nan
        rows.append(row)
    return rows


def prefill_knee() -> list[dict]:
    """The knee of the 70B 1P/5D layout from Game 1's pool costs on the engine model
    (:func:`gametheory.serving.pool_costs.game1_knee`), next to the analytic knee, for three engine
    configurations, each row saying what it is (``role``):

    - ``calibrated``: the calibrated engine of docs/regimes.md (b* requests per prefill step, O* output tokens),
      fitted to the paper's knee interval;
    - ``family end``: serial prefill (one request per step) at the output length that puts its knee in the same
      interval, the other end of the calibration family: the observation alone does not fix the batch;
    - ``sensitivity``: vLLM's default batching at the calibrated output length, not calibrated: how far the knee
      moves when only the prefill batch changes.

    Returns
    -------
    list of dict
        One row per configuration: ``engine``, ``role``, ``max_prefill_seqs`` (None = vLLM's default),
        ``output_tokens``, ``prefill_batch``, ``service_ms``, ``one_prefill_worker_rps``,
        ``five_decode_workers_rps``, ``full_batch_latency_ms``, ``knee_concurrency`` and ``knee_analytic``.

    References
    ----------
    Denning and Buzen (1978); :mod:`gametheory.serving.calibration` for the family.
    """
    from dataclasses import replace

    from gametheory.serving.calibration import calibrate
    from gametheory.serving.pool_costs import game1_knee

    cal = calibrate()
    serial_output = dict(cal.family())[1]
    configs = (("calibrated", "calibrated to the paper's knee", cal.prefill_batch, cal.output_tokens),
               ("serial prefill", "the calibration family's other end", 1, serial_output),
               ("vLLM default batching", "sensitivity at the calibrated output length (not calibrated)", None,
                cal.output_tokens))
    rows = []
    for label, role, batch, output in configs:
        cluster = cal.cluster("70b_1p5d").with_engine(max_prefill_seqs=batch)
        k = game1_knee(cluster, replace(cal.workload(), output_tokens=(output, output)))
        rows.append({"engine": label, "role": role, "max_prefill_seqs": batch, "output_tokens": output,
                     "prefill_batch": k["prefill_batch"], "service_ms": k["service_ms"],
                     "one_prefill_worker_rps": k["prefill_rps"], "five_decode_workers_rps": k["decode_rps"],
                     "full_batch_latency_ms": k["full_batch_ms"], "knee_concurrency": k["knee"],
                     "knee_analytic": k["knee_analytic"]})
    return rows


SLOS_MS = ((10.0, 8.0), (20.0, 10.0), (50.0, 12.0))  # (mean TTFT, mean ITL) SLO pairs, ms: tight to loose
GOODPUT_RATE = 300.0  # req/s at which the integer VE (the reference split) is taken


def goodput_under_slos(profile=None) -> list[dict]:
    """Goodput (req/s) of each whole-worker split of 24 GPUs under mean-latency SLO pairs, the best split,
    and the goodput lost at the integer VE of GOODPUT_RATE req/s (:func:`pool_costs.goodput_splits`).

    Parameters
    ----------
    profile : Profile, optional

    Returns
    -------
    list of dict
    """
    from gametheory.games.resource.integer import integer_equilibrium
    from gametheory.serving.pool_costs import goodput_splits

    game = game_at(GOODPUT_RATE, profile=_profile(profile))
    ve = integer_equilibrium(game).split[0]
    tp = game.step
    rows = []
    for ttft_slo, itl_slo in SLOS_MS:
        table = goodput_splits(game, ttft_slo, itl_slo, ve)
        rows.append({"ttft_slo_ms": ttft_slo, "itl_slo_ms": itl_slo,
                     "goodput_by_split": {f"{g / tp:.0f}P/{(game.total_gpus - g) / tp:.0f}D": float(x)
                                          for g, x in zip(table.prefill_gpus, table.goodput_rps, strict=True)},
                     "best_split": f"{table.best_prefill_gpus / tp:.0f}P", "best_goodput_rps": table.best_goodput_rps,
                     "ve_split": f"{ve / tp:.0f}P", "ve_goodput_rps": table.reference_goodput_rps,
                     "goodput_loss": table.loss})
    return rows


