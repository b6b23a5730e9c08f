"""Reproduce section: the coupled system (paper section 4.4) on the B200 Llama-3.1-70B TP4 FP8 profile.

Three results, all computed here:
1. the PoA of the whole system next to the PoA of each game alone, across load;
2. the paper's fixed 1P/5D layout: its loss split into a Game 1 factor (the split) and a Games 2+3
   factor (routing and caching at that split) — the model's test of the paper's claim that deep
   saturation is a Game 1 failure (a single prefill worker);
3. the Planner loop on a load step: convergence or oscillation for delay x gain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.games import coupled as cg
from gametheory.reproduce import Section, Table

TITLE = "Coupled games: the section 4.4 loop and the PoA of the whole system"

PROFILE = "b200_llama31_70b_tp4_fp8_trtllm"
WORKERS = 6  # 3 nodes x 8 B200 GPUs / TP4
TEMPLATES = 5
INPUT_TOKENS = 128
PREFIX_TOKENS = 112  # 7 of 8 KV blocks of 16 tokens shared by a template (our assumption)
OUTPUT_TOKENS = 128  # our assumption: the paper does not state its output length


def system_at(total_rate: float, cache_slots: int, profile=None) -> cg.CoupledSystem:
    """The paper's workload shape on 6 B200 TP4 workers at ``total_rate`` requests/s."""
    from gametheory.serving.profiles import load_profile

    profile = profile or load_profile(PROFILE)
    return cg.CoupledSystem.from_profile(
        profile,
        workers=WORKERS,
        rates=[total_rate / TEMPLATES] * TEMPLATES,
        input_tokens=INPUT_TOKENS,
        prefix_tokens=PREFIX_TOKENS,
        output_tokens=OUTPUT_TOKENS,
        cache_slots=cache_slots,
    )


def capacity_1p(profile=None) -> float:
    """Total rate (requests/s) at which one prefill worker saturates with every template cached."""
    s = system_at(1.0, TEMPLATES, profile)
    return 1.0 / s.service_s[1]


def poa_across_load(fractions, cache_slots: int, profile=None) -> list[dict]:
    """System and per-game PoA, and the 1P/5D decomposition, at loads given as fractions of 1P capacity."""
    cap = capacity_1p(profile)
    rows = []
    for f in fractions:
        system = system_at(f * cap, cache_slots, profile)
        poa = cg.price_of_anarchy(system, starts=(1, 3))
        dec = cg.decompose_fixed_split(system, 1)
        rows.append(
            {
                "load_fraction": float(f),
                "rate_req_s": float(f * cap),
                "opt_split": f"{poa.optimum.n_prefill}P/{WORKERS - poa.optimum.n_prefill}D",
                "eq_splits": sorted({f"{e.n_prefill}P" for e in poa.equilibria if e.converged}),
                "poa_system": poa.system,
                "poa_game1": poa.game1,
                "poa_game2": poa.game2,
                "poa_game3": poa.game3,
                "poa_1p5d": dec.total,
                "factor_split": dec.split,
                "factor_routing_caching": dec.routing_caching,
            }
        )
    return rows


def planner_grid(profile=None, delays=(0, 1, 3), gains=(1, 2)) -> list[dict]:
    """Planner dynamics on a load step (30 % -> 90 % of 1P capacity -> 40 %) for delay x gain."""
    cap = capacity_1p(profile)
    system = system_at(cap, 2, profile)
    trace = np.r_[np.full(6, 0.3), np.full(14, 0.9), np.full(14, 0.4)]
    out = []
    for delay in delays:
        for gain in gains:
            tr = cg.planner_dynamics(system, trace, n_prefill=1, delay=delay, gain=gain)
            out.append(
                {
                    "delay": delay,
                    "gain": gain,
                    "oscillating": bool(tr.oscillating),
                    "splits": "".join(str(n) for n in tr.n_prefill),
                    "targets": "".join(str(n) for n in tr.target),
                }
            )
    return out


def _figure(rows_by_slots: dict, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), dpi=100)
    for ax, (slots, rows) in zip(axes, rows_by_slots.items(), strict=True):
        x = [r["load_fraction"] for r in rows]
        for key, label in [
            ("poa_system", "whole system (worst eq.)"),
            ("poa_game1", "Game 1 alone (split)"),
            ("poa_game2", "Game 2 alone (caching)"),
            ("poa_game3", "Game 3 alone (routing)"),
            ("poa_1p5d", "fixed 1P/5D layout"),
        ]:
            ax.plot(x, [r[key] for r in rows], marker="o", ms=3, label=label)
        saturated = [r["load_fraction"] for r in rows if not np.isfinite(r["poa_1p5d"])]
        if saturated:
            ax.axvline(saturated[0], color="grey", ls="--", lw=1)
            ax.text(saturated[0], 1.0, " 1P/5D saturated ->", fontsize=7, va="bottom")
        ax.set_xlabel("load / capacity of one prefill worker")
        ax.set_ylabel("PoA (social cost / joint optimum)")
        ax.set_title(f"cache holds {slots} of {TEMPLATES} templates per worker")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "coupled_poa.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def run(out_dir: Path, full: bool = False) -> Section:
    out_dir = Path(out_dir)
    fractions = np.round(np.r_[np.linspace(0.1, 0.9, 9), 0.95, 0.99], 3) if full else [0.2, 0.5, 0.8, 0.95, 0.99]
    rows_by_slots = {slots: poa_across_load(fractions, slots) for slots in (TEMPLATES, 2)}
    tables = []
    for slots, rows in rows_by_slots.items():
        tables.append(
            Table(
                f"PoA across load, cache of {slots}/{TEMPLATES} templates per prefill worker "
                f"(70B TP4 FP8 B200, {WORKERS} workers)",
                ["load", "req/s", "opt split", "eq splits", "system", "G1", "G2", "G3", "1P/5D", "split x", "rout x"],
                [
                    [r["load_fraction"], r["rate_req_s"], r["opt_split"], ",".join(r["eq_splits"]), r["poa_system"],
                     r["poa_game1"], r["poa_game2"], r["poa_game3"], r["poa_1p5d"], r["factor_split"],
                     r["factor_routing_caching"]]
                    for r in rows
                ],
            )
        )
    planner = planner_grid()
    tables.append(
        Table(
            "Planner on a load step 30% -> 90% -> 40% of 1P capacity (split per interval)",
            ["delay", "gain", "oscillating", "splits"],
            [[p["delay"], p["gain"], str(p["oscillating"]), p["splits"]] for p in planner],
        )
    )
    deep = rows_by_slots[TEMPLATES][-1]
    notes = [
        f"assumptions: {TEMPLATES} templates, {INPUT_TOKENS}-token inputs with a {PREFIX_TOKENS}-token shared prefix, "
        f"{OUTPUT_TOKENS} output tokens, prefill amortized over batches of 4 (docs/coupled.md)",
        f"at {deep['load_fraction']:.0%} of 1P capacity the fixed 1P/5D layout costs {deep['poa_1p5d']:.3g}x the "
        f"joint optimum; the split factor is {deep['factor_split']:.3g}x and routing+caching "
        f"{deep['factor_routing_caching']:.3g}x",
    ]
    figure = _figure(rows_by_slots, out_dir)
    return Section(
        TITLE,
        tables=tables,
        figures=[figure],
        summary={"poa_across_load": {str(k): v for k, v in rows_by_slots.items()}, "planner": planner},
        notes=notes,
    )
