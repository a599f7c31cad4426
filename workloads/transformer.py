"""Transformer trace builders: decoder-only LLMs (prefill, decode and mixed steps), encoders (BERT) and ViT.

Tensor parallelism follows Megatron-LM: QKV and the first MLP GEMM are split by columns, the output projection and the
second MLP GEMM by rows, each followed by an all-reduce; the embedding and LM head are split over the vocabulary.
Pipeline parallelism splits the layers into contiguous stages (tag ``stage``); activations cross stage boundaries as
point-to-point transfers.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Literal, Sequence

from workloads.dtypes import dtype_bits
from workloads.ir import Op, Workload
from workloads.model_config import ModelConfig

Phase = Literal["prefill", "decode", "mixed"]

ACTIVATION_FLOPS = {"silu": 4, "gelu": 8, "relu": 1}  # per element, plus one multiply when gated
_NORM_FLOPS = {"rmsnorm": 4, "layernorm": 7}


class WorkloadParamError(ValueError):
    """A workload parameter is out of its allowed range; the message names the parameter and what is allowed."""


def _stage_layers(num_layers: int, pp: int) -> list[int]:
    """Layers per pipeline stage: as even as possible, earlier stages take the remainder."""
    base, extra = divmod(num_layers, pp)
    return [base + (1 if s < extra else 0) for s in range(pp)]


class LayerBuilder:
    """Shared machinery: datatypes, sharding and op emission for one (model, run) pair."""

    def __init__(self, cfg: ModelConfig, dtype: str, kv_dtype: str | None, tp: int, pp: int) -> None:
        for name, value in (("tensor_parallel", tp), ("pipeline_parallel", pp)):
            if int(value) != value or value < 1:
                raise WorkloadParamError(f"{name} must be a positive integer, got {value!r}")
        if cfg.num_heads % tp:
            raise WorkloadParamError(
                f"tensor_parallel={tp} must divide num_heads={cfg.num_heads} of {cfg.name}")
        if cfg.intermediate_size % tp:
            raise WorkloadParamError(
                f"tensor_parallel={tp} must divide intermediate_size={cfg.intermediate_size} of {cfg.name}")
        if pp > cfg.num_layers:
            raise WorkloadParamError(f"pipeline_parallel={pp} exceeds num_layers={cfg.num_layers} of {cfg.name}")
        self.cfg, self.tp, self.pp = cfg, tp, pp
        self.dtype = dtype
        self.bits = dtype_bits(dtype)
        self.kv_dtype = kv_dtype or dtype
        self.kv_bits = dtype_bits(self.kv_dtype)
        # Weight-only formats (int4) still compute in 16-bit; int8 and fp8 run natively.
        self.math = dtype if dtype in ("fp32", "tf32", "fp16", "bf16", "fp8", "int8") else "fp16"
        self.act_bits = dtype_bits(self.math) if self.math not in ("int8", "fp8") else 8
        self.heads = cfg.num_heads // tp
        self.kv_heads = max(1, cfg.kv_heads // tp)  # KV heads are replicated when fewer than tp
        self.ff = cfg.intermediate_size // tp
        self.hd = cfg.dim_head

    def op(self, name: str, kind: str, stage: int, count: int = 1, **dims: int) -> Op:
        tags = dims.pop("_tags", {})
        return Op(name, kind, dims, act_bits=self.act_bits, weight_bits=self.bits, out_bits=self.act_bits,
                  count=count, tags={"stage": stage, **tags}, dtype=self.math)

    def linear(self, name: str, stage: int, count: int, tokens: int, k: int, n: int, **tags) -> Op:
        bias = 1 if self.cfg.linear_bias else 0
        return self.op(name, "matmul", stage, count, m=tokens, n=n, k=k, batch=1, bias=bias,
                       _tags={"weight": True, **tags})

    def norm(self, name: str, stage: int, count: int, tokens: int, fused_residual: bool) -> Op:
        cfg = self.cfg
        return self.op(name, "norm", stage, count, elements=tokens * cfg.hidden_size,
                       inputs=2 if fused_residual else 1,
                       flops_per_element=_NORM_FLOPS[cfg.norm] + (1 if fused_residual else 0),
                       params=cfg.norm_params)

    def all_reduce(self, name: str, stage: int, count: int, elements: int) -> list[Op]:
        if self.tp == 1:
            return []
        return [self.op(name, "collective", stage, count, elements=elements, group=self.tp,
                        _tags={"collective": "all_reduce"})]

    def attention_block(self, stage: int, n: int, tokens: int, shapes: Sequence[tuple[int, int, int]],
                        causal: bool, kv_cache: bool) -> list[Op]:
        """One transformer layer's attention half, repeated ``n`` times; one attention op per (batch, q_len,
        kv_len) of ``shapes`` (the sequences that share a shape), the projections over all ``tokens``."""
        cfg, hd = self.cfg, self.hd
        ops = [
            self.norm("attn_norm", stage, n, tokens, fused_residual=True),
            self.linear("qkv_proj", stage, n, tokens, cfg.hidden_size, (self.heads + 2 * self.kv_heads) * hd),
        ]
        if cfg.position_embedding == "rotary":
            ops.append(self.op("rotary", "elementwise", stage, n, elements=tokens * (self.heads + self.kv_heads) * hd,
                               inputs=1, flops_per_element=3))
        if kv_cache:
            kv_op = self.op("kv_cache_write", "kv_write", stage, n, elements=tokens * 2 * self.kv_heads * hd)
            kv_op.out_bits = self.kv_bits
            ops.append(kv_op)
        for batch, q_len, kv_len in shapes:
            attn = self.op("attention", "attention", stage, n, batch=batch, heads=self.heads,
                           kv_heads=self.kv_heads, q_len=q_len, kv_len=kv_len, head_dim=hd, causal=int(causal),
                           kv_cache=int(kv_cache))
            if kv_cache:
                attn.weight_bits = self.kv_bits
            else:
                attn.weight_bits = self.act_bits
            ops.append(attn)
        ops.append(self.linear("o_proj", stage, n, tokens, self.heads * hd, cfg.hidden_size))
        ops += self.all_reduce("attn_all_reduce", stage, n, tokens * cfg.hidden_size)
        return ops

    def mlp_block(self, stage: int, n: int, tokens: int) -> list[Op]:
        """One transformer layer's MLP half, repeated ``n`` times."""
        cfg = self.cfg
        up = self.ff * (2 if cfg.gated_mlp else 1)
        ops = [
            self.norm("mlp_norm", stage, n, tokens, fused_residual=True),
            self.linear("mlp_up" if not cfg.gated_mlp else "mlp_gate_up", stage, n, tokens, cfg.hidden_size, up),
            self.op("activation", "elementwise", stage, n, elements=tokens * self.ff,
                    inputs=2 if cfg.gated_mlp else 1,
                    flops_per_element=ACTIVATION_FLOPS[cfg.activation] + (1 if cfg.gated_mlp else 0)),
            self.linear("mlp_down", stage, n, tokens, self.ff, cfg.hidden_size),
        ]
        ops += self.all_reduce("mlp_all_reduce", stage, n, tokens * cfg.hidden_size)
        return ops

    def embedding(self, tokens: int) -> list[Op]:
        cfg = self.cfg
        vocab = ceil(cfg.vocab_size / self.tp)
        ops = [self.op("embed_tokens", "gather", 0, rows=tokens, table_rows=vocab, row_elems=cfg.hidden_size)]
        ops += self.all_reduce("embed_all_reduce", 0, 1, tokens * cfg.hidden_size)
        if cfg.position_embedding == "learned":
            ops.append(self.op("embed_positions", "gather", 0, rows=tokens,
                               table_rows=cfg.max_position_embeddings + cfg.position_offset,
                               row_elems=cfg.hidden_size))
        if cfg.type_vocab_size:
            ops.append(self.op("embed_token_types", "gather", 0, rows=tokens, table_rows=cfg.type_vocab_size,
                               row_elems=cfg.hidden_size))
        return ops

    def stage_boundaries(self, tokens: int) -> list[Op]:
        """Activations sent from each stage to the next."""
        return [self.op("pipeline_send", "collective", s, elements=tokens * self.cfg.hidden_size, group=2,
                        _tags={"collective": "p2p"}) for s in range(self.pp - 1)]


