"""Reproduce section: fitted latency curves and knees of the shipped measured profiles.

For every profile in ``gametheory/data/profiles`` it fits (``gametheory.fitting.fit``) prefill latency
against tokens per batch (affine; all points, and the batch sweep at the paper's 128-token inputs) and the
decode step against batch at a fixed context, and finds the knee of the decode curve
(``gametheory.regimes.find_knee``): the batch where the step stops being flat (weight-read bound) and
starts rising (compute and KV-read bound). Numbers are computed here, never typed in.

References
----------
.. [1] NVIDIA aiconfigurator (PyPI ``aiconfigurator-core``, Apache-2.0): the measured per-kernel B200, H100
   and H200 tables the shipped profiles were computed from.
.. [2] K. P. Burnham, D. R. Anderson, *Model Selection and Multimodel Inference*, 2nd ed., Springer 2002 (the
   AICc choice of the decode family).
.. [3] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, section 5
   (latency linear below saturation, rising past a knee).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gametheory.plotting import save, styled
from gametheory.reproduce import Section, Table
from gametheory.serving.profiles import list_profiles, load_profile

__all__ = ["DECODE_CONTEXTS", "TITLE", "run", "summarize"]

TITLE = "Latency curves of the shipped measured profiles (B200, H100, H200)"

#: decode context (tokens) at which the curves and knees are reported: the paper's 128-token prompts plus
#: a short generation fall below 256; 2048 is the reference point of references.md
DECODE_CONTEXTS = (256, 2048)


def summarize(name: str) -> dict:
    """Fitted numbers of one profile: prefill intercept/slope/R^2, decode fits and knees.

    Parameters
    ----------
    name : str
        A shipped profile (:func:`gametheory.serving.profiles.list_profiles`).

    Returns
    -------
    dict
        name, system, backend, dtype, model, tp; the affine prefill fit on all points and on 128-token prompts
        (``prefill_intercept_ms``, ``prefill_ms_per_1k_tokens`` (ms per 1,000 tokens), ``prefill_r2``,
        ``prefill_max_rel_err`` and the ``prefill128_*`` counterparts); ``max_kv_tokens``;
        ``non_monotone_decode_points``; and ``decode``: per context of :data:`DECODE_CONTEXTS` the fitted
        family, R^2, fitted and measured step (ms) at batch 1, 64 and 256, the knee batch and its interval (NaN
        with ``no_knee`` giving the reason when there is none) and the largest batch whose KV fits in memory.

    Raises
    ------
    InvalidInputError
        ``name`` is not a shipped profile.
    """
    from gametheory.errors import NoKneeError
    from gametheory.regimes import find_knee

    p = load_profile(name)
    pre = p.prefill_fit
    x, y = p.prefill_points()
    pre128 = p.prefill_fit_at(128)
    out = {
        "name": name,
        "system": p.provenance.system,
        "backend": p.provenance.backend,
        "dtype": p.provenance.dtype,
        "model": p.model.name,
        "tp": p.tp,
        "prefill_family": pre.family,
        "prefill_intercept_ms": float(pre.curve(0.0)),
        "prefill_ms_per_1k_tokens": float(pre.curve.derivative(4096.0)) * 1000.0,
        "prefill_r2": float(pre.r2),
        "prefill_max_rel_err": float(np.max(np.abs(pre.curve(x) - y) / y)),
        "prefill128_intercept_ms": float(pre128.curve(0.0)),
        "prefill128_ms_per_1k_tokens": float(pre128.curve.derivative(1024.0)) * 1000.0,
        "prefill128_r2": float(pre128.r2),
        "max_kv_tokens": p.max_kv_tokens,
        "non_monotone_decode_points": len(p.non_monotone_decode(min_drop_pct=1.0)),
        "decode": {},
    }
    for ctx in DECODE_CONTEXTS:
        if ctx not in p.decode_context:
            continue
        b, lat = p.decode_points(ctx)
        f = p.decode_fits[int(np.nonzero(p.decode_context == ctx)[0][0])]
        try:
            knee = find_knee(b, lat)
            lo, hi = knee.interval
            knee_load, no_knee = float(knee.load), ""
        except NoKneeError as exc:  # a step linear in batch, or small-batch artifacts that hide any knee
            lo = hi = knee_load = math.nan
            no_knee = exc.reason
        out["decode"][ctx] = {
            "family": f.family,
            "r2": float(f.r2),
            "fit_b1_ms": float(f.curve(1.0)),
            "fit_b64_ms": float(f.curve(64.0)),
            "fit_b256_ms": float(f.curve(256.0)),
            "table_b1_ms": float(np.interp(1.0, b, lat)),  # the measured table (interpolated between points)
            "table_b64_ms": float(np.interp(64.0, b, lat)),
            "table_b256_ms": float(np.interp(256.0, b, lat)),
            "knee_batch": knee_load,
            "knee_interval": (float(lo), float(hi)),
            "no_knee": no_knee,
            "max_batch_in_memory": p.max_decode_batch(ctx),
        }
    return out


@styled
def _figure(summaries: list[dict], out_dir: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for s in summaries:
        p = load_profile(s["name"])
        label = s["name"].replace("_llama31_70b", " 70B").replace("_nemotron4_340b", " 340B")
        x, y = p.prefill_points(128)
        (line,) = axes[0].plot(x, y, "o", ms=4, label=label)
        xs = np.linspace(0, x.max(), 50)
        axes[0].plot(xs, p.prefill_ms(xs, isl=128), "-", color=line.get_color(), lw=1)
        b, lat = p.decode_points(2048) if 2048 in p.decode_context else p.decode_points(p.decode_context[-1])
        axes[1].plot(b, lat, "o", ms=4, color=line.get_color(), label=label)
        bs = np.linspace(1, b.max(), 100)
        axes[1].plot(bs, p.decode_step_ms(bs, 2048), "-", color=line.get_color(), lw=1)
    axes[0].set(xlabel="tokens per prefill batch (128-token prompts)", ylabel="prefill latency (ms)",
                title="Prefill: measured points and affine fits")
    axes[1].set(xlabel="decode batch (sequences)", ylabel="decode step latency (ms)",
                title="Decode step at context 2048: points and fits")
    axes[0].legend(title="B200 profile (points: measured; lines: fits)", loc="upper left")
    axes[1].legend(title="B200 profile", loc="upper left")
    fig.tight_layout()
    path = out_dir / "latency_profiles.png"
    save(fig, path)
    return path


def run(out_dir: Path, full: bool = False) -> Section:
    """Fit every shipped profile's prefill and decode curves, find the decode knees, plot the B200 ones.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for the section's figures (created if missing).
    full : bool
        Unused: the section is the same size either way.

    Returns
    -------
    Section
        The section's tables, figures, summary (the keys ``summary.json`` holds for it) and notes.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = [summarize(n) for n in list_profiles()]
    prefill = Table(
        "Prefill latency vs tokens per batch (affine fits; all points, and 128-token prompts)",
        ["profile", "a (ms)", "b (ms/1k tok)", "R^2", "max rel err", "a@128 (ms)", "b@128 (ms/1k tok)", "R^2@128"],
        [
            [s["name"], s["prefill_intercept_ms"], s["prefill_ms_per_1k_tokens"], s["prefill_r2"],
             s["prefill_max_rel_err"], s["prefill128_intercept_ms"], s["prefill128_ms_per_1k_tokens"],
             s["prefill128_r2"]]
            for s in summaries
        ],
    )
    rows = []
    for s in summaries:
        for ctx, d in s["decode"].items():
            lo, hi = d["knee_interval"]
            rows.append([
                s["name"], ctx, d["family"], d["r2"], d["fit_b1_ms"], d["fit_b64_ms"], d["fit_b256_ms"],
                d["knee_batch"] if not d["no_knee"] else "none",
                f"[{lo:.0f}, {hi:.0f}]" if not d["no_knee"] else "-", d["max_batch_in_memory"],
            ])
    decode = Table(
        "Decode step latency vs batch (fitted) and its knee",
        ["profile", "context", "family", "R^2", "b=1 (ms)", "b=64 (ms)", "b=256 (ms)", "knee batch", "interval",
         "max batch (KV)"],
        rows,
    )
    noisy = [s["name"] for s in summaries if s["non_monotone_decode_points"] > 0]
    knee_less = [f"{s['name']} at context {ctx}" for s in summaries for ctx, d in s["decode"].items() if d["no_knee"]]
    notes = [
        "decode curves are fitted, not interpolated: "
        + ", ".join(f"{s['name']} has {s['non_monotone_decode_points']} table points where the step falls "
                    "by more than 1 % as batch grows" for s in summaries if s["name"] in noisy),
    ]
    if knee_less:
        notes.append("knee 'none': the two-line model does not beat a straight line by the evidence threshold (the "
                     "step is linear in batch over the table, or small-batch artifacts hide any knee): "
                     + ", ".join(knee_less))
    figures = [_figure([s for s in summaries if s["system"] == "b200_sxm"], out_dir)]
    summary = {
        s["name"]: {k: (v if not isinstance(v, float) or math.isfinite(v) else str(v)) for k, v in s.items()}
        for s in summaries
    }
    return Section(TITLE, tables=[prefill, decode], figures=figures, summary=summary, notes=notes)
