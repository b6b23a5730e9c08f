"""Reproduce section: the coupled system (paper section 4.4) on the paper's two B200 setups.

Results, all computed here:
1. the PoA of the whole system next to the PoA of each game alone, across load, on Llama-3.1-70B TP4 FP8
   (6 workers) and on Nemotron-4-340B TP8 FP8 (3 workers);
2. the paper's fixed 1P layout (1P/5D, 1P/2D): its loss split into a Game 1 factor (the split) and a
   Games 2+3 factor (routing and caching at that split) — the model's test of the paper's claim that deep
   saturation is a Game 1 failure (a single prefill worker);
3. the Planner loop on a load step: convergence or oscillation for delay x gain;
4. the Planner loop at constant loads below, near and past one prefill worker's capacity, for delay x
   gain: converged / oscillating (period, amplitude) / saturated, and its time-average cost against the
   joint optimum.

The computations are :mod:`gametheory.games.coupled.analysis`; this module runs them and renders.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 4.4
   (the coupling loop) and sections 7-8 (the 70B and 340B setups).
.. [2] NVIDIA Dynamo documentation, "Planner" (one worker per adjustment interval).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.games import coupled as cg
from gametheory.paper_setup import INPUT_TOKENS, OUTPUT_TOKENS, PROFILE_340B, TEMPLATES, WORKERS_340B
from gametheory.paper_setup import PROFILE_70B as PROFILE
from gametheory.paper_setup import SHARED_PREFIX_TOKENS as PREFIX_TOKENS
from gametheory.paper_setup import WORKERS_70B as WORKERS
from gametheory.plotting import legend, ratio_ylim, save, styled
from gametheory.reproduce import Section, Table
from gametheory.serving.profiles import load_profile

__all__ = ["TITLE", "run"]

TITLE = "Coupled games: the section 4.4 loop and the PoA of the whole system"


def _regime_table(rows: list[dict], title: str) -> Table:
    return Table(
        title,
        ["load", "req/s", "sat. splits", "opt", "delay", "gain", "status", "period", "ampl.", "cycle", "sat. share",
         "cost/opt"],
        [[r["load_fraction"], r["rate_req_s"], r["saturated_splits"], r["opt_split"], r["delay"], r["gain"],
          r["status"], r["period"], r["amplitude"], r["cycle"], r["saturated_share"], r["cost_vs_opt"]]
         for r in rows],
    )


def _regime_pivot(rows: list[dict], title: str) -> Table:
    """One row per load, one column per (delay, gain): C = converged, O<period>/<amplitude> = oscillating,
    S = saturated, followed by the time-average cost / joint optimum."""
    combos = sorted({(r["delay"], r["gain"]) for r in rows})
    loads = sorted({r["load_fraction"] for r in rows})
    cell = {(r["load_fraction"], r["delay"], r["gain"]): r for r in rows}

    def fmt(r):
        tag = {"converged": "C", "saturated": "S"}.get(r["status"], f"O{r['period']}/{r['amplitude']}")
        cost = r["cost_vs_opt"]
        return tag if r["status"] == "saturated" else f"{tag} {cost:.3g}" if np.isfinite(cost) else f"{tag} inf"

    return Table(
        title,
        ["load", "sat. splits", "opt"] + [f"d{d} g{g}" for d, g in combos],
        [[f, cell[(f, *combos[0])]["saturated_splits"], cell[(f, *combos[0])]["opt_split"]]
         + [fmt(cell[(f, d, g)]) for d, g in combos] for f in loads],
    )


@styled
def _regime_figure(rows: list[dict], out_dir: Path, loads=(0.3, 0.9, 1.1), combos=((0, 1), (1, 1), (3, 1), (1, 2)),
                   intervals: int = 30) -> Path:
    """Split per Planner interval at a few constant loads (the orbit: transient, then the cycle repeated);
    intervals at a split that cannot carry the load are marked with a black x; one legend below the panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(loads), figsize=(5 * len(loads), 4.2), sharey=True)
    for ax, load in zip(axes, loads, strict=True):
        for i, (d, g) in enumerate(combos):
            r = next(r for r in rows if r["load_fraction"] == load and r["delay"] == d and r["gain"] == g)
            t0, path, sat = r["transient"], r["path"], r["path_saturated"]
            while len(path) < intervals:
                path, sat = path + path[t0:t0 + r["period"]], sat + sat[t0:t0 + r["period"]]
            y = np.array([int(c) for c in path[:intervals]]) + 0.08 * (i - 1.5)
            ax.step(range(intervals), y, where="post", lw=1.4, label=f"delay {d}, gain {g}")
            bad = [k for k in range(intervals) if sat[k] == "1"]
            ax.plot(bad, y[bad], "x", color="k", ms=5, mew=1.2)
        saturated = next(r for r in rows if r["load_fraction"] == load)["saturated_splits"]
        ax.set_title(f"load {load:g} x 1P capacity (saturated splits: {saturated})")
        ax.set_xlabel("Planner interval")
        if ax is axes[0]:
            ax.set_ylabel("prefill workers (count)")
    # one legend for the three panels (the same four Planner settings in each), below them
    from matplotlib.lines import Line2D

    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Line2D([], [], ls="none", marker="x", color="k", mew=1.2))
    labels.append("interval at a split that cannot carry the load")
    fig.tight_layout()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), bbox_to_anchor=(0.5, -0.08))
    path = out_dir / "coupled_regimes.png"
    save(fig, path)
    return path


