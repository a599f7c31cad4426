"""Mixture-of-experts trace builders: MoE decoders (Mixtral, GLaM, Grok-1, DeepSeek-MoE), an encoder–decoder
(Switch-Base) and a multi-task MoE ViT (M3ViT).

Attention, norms, embeddings and dense FFN layers come from the dense builders (:mod:`workloads.transformer`).
Each MoE layer becomes: a norm, the router GEMM (tokens × hidden × experts), a ``routing`` op (softmax + top-k),
shared experts over every token, and for every *activated* expert its FFN GEMMs over the tokens routed to it
(``m`` = that expert's token count), then the weighted combine. Weight traffic therefore grows with the number of
activated experts, and the layer's Op/B with the batch. Expert ops carry tags ``expert`` (an id, ``"shared"`` or
``"router"``) and ``layer``.

Parameter accounting: ``Workload.parameters`` counts the whole model. Experts that receive no token in this step
emit no GEMM; their weights (and, for M3ViT, the gates of the other tasks) are carried by that layer's ``routing``
op through its ``params`` dim, so they are counted as parameters and as resident weight memory but move no bytes.
``params['active_parameters']`` is the parameters one token uses (top-k experts of each MoE layer). Both are per
device when ``tensor_parallel`` > 1 (experts are split Megatron-style, by their intermediate width).
"""

from __future__ import annotations

import functools
from math import ceil

import numpy as np

from workloads.ir import Op, Workload
from workloads.moe_config import MoEConfig, available_moe_configs, load_moe_config
from workloads.registry import WorkloadEntry
from workloads.routing import (MODELS, Assignment, RoutingTrace, apply_capacity, assign, load_routing_trace,
                               replay)
from workloads.transformer import ACTIVATION_FLOPS, WorkloadParamError, LayerBuilder, step_shape

_UP_FLOPS_BILINEAR = 7  # multiply-adds of one bilinear-interpolated output element (4 taps)


class _Router:
    """Draws each MoE layer's token-to-expert assignment from the chosen model (seeded, so deterministic)."""

    def __init__(self, cfg: MoEConfig, routing: str, zipf_s: float, dirichlet_alpha: float, trace: str,
                 capacity_factor: float, seed: int) -> None:
        if routing not in MODELS:
            raise WorkloadParamError(f"routing must be one of {', '.join(MODELS)}, got {routing!r}")
        if not zipf_s >= 0:
            raise WorkloadParamError(f"zipf_s must be >= 0, got {zipf_s!r}")
        if not dirichlet_alpha > 0:
            raise WorkloadParamError(f"dirichlet_alpha must be > 0, got {dirichlet_alpha!r}")
        if not capacity_factor >= 0:
            raise WorkloadParamError(f"capacity_factor must be >= 0 (0 = unlimited), got {capacity_factor!r}")
        if int(seed) != seed or seed < 0:
            raise WorkloadParamError(f"seed must be a non-negative integer, got {seed!r}")
        self.trace: RoutingTrace | None = None
        if routing == "trace":
            if not trace:
                raise WorkloadParamError("routing='trace' needs trace=<path to a .json or .csv routing trace>")
            self.trace = load_routing_trace(trace)
            if (self.trace.experts, self.trace.top_k) != (cfg.num_experts, cfg.top_k):
                raise WorkloadParamError(
                    f"trace {trace!r} has {self.trace.experts} experts top-{self.trace.top_k}; {cfg.name} has "
                    f"{cfg.num_experts} experts top-{cfg.top_k}")
        self.cfg, self.model, self.zipf_s, self.alpha = cfg, routing, float(zipf_s), float(dirichlet_alpha)
        self.capacity_factor = float(capacity_factor) or None
        self.seed = int(seed)
        self.dropped = 0
        self.activated: list[int] = []

    def assign(self, layer: int, tokens: int, experts: int, top_k: int, stream: int = 0) -> Assignment:
        if self.trace is not None:
            out = replay(self.trace, layer, tokens, self.capacity_factor)
        else:
            rng = np.random.default_rng([self.seed, stream, layer])
            out = assign(self.model, tokens, experts, top_k, rng, self.zipf_s, self.alpha, self.capacity_factor)
        self.dropped += out.dropped
        self.activated.append(out.activated)
        return out


