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
    hw = load_hardware("Host-CPU", BARE)
    block_k = hw.spec.runtime.gemm_block_overhead_k
    short = _raw(hw, _gemm(512, 512, int(block_k)))
    long = _raw(hw, _gemm(512, 512, 8192))
    eff = hw.spec.runtime.gemm_efficiency
    assert short["bound"] == 0 and long["bound"] == 0  # compute-bound both
    assert short["utilization"] == pytest.approx(eff / 2)  # k = k_half: half of the asymptotic rate
    assert long["utilization"] == pytest.approx(eff * 8192 / (8192 + block_k))


def test_gemv_is_bound_by_its_weight_bytes_from_dram():
    hw = load_hardware("Host-CPU", BARE)
    op = _gemm(1, 8192, 8192)  # 256 MiB of fp32 weights: beyond L3
    r = _raw(hw, op)
    assert LEVELS[int(r["map_0"])] == "DRAM" and hw.device.bound_names[int(r["bound"])] == "memory"
    p = hw.param
    little = 2 * p("misses") * p("line_bytes") / p("dram_latency_s")  # both cores' misses in flight
    assert r["time_s"] == pytest.approx(op.bytes / (min(p("dram_bw"), little) * p("dram_eff")))


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
    assert levels == sorted(levels) and set(levels) == {0, 1, 2, 3}
    assert all(b >= a * (1 - 1e-12) for a, b in zip(per_byte, per_byte[1:]))  # farther levels are never faster
    # a single thread streams from DRAM at Little's law's rate, not at the channels' peak
    little = p("misses") * p("line_bytes") / p("dram_latency_s") * p("dram_eff")
    assert 1 / per_byte[-1] == pytest.approx(little)


def test_more_stream_threads_reach_more_private_cache_and_bandwidth():
    one = load_hardware("Host-CPU", BARE)
    two = load_hardware("Host-CPU", {**BARE, "runtime.stream_threads": 2})
    op = _stream(1 << 16)  # 512 KiB: L2 of one core
    a, b = _raw(one, op), _raw(two, op)
    assert LEVELS[int(a["map_0"])] == "L2" and LEVELS[int(b["map_0"])] == "L2"
    assert b["time_s"] == pytest.approx(a["time_s"] / 2)
    op = _stream(1 << 13)  # 64 KiB: L2 of one core, L1 of two
    assert int(_raw(one, op)["map_0"]) == 1 and int(_raw(two, op)["map_0"]) == 0


def test_blas_threads_split_a_gemm_and_oversubscription_adds_nothing():
    op = _gemm(1024, 1024, 1024)
    t = {n: _raw(load_hardware("Host-CPU", {**BARE, "runtime.gemm_threads": n}), op)["time_s"] for n in (1, 2, 4)}
    assert t[2] == pytest.approx(t[1] / 2)
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
    # three library calls (score GEMM, softmax, value GEMM): three dispatches
    assert _raw(slow, attn)["time_s"] - _raw(base, attn)["time_s"] == pytest.approx(9e-6)
    # causal masking skips nothing: both GEMMs over the full q x kv scores, plus 5 operations per score
    scores = b * h * q * kv
    flops = 2 * (2.0 * scores * d) + base.spec.runtime.softmax_flops_per_score * scores
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
    op = _gemm(256, 256, 256)
    r = _raw(hw, op)
    assert r["energy_compute_j"] == pytest.approx(op.flops * p("e_flop_fp32"))
    level = int(r["map_0"])
    e_byte = p(["e_l1_byte", "e_l2_byte", "e_l3_byte", "e_dram_byte"][level])
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
    hw = load_hardware("Host-CPU", BARE)
    layer = _gemm(1, 2048, 2048)  # 16 MiB of fp32 weights: fits the 32 MiB L3 alone
    assert LEVELS[int(_raw(hw, layer)["map_0"])] == "L3"
    deep = Op("mm", "matmul", {"m": 1, "n": 2048, "k": 2048, "batch": 1}, act_bits=32, weight_bits=32, out_bits=32,
              dtype="fp32", count=32)  # 32 layers of distinct weights: 512 MiB between two uses of one
    r = _raw(hw, deep)
    assert LEVELS[int(r["map_0"])] == "DRAM" and r["bytes_offchip"] == 2048 * 2048 * 4
    assert r["time_s"] > _raw(hw, layer)["time_s"]
