"""The aiconfigurator-core adapter (models/build_profiles.py) against the reference values of references.md.

Runs when the ``aic`` extra (aiconfigurator-core 0.12.0) is installed; CI installs it. Reference values
(Llama-3.1-70B, TP4, trtllm backend, b200_sxm): BF16 prefill batch 1 = 42.5 ms at 1024 tokens and 142.2 ms
at 4096; decode step at context 2048 = 9.41 / 11.66 / 21.21 ms at batch 1 / 64 / 256. FP8: 32.7 / 103.7 ms;
7.35 / 8.26 / 15.72 ms.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
from pathlib import Path

import pytest

pytest.importorskip("aiconfigurator_core")

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("build_profiles", ROOT / "models" / "build_profiles.py")
build_profiles = importlib.util.module_from_spec(spec)
sys.modules["build_profiles"] = build_profiles
spec.loader.exec_module(build_profiles)

REFERENCE = {
    "b200_llama31_70b_tp4_bf16_trtllm": {
        "prefill": {1024: 42.5, 4096: 142.2}, "decode": {1: 9.41, 64: 11.66, 256: 21.21},
    },
    "b200_llama31_70b_tp4_fp8_trtllm": {
        "prefill": {1024: 32.7, 4096: 103.7}, "decode": {1: 7.35, 64: 8.26, 256: 15.72},
    },
}


@pytest.fixture(scope="module", autouse=True)
def _quiet():
    logging.disable(logging.WARNING)
    yield
    logging.disable(logging.NOTSET)


def _spec(name):
    return next(s for s in build_profiles.SPECS if s.name == name)


def _handle(name):
    from aiconfigurator_core.sdk.engine import EngineHandle

    s = _spec(name)
    quant = build_profiles.QUANT[(s.dtype, s.backend)]
    return EngineHandle.compile(s.model_path, s.system, s.backend, tp_size=s.tp, **quant)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_engine_reproduces_reference_values(name):
    h = _handle(name)
    ref = REFERENCE[name]
    for isl, ms in ref["prefill"].items():
        assert h.predict_prefill_latency(1, isl) == pytest.approx(ms, rel=0.01), (name, isl)
    for batch, ms in ref["decode"].items():
        assert h.decode_step_latency(batch, 2048, 0) == pytest.approx(ms, rel=0.01), (name, batch)


def test_explicit_fp8_modes_equal_the_fp8_checkpoint_inference():
    """Our explicit FP8 quant modes give the same engine as aiconfigurator's own inference from the
    ModelOpt FP8 checkpoint config (what the Nemotron profile relies on)."""
    from aiconfigurator_core.sdk.engine import EngineHandle

    inferred = EngineHandle.compile(build_profiles.LLAMA_FP8, "b200_sxm", "trtllm", tp_size=4)
    explicit = EngineHandle.compile(
        build_profiles.LLAMA_BF16, "b200_sxm", "trtllm", tp_size=4, **build_profiles.QUANT[("fp8", "trtllm")]
    )
    for b, isl in ((1, 128), (4, 512), (1, 4096)):
        assert explicit.predict_prefill_latency(b, isl) == pytest.approx(inferred.predict_prefill_latency(b, isl))
    for b in (1, 32, 256):
        assert explicit.decode_step_latency(b, 1024, 0) == pytest.approx(inferred.decode_step_latency(b, 1024, 0))


def test_rebuild_matches_shipped_file():
    """Re-running the builder gives the shipped numbers (the data files are reproducible)."""
    name = "b200_llama31_70b_tp4_fp8_trtllm"
    shipped = json.loads((build_profiles.OUT_DIR / f"{name}.json").read_text())
    fresh = build_profiles.build(_spec(name), shipped["provenance"]["date"])
    assert fresh["prefill"] == shipped["prefill"]
    assert fresh["decode"] == shipped["decode"]
    assert fresh["memory"] == shipped["memory"]
    assert fresh["provenance"]["package_version"] == shipped["provenance"]["package_version"] == "0.12.0"


def test_nemotron_local_config_is_parsed_as_briefed():
    from aiconfigurator_core.sdk.utils import get_model_config_from_model_path

    info = get_model_config_from_model_path(str(build_profiles.NEMOTRON_DIR))
    assert (info["layers"], info["hidden_size"], info["n"], info["n_kv"], info["inter_size"], info["vocab"]) == (
        96, 18432, 96, 8, 49152, 256000
    )
    assert info["d"] == 18432 // 96
    # the gated-MLP equivalent does the same GEMM work as the squared-ReLU MLP of width 73728
    assert 3 * 18432 * info["inter_size"] == 2 * 18432 * 73728


def test_kv_bytes_per_token_match_aiconfigurator_naive_estimator():
    from aiconfigurator_core.sdk.memory import NaiveKVCacheEstimator

    from gametheory.serving.profiles import load_profile

    for name, path in (
        ("b200_llama31_70b_tp4_bf16_trtllm", build_profiles.LLAMA_BF16),
        ("b200_nemotron4_340b_tp8_fp8_vllm", str(build_profiles.NEMOTRON_DIR)),
    ):
        p = load_profile(name)
        est = NaiveKVCacheEstimator.from_model_path(path, tp_size=p.tp, pp_size=1, allow_hf_config_download=False)
        # the naive estimator reads the config's BF16 dtype: scale to the profile's KV dtype
        assert est.kv_bytes_per_token() * p.model.kv_dtype_bytes // 2 == p.memory.kv_bytes_per_token_per_gpu