Chunks = Sequence[tuple[int, int]]


def parse_chunks(chunks: str | Chunks) -> tuple[tuple[int, int], ...]:
    """Prefill chunks as (new tokens, tokens already cached) pairs, from pairs or a string ``"512:0,256:1024"``."""
    if isinstance(chunks, str):
        try:
            pairs = [tuple(int(x) for x in part.split(":")) for part in chunks.replace(" ", "").split(",") if part]
        except ValueError:
            raise WorkloadParamError(f"chunks must be 'tokens:past' pairs separated by commas (e.g. '512:0,"
                                     f"256:1024'), got {chunks!r}") from None
    else:
        pairs = [tuple(pair) for pair in chunks]
    for pair in pairs:
        if len(pair) != 2 or any(int(v) != v for v in pair) or pair[0] < 1 or pair[1] < 0:
            raise WorkloadParamError(f"each chunk must be (tokens >= 1, past >= 0) integers, got {pair!r}")
    return tuple((int(c), int(p)) for c, p in pairs)


@dataclass(frozen=True)
class StepShape:
    """The sequences of one decoder step: ``tokens`` through the weight layers, ``rows`` sequences (one logit row
    each), the attention ops' (batch, q_len, kv_len), the KV tokens held after the step, the longest sequence, and
    the step's own parameters (``run``, recorded in the workload's params)."""

    tokens: int
    rows: int
    attention: tuple[tuple[int, int, int], ...]
    kv_tokens: int
    seq_end: int
    run: dict


