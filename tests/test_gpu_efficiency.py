"""The GPU efficiency mechanism: achieved tensor-pipe fraction, per-wave thread-block overhead and achieved DRAM
bandwidth set achieved throughput; the TDP is only a cap; the parameters are declared fittable with physical bounds;
no preset energy is the (TDP - idle) / peak artifact."""

from __future__ import annotations

import math

import pytest
import yaml

from cosim.api import load_hardware, simulate
from cosim.calibration.parameters import fit_parameters
from hw_models.preset import PRESET_DIR
from workloads.ir import Op, Workload

GPUS = ["A100-SXM4-40GB", "A100-SXM4-80GB", "H100-SXM5-80GB", "H200-SXM-141GB", "Jetson-AGX-Orin-64GB", "RTX-3090",
        "RTX-4080"]


def _gemm(m: int, n: int, k: int, dtype: str = "fp16") -> Workload:
    wl = Workload(f"gemm {m}x{n}x{k}")
    wl.add(Op("mm", "matmul", {"m": m, "n": n, "k": k, "batch": 1}, tags={"weight": True}, dtype=dtype))
    return wl


def _stream(elements: int) -> Workload:
    wl = Workload(f"add {elements}")
    wl.add(Op("add", "elementwise", {"elements": elements, "inputs": 2}, dtype="fp16"))
    return wl


def _tflops(hw, wl) -> float:
    r = simulate(hw, wl)
    return r.ops["flops"].sum() / r.latency_s / 1e12


@pytest.mark.parametrize("preset", GPUS)
def test_packed_rates_are_the_achieved_ones(preset):
    hw = load_hardware(preset)
    spec = hw.spec
    assert hw.param("tensor_fp16") == pytest.approx(
        spec.compute.tensor_tflops.fp16 * 1e12 * spec.runtime.tensor_pipe_efficiency)
    assert hw.param("hbm_bw") == pytest.approx(
        spec.memory.hbm_bandwidth_gbps * 1e9 * spec.memory.achieved_bandwidth_fraction)
    assert 0 < spec.runtime.tensor_pipe_efficiency < 1 and 0 < spec.memory.achieved_bandwidth_fraction < 1
    assert spec.runtime.cta_overhead_cycles > 0


@pytest.mark.parametrize("preset,dtype", [("A100-SXM4-80GB", "int8"), ("Jetson-AGX-Orin-64GB", "fp16")])
def test_a_large_gemm_below_the_cap_runs_at_the_pipe_efficiency(preset, dtype):
    hw = load_hardware(preset)
    r = simulate(hw, _gemm(8192, 8192, 8192, dtype))
    assert r.ops["bound"].iloc[0] == "compute"
    ceiling = getattr(hw.spec.compute.tensor_tflops, dtype) * hw.spec.runtime.tensor_pipe_efficiency
    assert 0.97 * ceiling < _tflops(hw, _gemm(8192, 8192, 8192, dtype)) <= ceiling * (1 + 1e-9)


@pytest.mark.parametrize("preset", GPUS)
def test_the_tdp_stays_a_cap(preset):
    hw = load_hardware(preset)
    r = simulate(hw, _gemm(8192, 8192, 8192))
    ceiling = hw.spec.compute.tensor_tflops.fp16 * hw.spec.runtime.tensor_pipe_efficiency
    assert _tflops(hw, _gemm(8192, 8192, 8192)) <= ceiling * (1 + 1e-9)
    assert r.energy_j / r.latency_s <= hw.spec.power.tdp_w * (1 + 1e-9)
    if r.ops["bound"].iloc[0] == "power":
        assert r.energy_j / r.latency_s == pytest.approx(hw.spec.power.tdp_w, rel=1e-6)


def test_the_pipe_efficiency_scales_compute_bound_gemm_throughput():
    wl = _gemm(8192, 8192, 8192)
    base = _tflops(load_hardware("A100-SXM4-80GB"), wl)
    slower = _tflops(load_hardware("A100-SXM4-80GB", {"runtime.tensor_pipe_efficiency": 0.45}), wl)
    assert slower == pytest.approx(base / 2, rel=0.05)


def test_thread_block_overhead_makes_short_k_less_efficient():
    # Compute-bound shapes on the A100 (neither the DRAM, L2 nor the power cap binds them).
    hw = load_hardware("A100-SXM4-80GB")
    free = load_hardware("A100-SXM4-80GB", {"runtime.cta_overhead_cycles": 0.0})
    short, deep = _gemm(2048, 2048, 256), _gemm(4096, 4096, 8192)
    loss_short = 1 - _tflops(hw, short) / _tflops(free, short)
    loss_deep = 1 - _tflops(hw, deep) / _tflops(free, deep)
    assert loss_short > 5 * loss_deep and loss_short > 0.02
    assert loss_deep >= 0.0


@pytest.mark.parametrize("preset", GPUS)
def test_streaming_runs_at_the_achieved_bandwidth(preset):
    hw = load_hardware(preset)
    wl = _stream(1 << 28)
    r = simulate(hw, wl)
    bw = hw.spec.memory.hbm_bandwidth_gbps * 1e9 * hw.spec.memory.achieved_bandwidth_fraction
    floor = wl.ops[0].bytes / bw
    assert floor <= r.latency_s <= floor * 1.05 + 2 * hw.spec.runtime.kernel_launch_us * 1e-6


def test_fittable_parameters_are_declared_and_bounded_by_physics():
    hw = load_hardware("H100-SXM5-80GB")
    params = {p.path: p for p in fit_parameters(hw)}
    assert {"runtime.tensor_pipe_efficiency", "runtime.cta_overhead_cycles",
            "memory.achieved_bandwidth_fraction"} <= set(params)
    for fraction in ("runtime.tensor_pipe_efficiency", "memory.achieved_bandwidth_fraction"):
        assert 0 < params[fraction].lower < 1e-6 and params[fraction].upper == 1.0
    assert params["runtime.cta_overhead_cycles"].lower == 0.0
    assert not any(p.startswith("compute.") for p in params)  # never a datasheet peak
    for preset in GPUS:
        assert [p.path for p in fit_parameters(load_hardware(preset))] == list(params)


@pytest.mark.parametrize("preset", GPUS)
def test_no_energy_is_derived_from_the_tdp(preset):
    data = yaml.safe_load((PRESET_DIR / f"{preset}.yaml").read_text())
    for group in ("e_tensor_pj_per_flop", "e_vector_pj_per_flop"):
        for dtype, leaf in data["energy"][group].items():
            assert "TDP" not in leaf["source"] and "upper bound" not in leaf["source"], (preset, group, dtype)
            assert leaf["source"].startswith(("assumption:", "derived:")) or "Horowitz" in leaf["source"]
    for leaf in ("tensor_pipe_efficiency", "cta_overhead_cycles"):
        assert data["runtime"][leaf]["source"]
    assert data["memory"]["achieved_bandwidth_fraction"]["source"]
    assert not math.isnan(load_hardware(preset).param("cta_overhead_cycles"))
