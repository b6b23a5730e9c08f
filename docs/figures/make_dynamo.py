"""Figures and numbers of docs/dynamo.md: NVIDIA Dynamo's real KV router on the calibrated engine model (replay
clock), against our simulator, and experiment 3.

    .venv/bin/python docs/figures/make_dynamo.py [--full] [--live]

needs ai-dynamo 1.6.1 (``make dynamo``). Runs the ``dynamo`` and ``experiment3`` sections of ``gametheory
reproduce`` and prints them, and writes docs/figures/dynamo_load.png (mean latency and PoA-hat of the replay and
the simulator against closed-loop concurrency), then the below-knee TTFT gap between the two, part by part
(:func:`gametheory.serving.validation.ttft_breakdown`). ``--full``: three setups, the long grid, 3 trials.
``--live`` instead runs the controller on the live loopback stack (about 3 minutes).
"""

from __future__ import annotations

import sys
from pathlib import Path

from gametheory.reproduce import dynamo as dynamo_section
from gametheory.reproduce import experiment3

OUT = Path(__file__).resolve().parent
LIVE_RAMP = (2, 4, 8, 16, 32, 32)
GAP_SETUP, GAP_GRID, GAP_SEEDS = "70b_1p5d", (16, 32, 64), (0, 1, 2, 3, 4, 5, 6, 7)


def figure(summary: dict) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gametheory import plotting

    with plotting.style():
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        setups = [(k, v) for k, v in summary.items() if isinstance(v, dict) and "concurrency" in v]
        for i, (setup, s) in enumerate(setups):
            c = plotting.COLORS[i]
            ax.plot(s["concurrency"], s["poa_hat_replay"], "o-", color=c, label=f"{setup}, Dynamo replay")
            ax.plot(s["concurrency"], s["poa_hat_sim"], "s--", color=c, alpha=0.7, label=f"{setup}, our simulator")
        ax.axvspan(96, 128, color="0.5", alpha=0.12, lw=0)
        ax.set(xscale="log", yscale="log", xlabel="closed-loop concurrency C",
               ylabel="PoA-hat (realized / frozen-model optimum)",
               title="The real router and our simulator on one engine model")
        plotting.legend(ax, fontsize=8)
    path = OUT / "dynamo_load.png"
    plotting.save(fig, path)
    return path


def live_experiment3(trials: int = 3) -> None:
    """The controller on the live stack (70B 1P/2D, one frontend per regime, 32 output tokens, 5 s polls)."""
    from gametheory.serving import dynamo as d
    from gametheory.serving import dynamo_live as live
    from gametheory.serving.controller import PAPER_TABLE, AdaptiveController, static_vs_adaptive
    from gametheory.serving.engine import paper_cluster

    p = paper_cluster("70b_1p2d").profile
    print(f"== live experiment 3: 70B 1P/2D, ramp C = {LIVE_RAMP}, osl 32, 5 s polls, {trials} trials ==")
    with live.LiveStack(d.timing_file_for(p, "measured"), 1, 2, PAPER_TABLE) as stack:
        base = live.client_ttft_p99_ms(live.closed_loop(stack.url(0), 1, 3.0, osl=32))
        sat = tuple(i for i, c in enumerate(LIVE_RAMP) if c >= 32)
        out = static_vs_adaptive(lambda trial: live.LiveActuator(stack, LIVE_RAMP, p.name, osl=32),
                                 lambda: AdaptiveController.from_baseline(base, 3.0, 10.0), len(LIVE_RAMP), sat, trials)
    for arm in ("static", "adaptive"):
        rows = [o for o in out if o.arm == arm]
        print(f"  {arm:8s} TTFT P99 {sum(o.ttft_p99_ms for o in rows) / len(rows):.1f} ms, throughput "
              f"{sum(o.throughput_rps for o in rows) / len(rows):.1f} req/s, regimes (trial 0): {rows[0].regimes}")


def ttft_gap(setup: str = GAP_SETUP, grid=GAP_GRID, seeds=GAP_SEEDS) -> None:
    """Below the knee: mean TTFT of the replay and of our simulator, part by part (calibrated engine model)."""
    import numpy as np

    from gametheory.serving.calibration import calibrate
    from gametheory.serving.validation import TTFT_PARTS, ttft_breakdown

    cal = calibrate()
    cluster, workload = cal.cluster(setup), cal.workload()
    print(f"== below-knee TTFT, replay vs simulator: {cluster.name}, mean over seeds {list(seeds)} (ms) ==")
    head = ("ttft", "queue", "step", "handoff", "first", "p99", "batch")
    print(f"  {'C':>4s} {'side':6s} " + " ".join(f"{h:>8s}" for h in head) + "   replay handoff = reserve + activate")
    for c in grid:
        runs = [ttft_breakdown(cluster, c, workload=workload, seed=s) for s in seeds]
        mean = {side: {k: float(np.mean([r[side][k] for r in runs])) for k in runs[0][side]}
                for side in ("replay", "sim", "gap")}
        for side in ("replay", "sim"):
            m = mean[side]
            vals = [m["ttft_mean_ms"], *(m[k] for k in TTFT_PARTS), m["ttft_p99_ms"], m["prefill_batch"]]
            tail = (f"   {m['reserve_ms']:.2f} + {m['activate_ms']:.2f} (decode step {m['itl_mean_ms']:.2f}, "
                    f"idle decode worker {m['idle_share']:.1%})" if side == "replay" else "")
            print(f"  {c:4d} {side:6s} " + " ".join(f"{v:8.2f}" for v in vals) + tail)
        g, rep = mean["gap"], mean["replay"]
        print(f"  {c:4d} {'gap':6s} " + " ".join(f"{g[k]:8.2f}" for k in ("ttft_mean_ms", *TTFT_PARTS))
              + f"   = {g['ttft_mean_ms'] / rep['ttft_mean_ms']:.1%} of the replay's TTFT; handoff "
              f"{g['handoff_ms'] / g['ttft_mean_ms']:.0%} of the gap")


def main() -> None:
    if "--live" in sys.argv:
        live_experiment3()
        return
    full = "--full" in sys.argv
    for module in (dynamo_section, experiment3):
        section = module.run(OUT, full=full)
        print(f"== {section.title} ==")
        print(section.render())
        if module is dynamo_section:
            print("figure:", figure(section.summary))
            ttft_gap()


if __name__ == "__main__":
    main()
