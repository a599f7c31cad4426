"""Run options of diffusion workloads: step-cache schedules (DeepCache) and per-layer quantization maps.

Quantization formats (applied to weight layers only — convolutions and linear layers; attention score/value
products, norms and elementwise ops keep the base dtype):

- ``W8A8``: int8 weights and int8 activations, int8 arithmetic (weight_bits 8, act_bits 8, dtype int8).
- ``W4A8``: 4-bit weights stored, dequantized to int8 and computed in int8 (weight_bits 4, act_bits 8, dtype int8).
- ``fp16``: fp16 weights, activations and arithmetic.

Layer outputs stay at the base activation width (the GEMM epilogue dequantizes), so the next norm reads 16-bit data.

Activation quantization of the integer formats (``act_quant``: a separate ``static`` or ``dynamic`` quantize op
before each W8A8 / W4A8 layer, or ``fused``) is ``workloads.act_quant``.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any, Iterable

from workloads.act_quant import is_weight_layer
from workloads.ir import Op
from workloads.transformer import WorkloadParamError

QUANT_FORMATS: dict[str, tuple[int, int, str]] = {"W8A8": (8, 8, "int8"), "W4A8": (4, 8, "int8"),
                                                  "fp16": (16, 16, "fp16")}
_NO_QUANT = "none"


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
    ops = [op for op in ops if is_weight_layer(op)]
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
