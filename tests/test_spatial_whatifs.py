"""What-ifs on spatial and FPGA presets that the metamorphic tests found wrong: derived values follow their inputs,
parameters without a role are gone, resource-only parameters can make a design infeasible, and a buffer no tile
fits makes the point infeasible with its reason."""

import numpy as np
import pytest

from cosim.engine import simulate
from hw_models.fpga import P as FP
from hw_models.fpga import to_spatial
from hw_models.hardware import load_hardware
from hw_models.preset import HardwareConfigError
from hw_models.spatial import P
from sim_checks import single_gemm


def gemm(m=1024, n=1024, k=1024, dtype="int8"):
    return single_gemm(m, n, k, dtype)


@pytest.mark.parametrize("preset,path", [("SCALE-Sim-32x32", "memory.register_bytes_per_pe"),
                                         ("Eyeriss-like", "memory.register_bytes_per_pe"),
                                         ("ZCU104", "design.register_bytes_per_pe")])
def test_register_size_is_not_a_parameter(preset, path):
    # It was accepted and never read: a PE holds one stationary operand by construction of the dataflows.
    with pytest.raises(HardwareConfigError, match="register_bytes_per_pe"):
        load_hardware(preset, {path: 2})


@pytest.mark.parametrize("preset", ["TPUv4-core-like", "NeuPIMs-NPU"])
def test_buffer_ports_follow_both_array_sides(preset):
    # A weight-stationary array takes one input per row and emits one output per column each cycle; the port width
    # used to follow the columns only (2048 B/cycle on a 4 x 256x128 TPUv4 core instead of 3072).
    base = load_hardware(preset)
    tall = load_hardware(preset, {"compute.pe_rows": 256})
    arrays = base.spec.compute.arrays
    assert tall.params[P["gb_bw_bytes_per_cycle"]] == arrays * (256 + 128) * 2
    assert base.params[P["gb_bw_bytes_per_cycle"]] == arrays * (128 + 128) * 2


def test_packed_int8_rate_follows_the_unpacked_rate():
    # WP486 packing doubles the DSP's int8 rate; a what-if on the unpacked rate used to leave the packed one at 2.
    hw = load_hardware("ZCU104", {"part.macs_per_dsp_per_cycle.int8": 2})
    assert to_spatial(hw.spec).compute.macs_per_pe_per_cycle.int8 == 4
    assert to_spatial(load_hardware("ZCU104").spec).compute.macs_per_pe_per_cycle.int8 == 2
    faster = simulate(hw, gemm()).latency_s
    assert faster < simulate(load_hardware("ZCU104"), gemm()).latency_s


def test_uram_power_only_where_the_part_has_uram():
    # ZCU102's part has no URAM: its URAM port power had no role; it is required only when the part has URAM.
    assert load_hardware("ZCU102").spec.power.uram_port_uw_per_mhz is None
    with pytest.raises(HardwareConfigError, match="uram_port_uw_per_mhz"):
        load_hardware("ZCU102", {"part.uram_blocks": 10})
    assert load_hardware("ZCU102", {"part.uram_blocks": 10, "power.uram_port_uw_per_mhz": 40}).params[
        FP["uram_available"]] == 10
    r = simulate(load_hardware("ZCU102", {"design.buffer_uram_blocks": 1}), gemm())
    assert not r.feasible and "URAM blocks 1 > 0 available" in r.reason


@pytest.mark.parametrize("path,value,resource", [("design.control_luts", 3e6, "LUTs"),
                                                 ("design.control_ffs", 4e6, "flip-flops"),
                                                 ("design.control_bram36_tiles", 1600, "BRAM36 tiles"),
                                                 ("part.flip_flops", 4608, "flip-flops")])
def test_resource_only_parameters_decide_feasibility(path, value, resource):
    r = simulate(load_hardware("ZCU104", {path: value}), gemm())
    assert not r.feasible and resource in r.reason


@pytest.mark.parametrize("preset,overrides", [
    ("SCALE-Sim-32x32", {"memory.global_buffer_kib": 0.001}),
    ("TPU-like", {"memory.global_buffer_kib": 1}),
    ("Eyeriss-like", {"memory.global_buffer_kib": 0.01}),
    ("ZCU104", {"design.buffer_bram36_tiles": 0, "design.buffer_uram_blocks": 0}),
    ("Alveo-U250", {"design.buffer_bram36_tiles": 1, "design.buffer_uram_blocks": 0}),
])
def test_buffer_no_tile_fits_is_infeasible_not_free(preset, overrides):
    r = simulate(load_hardware(preset, overrides), gemm())
    assert not r.feasible
    assert "no legal mapping" in r.reason and "buffers too small" in r.reason
    assert np.isnan(r.latency_s) and np.isnan(r.energy_j)


PER_COLUMN = {"SCALE-Sim-32x32": lambda c: c.pe_cols, "Eyeriss-like": lambda c: c.pe_cols,
              "TPU-like": lambda c: c.pe_cols, "TPUv4-core-like": lambda c: 2 * c.arrays * c.pe_cols}


@pytest.mark.parametrize("preset,lanes", PER_COLUMN.items(), ids=list(PER_COLUMN))
def test_vector_lanes_taken_per_column_follow_the_columns(preset, lanes):
    # The presets take one vector lane per array column (an assumption stated in each source); a narrower array used
    # to keep the old lane count.
    hw = load_hardware(preset, {"compute.pe_cols": 8})
    c = hw.spec.compute
    assert c.vector_lanes == lanes(c)
    assert hw.params[P["vector_ops_per_cycle"]] == lanes(c) * c.vector_ops_per_lane_per_cycle
