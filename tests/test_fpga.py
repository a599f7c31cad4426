"""FPGA model: resource feasibility (with the overflowing resource as the reason, also in sweeps), int8 packing,
the estimator-style power breakdown, and monotonicity of latency and energy in the directions physics says."""

import numpy as np
import pytest

from hw_models.hardware import load_hardware
from cosim.engine import simulate
from hw_models.fpga import P, power_breakdown, to_spatial, used_resources
from sim_checks import single_gemm


def gemm(m=2048, n=2048, k=2048, dtype="fp16"):
    return single_gemm(m, n, k, dtype)


@pytest.mark.parametrize("preset", ["ZCU104", "ZCU102", "Alveo-U250"])
def test_presets_fit_their_parts(preset):
    hw = load_hardware(preset)
    assert simulate(hw, gemm(512, 512, 512)).feasible
    for r in ("dsp", "bram36", "uram", "lut", "ff"):
        assert hw.params[P[f"{r}_used"]] <= hw.params[P[f"{r}_available"]]


def test_dsp_overflow_rejected_with_reason():
    r = simulate(load_hardware("ZCU104", {"design.pe_rows": 64}), gemm())
    assert not r.feasible
    assert "DSP slices 3072 > 1728 available" in r.reason


def test_bram_overflow_rejected_with_reason():
    r = simulate(load_hardware("ZCU104", {"design.buffer_bram36_tiles": 400}), gemm())
    assert not r.feasible and "BRAM36 tiles 416 > 312 available" in r.reason
    r = simulate(load_hardware("ZCU102", {"design.buffer_uram_blocks": 1}), gemm())
    assert not r.feasible and "URAM blocks 1 > 0 available" in r.reason


def test_sweep_records_infeasible_designs(tmp_path):
    from cosim.config import SweepConfig
    from cosim.runner import run_sweep

    cfg = SweepConfig(name="fpga", hardware=[{"preset": "ZCU104", "grid": {"design.pe_rows": [16, 64],
                                                                           "design.buffer_bram36_tiles": [128, 400]}}],
                      workloads=[{"model": "ds-cnn-s"}])
    res = run_sweep(cfg, tmp_path / "out", progress=False).results
    assert len(res) == 4 and res["feasible"].sum() == 1
    bad = res[~res["feasible"]]
    assert bad["reason"].str.startswith("resources:").all()
    assert bad["reason"].str.contains("DSP").sum() == 2 and bad["reason"].str.contains("BRAM36").sum() == 2


def test_int8_packing_doubles_peak():
    packed = load_hardware("ZCU104")
    plain = load_hardware("ZCU104", {"design.int8_packing": False})
    assert to_spatial(packed.spec).compute.macs_per_pe_per_cycle.int8 == 2
    t_packed = simulate(packed, gemm(dtype="int8")).latency_s
    t_plain = simulate(plain, gemm(dtype="int8")).latency_s
    assert 1.6 < t_plain / t_packed <= 2.0 + 1e-9


def test_power_breakdown_scales_with_resources_and_clock():
    base = load_hardware("ZCU104").spec
    p = power_breakdown(base)
    u = used_resources(base)
    assert p["dsp"] == pytest.approx(u["dsp"] * 12e-6 * 300 * 0.125)
    fast = power_breakdown(load_hardware("ZCU104", {"design.clock_mhz": 400}).spec)
    for key in ("dsp", "bram36", "uram", "lut", "ff"):
        assert fast[key] == pytest.approx(p[key] * 400 / 300)
    assert fast["static"] == p["static"]


def test_energy_is_sum_of_parts():
    r = simulate(load_hardware("ZCU104"), gemm())
    parts = sum(r.totals[f"energy_{c}_j"] for c in ("compute", "onchip", "dram", "interconnect", "static"))
    assert r.energy_j == pytest.approx(parts, rel=1e-12)
    assert r.ops["energy_j"].sum() == pytest.approx(r.energy_j - 0.0, rel=1e-9)
    assert r.energy_static_j == pytest.approx(1.0 * r.latency_s)


@pytest.mark.parametrize("shape", [(2048, 2048, 2048), (1024, 3072, 768), (4096, 512, 1536)])
def test_more_pes_never_slower_when_compute_bound(shape):
    times = [simulate(load_hardware("ZCU104", {"design.pe_rows": r, "design.pe_cols": c}), gemm(*shape)).latency_s
             for r, c in ((8, 8), (16, 16), (16, 32), (32, 32), (32, 48))]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(times, times[1:]))


@pytest.mark.parametrize("shape", [(2048, 2048, 2048), (1, 4096, 4096), (64, 1024, 4096)])
def test_clock_and_ddr_bandwidth_never_slower(shape):
    clocks = [simulate(load_hardware("ZCU104", {"design.clock_mhz": f}), gemm(*shape)).latency_s
              for f in (100, 200, 300, 400)]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(clocks, clocks[1:]))
    bws = [simulate(load_hardware("ZCU104", {"part.ddr_bandwidth_gbps": bw}), gemm(*shape)).latency_s
           for bw in (4.8, 9.6, 19.2, 38.4)]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(bws, bws[1:]))


def test_ddr_bound_gemv_energy_grows_with_ddr_energy():
    lo = simulate(load_hardware("ZCU104", {"power.ddr_pj_per_bit": 10}), gemm(1, 4096, 4096))
    hi = simulate(load_hardware("ZCU104", {"power.ddr_pj_per_bit": 20}), gemm(1, 4096, 4096))
    assert hi.energy_dram_j == pytest.approx(2 * lo.energy_dram_j)
    assert np.isclose(hi.latency_s, lo.latency_s)
