"""Units of a heterogeneous device sharing one memory (``shared_memory``): one capacity for what they hold together,
one set of channels for the bytes they move at once; and the smallest batch interleaved as sub-batches."""

import numpy as np
import pytest

from cosim.engine import evaluate_points
from hw_models.cost import N_OUT, O_BYTES_OFFCHIP, O_TIME
from hw_models.hardware import compose_hetero, load_hardware
from hw_models.hetero import HeteroSpec
from mappings.placement_sums import option_costs
from workloads import load_workload

GPT3 = dict(phase="decode", tensor_parallel=4, batch=64, context=228)
LINK = {"between": ["npu", "pim"], "bandwidth_gbps": 1024, "latency_us": 0.014, "e_pj_per_bit": 0.3}


def _device(shared, pim_capacity_gb=34.36, **settings):
    units = {"npu": load_hardware("NeuPIMs-NPU"),
             "pim": load_hardware("NeuPIMs-PIM", {"organization.capacity_gb": pim_capacity_gb})}
    spec = HeteroSpec(name="t", kind="hetero", units={u: {"preset": h.name} for u, h in units.items()},
                      links={"membus": LINK}, placement={"attention": "pim", "matmul": "npu"},
                      shared_memory=shared, **settings)
    return compose_hetero("t", spec, units)


def _totals(hw, workload):
    return evaluate_points(hw, workload, hw.params[None], "latency")


def test_shared_units_hold_everything_in_one_capacity():
    wl = load_workload("gpt3-13b", **GPT3)
    everything = sum(wl.memory_bytes.values())  # weights on the NPU's side, the KV cache on the PIM's, activations
    apart, shared = _totals(_device([]), wl), _totals(_device(["npu", "pim"]), wl)
    assert shared["memory_per_device_bytes"][0] == pytest.approx(everything, rel=1e-12)
    assert apart["memory_per_device_bytes"][0] < everything
    # a capacity that holds each unit's part but not both together
    cap_gb = (everything - 1e6) / 1e9
    assert _totals(_device([], cap_gb), wl)["feasible"][0]
    tight = _totals(_device(["npu", "pim"], cap_gb), wl)
    assert not tight["feasible"][0] and "one shared memory" in tight["reason"][0]


def test_split_parts_share_the_channels():
    # one op split over two units: parts of 1.0 s each moving 1e9 and 0.5e9 bytes over memories of 1 GB/s: alone the
    # op takes 1.0 s; over one shared memory the 1.5e9 bytes need 1.5 s
    flat = np.zeros((2, N_OUT))
    flat[:, O_TIME], flat[:, O_BYTES_OFFCHIP] = 1.0, (1e9, 0.5e9)
    base, row = np.array([[0, 1]]), np.zeros((1, 1, 2), dtype=np.int64)
    used, slots = np.ones((1, 1, 2), dtype=bool), np.array([1])
    for inv_bw, expected, channels in ((np.zeros((1, 2)), 1.0, 0.0), (np.full((1, 2), 1e-9), 1.5, 1.5)):
        time, _, opt_time, _, shared = option_costs(flat, base, row, used, slots, 1.0, inv_bw)
        assert time[0, 0, 0] == pytest.approx(expected) and opt_time[0, 0, 0] == pytest.approx(expected)
        assert shared[0, 0, 0] == pytest.approx(channels)


def test_interleaved_sub_batches_cannot_outrun_the_shared_channels():
    wl = load_workload("gpt3-13b", **GPT3)
    apart = _totals(_device([], concurrency="subbatch"), wl)
    shared_hw = _device(["npu", "pim"], concurrency="subbatch")
    shared, raw = evaluate_points(shared_hw, wl, shared_hw.params[None], "latency", with_raw=True)
    assert shared["period_s"][0] >= apart["period_s"][0]
    # the whole batch's bytes over the units' bandwidths (both 1024 GB/s) is a floor the two halves cannot beat
    count = np.array([op.count for op in wl.ops])
    assert shared["period_s"][0] >= (raw[0, :, O_BYTES_OFFCHIP] * count).sum() / 1024e9 * (1 - 1e-12)


def test_overlapped_units_cannot_outrun_the_shared_channels():
    """overlap: the units work on different sub-batches at once, so one period carries every op's bytes on the
    shared channels: an H100 beside a Logic-PIM (GEMMs on the H100, attention on the Logic-PIM), both memory bound."""
    from cosim.hetero import H_UNIT, _shared_inv_bw

    units = {"xpu": load_hardware("H100-SXM5-80GB"), "lpim": load_hardware("Duplex-Logic-PIM")}

    def device(shared):
        spec = HeteroSpec(name="t", kind="hetero", units={u: {"preset": h.name} for u, h in units.items()},
                          links={"hbm": {"between": ["xpu", "lpim"], "bandwidth_gbps": 1e9, "latency_us": 0,
                                         "e_pj_per_bit": 0}},
                          placement={"attention": "lpim", "matmul": "xpu"}, concurrency="overlap",
                          shared_memory=shared)
        return compose_hetero("t", spec, units)

    wl = load_workload("gpt3-13b", phase="decode", batch=32, context=1024)
    apart = _totals(device([]), wl)
    hw = device(["xpu", "lpim"])
    shared, raw = evaluate_points(hw, wl, hw.params[None], "latency", with_raw=True)
    count = np.array([op.count for op in wl.ops])
    inv_bw = _shared_inv_bw(hw, hw.params[None])[0][raw[0, :, H_UNIT].astype(int)]
    floor = (raw[0, :, O_BYTES_OFFCHIP] * inv_bw * count).sum()  # each unit's bytes over its bandwidth, in turn
    assert apart["period_s"][0] < floor * (1 - 1e-9)  # apart, the units overlap their traffic
    assert shared["period_s"][0] == pytest.approx(floor, rel=1e-9)


