"""Run options of diffusion workloads: step-cache schedules (DeepCache) and per-layer quantization maps.

Quantization formats (applied to weight layers only — convolutions and linear layers; attention score/value
products, norms and elementwise ops keep the base dtype):

- ``W8A8``: int8 weights and int8 activations, int8 arithmetic (weight_bits 8, act_bits 8, dtype int8).
- ``W4A8``: 4-bit weights stored, dequantized to int8 and computed in int8 (weight_bits 4, act_bits 8, dtype int8).
- ``fp16``: fp16 weights, activations and arithmetic.

Layer outputs stay at the base activation width (the GEMM epilogue dequantizes), so the next norm reads 16-bit data.

Activation quantization (``act_quant``; formats whose activations are narrower than the base width, W8A8 and W4A8):

- ``static`` (default): a separate quantize kernel before each quantized layer reads the 16-bit input once and writes
  int8 with a scale and zero point calibrated offline: x·(1/s) + z, round, clamp — 5 operations an element, no
  reduction. This is what MixDQ's W8A8 path runs (github.com/A-suozhang/MixDQ@4f6b32ad20,
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

import fnmatch
import json
from pathlib import Path
from typing import Any, Iterable

from workloads.ir import Op
from workloads.transformer import WorkloadParamError

QUANT_FORMATS: dict[str, tuple[int, int, str]] = {"W8A8": (8, 8, "int8"), "W4A8": (4, 8, "int8"),
                                                  "fp16": (16, 16, "fp16")}
_NO_QUANT = "none"
# Arithmetic per element of the separate activation-quantize kernel of each mode (module docstring); fused adds none.
_ACT_QUANT_FLOPS = {"static": 5, "dynamic-token": 7, "dynamic-tensor": 5}
_ABSMAX_OPS = 2  # abs and max an element of a whole-tensor absmax reduction
ACT_QUANT_MODES = (*_ACT_QUANT_FLOPS, "fused")


def cache_schedule(steps: int, cache_interval: int, cache_plan: Any) -> list[int]:
    """Per-step flags, 1 = reuse the cached deep features (run the shallow branch only), 0 = full network.

    ``cache_interval=N`` is DeepCache's uniform schedule (Ma et al., arXiv:2312.00858, Sec. 3.3): a full pass on
    steps 0, N, 2N, …; ``cache_plan`` is an explicit list (or comma-separated string) of 0/1 of length ``steps``.
    """
    if isinstance(cache_interval, bool) or int(cache_interval) != cache_interval or cache_interval < 1:
        raise WorkloadParamError(f"cache_interval must be an integer >= 1 (1 = no caching), got {cache_interval!r}")
    if cache_plan in ("", None, [], ()):
        return [0 if i % int(cache_interval) == 0 else 1 for i in range(steps)]
    if cache_interval != 1:
        raise WorkloadParamError(f"give either cache_interval or cache_plan, not both "
                                 f"(cache_interval={cache_interval!r}, cache_plan={cache_plan!r})")
    items = cache_plan.split(",") if isinstance(cache_plan, str) else list(cache_plan)
    try:
        plan = [int(str(x).strip()) for x in items]
    except ValueError:
        plan = []
    if not plan or any(x not in (0, 1) for x in plan) or any(str(x).strip() not in ("0", "1") for x in items):
        raise WorkloadParamError(f"cache_plan must be a list or comma-separated string of 0/1 (1 = reuse the "
                                 f"cache), got {cache_plan!r}")
    if len(plan) != steps:
        raise WorkloadParamError(f"cache_plan has {len(plan)} entries but steps={steps}; give one 0/1 per step")
    if plan[0] != 0:
        raise WorkloadParamError(f"cache_plan must start with 0: step 0 has no cached features to reuse, "
                                 f"got {cache_plan!r}")
    return plan


def quant_rules(quant: Any) -> list[tuple[str, str]]:
    """``quant`` as ordered (layer-name pattern, format) rules; the first matching pattern wins.

    Accepts ``"none"``, a format name (every weight layer), a dict of patterns (fnmatch, matched against op names
    such as ``unet.down_blocks.0.*``), or the path of a JSON/YAML file holding such a dict.
    """
    if isinstance(quant, str) and quant in (_NO_QUANT, *QUANT_FORMATS):
        return [] if quant == _NO_QUANT else [("*", quant)]
    if isinstance(quant, (str, Path)):
        path = Path(quant)
        if path.suffix.lower() not in (".json", ".yaml", ".yml") or not path.is_file():
            raise WorkloadParamError(f"quant must be 'none', one of {', '.join(QUANT_FORMATS)}, a dict of layer "
                                     f"patterns, or an existing .json/.yaml file of one; got {quant!r}")
        text = path.read_text()
        if path.suffix.lower() == ".json":
            quant = json.loads(text)
        else:
            import yaml

            quant = yaml.safe_load(text)
    if not isinstance(quant, dict) or not quant:
        raise WorkloadParamError(f"quant map must be a non-empty mapping of layer patterns to formats, got {quant!r}")
    rules = []
    for pattern, fmt in quant.items():
        if fmt not in QUANT_FORMATS:
            raise WorkloadParamError(f"quant[{pattern!r}] = {fmt!r}; allowed formats: {', '.join(QUANT_FORMATS)}")
        rules.append((str(pattern), str(fmt)))
    return rules


def apply_quant(ops: Iterable[Op], rules: list[tuple[str, str]]) -> dict[str, str]:
    """Set weight_bits / act_bits / dtype of every weight layer a rule matches; returns {op name: format}.
    A pattern that matches no weight layer raises (it is almost always a typo)."""
    ops = [op for op in ops if _is_weight_layer(op)]
    chosen: dict[str, str] = {}
    used = set()
    for op in ops:
        for pattern, fmt in rules:
            if fnmatch.fnmatchcase(op.name, pattern):
                w_bits, a_bits, dtype = QUANT_FORMATS[fmt]
                op.weight_bits, op.act_bits, op.dtype = w_bits, a_bits, dtype
                chosen[op.name] = fmt
                used.add(pattern)
                break
    unused = [p for p, _ in rules if p not in used]
    if unused:
        raise WorkloadParamError(f"quant pattern {unused[0]!r} matches no weight layer; patterns match op names "
                                 f"such as {ops[0].name!r}" if ops else f"quant pattern {unused[0]!r}: no weight layers")
    return chosen


def _is_weight_layer(op: Op) -> bool:
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
        if _is_weight_layer(op) and op.dtype == "int8" and op.act_bits < base_bits:
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
