"""Bank-level PIM kernel: timing arithmetic on hand-computed cases, blocked vs dual row buffers, energy as the sum of
counted events, and the roofline (never faster than the banks' internal bandwidth allows)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import cosim
from hw_models.cost import O_E_COMPUTE, O_E_OFFCHIP, O_E_ONCHIP, O_E_LINK, O_E_STATIC, O_BYTES_IN_MEMORY, O_TIME
from mappings.driver import map_and_cost
from workloads.ir import Op
from workloads.table import op_table
from workloads.ir import Workload

# The per-bank model on one bank (banks work through their rows independently; 64 B columns, 32 activations per tFAW).
ONE_BANK = {"organization.channels": 1, "organization.banks_per_channel": 1, "organization.command_issue": "per_bank",
            "organization.column_bytes": 64, "organization.activations_per_tfaw": 32}
REFRESH = 1 / (1 - 260 / 3900)  # NeuPIMs-PIM tRFC / tREFI


def _cost(op, overrides=None):
    hw = cosim.load_hardware("NeuPIMs-PIM", overrides)
    return map_and_cost("pim", op_table(Workload(name="t", ops=[op])), hw.params[None], 0)[0, 0], hw


def _gemv_one_row(mode):
    # A 1 x 512 fp16 matrix = exactly one 1 KB row, one input vector.
    op = Op(name="g", kind="matmul", dims={"m": 1, "n": 512, "k": 1, "batch": 1})
    return _cost(op, {**ONE_BANK, "organization.mode": mode})


def test_gemv_one_row_hand_computed():
    # 16 columns of 64 B at t_col = max(tCCD_L 2 ns, 32 elements / 16 multipliers / 1 GHz = 2 ns): open time
    # max(tRAS 34, tRCD 14 + 32) = 46 ns, + tRP 14 = 60 ns; tFAW allows 32 activations per 30 ns (0.94 ns): 60 ns.
    out, _ = _gemv_one_row("dual_row_buffers")
    t_pim = 60e-9 * REFRESH
    t_io = (1 * 2 + 512 * 2) / 32e9 * REFRESH  # input and output over one 128-bit channel at 2 Gb/s per pin
    assert out[O_TIME] == pytest.approx(max(t_pim, t_io), rel=1e-9)
    blocked, _ = _gemv_one_row("blocked")
    assert blocked[O_TIME] == pytest.approx(t_pim + t_io, rel=1e-9)  # blocked: traffic and PIM exclude each other


def test_energy_is_sum_of_counted_events():
    out, hw = _gemv_one_row("dual_row_buffers")
    e = hw.spec.energy
    dram = (1 * e.e_activation_pj + 16 * e.e_column_read_pj + 1026 * 8 * e.e_io_pj_per_bit) * 1e-12
    assert out[O_E_OFFCHIP] == pytest.approx(dram, rel=1e-12)
    assert out[O_E_COMPUTE] == pytest.approx(512 * e.e_mac_pj * 1e-12, rel=1e-12)
    assert out[O_E_STATIC] == pytest.approx(hw.spec.power.static_w * out[O_TIME], rel=1e-12)
    assert out[O_E_ONCHIP] == 0.0 and out[O_E_LINK] == 0.0


def test_partial_rows_cost_a_whole_activation():
    # A head's K of 1.5 pages opens two rows: same activations as two full pages, fewer column reads.
    def attn(kv):
        return Op(name="a", kind="attention", dims={"batch": 1, "heads": 1, "kv_heads": 1, "q_len": 1, "kv_len": kv,
                                                     "head_dim": 128, "causal": 1, "kv_cache": 1})
    half, _ = _cost(attn(6), ONE_BANK)  # 6 x 128 x 2 B = 1.5 KB per matrix
    full, hw = _cost(attn(8), ONE_BANK)  # 2 KB per matrix
    e_act = hw.spec.energy.e_activation_pj * 1e-12
    assert half[O_BYTES_IN_MEMORY] == 2 * 24 * 64 and full[O_BYTES_IN_MEMORY] == 2 * 32 * 64
    assert half[O_E_OFFCHIP] - half[O_BYTES_IN_MEMORY] / 64 * hw.spec.energy.e_column_read_pj * 1e-12 == pytest.approx(
        4 * e_act + (128 * 2 * 2 + 2 * 6 * 2) * 8 * 0.3e-12, rel=1e-9)  # q in, out, scores, probs


def test_norms_are_infeasible_on_banks():
    out, _ = _cost(Op(name="n", kind="norm", dims={"elements": 1024, "inputs": 2, "flops_per_element": 8}))
    assert np.isinf(out[O_TIME])


@settings(max_examples=40, deadline=None)
@given(batch=st.integers(1, 64), heads=st.integers(1, 16), kv=st.integers(1, 4096), mode=st.sampled_from(
    ["blocked", "dual_row_buffers"]))
def test_never_faster_than_internal_bandwidth(batch, heads, kv, mode):
    op = Op(name="a", kind="attention", dims={"batch": batch, "heads": heads, "kv_heads": heads, "q_len": 1,
                                              "kv_len": kv, "head_dim": 128, "causal": 1, "kv_cache": 1})
    out, hw = _cost(op, {"organization.mode": mode})
    kv_bytes = 2 * batch * heads * kv * 128 * 2
    assert out[O_TIME] >= kv_bytes / (hw.spec.internal_bandwidth_gbps() * 1e9) * (1 - 1e-12)
    assert out[O_TIME] >= out[O_BYTES_IN_MEMORY] / (hw.spec.internal_bandwidth_gbps() * 1e9) * (1 - 1e-12)


def test_pim_alone_cannot_run_a_transformer_but_npu_pim_can():
    wl = cosim.load_workload("gpt3-7b", phase="decode", batch=16, context=512)
    assert not cosim.simulate(cosim.load_hardware("NeuPIMs-PIM"), wl).feasible  # norms and softmax cannot run on the banks alone
    naive = cosim.simulate(cosim.load_hardware("NeuPIMs-NPU+PIM-naive"), wl)
    assert naive.feasible and (naive.ops.loc[naive.ops.op == "attention", "unit"] == "pim").all()


@pytest.mark.parametrize("preset", ["NeuPIMs-PIM", "HBM-PIM-Aquabolt-XL", "Bank-PIM-Duplex-baseline"])
def test_presets_load(preset):
    hw = cosim.load_hardware(preset)
    assert hw.kind == "pim" and hw.spec.internal_bandwidth_gbps() > hw.spec.external_bandwidth_gbps()


def test_neupims_internal_bandwidth_is_16x_external():
    # 32 ch x 32 banks x 16 fp16 per column command every tCCD_L = 2 ns = 16.4 TB/s (the pins: 1024 GB/s)
    hw = cosim.load_hardware("NeuPIMs-PIM")
    assert hw.spec.external_bandwidth_gbps() == pytest.approx(1024)
    assert hw.spec.internal_bandwidth_gbps() == pytest.approx(16 * 1024)


def test_subbatch_interleaving_overlaps_only_with_dual_row_buffers():
    from cosim.schedulers.subbatch import interleave

    times = np.ones((2, 2))  # per sub-batch: a 1 s op on the NPU (unit 0), then a 1 s op on the PIM (unit 1)
    units, counts = np.array([0, 1]), np.array([1.0, 1.0])
    dual = interleave(times, units, counts, 2, blocked=False, passes=4)
    assert dual.period_s == pytest.approx(2.0) and dual.utilization == pytest.approx([1.0, 1.0])
    blocked = interleave(times, units, counts, 2, blocked=True, passes=4)
    assert blocked.period_s == pytest.approx(4.0) and blocked.utilization == pytest.approx([0.5, 0.5])


def test_neupims_reports_unit_utilization():
    wl = cosim.load_workload("gpt3-7b", phase="decode", batch=64, context=228, tensor_parallel=4)
    r = cosim.simulate(cosim.load_hardware("NeuPIMs"), wl)
    assert 0 < r.totals["utilization_pim"] < r.totals["utilization_npu"] <= 1.0 + 1e-9
