"""Figures and numbers of docs/dynamo.md: NVIDIA Dynamo's real KV router on B200 timing (replay clock).

    python docs/figures/make_dynamo.py

needs ai-dynamo 1.6.1 (``make dynamo``). ``--live`` instead runs experiment 3 on the live loopback stack
(about 4 minutes); ``--sim`` runs experiment 3 on our simulator only (about 30 s, no Dynamo needed);
``--validate`` runs only the simulator-vs-replay validation table. ``--sim`` writes
docs/figures/dynamo_controller_sim.png (experiment 3 on the simulator).
Writes docs/figures/dynamo_load.png (PoA-hat and TTFT P99 against
closed-loop concurrency, three setups, 3 repeats each) and docs/figures/dynamo_controller.png (experiment 3:
the controller's regime and TTFT P99 per interval of the ramp), and prints every number the doc quotes.
About a minute on 2 cores.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gametheory.serving import dynamo as d  # noqa: E402
from gametheory.serving.controller import AdaptiveController, ReplayActuator, static_vs_adaptive  # noqa: E402
from gametheory.serving.profiles import load_profile  # noqa: E402

OUT = Path(__file__).resolve().parent
GRID = (16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
RAMP = (64, 128, 256, 512, 768, 1024, 1024, 1024)
SATURATED = tuple(i for i, c in enumerate(RAMP) if c >= 768)
F1, F2 = 20.0, 100.0  # thresholds as multiples of the unloaded TTFT P99


def _f(x, fmt: str = ".4f") -> str:
    return "n/a" if x is None else format(x, fmt)


def timing_checks() -> None:
    print("== timing file: round trip and one-request replay ==")
    for name in ("b200_llama31_70b_tp4_fp8_trtllm", "b200_nemotron4_340b_tp8_fp8_vllm"):
        p = load_profile(name)
        err = d.round_trip_error(p, d.timing_tables(p))
        chk = d.replay_timing_check(p)
        print(f"{name}: round-trip max rel err prefill {err['prefill_max_rel']:.2e} "
              f"decode {err['decode_max_rel']:.2e}; "
              f"replay TTFT {chk['ttft_ms']:.3f} ms vs profile {chk['profile_ttft_ms']:.3f} ms "
              f"({100 * chk['ttft_rel']:.2f} %), ITL {chk['itl_ms']:.3f} vs {chk['profile_decode_ms']:.3f} ms "
              f"({100 * chk['itl_rel']:.2f} %)")


def load_sweep(ax_poa, ax_ttft) -> None:
    print("\n== load sweep: defaults (tau 0, omega 1), 3 repeats, mean [95 % interval] ==")
    print("setup      C   PoA-hat                 TTFT P50 ms  TTFT P99 ms            ITL ms  throughput req/s")
    for setup in d.SETUPS:
        rows = d.sweep(setup, GRID, repeats=3)
        for r in rows:
            print(f"{setup:9s} {r['concurrency']:5d} {_f(r['poa_hat'])} [{_f(r['poa_hat_lo'])}, {_f(r['poa_hat_hi'])}]"
                  f"  {r['ttft_p50_ms']:9.1f}  {r['ttft_p99_ms']:9.1f} [{r['ttft_p99_ms_lo']:.1f}, "
                  f"{r['ttft_p99_ms_hi']:.1f}]  {r['itl_mean_ms']:6.2f}  {r['throughput_rps']:8.1f}")
        c = [r["concurrency"] for r in rows]
        ax_ttft.plot(c, [r["ttft_p99_ms"] for r in rows], marker="o", ms=3, label=setup)
        ax_poa.errorbar(c, [r["poa_hat"] for r in rows],
                        yerr=[[r["poa_hat"] - r["poa_hat_lo"] for r in rows],
                              [r["poa_hat_hi"] - r["poa_hat"] for r in rows]], marker="o", ms=3, label=setup)


def config_sweep() -> None:
    print("\n== 16 (tau, omega) configurations, 70b_1p5d, 1 run each: mean, sd and CV across configs ==")
    configs = list(itertools.product(d.TAUS, d.OMEGAS))
    for c in (64, 128, 768):
        rs = [d.replay_run("70b_1p5d", c, tau, om, seed=0) for tau, om in configs]
        for key in ("poa_hat", "ttft_p99_ms", "throughput_rps"):
            x = np.array([getattr(r, key) for r in rs])
            print(f"C={c:5d} {key:15s} mean {x.mean():10.4f} sd {x.std(ddof=1):.4g} CV {x.std(ddof=1) / x.mean():.2e}")


def _plot_ramp(ax, static0, adaptive0, title: str) -> None:
    """TTFT P99 per interval (static vs adaptive, trial 0) and the adaptive controller's regime."""
    k = np.arange(len(RAMP))
    ax.plot(k, [r.ttft_p99_ms for r in static0.reports], "o-", ms=3, label="static TTFT P99")
    ax.plot(k, [r.ttft_p99_ms for r in adaptive0.reports], "s--", ms=3, label="adaptive TTFT P99")
    ax.set_xlabel("poll interval (ramp C = " + ",".join(map(str, RAMP)) + ")", fontsize=7)
    ax.set_ylabel("TTFT P99 (ms)")
    ax.set_title(title, fontsize=9)
    ax2 = ax.twinx()
    ax2.step(k, adaptive0.regimes, where="post", color="k", lw=1, label="regime (after poll)")
    ax2.set_ylim(-0.2, 2.2)
    ax2.set_yticks([0, 1, 2])
    ax2.set_ylabel("regime")
    ax.legend(fontsize=7, loc="upper left")