def _poa_table(rows: list[dict], title: str, fixed: str, with_system_fraction: bool = False) -> Table:
    head = ["sys load"] if with_system_fraction else []
    return Table(
        title,
        head + ["load", "req/s", "opt split", "eq splits", "system", "G1", "G2", "G3", fixed, "split x", "rout x"],
        [
            ([r["system_fraction"]] if with_system_fraction else [])
            + [r["load_fraction"], r["rate_req_s"], r["opt_split"], ",".join(r["eq_splits"]), r["poa_system"],
               r["poa_game1"], r["poa_game2"], r["poa_game3"], r["poa_fixed_1p"], r["factor_split"],
               r["factor_routing_caching"]]
            for r in rows
        ],
    )


@styled
def _figure(rows_by_slots: dict, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, (slots, rows) in zip(axes, rows_by_slots.items(), strict=True):
        x = [r["load_fraction"] for r in rows]
        # distinct markers, line styles and widths, drawn widest first, so coinciding curves stay visible; a
        # curve that coincides with an earlier one, or is 1 throughout, says so in its legend entry
        drawn: list[tuple[str, np.ndarray]] = []
        for key, label, style_, width, marker in [
            ("poa_1p5d", "fixed 1P/5D layout", "-", 4.0, "o"),
            ("poa_system", "whole system (worst eq.)", "-", 2.6, "s"),
            ("poa_game1", "Game 1 alone (split)", "--", 1.8, "^"),
            ("poa_game2", "Game 2 alone (caching)", ":", 1.8, "v"),
            ("poa_game3", "Game 3 alone (routing)", "-.", 1.4, "x"),
        ]:
            y = np.array([r[key] for r in rows], dtype=float)
            same = next((name for name, other in drawn if np.allclose(y, other, rtol=1e-6, equal_nan=True)), None)
            near = next((name for name, other in drawn if np.allclose(y, other, rtol=1e-3, equal_nan=True)), None)
            if np.allclose(y, 1.0, rtol=0, atol=1e-9):
                label += ": 1 at every load"
            elif same or near:
                label += f" ({'=' if same else 'within 0.1 % of'} {(same or near).split(' (')[0]})"
            drawn.append((label, y))
            ax.plot(x, y, linestyle=style_, linewidth=width, marker=marker, ms=6,
                    markerfacecolor="none", label=label, alpha=0.9)
        saturated = [r["load_fraction"] for r in rows if not np.isfinite(r["poa_1p5d"])]
        if saturated:
            ax.axvline(saturated[0], color="grey", ls="--", lw=1)
            ax.annotate(" 1P/5D saturated ->", xy=(saturated[0], 0.02), xycoords=("data", "axes fraction"),
                        fontsize=9, va="bottom")
        ax.set_xlabel("load / capacity of one prefill worker")
        ax.set_ylabel("PoA (social cost / joint optimum)")
        ax.set_title(f"cache holds {slots} of {TEMPLATES} templates per worker")
        ratio_ylim(ax, [r[k] for r in rows for k in ("poa_1p5d", "poa_system", "poa_game1", "poa_game2",
                                                      "poa_game3")])
        legend(ax, loc="upper left")
    fig.tight_layout()
    path = out_dir / "coupled_poa.png"
    save(fig, path)
    return path


def run(out_dir: Path, full: bool = False) -> Section:
    """Compute the coupled system's PoA across load, the 1P layouts' loss split, and the Planner loop.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for the section's figures (created if missing).
    full : bool
        Run the large grids: 11 load fractions (default 5) for the 70B PoA across load, 7 fractions of system
        capacity for the 340B one (default 4), and the Planner at constant load over a delay x gain grid for
        both cache sizes and for the 340B setup (default: the 70B setup with every template cached).

    Returns
    -------
    Section
        The section's tables, figures, summary (the keys ``summary.json`` holds for it) and notes.
    """
    out_dir = Path(out_dir)
    fractions = np.round(np.r_[np.linspace(0.1, 0.9, 9), 0.95, 0.99], 3) if full else [0.2, 0.5, 0.8, 0.95, 0.99]
    profile, profile_340b = load_profile(PROFILE), load_profile(PROFILE_340B)
    rows_by_slots = {slots: cg.poa_across_load(profile, fractions, slots) for slots in (TEMPLATES, 2)}
    tables = [
        _poa_table(rows, f"PoA across load, cache of {slots}/{TEMPLATES} templates per prefill worker "
                   f"(70B TP4 FP8 B200, {WORKERS} workers)", "1P/5D")
        for slots, rows in rows_by_slots.items()
    ]
    sys_fractions = [0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] if full else [0.25, 0.5, 0.75, 0.99]
    rows_340b = {slots: cg.poa_across_system_load(profile_340b, sys_fractions, slots, WORKERS_340B)
                 for slots in (TEMPLATES, 2)}
    for slots, rows in rows_340b.items():
        cap, n_best = cg.paper_system(profile_340b, 1.0, slots, WORKERS_340B).capacity()
        at = f"{n_best}P/{WORKERS_340B - n_best}D"
        tables.append(
            _poa_table(rows, f"PoA across load, cache of {slots}/{TEMPLATES} templates per prefill worker "
                       f"(340B TP8 FP8 B200, {WORKERS_340B} workers; 'sys load' = fraction of the {cap:.4g} req/s "
                       f"the best split ({at}) carries, 'load' = fraction of 1P capacity)", "1P/2D",
                       with_system_fraction=True)
        )
    planner = cg.planner_on_load_step(profile)
    tables.append(
        Table(
            "Planner on a load step 30% -> 90% -> 40% of 1P capacity (split per interval)",
            ["delay", "gain", "oscillating", "splits"],
            [[p["delay"], p["gain"], str(p["oscillating"]), p["splits"]] for p in planner],
        )
    )
    regimes = {TEMPLATES: cg.dynamics_by_regime(profile)}
    regimes_340b: dict[int, list[dict]] = {}
    if full:
        grid = dict(fractions=(0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99, 1.05, 1.1, 1.3), delays=(0, 1, 2, 3, 5),
                    gains=(1, 2, 3))
        regimes = {slots: cg.dynamics_by_regime(profile, cache_slots=slots, **grid) for slots in (TEMPLATES, 2)}
        regimes_340b = {
            slots: cg.dynamics_by_regime(profile_340b, fractions, cache_slots=slots, workers=WORKERS_340B)
            for slots, fractions in ((TEMPLATES, (0.3, 0.7, 0.79, 0.9)), (2, (0.1, 0.3, 0.45, 0.49, 0.55)))
        }
    default = [r for r in regimes[TEMPLATES] if r["load_fraction"] in (0.3, 0.7, 0.9, 0.99, 1.1)
               and r["delay"] in (0, 1, 3) and r["gain"] in (1, 2)]
    tables.append(_regime_table(
        default, f"Planner at constant load (fraction of 1P capacity), from 1P/5D with cold caches, cache of "
                 f"{TEMPLATES}/{TEMPLATES} templates (70B TP4 FP8 B200, {WORKERS} workers); cost/opt = time-average "
                 f"social cost over the cycle / joint optimum"))
    if full:
        legend = ("C = converged, O<period>/<amplitude> = oscillating, S = saturated (every interval of the cycle at "
                  "a saturated split); then the cycle's time-average social cost / joint optimum")
        for slots, rows in regimes.items():
            tables.append(_regime_pivot(rows, f"Planner at constant load by delay d and gain g, from 1P/5D, cache of "
                                              f"{slots}/{TEMPLATES} templates (70B, {WORKERS} workers). {legend}"))
        for slots, rows in regimes_340b.items():
            tables.append(_regime_pivot(rows, f"Planner at constant load by delay d and gain g, from 1P/2D, cache of "
                                              f"{slots}/{TEMPLATES} templates (340B TP8, {WORKERS_340B} workers)"))
    deep = rows_by_slots[TEMPLATES][-1]
    probe = cg.paper_system(profile_340b, 1.0, TEMPLATES, WORKERS_340B)
    notes = [
        f"capacities (requests/s): 70B TP4 one prefill worker, every template cached "
        f"{cg.capacity_one_prefill(profile):.4g}; 340B TP8 one prefill worker "
        f"{cg.capacity_one_prefill(profile_340b):.4g}, decode pool of 1 / 2 workers "
        f"{probe.decode_capacity_rps(1):.4g} / {probe.decode_capacity_rps(2):.4g}",
        f"assumptions: {TEMPLATES} templates, {INPUT_TOKENS}-token inputs with a {PREFIX_TOKENS}-token shared prefix, "
        f"{OUTPUT_TOKENS} output tokens, prefill amortized over batches of {cg.PREFILL_BATCH} (docs/coupled.md); the "
        f"same for the 340B TP8 setup",
        f"at {deep['load_fraction']:.0%} of 1P capacity the fixed 1P/5D layout costs {deep['poa_1p5d']:.3g}x the "
        f"joint optimum; the split factor is {deep['factor_split']:.3g}x and routing+caching "
        f"{deep['factor_routing_caching']:.3g}x",
    ]
    figures = [_figure(rows_by_slots, out_dir), _regime_figure(regimes[TEMPLATES], out_dir)]
    return Section(
        TITLE,
        tables=tables,
        figures=figures,
        summary={
            "poa_across_load": {str(k): v for k, v in rows_by_slots.items()},
            "poa_across_load_340b": {str(k): v for k, v in rows_340b.items()},
            "planner": planner,
            "dynamics_by_regime": {str(k): v for k, v in regimes.items()},
            "dynamics_by_regime_340b": {str(k): v for k, v in regimes_340b.items()},
        },
        notes=notes,
    )
