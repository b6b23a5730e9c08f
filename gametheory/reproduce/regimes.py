"""Reproduce section: PoA-hat, TTFT P99, ITL P50 and throughput against concurrency C for the paper's three
setups (simulated from the B200 profiles, steady state), the knee from :func:`gametheory.regimes.find_knee`
on the simulated curves, the three regimes, and the analytic knee C* of :mod:`gametheory.serving.queueing`.

Steady state: each point runs ``2 C + body`` requests and discards the first 2 C (the first wave of C
requests all arrive at t = 0 and queue at the prefill worker; keeping them measures the start-up burst,
whose TTFT P99 grows linearly in C). The knee that classifies the regimes is found on ITL P50, where the
simulated cluster saturates (the decode pool; throughput stops growing); the TTFT P99 knee is reported too
and is "none" when its hinge fit has no slope increase (in the simulator TTFT P99 plateaus at about one
full prefill batch, because decode admission is unlimited and the prefill worker is never the bottleneck).
Throughput is C / (mean response time of the measured requests) (Little's law; zero think time): the
simulator's makespan throughput counts the drain after the last arrival, which biases short runs low.
PoA-hat is :func:`gametheory.serving.estimator.matching_ratio` of the measured requests: the simulator's
``window_costs`` (each request's block cost under the state frozen at its window's start, windows of m
requests), with the leading partial window after the warm-up dropped. The column "PoA-hat decision-time
costs" scores the same windows with the router's decision-time ``costs`` instead (for comparison only: under
those an argmin router picks each row's minimum, so every window scores <= 1 by construction).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.errors import InvalidInputError
from gametheory.reproduce import Section, Table

TITLE = "Serving regimes: PoA-hat against concurrency (paper experiments 1, 2, 4)"
SETUPS = (("340B TP8 1P/2D", "b200_nemotron4_340b_tp8_fp8_vllm", 2),
          ("70B TP4 1P/2D", "b200_llama31_70b_tp4_fp8_trtllm", 2),
          ("70B TP4 1P/5D", "b200_llama31_70b_tp4_fp8_trtllm", 5))
GRID = (8, 16, 32, 64, 96, 128, 256, 512, 1024, 1536, 2048, 3072, 4096)
FULL_GRID = (8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144)


def _knee(find_knee, x, y):
    """Hinge knee of y(x) with a 50-sample bootstrap interval, or None when the fit has no knee."""
    try:
        return find_knee(x, np.asarray(y, float), n_boot=50)
    except InvalidInputError:
        return None


def _fmt(knee) -> str:
    return "none" if knee is None else f"{knee.load:.0f} [{knee.interval[0]:.0f}, {knee.interval[1]:.0f}]"


def run(out_dir: Path, full: bool = False) -> Section:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gametheory.regimes import classify, find_knee
    from gametheory.serving.estimator import aligned_window_rows, matching_ratio
    from gametheory.serving.profiles import load_profile
    from gametheory.serving.queueing import predicted_knee
    from gametheory.serving.simulator import simulate

    body_min, body_per_c = (5000, 5) if full else (1000, 2)  # measured requests: max(body_min, body_per_c C)
    grid = FULL_GRID if full else GRID
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    knees, knees_ttft = {}, {}
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for label, name, m in SETUPS:
        p = load_profile(name)
        ttft, thr, poa, poa_dec, itl = [], [], [], [], []
        for c in grid:
            warm = 2 * c
            r = simulate(p, m, c, warm + max(body_min, body_per_c * c), warmup=warm, seed=0)
            ttft.append(r.ttft_p99_ms)
            thr.append(c / r.mean_latency_ms * 1e3)  # Little's law, zero think time (see module docstring)
            itl.append(r.itl_p50_ms)
            body = r.log[warm:]
            aligned = body[aligned_window_rows(body, m)]
            poa.append(matching_ratio(aligned["window_costs"], aligned["worker"]).value)
            poa_dec.append(matching_ratio(aligned["costs"], aligned["worker"]).value)  # decision-time costs
        x = np.array(grid, float)
        knee, knee_ttft = _knee(find_knee, x, itl), _knee(find_knee, x, ttft)
        regimes = classify(x, np.array(itl), knee=knee) if knee is not None else ["n/a"] * len(grid)
        knees[label] = None if knee is None else knee.load
        knees_ttft[label] = None if knee_ttft is None else knee_ttft.load
        c_star = predicted_knee(p, m, output_tokens=128, uncached_tokens=32)
        for i, c in enumerate(grid):
            rows.append([label, c, round(ttft[i], 1), round(itl[i], 2), round(thr[i], 1), round(poa[i], 3),
                         round(poa_dec[i], 3), regimes[i]])
        rows.append([label, "knee ITL P50 (sim)", _fmt(knee), "TTFT P99 knee", _fmt(knee_ttft),
                     "C* analytic", f"{c_star:.0f}", ""])
        for ax, y, t in zip(axes, (ttft, itl, thr, poa),
                            ("TTFT P99 (ms)", "ITL P50 (ms)", "throughput (req/s)", "PoA-hat"), strict=True):
            line, = ax.plot(x, y, "o-", ms=3, label=label)
            if knee is not None:
                ax.axvline(knee.load, ls=":", lw=0.8, color=line.get_color())
            ax.set_xlabel("concurrency C")
            ax.set_xscale("log", base=2)
            ax.set_title(t)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_dir / "regimes.png", dpi=100)
    plt.close(fig)
    table = Table("regimes", ["setup", "C", "TTFT P99 ms", "ITL P50 ms", "throughput req/s", "PoA-hat",
                              "PoA-hat decision-time costs", "regime"], rows)
    return Section(title=TITLE, tables=[table], figures=[out_dir / "regimes.png"],
                   summary={"knee_sim": knees, "knee_sim_ttft_p99": knees_ttft},
                   notes=["Simulated 1P/mD clusters (B200 profiles, 128-token inputs; 128 output tokens and a 96-token "
                          "shared prefix assumed), steady state (first 2 C requests discarded); knee by hinge fit on "
                          "simulated ITL P50 (regimes), TTFT P99 knee reported alongside.",
                          "PoA-hat: Dynamo block costs frozen at each window's start (windows of m requests), "
                          "Hungarian one-per-worker optimum, ratio of sums.",
                          "Not tuned to the paper; see docs/regimes.md for the comparison."])
