"""Reproduce section: Game 1 (the P/D split) on the measured B200 Llama-3.1-70B TP4 FP8 profile.

Pool costs come from :mod:`gametheory.serving.pool_costs`: TTFT(G_P) of M/D/1 prefill workers fed by the
profile's prefill pass, ITL(G_D) of decode workers at the Little's-law batch. The paper's setup: 3 nodes x
8 B200 GPUs, TP4 workers (step 4), 128-token inputs; the output length is ours (the paper does not state
it). Computed here, across the request rate:

1. the variational equilibrium (each pool minimizes its own metric, equal shadow price) and the optimum of
   TTFT + OSL x ITL per request, on continuous GPU counts and on whole TP4 workers, and their PoA;
2. the regime of each pool at the equilibrium split (the knee of its cost against the rate);
3. the paper's fixed 1P/2D (12 GPUs) and 1P/5D (24 GPUs) layouts against the optimum of their budget;
4. the knee of the 70B 1P/5D layout from these pool costs on the one engine model
   (:func:`gametheory.serving.pool_costs.game1_knee`: the pools' saturation rates and the full-batch response
   time, N* = X_max (R_full + Z)), for the calibrated engine of docs/regimes.md, serial prefill and vLLM's
   default batching, next to the analytic model's knee and the paper's C in (96, 128];
5. the other social cost of the issue, goodput under TTFT/ITL SLOs: the goodput of every whole-worker split
   and what the integer VE loses against the best one.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gametheory.errors import CapacityExceededError
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, SETUPS, TOTAL_GPUS
from gametheory.paper_setup import PROFILE_70B as PROFILE
from gametheory.reproduce import Section, Table

__all__ = [
    "GOODPUT_RATE",
    "LAYOUTS",
    "PREFILL_BATCH",
    "SLOS_MS",
    "TITLE",
    "across_load",
    "game_at",
    "goodput_under_slos",
    "layouts_across_load",
    "prefill_knee",
    "run",
]

TITLE = "Game 1: the P/D split on the measured B200 profile (equilibrium vs optimum, fixed layouts)"

PREFILL_BATCH = 4  # prefill pass amortized over 4 requests (as in docs/coupled.md)
#: the paper's 70B layouts, (prefill, decode) workers
LAYOUTS = {f"{s.n_prefill}P/{s.n_decode}D": (s.n_prefill, s.n_decode) for s in SETUPS.values() if s.profile == PROFILE}


def _profile():
    from gametheory.serving.profiles import load_profile

    return load_profile(PROFILE)


def game_at(rate_rps: float, total_gpus: int = TOTAL_GPUS, profile=None, prefill_batch: int = PREFILL_BATCH):
    """Game 1 at ``rate_rps`` requests/s on the profile (module constants for the workload)."""
    from gametheory.serving.pool_costs import serving_game

    return serving_game(profile or _profile(), total_gpus, rate_rps, INPUT_TOKENS, OUTPUT_TOKENS,
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
    """Equilibrium vs optimum (continuous and whole workers) and pool regimes at each rate."""
    from gametheory._progress import progress
    from gametheory.serving.pool_costs import pool_regime

    profile = profile or _profile()
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
    (``inf`` where the layout is saturated; the ratio is NaN where every split of the budget is)."""
    from gametheory._progress import progress
    from gametheory.games.resource.integer import integer_optimum

    profile = profile or _profile()
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
    (:func:`gametheory.serving.pool_costs.game1_knee`), for the calibrated engine (docs/regimes.md), serial
    prefill and vLLM's default batching, each at the calibrated output length, next to the analytic knee."""
    from dataclasses import replace

    from gametheory.serving.calibration import calibrate
    from gametheory.serving.pool_costs import game1_knee

    cal = calibrate()
    rows = []
    for label, batch in (("calibrated", cal.prefill_batch), ("serial prefill", 1), ("vLLM default", None)):
        cluster = cal.cluster("70b_1p5d").with_engine(max_prefill_seqs=batch)
        k = game1_knee(cluster, replace(cal.workload()))
        rows.append({"engine": label, "max_prefill_seqs": batch, "output_tokens": cal.output_tokens,
                     "prefill_batch": k["prefill_batch"], "service_ms": k["service_ms"],
                     "one_prefill_worker_rps": k["prefill_rps"], "five_decode_workers_rps": k["decode_rps"],
                     "full_batch_latency_ms": k["full_batch_ms"], "knee_concurrency": k["knee"],
                     "knee_analytic": k["knee_analytic"]})
    return rows


