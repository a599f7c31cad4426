"""Activation quantization of integer-arithmetic layers (W8A8, W4A8): how a layer that computes on int8 activations
gets them from the 16-bit output of the layer before (the layer's own epilogue dequantizes its output back to 16 bits).

Modes (``act_quant``):

- ``static`` (the diffusion workloads' default): a separate quantize kernel before each quantized layer reads the
  16-bit input once and writes int8 with a scale and zero point calibrated offline: x·(1/s) + z, round, clamp — 5
  operations an element, no reduction. This is what MixDQ's W8A8 path runs (github.com/A-suozhang/MixDQ@4f6b32ad20,
  kernels/mixdq_extension/nn/Linear.py and Conv2d.py ``forward``: ``quantize_per_tensor_to_int8_vectorized`` with the
  calibrated per-tensor ``act_scales_inv`` / ``act_zero_points``, then the CUTLASS ``qlinear`` / ``qconv2d`` whose
  epilogue dequantizes). For CacheQuant (CUTLASS kernels through torch_quantizer, calibrated post-training
  quantization) the same separate static kernel is an assumption: its deployment kernels were not read.
- ``dynamic-token``: the scale is each token's (row's) absolute maximum, found at run time in the same kernel —
  SmoothQuant-style dynamic per-token quantization as vLLM's ``scaled_int8_quant`` runs it when no scale is given.
  Two more operations an element (abs, max) and one row reduction an element. assumption: the row is read from HBM
  once (the quantize pass after the absmax hits on-chip cache: a row is at most a few thousand elements); the scale
  vector written (4 bytes a row, at most 4/K of the int8 output) is left out.
- ``dynamic-tensor``: one scale for the whole tensor, its absolute maximum found at run time: a reduction kernel
  (``.absmax``: abs and max an element, reads the input, writes one 4-byte scale) and then the static quantize
  kernel. assumption: both passes read the input from HBM (a layer input is megabytes, beyond what a grid-wide
  reduction keeps on chip).
- ``fused``: quantization fused into the producing kernel's epilogue (no separate op; the layer reads int8 and the
  producer's 16-bit output write is unchanged). No cited diffusion code runs this; it is the lower bound.
"""

from __future__ import annotations

from workloads.ir import Op
from workloads.transformer import WorkloadParamError

# Arithmetic per element of the separate activation-quantize kernel of each mode (module docstring); fused adds none.
_ACT_QUANT_FLOPS = {"static": 5, "dynamic-token": 7, "dynamic-tensor": 5}
_ABSMAX_OPS = 2  # abs and max an element of a whole-tensor absmax reduction
ACT_QUANT_MODES = (*_ACT_QUANT_FLOPS, "fused")


def is_weight_layer(op: Op) -> bool:
    """A convolution or a GEMM against stored weights (the layers quantization formats apply to)."""
    return op.kind == "conv" or (op.kind == "matmul" and op.tags.get("weight", True))


def insert_act_quant(ops: list[Op], mode: str, base_bits: int, base_dtype: str) -> list[Op]:
    """``ops`` with, before every layer that computes on integer activations (W8A8, W4A8), the ops that quantize its
    ``base_bits`` input to the layer's width in ``mode`` (``ACT_QUANT_MODES``; ``fused`` adds none): an elementwise
    ``.quantize_input`` op, after a ``.absmax`` reduction for ``dynamic-tensor``. They run as often as the layer (same
    count and tags, tag ``role``: ``act_quant`` / ``act_absmax``)."""
    if mode not in ACT_QUANT_MODES:
        raise WorkloadParamError(f"act_quant must be one of {', '.join(ACT_QUANT_MODES)}, got {mode!r}")
    if mode == "fused":
        return list(ops)
    out: list[Op] = []
    for op in ops:
        if is_weight_layer(op) and op.dtype == "int8" and op.act_bits < base_bits:
            n = round(op.operand_bytes["input"] * 8 / op.act_bits)
            tags = {k: v for k, v in op.tags.items() if k != "weight"}
            tags.update(act_quant=mode, weight_copies=0)
            common = dict(act_bits=base_bits, weight_bits=base_bits, count=op.count, dtype=base_dtype)
            if mode == "dynamic-tensor":
                out.append(Op(f"{op.name}.absmax", "kernel", {"loads": n, "stores": 1, "fp_cmp": _ABSMAX_OPS * n},
                              out_bits=32, tags={**tags, "role": "act_absmax"}, **common))
            out.append(Op(f"{op.name}.quantize_input", "elementwise",
                          {"elements": n, "inputs": 1, "flops_per_element": _ACT_QUANT_FLOPS[mode]},
                          out_bits=op.act_bits, tags={**tags, "role": "act_quant"}, **common))
        out.append(op)
    return out
