"""Reproduce section: the paper's three regimes from one engine model (experiments 1, 2 and 4).

1. **Calibration** (:func:`gametheory.serving.calibration.calibrate`): the two unknowns the paper leaves open,
   the prefill worker's requests per pass and the output length, from ONE observation, the 70B TP4 1P/5D knee in
   (96, 128]. Nothing else is adjusted.
2. **Load curves** (:func:`gametheory.serving.experiments.load_curve`) of the three setups on the calibrated
   model: TTFT P99, ITL P50, throughput and PoA-hat (paper form, end-to-end and TTFT) against closed-loop
   concurrency C, the simulated knee (hinge of mean latency against C, bootstrap interval) next to the analytic
   knee, and the regimes.
3. **Knee agreement** between the analytic model and the simulator for several engine configurations, and the
   **knee map** (analytic knee over prefill batch x output length) of the three setups.
4. **The (tau, omega) sweep** (:func:`gametheory.serving.experiments.config_spread`): PoA-hat across the 16 router
   configurations below and above the knee (CV, variance ratio).

Summary keys (a contract other tools read): per setup ``340b_1p2d``, ``70b_1p2d``, ``70b_1p5d``: ``knee_c``,
``knee_c_interval``, ``knee_c_analytic``, and lists aligned with ``concurrency``: ``poa_hat`` (paper form,
Dynamo's default router settings), ``ttft_p99_ms``, ``itl_p50_ms``, ``throughput_rps``; once:
``calibration: {parameters: {...}, observation: "..."}``.

References
----------
.. [1] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, sections 5-8.
.. [2] P. J. Denning and J. P. Buzen, "The operational analysis of queueing network models", ACM Computing
   Surveys 10(3), 1978.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from gametheory.reproduce import Section, Table

__all__ = ["SETUPS", "TITLE", "run"]

TITLE = "Serving regimes from one engine model: calibration, knees, PoA-hat (paper experiments 1, 2, 4)"
SETUPS = ("340b_1p2d", "70b_1p2d", "70b_1p5d")
SWEEP_BELOW, SWEEP_ABOVE = 64, 512  # C of the (tau, omega) sweep: half the knee and about 4x past it


def _plateau_and_deep(lc) -> dict:
    """PoA-hat on the plateau (mean over the grid points below the knee from C = 32 on, both forms) and at the
    deepest point, with that point's multiple of the knee."""
    below = np.array([r == "below" for r in lc.regimes]) & (lc.concurrency >= 32)
    deep = int(np.argmax(lc.concurrency))
    knee = lc.knee_c or lc.knee_analytic
    mixed = lc.poa_hat_e2e_over_ttft_model
    return {"poa_hat_plateau": float(lc.poa_hat[below].mean()) if below.any() else None,
            "poa_hat_ttft_plateau": float(lc.poa_hat_ttft[below].mean()) if below.any() else None,
            "poa_hat_e2e_over_ttft_model_plateau": float(mixed[below].mean()) if below.any() else None,
            "poa_hat_deep": float(lc.poa_hat[deep]), "poa_hat_ttft_deep": float(lc.poa_hat_ttft[deep]),
            "poa_hat_e2e_over_ttft_model_deep": float(mixed[deep]),
            "deep_c_over_knee": float(lc.concurrency[deep] / knee)}


def _agreement_configs(cal, full: bool) -> list[tuple[str, int | None, int]]:
    """(label, max_prefill_seqs, output tokens) of the engine configurations whose knees are compared."""
    family = dict(cal.family())
    rows = [("calibrated", cal.prefill_batch, cal.output_tokens)]
    if full:
        rows.append(("serial prefill", 1, family.get(1, cal.output_tokens)))
        rows.append(("vLLM default batching", None, cal.output_tokens))
        for b, o in cal.family():
            if b not in (1, cal.prefill_batch) and o > 1:
                rows.append((f"family b = {b}", b, o))
    return rows


