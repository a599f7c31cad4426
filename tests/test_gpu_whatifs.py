"""One-parameter what-ifs on the GPU presets whose answers physics fixes (issue 10): SMs scale the peaks, a faster
vector unit never slows a model, a shared memory no tile fits makes the point infeasible, the power cap holds and
more idle power never makes a GPU faster."""

from __future__ import annotations

import numpy as np
import pytest

from cosim.api import describe_hardware, load_hardware, load_workload, simulate
from cosim.engine import evaluate_points

H100 = "H100-SXM5-80GB"
GPUS = ["A100-SXM4-40GB", "A100-SXM4-80GB", H100, "H200-SXM-141GB", "Jetson-AGX-Orin-64GB"]


@pytest.fixture(scope="module")
def bert():
    return load_workload("bert-base", batch=8, seq_len=512)


def _latency(preset, overrides, workload):
    return simulate(load_hardware(preset, overrides), workload)


@pytest.mark.parametrize("preset", GPUS)
def test_peaks_scale_with_sm_count_and_clocks(preset):
    base = load_hardware(preset)
    half_sms = base.spec.compute.sm_count // 2
    half = load_hardware(preset, {"compute.sm_count": half_sms})
    ratio = half_sms / base.spec.compute.sm_count
    for name in base.device.param_index:
        if name.startswith(("tensor_", "vector_")) and base.param(name) > 0:
            assert half.param(name) == pytest.approx(base.param(name) * ratio, rel=1e-12), name
    slow = load_hardware(preset, {"compute.clock_mhz": base.spec.compute.clock_mhz / 2})
    assert slow.param("vector_fp32") == pytest.approx(base.param("vector_fp32") / 2, rel=1e-12)


def test_half_the_sms_makes_a_compute_bound_model_slower(bert):
    full = _latency(H100, {}, bert)
    half = _latency(H100, {"compute.sm_count": 66}, bert)
    assert half.latency_s > 1.2 * full.latency_s  # power-bound in part: not the full 2x


def test_overriding_a_derived_peak_still_works_and_shows_as_override():
    h = load_hardware(H100, {"compute.tensor_tflops.fp16": 500.0})
    assert h.param("tensor_fp16") == 500e12 * h.spec.runtime.tensor_pipe_efficiency  # packed: the achieved MMA rate
    rows = describe_hardware(H100, {"compute.tensor_tflops.fp16": 500.0}).parameters
    i = list(rows["path"]).index("compute.tensor_tflops.fp16")
    assert bool(rows["overridden"][i]) and rows["expression"][i]


def test_a_faster_vector_unit_never_slows_a_model(bert):
    stock = _latency(H100, {}, bert)
    fast = _latency(H100, {"compute.vector_tflops.fp16": 990.0}, bert)
    assert fast.latency_s <= stock.latency_s * (1 + 1e-9)
    assert fast.energy_j <= stock.energy_j * 1.01


def test_a_gemm_runs_on_the_faster_unit_with_that_units_energy(bert):
    # A vector unit faster than the tensor cores even under the power cap takes the GEMMs, at its own energy.
    h = load_hardware(H100, {"compute.vector_tflops.fp16": 4000.0, "energy.e_vector_pj_per_flop.fp16": 0.1})
    r = simulate(h, bert)
    gemms = r.ops[r.ops["kind"] == "matmul"]
    assert (gemms["flops"] / gemms["time_s"] > 989.4e12 * 0.5).any()
    assert r.latency_s < simulate(load_hardware(H100), bert).latency_s


def test_shared_memory_no_tile_fits_makes_the_point_infeasible(bert):
    r = _latency(H100, {"compute.smem_per_sm_kib": 1 / 1024}, bert)
    assert not r.feasible
    assert "mapping" in r.reason and "shared memory" in r.reason
    assert np.isnan(r.latency_s) and np.isnan(r.energy_j)


def test_power_never_exceeds_the_cap_and_idle_power_never_speeds_a_gpu(bert):
    for tdp in (80.3, 50.0):
        r = _latency(H100, {"power.tdp_w": tdp}, bert)
        assert not r.feasible and "power" in r.reason and "tdp_w" in r.reason and "idle_w" in r.reason
    base = load_hardware(H100)
    idles = [40.0, 80.3, 300.0, 650.0, 700.0, 900.0]
    stack = np.vstack([load_hardware(H100, {"power.idle_w": w}).params for w in idles])
    totals = evaluate_points(base, bert, stack)
    latency = np.asarray(totals["latency_s"], dtype=float)
    feasible = np.asarray(totals["feasible"], dtype=bool)
    assert feasible.tolist() == [True, True, True, True, False, False]
    assert all(b >= a for a, b in zip(latency[:4], latency[1:4]))
    assert (np.asarray(totals["power_w"], dtype=float)[feasible] <= 700.0 * (1 + 1e-9)).all()


