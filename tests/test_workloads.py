"""The workload IR and the transformer trace builders: parameter counts, sharding, op shapes, trace files."""

from __future__ import annotations

import json

import pytest

from workloads import Op, TraceFormatError, Workload, WorkloadParamError, available_workloads, load_workload
from workloads.model_config import ModelConfig, available_model_configs, load_model_config
from workloads.trace_io import SCHEMA_VERSION, load_trace, save_trace
from workloads.transformer import build_decoder, build_vit

# Dense transformer configs (workloads/configs/*.yaml); other families are tested in their own files.
ALL_MODELS = [n for n in available_workloads() if n in available_model_configs()]
DECODERS = [n for n in ALL_MODELS if load_model_config(n).family == "decoder"]


def _ops(wl: Workload, name: str) -> list[Op]:
    found = [op for op in wl.ops if op.name == name]
    assert found, f"no op {name!r} in {wl.name}: {[op.name for op in wl.ops]}"
    return found


def _one(wl: Workload, name: str) -> Op:
    found = _ops(wl, name)
    assert len(found) == 1, f"{len(found)} ops named {name!r}"
    return found[0]


# ---------------------------------------------------------------- parameter counts

def test_shipped_models_are_listed():
    # The shipped catalogue must at least hold the models the physics tests and docs rely on.
    for name in ("llama-2-7b", "llama-2-70b", "llama-3-8b", "mistral-7b", "bert-base", "vit-b-16", "vit-s-16",
                 "gpt3-13b"):
        assert name in ALL_MODELS


@pytest.mark.parametrize("name", ALL_MODELS)
def test_parameters_match_published_count(name):
    # Published totals are often nominal and rounded ("13B", "66B"), so compare within 2 % relative.
    # GPT-3 13B follows NeuPIMs' configuration (d_model 5120, vocab 50304) rather than Brown et al.'s d_model 5140,
    # which puts it ~1 % under the nominal 13.0B.
    cfg = load_model_config(name)
    wl = load_workload(name)
    assert wl.params["tensor_parallel"] == 1
    assert wl.devices == 1
    assert wl.parameters == pytest.approx(cfg.published_parameters, rel=0.02)


@pytest.mark.parametrize("name, exact", [
    ("llama-2-7b", 6_738_415_616),
    ("llama-3-8b", 8_030_261_248),
    ("mistral-7b", 7_241_732_096),
    ("bert-base", 109_482_240),
    ("vit-b-16", 86_567_656),
    ("vit-s-16", 22_050_664),
])
def test_exact_parameter_counts(name, exact):
    # Counts from the models' checkpoints (safetensors indexes / torchvision / timm summaries).
    assert load_workload(name).parameters == exact


@pytest.mark.parametrize("name", DECODERS)
def test_decoder_parameters_independent_of_run_shape(name):
    # Parameters belong to the model, not to the batch, prompt or phase.
    base = load_workload(name).parameters
    assert load_workload(name, phase="prefill", batch=3, prompt=64).parameters == base
    assert load_workload(name, phase="decode", batch=5, context=17).parameters == base


# ---------------------------------------------------------------- tensor and pipeline parallelism

@pytest.mark.parametrize("tp", [2, 4])
def test_tensor_parallel_shards_parameters_llama(tp):
    cfg = load_model_config("llama-2-7b")
    total = load_workload("llama-2-7b").parameters
    shard = load_workload("llama-2-7b", tensor_parallel=tp)
    assert shard.devices == tp
    # Every GEMM and the vocabulary are split exactly; only the RMSNorm scales (2 per layer + final) are replicated.
    replicated = (2 * cfg.num_layers + 1) * cfg.norm_params
    assert shard.parameters * tp - total == (tp - 1) * replicated
    assert shard.parameters < total / tp * 1.001