def experiment3(axes) -> None:
    print(f"\n== experiment 3: static defaults vs adaptive, ramp C = {RAMP}, saturated = intervals {SATURATED}, "
          "3 trials ==")
    print("paper (70B 1P/5D): PoA-hat 66.4 -> 21.5 (3.1x) at -13 % throughput; (70B 1P/2D): PoA-hat 2.2x lower, "
          "TTFT P99 7.6x lower")
    for ax, setup in zip(axes, ("70b_1p5d", "70b_1p2d"), strict=True):
        base = d.replay_run(setup, 1, n_requests=50, with_poa=False).ttft_p99_ms
        out = static_vs_adaptive(lambda trial, s=setup: ReplayActuator(s, RAMP, seed=trial),
                                 lambda b=base: AdaptiveController.from_baseline(b, F1, F2), len(RAMP), SATURATED, 3)
        print(f"{setup}: baseline TTFT P99 {base:.2f} ms -> theta1 {F1 * base:.1f} ms, theta2 {F2 * base:.1f} ms")
        summary = {}
        for arm in ("static", "adaptive"):
            rows = [o for o in out if o.arm == arm]
            summary[arm] = {k: (None, None, None) if getattr(rows[0], k) is None
                            else d.interval([getattr(o, k) for o in rows])
                            for k in ("poa_hat", "ttft_p99_ms", "throughput_rps")}
            m = summary[arm]
            print(f"  {arm:8s} PoA-hat {_f(m['poa_hat'][0])} [{_f(m['poa_hat'][1])}, {_f(m['poa_hat'][2])}]  "
                  f"TTFT P99 {m['ttft_p99_ms'][0]:.1f} ms  throughput {m['throughput_rps'][0]:.1f} req/s  "
                  f"regimes per interval (trial 0): {rows[0].regimes}")
        s, a = summary["static"], summary["adaptive"]
        ratio = None if s["poa_hat"][0] is None else s["poa_hat"][0] / a["poa_hat"][0]
        print(f"  ratio static/adaptive: PoA-hat {_f(ratio, '.3f')}x, TTFT P99 "
              f"{s['ttft_p99_ms'][0] / a['ttft_p99_ms'][0]:.3f}x, throughput change "
              f"{100 * (a['throughput_rps'][0] / s['throughput_rps'][0] - 1):+.2f} %")
        adaptive0 = next(o for o in out if o.arm == "adaptive" and o.trial == 0)
        static0 = next(o for o in out if o.arm == "static" and o.trial == 0)
        _plot_ramp(ax, static0, adaptive0, setup)