def _knee_map_figure(cal, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from gametheory import plotting
    from gametheory.serving.experiments import knee_map

    batches = np.unique(np.round(np.geomspace(1, 128, 22)).astype(int))
    outputs = np.unique(np.round(np.geomspace(1, 256, 30)).astype(int))
    family = cal.family()
    with plotting.style():
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.4), sharey=True)
        for ax, setup in zip(axes, SETUPS, strict=True):
            k = knee_map(setup, batches, outputs, engine=cal.engine)
            mesh = ax.pcolormesh(outputs, batches, np.log2(k), shading="nearest", cmap="viridis")
            cs = ax.contour(outputs, batches, k, levels=[96, 128], colors=["w", "w"], linestyles=["--", "-"])
            ax.clabel(cs, fmt={96: "96", 128: "128"}, fontsize=9)
            first = ax is axes[0]  # one legend for the three panels, below them
            ax.plot([o for _, o in family], [b for b, _ in family], "o:", color=plotting.COLORS[1], ms=4,
                    label="calibration family (every (b, O) with 70B 1P/5D knee 112)" if first else None)
            ax.plot([cal.output_tokens], [cal.prefill_batch], "*", color=plotting.COLORS[4], ms=14,
                    label=f"calibrated (b = {cal.prefill_batch}, O = {cal.output_tokens})" if first else None)
            ax.set(xscale="log", yscale="log", xlabel="output tokens per request",
                   title=cal.cluster(setup).name)
            for axis in (ax.xaxis, ax.yaxis):  # 1, 10, 100 rather than powers of ten
                axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            if ax is axes[0]:
                ax.set_ylabel("prefill batch (requests per step)")
        bar = fig.colorbar(mesh, ax=axes, shrink=0.9)
        ticks = [c for c in (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
                 if mesh.norm.vmin <= np.log2(c) <= mesh.norm.vmax]
        bar.set_ticks(np.log2(ticks), labels=[str(c) for c in ticks])
        bar.set_label("analytic knee C* (clients, log scale)")
        fig.suptitle("Analytic knee over prefill batch and output length; contours at the paper's C = 96 (dashed) "
                     "and 128 (solid)")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, bbox_to_anchor=(0.45, -0.08))
    path = out_dir / "knee_map.png"
    plotting.save(fig, path)
    return path


def _curves_figure(curves: dict, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    from gametheory import plotting

    panels = (("ttft_p99_ms", "TTFT P99", "ms"), ("itl_p50_ms", "ITL P50", "ms"),
              ("throughput_rps", "throughput", "requests/s"), ("poa_hat", "PoA-hat", None))
    plain = FuncFormatter(lambda v, _: f"{v:g}")  # 10, 100, 1000 rather than powers of ten
    with plotting.style():
        fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
        for i, setup in enumerate(SETUPS):
            lc = curves[setup]
            color = plotting.COLORS[i]
            for ax, (key, name, unit) in zip(axes, panels, strict=True):
                first = ax is axes[0]  # series and knees named once, in the legend below the panels
                ax.plot(lc.concurrency, getattr(lc, key), "o-", ms=3, color=color, label=lc.setup if first else None)
                if key == "poa_hat":
                    ax.plot(lc.concurrency, lc.poa_hat_ttft, "s--", ms=3, color=color, alpha=0.6)
                if lc.knee is not None:
                    ax.axvline(lc.knee.load, ls=":", lw=1.2, color=color,
                               label=f"simulated knee, {lc.setup}: C = {lc.knee.load:.0f}" if first else None)
                ax.set(xscale="log", xlabel="closed-loop concurrency C (clients)", title=name,
                       ylabel=plotting.axis_label(name, unit) if unit else "PoA-hat (realized / frozen-model optimum)")
        axes[0].set_yscale("log")
        axes[3].set_yscale("log")
        for ax in axes:
            ax.axvspan(96, 128, color="0.5", alpha=0.12, lw=0, label="the paper's knee, C in (96, 128]"
                       if ax is axes[0] else None)
            ax.xaxis.set_major_formatter(plain)
            if ax.get_yscale() == "log":
                ax.yaxis.set_major_formatter(plain)
        # the PoA-hat panel's two forms, told apart by line style
        axes[3].legend([Line2D([], [], color="0.3", ls="-", marker="o", ms=3),
                        Line2D([], [], color="0.3", ls="--", marker="s", ms=3, alpha=0.6)],
                       ["paper form (end-to-end)", "TTFT form"], loc="upper left", fontsize=9)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.suptitle("Calibrated engine model, three setups: load curves, simulated knees and the paper's knee")
        fig.tight_layout()
        fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.16))
    path = out_dir / "regimes.png"
    plotting.save(fig, path)
    return path