def test_the_fp16_cuda_core_peak_is_reachable_within_tdp():
    # Found by the every-parameter-is-read check: the CUDA cores' energy per FLOP was the fp32 figure for every
    # datatype, so an fp16 op at the 133.8 TFLOPS peak drew 1.24 kW and the cap held it at the fp32 rate: the fp16
    # vector peak changed nothing. Now fp16 has its own energy and a CUDA-core-bound fp16 op runs at its peak, or at
    # the rate its own energy per FLOP allows within the cap, whichever is lower.
    from workloads import Op, Workload
    op = Op("poly", "elementwise", {"elements": 1 << 22, "inputs": 1, "flops_per_element": 2048}, dtype="fp16")
    wl = Workload("poly", [op])
    hw = load_hardware(H100)
    stock = simulate(hw, wl)
    slower = simulate(load_hardware(H100, {"compute.vector_tflops.fp16": 66.9}), wl)
    assert slower.latency_s > 1.5 * stock.latency_s
    within_cap = (hw.spec.power.tdp_w - hw.spec.power.idle_w) / (hw.spec.energy.e_vector_pj_per_flop.fp16 * 1e-12)
    assert op.flops / stock.latency_s > 0.9 * min(133.8e12, within_cap)
    assert within_cap > 1.5 * (hw.spec.power.tdp_w - hw.spec.power.idle_w) / (
        hw.spec.energy.e_vector_pj_per_flop.fp32 * 1e-12)  # not held to the fp32 energy's rate


def test_dram_bandwidth_follows_bus_width_and_data_rate():
    jetson = "Jetson-AGX-Orin-64GB"
    fraction = load_hardware(jetson).spec.memory.achieved_bandwidth_fraction  # packed: the achieved bandwidth
    assert load_hardware(jetson).param("hbm_bw") == pytest.approx(204.8e9 * fraction)
    assert load_hardware(jetson, {"memory.dram_data_rate_mtps": 3200}).param("hbm_bw") == pytest.approx(102.4e9 * fraction)


def _gemm(m, n, k):
    from workloads.ir import Op, Workload

    return Workload("gemm", [Op("g", "matmul", {"m": m, "n": n, "k": k, "batch": 1}, dtype="fp16",
                                tags={"weight": True})], item_unit="item", items=1)


def test_the_default_tile_bounds_search_the_shipped_candidate_set():
    from mappings.gpu_tiles import searched_tiles

    # tile_m 16..256 (5) x tile_n 32..256 (4) x split_k 1..16 (5): the set the search used before it was a parameter
    assert searched_tiles(load_hardware(H100).params) == 5 * 4 * 5


def test_tile_bounds_choose_which_tiles_the_search_may_use():
    from cosim.api import best_mappings

    gemm = _gemm(8192, 8192, 8192)
    only = {"runtime.gemm_min_tile_m": 64, "runtime.gemm_max_tile_m": 64, "runtime.gemm_min_tile_n": 128,
            "runtime.gemm_max_tile_n": 128, "runtime.gemm_max_split_k": 1}
    best = best_mappings(load_hardware(H100, only), gemm, 0, top=3)
    assert set(best["tile_m"]) == {64} and set(best["tile_n"]) == {128} and set(best["split_k"]) == {1}
    assert len(best) == 1  # one legal tile: no runners-up
    wide = best_mappings(load_hardware(H100, {"runtime.gemm_max_tile_m": 512, "runtime.gemm_max_tile_n": 512}),
                         gemm, 0, top=200)
    assert 512 in set(wide["tile_m"]) | set(wide["tile_n"])  # the widened bound admits grid tiles beyond 256
    narrow_time = simulate(load_hardware(H100, only), gemm).totals["latency_s"]
    assert simulate(load_hardware(H100), gemm).totals["latency_s"] <= narrow_time


@pytest.mark.parametrize("overrides, message", [
    ({"runtime.gemm_max_tile_m": 100}, "not on the tile grid"),
    ({"runtime.gemm_max_split_k": 3}, "not on the tile grid"),
    ({"runtime.gemm_min_tile_n": 128, "runtime.gemm_max_tile_n": 64}, "no tile is left"),
])
def test_bad_tile_bounds_are_rejected_with_the_allowed_values(overrides, message):
    from hw_models.errors import HardwareConfigError

    with pytest.raises(HardwareConfigError, match=message):
        load_hardware(H100, overrides)
