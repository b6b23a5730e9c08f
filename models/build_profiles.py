"""Build the shipped step-latency profiles from NVIDIA's measured kernel tables in aiconfigurator-core.

Usage (needs the ``aic`` extra: ``pip install -e '.[aic]'``)::

    python models/build_profiles.py                 # writes gametheory/data/profiles/*.json
    python models/build_profiles.py --check         # rebuild in memory, compare with the shipped files

For each profile it compiles one aiconfigurator-core engine
(``EngineHandle.compile(model, system, backend, tp_size=..., <quant modes>)``) and queries

- ``predict_prefill_latency(batch, isl)``: ms of one prefill forward pass of ``batch`` sequences of
  ``isl`` tokens each, on a grid that includes the paper's 128-token inputs and reaches 8192 tokens
  per batch (capped at the model's context length);
- ``decode_step_latency(batch, context, 0)``: ms of one decode step of ``batch`` sequences whose KV
  length is ``context`` (+1), on batch 1..512 x context 128..8192;
- ``memory.estimate_kv_cache(...)``: weights per GPU and the KV-cache budget in tokens per worker, with
  the backend's default memory fraction (0.9; vLLM ``gpu_memory_utilization`` of total memory,
  TensorRT-LLM ``free_gpu_memory_fraction`` of free memory);
- ``decode_step_per_op`` / ``run_static_per_op``: which share of the latency at two reference points
  comes from measured ("silicon") tables and which from aiconfigurator's estimates.

The output files hold the raw points plus provenance (package and table versions, backend, dtype and
quant modes, system, TP, date, grid); :mod:`gametheory.serving.profiles` reads them without the extra.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "gametheory" / "data" / "profiles"
NEMOTRON_DIR = ROOT / "models" / "nemotron-4-340b"

#: nominal HBM per GPU in GB (vendor datasheets); aiconfigurator's own capacity (GiB) is recorded too
HBM_GB = {"b200_sxm": 192, "h100_sxm": 80, "h200_sxm": 141}

#: quant modes (gemm, kvcache, fmha) per dtype and backend. FP8 is what aiconfigurator-core infers from the
#: ModelOpt FP8 checkpoint nvidia/Llama-3.1-70B-Instruct-FP8 (per-tensor static FP8 GEMMs, FP8 KV cache);
#: its vLLM tables have BF16 attention only, so FMHA stays BF16 on that backend.
QUANT = {
    ("bf16", "trtllm"): {
        "gemm_quant_mode": "bfloat16", "kvcache_quant_mode": "bfloat16", "fmha_quant_mode": "bfloat16",
    },
    ("bf16", "vllm"): {"gemm_quant_mode": "bfloat16", "kvcache_quant_mode": "bfloat16", "fmha_quant_mode": "bfloat16"},
    ("fp8", "trtllm"): {"gemm_quant_mode": "fp8_static", "kvcache_quant_mode": "fp8", "fmha_quant_mode": "fp8"},
    ("fp8", "vllm"): {"gemm_quant_mode": "fp8_static", "kvcache_quant_mode": "fp8", "fmha_quant_mode": "bfloat16"},
}
MEMORY_FRACTION = {"trtllm": ("of_free", 0.9), "vllm": ("of_total", 0.9)}

#: prefill grid: batch-1 sweep over input length, and batch sweeps at fixed input lengths
PREFILL_ISL_SWEEP = (128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144, 8192)
PREFILL_BATCHES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)
PREFILL_BATCH_ISLS = (128, 512, 2048)
PREFILL_MAX_TOKENS = 8192
#: decode grid: batch (powers of two and midpoints) x context length
DECODE_BATCHES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 320, 384, 448, 512)
DECODE_CONTEXTS = (128, 256, 512, 1024, 2048, 3072, 4096, 6144, 8192)


@dataclass(frozen=True)
class Spec:
    """One profile to build."""

    name: str
    model: str  # display name
    model_path: str  # aiconfigurator model id or local directory
    system: str
    backend: str
    dtype: str
    tp: int
    notes: list[str] = field(default_factory=list)


LLAMA_BF16 = "meta-llama/Meta-Llama-3.1-70B"
LLAMA_FP8 = "nvidia/Llama-3.1-70B-Instruct-FP8"
VLLM_NOTE = (
    "vLLM-backend tables: decode step latency is not monotone in batch at small batches (the batch-1 "
    "step can be slower than batch 2-8), an artifact of the per-shape kernel measurements; fit, do not "
    "interpolate, these points."
)

SPECS = (
    Spec("b200_llama31_70b_tp4_bf16_trtllm", "Llama-3.1-70B", LLAMA_BF16, "b200_sxm", "trtllm", "bf16", 4),
    Spec("b200_llama31_70b_tp4_fp8_trtllm", "Llama-3.1-70B", LLAMA_FP8, "b200_sxm", "trtllm", "fp8", 4),
    Spec("b200_llama31_70b_tp4_fp8_vllm", "Llama-3.1-70B", LLAMA_FP8, "b200_sxm", "vllm", "fp8", 4, [VLLM_NOTE]),
    Spec(
        "b200_nemotron4_340b_tp8_fp8_vllm",
        "Nemotron-4-340B",
        str(NEMOTRON_DIR),
        "b200_sxm",
        "vllm",
        "fp8",
        8,
        [
            VLLM_NOTE,
            "Local config models/nemotron-4-340b/config.json: squared-ReLU MLP 73728 expressed as a gated MLP "
            "of 49152 (same GEMM work). Head dim 192 has measured attention tables on vLLM (and SGLang) but "
            "not on TensorRT-LLM, so this profile uses the paper's backend, vLLM. Grid capped at the model's "
            "4096-token context.",
        ],
    ),
    Spec("h100_llama31_70b_tp4_fp8_trtllm", "Llama-3.1-70B", LLAMA_FP8, "h100_sxm", "trtllm", "fp8", 4),
    Spec("h200_llama31_70b_tp4_fp8_trtllm", "Llama-3.1-70B", LLAMA_FP8, "h200_sxm", "trtllm", "fp8", 4),
    Spec("h100_llama31_70b_tp4_fp8_vllm", "Llama-3.1-70B", LLAMA_FP8, "h100_sxm", "vllm", "fp8", 4, [VLLM_NOTE]),
    Spec("h200_llama31_70b_tp4_fp8_vllm", "Llama-3.1-70B", LLAMA_FP8, "h200_sxm", "vllm", "fp8", 4, [VLLM_NOTE]),
)


def _model_facts(model_path: str, dtype: str) -> dict:
    """Architecture facts the serving model needs, read through aiconfigurator's own config parser."""
    from aiconfigurator_core.sdk.utils import get_model_config_from_model_path

    info = get_model_config_from_model_path(model_path)
    layers, heads, kv_heads, head_dim = info["layers"], info["n"], info["n_kv"], info["d"]
    hidden, inter, vocab = info["hidden_size"], info["inter_size"], info["vocab"]
    params = 2 * vocab * hidden + layers * (
        hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2 + 3 * hidden * inter
    )
    kv_dtype_bytes = 1 if dtype == "fp8" else 2
    return {
        "architecture": info["architecture"],
        "layers": layers,
        "hidden_size": hidden,
        "num_heads": heads,
        "num_kv_heads": kv_heads,
        "head_dim": head_dim,
        "intermediate_size": inter,
        "vocab_size": vocab,
        "max_context": info["context"],
        "params": params,
        "kv_dtype_bytes": kv_dtype_bytes,
    }


