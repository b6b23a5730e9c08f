"""Figures and numbers of docs/profiles.md: the shipped measured profiles and their fitted curves.

    python docs/figures/make_profiles.py

writes docs/figures/profiles.png and docs/figures/profiles_vllm.png (in the shared figure style of
gametheory.plotting) and prints every number docs/profiles.md quotes (computed by
gametheory.reproduce.latency.summarize and the profile objects).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from gametheory.plotting import axis_label, knee_line, legend, save, styled  # noqa: E402
from gametheory.reproduce.latency import summarize  # noqa: E402
from gametheory.serving.profiles import list_profiles, load_profile  # noqa: E402

OUT = Path(__file__).resolve().parent


def _short(name: str) -> str:
    return name.replace("_llama31_70b_tp4", " 70B").replace("_nemotron4_340b_tp8", " 340B").replace("_", " ")


def _fit_key(ax) -> None:
    """One legend entry saying what the lines are (the markers are named per profile)."""
    ax.plot([], [], "-", color="0.4", label="line: fitted curve")


@styled
def _figures(names: list[str], summaries: dict) -> None:
    # ---- figure 1: prefill and decode of the B200 profiles, decode across GPUs -------------------------
    fig, ax = plt.subplots(2, 2, figsize=(12, 8.5))
    b200 = [n for n in names if n.startswith("b200")]
    for n in b200:
        p = load_profile(n)
        x, y = p.prefill_points()
        (line,) = ax[0, 0].plot(x, y, "o", ms=3.5, label=_short(n))
        xs = np.linspace(0, x.max(), 50)
        ax[0, 0].plot(xs, p.prefill_ms(xs), "-", lw=1.2, color=line.get_color())
        x, y = p.prefill_points(128)
        ax[0, 1].plot(x, y, "o", ms=3.5, color=line.get_color(), label=_short(n))
        ax[0, 1].plot(xs[xs <= x.max()], p.prefill_ms(xs[xs <= x.max()], isl=128), "-", lw=1.2,
                      color=line.get_color())
        b, lat = p.decode_points(2048)
        ax[1, 0].plot(b, lat, "o", ms=3.5, color=line.get_color(), label=_short(n))
        bs = np.linspace(1, 512, 200)
        ax[1, 0].plot(bs, p.decode_step_ms(bs, 2048), "-", lw=1.2, color=line.get_color())
    for n in ("h100_llama31_70b_tp4_fp8_trtllm", "h200_llama31_70b_tp4_fp8_trtllm", "b200_llama31_70b_tp4_fp8_trtllm"):
        p = load_profile(n)
        d = summaries[n]["decode"][2048]
        knee = d["knee_batch"]
        b, lat = p.decode_points(2048)
        (line,) = ax[1, 1].plot(b, lat, "o", ms=3.5, label=_short(n) + ("" if np.isfinite(knee) else " (no knee)"))
        bs = np.linspace(1, 512, 200)
        ax[1, 1].plot(bs, p.decode_step_ms(bs, 2048), "-", lw=1.2, color=line.get_color())
        if np.isfinite(knee):
            knee_line(ax[1, 1], knee, d["knee_interval"], label=f"{n.split('_')[0].upper()} knee", unit="seqs",
                      color=line.get_color())
    prefill = axis_label("prefill pass", "ms")
    ax[0, 0].set(title="B200 prefill, all points: affine in tokens", xlabel="tokens per batch", ylabel=prefill)
    ax[0, 1].set(title="B200 prefill, 128-token prompts (batch 1-64)", xlabel="tokens per batch", ylabel=prefill)
    ax[1, 0].set(title="B200 decode step, context 2048", xlabel="batch (sequences)",
                 ylabel=axis_label("decode step", "ms"))
    ax[1, 1].set(title="70B FP8 TRT-LLM decode across GPUs, context 2048", xlabel="batch (sequences)",
                 ylabel=axis_label("decode step", "ms"))
    for a in ax.flat:
        _fit_key(a)
        legend(a, loc="lower right" if a is ax[1, 1] else "upper left")  # clear of the knee line's label
    fig.tight_layout()
    save(fig, OUT / "profiles.png")

    # ---- figure 2: vLLM artifacts at small batch -----------------------------------------------------
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.4))
    for a, pair in zip(ax, (("b200_llama31_70b_tp4_fp8_trtllm", "b200_llama31_70b_tp4_fp8_vllm"),
                            ("b200_nemotron4_340b_tp8_fp8_vllm",)), strict=True):
        for n in pair:
            p = load_profile(n)
            b, lat = p.decode_points(256)
            m = b <= 64
            (line,) = a.plot(b[m], lat[m], "o-", ms=4, lw=0.7, label=f"{_short(n)}: table")
            bs = np.linspace(1, 64, 100)
            a.plot(bs, p.decode_step_ms(bs, 256), "-", lw=2, color=line.get_color(), alpha=0.55,
                   label=f"{_short(n)}: fitted curve")
            for ctx, _b0, b1, pct in p.non_monotone_decode(min_drop_pct=5.0):
                if ctx == 256 and b1 <= 64:
                    a.annotate(f"-{pct:.0f}%", (b1, float(lat[list(b).index(b1)])), fontsize=9,
                               color=line.get_color(), xytext=(6, -2), textcoords="offset points", va="top",
                               bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
        a.set(xlabel="batch (sequences)", ylabel=axis_label("decode step at context 256", "ms"),
              title="Table points vs fitted curve (drops > 5 % marked)")
        legend(a, loc="upper right")
    fig.tight_layout()
    save(fig, OUT / "profiles_vllm.png")


def main() -> None:
    names = list_profiles()
    summaries = {n: summarize(n) for n in names}

    print("== per-profile fits ==")
    print(f"{'profile':34} {'a ms':>7} {'b ms/1k':>8} {'R2':>7} {'maxrel':>7} | {'a@128':>7} {'b@128':>7} "
          f"{'R2@128':>7} | {'KV tokens':>10}")
    for n, s in summaries.items():
        print(f"{n:34} {s['prefill_intercept_ms']:7.2f} {s['prefill_ms_per_1k_tokens']:8.2f} {s['prefill_r2']:7.4f} "
              f"{s['prefill_max_rel_err']:7.3f} | {s['prefill128_intercept_ms']:7.2f} "
              f"{s['prefill128_ms_per_1k_tokens']:7.2f} {s['prefill128_r2']:7.4f} | {s['max_kv_tokens']:10,d}")
    print("\n== decode fits and knees ==")
    for n, s in summaries.items():
        for ctx, d in s["decode"].items():
            lo, hi = d["knee_interval"]
            print(f"{n:34} ctx {ctx:5d} {d['family']:>12} R2 {d['r2']:.4f}  b1 {d['fit_b1_ms']:6.2f}  "
                  f"b64 {d['fit_b64_ms']:6.2f}  b256 {d['fit_b256_ms']:6.2f} ms (table {d['table_b1_ms']:.2f} / "
                  f"{d['table_b64_ms']:.2f} / {d['table_b256_ms']:.2f})  knee {d['knee_batch']:6.1f} "
                  f"[{lo:.0f}, {hi:.0f}]  max batch (KV) {d['max_batch_in_memory']}")
    print("\n== non-monotone decode table points (drop > 1 %) ==")
    for n in names:
        drops = load_profile(n).non_monotone_decode(min_drop_pct=1.0)
        worst = max(drops, key=lambda t: t[3]) if drops else None
        print(f"{n:34} {len(drops):3d} points" + (f", worst: context {worst[0]}, batch {worst[1]} -> {worst[2]}: "
                                                 f"-{worst[3]:.1f} %" if worst else ""))

    _figures(names, summaries)
    print(f"\nwrote {OUT / 'profiles.png'} and {OUT / 'profiles_vllm.png'}")


if __name__ == "__main__":
    main()
