"""Writes docs/figures/regimes.png and regimes_tau_omega.png and prints the numbers in docs/regimes.md.
Run: .venv/bin/python docs/figures/make_regimes.py"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gametheory.reproduce.regimes import run  # noqa: E402
from gametheory.serving.profiles import load_profile  # noqa: E402
from gametheory.serving.queueing import predicted_knee  # noqa: E402
from gametheory.serving.sweeps import cv, sweep, tau_omega_grid  # noqa: E402

OUT = Path(__file__).parent
SAT_C = 3072  # a grid point past the simulated knee of 70B 1P/5D (docs/regimes.md)


def main():
    sec = run(OUT)
    print(sec.tables[0].render())
    p = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    print("analytic knee C* (70B 1P/5D) vs output length:",
          {o: round(predicted_knee(p, 5, output_tokens=o, uncached_tokens=32), 1) for o in (32, 64, 128, 256, 512)})
    knee = sec.summary["knee_sim"]["70B TP4 1P/5D"]
    print(f"knees on ITL P50 (regimes): {sec.summary['knee_sim']}; on TTFT P99: {sec.summary['knee_sim_ttft_p99']}")
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
