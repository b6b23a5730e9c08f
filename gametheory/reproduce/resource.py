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
   time, N* = X_max (R_full + Z)), for the calibrated engine of docs/regimes.md, serial prefill at the output
   length that fits the same knee (the calibration family's other end) and vLLM's default batching at the
   calibrated output length (a sensitivity row, not fitted), next to the analytic model's knee and the paper's
   C in (96, 128];
5. the other social cost of the issue, goodput under TTFT/ITL SLOs: the goodput of every whole-worker split
   and what the integer VE loses against the best one.

The computations are :mod:`gametheory.serving.game1`; this module runs them and renders.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Definition 1,
   Proposition 1 and Remark 1 (the P/D resource game), sections 7-8 (the setups).
.. [2] F. Facchinei, C. Kanzow, "Generalized Nash equilibrium problems", 4OR 5(3), 2007 (the variational
   equilibrium).
.. [3] L. Kleinrock, *Queueing Systems, Volume 1: Theory*, Wiley 1975 (the M/D/1 prefill queue), and
   J. D. C. Little, "A proof for the queuing formula L = lambda W", Operations Research 9, 1961.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, TOTAL_GPUS
from gametheory.paper_setup import PROFILE_70B as PROFILE
from gametheory.plotting import legend, ratio_ylim, save, styled
from gametheory.reproduce import Section, Table
from gametheory.serving.game1 import (
    GOODPUT_RATE,
    LAYOUTS,
    PREFILL_BATCH,
    across_load,
    goodput_under_slos,
    layouts_across_load,
    prefill_knee,
)
from gametheory.serving.profiles import load_profile

__all__ = ["TITLE", "run"]

TITLE = "Game 1: the P/D split on the measured B200 profile (equilibrium vs optimum, fixed layouts)"

@styled
def _figure(rows: list[dict], layouts: list[dict], out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if r["feasible"]]
    x = [r["rate_rps"] for r in ok]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    ax.plot(x, [r["eq_prefill_gpus"] for r in ok], "o-", ms=3, label="equilibrium (continuous)")
    ax.plot(x, [r["opt_prefill_gpus"] for r in ok], "s-", ms=3, label="optimum (continuous)")
    ax.step(x, [4 * r["eq_prefill_workers_int"] for r in ok], where="mid", ls=":", color="C0",
            label="equilibrium (TP4 workers)")
    ax.step(x, [4 * r["opt_prefill_workers_int"] for r in ok], where="mid", ls="--", color="C1",
            label="optimum (TP4 workers)")
    ax.set(xlabel="request rate (requests/s)", ylabel=f"prefill GPUs (of {TOTAL_GPUS})", title="The split")
    legend(ax)
    ax = axes[1]
    ax.plot(x, [r["poa"] for r in ok], "o-", ms=3, label="continuous")
    ax.plot(x, [r["poa_int"] for r in ok], "s--", ms=3, label="whole TP4 workers")
    ax.set(xlabel="request rate (requests/s)", ylabel="PoA (equilibrium / optimum cost)",
           title="Price of anarchy of the split")
    ratio_ylim(ax, [r["poa"] for r in ok] + [r["poa_int"] for r in ok])
    legend(ax)
    ax = axes[2]
    lx = [r["rate_rps"] for r in layouts]
    for name in LAYOUTS:
        ax.plot(lx, [r[f"{name}_vs_opt"] for r in layouts], "o-", ms=3, label=f"fixed {name}")
    ax.set(xlabel="request rate (requests/s)", ylabel="cost ratio (fixed layout / best split)",
           title="Fixed layouts (until they saturate)")
    ratio_ylim(ax, [r[f"{name}_vs_opt"] for r in layouts for name in LAYOUTS])
    legend(ax)
    fig.tight_layout()
    path = Path(out_dir) / "resource_split.png"
    save(fig, path)
    return path


def run(out_dir: Path, full: bool = False) -> Section:
    """Compute the Game 1 tables and figure on the paper's 70B TP4 FP8 profile.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for the section's figures (created if missing).
    full : bool
        Run the large grid: request rates 25 to 500 requests/s in steps of 25 (default 9 rates).

    Returns
    -------
    Section
        The section's tables, figures, summary (the keys ``summary.json`` holds for it) and notes.
    """
    profile = load_profile(PROFILE)
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
            "analytic model's (paper: C in (96, 128]; only the first two rows are fitted to it)",
            ["engine", "what the row is", "prefill batch", "output", "service ms", "1P cap req/s", "5D cap req/s",
             "R_full ms", "knee C (Game 1)", "knee C (analytic)"],
            [[k["engine"], k["role"], k["prefill_batch"], k["output_tokens"], k["service_ms"],
              k["one_prefill_worker_rps"], k["five_decode_workers_rps"], k["full_batch_latency_ms"],
              k["knee_concurrency"], k["knee_analytic"]]
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
