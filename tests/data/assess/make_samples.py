"""Write the sample inputs of `gametheory assess` in this folder (synthetic numbers, fixed seed).

    python tests/data/assess/make_samples.py

The latency model is the issue's example: TTFT P99 (ms) = 40 + 0.2 C + 800 / (131 - C), a capacity pole at
concurrency C = 131, with 2 % proportional noise; ITL (ms) = 8 + 0.02 C. The file layouts follow aiperf's
documented exports (docs/reference/json-export-schema.md, docs/tutorials/working-with-profile-exports.md and
docs/api/sweep-aggregates.md of github.com/ai-dynamo/aiperf) and the request-log schema of
gametheory.serving.estimator.LOG_COLUMNS. Nothing here is measured.
"""

from __future__ import annotations

import codecs
import json
import shutil
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
POLE = 131.0
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)


def ttft_p99(c):
    return 40.0 + 0.2 * c + 800.0 / (POLE - c)


def itl(c):
    return 8.0 + 0.02 * c


def write_bench_csv(rng) -> None:
    """The issue's file: concurrency,ttft_p99_ms,itl_p50_ms, written by a spreadsheet (UTF-8 BOM, CRLF)."""
    c = np.arange(8, 129, 8)
    ttft = ttft_p99(c) * (1 + 0.02 * rng.standard_normal(c.size))
    rows = ["# synthetic: TTFT P99 with a capacity pole at C = 131 (see make_samples.py)",
            "concurrency,ttft_p99_ms,itl_p50_ms"]
    rows += [f"{ci},{t:.2f},{itl(ci):.3f}" for ci, t in zip(c, ttft, strict=True)]
    (HERE / "bench.csv").write_bytes(codecs.BOM_UTF8 + ("\r\n".join(rows) + "\r\n").encode())
    straight = 10 + 0.5 * c + 0.4 * rng.standard_normal(c.size)
    (HERE / "straight.tsv").write_text("load\tlatency_ms\n" + "".join(f"{ci}\t{v:.3f}\n" for ci, v in
                                                                     zip(c, straight, strict=True)))


def stats_block(samples, unit="ms") -> dict:
    v = np.asarray(samples, float)
    block = {"unit": unit, "avg": round(float(v.mean()), 3), "min": round(float(v.min()), 3),
             "max": round(float(v.max()), 3)}
    block.update({f"p{q}": round(float(x), 3) for q, x in zip(PERCENTILES, np.percentile(v, PERCENTILES),
                                                              strict=True)})
    block.update({"std": round(float(v.std(ddof=1)), 3), "count": int(v.size), "sum": round(float(v.sum()), 3)})
    return block


def write_sweep(rng) -> None:
    """aiperf single-trial sweep layout: <base>/concurrency_<C>/profile_export_aiperf.json, a request log per
    run (the router's decisions, for PoA-hat) and the sweep aggregate (which the reader must skip)."""
    base = HERE / "aiperf_sweep"
    shutil.rmtree(base, ignore_errors=True)
    grid = (8, 16, 32, 48, 64, 80, 96, 104, 112, 120, 128)
    for c in grid:
        run = base / f"concurrency_{c}"
        run.mkdir(parents=True)
        n = 200
        # per-request TTFT: lognormal around a median set so that the P99 follows the pole model
        sigma = 0.15
        median = ttft_p99(c) / np.exp(2.326 * sigma)
        t = median * np.exp(sigma * rng.standard_normal(n))
        i = itl(c) * (1 + 0.03 * rng.standard_normal(n))
        e2e = t + 127 * i
        doc = {
            "schema_version": "1.5",
            "aiperf_version": "synthetic",
            "time_to_first_token": stats_block(t),
            "inter_token_latency": stats_block(i),
            "request_latency": stats_block(e2e),
            "request_throughput": {"unit": "requests/sec", "avg": round(float(c / (e2e.mean() / 1e3)), 3)},
            "output_token_throughput": {"unit": "tokens/sec", "avg": round(float(128 * c / (e2e.mean() / 1e3)), 2)},
            "request_count": {"unit": "requests", "avg": float(n)},
            "was_cancelled": False,
            "error_summary": [],
            "input_config": {"endpoint": {"model_names": ["synthetic-model"], "type": "chat", "streaming": True},
                             "loadgen": {"concurrency": c, "request_count": n}},
            "run_info": {"trial": 0, "run_label": f"concurrency_{c}", "variation_label": f"concurrency_{c}",
                         "variation_index": grid.index(c),
                         "variation_values": {"phases.profiling.concurrency": c}},
        }
        (run / "profile_export_aiperf.json").write_text(json.dumps(doc, indent=2) + "\n")
        write_request_log(run / "request_log.csv", c, rng)
    agg = base / "sweep_aggregate"
    agg.mkdir()
    (agg / "profile_export_aiperf_sweep.json").write_text(json.dumps({
        "aggregation_type": "sweep", "num_profile_runs": len(grid), "num_successful_runs": len(grid),
        "failed_runs": [], "metadata": {"sweep_parameters": [{"name": "concurrency", "values": list(grid)}],
                                        "num_combinations": len(grid)}}, indent=2) + "\n")


