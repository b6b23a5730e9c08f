"""Numbers and figure of the "Integer game, closed forms and planner dynamics" part of docs/resource.md.

Usage: python docs/figures/make_resource_integer.py
Writes docs/figures/resource_planner.png (in the shared figure style) and prints every number quoted in that
section: the rounding instance, the integer game on the Llama-3.1-70B TP4 FP8 B200 profile (24 and 64 GPUs),
the sympy closed forms, and the Planner on that profile (ramp and constant load, 30 s intervals as in the paper).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gametheory.games.dynamics import planner_dynamics as loop
from gametheory.games.resource import InverseCost, PDResourceGame
from gametheory.games.resource.closed_forms import derive, evaluate
from gametheory.games.resource.integer import (
    compare_with_rounding,
    integer_equilibria,
    integer_optimum,
    integer_price_of_anarchy,
)
from gametheory.games.resource.planner import PAPER_INTERVAL_S, ResourcePlannerModel
from gametheory.plotting import COLORS, axis_label, legend, save, styled
from gametheory.serving.pool_costs import serving_game
from gametheory.serving.profiles import load_profile

HERE = Path(__file__).resolve().parent
PROFILE = "b200_llama31_70b_tp4_fp8_trtllm"
ISL = OSL = 128


def planner_dynamics(game_at, rates, initial=None, delay=0, observe="load", target="equilibrium", interval_s=180):
    """Game 1's Planner on a load trace: the one Planner loop on :class:`ResourcePlannerModel`."""
    return loop(ResourcePlannerModel(game_at, target=target), rates, initial, delay=delay, observe=observe,
                interval_s=interval_s)


def rounding_instance() -> None:
    game = PDResourceGame(64, InverseCost(5.0), InverseCost(100.0), step=8)
    cmp = compare_with_rounding(game)
    eq = cmp.integer
    print("## rounding: C_P = 5/G_P, C_D = 100/G_D, 64 GPUs, workers of 8")
    print(f"continuous VE G_P = {cmp.continuous:.3f}; floor {cmp.floor:g}, ceil {cmp.ceil:g}, nearest {cmp.nearest:g}; "
          f"integer VE G_P = {eq.split[0]:g} ({eq.workers[0]}P/{eq.workers[1]}D), differs = {cmp.differs}; "
          f"C_P + C_D at the rounding is {100 * cmp.excess:.2f} % higher; certificate {eq.certificate}")


