"""Writes docs/figures/regimes.png and regimes_tau_omega.png and prints the numbers in docs/regimes.md.
Run: .venv/bin/python docs/figures/make_regimes.py"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gametheory.reproduce.regimes import SETUPS, run  # noqa: E402
from gametheory.serving.estimator import aligned_window_rows, matching_ratio  # noqa: E402
from gametheory.serving.profiles import load_profile  # noqa: E402
from gametheory.serving.queueing import predicted_knee  # noqa: E402
from gametheory.serving.simulator import simulate  # noqa: E402
from gametheory.serving.sweeps import cv, sweep, tau_omega_grid  # noqa: E402
from gametheory.serving.validation import sim_vs_model

OUT = Path(__file__).parent
SAT_C = 3072  # a grid point past the simulated knee of 70B 1P/5D (docs/regimes.md)


def window_diagnostics(c):
    """Why PoA-hat < 1 for the argmin router: per setup at concurrency c (same runs as the regimes table),
    PoA-hat from window-frozen costs and from decision-time costs, the share of windows whose m frozen rows are
    identical, the mean number of distinct workers the router uses per window, and ACTUAL / sum of row minima
    (the optimum without the one-per-worker matching constraint)."""
    for label, name, m in SETUPS:
        warm = 2 * c
        r = simulate(load_profile(name), m, c, warm + max(1000, 2 * c), warmup=warm, seed=0)
        body = r.log[warm:]
        b = body[aligned_window_rows(body, m)]
        k = b.size // m * m
        wc, ch = b["window_costs"][:k].reshape(-1, m, m), b["worker"][:k].reshape(-1, m)
        same = np.mean(np.all(wc == wc[:, :1, :], axis=(1, 2)))
        distinct = np.mean([np.unique(x).size for x in ch])
        slack = np.take_along_axis(wc, ch[:, :, None], 2).sum() / wc.min(axis=2).sum()
        print(f"  {label} C={c}: PoA-hat window-frozen {matching_ratio(b['window_costs'], b['worker']).value:.3f}, "
              f"decision-time {matching_ratio(b['costs'], b['worker']).value:.3f}; identical rows in {same:.1%} of windows; "
              f"{distinct:.2f} distinct workers per window (of {m}); ACTUAL / sum of row minima {slack:.4f}")


def main():
    sec = run(OUT)
    print(sec.tables[0].render())
    p = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    print("analytic knee C* (70B 1P/5D) vs output length:",
          {o: round(predicted_knee(p, 5, output_tokens=o, uncached_tokens=32), 1) for o in (32, 64, 128, 256, 512)})
    knee = sec.summary["knee_sim"]["70B TP4 1P/5D"]
    print(f"knees on ITL P50 (regimes): {sec.summary['knee_sim']}; on TTFT P99: {sec.summary['knee_sim_ttft_p99']}")
    print("simulator vs analytic model (70B 1P/5D, warm caches; relative error = (model - sim) / sim):")
    for row in sim_vs_model(p, 5, (1, 8, 16, 32, 64, 128)):
        cells = "  ".join(f"{k} sim {row[k][0]:.2f} model {row[k][1]:.2f} ({100 * row[k][2]:+.1f} %)"
                          for k in ("throughput_rps", "ttft_mean_ms", "itl_mean_ms"))
        print(f"  C={row['concurrency']:4d}  {cells}")
    print("PoA-hat diagnostics (window-frozen vs decision-time costs, matching constraint):")
    for c in (128, 4096):
        window_diagnostics(c)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    res = []
    for c in (64, SAT_C):  # below the knee and past it (70B 1P/5D); steady state: first 2 C requests discarded
        res += sweep("b200_llama31_70b_tp4_fp8_trtllm", 5, (c,), tau_omega_grid(), n_requests=2 * c + max(2000, 2 * c),
                     warmup=2 * c)
    print(f"(tau, omega) sweep at C = 64 and C = {SAT_C} (ITL knee of 70B 1P/5D: {knee:.0f})")
    for c in (64, SAT_C):
        v = [r.poa_hat for r in res if r.concurrency == c]
        print(f"C={c}: PoA-hat over 16 (tau, omega) configs: mean {np.mean(v):.4f} sd {np.std(v):.4f} "
              f"CV {100 * cv(v):.2f} % var {np.var(v):.3g}")
        ax.plot(range(16), v, "o-", label=f"C={c}")
    ax.set_xlabel("config index (tau-major, omega-minor)")
    ax.set_ylabel("PoA-hat")
    ax.legend()
    fig.tight_layout()
    fig.savefig(OUT / "regimes_tau_omega.png", dpi=100)


if __name__ == "__main__":
    main()
