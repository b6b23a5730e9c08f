"""Figures and numbers of docs/caching.md: `python docs/figures/make_caching.py`.

Prints every number on the page and writes into docs/figures/ (in the shared figure style of gametheory.plotting):

* caching_line_poa.png, caching_hbm_saturation.png (by gametheory.reproduce.caching, full grids), and the
  tables of that section;
* caching_complete_graph.png: exact PoA of every complete-graph instance of the theorem's table (all 1), with
  the two counterexamples outside its assumptions;
* caching_paradox.png: the equilibrium costs and the optimum before and after adding the cache;
* caching_kvbm.png: the KVBM placement's social cost against best-response dynamics and the MILP optimum;

plus the default costs, the full complete-graph table, the HBM optimum's cost per block and PoA/sqrt(n) on the
line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.games.caching import (
    TIER_NAMES,
    block_bytes,
    default_tier_access_ms,
    infiniband_ms,
    nvlink_ms,
    recompute_ms_from_profile,
)
from gametheory.games.caching import experiments as ex
from gametheory.plotting import COLORS, axis_label, legend, save, styled
from gametheory.reproduce import Table, caching
from gametheory.serving.profiles import load_profile

OUT = Path(__file__).parent
PROFILE = "b200_llama31_70b_tp4_fp8_trtllm"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, name: str) -> Path:
    path = OUT / name
    fig.tight_layout()
    save(fig, path)  # the shared style's resolution; refuses a panel without y-label units or legend
    return path


def defaults_table() -> Table:
    acc = default_tier_access_ms()
    rows = [[f"{t} access", float(a)] for t, a in zip(TIER_NAMES, acc, strict=True)]
    rows += [["NVLink 5 edge", nvlink_ms()], ["InfiniBand NDR edge", infiniband_ms()],
             ["block size (MB)", block_bytes() / 1e6], [f"recompute of one block ({PROFILE})",
                                                        recompute_ms_from_profile(load_profile(PROFILE))]]
    return Table("Default costs (ms per 64-token block unless stated)", ["item", "value"], rows)


def complete_graph_tables(rows) -> list[Table]:
    ns = sorted({r[0] for r in rows})
    alphas = sorted({r[1] for r in rows})
    by = {(r[0], r[1]): r for r in rows}
    poa = Table("Complete graph, uniform demand 1, d = 1, server 50: exact PoA (rows n, columns alpha)",
                ["n"] + [f"alpha={a:g}" for a in alphas], [[n] + [by[n, a][2] for a in alphas] for n in ns])
    pos = Table("Complete graph, same grid: PoS", ["n"] + [f"alpha={a:g}" for a in alphas],
                [[n] + [by[n, a][3] for a in alphas] for n in ns])
    neq = Table("Complete graph, same grid: number of pure equilibria", ["n"] + [f"alpha={a:g}" for a in alphas],
                [[n] + [by[n, a][4] for a in alphas] for n in ns])
    return [poa, pos, neq]


@styled
def plot_complete(rows, counter) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for n in sorted({r[0] for r in rows}):
        sub = [r for r in rows if r[0] == n]
        ax.plot([r[1] for r in sub], [r[2] for r in sub], "o", ms=4 + 1.5 * n, mfc="none",
                label=f"n = {n} (assumptions hold)")
    alphas = {"heterogeneous demand": 20.0, "alpha >= demand * server": 10.5}   # the instances' alpha
    for k, (name, poa, _) in enumerate(counter):
        ax.plot([alphas[name]], [poa], "x", color=COLORS[1], ms=10, mew=2.2,
                label="an assumption violated" if k == 0 else None)
        ax.annotate(f"{name}\nPoA {poa:.3f}", (alphas[name], poa), textcoords="offset points", xytext=(-12, -6),
                    ha="right", va="top", fontsize=9, color=COLORS[1])
    ax.set_xscale("log")
    ticks = sorted({r[1] for r in rows} | set(alphas.values()))
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("placement cost alpha (ms)")
    ax.set_ylabel(axis_label("PoA", "worst equilibrium / optimum"))
    ax.set_ylim(0.8, 3.3)
    ax.set_title("Complete graph: PoA = 1 under the theorem's assumptions")
    legend(ax, loc="upper left")
    return _save(fig, "caching_complete_graph.png")


@styled
def plot_paradox(before, after) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for x, res in enumerate((before, after)):
        c = np.sort(res.equilibrium_costs)
        ax.plot(np.full(len(c), x), c, "o", ms=8, color=COLORS[0], label="pure equilibria" if x == 0 else None)
        ax.hlines(res.optimum_cost, x - 0.25, x + 0.25, color=COLORS[2], lw=2.5, label="optimum" if x == 0 else None)
        ax.annotate(f"PoA {res.poa:.3f}", (x, float(c.max())), textcoords="offset points", xytext=(10, 4),
                    fontsize=10)
    ax.set_xticks([0, 1], ["before (G1 only)", "after (+ G2 at A)"])
    ax.set_xlim(-0.6, 1.6)
    lo = min(before.optimum_cost, after.optimum_cost)
    ax.set_ylim(0.0, 1.2 * max(float(np.max(before.equilibrium_costs)), float(np.max(after.equilibrium_costs))))
    ax.set_ylabel(axis_label("social cost", "ms"))
    ax.set_title(f"Cache paradox: adding a cache adds a worse equilibrium (optimum {lo:.4g} ms)")
    legend(ax, loc="lower right")
    return _save(fig, "caching_paradox.png")


@styled
def plot_kvbm(kvbm_rows) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    seeds = np.arange(len(kvbm_rows))
    w = 0.27
    for k, (label, col) in enumerate((("KVBM rule", 1), ("best-response equilibrium", 2), ("optimum (MILP)", 3))):
        ax.bar(seeds + (k - 1) * w, [r[col] for r in kvbm_rows], w, label=label)
    for s, r in zip(seeds, kvbm_rows, strict=True):
        ax.annotate(f"x{r[4]:.3f}", (s - w, r[1]), textcoords="offset points", xytext=(0, 2), ha="center",
                    fontsize=9)
    ax.set_xticks(seeds, [f"trace seed {r[0]}" for r in kvbm_rows])
    ax.set_ylabel(axis_label("social cost", "ms"))
    ax.set_title("KVBM placement vs equilibrium vs optimum (3-worker IB line; x = KVBM / optimum)")
    ax.set_ylim(0, 1.35 * max(r[1] for r in kvbm_rows))
    legend(ax, loc="upper center", ncol=3)
    return _save(fig, "caching_kvbm.png")


def main() -> None:
    sec = caching.run(OUT, full=True)
    tables = {t.name: t for t in sec.tables}
    complete = ex.complete_graph_poa()
    counter = [list(r) for r in tables["Complete graph, assumptions violated"].rows]
    before, after, _, _ = ex.cache_paradox()
    hbm = tables["HBM saturation (Proposition 5)"].rows
    line = tables["Line topology (Chun et al.)"].rows
    kvbm = tables["KVBM vs equilibrium vs optimum"].rows

    extra = [defaults_table(), *complete_graph_tables(complete)]
    extra.append(Table("HBM saturation, 6 digits: PoA, PoS and the optimum's cost per extra block",
                       ["blocks", "PoA", "PoS", "optimum", "increment"],
                       [[r[0], r[2], r[3], r[4], r[4] - p[4] if p else r[4]]
                        for p, r in zip([None] + hbm[:-1], hbm, strict=True)]))
    extra.append(Table("KVBM, 6 digits: cost ratios to the MILP optimum", ["seed", "KVBM/opt", "equilibrium/opt"],
                       [[r[0], r[1] / r[3], r[2] / r[3]] for r in kvbm]))
    extra.append(Table("Line topology: PoA / sqrt(n)", ["n", "PoA", "PoA/sqrt(n)"],
                       [[r[0], r[2], r[2] / r[3]] for r in line]))
    extra.append(Table("Cache paradox: equilibrium costs", ["instance", "equilibrium costs", "optimum"],
                       [["before", " ".join(f"{c:.4g}" for c in np.sort(before.equilibrium_costs)),
                         before.optimum_cost],
                        ["after", " ".join(f"{c:.4g}" for c in np.sort(after.equilibrium_costs)), after.optimum_cost]]))
    for table in sec.tables + extra:
        print(table.render("{:.6g}" if "digits" in table.name else "{:.4g}"))
        print()
    figs = list(sec.figures) + [plot_complete(complete, counter), plot_paradox(before, after), plot_kvbm(kvbm)]
    for f in figs:
        print("wrote", f)


if __name__ == "__main__":
    main()
