"""The model configs the serving reproductions run (Falcon-180B, Yi-34B, OPT-175B, CodeLlama-34B): parameter counts
against the published totals, and the shapes the serving setups depend on (KV heads, positions, parallel splits)."""

import pytest

from workloads import load_workload
from workloads.model_config import load_model_config


@pytest.mark.parametrize("name, published, rel", [
    ("falcon-180b", 180.0e9, 0.005),  # model card: "a 180B parameters" model (nominal)
    ("yi-34b", 34.4e9, 0.005),  # model card: 34.4B
    ("opt-175b", 175.0e9, 0.005),  # OPT paper Table 1: 175B (nominal)
    ("codellama-34b", 33.744e9, 0.0005),  # safetensors index: 33,743,970,304
])
def test_parameter_count_is_the_published_total(name, published, rel):
    assert load_workload(name).parameters == pytest.approx(published, rel=rel)
    assert load_model_config(name).published_parameters == published


def test_exact_count_where_a_checkpoint_index_gives_one():
    assert load_workload("codellama-34b").parameters == 33_743_970_304


@pytest.mark.parametrize("name, kv_bytes_per_token", [
    ("falcon-180b", 2 * 80 * 8 * 64 * 2),  # GQA: 8 KV heads of 64
    ("yi-34b", 2 * 60 * 8 * 128 * 2),
    ("opt-175b", 2 * 96 * 12288 * 2),  # full multi-head attention
    ("codellama-34b", 2 * 48 * 8 * 128 * 2),
])
def test_kv_cache_per_token(name, kv_bytes_per_token):
    """The KV bytes a serving instance holds per token (fp16), which set its KV capacity and a KV transfer."""
    one = load_workload(name, phase="decode", batch=1, context=1023).memory_bytes["kv_cache"]
    assert one == pytest.approx(1024 * kv_bytes_per_token)


@pytest.mark.parametrize("name, tp, pp", [("falcon-180b", 4, 2), ("yi-34b", 2, 1), ("opt-175b", 8, 4),
                                          ("codellama-34b", 2, 1)])
def test_the_papers_parallel_splits_divide_the_model(name, tp, pp):
    """Sarathi-Serve runs Falcon-180B at TP4-PP2 and Yi-34B at TP2; DistServe OPT-175B over four 8-GPU nodes;
    Sarathi-Serve's repo CodeLlama-34B at TP2."""
    total = load_workload(name).parameters
    shard = load_workload(name, phase="decode", batch=8, context=512, tensor_parallel=tp, pipeline_parallel=pp)
    assert shard.devices == tp * pp
    assert shard.parameters * tp == pytest.approx(total, rel=0.005)  # a tensor shard (norms are replicated)
    busiest = shard.memory_bytes["weights"] / 2  # fp16 weights of the busiest stage's device
    assert busiest * tp * pp == pytest.approx(total, rel=0.05)


def test_opt_175b_is_bounded_by_its_learned_positions():
    with pytest.raises(ValueError, match="max_position_embeddings=2048"):
        load_workload("opt-175b", phase="decode", batch=1, context=2048)
