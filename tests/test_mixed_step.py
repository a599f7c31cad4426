"""The ``mixed`` decoder step: decodes and prefill chunks in one step (dense and MoE decoders)."""

from __future__ import annotations

import pytest

from cosim.workload_info import check_parameters
from workloads import load_workload
from workloads.transformer import WorkloadParamError


def _ops(wl):
    return [(op.name, op.kind, op.count, dict(op.dims), op.weight_bits) for op in wl.ops]


@pytest.mark.parametrize("model", ["llama-2-7b", "mixtral-8x7b"])
def test_mixed_without_chunks_is_the_decode_step(model):
    mixed = load_workload(model, phase="mixed", batch=6, context=300)
    decode = load_workload(model, phase="decode", batch=6, context=300)
    assert _ops(mixed) == _ops(decode)
    assert mixed.memory_bytes == decode.memory_bytes


@pytest.mark.parametrize("model", ["llama-2-7b", "mixtral-8x7b"])
def test_mixed_with_fresh_equal_chunks_is_the_prefill_step(model):
    mixed = load_workload(model, phase="mixed", batch=0, chunks="96:0,96:0,96:0")
    prefill = load_workload(model, phase="prefill", batch=3, prompt=96)
    assert _ops(mixed) == _ops(prefill)
    assert mixed.memory_bytes == prefill.memory_bytes


def test_mixed_step_runs_weights_once_over_every_token():
    wl = load_workload("llama-2-7b", phase="mixed", batch=5, context=1000, chunks="128:0,40:300,128:0")
    tokens = 5 + 128 + 40 + 128
    gemms = {op.name: op.dims["m"] for op in wl.ops if op.kind == "matmul"}
    assert gemms["qkv_proj"] == gemms["o_proj"] == gemms["mlp_gate_up"] == gemms["mlp_down"] == tokens
    assert gemms["lm_head"] == 5 + 3  # one logit row per sequence
    attention = [(op.dims["batch"], op.dims["q_len"], op.dims["kv_len"], op.dims["causal"]) for op in wl.ops
                 if op.kind == "attention"]
    assert attention == [(5, 1, 1001, 1), (2, 128, 128, 1), (1, 40, 340, 1)]  # equal chunks share one op
    per_token = load_workload("llama-2-7b", phase="decode", batch=1, context=0).memory_bytes["kv_cache"]
    assert wl.memory_bytes["kv_cache"] == pytest.approx(per_token * (5 * 1001 + 128 + 340 + 128))
    assert wl.items == tokens and wl.params["chunks"] == "128:0,40:300,128:0"


def test_mean_context_is_exact_for_attention_linear_in_context():
    """Decodes at contexts 100 and 900 score as many query-key pairs as two at their mean, 500."""
    def macs(batch, context):
        wl = load_workload("llama-2-7b", phase="mixed", batch=batch, context=context)
        return sum(op.macs * op.count for op in wl.ops if op.kind == "attention")

    assert macs(2, 500) == pytest.approx(macs(1, 100) + macs(1, 900))


def test_moe_mixed_step_routes_every_token():
    wl = load_workload("mixtral-8x7b", phase="mixed", batch=4, context=200, chunks="60:0")
    routed = [op for op in wl.ops if op.kind == "routing"]
    assert routed and all(op.dims["tokens"] == 64 for op in routed)


@pytest.mark.parametrize("params, words", [
    (dict(phase="mixed", batch=0), "decoding sequences"),
    (dict(phase="mixed", batch=1, chunks="12"), "each chunk must be"),
    (dict(phase="mixed", batch=1, chunks="a:b"), "tokens:past"),
    (dict(phase="mixed", batch=1, chunks="0:5"), "tokens >= 1"),
    (dict(phase="mixed", batch=1, chunks="5:-1"), "past >= 0"),
    (dict(phase="mixed", batch=-1, chunks="5:0"), "batch must be an integer >= 0"),
    (dict(phase="chunked"), "phase must be"),
    (dict(phase="decode", chunks="5:0"), "phase 'mixed' only"),
])
def test_bad_mixed_steps_say_what_is_allowed(params, words):
    with pytest.raises(WorkloadParamError, match=words):
        load_workload("llama-2-7b", **params)


def test_learned_positions_bound_the_longest_chunk():
    with pytest.raises(WorkloadParamError, match="max_position_embeddings"):
        load_workload("opt-13b", phase="mixed", batch=1, context=10, chunks="100:2000")


def test_mixed_is_a_registered_phase():
    assert check_parameters("llama-2-7b", {"phase": "mixed", "chunks": "64:0", "batch": 2}) == []
    assert check_parameters("mixtral-8x7b", {"phase": "mixed", "chunks": "64:0"}) == []
