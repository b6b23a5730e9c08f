"""Numbers and figure of docs/latency.md: fitting and knee detection on seeded synthetic data.

    python docs/figures/make_latency.py

Writes docs/figures/latency_knee.png and prints every number quoted in docs/latency.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gametheory.fitting import fit
from gametheory.latency import Pole
from gametheory.regimes import classify, find_knee, second_derivative

OUT = Path(__file__).resolve().parent


def main() -> None:
    x = np.linspace(0.0, 95.0, 50)
    a, b, c, kappa = 5.0, 0.1, 20.0, 100.0
    y = np.asarray(Pole(a, b, c, kappa)(x)) * (1 + 0.02 * np.random.default_rng(0).standard_normal(x.size))
    auto = fit(x, y)
    print("Pole(5, 0.1, 20, 100) + 2% noise, 50 points")
    print("  auto:", auto.explanation)
    for row in auto.ranking:
        print(f"    {row['family']:>10}  k={row['k']}  AICc={row['aic']:8.2f}  BIC={row['bic']:8.2f}  "
              f"R^2={row['r2']:.4f}")
    print("  pole params:", {k: f"{v:.4g} +/- {auto.stderr[k]:.2g}" for k, v in auto.params.items()})
    truth = kappa - math.sqrt(c / (b + 2 * c / kappa**2))
    print(f"  closed-form pole knee (slope doubled): {truth:.2f}")
    knees = {m: find_knee(x, y, method=m) for m in ("hinge", "pole", "kneedle")}
    for m, k in knees.items():
        print(f"  knee {m:8}: {k.load:.2f}  95% interval [{k.interval[0]:.2f}, {k.interval[1]:.2f}]")
    labels = classify(x, knee=knees["hinge"])
    print("  regimes (hinge):", {lab: labels.count(lab) for lab in ("below", "transition", "saturated")})

    xh = np.linspace(0.0, 100.0, 50)
    yh = 2 + 0.5 * xh + 3 * np.maximum(xh - 60, 0) + 0.5 * np.random.default_rng(1).standard_normal(xh.size)
    kh = find_knee(xh, yh)
    print(f"hinge at 60 + N(0, 0.5^2) noise: knee {kh.load:.2f} [{kh.interval[0]:.2f}, {kh.interval[1]:.2f}]; "
          f"auto family {fit(xh, yh).family}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    grid = np.linspace(0, 95, 300)
    ax1.plot(x, y, "k.", label="noisy points")
    ax1.plot(grid, auto.curve(grid), label=f"fit: {auto.family}")
    hfit = knees["hinge"].fit
    ax1.plot(grid, hfit.curve(grid), "--", label="two-regime hinge")
    lo, hi = knees["hinge"].interval
    ax1.axvspan(lo, hi, color="orange", alpha=0.3, label="hinge knee interval")
    ax1.axvline(truth, color="gray", ls=":", label="closed-form pole knee")
    ax1.set_xlabel("load")
    ax1.set_ylabel("latency (ms)")
    ax1.legend(fontsize=7)
    loads, d2 = second_derivative(x, y, family="pole")
    ax2.semilogy(loads, d2)
    ax2.set_xlabel("load")
    ax2.set_ylabel("d2 latency / d load2 (fitted pole)")
    fig.tight_layout()
    path = OUT / "latency_knee.png"
    fig.savefig(path, dpi=100)
    print("wrote", path)


if __name__ == "__main__":
    main()