def step_shape(phase: str, batch: int, prompt: int, context: int, chunks: str | Chunks = "") -> StepShape:
    """What a ``prefill`` (``batch`` prompts of ``prompt`` tokens), ``decode`` (``batch`` sequences with
    ``context`` cached tokens) or ``mixed`` step runs. A mixed step has ``batch`` (>= 0) decoding sequences at
    ``context`` and prefill ``chunks`` (new tokens, cached tokens): the weight GEMMs run once over every token, the
    decode attention is one op (q_len 1), equal chunks share one causal op with q_len = chunk tokens and kv_len =
    past + chunk tokens. A mean ``context`` stands exactly for differing ones where attention's cost is linear in
    its KV length."""
    if phase not in ("prefill", "decode", "mixed"):
        raise WorkloadParamError(f"phase must be 'prefill', 'decode' or 'mixed', got {phase!r}")
    if chunks and phase != "mixed":
        raise WorkloadParamError(f"chunks apply to phase 'mixed' only, got phase {phase!r} with chunks {chunks!r}")
    for name, value in (("batch", batch), ("prompt", prompt), ("context", context)):
        minimum = 0 if name == "context" or (name == "batch" and phase == "mixed") else 1
        if int(value) != value or value < minimum:
            raise WorkloadParamError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if phase == "prefill":
        return StepShape(batch * prompt, batch, ((batch, prompt, prompt),), batch * prompt, prompt,
                         {"prompt": prompt})
    if phase == "decode":
        return StepShape(batch, batch, ((batch, 1, context + 1),), batch * (context + 1), context + 1,
                         {"context": context})
    pairs = parse_chunks(chunks)
    if batch == 0 and not pairs:
        raise WorkloadParamError("a mixed step needs decoding sequences (batch >= 1) or prefill chunks")
    groups: dict[tuple[int, int], int] = {}
    for pair in pairs:
        groups[pair] = groups.get(pair, 0) + 1
    shapes = ([(batch, 1, context + 1)] if batch else []) + [(n, c, p + c) for (c, p), n in groups.items()]
    seq_end = max([context + 1] * bool(batch) + [p + c for c, p in pairs])
    return StepShape(batch + sum(c for c, _ in pairs), batch + len(pairs), tuple(shapes),
                     batch * (context + 1) + sum(p + c for c, p in pairs), seq_end,
                     {"context": context, "chunks": ",".join(f"{c}:{p}" for c, p in pairs)})