def measured_integer_game(profile) -> None:
    print("\n## integer game on the measured profile (TP4 workers, ISL = OSL = 128, weights (1, OSL))")
    print("| GPUs | req/s | stable splits | integer VE (P/D) | VE certificate | integer optimum (P/D) | integer PoA | "
          "continuous PoA | VE = rounding? | optimum = rounding? |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for total in (24, 64):
        for rate in (25.0, 100.0, 200.0, 300.0, 400.0, 500.0):
            game = serving_game(profile, total, rate, ISL, OSL)
            ves = integer_equilibria(game)
            opt = integer_optimum(game)
            ve_txt = ", ".join(f"{s.workers[0]}/{s.workers[1]}" for s in ves)
            cert = max(s.certificate.value for s in ves)
            r_eq, r_opt = compare_with_rounding(game), compare_with_rounding(game, kind="optimum")
            for r in (r_eq, r_opt):
                if r.differs:
                    notes.append(f"{total} GPUs, {rate:g} req/s: continuous {r.kind} G_P = {r.continuous:.3f} rounds "
                                 f"to {r.nearest:g} GPUs, integer {r.kind} G_P = {r.integer.split[0]:g}; the rounding "
                                 f"costs {100 * r.excess:.3f} % more")
            n_all = int(game.total_gpus // game.step) - 1
            print(f"| {total} | {rate:g} | {ves[0].n_splits} of {n_all} | {ve_txt} | {cert:.3g} ms | "
                  f"{opt.workers[0]}/{opt.workers[1]} | {integer_price_of_anarchy(game):.4f} | "
                  f"{game.price_of_anarchy():.4f} | "
                  f"{'yes' if not r_eq.differs else 'no'} | {'yes' if not r_opt.differs else 'no'} |")
    for note in notes:
        print("rounding differs:", note)


def closed_forms() -> None:
    print("\n## closed forms (sympy)")
    for case in ("inverse", "mm1"):
        f = derive(case)
        print(f"{case}: VE G_P = {f.equilibrium}")
        print(f"{case}: optimum G_P = {f.optimum}")
        print(f"{case}: PoA = {f.poa}")
    num = evaluate("inverse", 24, (1.0, 128.0), a=400.0, b=30.0)
    print(f"inverse at a=400, b=30, G=24, w=(1,128): VE {num.equilibrium_split[0]:.4f}, optimum "
          f"{num.optimum_split[0]:.4f}, PoA {num.poa:.6f}")
    poa = [evaluate("mm1", g, (1.0, 7.0), mu_P=2.0, lambda_P=lam, mu_D=3.0, lambda_D=6.0).poa
           for g, lam in ((10.0, 5.0), (100.0, 50.0))]
    print(f"mm1 PoA at mu=(2,3), w=(1,7): G=10, lambda_P=5 -> {poa[0]:.6f}; G=100, lambda_P=50 -> {poa[1]:.6f}")


def planner(profile):
    print(f"\n## planner on the measured profile, {PAPER_INTERVAL_S:g} s intervals, 24 GPUs")

    def game_at(rate):
        return serving_game(profile, 24, rate, ISL, OSL)

    ramp = np.concatenate([np.full(3, 25.0), np.linspace(25.0, 500.0, 12), np.full(8, 500.0)])
    runs = {
        "optimum target, fresh load": planner_dynamics(game_at, ramp, target="optimum", interval_s=PAPER_INTERVAL_S),
        "optimum target, metrics 1 interval old": planner_dynamics(game_at, ramp, target="optimum", delay=1,
                                                                   observe="metrics", interval_s=PAPER_INTERVAL_S),
    }
    for name, res in runs.items():
        sat = ~np.isfinite(res.social_costs)
        print(f"ramp 25 -> 500 req/s, {name}: prefill workers {res.prefill_workers.tolist()}; targets "
              f"{res.target_workers.tolist()}; max lag {res.max_lag_workers} workers, "
              f"{int(np.count_nonzero(res.lag_workers))} intervals off target, {int(sat.sum())} intervals saturated "
              f"(at {res.loads[sat].round(1).tolist()} req/s); cycles: "
              f"{[(o.cycle, o.period, o.load) for o in res.oscillations]}")
    const = np.full(20, 300.0)
    for observe in ("load", "metrics"):
        res = planner_dynamics(game_at, const, initial=1, delay=1, observe=observe, interval_s=PAPER_INTERVAL_S)
        settled = res.objective_costs[6:]
        ve_cost = float(res.objective_costs[np.flatnonzero(res.prefill_workers == res.target_workers)[-1]])
        print(f"300 req/s from 1P/5D, delay 1, observe={observe}: {res.prefill_workers.tolist()}; cycles "
              f"{[(o.cycle, o.period) for o in res.oscillations]}; mean TTFT + ITL over intervals 6-19 "
              f"{settled.mean():.2f} ms vs {ve_cost:.2f} ms at the integer VE")
    return ramp, runs, game_at


@styled
def figure(ramp, runs, game_at) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    const = np.full(20, 300.0)
    cyc = planner_dynamics(game_at, const, initial=1, delay=1, observe="metrics", interval_s=PAPER_INTERVAL_S)
    calm = planner_dynamics(game_at, const, initial=1, delay=1, observe="load", interval_s=PAPER_INTERVAL_S)
    fig, axes = plt.subplots(2, 2, figsize=(12, 5.8), sharex="col", height_ratios=(1, 2.2))
    workers = axis_label("prefill workers", "TP4 workers, of 6")
    offset = 0.06  # coinciding steps stay visible: the Planner's lines are drawn this far above / below
    # left: the ramp
    res = next(iter(runs.values()))
    t = res.times_s / 60
    top, ax = axes[0, 0], axes[1, 0]
    top.step(t, ramp, where="post", color="0.3", label="load")
    top.set(ylabel=axis_label("load", "requests/s"), title="Ramp 25 -> 500 req/s, 24 GPUs", ylim=(0, 520))
    ax.step(t, res.target_workers, where="post", color="k", lw=1.2, label="integer optimum (the target)")
    for i, ((name, r), ls) in enumerate(zip(runs.items(), ("-", "--"), strict=True)):
        ax.step(t, r.prefill_workers + offset * (2 * i - 1), where="post", ls=ls, label=f"Planner: {name}")
    sat = ~np.isfinite(res.social_costs)
    ax.plot(t[sat], res.prefill_workers[sat] - offset, "x", color=COLORS[1], ms=9, mew=2,
            label="prefill pool saturated (fresh load)")
    ax.set(xlabel="time (min)", ylabel=workers, ylim=(0.5, 6.3))  # room for the legend above the lines
    legend(ax, loc="upper left")
    # right: constant load from 1P/5D
    t = cyc.times_s / 60
    top, ax = axes[0, 1], axes[1, 1]
    top.step(t, const, where="post", color="0.3", label="load")
    top.set(ylabel=axis_label("load", "requests/s"), title="Constant 300 req/s from 1P/5D", ylim=(0, 520))
    ax.step(t, cyc.target_workers, where="post", color="k", lw=1.2, label="integer VE")
    ax.step(t, cyc.prefill_workers + offset, where="post", label="Planner observing metrics, delay 1")
    ax.step(t, calm.prefill_workers - offset, where="post", ls="--", label="Planner observing load, delay 1")
    ax.set(xlabel="time (min)", ylabel=workers, ylim=(0.5, 6.3))
    legend(ax, loc="upper right")
    for a in axes[1]:
        a.set_yticks(range(1, 6))
    fig.tight_layout()
    path = HERE / "resource_planner.png"
    save(fig, path)
    return path


def main() -> None:
    profile = load_profile(PROFILE)
    rounding_instance()
    measured_integer_game(profile)
    closed_forms()
    ramp, runs, game_at = planner(profile)
    print("figure:", figure(ramp, runs, game_at))
    assert math.isfinite(runs["optimum target, fresh load"].social_costs[-1])


if __name__ == "__main__":
    main()
