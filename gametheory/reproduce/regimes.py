"""Reproduce section: PoA-hat, TTFT P99 and throughput against concurrency C for the paper's three setups
(simulated from the B200 profiles), the knee from :func:`gametheory.regimes.find_knee` on the simulated
TTFT P99 curve, the three regimes, and the analytic knee C* of :mod:`gametheory.serving.queueing`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.reproduce import Section, Table

TITLE = "Serving regimes: PoA-hat against concurrency (paper experiments 1, 2, 4)"
SETUPS = (("340B TP8 1P/2D", "b200_nemotron4_340b_tp8_fp8_vllm", 2),
          ("70B TP4 1P/2D", "b200_llama31_70b_tp4_fp8_trtllm", 2),
          ("70B TP4 1P/5D", "b200_llama31_70b_tp4_fp8_trtllm", 5))
GRID = (8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768)


def run(out_dir: Path, full: bool = False) -> Section:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gametheory.regimes import classify, find_knee
    from gametheory.serving.estimator import poa_hat_log
    from gametheory.serving.profiles import load_profile
    from gametheory.serving.queueing import predicted_knee
    from gametheory.serving.simulator import simulate

    n_req = 20_000 if full else 2_500
    grid = GRID + ((1024, 1536) if full else ())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    knees = {}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for label, name, m in SETUPS:
        p = load_profile(name)
        ttft, thr, poa = [], [], []
        for c in grid:
            r = simulate(p, m, c, n_req, warmup=min(n_req // 5, 2 * c), seed=0)
            body = r.log[min(n_req // 5, 2 * c):]
            ttft.append(r.ttft_p99_ms)
            thr.append(r.throughput_rps)
            poa.append(poa_hat_log(body).value)
        x = np.array(grid, float)
        try:
            knee = find_knee(x, np.array(ttft), n_boot=50)
            regimes = classify(x, np.array(ttft), knee=knee)
            knee_txt = f"{knee.load:.0f} [{knee.interval[0]:.0f}, {knee.interval[1]:.0f}]"
        except InvalidInputError:
            knee, regimes, knee_txt = None, ["n/a"] * len(grid), "none in grid"
        knees[label] = None if knee is None else knee.load
        c_star = predicted_knee(p, m, output_tokens=128, uncached_tokens=32)
        for i, c in enumerate(grid):
            rows.append([label, c, round(ttft[i], 1), round(thr[i], 1), round(poa[i], 3), regimes[i]])
        rows.append([label, "knee (sim, TTFT P99)", knee_txt,
                     "C* analytic", f"{c_star:.0f}", ""])
        for ax, y, t in zip(axes, (ttft, thr, poa), ("TTFT P99 (ms)", "throughput (req/s)", "PoA-hat"), strict=True):
            ax.plot(x, y, "o-", label=label)
            if knee is not None:
                ax.axvline(knee.load, ls=":", lw=0.8)
            ax.set_xlabel("concurrency C")
            ax.set_xscale("log", base=2)
            ax.set_title(t)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "regimes.png", dpi=100)
    plt.close(fig)
    table = Table("regimes", ["setup", "C", "TTFT P99 ms", "throughput req/s", "PoA-hat", "regime"], rows)
    return Section(title=TITLE, tables=[table], figures=[out_dir / "regimes.png"],
                   summary={"knee_sim": knees},
                   notes=["Simulated 1P/mD clusters (B200 profiles, 128-token inputs; 128 output tokens and a 96-token "
                          "shared prefix assumed); knee by hinge fit on simulated TTFT P99.",
                          "Not tuned to the paper; see docs/regimes.md for the comparison."])
