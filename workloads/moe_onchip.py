"""On-chip memory and expert schedules of a multi-task MoE ViT (M3ViT) on a layer-wise accelerator.

A layer-wise FPGA design keeps one transformer block's weights and its token buffers on chip. For an MoE block that is
the attention weights, the router, the expert weights and two token buffers (block input and output):

- ``naive``: every expert of the task's pathway is on chip (any token may pick any of them);
- ``reordered`` (M3ViT computation reordering): tokens are grouped by expert, so only the experts one token activates
  (``top_k``) are held at a time while the next expert's weights stream in.

The M3ViT builder already emits the reordered schedule (each expert's GEMMs run over all its tokens, so its weights
cross DDR once). ``cache_based`` rewrites it into the token-order schedule of a memory-constrained design with an
expert cache of ``cache_experts`` slots: each token runs its ``top_k`` experts; a cached expert runs on resident
weights, a missing one is fetched from DDR for that one token (a GEMV that re-reads the whole expert).
"""

from __future__ import annotations

import copy

from workloads.ir import Workload


def backbone(wl: Workload) -> Workload:
    """The ViT encoder without the task's decoder head (ops tagged ``task: head``)."""
    out = copy.deepcopy(wl)
    out.ops = [op for op in out.ops if op.tags.get("task") != "head"]
    out.name = f"{wl.name}/backbone"
    return out


def _first(wl: Workload, name: str):
    return next(op for op in wl.ops if op.name == name)


def expert_bytes(wl: Workload) -> float:
    """Weight bytes of one expert FFN (up and down projections with biases)."""
    up, down = _first(wl, "expert_up"), _first(wl, "expert_down")
    return (up.parameters * up.weight_bits + down.parameters * down.weight_bits) / 8.0


def block_onchip_bytes(wl: Workload, scheme: str) -> dict[str, float]:
    """On-chip bytes of one MoE block by part, for ``scheme`` ``naive`` or ``reordered``."""
    if scheme not in ("naive", "reordered"):
        raise ValueError(f"scheme must be 'naive' or 'reordered', got {scheme!r}")
    routing = _first(wl, "routing")
    held = routing.dim("experts") if scheme == "naive" else routing.dim("top_k")
    attn = sum(op.parameters * op.weight_bits / 8.0 for op in (_first(wl, "qkv_proj"), _first(wl, "o_proj")))
    router = _first(wl, "router")
    tokens = routing.dim("tokens") * router.dim("k") * router.act_bits / 8.0
    parts = {"experts": held * expert_bytes(wl), "attention": attn,
             "router": router.parameters * router.weight_bits / 8.0, "tokens": 2 * tokens}
    parts["total"] = sum(parts.values())
    return parts


def cache_slots(wl: Workload, onchip_bytes: float) -> int:
    """Experts that fit in an on-chip memory of ``onchip_bytes`` next to the block's other contents."""
    parts = block_onchip_bytes(wl, "reordered")
    free = onchip_bytes - (parts["total"] - parts["experts"])
    experts = _first(wl, "routing").dim("experts")
    return int(max(0, min(experts, free // expert_bytes(wl))))


def cache_based(wl: Workload, cache_experts: int) -> Workload:
    """The token-order schedule with an expert cache of ``cache_experts`` slots (see module docstring).

    With routing spread evenly over the pathway's E experts, a token finds on average ``cache_experts / E`` of its
    experts cached (the slots hold the experts used last), so each expert serves that share of its tokens from
    resident weights and fetches its weights once per remaining token.
    """
    out = copy.deepcopy(wl)
    out.name = f"{wl.name}/cache{cache_experts}"
    experts = _first(wl, "routing").dim("experts")
    hit = min(1.0, cache_experts / experts)
    ops = []
    for op in out.ops:
        if op.name not in ("expert_up", "expert_down", "expert_gate_up"):
            ops.append(op)
            continue
        tokens = op.dim("m")
        hits = int(round(tokens * hit))
        if hits:
            resident = copy.deepcopy(op)
            resident.dims["m"] = hits
            ops.append(resident)
        if tokens - hits:
            fetched = copy.deepcopy(op)
            fetched.dims["m"] = 1
            fetched.count = op.count * (tokens - hits)
            fetched.tags["weight_copies"] = 0  # the same expert's weights, fetched again per token
            ops.append(fetched)
    out.ops = ops
    out.params = dict(out.params, schedule="cache", cache_experts=cache_experts)
    return out
