"""Figures and numbers of docs/regimes.md: the calibrated engine model, the three setups' load curves and knees,
the knee map and the (tau, omega) sweep.

    .venv/bin/python docs/figures/make_regimes.py [--full]

Runs the ``regimes`` section of ``gametheory reproduce`` with docs/figures as its output folder (regimes.png,
knee_map.png, regimes_tau_omega.png) and prints it, then the simulator against the analytic model at low load.
``--full`` runs the section's large grid, all engine configurations of the knee table and the sweep on all three
setups (about a minute on 2 cores).
"""

from __future__ import annotations

import sys
from pathlib import Path

from gametheory.reproduce import regimes
from gametheory.serving.calibration import calibrate
from gametheory.serving.validation import sim_vs_model

OUT = Path(__file__).resolve().parent


def main() -> None:
    section = regimes.run(OUT, full="--full" in sys.argv)
    print(section.render())
    cal = calibrate()
    print("\nsimulator vs analytic model (70B 1P/5D, calibrated engine; relative error = (model - sim) / sim):")
    for row in sim_vs_model(cal.cluster("70b_1p5d"), (1, 8, 16, 32, 64, 96), workload=cal.workload()):
        cells = "  ".join(f"{k} sim {row[k][0]:.2f} model {row[k][1]:.2f} ({100 * row[k][2]:+.1f} %)"
                          for k in ("throughput_rps", "ttft_mean_ms", "itl_mean_ms"))
        print(f"  C={row['concurrency']:4d}  {cells}")


if __name__ == "__main__":
    main()