def _sweep_figure(spreads: dict, out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gametheory import plotting

    with plotting.style():
        fig, ax = plt.subplots(figsize=(9, 3.8))
        for i, (setup, sp) in enumerate(spreads.items()):
            x = np.arange(len(sp.configs))
            ax.plot(x, sp.below, "o-", color=plotting.COLORS[i], label=f"{setup}, C = {sp.below_c}")
            ax.plot(x, sp.above, "s--", color=plotting.COLORS[i], label=f"{setup}, C = {sp.above_c}")
        ax.set_xticks(x, [f"{t:g}/{o:g}" for t, o in sp.configs], rotation=60, fontsize=8)
        ax.set(xlabel="router setting tau / omega", ylabel="PoA-hat (realized / frozen-model optimum)",
               yscale="log", title="PoA-hat across the 16 router configurations, below and above the knee")
        plotting.plain_log_ticks(ax)
        plotting.legend(ax, fontsize=8, ncol=2)
    path = out_dir / "regimes_tau_omega.png"
    plotting.save(fig, path)
    return path


def run(out_dir: Path, full: bool = False) -> Section:
    """Run the section.

    Parameters
    ----------
    out_dir : Path
        Folder for the figures (created if missing).
    full : bool
        The large grid (25 concurrencies, max(4000, 8 C) measured requests a point, the (tau, omega) sweep on all three
        setups, the knee agreement over the calibration family) instead of the default one.

    Returns
    -------
    Section
        Tables, figures, notes and the summary keys of the module docstring.
    """
    from gametheory.serving.calibration import calibrate
    from gametheory.serving.experiments import FULL_GRID, GRID, config_spread, load_curve

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cal = calibrate()
    wl = cal.workload()
    grid = FULL_GRID if full else GRID
    measured = (lambda c: max(4000, 8 * c)) if full else (lambda c: max(1500, 4 * c))
    summary: dict = {"calibration": cal.to_dict()}
    curves, rows = {}, []
    pool = ProcessPoolExecutor(max_workers=2)  # one pool for every simulation of the section
    for setup in SETUPS:
        lc = load_curve(setup, grid, engine=cal.engine, workload=wl, measured=measured, executor=pool)
        curves[setup] = lc
        summary[setup] = {
            "knee_c": lc.knee_c, "knee_c_interval": None if lc.knee is None else [float(v) for v in lc.knee.interval],
            "knee_c_analytic": lc.knee_analytic, "first_grid_c_past_knee": lc.first_past_knee,
            "concurrency": lc.concurrency.tolist(), "poa_hat": lc.poa_hat.tolist(),
            "poa_hat_ttft": lc.poa_hat_ttft.tolist(),
            "poa_hat_e2e_over_ttft_model": lc.poa_hat_e2e_over_ttft_model.tolist(),
            "ttft_p99_ms": lc.ttft_p99_ms.tolist(),
            "itl_p50_ms": lc.itl_p50_ms.tolist(), "throughput_rps": lc.throughput_rps.tolist(),
            "mean_latency_ms": lc.mean_latency_ms.tolist(), "regimes": lc.regimes,
            **_plateau_and_deep(lc)}
        for i, c in enumerate(lc.concurrency):
            rows.append([lc.setup, int(c), float(lc.ttft_p99_ms[i]), float(lc.itl_p50_ms[i]),
                         float(lc.throughput_rps[i]), float(lc.poa_hat[i]), float(lc.poa_hat_ttft[i]),
                         float(lc.poa_hat_e2e_over_ttft_model[i]), lc.regimes[i]])
    knee_rows = []
    for setup in SETUPS:
        lc = curves[setup]
        lo, hi = (None, None) if lc.knee is None else lc.knee.interval
        knee_rows.append([lc.setup, "calibrated", cal.prefill_batch, cal.output_tokens, lc.knee_c,
                          f"[{lo:.0f}, {hi:.0f}]", lc.knee_analytic, lc.knee_c / lc.knee_analytic - 1,
                          lc.first_past_knee])
    agreement = []
    for label, b, o in _agreement_configs(cal, full)[1:]:
        eng = replace(cal.engine, max_prefill_seqs=b)
        for setup in SETUPS:
            lc = load_curve(setup, GRID, engine=eng, workload=replace(wl, output_tokens=(o, o)), n_boot=20,
                            executor=pool)
            if lc.knee is None:
                knee_rows.append([lc.setup, label, b or "none", o, None, "no knee", lc.knee_analytic, None, None])
                continue
            lo, hi = lc.knee.interval
            knee_rows.append([lc.setup, label, b or "none", o, lc.knee_c, f"[{lo:.0f}, {hi:.0f}]", lc.knee_analytic,
                              lc.knee_c / lc.knee_analytic - 1, lc.first_past_knee])
    for r in knee_rows:
        if r[7] is not None:
            agreement.append(abs(r[7]))
    summary["knee_agreement_max_rel"] = float(max(agreement))
    summary["knee_agreement"] = [{"setup": r[0], "config": r[1], "max_prefill_seqs": r[2], "output_tokens": r[3],
                                  "knee_c": r[4], "knee_c_analytic": r[6], "rel_diff": r[7]} for r in knee_rows]
    # predictions across the admissible calibration family (the spread the one observation allows)
    from gametheory.serving.engine import paper_cluster
    from gametheory.serving.queueing import analytic_knee

    fam_rows = []
    for b, o in cal.family():
        eng = replace(cal.engine, max_prefill_seqs=b)
        knees = [analytic_knee(paper_cluster(s, eng), replace(wl, output_tokens=(o, o))) for s in SETUPS]
        fam_rows.append([b, o] + knees)
    summary["family"] = [{"max_prefill_seqs": r[0], "output_tokens": r[1], **dict(zip(SETUPS, r[2:], strict=True))}
                         for r in fam_rows]
    # the shared prefix is an assumption, not calibrated: the same rule under another prefix (--full only)
    prefix_rows = []
    if full:
        for c in (cal, calibrate(prefix_tokens=64)):
            prefix_rows.append([c.prefix_tokens, c.prefill_batch, c.output_tokens]
                               + [analytic_knee(c.cluster(s), c.workload()) for s in SETUPS])
        summary["prefix_sensitivity"] = [{"shared_prefix_tokens": r[0], "max_prefill_seqs": r[1],
                                          "output_tokens": r[2], **dict(zip(SETUPS, r[3:], strict=True))}
                                         for r in prefix_rows]
    # experiment 4: the (tau, omega) sweep
    spreads = {}
    for setup in (SETUPS if full else ("340b_1p2d",)):
        sp = config_spread(setup, SWEEP_BELOW, SWEEP_ABOVE, engine=cal.engine, workload=wl, measured=measured,
                           executor=pool)
        spreads[setup] = sp
        summary[setup]["tau_omega"] = {"below_c": sp.below_c, "above_c": sp.above_c, "cv_below": sp.cv_below,
                                       "cv_above": sp.cv_above, "variance_ratio": sp.variance_ratio,
                                       "poa_hat_below_mean": float(sp.below.mean()),
                                       "poa_hat_below_sd": float(sp.below.std()),
                                       "poa_hat_above_mean": float(sp.above.mean()),
                                       "poa_hat_above_sd": float(sp.above.std())}
    pool.shutdown()
    figures = [_curves_figure(curves, out_dir), _knee_map_figure(cal, out_dir), _sweep_figure(spreads, out_dir)]
    tables = [
        Table("Calibration: two unknowns from one observation (" + cal.observation + ")",
              ["parameter", "value", "admissible range"],
              [["max_prefill_seqs (requests per prefill step)", cal.prefill_batch,
                f"{cal.batch_range[0]} to {cal.batch_range[1]}"],
               ["output_tokens", cal.output_tokens, "O(b) along the family below"]]),
        Table("Load curves on the calibrated model (steady state: first 2 C requests discarded)",
              ["setup", "C", "TTFT P99 ms", "ITL P50 ms", "throughput req/s", "PoA-hat", "PoA-hat TTFT",
               "e2e / TTFT model", "regime"],
              rows),
        Table("Knees: simulated (hinge of mean latency vs C) vs analytic C* = X_max (R_full + Z)",
              ["setup", "engine", "prefill batch", "output", "sim knee", "95 % interval", "analytic",
               "sim/analytic - 1", "first paper-grid C past"], knee_rows),
        Table("The calibration family: every (b, O) that puts the 70B 1P/5D knee at 112, and the analytic knees "
              "it predicts (paper: (96, 128] for all three)",
              ["prefill batch", "output"] + [f"knee {s}" for s in SETUPS], fam_rows),
        *([Table("The shared-prefix assumption (not calibrated): the same calibration rule with another shared "
                 "prefix, and the analytic knees it predicts", ["shared prefix", "prefill batch", "output"]
                 + [f"knee {s}" for s in SETUPS], prefix_rows)] if prefix_rows else []),
        Table("(tau, omega) sweep, 16 configurations: PoA-hat mean, CV and variance ratio (paper: CV < 0.5 % "
              "below the knee, 37-58x the variance at saturation)",
              ["setup", "C below", "mean", "CV", "C above", "mean", "CV", "variance ratio"],
              [[s, sp.below_c, float(sp.below.mean()), sp.cv_below, sp.above_c, float(sp.above.mean()), sp.cv_above,
                sp.variance_ratio] for s, sp in spreads.items()]),
    ]
    notes = [f"engine: vLLM defaults (max_num_seqs 1024, max_num_batched_tokens 8192, chunked prefill, prefix "
             f"caching, block 16) with the calibrated max_prefill_seqs = {cal.prefill_batch}; workload: "
             f"{wl.n_templates} templates, {wl.mean_input:g}-token inputs sharing {wl.prefix_tokens} tokens, "
             f"{cal.output_tokens} output tokens; KV over NVLink (70B) or InfiniBand (340B)",
             "PoA-hat: the paper's form, realized latencies against the Hungarian optimum of the engine model's "
             "frozen latencies (windows of m = decode workers); 'PoA-hat TTFT' scores TTFT the same way",
             "'e2e / TTFT model' is NOT the paper's form but a diagnostic of its level: realized end-to-end "
             "latencies against the optimum of the frozen TTFT model, i.e. what PoA-hat reads when the cost model "
             "leaves the decode phase out (docs/regimes.md)",
             f"largest |simulated / analytic knee - 1| over every setup and engine configuration: "
             f"{summary['knee_agreement_max_rel']:.1%}"]
    return Section(TITLE, tables=tables, figures=figures, summary=summary, notes=notes)