def test_subbatch_only_from_the_smallest_interleaved_batch():
    for batch, mode in ((255, "sequential"), (256, "subbatch")):
        wl = load_workload("gpt3-13b", **{**GPT3, "batch": batch})
        gated = _totals(_device(["npu", "pim"], concurrency="subbatch", subbatch_min_batch=256), wl)
        plain = _totals(_device(["npu", "pim"], concurrency=mode), wl)
        assert gated["period_s"][0] == plain["period_s"][0]


def test_a_unit_without_a_known_bandwidth_cannot_share():
    from hw_models.preset import HardwareConfigError

    units = {"npu": load_hardware("NeuPIMs-NPU"), "host": load_hardware("Host-CPU")}
    spec = HeteroSpec(name="t", kind="hetero", units={u: {"preset": h.name} for u, h in units.items()},
                      shared_memory=["npu", "host"])
    hw = compose_hetero("t", spec, units)
    assert not hw.units["host"].device.bandwidth_param
    with pytest.raises(HardwareConfigError, match="host"):
        _totals(hw, load_workload("gpt3-13b", **GPT3))


def test_shared_memory_names_known_units():
    with pytest.raises(ValueError, match="shared_memory"):
        HeteroSpec(name="t", kind="hetero", units={"a": {"preset": "NeuPIMs-NPU"}}, shared_memory=["a", "b"])


def test_shared_memory_is_a_per_point_what_if():
    wl = load_workload("gpt3-13b", **GPT3)
    hw = load_hardware("NeuPIMs")
    rows = np.vstack([hw.params, load_hardware("NeuPIMs", {"shared_memory": []}).params])
    need = evaluate_points(hw, wl, rows, "latency")["memory_per_device_bytes"]
    assert need[0] == pytest.approx(sum(wl.memory_bytes.values()), rel=1e-12) and need[1] < need[0]


def test_without_a_batch_parameter_the_attention_batch_is_gated():
    from workloads import Op, Workload

    f = dict(act_bits=16, weight_bits=16, out_bits=16, dtype="fp16")
    wl = Workload("w", [Op("qkv", "matmul", {"m": 8, "n": 256, "k": 128, "batch": 1}, **f),
                        Op("attn", "attention", {"batch": 8, "heads": 4, "kv_heads": 4, "q_len": 1, "kv_len": 64,
                                                 "head_dim": 32, "causal": 1, "kv_cache": 1}, **f)],
                  item_unit="item", items=1)
    for limit, mode in ((9, "sequential"), (8, "subbatch")):
        gated = _totals(_device([], concurrency="subbatch", subbatch_min_batch=limit), wl)
        assert gated["period_s"][0] == _totals(_device([], concurrency=mode), wl)["period_s"][0]


def test_duplex_units_hold_one_memory_and_draw_from_its_banks():
    """Duplex's xPU and Logic-PIM are one 80 GB memory; a byte the xPU moves holds the pseudo-channels for 1 / its
    achieved HBM3 bandwidth (0.9 x 3.35 TB/s), a Logic-PIM byte for 1 / the banks' whole-row rate (10.95 TB/s)."""
    from cosim.hetero import _shared_inv_bw
    from hw_models.logic_pim_dram import bank_bandwidth

    hw = load_hardware("Duplex")
    xpu, lpim = hw.units["xpu"], hw.units["lpim"]
    assert hw.spec.shared_memory == ["xpu", "lpim"]
    inv_bw = _shared_inv_bw(hw, hw.params[None])[0]
    sl = hw.slices()
    assert inv_bw[0] == pytest.approx(1 / (0.9 * 3.35e12))
    assert inv_bw[1] == pytest.approx(1 / bank_bandwidth(hw.params[sl["lpim"]]))
    wl = load_workload("gpt3-13b", **GPT3)
    assert _totals(hw, wl)["memory_per_device_bytes"][0] == pytest.approx(sum(wl.memory_bytes.values()), rel=1e-12)
    # one memory of the smaller capacity: Logic-PIM's 5 x 16 GB, not the xPU's 80 GiB beside it
    assert lpim.param("capacity_bytes") == 80e9 < xpu.param("hbm_bytes")