def write_request_log(path: Path, c: int, rng, m: int = 2, n: int = 60) -> None:
    """A toy router log: 2 workers, the modelled latency frozen at each window's start, the realized latency
    the modelled one on the chosen worker inflated by queueing past the knee (about C / 110)."""
    lines = ["worker,latency_ms,ttft_ms,window," + ",".join(f"model_ms_{w}" for w in range(m))
             + "," + ",".join(f"model_ttft_ms_{w}" for w in range(m))]
    for j in range(n // m):
        base = 1000.0 + 60.0 * rng.random(m)
        for _ in range(m):
            w = int(rng.integers(m))
            model = base + 5.0 * rng.random(m)
            ttft_model = model / 20.0
            inflate = max(1.0, c / 110.0) ** 3
            real = model[w] * inflate * (1 + 0.02 * rng.standard_normal())
            real_ttft = ttft_model[w] * inflate
            lines.append(f"{w},{real:.2f},{real_ttft:.2f},{j}," + ",".join(f"{v:.2f}" for v in model) + ","
                         + ",".join(f"{v:.2f}" for v in ttft_model))
    path.write_text("\n".join(lines) + "\n")


def write_ramp(rng) -> None:
    """One aiperf run whose load ramps up (profile_export.jsonl): requests arrive at a rising rate, each one's
    TTFT set by the requests in flight when it starts; plus warm-up, a failed and a cancelled record."""
    run = HERE / "aiperf_ramp"
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir()
    t0 = 1_759_813_207_000_000_000
    t, active, records = 0.0, [], []
    n = 300
    for k in range(n):
        rate = 10.0 + 90.0 * k / n  # requests per second
        t += rng.exponential(1.0 / rate)
        active = [e for e in active if e > t]
        inflight = len(active) + 1
        ttft = min(ttft_p99(min(inflight, 125)), 400.0) * np.exp(0.1 * rng.standard_normal()) / 1.4
        itl_ms = itl(inflight)
        e2e = ttft + 127 * itl_ms
        end = t + e2e / 1e3
        active.append(end)
        phase = "warmup" if k < 5 else "profiling"
        error = {"code": 500, "type": "ServerError", "message": "synthetic failure"} if k == 200 else None
        meta = {"session_num": k, "turn_index": 0, "request_start_ns": t0 + int(t * 1e9),
                "request_end_ns": t0 + int(end * 1e9), "worker_id": f"worker_{k % 4}",
                "benchmark_phase": phase, "was_cancelled": k == 300}
        metrics = None if error else {
            "time_to_first_token": {"value": round(ttft, 3), "unit": "ms"},
            "inter_token_latency": {"value": round(itl_ms, 3), "unit": "ms"},
            "request_latency": {"value": round(e2e, 3), "unit": "ms"},
            "output_sequence_length": {"value": 128, "unit": "tokens"},
        }
        records.append(json.dumps({"metadata": meta, "metrics": metrics or {}, "error": error},
                                  separators=(",", ":")))
    (run / "profile_export.jsonl").write_text("\n".join(records) + "\n")


def main() -> None:
    rng = np.random.default_rng(131)
    write_bench_csv(rng)
    write_sweep(rng)
    write_ramp(rng)


if __name__ == "__main__":
    main()