def _source_shares(per_op) -> dict[str, float]:
    """Share of latency per aiconfigurator data source (silicon = measured table, estimated, empirical)."""
    total = sum(float(op[1]) for op in per_op)
    shares: dict[str, float] = {}
    for op in per_op:
        shares[op[3]] = shares.get(op[3], 0.0) + float(op[1])
    return {k: round(v / total, 4) for k, v in sorted(shares.items())} if total > 0 else {}


def build(spec: Spec, date: str) -> dict:
    """Query aiconfigurator-core on the grid of ``spec`` and return the profile as a JSON-ready dict."""
    from aiconfigurator_core.sdk import perf_database
    from aiconfigurator_core.sdk.engine import EngineHandle
    from aiconfigurator_core.sdk.memory import estimate_kv_cache

    quant = QUANT[(spec.dtype, spec.backend)]
    version = perf_database.resolve_query_version(spec.system, spec.backend, "current")
    handle = EngineHandle.compile(
        spec.model_path, spec.system, spec.backend, backend_version=version, tp_size=spec.tp, **quant
    )
    facts = _model_facts(spec.model_path, spec.dtype)
    max_len = min(facts["max_context"], max(DECODE_CONTEXTS))

    prefill_pts = set()
    for isl in PREFILL_ISL_SWEEP:
        if isl <= max_len:
            prefill_pts.add((1, isl))
    for isl in PREFILL_BATCH_ISLS:
        for b in PREFILL_BATCHES:
            if b * isl <= PREFILL_MAX_TOKENS:
                prefill_pts.add((b, isl))
    prefill_rows = [
        [b, isl, b * isl, round(float(handle.predict_prefill_latency(b, isl)), 4)]
        for b, isl in sorted(prefill_pts, key=lambda p: (p[1], p[0]))
    ]
    contexts = [c for c in DECODE_CONTEXTS if c <= max_len]
    decode = [[round(float(handle.decode_step_latency(b, c, 0)), 4) for b in DECODE_BATCHES] for c in contexts]

    kind, fraction = MEMORY_FRACTION[spec.backend]
    mem = estimate_kv_cache(
        spec.model_path,
        spec.system,
        spec.backend,
        version,
        max_num_tokens=PREFILL_MAX_TOKENS,
        max_batch_size=max(DECODE_BATCHES),
        memory_fraction_kind=kind,
        memory_fraction_value=fraction,
        tp_size=spec.tp,
        **quant,
    )
    breakdown = mem["memory_breakdown"]
    sources = {
        "prefill_b1_isl1024": _source_shares(
            handle.run_static_per_op(batch_size=1, isl=1024, osl=2)[0]
        ),
        "decode_b64_ctx2048": _source_shares(handle.decode_step_per_op(64, 2048, 0)),
    }
    return {
        "schema": 1,
        "name": spec.name,
        "provenance": {
            "source": "aiconfigurator-core (NVIDIA measured kernel tables)",
            "package": "aiconfigurator-core",
            "package_version": importlib.metadata.version("aiconfigurator-core"),
            "table_version": f"{spec.backend} {version}",
            "system": spec.system,
            "backend": spec.backend,
            "dtype": spec.dtype,
            "quant_modes": quant,
            "tp": spec.tp,
            "model": spec.model,
            "model_path": spec.model_path if not Path(spec.model_path).is_dir()
            else str(Path(spec.model_path).relative_to(ROOT)),
            "date": date,
            "script": "models/build_profiles.py",
            "api": "EngineHandle.predict_prefill_latency(batch, isl); EngineHandle.decode_step_latency(batch, ctx, 0)",
            "latency_source_shares": sources,
            "notes": list(spec.notes),
        },
        "model": facts,
        "memory": {
            "hbm_gb_per_gpu": HBM_GB[spec.system],
            "aic_capacity_bytes_per_gpu": int(mem["total_gpu_capacity_bytes"]),
            "weights_bytes_per_gpu": int(breakdown["weights_bytes"]),
            "activations_bytes_per_gpu": int(breakdown["activations_bytes"]),
            "runtime_overhead_bytes_per_gpu": int(breakdown["runtime_overhead_bytes"]),
            "comm_overhead_bytes_per_gpu": int(breakdown["comm_overhead_bytes"]),
            "kv_bytes_per_token_per_gpu": int(mem["kv_size_per_token_bytes"]),
            "kv_budget_bytes_per_gpu": int(mem["total_kv_size_bytes"]),
            "max_kv_tokens_per_worker": int(mem["total_kv_size_tokens"]),
            "memory_fraction": {"kind": kind, "value": fraction},
        },
        "grid": {
            "prefill_isl_sweep_batch1": [i for i in PREFILL_ISL_SWEEP if i <= max_len],
            "prefill_batches": list(PREFILL_BATCHES),
            "prefill_batch_isls": list(PREFILL_BATCH_ISLS),
            "prefill_max_tokens": PREFILL_MAX_TOKENS,
            "decode_batches": list(DECODE_BATCHES),
            "decode_contexts": contexts,
        },
        "prefill": {"columns": ["batch", "isl", "tokens", "latency_ms"], "rows": prefill_rows},
        "decode": {"batch": list(DECODE_BATCHES), "context": contexts, "latency_ms": decode},
    }


