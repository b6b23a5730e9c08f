"""Reproduce section: NVIDIA Dynamo's real KV router on the calibrated engine model (replay), against our
simulator.

Runs only when ``dynamo`` (ai-dynamo 1.6.1, ``make dynamo``) is importable; otherwise it returns a Section with a
note saying it was skipped and why. For each setup the replay (real router, Rust mocker workers configured from
the same :class:`~gametheory.serving.engine.Cluster`: engine limits, KV link, timing from the same fitted
curves) and our simulator run the same calibrated workload over a load grid spanning the knee
(:func:`gametheory.serving.validation.cross_check`); the section prints both sides, the knee of each (hinge of
mean latency against C) and the largest relative errors, and the timing-file checks.

References
----------
.. [1] NVIDIA Dynamo 1.6.1, ``dynamo.replay`` and the KV router, https://github.com/ai-dynamo/dynamo.
"""

from __future__ import annotations

from pathlib import Path

from gametheory.reproduce import Section, Table

__all__ = ["FULL_GRID", "GRID", "TITLE", "run"]

TITLE = "The real Dynamo router on the calibrated engine model (replay) vs our simulator"
GRID = (32, 64, 96, 112, 128, 192, 256, 512)
FULL_GRID = (16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 256, 384, 512, 768, 1024)


def run(out_dir: Path, full: bool = False) -> Section:
    """Run the section.

    Parameters
    ----------
    out_dir : Path
        Folder for the figures (created if missing).
    full : bool
        All three setups on a 15-point grid, 2 repeats (default: two setups, 8 points, 1 repeat).

    Returns
    -------
    Section
        Tables, figures, notes and the summary keys of the module docstring.
    """
    from gametheory.serving import dynamo as d

    if not d.dynamo_available():
        return Section(TITLE, notes=["skipped: ai-dynamo 1.6.1 is not importable (install it with `make dynamo`)"])
    from gametheory._progress import progress
    from gametheory.serving.calibration import calibrate
    from gametheory.serving.validation import cross_check

    cal = calibrate()
    setups = ("340b_1p2d", "70b_1p2d", "70b_1p5d") if full else ("340b_1p2d", "70b_1p5d")
    rows, knee_rows, summary = [], [], {}
    for setup in progress(setups, "replay cross-check"):
        cc = cross_check(cal.cluster(setup), FULL_GRID if full else GRID, workload=cal.workload(),
                         repeats=2 if full else 1)
        for r in cc.rows:
            rows.append([cc.setup, r.concurrency, r.replay["mean_latency_ms"], r.sim["mean_latency_ms"],
                         r.replay["ttft_p99_ms"], r.sim["ttft_p99_ms"], r.replay["throughput_rps"],
                         r.sim["throughput_rps"], r.replay["poa_hat"], r.sim["poa_hat"], r.rel_err["poa_hat"]])
        knee_rows.append([cc.setup, cc.knee_replay, cc.knee_sim, cc.knee_rel_err] +
                         [cc.max_rel_err[k] for k in ("mean_latency_ms", "throughput_rps", "ttft_p99_ms", "poa_hat")])
        summary[setup] = {"knee_c_replay": cc.knee_replay, "knee_c_sim": cc.knee_sim, "knee_rel_err": cc.knee_rel_err,
                          "max_rel_err": cc.max_rel_err, "concurrency": [r.concurrency for r in cc.rows],
                          "poa_hat_replay": [r.replay["poa_hat"] for r in cc.rows],
                          "poa_hat_sim": [r.sim["poa_hat"] for r in cc.rows]}
    checks = []
    for name in ("b200_llama31_70b_tp4_fp8_trtllm", "b200_nemotron4_340b_tp8_fp8_vllm"):
        p = cal.cluster("70b_1p5d" if "70b" in name else "340b_1p2d").profile
        err = d.round_trip_error(p, d.timing_tables(p, "measured"))
        chk = d.replay_timing_check(p)
        checks.append([name, err["prefill_max_rel"], err["decode_max_rel"], chk["ttft_rel"], chk["itl_rel"]])
    poas = [r[8] for r in rows]
    summary.update({"poa_hat_min": float(min(poas)), "poa_hat_max": float(max(poas)),
                    "max_timing_rel_err": float(max(max(c[1:]) for c in checks))})
    return Section(
        TITLE,
        tables=[
            Table("Replay (Dynamo 1.6.1 KV router, mocker workers) vs our simulator, calibrated engine, defaults "
                  "tau 0 omega 1 (mean latency and TTFT P99 in ms, throughput req/s, PoA-hat paper form)",
                  ["setup", "C", "replay latency", "sim latency", "replay TTFT P99", "sim TTFT P99", "replay req/s",
                   "sim req/s", "replay PoA-hat", "sim PoA-hat", "PoA-hat rel err"], rows),
            Table("Knees (hinge of mean latency vs C) and the largest relative errors (sim - replay) / replay",
                  ["setup", "replay knee", "sim knee", "knee rel err", "latency", "throughput", "TTFT P99",
                   "PoA-hat"], knee_rows),
            Table("mocker timing file: round trip of the measured table, one-request replay on the model timing "
                  "(relative errors)", ["profile", "prefill rt", "decode rt", "replay TTFT", "replay ITL"], checks),
        ],
        summary=summary,
        notes=["the replay's engine arguments come from the same EngineConfig as the simulator (max_num_seqs, "
               "max_num_batched_tokens, prefill requests per step, prefix caching, chunked prefill, block size, KV "
               "link) and its timing file from the same fitted curves; Dynamo breaks routing ties at random, so a "
               "rerun moves the replay's numbers slightly"],
    )
