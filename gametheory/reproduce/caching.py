"""Reproduce section: Game 2 (selfish KV caching) PoA on complete, line and hierarchical topologies.

Everything is computed by :mod:`gametheory.games.caching.experiments` (exact enumeration of all pure
profiles; MILP for the KVBM comparison): Proposition 2 (complete graph PoA = 1; line PoA growth against
sqrt(n)), Remark 2 (two-level NVLink/InfiniBand hierarchy), the cache paradox and Proposition 5 (HBM
saturation), and the KVBM eviction rule against the equilibrium and the optimum.

References
----------
.. [1] B.-G. Chun, K. Chaudhuri, H. Wee, M. Barreno, C. H. Papadimitriou, J. Kubiatowicz, "Selfish caching in
   distributed systems: a game-theoretic analysis", PODC 2004 (PoA on complete graphs and lines).
.. [2] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Propositions 2
   and 5, Remark 2.
.. [3] NVIDIA Dynamo documentation, "KV Block Manager" (the frequency-based eviction rule compared).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.games.caching import experiments as ex
from gametheory.games.caching import recompute_ms_from_profile
from gametheory.plotting import axis_label, legend, ratio_ylim, save, styled
from gametheory.reproduce import Section, Table
from gametheory.serving.profiles import load_profile

__all__ = ["PROFILE", "TITLE", "run"]

TITLE = "Game 2: selfish KV caching, PoA on complete, line and hierarchical topologies"
PROFILE = "b200_llama31_70b_tp4_fp8_trtllm"  # recompute cost of a block: its prefill time on this profile


@styled
def _plot(out_dir: Path, line_rows, hbm_rows) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    n = np.array([r[0] for r in line_rows])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(n, [r[2] for r in line_rows], "o-", label="exact PoA (worst alpha)")
    ax.plot(n, [r[4] for r in line_rows], "s--", label="PoA at alpha = n/2 (centre replica)")
    c = line_rows[-1][2] / np.sqrt(n[-1])
    ax.plot(n, c * np.sqrt(n), ":", label=f"{c:.2f} sqrt(n)")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xlabel("workers n on a line")
    ax.set_ylabel(axis_label("PoA", "worst equilibrium / optimum"))
    legend(ax)
    fig.tight_layout()
    p1 = out_dir / "caching_line_poa.png"
    save(fig, p1)
    fig, ax = plt.subplots(figsize=(6, 4))
    B = [r[0] for r in hbm_rows]
    poa, pos = np.array([r[2] for r in hbm_rows]), np.array([r[3] for r in hbm_rows])
    same = bool(np.allclose(poa, pos, rtol=1e-9, atol=0.0))  # then say so: the two lines coincide
    ax.plot(B, poa, "o-", lw=3.0, ms=7, label="PoA (worst equilibrium)")
    ax.plot(B, pos, "s--", label="PoS (best equilibrium)" + (": equal to the PoA at every size" if same else ""))
    ax.axvline(hbm_rows[0][1] + 0.5, color="grey", ls=":", label=f"G1 (HBM) capacity: {hbm_rows[0][1]} blocks")
    ax.set_xlabel("KV blocks demanded per worker (context)")
    ax.set_ylabel(axis_label("PoA or PoS", "equilibrium / optimum"))
    ratio_ylim(ax, [r[2] for r in hbm_rows] + [r[3] for r in hbm_rows])  # a 0.3 % effect stays 0.3 %
    legend(ax)
    fig.tight_layout()
    p2 = out_dir / "caching_hbm_saturation.png"
    save(fig, p2)
    return [p1, p2]


def run(out_dir: Path, full: bool = False) -> Section:
    """Compute the Game 2 tables and figures (about 5 s by default).

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for the section's figures (created if missing).
    full : bool
        Run the large grids: n up to 14 on the line (default 12), 4 alpha values per n (default 2) and 3 KVBM
        seeds (default 1).

    Returns
    -------
    Section
        The section's tables, figures, summary (the keys ``summary.json`` holds for it) and notes.
    """
    out_dir = Path(out_dir)
    complete = ex.complete_graph_poa()
    counter = ex.complete_graph_counterexamples()
    line = ex.line_poa(ns=range(2, 15 if full else 13), alpha_grid=4 if full else 2)
    before, after, _, _ = ex.cache_paradox()
    hbm = ex.hbm_saturation()
    hier = ex.hierarchical_poa()
    recompute = recompute_ms_from_profile(load_profile(PROFILE))
    kvbm = ex.kvbm_vs_game(seeds=(0, 1, 2) if full else (0,), recompute_ms=recompute)
    figs = _plot(out_dir, line, hbm)
    tables = [
        Table("Complete graph, uniform demand (PoA = 1 theorem)", ["n", "alpha", "PoA", "PoS", "#NE"],
              [list(r) for r in complete[::5]]),
        Table("Complete graph, assumptions violated", ["case", "PoA", "PoS"], [list(r) for r in counter]),
        Table("Line topology (Chun et al.)", ["n", "worst alpha", "PoA", "sqrt(n)", "PoA at alpha=n/2"],
              [list(r) for r in line]),
        Table("Cache paradox", ["instance", "PoA", "PoS", "optimum"],
              [["before (G1 only)", before.poa, before.pos, before.optimum_cost],
               ["after (+G2 at A)", after.poa, after.pos, after.optimum_cost]]),
        Table("HBM saturation (Proposition 5)", ["blocks", "G1 cap", "PoA", "PoS", "optimum", "#NE"],
              [list(r) for r in hbm]),
        Table("Two-level NVLink/IB hierarchy", ["nodes", "gpus/node", "alpha", "PoA"], [list(r) for r in hier]),
        Table("KVBM vs equilibrium vs optimum", ["seed", "KVBM", "equilibrium", "optimum", "KVBM/opt", "KVBM regret"],
              [list(r) for r in kvbm]),
    ]
    summary = {
        "complete_graph_max_poa": max(r[2] for r in complete),
        "line_poa": {int(r[0]): r[2] for r in line},
        "cache_paradox_poa": [before.poa, after.poa],
        "hbm_poa": {int(r[0]): r[2] for r in hbm},
        "hierarchy_max_poa": max(r[3] for r in hier),
        "kvbm_over_opt": [r[4] for r in kvbm],
    }
    notes = ["PoA values are exact pure-equilibrium PoA from enumerating every profile.",
             "The complete-graph theorem needs uniform demand and alpha < demand * (recompute - access); "
             "the counterexample table shows PoA > 1 when either fails."]
    return Section(TITLE, tables, figs, summary, notes)
