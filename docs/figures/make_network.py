"""Figures and numbers of docs/network.md.

Run: .venv/bin/python docs/figures/make_network.py
Writes docs/figures/network_convergence.png and docs/figures/network_layouts.png (in the shared figure style of
gametheory.plotting) and prints every number
quoted in docs/network.md (validation table against the published TNTP values, serving-topology example).
Needs a local copy of the TransportationNetworks files (github.com/bstabler/TransportationNetworks) for the
TNTP rows (skipped with a note when absent).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gametheory.errors import CapacityExceededError  # noqa: E402
from gametheory.games.network import read_tntp  # noqa: E402
from gametheory.io.tntp import read_tntp_flows  # noqa: E402
from gametheory.plotting import axis_label, legend, plain_log_ticks, save, styled  # noqa: E402
from gametheory.serving.profiles import load_profile  # noqa: E402
from gametheory.serving.topology import layout_sweep, serving_topology  # noqa: E402

HERE = Path(__file__).resolve().parent
TNTP = HERE.parents[1].parent / "shared" / "validation" / "tntp"
PUBLISHED = {"Braess": {"UE total": 552.0, "SO total": 498.0, "PoA": 1.1084},
             "SiouxFalls": {"UE Beckmann": 4_231_335.2871, "UE total": 7_480_225.3, "SO total": 7_194_256.05,
                            "PoA": 1.03975}}


def validation(histories: dict) -> None:
    print("| network | quantity | published | ours | rel. diff |")
    print("|---|---|---|---|---|")
    for name in ("Braess", "SiouxFalls"):
        g = read_tntp(TNTP / f"{name}_net.tntp", TNTP / f"{name}_trips.tntp")
        eq, opt = g.equilibrium(rgap=1e-8), g.optimum(rgap=1e-8)
        histories[name] = eq.gap_history
        ours = {"UE Beckmann": eq.objective, "UE total": eq.cost, "SO total": opt.cost,
                "PoA": eq.cost / opt.cost}
        for key, ref in PUBLISHED[name].items():
            print(f"| {name} | {key} | {ref:,.4f} | {ours[key]:,.4f} | {abs(ours[key] - ref) / ref:.1e} |")
        if name == "SiouxFalls":
            cv = g.equilibrium(method="cvxpy")
            print(f"| {name} | UE Beckmann, cvxpy (Clarabel) | - | {cv.objective:,.4f} | "
                  f"{abs(cv.objective - eq.objective) / eq.objective:.1e} vs ours |")
            flows = read_tntp_flows(TNTP / "SiouxFalls_flow.tntp")
            ref = np.array([flows[e][0] for e in g.edges])
            print(f"| {name} | max link-flow diff vs SiouxFalls_flow.tntp | - | {np.abs(eq.x - ref).max():.3f} "
                  f"(largest flow {ref.max():,.0f}) | - |")
    g = read_tntp(TNTP / "Anaheim_net.tntp", TNTP / "Anaheim_trips.tntp")
    eq = g.equilibrium(rgap=1e-6)
    histories["Anaheim"] = eq.gap_history
    flows = read_tntp_flows(TNTP / "Anaheim_flow.tntp")
    ref_total = sum(flows[e][0] * flows[e][1] for e in g.edges)
    print(f"| Anaheim | UE total (flow file's volume x cost) | {ref_total:,.2f} | {eq.cost:,.2f} | "
          f"{abs(eq.cost - ref_total) / ref_total:.1e} |")


@styled
def convergence_figure(histories: dict) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for name, hist in histories.items():
        ax.semilogy(np.arange(1, len(hist) + 1), hist, label=f"{name} ({len(hist)} sweeps)")
    ax.set_xlabel("sweep (all-origin shortest paths + path shifts)")
    ax.set_ylabel(axis_label("relative gap", "1 - shortest-path cost / total cost"))
    ax.set_title("Path-based gradient projection to the user equilibrium")
    legend(ax, loc="upper right")
    fig.tight_layout()
    save(fig, HERE / "network_convergence.png")


def topology() -> None:
    prof = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    print(f"\nprofile {prof.name}: prefill {prof.prefill_ms(2048):.2f} ms per 2048-token prompt "
          f"({1000 / prof.prefill_ms(2048):.2f} req/s per prefill worker), KV transfer "
          f"{prof.kv_transfer_ms(2048, 50.0):.2f} ms at 50 GB/s")
    print("\nlayouts of 6 workers at 40 req/s (isl 2048, osl 256): P, D, mean latency eq / opt (ms), PoA")
    for r in layout_sweep(prof, 6, 40.0):
        eq = "overloaded" if r.equilibrium_ms is None else f"{r.equilibrium_ms:.1f} / {r.optimum_ms:.1f}"
        print(f"  {r.n_prefill}P x {r.n_decode}D: {eq}" + ("" if np.isnan(r.poa) else f", PoA {r.poa:.6f}"))
    slow = {(0, 0): 50.0, (0, 1): 50.0, (0, 2): 2.0, (1, 0): 2.0, (1, 1): 50.0, (1, 2): 50.0}
    g = serving_topology(prof, 2, 3, 30.0, kv_bandwidth_gb_per_s=slow)
    eq, opt = g.equilibrium(rgap=1e-10), g.optimum(rgap=1e-10)
    print("\n2P x 3D at 30 req/s, links P0-D2 and P1-D0 at 2 GB/s, others 50 GB/s:")
    print(f"  mean latency eq {eq.cost / 30:.3f} ms, opt {opt.cost / 30:.3f} ms, "
          f"PoA {eq.cost / opt.cost:.6f}")
    for e in [("P", 0), ("D", 2)], [("P", 1), ("D", 0)]:
        print(f"  slow link {e[0][1]}->{e[1][1]}: eq {eq.flows[tuple(e)]:.3f} req/s, opt {opt.flows[tuple(e)]:.3f}")
    _layouts_figure(prof)


@styled
def _layouts_figure(prof) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    rates = np.linspace(5, 70, 27)
    for p in (2, 3, 4, 5):
        ys = []
        for rate in rates:
            try:
                ys.append(serving_topology(prof, p, 6 - p, float(rate)).equilibrium(rgap=1e-8).cost / rate)
            except CapacityExceededError:  # overloaded layout: no finite latency
                ys.append(np.nan)
        (line,) = ax.plot(rates, ys, label=f"{p}P x {6 - p}D")
        last = int(np.flatnonzero(np.isfinite(ys))[-1])
        if last < len(rates) - 1:  # the layout saturates before the largest rate: say where
            ax.plot(rates[last], ys[last], "x", color=line.get_color(), ms=8, mew=2)
    ax.plot([], [], "x", color="0.3", ms=8, mew=2, label="last stable rate")
    ax.set_xlabel("request rate (requests/s)")
    ax.set_ylabel(axis_label("mean request latency at equilibrium", "ms"))
    ax.set_yscale("log")
    plain_log_ticks(ax)
    ax.set_title("6 workers of B200 Llama-3.1-70B TP4 FP8: each P/D layout")
    legend(ax, loc="upper left")
    fig.tight_layout()
    save(fig, HERE / "network_layouts.png")


def main() -> None:
    histories: dict = {}
    if TNTP.is_dir():
        validation(histories)
        convergence_figure(histories)
    else:
        print(f"TNTP data absent ({TNTP}): validation table skipped")
    topology()


if __name__ == "__main__":
    main()