SLOS_MS = ((10.0, 8.0), (20.0, 10.0), (50.0, 12.0))  # (mean TTFT, mean ITL) SLO pairs, ms: tight to loose
GOODPUT_RATE = 300.0  # req/s at which the integer VE (the reference split) is taken


def goodput_under_slos(profile=None) -> list[dict]:
    """Goodput (req/s) of each whole-worker split of 24 GPUs under mean-latency SLO pairs, the best split,
    and the goodput lost at the integer VE of GOODPUT_RATE req/s (:func:`pool_costs.goodput_splits`)."""
    from gametheory.games.resource.integer import integer_equilibrium
    from gametheory.serving.pool_costs import goodput_splits

    game = game_at(GOODPUT_RATE, profile=profile)
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


def _figure(rows: list[dict], layouts: list[dict], out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["feasible"]]
    x = [r["rate_rps"] for r in ok]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=100)
    ax = axes[0]
    ax.plot(x, [r["eq_prefill_gpus"] for r in ok], "o-", ms=3, label="equilibrium (continuous)")
    ax.plot(x, [r["opt_prefill_gpus"] for r in ok], "s-", ms=3, label="optimum (continuous)")
    ax.step(x, [4 * r["eq_prefill_workers_int"] for r in ok], where="mid", ls=":", color="C0",
            label="equilibrium (TP4 workers)")
    ax.step(x, [4 * r["opt_prefill_workers_int"] for r in ok], where="mid", ls="--", color="C1",
            label="optimum (TP4 workers)")
    ax.set(xlabel="request rate (req/s)", ylabel=f"prefill GPUs of {TOTAL_GPUS}", title="The split")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.plot(x, [r["poa"] for r in ok], "o-", ms=3, label="continuous")
    ax.plot(x, [r["poa_int"] for r in ok], "s--", ms=3, label="whole TP4 workers")
    ax.set(xlabel="request rate (req/s)", ylabel="PoA", title="Price of anarchy of the split")
    ax.legend(fontsize=7)
    ax = axes[2]
    lx = [r["rate_rps"] for r in layouts]
    for name in LAYOUTS:
        ax.plot(lx, [r[f"{name}_vs_opt"] for r in layouts], "o-", ms=3, label=f"fixed {name}")
    ax.set(xlabel="request rate (req/s)", ylabel="cost / best split of the same budget",
           title="Fixed layouts (until they saturate)")
    ax.legend(fontsize=7)
    for a in axes:
        a.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(out_dir) / "resource_split.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def run(out_dir: Path, full: bool = False) -> Section:
    profile = _profile()
    rates = np.arange(25, 501, 25) if full else [10, 50, 100, 150, 190, 250, 300, 400, 500]
    rows = across_load(rates, profile)
    layouts = layouts_across_load(rates, profile)
    knees = prefill_knee()
    goodput = goodput_under_slos(profile)
    ok = [r for r in rows if r["feasible"]]
    tables = [
        Table(
            f"Equilibrium vs optimum split, {TOTAL_GPUS} B200 GPUs, Llama-3.1-70B TP4 FP8, ISL {INPUT_TOKENS}, "
            f"OSL {OUTPUT_TOKENS} (GPUs to prefill; TTFT and ITL in ms)",
            ["req/s", "eq G_P", "TTFT", "ITL", "opt G_P", "TTFT", "ITL", "PoA", "eq/opt P workers", "PoA int",
             "P regime", "D regime"],
            [[r["rate_rps"], r["eq_prefill_gpus"], r["eq_ttft_ms"], r["eq_itl_ms"], r["opt_prefill_gpus"],
              r["opt_ttft_ms"], r["opt_itl_ms"], r["poa"],
              f"{r['eq_prefill_workers_int']:.0f}/{r['opt_prefill_workers_int']:.0f}", r["poa_int"],
              f"{r['prefill_regime']} ({r['prefill_utilisation']:.0%})",
              f"{r['decode_regime']} ({r['decode_utilisation']:.0%})"] if r["feasible"]
             else [r["rate_rps"]] + ["infeasible"] + [""] * 10 for r in rows],
        ),
        Table(
            "Fixed layouts: cost per request (TTFT + OSL x ITL, ms; inf = saturated), the best whole-worker split "
            "of the same budget and the ratio",
            ["req/s"] + [c for name in LAYOUTS for c in (f"{name} ms", "best", "ratio")],
            [[r["rate_rps"]] + [v for name in LAYOUTS for v in (r[f"{name}_ms"], r[f"{name}_best"],
                                                                 r[f"{name}_vs_opt"])]
             for r in layouts],
        ),
        Table(
            "The 70B 1P/5D knee from Game 1's pool costs on the engine model, N* = X_max (R_full + Z), next to the "
            "analytic model's (paper: C in (96, 128])",
            ["engine", "prefill batch", "output", "service ms", "1P cap req/s", "5D cap req/s", "R_full ms",
             "knee C (Game 1)", "knee C (analytic)"],
            [[k["engine"], k["prefill_batch"], k["output_tokens"], k["service_ms"], k["one_prefill_worker_rps"],
              k["five_decode_workers_rps"], k["full_batch_latency_ms"], k["knee_concurrency"], k["knee_analytic"]]
             for k in knees],
        ),
        Table(
            f"Goodput (req/s) of each whole-worker split under mean-latency SLOs; VE = integer VE at "
            f"{GOODPUT_RATE:g} req/s; loss = best / VE goodput",
            ["TTFT SLO ms", "ITL SLO ms"] + list(goodput[0]["goodput_by_split"]) + ["best", "VE", "loss"],
            [[g["ttft_slo_ms"], g["itl_slo_ms"]] + list(g["goodput_by_split"].values())
             + [g["best_split"], g["ve_split"], g["goodput_loss"]] for g in goodput],
        ),
    ]
    infeasible = [r["rate_rps"] for r in rows if not r["feasible"]]
    worst = max(ok, key=lambda r: r["poa"])
    notes = [
        f"assumptions: M/D/1 prefill workers (pass amortized over {PREFILL_BATCH} requests), OSL {OUTPUT_TOKENS} "
        "(not stated by the paper), decode batch by Little's law at context ISL + OSL/2 (docs/resource.md)",
        f"PoA of the split grows with load to {worst['poa']:.4g} at {worst['rate_rps']:g} req/s; the equilibrium "
        "over-provisions prefill (each pool weighs its own metric, the optimum weighs ITL x OSL)",
        f"largest KKT residual of the solutions: {max(r['certificates'] for r in ok):.2g}",
    ]
    if infeasible:
        notes.append(f"no split of {TOTAL_GPUS} GPUs is stable at {', '.join(f'{x:g}' for x in infeasible)} req/s")
    summary = {
        "rows": rows, "layouts": layouts, "prefill_knee": knees, "goodput": goodput,
        "poa_max": worst["poa"], "poa_max_rate_rps": worst["rate_rps"], "poa_min": min(r["poa"] for r in ok),
        "poa_int_max": max(r["poa_int"] for r in ok),
        "knee_concurrency_calibrated": knees[0]["knee_concurrency"],
    }
    return Section(TITLE, tables=tables, figures=[_figure(rows, layouts, out_dir)], summary=summary, notes=notes)
