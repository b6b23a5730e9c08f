"""Numbers and figure of docs/latency.md: fitting and knee detection on seeded synthetic data.

    python docs/figures/make_latency.py

Writes docs/figures/latency_knee.png and prints every number quoted in docs/latency.md.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gametheory.errors import NoKneeError
from gametheory.fitting import fit
from gametheory.latency import Pole
from gametheory.plotting import axis_label, save, style
from gametheory.regimes import METHODS, classify, find_knee, find_knees, second_derivative

OUT = Path(__file__).resolve().parent


def pole_at_131(seed: int = 0):
    """The example of the knee section: TTFT with a capacity pole at C = 131, 2 % proportional noise."""
    c = np.arange(8, 129, 8.0)
    noise = 1 + 0.02 * np.random.default_rng(seed).standard_normal(c.size)
    return c, np.asarray(Pole(40.0, 0.2, 800.0, 131.0)(c)) * noise


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
    knees = find_knees(x, y)
    for m, k in knees.knees.items():
        print(f"  knee {m:8}: {k.load:.2f}  95% interval [{k.interval[0]:.2f}, {k.interval[1]:.2f}]  "
              f"(AICc evidence {k.evidence:.1f})")
    print(f"  consensus: {knees.load:.2f} [{knees.interval[0]:.2f}, {knees.interval[1]:.2f}], agree: {knees.agree}")
    labels = classify(x, knee=knees)
    print("  regimes (consensus):", {lab: labels.count(lab) for lab in ("below", "transition", "saturated")})

    xh = np.linspace(0.0, 100.0, 50)
    yh = 2 + 0.5 * xh + 3 * np.maximum(xh - 60, 0) + 0.5 * np.random.default_rng(1).standard_normal(xh.size)
    kh = find_knee(xh, yh)
    print(f"hinge at 60 + N(0, 0.5^2) noise: knee {kh.load:.2f} [{kh.interval[0]:.2f}, {kh.interval[1]:.2f}]; "
          f"auto family {fit(xh, yh).family}")

    c131, y131 = pole_at_131()
    k131 = find_knees(c131, y131)
    print("pole at C = 131, 16 concurrencies 8..128, 2% noise:")
    for m, k in k131.knees.items():
        print(f"  {m:8}: {k.load:.1f} [{k.interval[0]:.1f}, {k.interval[1]:.1f}]")
    print(f"  consensus {k131.load:.1f} [{k131.interval[0]:.1f}, {k131.interval[1]:.1f}], agree: {k131.agree}")

    xs = np.linspace(1.0, 100.0, 20)
    noise = 0.4 * np.random.default_rng(5).standard_normal(xs.size)
    for name, ys in (("straight line 10 + 0.5 x", 10 + 0.5 * xs + noise),
                     ("concave 10 + 30 ln(1 + x/10)", 10 + 30 * np.log1p(xs / 10) + noise)):
        said = []
        for m in METHODS:
            try:
                find_knee(xs, ys, method=m, n_boot=0)
                said.append(f"{m}: a knee")
            except NoKneeError as exc:
                said.append(f"{m}: no knee ({exc.reason.split(';')[1].strip().split(' (')[0]})")
        print(f"{name} + N(0, 0.4^2), 20 points: " + "; ".join(said))

    with style():
        import matplotlib.pyplot as plt

        fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.2))
        knees.plot(ax1, xlabel="load (requests/s)", ylabel="latency")
        grid = np.linspace(0, 95, 300)
        ax1.plot(grid, auto.curve(grid), "-", color="0.3", linewidth=1.2, label=f"{auto.family} fit")
        ax1.axvline(truth, color="0.5", linestyle=":", label=f"true pole knee {truth:.1f}")
        ax1.legend(loc="upper left")
        ax1.set_title("Pole(5, 0.1, 20, 100), 2 % noise")
        k131.plot(ax2, xlabel="concurrency", ylabel="TTFT P99")
        ax2.set_title("pole at C = 131: the methods disagree")
        loads, d2 = second_derivative(x, y, family="pole")
        ax3.semilogy(loads, d2)
        ax3.set_xlabel("load (requests/s)")
        ax3.set_ylabel(axis_label("d²latency / d load²", "ms per (request/s)²"))
        ax3.set_title("curvature of the fitted pole (Proposition 4)")
        fig.tight_layout()
        path = OUT / "latency_knee.png"
        save(fig, path)
    print("wrote", path)


if __name__ == "__main__":
    main()