def _write(profile: dict, out_dir: Path) -> Path:
    path = out_dir / f"{profile['name']}.json"
    text = json.dumps(profile, indent=1)
    path.write_text(text + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: gametheory/data/profiles)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="build only these profiles")
    parser.add_argument("--check", action="store_true", help="compare with the shipped files instead of writing")
    parser.add_argument("--date", default=_dt.date.today().isoformat(), help="date recorded in the provenance")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # aiconfigurator logs per-lane fallbacks at WARNING

    specs = [s for s in SPECS if not args.only or s.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    worst = 0.0
    for spec in specs:
        profile = build(spec, args.date)
        if args.check:
            shipped = json.loads((args.out / f"{spec.name}.json").read_text())
            old = [r[3] for r in shipped["prefill"]["rows"]] + sum(shipped["decode"]["latency_ms"], [])
            new = [r[3] for r in profile["prefill"]["rows"]] + sum(profile["decode"]["latency_ms"], [])
            rel = max(abs(a - b) / b for a, b in zip(old, new, strict=True))
            worst = max(worst, rel)
            print(f"{spec.name}: max relative difference {rel:.2e}")
            continue
        path = _write(profile, args.out)
        pre = profile["prefill"]["rows"]
        b1 = {r[1]: r[3] for r in pre if r[0] == 1}
        dec = profile["decode"]
        i2048 = dec["context"].index(2048)
        row = dict(zip(dec["batch"], dec["latency_ms"][i2048], strict=True))
        print(
            f"{spec.name}: {len(pre)} prefill + {len(dec['batch']) * len(dec['context'])} decode points, "
            f"{path.stat().st_size / 1024:.1f} KB; prefill b1 1024 tok {b1.get(1024)} ms; decode ctx 2048 "
            f"b1/b64/b256 {row[1]}/{row[64]}/{row[256]} ms; max KV tokens/worker "
            f"{profile['memory']['max_kv_tokens_per_worker']:,}; measured share "
            f"{profile['provenance']['latency_source_shares']}"
        )
    return 1 if args.check and worst > 1e-6 else 0


if __name__ == "__main__":
    sys.exit(main())