def build_decoder(cfg: ModelConfig, phase: Phase = "decode", batch: int = 1, prompt: int = 512,
                  context: int = 1024, tensor_parallel: int = 1, pipeline_parallel: int = 1,
                  dtype: str = "fp16", kv_dtype: str | None = None, chunks: str = "") -> Workload:
    """A decoder-only LLM step: ``prefill`` of ``batch`` prompts of ``prompt`` tokens, one ``decode`` step of
    ``batch`` sequences whose KV cache already holds ``context`` tokens, or a ``mixed`` step of both: ``batch``
    decoding sequences and prefill ``chunks`` ("tokens:past,..."; see :func:`step_shape`)."""
    if cfg.family != "decoder":
        raise WorkloadParamError(f"{cfg.name} is a {cfg.family} model; phases prefill/decode/mixed need a decoder")
    shape = step_shape(phase, batch, prompt, context, chunks)
    b = LayerBuilder(cfg, dtype, kv_dtype, tensor_parallel, pipeline_parallel)
    tokens = shape.tokens
    if shape.seq_end > cfg.max_position_embeddings and cfg.position_embedding == "learned":
        raise WorkloadParamError(f"sequence of {shape.seq_end} tokens exceeds max_position_embeddings="
                                 f"{cfg.max_position_embeddings} of {cfg.name}")
    wl = Workload(f"{cfg.name}/{phase}", items=float(tokens), item_unit="token",
                  params=dict(model=cfg.name, phase=phase, batch=batch, **shape.run,
                              tensor_parallel=tensor_parallel, pipeline_parallel=pipeline_parallel, dtype=dtype,
                              kv_dtype=b.kv_dtype),
                  devices=tensor_parallel * pipeline_parallel)
    wl.extend(b.embedding(tokens))
    layers = _stage_layers(cfg.num_layers, pipeline_parallel)
    for stage, n in enumerate(layers):
        wl.extend(b.attention_block(stage, n, tokens, shape.attention, causal=True, kv_cache=True))
        wl.extend(b.mlp_block(stage, n, tokens))
    last = pipeline_parallel - 1
    wl.extend(b.stage_boundaries(tokens))
    rows = shape.rows
    wl.add(b.norm("final_norm", last, 1, rows, fused_residual=True))
    vocab = ceil(cfg.vocab_size / tensor_parallel)
    # Serving engines compute logits only for each sequence's last position.
    head = b.linear("lm_head", last, 1, rows, cfg.hidden_size, vocab, tied=cfg.tied_embeddings)
    head.dims["bias"] = 0
    wl.add(head)
    if tensor_parallel > 1:
        wl.add(b.op("logits_all_gather", "collective", last, elements=rows * vocab, group=tensor_parallel,
                    _tags={"collective": "all_gather"}))
    wl.memory_bytes = _decoder_memory(cfg, b, layers, rows, tokens, shape.kv_tokens)
    return wl


def _decoder_memory(cfg: ModelConfig, b: LayerBuilder, layers: list[int], rows: int, tokens: int,
                    kv_tokens: int) -> dict[str, float]:
    """Resident bytes on the busiest device: weights of its stage, its KV cache, and activation workspace."""
    wbytes = b.bits / 8.0
    d, hd = cfg.hidden_size, b.hd
    per_layer = (d * (b.heads + 2 * b.kv_heads) * hd + b.heads * hd * d
                 + d * b.ff * (3 if cfg.gated_mlp else 2) + 2 * cfg.norm_params)
    embed = ceil(cfg.vocab_size / b.tp) * d
    stages = []
    for stage, n in enumerate(layers):
        weights = n * per_layer
        if stage == 0:
            weights += embed
        if stage == len(layers) - 1 and (not cfg.tied_embeddings or stage != 0):
            weights += embed
        kv = kv_tokens * 2 * b.kv_heads * hd * n * b.kv_bits / 8.0
        stages.append((weights * wbytes, kv))
    weights_bytes, kv_bytes = max(stages, key=sum)
    act = tokens * (3 * d + 2 * b.ff) * b.act_bits / 8.0 + rows * ceil(cfg.vocab_size / b.tp) * 4.0
    return {"weights": weights_bytes, "kv_cache": kv_bytes, "activations": act}


