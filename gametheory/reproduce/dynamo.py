"""Reproduce section: NVIDIA Dynamo's real KV router on B200 timing, on the replay's virtual clock.

Runs only when ``dynamo`` (ai-dynamo 1.6.1, ``make dynamo``) is importable; otherwise it returns a Section
with a note saying it was skipped and why. Computes, for the 70B 1P/5D and 340B 1P/2D setups, PoA-hat,
TTFT P50/P99 and throughput at three closed-loop concurrencies (defaults tau 0, omega 1; 2 repeats), and the
timing-file round trip. The full grid, the 16 configurations and experiment 3 are in
``python docs/figures/make_dynamo.py``.
"""

from __future__ import annotations

from pathlib import Path

from gametheory.reproduce import Section, Table

TITLE = "The real Dynamo router: PoA-hat on B200 timing (replay)"


def run(out_dir: Path, full: bool = False) -> Section:
    from gametheory.serving import dynamo as d

    if not d.dynamo_available():
        return Section(TITLE, notes=["skipped: ai-dynamo 1.6.1 is not importable (install it with `make dynamo`)"])
    from gametheory.serving.profiles import load_profile

    setups = ("70b_1p5d", "340b_1p2d", "70b_1p2d") if full else ("70b_1p5d", "340b_1p2d")
    grid = (16, 64, 128, 256, 512, 768, 1024) if full else (16, 128, 512)
    rows = []
    for setup in setups:
        for r in d.sweep(setup, grid, repeats=3 if full else 2):
            rows.append([setup, r["concurrency"], r["poa_hat"], r["poa_hat_lo"], r["poa_hat_hi"],
                         r["ttft_p50_ms"], r["ttft_p99_ms"], r["itl_mean_ms"], r["throughput_rps"]])
    checks = []
    for name in ("b200_llama31_70b_tp4_fp8_trtllm", "b200_nemotron4_340b_tp8_fp8_vllm"):
        p = load_profile(name)
        err = d.round_trip_error(p, d.timing_tables(p))
        chk = d.replay_timing_check(p)
        checks.append([name, err["prefill_max_rel"], err["decode_max_rel"], chk["ttft_rel"], chk["itl_rel"]])
    poas = [r[2] for r in rows]
    return Section(
        TITLE,
        tables=[
            Table("Dynamo 1.6.1 KV router (replay), defaults tau=0 omega=1, 128-in/128-out, 5 prefix templates",
                  ["setup", "C", "PoA-hat", "lo95", "hi95", "TTFT P50 ms", "TTFT P99 ms", "ITL ms", "req/s"], rows),
            Table("mocker timing file: round trip and one-request replay (relative errors)",
                  ["profile", "prefill rt", "decode rt", "replay TTFT", "replay ITL"], checks),
        ],
        summary={"poa_hat_min": float(min(poas)), "poa_hat_max": float(max(poas)),
                 "max_timing_rel_err": float(max(max(c[1:]) for c in checks))},
        notes=["PoA-hat here uses frozen decode latencies from the profile on windows of m = #decode workers "
               "(docs/dynamo.md). TTFT P99 in a closed-loop replay includes the start-up burst (all C clients "
               "send at t = 0); P50 is the steady state."],
    )
