"""The one engine model: configuration checks, the prefill batch rule, the cluster's timing tables."""

import math

import numpy as np
import pytest

from gametheory.errors import InvalidInputError
from gametheory.serving.engine import PAPER_SETUPS, VLLM_DEFAULTS, Cluster, EngineConfig, paper_cluster


def test_vllm_defaults_are_the_b200_openai_server_ones():
    assert (VLLM_DEFAULTS.max_num_seqs, VLLM_DEFAULTS.max_num_batched_tokens) == (1024, 8192)
    assert VLLM_DEFAULTS.chunked_prefill and VLLM_DEFAULTS.prefix_caching and VLLM_DEFAULTS.block_size == 16
    assert VLLM_DEFAULTS.prefill_seqs == 1024


def test_prefill_batch_rule():
    e = EngineConfig()
    assert e.prefill_batch(128) == 64.0  # 8192 / 128, chunked: the step is filled exactly
    assert e.prefill_batch(100) == pytest.approx(81.92)
    assert EngineConfig(chunked_prefill=False).prefill_batch(100) == 81.0
    assert EngineConfig(max_prefill_seqs=9).prefill_batch(32) == 9.0
    assert EngineConfig(max_num_batched_tokens=64).prefill_batch(128) == 1.0  # a long prompt runs alone
    with pytest.raises(InvalidInputError, match="uncached_tokens"):
        e.prefill_batch(0.5)


def test_uncached_tokens_whole_blocks_and_last_token():
    e = EngineConfig()
    assert e.uncached_tokens(128, 96) == 32
    assert e.uncached_tokens(128, 100) == 32  # 100 tokens hold 6 whole blocks of 16
    assert e.uncached_tokens(128, 128) == 1  # the last prompt token is always computed
    assert EngineConfig(prefix_caching=False).uncached_tokens(128, 96) == 128


@pytest.mark.parametrize("kw, field", [
    (dict(max_num_seqs=0), "max_num_seqs"), (dict(max_num_seqs=-3), "max_num_seqs"),
    (dict(max_num_batched_tokens=0), "max_num_batched_tokens"), (dict(max_prefill_seqs=0), "max_prefill_seqs"),
    (dict(max_num_seqs=2.5), "max_num_seqs"), (dict(block_size=0), "block_size"),
    (dict(prefix_cache_blocks=0), "prefix_cache_blocks"), (dict(chunked_prefill="yes"), "chunked_prefill"),
])
def test_bad_engine_config_names_the_field(kw, field):
    with pytest.raises(InvalidInputError, match=field):
        EngineConfig(**kw)


def test_cluster_checks_and_tables():
    c = paper_cluster("70b_1p5d")
    assert (c.n_prefill, c.n_decode) == (1, 5) and c.name == "70B TP4 1P/5D"
    p = c.profile
    assert c.prefill_ms(200) == pytest.approx(float(p.prefill_ms(200.0)))
    tab = c.step_table(150.0)
    assert tab[0] == 0 and tab.size == 1025
    np.testing.assert_allclose(tab[[1, 64]], p.decode_step_ms(np.array([1.0, 64.0]), 150.0))
    assert c.transfer_ms(128) == pytest.approx(float(p.kv_transfer_ms(128, 900.0)))
    assert paper_cluster("340b_1p2d").link_gb_per_s == 50.0
    assert c.with_layout(2, 4).name == "70B TP4 2P/4D" and c.with_engine(max_num_seqs=8).engine.max_num_seqs == 8
    with pytest.raises(InvalidInputError, match="n_decode"):
        Cluster(p, 1, 0)
    with pytest.raises(InvalidInputError, match="link_gb_per_s"):
        Cluster(p, 1, 1, math.nan)
    with pytest.raises(InvalidInputError, match="setup"):
        paper_cluster("nope")
    assert set(PAPER_SETUPS) == {"340b_1p2d", "70b_1p2d", "70b_1p5d"}


def test_kv_budget_caps_the_decode_slots():
    c = paper_cluster("70b_1p5d")
    ctx = 1e5  # a context so long that few sequences fit the worker's KV budget
    assert c.decode_slots(ctx) == int(c.profile.max_decode_batch(ctx)) < 1024
