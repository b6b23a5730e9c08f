"""Reproduce section: Game 3 (request routing) PoA and bounds across load, with and without cache affinity.

Workers are built from the shipped measured profiles (``gametheory.serving.profiles.load_profile``), a
heterogeneous pool of B200 workers (Llama-3.1-70B TP4: FP8 TRT-LLM, BF16 TRT-LLM, FP8 vLLM). A worker's
routing latency l_w(x) (ms per request at x requests/s) is derived from its measured decode step t(b) (ms at
batch b, context 2048 tokens) for requests of ``OUTPUT_TOKENS`` output tokens: at concurrency b the worker
sustains x(b) = 1000 b / (OUTPUT_TOKENS t(b)) requests/s with latency OUTPUT_TOKENS t(b) ms (Little's law);
a Pole curve a + b x + c / (kappa - x) is fitted to these points by the library's one fitter
(:meth:`~gametheory.serving.profiles.Profile.request_latency_fit`: ``gametheory.fitting.fit`` on relative
error). The cache benefit H (ms) is the measured prefill time of a
``EXAMPLE_PREFIX_TOKENS`` shared prefix (prefill slope of the profile times the prefix length). This section is
a worked example on long prompts (2048-token context, 1024-token prefix, 256 output tokens), not the paper's
128-token workload of :mod:`gametheory.paper_setup`.

References
----------
.. [1] T. Roughgarden, "The price of anarchy is independent of the network topology", JCSS 67(2), 2003, and
   J. R. Correa, A. S. Schulz, N. E. Stier-Moses, "Selfish routing in capacitated networks", Math. Oper.
   Res. 29(4), 2004 (the Pigou bound at the equilibrium loads).
.. [2] J. D. C. Little, "A proof for the queuing formula L = lambda W", Operations Research 9, 1961.
.. [3] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv:2606.17081, 2026, Definition 3 and
   Proposition 3 (routing with cache affinity).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gametheory.plotting import axis_label, knee_line, legend, plain_log_ticks, save, style
from gametheory.reproduce import Section, Table
from gametheory.serving.profiles import load_profile

__all__ = ["DECODE_CONTEXT", "EXAMPLE_PREFIX_TOKENS", "OUTPUT_TOKENS", "PROFILES", "TITLE", "run", "worker_curves"]

TITLE = "Game 3: routing PoA and bounds across load (measured B200 profiles)"

PROFILES = ("b200_llama31_70b_tp4_fp8_trtllm", "b200_llama31_70b_tp4_bf16_trtllm", "b200_llama31_70b_tp4_fp8_vllm")
OUTPUT_TOKENS = 256
DECODE_CONTEXT = 2048
EXAMPLE_PREFIX_TOKENS = 1024


def worker_curves() -> tuple[list, list[str], list[float], float]:
    """The three workers of this section, from the measured profiles of :data:`PROFILES`.

    Each worker's request latency is fitted by
    :meth:`~gametheory.serving.profiles.Profile.request_latency_fit` (a Pole curve through the Little's-law
    points of its decode step at :data:`DECODE_CONTEXT` tokens, :data:`OUTPUT_TOKENS` output tokens).

    Returns
    -------
    curves : list of Pole
        Request latency (ms) against request rate (requests/s), one per worker.
    names : list of str
        Each profile's name with the fit's largest relative error over its points.
    cache_benefits : list of float
        H per worker (ms): the slope of the profile's fitted prefill curve (ms per token, at 4096 tokens) times
        :data:`EXAMPLE_PREFIX_TOKENS`, the prefill time a cached shared prefix saves.
    measured_throughput : float
        The highest measured throughput summed over the workers (requests/s).
    """
    curves, names, H, measured = [], [], [], 0.0
    for name in PROFILES:
        p = load_profile(name)
        res = p.request_latency_fit(OUTPUT_TOKENS, DECODE_CONTEXT)
        x = res.curve  # the Pole curve
        b, t = p.decode_points(DECODE_CONTEXT)
        rate, latency = 1000.0 * b / (OUTPUT_TOKENS * t), OUTPUT_TOKENS * t
        err = float(np.max(np.abs(x(rate) / latency - 1.0)))
        curves.append(x)
        names.append(f"{name} (fit max rel err {err:.1%})")
        H.append(float(p.prefill_fit.curve.derivative(4096.0)) * EXAMPLE_PREFIX_TOKENS)
        measured += float(rate.max())
    return curves, names, H, measured


def run(out_dir: Path, full: bool = False) -> Section:
    """Solve the routing game across load with and without cache affinity, next to the class bound.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder for the section's figures (created if missing).
    full : bool
        Run the large grids: 24 loads without cache affinity (default 12) and 8 with (default 3).

    Returns
    -------
    Section
        The section's tables, figures, summary (the keys ``summary.json`` holds for it) and notes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gametheory.games.routing import poa_across_load

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    curves, names, H, measured = worker_curves()
    cap = sum(c.capacity for c in curves)
    fracs = np.linspace(0.05, 0.97, 24 if full else 12)
    rows0 = poa_across_load(curves, fracs * cap)
    cache_fracs = np.linspace(0.2, 0.9, 8 if full else 3)
    rows1 = poa_across_load(curves, cache_fracs * cap, n_classes=2, omega=1.0, cache_benefit=float(np.mean(H)),
                            cache_scale=1.0)
    t0 = Table("PoA across load, omega = 0 (one class)",
               ["load req/s", "load/capacity", "eq cost", "opt cost", "PoA", "bound", "bound kind"]
               + (["regime"] if "regime" in rows0[0] else []),
               [[r["load"], r["load"] / cap, r["equilibrium_cost"], r["optimum_cost"], r["poa"], r["bound"],
                 r["bound_kind"]] + ([r["regime"]] if "regime" in r else []) for r in rows0])
    t1 = Table("PoA across load, omega = 1, two prefix classes (worst equilibrium found / MILP optimum)",
               ["load req/s", "load/capacity", "eq cost", "opt cost (MILP)", "PoA"],
               [[r["load"], r["load"] / cap, r["equilibrium_cost"], r["optimum_cost"], r["poa"]] for r in rows1])
    with style():
        fig, ax = plt.subplots(figsize=(7, 4.2))
        ax.plot([r["load"] / cap for r in rows0], [r["poa"] for r in rows0], "o-", label="PoA, omega = 0")
        ax.plot([r["load"] / cap for r in rows0], [r["bound"] for r in rows0], "s--",
                label="Pigou bound at equilibrium loads")
        ax.plot([r["load"] / cap for r in rows1], [r["poa"] for r in rows1], "^-", label="PoA, omega = 1, 2 classes")
        if rows0.knee is not None and rows0.knee.found:
            knee_line(ax, rows0.knee.load / cap, [v / cap for v in rows0.knee.interval], label="knee")
        ax.set_xlabel(axis_label("total demand", "fraction of total capacity"))
        ax.set_ylabel(axis_label("PoA or bound", "equilibrium / optimum cost"))
        ax.set_yscale("log")
        plain_log_ticks(ax)
        legend(ax, loc="upper left")
        ax.set_title("Routing on 3 B200 workers")
        fig.tight_layout()
        fig_path = out_dir / "routing_poa_across_load.png"
        save(fig, fig_path)
    summary = {
        "workers": names,
        "capacity_req_s": cap,
        "measured_max_req_s": measured,
        "max_poa_omega0": max(r["poa"] for r in rows0),
        "max_bound_omega0": max(r["bound"] for r in rows0),
        "max_poa_omega1": max(r["poa"] for r in rows1),
        "cache_benefit_ms": float(np.mean(H)),
    }
    notes = [f"Worker curves: measured profiles, Pole curves fitted in code; output {OUTPUT_TOKENS} tokens, decode "
             f"context {DECODE_CONTEXT} tokens.",
             f"The highest measured throughputs sum to {measured:.1f} req/s = {measured / cap:.2f} of the fitted "
             f"capacity {cap:.1f} req/s: rows past that load extrapolate the fitted pole beyond the measurements.",
             "omega > 0: no classical bound applies (the game is not a potential game with a convex potential)."]
    return Section(TITLE, [t0, t1], [fig_path], summary, notes)