@pytest.mark.parametrize("name", ["gpt3-13b", "llama-2-70b", "opt-13b", "gpt3-175b"])
@pytest.mark.parametrize("tp", [2, 4])
def test_tensor_parallel_shards_parameters(name, tp):
    total = load_workload(name).parameters
    shard = load_workload(name, tensor_parallel=tp).parameters
    # Replicated pieces (norms, row-parallel biases, learned positions) make the sum slightly larger, never smaller.
    assert total <= shard * tp <= total * 1.02


@pytest.mark.parametrize("tp", [2, 4])
def test_tensor_parallel_bert_replicates_exactly_the_unsplit_parts(tp):
    # Megatron-style BERT: learned positions, token types, LayerNorms, row-parallel biases and the pooler are
    # replicated on every device; the vocabulary is split in ceil(30522 / tp) rows.
    d = 768
    total = load_workload("bert-base").parameters
    shard = load_workload("bert-base", tensor_parallel=tp).parameters
    replicated = 512 * d + 2 * d + 2 * d + 12 * (2 * 2 * d + 2 * d) + d * d + d
    vocab_padding = (-(-30522 // tp) * tp - 30522) * d
    assert shard * tp - total == (tp - 1) * replicated + vocab_padding


def test_vit_overlapping_patches_and_extra_tokens_by_hand():
    # A 40x40 single-channel image, 16x16 patches at stride 12: ((40 - 16) // 12 + 1)^2 = 9 patches; with a class and
    # one extra token the encoder sees 11 tokens; the token table holds 2 tokens plus 11 positions.
    base = dict(name="toy", family="vit", hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64,
                image_size=40, patch_size=16, channels=1, published_parameters=1e4, sources=["test"])
    plain, overlapping = ModelConfig(**base), ModelConfig(**base, patch_stride=12, extra_tokens=1)
    assert (plain.patches, overlapping.patches) == (4, 9)
    assert ModelConfig(**base, patch_stride=16).patches == plain.patches
    ops = {op.name: op for op in build_vit(overlapping).ops}
    assert ops["patch_embed"].dims["m"] == 9 and ops["patch_embed"].dims["k"] == 16 * 16
    assert ops["cls_and_positions"].dims["elements"] == 11 * 32
    assert ops["cls_and_positions"].parameters == (2 + 11) * 32


def test_tensor_parallel_must_divide_heads():
    with pytest.raises(WorkloadParamError, match="tensor_parallel"):
        load_workload("llama-2-7b", tensor_parallel=3)


def test_tensor_parallel_must_divide_intermediate():
    cfg = ModelConfig(name="toy", family="decoder", hidden_size=64, num_layers=2, num_heads=4,
                      intermediate_size=150, vocab_size=100, published_parameters=1e5, sources=["test"])
    build_decoder(cfg, tensor_parallel=2)  # 4 heads and 150 both divisible by 2
    with pytest.raises(WorkloadParamError, match="tensor_parallel") as info:
        build_decoder(cfg, tensor_parallel=4)
    assert "intermediate_size" in str(info.value)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_parallel_degrees_must_be_positive_integers(bad):
    with pytest.raises(WorkloadParamError, match="tensor_parallel"):
        load_workload("llama-2-7b", tensor_parallel=bad)
    with pytest.raises(WorkloadParamError, match="pipeline_parallel"):
        load_workload("llama-2-7b", pipeline_parallel=bad)


def test_tensor_parallel_adds_all_reduces():
    wl = load_workload("llama-2-7b", tensor_parallel=4)
    reduces = [op for op in wl.ops if op.tags.get("collective") == "all_reduce"]
    # One after attention and one after the MLP in every layer (plus the vocab-parallel embedding).
    per_layer = sum(op.count for op in reduces if op.name in ("attn_all_reduce", "mlp_all_reduce"))
    assert per_layer == 2 * 32
    assert all(op.dim("group") == 4 for op in reduces)
    assert not [op for op in load_workload("llama-2-7b").ops if op.kind == "collective"]


@pytest.mark.parametrize("pp", [2, 3, 4])
def test_pipeline_parallel_stages(pp):
    cfg = load_model_config("llama-2-7b")
    wl = load_workload("llama-2-7b", pipeline_parallel=pp)
    assert wl.devices == pp
    assert sorted({op.tags["stage"] for op in wl.ops}) == list(range(pp))
    attn = _ops(wl, "attention")
    assert sum(op.count for op in attn) == cfg.num_layers
    counts = [sum(op.count for op in attn if op.tags["stage"] == s) for s in range(pp)]
    assert max(counts) - min(counts) <= 1
    sends = [op for op in wl.ops if op.tags.get("collective") == "p2p"]
    assert len(sends) == pp - 1
    assert sorted(op.tags["stage"] for op in sends) == list(range(pp - 1))
    assert _one(wl, "embed_tokens").tags["stage"] == 0
    assert _one(wl, "lm_head").tags["stage"] == pp - 1
    # Parameters are the same in total; each device holds about 1/pp of the weights.
    assert wl.parameters == load_workload("llama-2-7b").parameters
    assert wl.memory_bytes["weights"] < load_workload("llama-2-7b").memory_bytes["weights"] / pp * 1.2


def test_pipeline_parallel_cannot_exceed_layers():
    with pytest.raises(WorkloadParamError, match="pipeline_parallel"):
        load_workload("llama-2-7b", pipeline_parallel=33)


# ---------------------------------------------------------------- op shapes

def test_decode_attention_shape():
    wl = load_workload("llama-2-7b", phase="decode", batch=4, context=1000)
    attn = _one(wl, "attention")
    assert attn.dim("q_len") == 1
    assert attn.dim("kv_len") == 1001
    assert attn.dim("batch") == 4
    assert attn.dim("kv_cache") == 1
    assert attn.count == 32
    assert wl.items == 4 and wl.item_unit == "token"


def test_prefill_attention_shape():
    wl = load_workload("llama-2-7b", phase="prefill", batch=2, prompt=300)
    attn = _one(wl, "attention")
    assert attn.dim("q_len") == attn.dim("kv_len") == 300
    assert attn.dim("causal") == 1
    assert attn.dim("batch") == 2
    assert wl.items == 600
    # Causal attention scores q(q+1)/2 pairs per head, not q².
    pairs = 300 * 301 / 2
    assert attn.flops == pytest.approx(4 * 2 * 32 * 128 * pairs)


def test_gqa_kv_heads():
    cfg = load_model_config("llama-2-70b")
    wl = load_workload("llama-2-70b", phase="decode")
    attn = _one(wl, "attention")
    assert attn.dim("heads") == 64
    assert attn.dim("kv_heads") == 8 < attn.dim("heads")
    qkv = _one(wl, "qkv_proj")
    assert qkv.dim("n") == (64 + 2 * 8) * cfg.dim_head
    # With tp=16 the 8 KV heads are replicated (one per device), not split below one.
    sharded = _one(load_workload("llama-2-70b", phase="decode", tensor_parallel=16), "attention")
    assert sharded.dim("heads") == 4 and sharded.dim("kv_heads") == 1


def test_kv_cache_write_elements():
    wl = load_workload("llama-2-70b", phase="decode", batch=3)
    kv = _one(wl, "kv_cache_write")
    assert kv.dim("elements") == 3 * 2 * 8 * 128
    wl = load_workload("llama-2-7b", phase="prefill", batch=2, prompt=100, kv_dtype="fp8")
    kv = _one(wl, "kv_cache_write")
    assert kv.dim("elements") == 2 * 100 * 2 * 32 * 128
    assert kv.out_bits == 8
    assert _one(wl, "attention").weight_bits == 8  # the KV cache is read in its own datatype


def test_lm_head_only_over_batch_rows():
    wl = load_workload("llama-2-7b", phase="prefill", batch=3, prompt=512)
    head = _one(wl, "lm_head")
    assert head.dim("m") == 3
    assert head.dim("n") == 32000 and head.dim("k") == 4096
    assert _one(wl, "qkv_proj").dim("m") == 3 * 512


@pytest.mark.parametrize("batch", [1, 4])
def test_decode_flops_about_twice_parameters(batch):
    # A decode step is about 2 FLOPs per parameter per sequence (the embedding gather does no arithmetic and
    # attention over a short context adds a little).
    wl = load_workload("llama-2-7b", phase="decode", batch=batch, context=128)
    assert wl.flops == pytest.approx(2 * wl.parameters * batch, rel=0.05)


def test_decode_flops_grow_with_context():
    short = load_workload("llama-2-7b", phase="decode", context=128).flops
    long = load_workload("llama-2-7b", phase="decode", context=4000).flops
    assert long > short
    # The growth is exactly the attention work: 4·heads·head_dim FLOPs per extra key per layer.
    assert long - short == pytest.approx(4 * 32 * 128 * (4000 - 128) * 32)


def test_prefill_flops_grow_with_prompt():
    prompts = [128, 512, 2048, 4096]
    flops = [load_workload("llama-2-7b", phase="prefill", prompt=p).flops for p in prompts]
    assert flops == sorted(flops) and len(set(flops)) == len(flops)
    # Attention is quadratic in the prompt, so FLOPs per token grow too.
    per_token = [f / p for f, p in zip(flops, prompts)]
    assert per_token[-1] > per_token[1]
    # Prefill of P tokens costs at least ~2·params·P minus the untouched head rows.
    assert flops[-1] > 2 * 0.9 * load_workload("llama-2-7b").parameters * 4096


def test_bad_phase_and_sizes():
    with pytest.raises(WorkloadParamError, match="phase"):
        load_workload("llama-2-7b", phase="train")
    with pytest.raises(WorkloadParamError, match="batch"):
        load_workload("llama-2-7b", batch=0)
    with pytest.raises(WorkloadParamError, match="unknown workload"):
        load_workload("llama-9-7b")
    with pytest.raises(WorkloadParamError, match="prompt"):
        load_workload("llama-2-7b", promt=5)  # a misspelt parameter is named with the allowed ones
    with pytest.raises(WorkloadParamError, match="max_position_embeddings"):
        load_workload("gpt3-13b", phase="prefill", prompt=4096)


# ---------------------------------------------------------------- Op derived quantities

def test_matmul_flops_and_bytes():
    op = Op("g", "matmul", {"m": 3, "n": 5, "k": 7, "batch": 2}, act_bits=8, weight_bits=4, out_bits=16)
    assert op.flops == 2 * 3 * 5 * 7 * 2
    b = op.operand_bytes
    assert b["input"] == 2 * 3 * 7 * 1.0
    assert b["weight"] == 7 * 5 * 0.5  # a parameter is read once for all batch entries
    assert b["output"] == 2 * 3 * 5 * 2.0
    assert op.bytes == sum(b.values())
    assert op.intensity == pytest.approx(op.flops / op.bytes)
    assert op.parameters == 35


def test_matmul_activation_operand_bytes():
    # An activation × activation GEMM (weight=False) reads its B operand per batch entry, in activation bits.
    op = Op("bmm", "matmul", {"m": 4, "n": 6, "k": 8, "batch": 3}, act_bits=16, weight_bits=4,
            tags={"weight": False})
    assert op.operand_bytes["weight"] == 3 * 8 * 6 * 2.0
    assert op.parameters == 0


def test_sparsity_scales_matmul_flops_and_weights():
    dense = Op("d", "matmul", {"m": 8, "n": 8, "k": 8})
    sparse = Op("s", "matmul", {"m": 8, "n": 8, "k": 8}, sparsity=0.5)
    assert sparse.flops == dense.flops / 2
    assert sparse.operand_bytes["weight"] == dense.operand_bytes["weight"] / 2


def test_other_kind_quantities():
    attn = Op("a", "attention", {"batch": 2, "heads": 8, "kv_heads": 2, "q_len": 1, "kv_len": 100,
                                 "head_dim": 64, "causal": 1, "kv_cache": 1}, weight_bits=8)
    assert attn.flops == 4 * 2 * 8 * 1 * 100 * 64  # one query sees every cached key
    assert attn.operand_bytes["kv_read"] == 2 * 2 * 2 * 100 * 64 * 1.0
    ew = Op("e", "elementwise", {"elements": 10, "inputs": 3, "flops_per_element": 5}, act_bits=32)
    assert ew.flops == 50
    assert ew.bytes == 10 * 3 * 4 + 10 * 2
    zero = Op("z", "matmul", {"m": 0, "n": 5, "k": 5})
    assert zero.flops == 0 and zero.bytes == 50 and zero.intensity == 0.0


def test_deduplicated_merges_identical_ops():
    wl = Workload("w")
    for layer in range(3):
        wl.add(Op("qkv", "matmul", {"m": 1, "n": 8, "k": 8}, count=2, tags={"layer": layer}))
    wl.add(Op("other", "matmul", {"m": 1, "n": 8, "k": 8}))  # same shape, different name
    wl.add(Op("qkv", "matmul", {"m": 2, "n": 8, "k": 8}))  # same name, different shape
    dd = wl.deduplicated()
    assert [op.name for op in dd.ops] == ["qkv", "other", "qkv"]
    assert [op.count for op in dd.ops] == [6, 1, 1]
    assert "layer" not in dd.ops[0].tags
    assert dd.flops == wl.flops and dd.bytes == wl.bytes and dd.parameters == wl.parameters
    # The original is untouched.
    assert [op.count for op in wl.ops] == [2, 2, 2, 1, 1]


def test_deduplicated_keeps_distinct_tags():
    wl = Workload("w", ops=[Op("x", "matmul", {"m": 1, "n": 2, "k": 2}, tags={"stage": 0}),
                            Op("x", "matmul", {"m": 1, "n": 2, "k": 2}, tags={"stage": 1})])
    assert len(wl.deduplicated()) == 2


@pytest.mark.parametrize("kwargs, word", [
    (dict(kind="gemm"), "kind"),
    (dict(dtype="fp12"), "dtype"),
    (dict(dims={"m": -1, "n": 1, "k": 1}), "dim"),
    (dict(dims={"m": 1.5, "n": 1, "k": 1}), "dim"),
    (dict(count=0), "count"),
    (dict(sparsity=1.5), "sparsity"),
])
def test_invalid_op_raises(kwargs, word):
    args = dict(name="bad", kind="matmul", dims={"m": 1, "n": 1, "k": 1})
    args.update(kwargs)
    with pytest.raises(ValueError, match=word):
        Op(**args)


# ---------------------------------------------------------------- trace files

def _sample_workload() -> Workload:
    return load_workload("llama-2-70b", phase="decode", batch=2, context=64, tensor_parallel=2,
                         pipeline_parallel=2, kv_dtype="fp8")


@pytest.mark.parametrize("suffix", [".json", ".parquet"])
def test_trace_round_trip(tmp_path, suffix):
    wl = _sample_workload()
    path = save_trace(wl, tmp_path / f"trace{suffix}")
    back = load_trace(path)
    assert back.summary() == wl.summary()
    assert len(back.ops) == len(wl.ops)
    for a, b in zip(wl.ops, back.ops):
        assert a.to_dict() == b.to_dict()
        assert a == b
    assert back.memory_bytes == wl.memory_bytes
    assert back.devices == wl.devices and back.items == wl.items and back.item_unit == wl.item_unit
    assert back.params == wl.params
    via_registry = load_workload(str(path))
    assert via_registry.summary() == wl.summary()


def test_load_workload_trace_takes_no_params(tmp_path):
    path = save_trace(_sample_workload(), tmp_path / "t.json")
    with pytest.raises(WorkloadParamError):
        load_workload(str(path), batch=2)


def _write_json(tmp_path, data, name="t.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def _good_dict() -> dict:
    from workloads.trace_io import workload_to_dict

    return workload_to_dict(load_workload("llama-2-7b", phase="decode"))


@pytest.mark.parametrize("mutate, words", [
    (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "newer"),
    (lambda d: d.pop("ops"), "not a cosim trace"),
    (lambda d: d.pop("schema_version"), "schema_version"),
    (lambda d: d["ops"][2].update(kind="gemm"), "ops[2]"),
    (lambda d: d["ops"][1].update(bogus_field=1), "ops[1]"),
    (lambda d: d["ops"][0]["dims"].update(rows=-4), "ops[0]"),
    (lambda d: d.update(ops=5), "ops"),
    (lambda d: d.update(ops=[7]), "ops[0]"),
    (lambda d: d.update(items="many"), "header"),
])
def test_bad_trace_content(tmp_path, mutate, words):
    data = _good_dict()
    mutate(data)
    path = _write_json(tmp_path, data)
    with pytest.raises(TraceFormatError) as info:
        load_trace(path)
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_corrupt_json(tmp_path):
    path = _write_json(tmp_path, '{"schema_version": 1, "ops": [')
    with pytest.raises(TraceFormatError, match="cannot read") as info:
        load_trace(path)
    assert str(path) in str(info.value)


def test_corrupt_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(TraceFormatError) as info:
        load_trace(path)
    assert str(path) in str(info.value)


def test_parquet_without_metadata(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "plain.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(TraceFormatError, match="metadata") as info:
        load_trace(path)
    assert str(path) in str(info.value)


def test_missing_trace_file(tmp_path):
    path = tmp_path / "absent.json"
    with pytest.raises(TraceFormatError, match="no such") as info:
        load_trace(path)
    assert str(path) in str(info.value)


def test_wrong_trace_suffix(tmp_path):
    path = tmp_path / "trace.csv"
    path.write_text("a,b\n")
    with pytest.raises(TraceFormatError, match=".csv") as info:
        load_trace(path)
    assert str(path) in str(info.value)
    with pytest.raises(TraceFormatError, match="allowed"):
        save_trace(_sample_workload(), tmp_path / "out.txt")


# ---------------------------------------------------------------- resident memory

def test_memory_bytes_70b():
    one = load_workload("llama-2-70b", phase="decode")
    # 68.98 B parameters × 2 bytes.
    assert one.memory_bytes["weights"] == pytest.approx(138e9, rel=0.01)
    assert one.memory_bytes["weights"] == pytest.approx(one.parameters * 2, rel=1e-6)
    four = load_workload("llama-2-70b", phase="decode", tensor_parallel=4)
    assert four.memory_bytes["weights"] == pytest.approx(one.memory_bytes["weights"] / 4, rel=0.01)
    assert four.memory_bytes["kv_cache"] == pytest.approx(one.memory_bytes["kv_cache"] / 4, rel=1e-9)


def test_memory_bytes_scale_with_dtype_and_context():
    fp16 = load_workload("llama-2-7b", phase="decode", context=1024)
    int8 = load_workload("llama-2-7b", phase="decode", context=1024, dtype="int8")
    assert int8.memory_bytes["weights"] == pytest.approx(fp16.memory_bytes["weights"] / 2)
    # KV cache: batch · tokens · 2 (K and V) · layers · d_model · 2 bytes.
    assert fp16.memory_bytes["kv_cache"] == 1 * 1025 * 2 * 32 * 4096 * 2
    longer = load_workload("llama-2-7b", phase="decode", context=2048, batch=2)
    assert longer.memory_bytes["kv_cache"] == pytest.approx(fp16.memory_bytes["kv_cache"] * 2 * 2049 / 1025)