def sim_experiment3(trials: int = 3) -> None:
    """Experiment 3 on our simulator (SimulatorActuator: one continuous simulation, 5 s polls of virtual time,
    same ramp, thresholds and saturated phase as the replay), without and with the mocker's 256 batch slots."""
    from gametheory.serving.sim_actuator import SimulatorActuator

    print(f"\n== experiment 3 on the simulator: ramp C = {RAMP}, 5 s polls, saturated = intervals {SATURATED}, "
          f"{trials} trials ==")
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    for row, slots in enumerate((None, 256)):
        kw = {} if slots is None else {"max_num_seqs": slots}
        for col, setup in enumerate(("70b_1p5d", "70b_1p2d")):
            base = SimulatorActuator(setup, (1,), seed=0, with_poa=False, sim_kw=kw).run_interval(0, 0.0, 1.0)
            b = base.ttft_p99_ms
            out = static_vs_adaptive(lambda trial, s=setup, k=kw: SimulatorActuator(s, RAMP, seed=trial, sim_kw=k),
                                     lambda b=b: AdaptiveController.from_baseline(b, F1, F2), len(RAMP), SATURATED,
                                     trials)
            print(f"{setup} (slots {slots or 'unlimited'}): baseline TTFT P99 {b:.2f} ms -> theta1 {F1 * b:.1f} ms, "
                  f"theta2 {F2 * b:.1f} ms")
            summary = {}
            for arm in ("static", "adaptive"):
                rows = [o for o in out if o.arm == arm]
                summary[arm] = m = {k: d.interval([getattr(o, k) for o in rows])
                                    for k in ("poa_hat", "ttft_p99_ms", "throughput_rps")}
                print(f"  {arm:8s} PoA-hat {m['poa_hat'][0]:.4f} [{m['poa_hat'][1]:.4f}, {m['poa_hat'][2]:.4f}]  "
                      f"TTFT P99 {m['ttft_p99_ms'][0]:.1f} [{m['ttft_p99_ms'][1]:.1f}, {m['ttft_p99_ms'][2]:.1f}] ms  "
                      f"throughput {m['throughput_rps'][0]:.1f} req/s  "
                      f"regimes (trial 0): {' '.join(map(str, rows[0].regimes))}")
            st, ad = summary["static"], summary["adaptive"]
            print(f"  ratio static/adaptive: PoA-hat {st['poa_hat'][0] / ad['poa_hat'][0]:.3f}x, TTFT P99 "
                  f"{st['ttft_p99_ms'][0] / ad['ttft_p99_ms'][0]:.3f}x, throughput change "
                  f"{100 * (ad['throughput_rps'][0] / st['throughput_rps'][0] - 1):+.2f} %")
            _plot_ramp(axes[row, col], next(o for o in out if o.arm == "static" and o.trial == 0),
                       next(o for o in out if o.arm == "adaptive" and o.trial == 0),
                       f"simulator {setup}, decode slots {slots or 'unlimited'}")
    fig.tight_layout()
    fig.savefig(OUT / "dynamo_controller_sim.png", dpi=100)
    print("wrote", OUT / "dynamo_controller_sim.png")


VALIDATION_GRID = (16, 64, 128, 256, 512, 768, 1024)


