"""Physics of the CPU kind: rooflines, the GEMM efficiency ramp with K, cache-level transitions, Little's-law DRAM
bandwidth, threads and SMT, datatype fallback, every IR op kind, the fittable parameters and the CLI."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cosim.api import available_hardware, load_hardware, simulate
from cosim.cli import main
from hw_models.cost import FIELDS
from hw_models.cpu import FITTABLE, LEVELS
from hw_models.kinds import hardware_kind
from hw_models.preset import HardwareConfigError
from mappings.bindings import kernel
from workloads import Op, Workload
from workloads.ir import OP_KINDS
from workloads.table import op_table

PRESETS = list(available_hardware(kind="cpu")["name"])
# No per-call overheads: the pure compute / memory times.
BARE = {"runtime.dispatch_us": 0.0, "runtime.thread_sync_us": 0.0}


def _op(kind: str, dims: dict, dtype: str = "fp32", **tags) -> Op:
    bits = {"fp32": 32, "fp16": 16, "bf16": 16, "int8": 8, "fp64": 64}[dtype]
    return Op(kind, kind, dims, act_bits=bits, weight_bits=bits, out_bits=bits, dtype=dtype, tags=tags)


def _gemm(m: int, n: int, k: int, dtype: str = "fp32") -> Op:
    return _op("matmul", {"m": m, "n": n, "k": k, "batch": 1}, dtype, weight=True)


def _stream(elements: int, flops: int = 1, dtype: str = "fp32") -> Op:
    return _op("elementwise", {"elements": elements, "inputs": 1, "flops_per_element": flops}, dtype)


def _raw(hw, op: Op) -> dict:
    record = kernel("cpu")(op_table(Workload("w", [op])), hw.params, 0)[0, 0]
    return dict(zip(FIELDS, record))


def _peak(hw, dtype: str) -> float:
    return hw.param("cores") * hw.param(f"peak_{dtype}") * hw.param("clock_hz")


def _level_bandwidths(hw, active: float) -> list[float]:
    """Bandwidth of L1, L2, L3 and DRAM for ``active`` cores, by hand (a nearer level never slower)."""
    p = hw.param
    cache = active * p("clock_hz") * p("cache_eff")
    dram = min(p("dram_bw"), active * p("misses") * p("line_bytes") / p("dram_latency_s")) * p("dram_eff")
    l3 = max(p("l3_bpc") * cache, dram)
    l2 = max(p("l2_bpc") * cache, l3)
    return [max(p("l1_bpc") * cache, l2), l2, l3, dram]


def _served(hw, nbytes: float, working_set: float, active: float) -> tuple[float, float, int]:
    """(time, share kept by nearer levels, level holding the set) of bytes served for a working set, by hand: the
    level holding it, except that each nearer level keeps its capacity beyond the levels before it, as a share of
    the set, at its own bandwidth."""
    p = hw.param
    caps = [active * p("l1_bytes"), active * p("l2_bytes"), p("l3_bytes")]
    level = next((i for i, c in enumerate(caps) if working_set <= c), 3)
    bw = _level_bandwidths(hw, active)
    time, kept = 0.0, 0.0
    for i in range(level):
        if caps[i] > kept:
            holder = next(j for j, c in enumerate(caps) if caps[i] <= c)
            time += nbytes * (caps[i] - kept) / working_set / bw[holder]
            kept = caps[i]
    return time + nbytes * (1 - kept / working_set) / bw[level], kept / working_set, level


def test_presets_exist_and_host_is_a_cpu():
    assert {"Host-CPU", "Ryzen-9-7950X", "EPYC-9654", "Xeon-Platinum-8480+", "Apple-M2"} <= set(PRESETS)
    assert load_hardware("Host-CPU").kind == "cpu"


@pytest.mark.parametrize("name", PRESETS)
def test_large_gemm_stays_under_the_roofline_and_approaches_its_efficiency(name):
    hw = load_hardware(name, BARE)
    op = _gemm(4096, 4096, 4096)
    r = _raw(hw, op)
    floor = op.flops / _peak(hw, "fp32")
    assert r["time_s"] >= floor
    eff, block_k = hw.spec.runtime.gemm_efficiency, hw.spec.runtime.gemm_block_overhead_k
    # compute-bound: the achieved fraction is gemm_efficiency x K / (K + block_k), up to the split of tiles
    assert r["utilization"] <= eff * 4096 / (4096 + block_k) * (1 + 1e-12)
    assert r["utilization"] >= 0.95 * eff * 4096 / (4096 + block_k)


def test_gemm_efficiency_ramps_with_k_at_the_half_performance_length():
    # the micro-kernel alone: every GEMM taken by the (unpacked, one-thread) small-matrix kernel
    hw = load_hardware("Host-CPU", {**BARE, "runtime.gemm_small_macs": 1e12})
    block_k = hw.spec.runtime.gemm_block_overhead_k
    short = _raw(hw, _gemm(512, 512, int(block_k)))
    long = _raw(hw, _gemm(512, 512, 8192))
    eff, cores = hw.spec.runtime.gemm_efficiency, hw.param("cores")
    assert short["bound"] == 0 and long["bound"] == 0  # compute-bound both
    assert short["utilization"] == pytest.approx(eff / 2 / cores)  # k = k_half: half of the asymptotic rate
    assert long["utilization"] == pytest.approx(eff * 8192 / (8192 + block_k) / cores)


def test_a_packed_gemm_packs_its_operands_then_computes():
    hw = load_hardware("Host-CPU", BARE)
    p = hw.param
    op = _gemm(8, 1024, 1024)  # 8.4 M multiply-adds: above the small-matrix limit, 2 threads, packed
    small = load_hardware("Host-CPU", {**BARE, "runtime.gemm_small_macs": 1e12, "runtime.gemm_threads": 2})
    r = _raw(hw, op)
    packed = (8 * 1024 + 1024 * 1024) * 4.0
    t_mem = _served(hw, op.bytes, op.bytes, 2)[0]
    t_pack = max(packed / (p("pack_bpc") * p("clock_hz") * 2), t_mem)
    # the same micro-kernel time on one thread unpacked, split over two threads
    t_compute = _raw(small, op)["time_s"]
    assert t_compute >= t_mem  # unpacked: compute-bound, so its time is the micro-kernel's
    assert r["time_s"] == pytest.approx(t_pack + t_compute / 2)
    assert r["energy_onchip_j"] >= packed * p("e_l2_byte")
    # a GEMV is not packed: bound by its weight bytes
    gemv = _gemm(1, 1024, 1024)
    assert _raw(hw, gemv)["time_s"] == pytest.approx(_served(hw, gemv.bytes, gemv.bytes, 2)[0])


def test_gemv_is_bound_by_its_weight_bytes_from_dram():
    hw = load_hardware("Host-CPU", BARE)
    op = _gemm(1, 8192, 8192)  # 256 MiB of fp32 weights: beyond L3
    r = _raw(hw, op)
    assert LEVELS[int(r["map_0"])] == "DRAM" and hw.device.bound_names[int(r["bound"])] == "memory"
    p = hw.param
    little = 2 * p("misses") * p("line_bytes") / p("dram_latency_s")  # both cores' misses in flight
    dram = min(p("dram_bw"), little) * p("dram_eff")
    kept = p("l3_bytes") / op.bytes  # the part of the stream the caches keep (the L3 includes the L1s and L2s)
    l1, l2, l3 = 2 * p("l1_bytes") / op.bytes, (2 * p("l2_bytes") - 2 * p("l1_bytes")) / op.bytes, \
        (p("l3_bytes") - 2 * p("l2_bytes")) / op.bytes
    bw = _level_bandwidths(hw, 2)
    assert r["time_s"] == pytest.approx(op.bytes * ((1 - kept) / dram + l1 / bw[0] + l2 / bw[1] + l3 / bw[2]))
    assert r["time_s"] == pytest.approx(_served(hw, op.bytes, op.bytes, 2)[0])


def test_cache_levels_step_as_the_working_set_grows():
    hw = load_hardware("Host-CPU", BARE)
    p = hw.param
    levels, per_byte = [], []
    for e in range(8, 28):
        op = _stream(1 << e)  # one input, one output: 8 B per element
        r = _raw(hw, op)
        levels.append(int(r["map_0"]))
        per_byte.append(r["time_s"] / op.bytes)
        ws = op.bytes
        expected = 0 if ws <= p("l1_bytes") else 1 if ws <= p("l2_bytes") else 2 if ws <= p("l3_bytes") else 3
        assert levels[-1] == expected, (e, ws)
        assert r["time_s"] == pytest.approx(_served(hw, op.bytes, ws, 1)[0])
    assert levels == sorted(levels) and set(levels) == {0, 1, 2, 3}
    assert all(b >= a * (1 - 1e-12) for a, b in zip(per_byte, per_byte[1:]))  # farther levels are never faster
    # a single thread streams from DRAM at Little's law's rate, not at the channels' peak (the L3 keeps 1/32)
    little = p("misses") * p("line_bytes") / p("dram_latency_s") * p("dram_eff")
    assert 1 / per_byte[-1] == pytest.approx(little, rel=0.04)
    assert 1 / per_byte[-1] > little


def test_time_is_continuous_where_a_working_set_outgrows_a_level():
    hw = load_hardware("Host-CPU", BARE)
    l3 = int(hw.param("l3_bytes"))
    at, past = _stream(l3 // 8), _stream(l3 // 8 + 1)  # 8 B per element: exactly the L3, one element more
    r_at, r_past = _raw(hw, at), _raw(hw, past)
    assert (LEVELS[int(r_at["map_0"])], LEVELS[int(r_past["map_0"])]) == ("L3", "DRAM")
    assert r_past["time_s"] / past.bytes == pytest.approx(r_at["time_s"] / at.bytes, rel=1e-6)


def test_more_stream_threads_reach_more_private_cache_and_bandwidth():
    one = load_hardware("Host-CPU", BARE)
    two = load_hardware("Host-CPU", {**BARE, "runtime.stream_threads": 2})
    op = _stream(1 << 16)  # 512 KiB: L2 of one core
    a, b = _raw(one, op), _raw(two, op)
    assert LEVELS[int(a["map_0"])] == "L2" and LEVELS[int(b["map_0"])] == "L2"
    # twice the bandwidth, and twice the L1 keeping part of the stream
    assert a["time_s"] == pytest.approx(_served(one, op.bytes, op.bytes, 1)[0])
    assert b["time_s"] == pytest.approx(_served(two, op.bytes, op.bytes, 2)[0])
    assert b["time_s"] < a["time_s"] / 2
    op = _stream(1 << 13)  # 64 KiB: L2 of one core, L1 of two
    assert int(_raw(one, op)["map_0"]) == 1 and int(_raw(two, op)["map_0"]) == 0


def test_blas_threads_split_a_gemm_and_oversubscription_adds_nothing():
    op = _gemm(1024, 1024, 1024)
    t = {n: _raw(load_hardware("Host-CPU", {**BARE, "runtime.gemm_threads": n}), op)["time_s"] for n in (1, 2, 4)}
    assert t[2] == pytest.approx(t[1] / 2, rel=1e-4)  # the packing phase reads through two cores' caches
    assert t[4] == t[2]  # 2 hardware threads: the extra software threads run nowhere


def test_smt_threads_share_their_core_and_fork_join_is_paid_once_per_call():
    op = _gemm(2048, 2048, 2048)
    cores = load_hardware("Ryzen-9-7950X", {**BARE, "runtime.gemm_threads": 16})
    smt = load_hardware("Ryzen-9-7950X", {**BARE, "runtime.gemm_threads": 32})
    assert _raw(smt, op)["time_s"] == pytest.approx(_raw(cores, op)["time_s"], rel=1e-3)
    sync = load_hardware("Ryzen-9-7950X", {"runtime.dispatch_us": 0.0, "runtime.thread_sync_us": 7.0,
                                           "runtime.gemm_threads": 16})
    assert _raw(sync, op)["time_s"] - _raw(cores, op)["time_s"] == pytest.approx(7e-6)


def test_datatypes_without_native_support_run_at_fp32():
    host, xeon = load_hardware("Host-CPU"), load_hardware("Xeon-Platinum-8480+")
    assert host.param("peak_fp16") == host.param("peak_fp32")  # Zen 4: no AVX512-FP16; numpy converts to fp32
    assert host.param("peak_bf16") == 2 * host.param("peak_fp32")  # AVX512-BF16
    assert host.param("peak_int4") == host.param("peak_int8")
    assert xeon.param("peak_fp16") == 2 * xeon.param("peak_fp32")  # AVX512-FP16


def _one_of_each_kind() -> list[Op]:
    ops = {
        "matmul": _gemm(64, 64, 64),
        "conv": _op("conv", {"batch": 1, "in_ch": 8, "out_ch": 16, "in_h": 10, "in_w": 10, "out_h": 8, "out_w": 8,
                             "kernel_h": 3, "kernel_w": 3, "stride": 1, "groups": 1}),
        "attention": _op("attention", {"batch": 1, "heads": 4, "kv_heads": 2, "q_len": 16, "kv_len": 64,
                                       "head_dim": 32, "causal": 1, "kv_cache": 1}),
        "elementwise": _stream(4096),
        "norm": _op("norm", {"elements": 4096, "inputs": 1, "flops_per_element": 5}),
        "softmax": _op("softmax", {"elements": 4096, "inputs": 1, "flops_per_element": 5}),
        "gather": _op("gather", {"rows": 16, "table_rows": 1000, "row_elems": 64}),
        "kv_write": _op("kv_write", {"elements": 4096}),
        "routing": _op("routing", {"tokens": 16, "experts": 8, "top_k": 2}),
        "synaptic": Op("synaptic", "synaptic", {"m": 64, "n": 32, "k": 64, "timesteps": 4}, act_bits=8,
                       weight_bits=8, out_bits=16, dtype="int8", sparsity=0.8),
        "neuron_update": _op("neuron_update", {"neurons": 1024, "timesteps": 4}, neuron="lif"),
        "collective": _op("collective", {"elements": 4096, "group": 4}, collective="all_reduce"),
        "kernel": _op("kernel", {"fp_add": 100, "fp_mul": 100, "fp_exp": 10, "loads": 200, "stores": 10},
                      parallel_fraction=0.5),
    }
    assert set(ops) == set(OP_KINDS)
    return list(ops.values())


@pytest.mark.parametrize("name", PRESETS)
def test_every_ir_op_kind_has_a_finite_cost(name):
    r = simulate(load_hardware(name), Workload("every-kind", _one_of_each_kind()))
    assert r.feasible, r.reason
    assert np.isfinite(r.ops["time_s"]).all() and (r.ops["time_s"] > 0).all()
    assert np.isfinite(r.ops["energy_j"]).all() and (r.ops["energy_j"] > 0).all()


def test_attention_is_its_two_gemms_and_a_softmax():
    b, h, kvh, q, kv, d = 2, 8, 2, 64, 256, 64
    attn = _op("attention", {"batch": b, "heads": h, "kv_heads": kvh, "q_len": q, "kv_len": kv, "head_dim": d,
                             "causal": 1, "kv_cache": 0})
    base = load_hardware("Host-CPU", BARE)
    slow = load_hardware("Host-CPU", {**BARE, "runtime.dispatch_us": 3.0})
    # library calls: score GEMM, one per softmax operation (numpy: unfused) plus the causal mask, value GEMM
    passes = base.spec.runtime.softmax_flops_per_score + 1
    assert _raw(slow, attn)["time_s"] - _raw(base, attn)["time_s"] == pytest.approx((2 + passes) * 3e-6)
    # causal masking skips nothing: both GEMMs over the full q x kv scores, plus the softmax's operations per score
    scores = b * h * q * kv
    flops = 2 * (2.0 * scores * d) + passes * scores
    assert _raw(base, attn)["energy_compute_j"] == pytest.approx(flops * base.param("e_flop_fp32"))
    assert _raw(base, attn)["time_s"] >= 2 * (2.0 * scores * d) / _peak(base, "fp32")


def test_fittable_parameters_are_bounded_spec_fields():
    kind = hardware_kind("cpu")
    assert kind.fittable == FITTABLE
    hw = load_hardware("Host-CPU")
    for path in FITTABLE:
        value = hw.spec
        for part in path.split("."):
            value = getattr(value, part)
        assert isinstance(value, float) and value >= 0
        load_hardware("Host-CPU", {path: value * 0.9})  # an override is accepted
    for path in ("runtime.gemm_efficiency", "runtime.stream_efficiency", "runtime.cache_bandwidth_efficiency",
                 "runtime.dram_bandwidth_efficiency"):
        with pytest.raises(HardwareConfigError, match=path.split(".")[-1]):
            load_hardware("Host-CPU", {path: 1.2})  # nothing above the datasheet peak
    with pytest.raises(HardwareConfigError, match="dispatch_us"):
        load_hardware("Host-CPU", {"runtime.dispatch_us": -1.0})


def test_energy_counts_flops_bytes_by_level_and_idle_power():
    hw = load_hardware("Host-CPU")
    p = hw.param
    op = _gemm(64, 64, 64)  # 48 KiB: the small-matrix kernel on one core, its L2 with the L1 keeping a part
    r = _raw(hw, op)
    assert r["energy_compute_j"] == pytest.approx(op.flops * p("e_flop_fp32"))
    _, share, level = _served(hw, op.bytes, op.bytes, 1)
    assert LEVELS[int(r["map_0"])] == LEVELS[level] == "L2"
    e_byte = share * p("e_l1_byte") + (1 - share) * p("e_l2_byte")
    assert r["energy_onchip_j"] + r["energy_offchip_j"] == pytest.approx(op.bytes * e_byte)
    assert r["energy_static_j"] == pytest.approx(p("idle_w") * r["time_s"])
    assert r["energy_link_j"] == 0.0


def test_cli_runs_a_small_workload_on_the_host(capsys):
    assert main(["run", "Host-CPU", "bert-base", "batch=1", "seq_len=32"]) in (0, None)
    out = capsys.readouterr().out
    assert "latency" in out and "working set in" in out
    assert main(["show", "Host-CPU"]) in (0, None)
    assert "runtime.gemm_efficiency" in capsys.readouterr().out


def test_utilization_never_exceeds_one():
    for name in PRESETS:
        hw = load_hardware(name)
        for op in (_gemm(2048, 2048, 2048, "bf16"), _gemm(1, 4096, 4096, "int8"), _stream(1 << 20, 64)):
            u = _raw(hw, op)["utilization"]
            assert 0 < u <= 1, (name, op.name, u)
            assert math.isfinite(u)


def test_small_gemms_run_on_one_blas_thread_as_openblas_decides():
    hw = load_hardware("Host-CPU", {"runtime.dispatch_us": 0.0})
    sync = hw.spec.runtime.thread_sync_us * 1e-6
    small, large = _gemm(64, 64, 64), _gemm(128, 128, 32)  # 262144 multiply-adds: the threshold; twice it
    one = load_hardware("Host-CPU", {"runtime.dispatch_us": 0.0, "runtime.gemm_threads": 1})
    assert _raw(hw, small)["time_s"] == pytest.approx(_raw(one, small)["time_s"])  # no fork/join, one thread
    big = _gemm(128, 128, 64)
    assert _raw(hw, big)["time_s"] < _raw(one, big)["time_s"]  # two threads, one fork/join
    assert _raw(hw, big)["time_s"] >= sync


def test_datatypes_the_library_lacks_run_in_a_scalar_loop():
    hw = load_hardware("Host-CPU", BARE)
    rate = hw.spec.runtime.scalar_fallback_gemm_flops_per_cycle.fp16
    op = _gemm(256, 256, 256, "fp16")
    assert _raw(hw, op)["time_s"] == pytest.approx(op.flops / (rate * hw.param("clock_hz")))
    # the same core with a SIMD library: fp16 at the fp32 SIMD rate, far faster
    simd = load_hardware("Host-CPU", {**BARE, "runtime.scalar_fallback_gemm_flops_per_cycle.fp16": None})
    assert _raw(simd, op)["time_s"] < _raw(hw, op)["time_s"] / 100


def test_weights_of_many_layers_stream_from_dram_each_step():
    hw = load_hardware("Host-CPU", {**BARE, "memory.l3_share": 1.0})
    layer = _gemm(1, 2048, 2048)  # 16 MiB of fp32 weights: fits the 32 MiB L3 alone
    assert LEVELS[int(_raw(hw, layer)["map_0"])] == "L3"
    deep = Op("mm", "matmul", {"m": 1, "n": 2048, "k": 2048, "batch": 1}, act_bits=32, weight_bits=32, out_bits=32,
              dtype="fp32", count=32)  # 32 layers of distinct weights: 512 MiB between two uses of one
    r = _raw(hw, deep)
    weights = 2048 * 2048 * 4
    kept = hw.param("l3_bytes") / (32 * weights)  # the part of 32 layers' weights the L3 still holds
    assert LEVELS[int(r["map_0"])] == "DRAM" and r["bytes_offchip"] == pytest.approx(weights * (1 - kept))
    assert r["time_s"] > _raw(hw, layer)["time_s"]


def test_an_unfused_library_makes_one_pass_and_one_call_per_operation():
    p = load_hardware("Host-CPU").param
    fused = load_hardware("Host-CPU", {"runtime.unfused_elementwise": False})
    unfused = load_hardware("Host-CPU")
    n = 1 << 12  # 16 KiB per tensor: L1-resident on one core, compute and dispatch dominate
    op = _op("elementwise", {"elements": n, "inputs": 1, "flops_per_element": 4}, activation="silu")
    r_fused, r_unfused = _raw(fused, op), _raw(unfused, op)
    t_trans = n * p("transcendental_cycles") / p("clock_hz")  # silu: one exp per element
    t_arith = op.flops / (p("peak_fp32") * p("clock_hz") * p("stream_eff"))
    t_mem_fused = _served(fused, op.bytes, op.bytes, 1)[0]
    assert r_fused["time_s"] == pytest.approx(p("dispatch_s") + max(t_arith + t_trans, t_mem_fused))
    # four calls; three more passes each reading and writing an intermediate; the exp's pass at its own cost
    traffic = op.bytes + 3 * 2 * n * 4
    t_pass = _served(unfused, traffic, op.bytes, 1)[0] / 4
    expected = 4 * p("dispatch_s") + 3 * max(t_arith / 3, t_pass) + max(t_trans, t_pass)
    assert r_unfused["time_s"] == pytest.approx(expected)
    assert r_unfused["bytes_onchip"] == pytest.approx(traffic)


def test_transcendentals_are_counted_for_softmax_and_exp_activations_only():
    from workloads.table import COL
    rows = op_table(Workload("w", [
        _op("softmax", {"elements": 64, "inputs": 1, "flops_per_element": 5}),
        _op("elementwise", {"elements": 64, "inputs": 1, "flops_per_element": 8}),  # gelu by its flops
        _op("elementwise", {"elements": 64, "inputs": 1, "flops_per_element": 1}),  # relu
        _op("elementwise", {"elements": 64, "inputs": 2, "flops_per_element": 5}),  # gated silu
        _op("elementwise", {"elements": 64, "inputs": 2, "flops_per_element": 1})]))  # add
    assert list(rows[:, COL["transcendentals"]]) == [1.0, 1.0, 0.0, 1.0, 0.0]


def test_im2col_copies_the_windows_in_runs_of_one_kernel_row_before_the_gemm():
    hw = load_hardware("Host-CPU", BARE)
    direct = load_hardware("Host-CPU", {**BARE, "runtime.conv_im2col": False})
    p = hw.param
    # a depthwise 3x3 convolution: 32 groups of (112·112 positions × 9) x (9 × 1) GEMMs
    conv = _op("conv", {"batch": 1, "in_ch": 32, "out_ch": 32, "in_h": 114, "in_w": 114, "out_h": 112,
                        "out_w": 112, "kernel_h": 3, "kernel_w": 3, "stride": 1, "groups": 32})
    columns = 112 * 112 * 9 * 32
    t_runs = columns / 3 * p("copy_run_cycles") / p("clock_hz")
    t_copy_mem = _served(hw, 2 * columns * 4, columns * 4, 1)[0]
    assert t_runs > t_copy_mem  # numpy's short runs, not bandwidth, set the copy's time
    extra = _raw(hw, conv)["time_s"] - _raw(direct, conv)["time_s"]
    assert extra >= t_runs  # the copy, plus the GEMM reading the column matrix
    assert extra == pytest.approx(t_runs, rel=0.25)
    # a 1x1 convolution copies in runs of its channels
    pointwise = _op("conv", {"batch": 1, "in_ch": 256, "out_ch": 64, "in_h": 56, "in_w": 56, "out_h": 56,
                             "out_w": 56, "kernel_h": 1, "kernel_w": 1, "stride": 1, "groups": 1})
    t_runs_1x1 = 56 * 56 * 256 / 256 * p("copy_run_cycles") / p("clock_hz")
    assert _raw(hw, pointwise)["time_s"] - _raw(direct, pointwise)["time_s"] >= t_runs_1x1


def test_query_heads_sharing_a_kv_head_are_one_gemm():
    hw = load_hardware("Host-CPU", {**BARE, "runtime.dispatch_us": 1.0})
    # decode: 32 query heads over 8 KV heads -> 8 score GEMMs of 4 rows (not 32 GEMVs)
    attn = _op("attention", {"batch": 1, "heads": 32, "kv_heads": 8, "q_len": 1, "kv_len": 256, "head_dim": 128,
                             "causal": 0, "kv_cache": 1})
    grouped = _gemm(4, 256, 128)
    grouped.dims["batch"] = 8
    grouped.tags["weight"] = False
    t_scores = _raw(hw, grouped)["time_s"]
    assert _raw(hw, attn)["time_s"] > t_scores
    mha = _op("attention", {"batch": 1, "heads": 32, "kv_heads": 32, "q_len": 1, "kv_len": 256, "head_dim": 128,
                            "causal": 0, "kv_cache": 1})
    assert _raw(hw, mha)["time_s"] > _raw(hw, attn)["time_s"]  # four times the KV read
