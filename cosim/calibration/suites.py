"""What a board measures, as cosim IR: single ops (GEMMs over shapes and dtypes, convolutions, streaming kernels,
attention) and end-to-end workloads built by cosim's own builders. Sets: ``tiny`` (seconds; tests and smoke
checks), ``quick`` (under a minute on a laptop CPU; CI), ``full`` (the calibration grid; minutes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from workloads.dtypes import dtype_bits
from workloads.ir import Op, Workload

SETS = ("tiny", "quick", "full")


@dataclass(frozen=True)
class Case:
    """One thing to measure: a label, ``op`` or ``end_to_end`` scope, and the workload that describes it."""

    label: str
    scope: str
    workload: Workload

    @property
    def op_kind(self) -> str:
        return self.workload.ops[0].kind if self.scope == "op" else "workload"

    @property
    def dtype(self) -> str:
        return self.workload.ops[0].dtype


def _op(name: str, kind: str, dtype: str, tags: dict | None = None, **dims: int) -> Op:
    bits = dtype_bits(dtype)
    return Op(name, kind, dims, act_bits=bits, weight_bits=bits, out_bits=bits, tags=dict(tags or {}), dtype=dtype)


def single(op: Op, label: str) -> Case:
    """A one-op case (its workload produces one item: the op's output)."""
    return Case(label, "op", Workload(label, [op], params={"calibration": "op"}))


def gemm(m: int, n: int, k: int, dtype: str, batch: int = 1) -> Case:
    shape = f"{batch}x" if batch > 1 else ""
    return single(_op("gemm", "matmul", dtype, {"weight": True}, m=m, n=n, k=k, batch=batch),
                  f"matmul {shape}{m}x{n}x{k} {dtype}")


def conv(batch: int, cin: int, cout: int, size: int, kernel: int, stride: int, dtype: str, groups: int = 1) -> Case:
    out = (size + 2 * (kernel // 2) - kernel) // stride + 1
    op = _op("conv", "conv", dtype, {"role": "conv"}, batch=batch, in_ch=cin, out_ch=cout, in_h=size, in_w=size,
             out_h=out, out_w=out, kernel_h=kernel, kernel_w=kernel, stride=stride, groups=groups, bias=0)
    g = f" g{groups}" if groups > 1 else ""
    return single(op, f"conv {batch}x{cin}x{size}x{size} -> {cout} k{kernel} s{stride}{g} {dtype}")


_STREAM_SHAPES = {"copy": (1, 0), "scale": (1, 1), "add": (2, 1), "triad": (2, 2)}


def stream(kernel: str, elements: int, dtype: str) -> Case:
    """A streaming kernel (STREAM's copy, scale, add, triad) over ``elements`` per array."""
    inputs, flops = _STREAM_SHAPES[kernel]
    op = _op(kernel, "elementwise", dtype, {"kernel": kernel}, elements=elements, inputs=inputs,
             flops_per_element=flops)
    return single(op, f"{kernel} {elements} {dtype}")


_ACTIVATIONS = {"relu": 1, "silu": 4, "gelu": 8}


def activation(name: str, elements: int, dtype: str) -> Case:
    op = _op(name, "elementwise", dtype, {"activation": name}, elements=elements, inputs=1,
             flops_per_element=_ACTIVATIONS[name])
    return single(op, f"{name} {elements} {dtype}")


def softmax(rows: int, row: int, dtype: str) -> Case:
    op = _op("softmax", "softmax", dtype, {"row": row}, elements=rows * row, inputs=1, flops_per_element=5)
    return single(op, f"softmax {rows}x{row} {dtype}")


_NORM_FLOPS = {"layernorm": 7, "rmsnorm": 4}


def norm(kind: str, rows: int, row: int, dtype: str) -> Case:
    op = _op(kind, "norm", dtype, {"norm": kind, "row": row}, elements=rows * row, inputs=1,
             flops_per_element=_NORM_FLOPS[kind], params=row * (2 if kind == "layernorm" else 1))
    return single(op, f"{kind} {rows}x{row} {dtype}")


def attention(batch: int, heads: int, kv_heads: int, q_len: int, kv_len: int, head_dim: int, dtype: str,
              causal: bool) -> Case:
    phase = "decode" if q_len == 1 else "prefill"
    op = _op("attention", "attention", dtype, {}, batch=batch, heads=heads, kv_heads=kv_heads, q_len=q_len,
             kv_len=kv_len, head_dim=head_dim, causal=int(causal), kv_cache=int(phase == "decode"))
    return single(op, f"attention {phase} b{batch} h{heads}/{kv_heads} q{q_len} kv{kv_len} d{head_dim} {dtype}"
                      f"{' causal' if causal and q_len > 1 else ''}")


def end_to_end(workload: Workload, label: str) -> Case:
    return Case(label, "end_to_end", workload)


def vit_small(layers: int, image_size: int, dtype: str = "fp32", batch: int = 1) -> Case:
    """ViT-S/16 (DeiT-S shapes) with its encoder cut to ``layers`` layers at ``image_size`` pixels."""
    from workloads.model_config import load_model_config
    from workloads.transformer import build_vit

    cfg = load_model_config("vit-s-16").model_copy(update={"num_layers": layers, "image_size": image_size})
    wl = build_vit(cfg, batch=batch, dtype=dtype)
    return end_to_end(wl, f"vit-s-16 {layers} layer(s) {image_size}px b{batch} {dtype}")


def encoder(model: str, layers: int, seq_len: int, dtype: str = "fp32", batch: int = 1) -> Case:
    from workloads.model_config import load_model_config
    from workloads.transformer import build_encoder

    cfg = load_model_config(model).model_copy(update={"num_layers": layers})
    return end_to_end(build_encoder(cfg, batch=batch, seq_len=seq_len, dtype=dtype),
                      f"{model} {layers} layer(s) seq{seq_len} b{batch} {dtype}")


def cnn(model: str, dtype: str = "fp32", batch: int = 1, image_size: int | None = None) -> Case:
    from workloads.cnn import build_cnn

    size = {} if image_size is None else {"image_size": image_size}
    wl = build_cnn(model, batch=batch, dtype=dtype, **size)
    size = f" {image_size}px" if image_size else ""
    return end_to_end(wl, f"{model}{size} b{batch} {dtype}")


def decoder_step(model: str, phase: str, batch: int, tokens: int, dtype: str, memory_bytes: float) -> Case:
    """An LLM prefill (``tokens`` = prompt) or decode step (``tokens`` = context) with its layers cut so the
    weights and KV cache take at most half of ``memory_bytes``."""
    from workloads.model_config import load_model_config
    from workloads.transformer import build_decoder

    cfg = load_model_config(model)
    args = dict(phase=phase, batch=batch, dtype=dtype, **({"prompt": tokens} if phase == "prefill"
                                                           else {"context": tokens}))

    def resident(layers: int) -> float:
        mem = build_decoder(cfg.model_copy(update={"num_layers": layers}), **args).memory_bytes
        return float(sum(mem.values()))
    one, two = resident(1), resident(2)
    per_layer = max(two - one, 1.0)
    layers = int(min(cfg.num_layers, max(1, (0.5 * memory_bytes - (one - per_layer)) // per_layer)))
    wl = build_decoder(cfg.model_copy(update={"num_layers": layers}), **args)
    what = f"prompt{tokens}" if phase == "prefill" else f"ctx{tokens}"
    return end_to_end(wl, f"{model} {phase} {layers}/{cfg.num_layers} layers b{batch} {what} {dtype}")


def host_cases(which: str) -> list[Case]:
    """The host-CPU suite (numpy on fp32 and fp64)."""
    if which == "tiny":
        return [gemm(64, 64, 64, "fp32"), gemm(64, 64, 64, "fp64"), gemm(1, 256, 256, "fp32"),
                conv(1, 8, 16, 16, 3, 1, "fp32"), stream("copy", 1 << 16, "fp32"), stream("triad", 1 << 16, "fp32"),
                activation("gelu", 1 << 14, "fp32"), softmax(64, 256, "fp32"), norm("layernorm", 64, 256, "fp32"),
                attention(1, 2, 2, 32, 32, 16, "fp32", True), attention(1, 4, 2, 1, 256, 16, "fp32", True),
                vit_small(1, 32), cnn("resnet-18", image_size=32)]
    if which == "quick":
        cases = [gemm(s, s, s, "fp32") for s in (32, 64, 96, 128, 192, 256, 384, 512, 768, 1024)]
        cases += [gemm(s, s, s, "fp64") for s in (64, 128, 256, 512, 1024)]
        cases += [gemm(m, 4096, 1024, "fp32") for m in (1, 8, 32, 128)]
        cases += [gemm(512, 64, 512, "fp32"), gemm(64, 1024, 4096, "fp32")]
        cases += [conv(1, 64, 64, 28, 3, 1, "fp32"), conv(1, 256, 64, 28, 1, 1, "fp32"),
                  conv(1, 128, 128, 14, 3, 1, "fp32"), conv(1, 128, 128, 28, 3, 1, "fp32", groups=128),
                  conv(1, 3, 64, 112, 7, 2, "fp32")]
        cases += [stream("copy", n, "fp32") for n in (1 << 12, 1 << 14, 1 << 17, 1 << 20, 1 << 22, 1 << 24)]
        cases += [stream("triad", n, "fp32") for n in (1 << 12, 1 << 17, 1 << 20, 1 << 24)]
        cases += [stream("scale", 1 << 20, "fp32"), stream("add", 1 << 22, "fp32"), stream("copy", 1 << 22, "fp64")]
        cases += [activation("relu", 1 << 22, "fp32"), activation("silu", 1 << 20, "fp32"),
                  activation("gelu", 1 << 20, "fp32")]
        cases += [softmax(128, 128, "fp32"), softmax(512, 1024, "fp32"), norm("layernorm", 128, 768, "fp32"),
                  norm("layernorm", 1024, 768, "fp32"), norm("rmsnorm", 512, 4096, "fp32")]
        cases += [attention(1, 6, 6, 197, 197, 64, "fp32", False), attention(1, 8, 8, 128, 128, 64, "fp32", True),
                  attention(1, 8, 8, 256, 256, 64, "fp32", True)]
        cases += [attention(1, 32, 8, 1, kv, 128, "fp32", True) for kv in (512, 1024, 4096)]
        cases += [vit_small(1, 224), vit_small(1, 112), encoder("bert-base", 1, 64), cnn("resnet-18", image_size=32),
                  cnn("resnet-18", image_size=64), cnn("ds-cnn-s")]
        return cases
    if which == "full":
        cases = []
        for dtype in ("fp32", "fp64"):
            cases += [gemm(s, s, s, dtype) for s in (32, 64, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048)]
            cases += [gemm(m, n, k, dtype) for m in (1, 8, 32, 128) for n, k in ((1024, 1024), (4096, 1024),
                                                                                 (1024, 4096))]
        cases += [gemm(64, 64, 64, "fp32", batch=64), gemm(256, 64, 256, "fp32", batch=16)]
        cases += [conv(1, 64, 64, 56, 3, 1, "fp32"), conv(1, 128, 128, 28, 3, 1, "fp32"),
                  conv(1, 256, 256, 14, 3, 1, "fp32"), conv(1, 512, 512, 7, 3, 1, "fp32"),
                  conv(1, 256, 64, 56, 1, 1, "fp32"), conv(1, 64, 256, 56, 1, 1, "fp32"),
                  conv(1, 3, 64, 224, 7, 2, "fp32"), conv(1, 32, 32, 112, 3, 1, "fp32", groups=32),
                  conv(1, 144, 144, 56, 3, 2, "fp32", groups=144), conv(8, 64, 64, 28, 3, 1, "fp32"),
                  conv(1, 64, 64, 28, 3, 1, "fp64")]
        sizes = [1 << p for p in range(10, 26, 1)]  # 4 KiB .. 128 MiB per fp32 array: every cache level, then DRAM
        for kernel in ("copy", "scale", "add", "triad"):
            cases += [stream(kernel, n, "fp32") for n in sizes]
        cases += [stream("copy", n, "fp64") for n in sizes[::3]]
        cases += [activation(a, n, "fp32") for a in ("relu", "silu", "gelu") for n in (1 << 16, 1 << 20, 1 << 23)]
        cases += [softmax(r, c, "fp32") for r, c in ((128, 128), (512, 1024), (2048, 2048), (64, 32000))]
        cases += [norm(k, r, c, "fp32") for k in ("layernorm", "rmsnorm") for r, c in ((128, 768), (1024, 768),
                                                                                      (512, 4096), (4096, 4096))]
        cases += [attention(1, 6, 6, s, s, 64, "fp32", False) for s in (50, 197, 577)]
        cases += [attention(1, 8, 8, s, s, 64, "fp32", True) for s in (128, 256, 512, 1024)]
        cases += [attention(b, 32, 8, 1, kv, 128, "fp32", True) for b in (1, 4) for kv in (256, 1024, 4096, 16384)]
        cases += [vit_small(1, 224), vit_small(2, 224), vit_small(1, 224, batch=4), encoder("bert-base", 1, 128),
                  cnn("resnet-18", image_size=64), cnn("resnet-18", image_size=224), cnn("mobilenet-v2", image_size=96),
                  cnn("ds-cnn-s")]
        return cases
    raise ValueError(f"unknown measurement set {which!r}; allowed: {', '.join(SETS)}")


def cuda_cases(which: str, memory_bytes: float, devices: int = 1) -> list[Case]:
    """The CUDA suite: tensor-core GEMMs, SDPA prefill and decode over KV lengths, norms, elementwise, device
    memory bandwidth, all-reduce over ``devices`` GPUs, and LLM steps cut to fit ``memory_bytes``."""
    if which not in SETS:
        raise ValueError(f"unknown measurement set {which!r}; allowed: {', '.join(SETS)}")
    small = which != "full"
    if which == "tiny":
        squares, dtypes, kvs, copies, llm = (64, 128), ("fp32",), (64,), (1 << 16,), []
    elif which == "quick":
        squares, dtypes, kvs, copies = (1024, 4096, 8192), ("fp16", "bf16", "fp32"), (1024, 8192), (1 << 26,)
        llm = [("llama-3-8b", "prefill", 1, 1024), ("llama-3-8b", "decode", 16, 2048)]
    else:
        squares, dtypes = (256, 512, 1024, 2048, 4096, 6144, 8192, 16384), ("fp16", "bf16", "fp32", "tf32")
        kvs, copies = (512, 1024, 2048, 4096, 8192, 16384, 32768), tuple(1 << p for p in range(20, 31, 2))
        llm = [("llama-3-8b", "prefill", b, p) for b, p in ((1, 512), (1, 2048), (4, 1024), (1, 8192))]
        llm += [("llama-3-8b", "decode", b, c) for b in (1, 16, 64) for c in (1024, 8192)]
        llm += [("llama-2-70b", "decode", 16, 2048), ("mistral-7b", "prefill", 1, 4096)]
    cases = [gemm(s, s, s, d) for d in dtypes for s in squares]
    rows = (1, 16, 128) if small else (1, 8, 16, 32, 64, 128, 256, 512)
    cases += [gemm(m, 14336 if small else n, 4096, "bf16") for m in rows for n in ((14336,) if small else (4096, 14336))]
    half = "fp32" if which == "tiny" else "bf16"
    heads, kvh, hd = (4, 2, 16) if which == "tiny" else (32, 8, 128)
    cases += [attention(1, heads, kvh, kv, kv, hd, half, True) for kv in kvs]
    cases += [attention(b, heads, kvh, 1, kv, hd, half, True) for b in ((1, 16) if small else (1, 8, 32, 64))
              for kv in kvs]
    width = 256 if which == "tiny" else 4096
    tokens = (16,) if which == "tiny" else (1024, 8192)
    cases += [norm(k, t, width, half) for k in ("rmsnorm", "layernorm") for t in tokens]
    cases += [activation("silu", t * width, half) for t in tokens] + [stream("add", t * width, half) for t in tokens]
    cases += [stream("copy", n, "fp32") for n in copies] + [stream("triad", n, "fp32") for n in copies]
    if devices > 1:
        cases += [all_reduce(n, devices, half) for n in ((1 << 20, 1 << 26) if small else
                                                        tuple(1 << p for p in range(16, 29, 2)))]
    cases += [decoder_step(m, p, b, t, "bf16", memory_bytes) for m, p, b, t in llm]
    return cases


def all_reduce(elements: int, group: int, dtype: str) -> Case:
    op = _op("all_reduce", "collective", dtype, {"collective": "all_reduce"}, elements=elements, group=group)
    return single(op, f"all_reduce {elements} x{group} {dtype}")


SUITES: dict[str, Callable[..., list[Case]]] = {"host-cpu": host_cases, "cuda": cuda_cases}
