"""The integer tensor-core path of the GPU model: W8A8 GEMMs run at the preset's int8 tensor peak (int32
accumulation), W4A8 streams 4-bit weights and computes in int8 (dequantised to int8 on the way to the tensor cores),
against hand calculations from the presets' peaks."""

from __future__ import annotations

import pytest

from cosim.api import load_hardware, simulate
from workloads.ir import Op, Workload


def _gemm(m: int, n: int, k: int, fmt: str) -> Workload:
    act, weight, dtype = {"fp16": (16, 16, "fp16"), "W8A8": (8, 8, "int8"), "W4A8": (8, 4, "int8")}[fmt]
    wl = Workload(f"{fmt} {m}x{n}x{k}", item_unit="item", items=1)
    wl.add(Op("mm", "matmul", {"m": m, "n": n, "k": k, "batch": 1}, act_bits=act, weight_bits=weight, out_bits=16,
              dtype=dtype, tags={"weight": True}))
    return wl


@pytest.mark.parametrize("preset", ["RTX-3090", "RTX-4080", "A100-SXM4-80GB"])
def test_a_large_w8a8_gemm_gains_the_int8_to_fp16_peak_ratio(preset):
    """Compute-bound: time = FLOPs / (peak x pipe efficiency), so fp16 / int8 time is the ratio of the published
    peaks: 284/71 = 4 on the RTX 3090 and 389.9/97.5 = 4 on the RTX 4080 (GeForce fp16 at the FP32-accumulate rate),
    624/312 = 2 on the A100. Launch and per-wave overheads keep it within 3 %."""
    hw = load_hardware(preset)
    t = hw.spec.compute.tensor_tflops
    fp16, int8 = (simulate(hw, _gemm(8192, 8192, 8192, f)).latency_s for f in ("fp16", "W8A8"))
    assert fp16 / int8 == pytest.approx(t.int8 / t.fp16, rel=0.03)


def test_the_rtx_int8_peaks_are_the_whitepaper_totals():
    assert load_hardware("RTX-3090").spec.compute.tensor_tflops.int8 == pytest.approx(284)
    assert load_hardware("RTX-4080").spec.compute.tensor_tflops.int8 == pytest.approx(389.9)
    assert load_hardware("RTX-3090").spec.memory.hbm_bandwidth_gbps == pytest.approx(936)
    assert load_hardware("RTX-4080").spec.memory.hbm_bandwidth_gbps == pytest.approx(716.8)


def test_w4a8_computes_at_the_int8_rate():
    hw = load_hardware("RTX-4080")
    w8, w4 = (simulate(hw, _gemm(8192, 8192, 8192, f)) for f in ("W8A8", "W4A8"))
    assert w8.ops["bound"].iloc[0] == w4.ops["bound"].iloc[0] == "compute"
    assert w4.latency_s == pytest.approx(w8.latency_s, rel=1e-9)


def test_a_w4a8_gemv_streams_half_the_weight_bytes_of_w8a8():
    """Memory-bound GEMV: DRAM bytes = weights (k x n at 1 or 0.5 B) + int8 input + 16-bit output."""
    hw = load_hardware("RTX-3090")
    k = n = 8192
    w8, w4 = (simulate(hw, _gemm(1, n, k, f)).ops.iloc[0] for f in ("W8A8", "W4A8"))
    assert w8["dram_bytes"] == pytest.approx(k * n * 1 + k + 2 * n)
    assert w4["dram_bytes"] == pytest.approx(k * n * 0.5 + k + 2 * n)
    bw = hw.spec.memory.hbm_bandwidth_gbps * 1e9 * hw.spec.memory.achieved_bandwidth_fraction
    assert w8["time_s"] - w4["time_s"] == pytest.approx(k * n * 0.5 / bw, rel=0.02)