def _expert_shape(cfg: MoEConfig, b: LayerBuilder, width: int) -> tuple[int, int]:
    """(intermediate width per device, parameters per device) of one expert FFN of ``width``."""
    if width % b.tp:
        raise WorkloadParamError(f"tensor_parallel={b.tp} must divide the expert width {width} of {cfg.name}")
    f = width // b.tp
    return f, cfg.expert_parameters(f)


def _ffn(b: LayerBuilder, cfg: MoEConfig, prefix: str, tokens: int, width: int, tags: dict) -> list[Op]:
    """One expert's FFN over ``tokens`` tokens (gate/up GEMM, activation, down GEMM)."""
    f, _ = _expert_shape(cfg, b, width)
    up = f * (2 if cfg.gated_mlp else 1)
    bias = int(cfg.expert_bias)
    return [
        b.op(f"{prefix}_gate_up" if cfg.gated_mlp else f"{prefix}_up", "matmul", 0, m=tokens, k=cfg.hidden_size,
             n=up, batch=1, bias=bias, _tags={"weight": True, **tags}),
        b.op(f"{prefix}_act", "elementwise", 0, elements=tokens * f, inputs=2 if cfg.gated_mlp else 1,
             flops_per_element=ACTIVATION_FLOPS[cfg.activation] + int(cfg.gated_mlp), _tags=dict(tags)),
        b.op(f"{prefix}_down", "matmul", 0, m=tokens, k=f, n=cfg.hidden_size, batch=1, bias=bias,
             _tags={"weight": True, **tags}),
    ]


def _moe_layer(b: LayerBuilder, cfg: MoEConfig, layer: int, tokens: int, routed: Assignment, experts: list[int],
               idle_extra: int = 0, gate_tags: dict | None = None) -> list[Op]:
    """One MoE FFN layer. ``experts`` are the expert ids the counts refer to (a task's pathway for M3ViT);
    ``idle_extra`` adds parameters held but unused this step (other tasks' gates)."""
    at = {"layer": layer, **(gate_tags or {})}
    n_exp = len(experts)
    _, per_expert = _expert_shape(cfg, b, cfg.moe_intermediate_size)
    active = [(e, int(c)) for e, c in zip(experts, routed.counts) if c > 0]
    idle = (cfg.num_experts - len(active)) * per_expert + idle_extra
    ops = [b.norm("moe_norm", 0, 1, tokens, fused_residual=True)]
    ops[0].tags.update(at)
    ops.append(b.op("router", "matmul", 0, m=tokens, k=cfg.hidden_size, n=n_exp, batch=1,
                    _tags={"weight": True, "expert": "router", **at}))
    ops.append(b.op("routing", "routing", 0, tokens=tokens, experts=n_exp, top_k=routed.top_k, params=idle,
                    _tags={"expert": "router", **at}))
    if cfg.num_shared_experts:
        ops += _ffn(b, cfg, "shared_expert", tokens, cfg.num_shared_experts * cfg.moe_intermediate_size,
                    {"expert": "shared", **at})
    for e, count in active:
        ops += _ffn(b, cfg, "expert", count, cfg.moe_intermediate_size, {"expert": e, **at})
    ops.append(b.op("moe_combine", "elementwise", 0, elements=tokens * cfg.hidden_size,
                    inputs=routed.top_k + int(cfg.num_shared_experts > 0), flops_per_element=2 * routed.top_k,
                    _tags={"expert": "combine", **at}))
    ops += b.all_reduce("moe_all_reduce", 0, 1, tokens * cfg.hidden_size)
    return ops


