"""The GPU software stack (hw_models.gpu_stack) against hand calculations: eager attention's score round trips and
kernel launches, FlashAttention over a contiguous KV cache vs paged decode, CUDA graphs vs per-kernel launch, and the
fused, per-kernel default leaving every number as it was."""

from __future__ import annotations

import pytest

from cosim.api import load_hardware, simulate
from hw_models.errors import HardwareConfigError
from hw_models.gpu_stack import NAMED_STACKS
from workloads.ir import Op, Workload

GPU = "A100-SXM4-80GB"


def _attention(b=4, h=8, kvh=8, q=2048, kv=2048, d=64, causal=0, cache=0) -> Workload:
    wl = Workload("attention", item_unit="item", items=1)
    wl.add(Op("att", "attention", {"batch": b, "heads": h, "kv_heads": kvh, "q_len": q, "kv_len": kv,
                                   "head_dim": d, "causal": causal, "kv_cache": cache}, dtype="fp16"))
    return wl


def _stack(attention="paged", launch="per_kernel", **more):
    return load_hardware(GPU, {"runtime.attention_kernels": attention, "runtime.kernel_launch": launch, **more})


def _op(hw, wl):
    r = simulate(hw, wl)
    assert r.feasible
    return r.ops.iloc[0]


def test_eager_attention_writes_and_reads_the_score_matrix_twice():
    b, h, q, kv, d = 4, 8, 2048, 2048, 64
    flash = _op(_stack("flash"), _attention(b, h, h, q, kv, d))
    eager = _op(_stack("eager"), _attention(b, h, h, q, kv, d))
    scores = b * h * q * kv * 2  # fp16 score matrix
    assert eager["dram_bytes"] - flash["dram_bytes"] == pytest.approx(4 * scores)


def test_eager_round_trips_parameter_adds_one_write_and_read_each():
    base = _op(_stack("eager"), _attention())
    three = _op(_stack("eager", **{"runtime.eager_score_round_trips": 3}), _attention())
    assert three["dram_bytes"] - base["dram_bytes"] == pytest.approx(2 * 4 * 8 * 2048 * 2048 * 2)


def test_eager_time_is_its_three_kernels_at_their_rooflines():
    """Memory-bound case, hand-computed: each kernel's bytes over the achieved HBM bandwidth, plus three launches."""
    hw = _stack("eager")
    b, h, q, kv, d = 2, 4, 1024, 1024, 64
    s = b * h * q * kv * 2
    qo, half_kv = b * h * q * d * 2, b * h * kv * d * 2
    bw = hw.spec.memory.hbm_bandwidth_gbps * 1e9 * hw.spec.memory.achieved_bandwidth_fraction
    peak = hw.spec.compute.tensor_tflops.fp16 * 1e12 * hw.spec.runtime.tensor_pipe_efficiency
    gemm = 2 * b * h * q * kv * d
    kernels = [max(gemm / peak, (qo + half_kv + s) / bw), 2 * s / bw, max(gemm / peak, (s + half_kv + qo) / bw)]
    launch = hw.spec.runtime.kernel_launch_us * 1e-6
    expected = sum(kernels) + 3 * launch
    assert _op(hw, _attention(b, h, h, q, kv, d))["time_s"] == pytest.approx(expected, rel=1e-9)


def test_eager_attention_computes_the_masked_half_too():
    fused = [_op(_stack("flash"), _attention(causal=c))["time_s"] for c in (0, 1)]
    eager = [_op(_stack("eager"), _attention(causal=c))["time_s"] for c in (0, 1)]
    assert fused[1] < fused[0] and eager[1] == pytest.approx(eager[0])


def test_flash_decode_reads_the_contiguous_cache_paged_rounds_to_pages():
    b, kvh, kv, d = 8, 2, 1000, 128  # 1000 tokens = 62.5 pages of 16
    wl = _attention(b, 8, kvh, 1, kv, d, causal=1, cache=1)
    paged, flash = _op(_stack("paged"), wl), _op(_stack("flash"), wl)
    page = 16
    rounded = -(-kv // page) * page
    assert paged["dram_bytes"] - flash["dram_bytes"] == pytest.approx(2 * b * kvh * (rounded - kv) * d * 2)


def test_cuda_graphs_replace_each_kernel_launch_by_a_graph_node():
    n = 50
    wl = Workload("tiny ops", item_unit="item", items=1)
    for i in range(n):
        wl.add(Op(f"add{i}", "elementwise", {"elements": 1024, "inputs": 2}, dtype="fp16"))
    per_kernel, graph = (simulate(_stack(launch=m), wl).latency_s for m in ("per_kernel", "cuda_graph"))
    spec = load_hardware(GPU).spec.runtime
    assert per_kernel - graph == pytest.approx(n * (spec.kernel_launch_us - spec.graph_node_launch_us) * 1e-6)


def test_eager_attention_launches_each_kernel_in_the_graph_too():
    wl = _attention(1, 1, 1, 16, 16, 64)  # launch-bound: the kernels' work is nanoseconds
    per_kernel, graph = (_op(_stack("eager", m), wl)["time_s"] for m in ("per_kernel", "cuda_graph"))
    spec = load_hardware(GPU).spec.runtime
    assert per_kernel - graph == pytest.approx(3 * (spec.kernel_launch_us - spec.graph_node_launch_us) * 1e-6)


@pytest.mark.parametrize("wl", [_attention(), _attention(q=1, kv=4096, causal=1, cache=1)], ids=["prefill", "decode"])
def test_the_default_is_the_fused_paged_per_kernel_stack(wl):
    default = simulate(load_hardware(GPU), wl)
    explicit = simulate(_stack("paged", "per_kernel"), wl)
    assert default.latency_s == explicit.latency_s and default.energy_j == explicit.energy_j
    assert load_hardware(GPU).spec.runtime.attention_kernels == "paged"


def test_an_unknown_stack_names_the_allowed_ones():
    with pytest.raises(HardwareConfigError, match="paged.*flash.*eager|eager.*flash.*paged"):
        _stack("fused")


def test_framework_ops_take_the_longer_of_gpu_time_and_host_time():
    """Under an eager framework a tiny op costs the host time per op; a long op its GPU time (the launch hides
    behind the previous op's work)."""
    hw = _stack(launch="framework")
    host = hw.spec.runtime.framework_op_overhead_us * 1e-6
    tiny = Workload("tiny", item_unit="item", items=1)
    tiny.add(Op("add", "elementwise", {"elements": 1024, "inputs": 2}, dtype="fp16"))
    assert simulate(hw, tiny).latency_s == pytest.approx(host)
    big = Workload("big", item_unit="item", items=1)
    big.add(Op("add", "elementwise", {"elements": 1 << 28, "inputs": 2}, dtype="fp16"))
    per_kernel = simulate(load_hardware(GPU), big).latency_s
    assert per_kernel > 10 * host
    assert simulate(hw, big).latency_s == pytest.approx(per_kernel - hw.spec.runtime.kernel_launch_us * 1e-6)


def test_named_stacks_are_runtime_settings_and_fused_is_the_default():
    default = load_hardware(GPU).spec.runtime
    fused = NAMED_STACKS["fused"]
    assert (default.attention_kernels, default.kernel_launch) == (fused["runtime.attention_kernels"],
                                                                  fused["runtime.kernel_launch"])
    for name, overrides in NAMED_STACKS.items():
        spec = load_hardware(GPU, overrides).spec.runtime
        assert (spec.attention_kernels, spec.kernel_launch) == tuple(overrides.values()), name