def validate(repeats: int = 3) -> None:
    """Validation of our model: simulator vs the real router's replay on the same workload and limits
    (gametheory.serving.validation), defaults tau 0, omega 1; relative error (sim - replay) / replay."""
    from gametheory.serving.validation import METRICS, sim_vs_replay

    print(f"\n== validation: simulator vs replay, same workload, C = {VALIDATION_GRID}, {repeats} seeds each; "
          "replay / simulator / relative error ==")
    errs = {k: [] for k in METRICS}
    for setup in d.SETUPS:
        for slots in (256, None):
            print(f"{setup}, simulator decode slots {slots or 'unlimited'}:")
            for r in sim_vs_replay(setup, VALIDATION_GRID, repeats=repeats, max_num_seqs=slots):
                print(f"  C={r.concurrency:5d} " + "  ".join(
                    f"{k} {r.replay[k]:.4g}/{r.sim[k]:.4g}/{100 * r.rel_err[k]:+.1f}%" for k in METRICS))
                if slots == 256:
                    for k in METRICS:
                        errs[k].append((r.concurrency, abs(r.rel_err[k])))
    print("summary over setups and C (256 slots): mean |rel err| (max) per metric")
    for k in METRICS:
        e = np.array([v for _, v in errs[k]])
        low = np.array([v for c, v in errs[k] if c <= 256])
        print(f"  {k:15s} all C: {100 * e.mean():.1f} % (max {100 * e.max():.1f} %);  C <= 256: "
              f"{100 * low.mean():.1f} % (max {100 * low.max():.1f} %)")


LIVE_RAMP = (2, 4, 8, 16, 32, 32)


def live_experiment3(trials: int = 3) -> None:
    """Experiment 3 on the live stack (70B 1P/2D, one frontend per regime, 32 output tokens, 5 s polls)."""
    from gametheory.serving import dynamo_live as live
    from gametheory.serving.controller import PAPER_TABLE

    p = load_profile(d.SETUPS["70b_1p2d"].profile)
    print(f"\n== live experiment 3: 70B 1P/2D, ramp C = {LIVE_RAMP}, osl 32, 5 s polls, {trials} trials ==")
    with live.LiveStack(d.timing_file_for(p), 1, 2, PAPER_TABLE) as stack:
        base = live.client_ttft_p99_ms(live.closed_loop(stack.url(0), 1, 3.0, osl=32))
        sat = tuple(i for i, c in enumerate(LIVE_RAMP) if c >= 32)
        out = static_vs_adaptive(lambda trial: live.LiveActuator(stack, LIVE_RAMP, p.name, osl=32),
                                 lambda: AdaptiveController.from_baseline(base, 3.0, 10.0), len(LIVE_RAMP), sat, trials)
    print(f"baseline TTFT P99 {base:.1f} ms -> theta1 {3 * base:.1f} ms, theta2 {10 * base:.1f} ms")
    for arm in ("static", "adaptive"):
        rows = [o for o in out if o.arm == arm]
        m = {k: (None, None, None) if any(getattr(o, k) is None for o in rows)
             else d.interval([getattr(o, k) for o in rows]) for k in ("poa_hat", "ttft_p99_ms", "throughput_rps")}
        print(f"  {arm:8s} PoA-hat {_f(m['poa_hat'][0])} [{_f(m['poa_hat'][1])}, {_f(m['poa_hat'][2])}]  TTFT P99 "
              f"{m['ttft_p99_ms'][0]:.1f} [{m['ttft_p99_ms'][1]:.1f}, {m['ttft_p99_ms'][2]:.1f}] ms  throughput "
              f"{m['throughput_rps'][0]:.1f} req/s  regimes (trial 0): {rows[0].regimes}")


def main() -> None:
    import sys

    if "--live" in sys.argv:
        live_experiment3()
        return
    if "--sim" in sys.argv:
        sim_experiment3()
        return
    if "--validate" in sys.argv:
        validate()
        return
    timing_checks()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    load_sweep(a1, a2)
    a1.set_xscale("log", base=2)
    a2.set_xscale("log", base=2)
    a2.set_yscale("log")
    a1.set_xlabel("closed-loop concurrency C")
    a2.set_xlabel("closed-loop concurrency C")
    a1.set_ylabel("PoA-hat (decode windows)")
    a2.set_ylabel("TTFT P99 (ms)")
    a1.legend(fontsize=8)
    a1.axhline(1.0, color="grey", lw=0.5)
    fig.tight_layout()
    fig.savefig(OUT / "dynamo_load.png", dpi=100)
    config_sweep()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    experiment3(axes)
    fig.tight_layout()
    fig.savefig(OUT / "dynamo_controller.png", dpi=100)
    print("\nwrote", OUT / "dynamo_load.png", "and", OUT / "dynamo_controller.png")


if __name__ == "__main__":
    main()
