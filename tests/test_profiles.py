"""Shipped measured profiles (gametheory/data/profiles) and gametheory.serving.profiles."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest

from gametheory.cli import main
from gametheory.errors import InvalidInputError
from gametheory.serving.profiles import list_profiles, load_profile, profiles_dir

NAMES = (
    "b200_llama31_70b_tp4_bf16_trtllm",
    "b200_llama31_70b_tp4_fp8_trtllm",
    "b200_llama31_70b_tp4_fp8_vllm",
    "b200_nemotron4_340b_tp8_fp8_vllm",
    "h100_llama31_70b_tp4_fp8_trtllm",
    "h200_llama31_70b_tp4_fp8_trtllm",
    "h100_llama31_70b_tp4_fp8_vllm",
    "h200_llama31_70b_tp4_fp8_vllm",
)
TRTLLM = [n for n in NAMES if n.endswith("trtllm")]
VLLM = [n for n in NAMES if n.endswith("vllm")]
#: references.md, Llama-3.1-70B TP4 trtllm b200_sxm: prefill batch 1 at 1024/4096 tokens, decode ctx 2048
REFERENCE = {
    "b200_llama31_70b_tp4_bf16_trtllm": ({1024: 42.5, 4096: 142.2}, {1: 9.41, 64: 11.66, 256: 21.21}),
    "b200_llama31_70b_tp4_fp8_trtllm": ({1024: 32.7, 4096: 103.7}, {1: 7.35, 64: 8.26, 256: 15.72}),
}


def test_list_and_files():
    assert set(NAMES) <= set(list_profiles())
    for name in list_profiles():
        path = profiles_dir() / f"{name}.json"
        assert path.stat().st_size < 200_000
        data = json.loads(path.read_text())
        prov = data["provenance"]
        for key in ("package_version", "backend", "dtype", "system", "tp", "date", "table_version"):
            assert prov[key] not in (None, ""), (name, key)
        assert prov["package_version"] == "0.12.0"
        assert data["grid"]["decode_batches"] == data["decode"]["batch"]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_shipped_points_reproduce_references(name):
    p = load_profile(name)
    prefill, decode = REFERENCE[name]
    for tokens, ms in prefill.items():
        row = (p.prefill_batch == 1) & (p.prefill_isl == tokens)
        assert p.prefill_latency_ms[row][0] == pytest.approx(ms, rel=0.01)
    b, lat = p.decode_points(2048)
    for batch, ms in decode.items():
        assert lat[list(b).index(batch)] == pytest.approx(ms, rel=0.01)
    # the qualitative facts of references.md: decode flat then rising; +15 % at 64, about 2x at 256
    assert lat[list(b).index(64)] / lat[0] == pytest.approx(1.15, abs=0.12)
    assert lat[list(b).index(256)] / lat[0] == pytest.approx(2.2, abs=0.25)


@pytest.mark.parametrize("name", NAMES)
def test_model_and_memory_facts_closed_forms(name):
    p = load_profile(name)
    m, mem = p.model, p.memory
    assert m.kv_bytes_per_token == 2 * m.layers * m.num_kv_heads * m.head_dim * m.kv_dtype_bytes
    assert mem.kv_bytes_per_token_per_gpu * p.tp == m.kv_bytes_per_token  # KV heads split evenly over TP
    assert p.max_kv_tokens == mem.kv_budget_bytes_per_gpu // mem.kv_bytes_per_token_per_gpu
    assert mem.hbm_gb_per_gpu == {"b200_sxm": 192, "h100_sxm": 80, "h200_sxm": 141}[p.provenance.system]
    # weights: linear layers at the GEMM dtype width, embeddings and lm_head in BF16
    embed = 2 * m.vocab_size * m.hidden_size
    gemm_bytes = 1 if p.provenance.dtype == "fp8" else 2
    expected = (m.params - embed) * gemm_bytes + embed * 2
    assert p.weights_bytes_per_worker == pytest.approx(expected, rel=0.01)
    # the budget leaves room for weights within the GPU
    assert mem.weights_bytes_per_gpu + mem.kv_budget_bytes_per_gpu < mem.capacity_bytes_per_gpu
    assert p.max_decode_batch(2048) == p.max_kv_tokens // 2049


def test_model_architectures():
    llama = load_profile("b200_llama31_70b_tp4_fp8_trtllm").model
    assert (llama.layers, llama.num_kv_heads, llama.head_dim, llama.kv_bytes_per_token) == (80, 8, 128, 163840)
    assert llama.params == pytest.approx(70.55e9, rel=0.005)
    nemo = load_profile("b200_nemotron4_340b_tp8_fp8_vllm")
    m = nemo.model
    assert (m.layers, m.hidden_size, m.num_heads, m.num_kv_heads, m.head_dim, m.vocab_size) == (
        96, 18432, 96, 8, 192, 256000
    )
    assert m.params == pytest.approx(341e9, rel=0.01)
    assert nemo.tp == 8 and nemo.decode_context.max() <= m.max_context == 4096


def test_kv_transfer_time():
    p = load_profile("b200_llama31_70b_tp4_fp8_vllm")
    # 128 tokens x 160 KiB = 20 MiB; at 50 GB/s that is 0.419 ms
    assert p.kv_bytes(128) == 128 * 163840
    assert p.kv_transfer_ms(128, 50.0) == pytest.approx(128 * 163840 / 50e9 * 1e3)
    np.testing.assert_allclose(p.kv_transfer_ms(np.array([0, 256]), 100.0), [0.0, 256 * 163840 / 100e9 * 1e3])
    with pytest.raises(InvalidInputError, match="bandwidth_gb_per_s"):
        p.kv_transfer_ms(128, 0.0)
    with pytest.raises(InvalidInputError):
        p.kv_bytes(-1)


def test_raw_lookup_hits_grid_points_and_interpolates():
    p = load_profile("h200_llama31_70b_tp4_fp8_trtllm")
    for i in (0, 3, len(p.decode_context) - 1):
        for j in (0, 5, len(p.decode_batch) - 1):
            assert p.decode_step_ms_raw(p.decode_batch[j], p.decode_context[i]) == pytest.approx(
                p.decode_latency_ms[i, j]
            )
    mid = p.decode_step_ms_raw(100, 3000)
    lo, hi = p.decode_step_ms_raw(96, 2048), p.decode_step_ms_raw(128, 4096)
    assert lo < mid < hi


def test_vllm_tables_are_noisy_and_trtllm_tables_nearly_monotone():
    worst = {n: max([d[3] for d in load_profile(n).non_monotone_decode()] or [0.0]) for n in NAMES}
    # the vLLM B200 tables drop by more than 20 % between batch 1 and 2 (and batch 4 -> 6)
    b200 = load_profile("b200_llama31_70b_tp4_fp8_vllm").non_monotone_decode(min_drop_pct=20.0)
    assert {(b0, b1) for _, b0, b1, _ in b200} >= {(1, 2), (4, 6)}
    assert worst["b200_nemotron4_340b_tp8_fp8_vllm"] > 20.0
    for n in TRTLLM:
        assert worst[n] < 5.0, n


def test_profile_is_immutable():
    p = load_profile("b200_llama31_70b_tp4_fp8_trtllm")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "x"
    with pytest.raises(ValueError):
        p.decode_latency_ms[0, 0] = 0.0
    assert load_profile("b200_llama31_70b_tp4_fp8_trtllm") is p  # cached


def test_unknown_and_malformed_profiles(tmp_path):
    with pytest.raises(InvalidInputError, match="unknown profile 'nope'; shipped profiles: b200"):
        load_profile("nope")
    src = profiles_dir() / "b200_llama31_70b_tp4_fp8_trtllm.json"
    good = tmp_path / "copy.json"
    shutil.copy(src, good)
    assert load_profile(str(good)).name == "b200_llama31_70b_tp4_fp8_trtllm"

    def broken(edit, name):
        data = json.loads(src.read_text())
        edit(data)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(data))
        with pytest.raises(InvalidInputError) as info:
            load_profile(str(path))
        assert str(path) in str(info.value)
        return str(info.value)

    assert "missing field 'memory.max_kv_tokens_per_worker'" in broken(
        lambda d: d["memory"].pop("max_kv_tokens_per_worker"), "a"
    )
    assert "'decode.latency_ms' must have shape" in broken(lambda d: d["decode"]["latency_ms"].pop(), "b")
    assert "tokens" in broken(lambda d: d["prefill"]["rows"][0].__setitem__(2, 7), "c")
    assert "model.layers" in broken(lambda d: d["model"].__setitem__("layers", -1), "d")
    assert "decode.context" in broken(lambda d: d["decode"]["context"].reverse(), "e")
    bad = tmp_path / "f.json"
    bad.write_text("{\n  oops")
    with pytest.raises(InvalidInputError, match="row 2: not valid JSON"):
        load_profile(str(bad))


def test_cli_lists_profiles(capsys):
    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for n in NAMES:
        assert n in out
    assert "aiconfigurator-core 0.12.0" in out
    assert main(["profiles", "nope"]) == 2
