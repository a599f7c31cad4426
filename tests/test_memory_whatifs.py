"""What-if regressions of the memory-side kinds (bank PIM, Logic-PIM, IoT clusters): each parameter is read by the
physics it describes, and the bugs the metamorphic tests found stay fixed."""

from __future__ import annotations

import numpy as np
import pytest

from cosim.api import load_hardware
from cosim.engine import evaluate_points
from hw_models.iot import IotCycles
from hw_models.logic_pim import P as LP
from hw_models.pim import P as PP, PIMTiming
from hw_models.preset import HardwareConfigError
from workloads import Op, Workload


def _op(name, kind, dims, dtype="fp16", **tags):
    bits = {"fp16": 16, "int8": 8, "fp32": 32}[dtype]
    return Op(name, kind, dims, act_bits=bits, weight_bits=bits, out_bits=bits, dtype=dtype, tags=tags)


def _latency(preset, wl, overrides_list):
    hw = load_hardware(preset)
    stack = np.vstack([load_hardware(preset, o).params for o in overrides_list])
    return np.asarray(evaluate_points(hw, wl, stack, "latency")["latency_s"], dtype=float)


DECODE = Workload("decode", [_op("decode", "attention", {"batch": 8, "heads": 8, "kv_heads": 2, "q_len": 1,
                                                        "kv_len": 2048, "head_dim": 128, "causal": 1,
                                                        "kv_cache": 1})], item_unit="item", items=1)


def test_pim_tck_is_read_timings_are_whole_clocks():
    """tCK was accepted and never read on HBM-PIM: now every timing is a whole number of clocks."""
    base = load_hardware("Bank-PIM-Duplex-baseline").params
    slower = load_hardware("Bank-PIM-Duplex-baseline", {"timing.tck_ns": 1.0}).params
    assert base[PP["t_rcd"]] == pytest.approx(19 * 0.764e-9)  # ceil(14 / 0.764) = 19 clocks
    assert slower[PP["t_rcd"]] == pytest.approx(14e-9)
    t = _latency("HBM-PIM-Aquabolt-XL", DECODE, [{}, {"timing.tck_ns": 1.2}])
    assert t[1] != t[0]


def test_pim_tccd_s_and_cl_are_not_parameters():
    """tCCD_S and CL have no role (all-bank PIM commands are spaced by tCCD_L; bus traffic is bounded by the pins):
    they were accepted and ignored, now they are rejected."""
    assert "tccd_s_ns" not in PIMTiming.model_fields and "cl_ns" not in PIMTiming.model_fields
    with pytest.raises(HardwareConfigError):
        load_hardware("NeuPIMs-PIM", {"timing.tccd_s_ns": 2.0})


def test_pim_page_holds_whole_columns():
    """A page 0.1 % longer than 16 columns was billed a 17th column per row (+6 % latency): rows hold whole columns."""
    t = _latency("NeuPIMs-PIM", DECODE, [{}, {"organization.page_bytes": 1025}])
    assert t[1] == pytest.approx(t[0], rel=1e-12)
    with pytest.raises(HardwareConfigError, match="page_bytes"):
        load_hardware("NeuPIMs-PIM", {"organization.page_bytes": 16})


def test_pim_tfaw_counts_a_channels_rows():
    """tFAW limits the rows one channel opens: with fewer rows than banks, the busiest channel opens
    ceil(rows / channels) of them, not a whole bank's worth on every bank (more banks made it slower)."""
    short = Workload("short", [_op("s", "attention", {"batch": 8, "heads": 8, "kv_heads": 8, "q_len": 1, "kv_len": 2,
                                                      "head_dim": 64, "causal": 1, "kv_cache": 1})],
                     item_unit="item", items=1)
    per_bank = {"organization.command_issue": "per_bank"}  # all-bank issue opens every bank of a channel by design
    t = _latency("NeuPIMs-PIM", short, [per_bank, {**per_bank, "organization.banks_per_channel": 64}])
    assert t[1] <= t[0]


def test_logic_pim_output_buffer_limits_the_row_block():
    """The output buffer was never read: rows whose outputs do not fit it are another pass over the weights."""
    gemm = Workload("gemm", [_op("g", "matmul", {"m": 1024, "n": 1024, "k": 1024, "batch": 1}, weight=True)],
                    item_unit="item", items=1)
    hw = load_hardware("Duplex-Logic-PIM")
    stack = np.vstack([hw.params, load_hardware("Duplex-Logic-PIM", {"buffers.output_buffer_mib": 0.25}).params])
    e = np.asarray(evaluate_points(hw, gemm, stack, "latency")["energy_j"], dtype=float)
    assert e[1] > e[0]


def test_logic_pim_spills_only_the_scores_that_do_not_fit():
    """Scores one byte over the softmax buffer spilled all of them (a cliff): now only the excess spills."""
    prefill = Workload("prefill", [_op("p", "attention", {"batch": 1, "heads": 8, "kv_heads": 8, "q_len": 64,
                                                          "kv_len": 512, "head_dim": 64, "causal": 0,
                                                          "kv_cache": 0})], item_unit="item", items=1)
    fits = 64 * 512 * 4 / 1024  # KiB of one head's fp32 scores
    hw = load_hardware("Duplex-Logic-PIM")
    stack = np.vstack([load_hardware("Duplex-Logic-PIM", {"buffers.softmax_buffer_kib": k}).params
                       for k in (fits, fits * 0.999)])
    e = np.asarray(evaluate_points(hw, prefill, stack, "latency")["energy_j"], dtype=float)
    # the 131 B excess of each of the 8 heads is written and read back (2 KB at 3.45 pJ/bit) and opens one 1 KB row
    # each way, whose activation (1.21 pJ/bit) is paid whole: 0.2 %, not the whole 1 MB of scores
    excess = 64 * 512 * 4 * 0.001
    step = 2 * 8 * excess * 3.45e-12 * 8 + 2 * 8 * (1024 - excess) * 1.21e-12 * 8
    assert e[1] - e[0] == pytest.approx(step, rel=1e-6)
    assert e[1] / e[0] - 1 < 3e-3


def test_logic_pim_bandwidth_and_idle_power_follow_the_stacks():
    """Derived per stack: a sixth stack brings its bandwidth and its logic die's idle power."""
    six = load_hardware("Duplex-Logic-PIM", {"compute.stacks": 6}).params
    five = load_hardware("Duplex-Logic-PIM").params
    assert five[LP["external_bw"]] == pytest.approx(3350e9) and five[LP["idle_w"]] == 5
    assert six[LP["external_bw"]] == pytest.approx(6 * 670e9) and six[LP["idle_w"]] == 6


def test_iot_has_no_unused_scalar_mac_class():
    """cycles.mac was accepted and never read (int GEMMs use the SIMD dot product, float GEMMs the FMA)."""
    assert "mac" not in IotCycles.model_fields