def _check_ints(**values: int) -> None:
    for name, value in values.items():
        minimum = 0 if name == "context" else 1
        if int(value) != value or value < minimum:
            raise WorkloadParamError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _finish(wl: Workload, cfg: MoEConfig, b: LayerBuilder, router: _Router, moe_layers: int, tokens: int,
            kv_bytes: float, idle_gates: int = 0, rows: int | None = None) -> Workload:
    """Record routing statistics and active parameters; set resident memory (all experts' weights; logits of
    ``rows`` sequences, by default the workload's batch)."""
    _, per_expert = _expert_shape(cfg, b, cfg.moe_intermediate_size)
    total = wl.parameters
    wl.params.update(
        total_parameters=total,
        active_parameters=total - moe_layers * (cfg.num_experts - cfg.top_k) * per_expert - idle_gates,
        activated_experts=list(router.activated),
        activated_experts_mean=float(np.mean(router.activated)) if router.activated else 0.0,
        dropped_tokens=router.dropped)
    widest = max(b.ff, cfg.top_k * cfg.moe_intermediate_size // b.tp)
    act = tokens * (3 * cfg.hidden_size + 2 * widest + cfg.num_experts) * b.act_bits / 8.0
    if cfg.vocab_size:
        act += (wl.params.get("batch", 1) if rows is None else rows) * ceil(cfg.vocab_size / b.tp) * 4.0
    wl.memory_bytes = {"weights": total * b.bits / 8.0, "kv_cache": kv_bytes, "activations": act}
    return wl


def _lm_head(b: LayerBuilder, cfg: MoEConfig, wl: Workload, rows: int) -> None:
    wl.add(b.norm("final_norm", 0, 1, rows, fused_residual=True))
    vocab = ceil(cfg.vocab_size / b.tp)
    head = b.linear("lm_head", 0, 1, rows, cfg.hidden_size, vocab, tied=cfg.tied_embeddings)
    head.dims["bias"] = 0
    wl.add(head)
    if b.tp > 1:
        wl.add(b.op("logits_all_gather", "collective", 0, elements=rows * vocab, group=b.tp,
                    _tags={"collective": "all_gather"}))


def build_moe_decoder(cfg: MoEConfig, phase: str = "decode", batch: int = 1, prompt: int = 512, context: int = 1024,
                      tensor_parallel: int = 1, dtype: str = "fp16", kv_dtype: str = "", routing: str = "uniform",
                      zipf_s: float = 1.0, dirichlet_alpha: float = 1.0, trace: str = "",
                      capacity_factor: float = 0.0, seed: int = 0, chunks: str = "") -> Workload:
    """A decoder-only MoE LLM step: ``prefill`` of ``batch`` prompts, one ``decode`` step of ``batch`` sequences
    with ``context`` cached tokens, or a ``mixed`` step of ``batch`` decoding sequences and prefill ``chunks``
    (``workloads.transformer.step_shape``). Routing: ``uniform``/``zipf``/``dirichlet``/``trace``."""
    shape = step_shape(phase, batch, prompt, context, chunks)
    b = LayerBuilder(cfg.dense(), dtype, kv_dtype or None, tensor_parallel, 1)
    router = _Router(cfg, routing, zipf_s, dirichlet_alpha, trace, capacity_factor, seed)
    tokens = shape.tokens
    wl = Workload(f"{cfg.name}/{phase}", items=float(tokens), item_unit="token",
                  params=dict(model=cfg.name, phase=phase, batch=batch, **shape.run, tensor_parallel=tensor_parallel,
                              dtype=dtype, kv_dtype=b.kv_dtype, routing=routing, capacity_factor=capacity_factor,
                              seed=seed), devices=tensor_parallel)
    wl.extend(b.embedding(tokens))
    layers = cfg.moe_layers()
    wl.extend(b.attention_block(0, cfg.num_layers, tokens, shape.attention, causal=True, kv_cache=True))
    if cfg.num_layers > len(layers):
        wl.extend(b.mlp_block(0, cfg.num_layers - len(layers), tokens))
    experts = list(range(cfg.num_experts))
    for layer in layers:
        wl.extend(_moe_layer(b, cfg, layer, tokens, router.assign(layer, tokens, cfg.num_experts, cfg.top_k),
                             experts))
    _lm_head(b, cfg, wl, shape.rows)
    kv = shape.kv_tokens * 2 * b.kv_heads * b.hd * cfg.num_layers * b.kv_bits / 8.0
    return _finish(wl, cfg, b, router, len(layers), tokens, kv, rows=shape.rows)


def build_moe_encoder_decoder(cfg: MoEConfig, phase: str = "decode", batch: int = 1, prompt: int = 512,
                              context: int = 64, tensor_parallel: int = 1, dtype: str = "fp16",
                              routing: str = "uniform", zipf_s: float = 1.0, dirichlet_alpha: float = 1.0,
                              trace: str = "", capacity_factor: float = 0.0, seed: int = 0) -> Workload:
    """A T5-style MoE encoder–decoder (Switch Transformer). ``prefill``: the encoder over ``batch × prompt``
    tokens, the decoder's cross-attention K/V of that output, and the first decoder step. ``decode``: one decoder
    step with ``context`` generated tokens cached, attending to a ``prompt``-token encoder output."""
    if phase not in ("prefill", "decode"):
        raise WorkloadParamError(f"phase must be 'prefill' or 'decode', got {phase!r}")
    _check_ints(batch=batch, prompt=prompt, context=context)
    b = LayerBuilder(cfg.dense(), dtype, None, tensor_parallel, 1)
    router = _Router(cfg, routing, zipf_s, dirichlet_alpha, trace, capacity_factor, seed)
    run = dict(model=cfg.name, phase=phase, batch=batch, prompt=prompt, context=context,
               tensor_parallel=tensor_parallel, dtype=dtype, routing=routing, capacity_factor=capacity_factor,
               seed=seed)
    wl = Workload(f"{cfg.name}/{phase}", items=float(batch), item_unit="token", params=run, devices=tensor_parallel)
    d, hd, enc_tokens = cfg.hidden_size, b.hd, batch * prompt
    rel = cfg.relative_attention_buckets * cfg.num_heads // b.tp
    moe_enc, moe_dec = cfg.moe_layers(cfg.num_layers), cfg.moe_layers(cfg.num_decoder_layers)
    if phase == "prefill":
        wl.extend(b.embedding(enc_tokens))
        wl.add(b.op("encoder_relative_bias", "elementwise", 0, elements=batch * b.heads * prompt * prompt,
                    inputs=1, flops_per_element=1, params=rel))
        wl.extend(b.attention_block(0, cfg.num_layers, enc_tokens, [(batch, prompt, prompt)], causal=False,
                                    kv_cache=False))
        wl.extend(b.mlp_block(0, cfg.num_layers - len(moe_enc), enc_tokens))
        for layer in moe_enc:
            wl.extend(_moe_layer(b, cfg, layer, enc_tokens, router.assign(layer, enc_tokens, cfg.num_experts,
                                                                          cfg.top_k, stream=1), list(range(cfg.num_experts))))
        wl.add(b.norm("encoder_final_norm", 0, 1, enc_tokens, fused_residual=True))
        # Cross-attention K/V of every decoder layer, computed once from the encoder output and cached.
        wl.add(b.linear("cross_kv_proj", 0, cfg.num_decoder_layers, enc_tokens, d, 2 * b.kv_heads * hd))
        wl.add(b.op("cross_kv_write", "kv_write", 0, cfg.num_decoder_layers, elements=enc_tokens * 2 * b.kv_heads * hd))
    else:
        # The encoder's and the cross-attention K/V projections' weights stay resident but are idle in a decode
        # step: this op holds them (params dim) and does no work.
        cross_kv = cfg.num_decoder_layers * d * 2 * b.kv_heads * hd
        wl.add(b.op("encoder_weights_resident", "elementwise", 0, elements=0, inputs=0,
                    params=_encoder_parameters(cfg, b, len(moe_enc)) + cross_kv))
    past = 0 if phase == "prefill" else context
    wl.extend(b.embedding(batch) if phase == "decode" else [])
    wl.add(b.op("decoder_relative_bias", "elementwise", 0, elements=batch * b.heads * (past + 1), inputs=1,
                flops_per_element=1, params=rel))
    wl.extend(b.attention_block(0, cfg.num_decoder_layers, batch, [(batch, 1, past + 1)], causal=True,
                                kv_cache=True))
    cross = [op for op in b.attention_block(0, cfg.num_decoder_layers, batch, [(batch, 1, prompt)], causal=False,
                                            kv_cache=True) if op.name not in ("kv_cache_write",)]
    for op in cross:
        op.name = "cross_" + op.name
        if op.name == "cross_qkv_proj":  # queries only: K/V of the encoder output are cached
            op.dims["n"] = b.heads * hd
    wl.extend(cross)
    wl.extend(b.mlp_block(0, cfg.num_decoder_layers - len(moe_dec), batch))
    for layer in moe_dec:
        wl.extend(_moe_layer(b, cfg, cfg.num_layers + layer, batch,
                             router.assign(layer, batch, cfg.num_experts, cfg.top_k, stream=2),
                             list(range(cfg.num_experts))))
    _lm_head(b, cfg, wl, batch)
    kv = (batch * (past + 1) + enc_tokens) * 2 * b.kv_heads * hd * cfg.num_decoder_layers * b.kv_bits / 8.0
    return _finish(wl, cfg, b, router, len(moe_enc) + len(moe_dec), max(enc_tokens if phase == "prefill" else 0,
                                                                       batch), kv)


def _encoder_parameters(cfg: MoEConfig, b: LayerBuilder, moe_layers: int) -> int:
    """Per-device parameters of the encoder stack (used when a decode step leaves it idle)."""
    d, hd = cfg.hidden_size, b.hd
    attn = d * (b.heads + 2 * b.kv_heads) * hd + b.heads * hd * d
    dense_ffn = d * b.ff * (3 if cfg.gated_mlp else 2)
    _, per_expert = _expert_shape(cfg, b, cfg.moe_intermediate_size)
    moe = cfg.num_experts * per_expert + d * cfg.num_experts
    norms = (2 * cfg.num_layers + 1) * cfg.dense().norm_params
    return (cfg.num_layers * attn + (cfg.num_layers - moe_layers) * dense_ffn + moe_layers * moe + norms
            + cfg.relative_attention_buckets * cfg.num_heads // b.tp)


def task_experts(cfg: MoEConfig, task: int, experts_per_task: int) -> list[int]:
    """The expert ids a task's gate chooses from: all experts, or a window of ``experts_per_task`` placed as
    M3ViT's ``regu_experts_fromtask`` option spreads tasks over the expert bank."""
    n_tasks, n = len(cfg.tasks), experts_per_task or cfg.num_experts
    start = 0 if n_tasks < 2 else round(task * (cfg.num_experts - n) / (n_tasks - 1))
    return list(range(start, start + n))


def build_moe_vit(cfg: MoEConfig, batch: int = 1, task: str = "", experts_per_task: int = 0,
                  tensor_parallel: int = 1, dtype: str = "fp16", routing: str = "uniform", zipf_s: float = 1.0,
                  dirichlet_alpha: float = 1.0, trace: str = "", capacity_factor: float = 0.0,
                  seed: int = 0) -> Workload:
    """Single-task inference of a multi-task MoE ViT (M3ViT): patch embedding, ViT blocks whose every other MLP is
    an MoE layer routed by ``task``'s own gate over its expert pathway, and that task's PUP decoder head (4 conv3×3
    with ×2 bilinear upsampling, a conv1×1 to the task's outputs, a final ×2 upsampling to the input size)."""
    _check_ints(batch=batch)
    tasks = list(cfg.tasks)
    task = task or tasks[0]
    if task not in cfg.tasks:
        raise WorkloadParamError(f"task must be one of {', '.join(tasks)}, got {task!r}")
    if int(experts_per_task) != experts_per_task or not 0 <= experts_per_task <= cfg.num_experts or \
            0 < experts_per_task < cfg.top_k:
        raise WorkloadParamError(f"experts_per_task must be 0 (all) or in {cfg.top_k}..{cfg.num_experts}, "
                                 f"got {experts_per_task!r}")
    b = LayerBuilder(cfg.dense(), dtype, None, tensor_parallel, 1)
    router = _Router(cfg, routing, zipf_s, dirichlet_alpha, trace, capacity_factor, seed)
    t = tasks.index(task)
    pathway = task_experts(cfg, t, experts_per_task)
    d, grid = cfg.hidden_size, cfg.image_size // cfg.patch_size
    seq = grid * grid + 1  # class token
    tokens = batch * seq
    wl = Workload(f"{cfg.name}/{task}", items=float(batch), item_unit="image",
                  params=dict(model=cfg.name, batch=batch, task=task, experts_per_task=len(pathway),
                              tensor_parallel=tensor_parallel, dtype=dtype, routing=routing,
                              capacity_factor=capacity_factor, seed=seed), devices=tensor_parallel)
    wl.add(b.op("patch_embed", "matmul", 0, m=batch * grid * grid, k=cfg.channels * cfg.patch_size ** 2, n=d,
                batch=1, bias=1, _tags={"weight": True}))
    wl.add(b.op("cls_and_positions", "elementwise", 0, elements=tokens * d, inputs=1, flops_per_element=1,
                params=(seq + 1) * d))
    layers = cfg.moe_layers()
    wl.extend(b.attention_block(0, cfg.num_layers, tokens, [(batch, seq, seq)], causal=False, kv_cache=False))
    wl.extend(b.mlp_block(0, cfg.num_layers - len(layers), tokens))
    other_gates = (len(tasks) - 1) * d * cfg.num_experts  # each task has its own gate (multi-gate MoE)
    for layer in layers:
        routed = router.assign(layer, tokens, len(pathway), cfg.top_k, stream=t)
        wl.extend(_moe_layer(b, cfg, layer, tokens, routed, pathway, idle_extra=other_gates + d * (
            cfg.num_experts - len(pathway)), gate_tags={"task": task}))
    wl.extend(_pup_head(b, cfg, batch, grid, cfg.tasks[task]))
    return _finish(wl, cfg, b, router, len(layers), tokens, 0.0,
                   idle_gates=len(layers) * (other_gates + d * (cfg.num_experts - len(pathway))))


def _pup_head(b: LayerBuilder, cfg: MoEConfig, batch: int, grid: int, outputs: int) -> list[Op]:
    """SETR-PUP progressive-upsampling head of one task (convs with BN folded in, ReLU, bilinear ×2)."""
    ops = [b.norm("head_norm", 0, 1, batch * grid * grid, fused_residual=False)]
    ch_in, size = cfg.hidden_size, grid
    for i in range(cfg.head_convs):
        ops.append(b.op(f"head_conv{i}", "conv", 0, batch=batch, in_ch=ch_in, out_ch=cfg.head_channels,
                        in_h=size, in_w=size, out_h=size, out_w=size, kernel_h=3, kernel_w=3, stride=1, groups=1,
                        bias=1))
        ops.append(b.op(f"head_bn_relu{i}", "elementwise", 0, elements=batch * cfg.head_channels * size * size,
                        inputs=1, flops_per_element=3, params=2 * cfg.head_channels))
        size *= 2
        ops.append(b.op(f"head_upsample{i}", "elementwise", 0, elements=batch * cfg.head_channels * size * size,
                        inputs=1, flops_per_element=_UP_FLOPS_BILINEAR))
        ch_in = cfg.head_channels
    size //= 2  # the last conv1x1 runs before the final upsampling
    ops.pop()
    ops.append(b.op("head_out", "conv", 0, batch=batch, in_ch=ch_in, out_ch=outputs, in_h=size, in_w=size,
                    out_h=size, out_w=size, kernel_h=1, kernel_w=1, stride=1, groups=1, bias=1))
    ops.append(b.op("head_upsample_out", "elementwise", 0, elements=batch * outputs * (2 * size) ** 2, inputs=1,
                    flops_per_element=_UP_FLOPS_BILINEAR))
    for op in ops:  # every op of the head (its norm, convs, BN/ReLU, upsampling) is the task's, not the backbone's
        op.tags["task"] = "head"
    return ops


_BUILDERS = {"decoder": build_moe_decoder, "encoder_decoder": build_moe_encoder_decoder, "vit": build_moe_vit}
_DESCRIPTIONS = {"decoder": "MoE decoder LLM: one prefill, decode or mixed step",
                 "encoder_decoder": "MoE encoder-decoder (T5/Switch): encoder + first decoder step, or a decode step",
                 "vit": "multi-task MoE ViT: single-task inference (task-specific expert pathway)"}


def catalog() -> dict[str, WorkloadEntry]:
    entries = {}
    for name in available_moe_configs():
        cfg = load_moe_config(name)
        published = {k: v for k, v in (("parameters", cfg.published_parameters),
                                       ("active_parameters", cfg.published_active_parameters),
                                       ("inference_flops", cfg.published_inference_flops)) if v}
        entries[name] = WorkloadEntry(name=name, family=f"moe-{cfg.family}",
                                      builder=functools.partial(_BUILDERS[cfg.family], cfg),
                                      description=_DESCRIPTIONS[cfg.family], published=published,
                                      sources=tuple(cfg.sources))
    return entries
