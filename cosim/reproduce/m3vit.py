"""M3ViT (NeurIPS'22) on a ZCU104: single-task MACs (m3vit-01), computation reordering (CR) vs naive on-chip memory
(m3vit-02), and CR vs the memory-constrained cache-based design (m3vit-03), through the FPGA model users run.

Setup from the paper: MoE ViT-small (16 experts, top-4, expert width 384; workload ``m3vit-small``), single-task
inference on PASCAL-Context (task ``semseg``, 512x512, 1025 tokens), batch 1, ZCU104 at 300 MHz, a layer-wise design
whose self-attention unit runs each head's Q x K, softmax and x V inside the unit (Sec. 3.2, Fig. 3; the ZCU104 preset's
``design.fused_attention``). The FPGA latency/energy are for the ViT backbone (the workload without its SETR-PUP head):
69 ms at 300 MHz is reachable for the backbone's ~32 G MACs on ~1.5k DSPs but not for the whole network's 84 G (the
head adds ~52 G) — our inference. The cache-based design gets the expert slots the ZCU104 default design's 4.5 MiB
buffer leaves next to the block's attention weights and token buffers (3 of 16), and fetches a missing expert from DDR
per token. Energy is the model's (static + per-resource dynamic + DDR), not the paper's fixed 10 W.

Not in the paper's main text (its supplement, with the target hardware's details, was not retrieved): the design's DSP
count and number format, its softmax and GELU units' throughput, its DDR configuration. The ZCU104 preset's values
for these are labelled assumptions. The m3vit-01 reduction itself (84 vs 647 G for Cross-Stitch) needs a Cross-Stitch
multi-task workload (the repo's configs/pascal/resnet18/cross_stitch.yml: five dilated ResNet-18 branches with
cross-stitch units and DeepLab heads), which cosim does not have; only M3ViT's own count is compared.
"""

from __future__ import annotations

from functools import lru_cache

from cosim import api
from hw_models.fpga import buffer_bytes
from workloads.moe_onchip import backbone, block_onchip_bytes, cache_based, cache_slots

MIB = 2 ** 20


@lru_cache(maxsize=1)
def _vit():
    return api.load_workload("m3vit-small", task="semseg")


def inference_gmacs() -> float:
    """Multiply-accumulates (GEMM, conv, attention) of one single-task inference, in G."""
    return sum(op.macs * op.count for op in _vit().ops) / 1e9


@lru_cache(maxsize=1)
def onchip_mib() -> dict[str, float]:
    """On-chip memory of one MoE block in MiB: ``naive`` (all experts) and ``reordered`` (CR)."""
    return {scheme: block_onchip_bytes(_vit(), scheme)["total"] / MIB for scheme in ("naive", "reordered")}


@lru_cache(maxsize=1)
def cr_vs_cache():
    """``(slots, cr, cached)``: expert slots of the cache design and both designs' simulation results."""
    hw = api.load_hardware("ZCU104")
    body = backbone(_vit())
    slots = cache_slots(body, buffer_bytes(hw.spec))
    cr, cached = api.simulate(hw, body), api.simulate(hw, cache_based(body, slots))
    if not (cr.feasible and cached.feasible):
        raise RuntimeError(f"M3ViT setup is infeasible on ZCU104: {cr.reason or cached.reason}")
    return slots, cr, cached


MODEL_VALUES = {
    "m3vit-01/m3vit-gmacs": inference_gmacs,
    "m3vit-02/naive": lambda: onchip_mib()["naive"],
    "m3vit-02/reordered": lambda: onchip_mib()["reordered"],
    "m3vit-02": lambda: onchip_mib()["naive"] / onchip_mib()["reordered"],
    "m3vit-03/latency": lambda: cr_vs_cache()[2].latency_s / cr_vs_cache()[1].latency_s,
    "m3vit-03/energy": lambda: cr_vs_cache()[2].energy_j / cr_vs_cache()[1].energy_j,
    "m3vit-03/cr-latency": lambda: cr_vs_cache()[1].latency_s * 1e3,
    "m3vit-03/cache-latency": lambda: cr_vs_cache()[2].latency_s * 1e3,
}