def build_encoder(cfg: ModelConfig, batch: int = 1, seq_len: int = 128, tensor_parallel: int = 1,
                  dtype: str = "fp16") -> Workload:
    """A BERT-style encoder forward pass over ``batch`` sequences of ``seq_len`` tokens."""
    if cfg.family != "encoder":
        raise WorkloadParamError(f"{cfg.name} is a {cfg.family} model, not an encoder")
    if seq_len > cfg.max_position_embeddings:
        raise WorkloadParamError(f"seq_len={seq_len} exceeds max_position_embeddings={cfg.max_position_embeddings}")
    b = LayerBuilder(cfg, dtype, None, tensor_parallel, 1)
    tokens = batch * seq_len
    wl = Workload(f"{cfg.name}/forward", items=float(batch), item_unit="sequence",
                  params=dict(model=cfg.name, batch=batch, seq_len=seq_len, tensor_parallel=tensor_parallel,
                              dtype=dtype), devices=tensor_parallel)
    wl.extend(b.embedding(tokens))
    wl.add(b.norm("embed_norm", 0, 1, tokens, fused_residual=False))
    wl.extend(_post_norm_layers(b, tokens, batch, seq_len))
    if cfg.pooler:
        wl.add(b.linear("pooler", 0, 1, batch, cfg.hidden_size, cfg.hidden_size))
        wl.add(b.op("pooler_tanh", "elementwise", 0, elements=batch * cfg.hidden_size, inputs=1,
                    flops_per_element=8))
    wl.memory_bytes = _forward_memory(wl, b, tokens)
    return wl


def _post_norm_layers(b: LayerBuilder, tokens: int, batch: int, seq_len: int) -> list[Op]:
    """Encoder layers: the attention and MLP blocks without a KV cache (the norm op sits in each block)."""
    n = b.cfg.num_layers
    return (b.attention_block(0, n, tokens, [(batch, seq_len, seq_len)], causal=False, kv_cache=False)
            + b.mlp_block(0, n, tokens))


def build_vit(cfg: ModelConfig, batch: int = 1, tensor_parallel: int = 1, dtype: str = "fp16") -> Workload:
    """A ViT forward pass over ``batch`` images: patch embedding (a GEMM), encoder layers, classification head."""
    if cfg.family != "vit":
        raise WorkloadParamError(f"{cfg.name} is a {cfg.family} model, not a ViT")
    b = LayerBuilder(cfg, dtype, None, tensor_parallel, 1)
    seq = cfg.patches + 1 + cfg.extra_tokens  # class token (and DeiT's distillation token)
    tokens = batch * seq
    wl = Workload(f"{cfg.name}/forward", items=float(batch), item_unit="image",
                  params=dict(model=cfg.name, batch=batch, tensor_parallel=tensor_parallel, dtype=dtype),
                  devices=tensor_parallel)
    patch = b.op("patch_embed", "matmul", 0, m=batch * cfg.patches, k=cfg.channels * cfg.patch_size ** 2,
                 n=cfg.hidden_size, batch=1, bias=1, _tags={"weight": True})
    wl.add(patch)
    wl.add(b.op("cls_and_positions", "elementwise", 0, elements=tokens * cfg.hidden_size, inputs=1,
                flops_per_element=1, params=(seq + 1 + cfg.extra_tokens) * cfg.hidden_size))
    wl.extend(_post_norm_layers(b, tokens, batch, seq))
    wl.add(b.norm("final_norm", 0, 1, batch, fused_residual=False))
    if cfg.num_classes:
        head = b.op("head", "matmul", 0, m=batch, k=cfg.hidden_size, n=cfg.num_classes, batch=1, bias=1,
                    _tags={"weight": True})
        wl.add(head)
    wl.memory_bytes = _forward_memory(wl, b, tokens)
    return wl


def _forward_memory(wl: Workload, b: LayerBuilder, tokens: int) -> dict[str, float]:
    """Weights plus a workspace of a few activation tensors, for models without a KV cache."""
    act = tokens * (3 * b.cfg.hidden_size + 2 * b.ff) * b.act_bits / 8.0
    return {"weights": wl.parameters * b.bits / 8.0, "kv_cache": 0.0, "activations": act}
