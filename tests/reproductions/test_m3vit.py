"""M3ViT (NeurIPS'22) on a ZCU104: computation reordering (CR) vs naive on-chip memory, and CR vs the
memory-constrained cache-based design (paper_claims m3vit-02, m3vit-03), through the FPGA model users run.

Setup from the paper: MoE ViT-small (16 experts, top-4, expert width 384; workload ``m3vit-small``), single-task
inference on PASCAL-Context (task ``semseg``), batch 1, ZCU104 at 300 MHz, layer-wise design. The FPGA latency/energy
are for the ViT backbone: 69 ms at 300 MHz is reachable for the backbone's ~33 GMAC on ~1.7k DSPs but not for the
whole network's 84 GMAC (the PUP decoder head adds ~51 GMAC) — our inference, stated here. The cache-based design gets
the expert slots the ZCU104 default design's 4.5 MiB buffer leaves next to the block's attention weights and token
buffers (3 of 16), and fetches a missing expert from DDR per token.

- m3vit-02 (memory): reproduced within 2 % (model 11.66 → 4.90 MiB, 2.38×).
- m3vit-03 (9.23× latency and energy): MISSED. The model gives CR 158.5 ms vs cache-based 840 ms (5.30× latency,
  6.24× energy). The gap is the attention: the spatial template runs ViT attention (1025 tokens, head_dim 32) at
  ~17 % of peak and spills the score matrices to DDR (73.7 ms of CR's 158.5 ms), where the paper's design keeps
  12 heads' scores on chip; the extra expert traffic of the cache design (~680 ms) is in line with the paper's
  637 − 69 = 568 ms. Energy is the model's (static + per-resource dynamic + DDR), not the paper's fixed 10 W.
  Asserted as the model's own numbers with noise-only tolerances (1 %); no per-paper factor.
"""

import pytest

from hw_models.hardware import load_hardware
from cosim.engine import simulate
from hw_models.fpga import buffer_bytes
from workloads import load_workload
from workloads.moe_onchip import backbone, block_onchip_bytes, cache_based, cache_slots

MIB = 2 ** 20


@pytest.fixture(scope="module")
def vit():
    return load_workload("m3vit-small", task="semseg")


def test_onchip_memory_reduction(vit):
    naive = block_onchip_bytes(vit, "naive")["total"] / MIB
    cr = block_onchip_bytes(vit, "reordered")["total"] / MIB
    assert naive == pytest.approx(11.61, rel=0.02)
    assert cr == pytest.approx(4.84, rel=0.02)
    assert naive / cr == pytest.approx(2.40, rel=0.02)


def test_cr_vs_cache_based_latency_energy(vit):
    hw = load_hardware("ZCU104")
    body = backbone(vit)
    slots = cache_slots(body, buffer_bytes(hw.spec))
    assert slots == 3  # 16 experts cannot all stay on chip: the baseline must cache
    cr, cached = simulate(hw, body), simulate(hw, cache_based(body, slots))
    assert cr.feasible and cached.feasible
    # The model's own numbers (the paper: 69.033 ms / 0.690 J vs 637.478 ms / 6.375 J, 9.23x); see the docstring.
    assert cr.latency_s == pytest.approx(0.1585, rel=0.01)
    assert cached.latency_s == pytest.approx(0.8403, rel=0.01)
    assert cached.latency_s / cr.latency_s == pytest.approx(5.30, rel=0.01)
    assert cached.energy_j / cr.energy_j == pytest.approx(6.24, rel=0.01)
    # Physics the claim rests on: the cache design moves far more DDR bytes, all of it expert weights.
    assert cached.ops["dram_bytes"].sum() > 10 * cr.ops["dram_bytes"].sum() / 2
