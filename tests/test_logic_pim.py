"""Logic-PIM kernel: roofline, energy as the sum of its parts, and placement by Op/B in the Duplex device."""

from __future__ import annotations

import numpy as np
import pytest

import cosim
from hw_models.cost import N_OUT, O_BYTES_OFFCHIP, O_E_COMPUTE, O_E_OFFCHIP, O_E_ONCHIP, O_E_LINK, O_E_STATIC, O_TIME
from workloads.ir import Op, Workload
from workloads.table import op_table


@pytest.fixture(scope="module")
def lpim():
    return cosim.load_hardware("Duplex-Logic-PIM")


def _cost(hw, op):
    from mappings.driver import map_and_cost

    return map_and_cost("logic_pim", op_table(Workload("t", [op])), hw.params[None, :], 0)[0, 0]


def test_preset_matches_published_peaks(lpim):
    spec = lpim.spec
    assert spec.peak_flops / spec.compute.stacks == pytest.approx(21.3e12, rel=0.01)  # 21.3 TFLOPS/stack
    assert spec.internal_bandwidth_bytes_s == pytest.approx(13.4e12)
    assert spec.peak_flops / spec.internal_bandwidth_bytes_s == pytest.approx(8.0, rel=0.01)  # sized for 8 Op/B


@pytest.mark.parametrize("m", [1, 4, 8, 16, 64, 256])
@pytest.mark.parametrize("shape", [(4096, 14336), (14336, 4096), (128, 8192)])
def test_gemm_never_beats_roofline(lpim, m, shape):
    k, n = shape
    op = Op("g", "matmul", {"m": m, "n": n, "k": k, "batch": 1}, tags={"weight": True})
    out = _cost(lpim, op)
    peak = lpim.spec.peak_flops
    bw = lpim.spec.internal_bandwidth_bytes_s
    assert out[O_TIME] >= max(op.flops / peak, op.bytes / bw) * (1 - 1e-9)
    assert out[O_TIME] <= 2.5 * max(op.flops / peak, op.bytes / bw)  # tiling overheads stay bounded


def test_gemv_is_bandwidth_bound_and_large_gemm_compute_bound(lpim):
    gemv = _cost(lpim, Op("v", "matmul", {"m": 1, "n": 14336, "k": 4096, "batch": 1}, tags={"weight": True}))
    big = _cost(lpim, Op("b", "matmul", {"m": 512, "n": 14336, "k": 4096, "batch": 1}, tags={"weight": True}))
    # whole 1 KB rows: 12.23 ns of data per row on a pseudo-channel's 83.75 GB/s share, plus a 1 ns rank switch,
    # stretched by all-bank refresh (450 ns of every 3.9 us): 81.7 % of the TSV peak
    efficiency = (1024 / 83.75e9) / (1024 / 83.75e9 + 1e-9) * (1 - 450 / 3900)
    # (the 8 KB input row and the 28 KB of outputs, written with bus turnarounds, add 0.03 %)
    assert gemv[O_TIME] == pytest.approx(gemv[O_BYTES_OFFCHIP] / lpim.spec.internal_bandwidth_bytes_s / efficiency,
                                         rel=5e-4)
    assert big[O_TIME] > big[O_BYTES_OFFCHIP] / lpim.spec.internal_bandwidth_bytes_s / efficiency


def test_activation_panel_larger_than_buffer_restreams_weights(lpim):
    fits = _cost(lpim, Op("a", "matmul", {"m": 32, "n": 4096, "k": 4096, "batch": 1}, tags={"weight": True}))
    spills = _cost(lpim, Op("a", "matmul", {"m": 512, "n": 4096, "k": 4096, "batch": 1}, tags={"weight": True}))
    w = 4096 * 4096 * 2
    assert fits[O_BYTES_OFFCHIP] == pytest.approx(w + 32 * 4096 * 4)
    assert spills[O_BYTES_OFFCHIP] > 2 * w


def test_energy_is_sum_of_parts(lpim):
    op = Op("attn", "attention", {"batch": 16, "heads": 32, "kv_heads": 8, "q_len": 1, "kv_len": 2048,
                                  "head_dim": 128, "causal": 1, "kv_cache": 1})
    out = _cost(lpim, op)
    p = lpim.params
    from hw_models.logic_pim import P

    assert out[O_E_OFFCHIP] == pytest.approx(out[O_BYTES_OFFCHIP] * p[P["e_dram_byte"]])
    assert out[O_E_STATIC] == pytest.approx(out[O_TIME] * p[P["idle_w"]])
    assert out[O_E_LINK] == 0.0
    res = cosim.simulate(lpim, Workload("w", [op], items=16.0))
    assert res.energy_j == pytest.approx(sum(out[s] for s in (O_E_COMPUTE, O_E_ONCHIP, O_E_OFFCHIP, O_E_STATIC)))
    # The KV cache never crosses the PHY: a bit costs activation + on-die movement only (1.21 + 2.24 pJ/bit).
    assert p[P["e_dram_byte"]] == pytest.approx(3.45e-12 * 8)


def test_collective_has_no_mapping(lpim):
    op = Op("ar", "collective", {"elements": 1024, "group": 4}, tags={"collective": "all_reduce"})
    assert not np.isfinite(_cost(lpim, op)[O_TIME])


def test_duplex_places_by_op_per_byte():
    """Low-Op/B GEMMs go to the Logic-PIM, high-Op/B GEMMs to the xPU."""
    duplex = cosim.load_hardware("Duplex")
    ops = [Op("gemv", "matmul", {"m": 4, "n": 8192, "k": 8192, "batch": 1}, tags={"weight": True}),
           Op("gemm", "matmul", {"m": 4096, "n": 8192, "k": 8192, "batch": 1}, tags={"weight": True})]
    res = cosim.simulate(duplex, Workload("w", ops, items=1.0))
    units = dict(zip(res.ops["op"], res.ops["unit"]))
    assert units == {"gemv": "lpim", "gemm": "xpu"}
    assert res.ops["split_unit"].eq("").all()
