"""MoE workloads: routing models, parameter totals vs published figures, Op/B behaviour, trace replay, simulation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import cosim
from sim_checks import assert_simulates
from workloads import WorkloadParamError, load_workload
from workloads.moe_config import load_moe_config
from workloads.routing import (RoutingTraceError, assign, expected_activated_experts, load_routing_trace,
                               save_routing_trace)

PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODELS = ("uniform", "zipf", "dirichlet")


# ---------------------------------------------------------------- published totals
# Vendors round totals to 3 significant figures ("46.7B", "141B", "314B"); 1 % covers that rounding while a missing
# or doubled piece (an attention block, one expert per layer, the embedding) moves every total by more than 1 %.

@pytest.mark.parametrize("name, total, active", [
    ("mixtral-8x7b", 46.7e9, 12.9e9),
    ("mixtral-8x22b", 141e9, 39e9),
    ("deepseek-moe-16b", 16.4e9, 2.8e9),
    ("grok-1", 314e9, None),
    ("glam-143b", 143e9, None),
    ("switch-base-8", 619e6, None),
])
def test_parameters_match_published(name, total, active):
    wl = load_workload(name)
    assert wl.parameters == pytest.approx(total, rel=0.01)
    assert wl.params["total_parameters"] == wl.parameters
    if active:
        # "2.8B" is rounded to 2 significant figures: allow 2 %.
        assert wl.params["active_parameters"] == pytest.approx(active, rel=0.02)


@pytest.mark.parametrize("name", ["mixtral-8x7b", "deepseek-moe-16b", "glam-143b", "switch-base-8"])
def test_parameters_count_idle_experts(name):
    # One decode token reaches top_k experts per layer; the model total must not depend on routing.
    single = load_workload(name, batch=1)
    busy = load_workload(name, batch=64, routing="zipf", zipf_s=2.0, seed=3)
    assert single.parameters == busy.parameters
    assert single.params["activated_experts_mean"] < load_moe_config(name).num_experts


def test_m3vit_single_task_flops_match_paper_in_macs():
    # M3ViT reports 84 GFLOPs for single-task inference (backbone + one PUP head, 512x512). Our FLOPs count a MAC as
    # two operations; the paper's figure matches our MAC count (fvcore/thop convention: 1 MAC = 1 "FLOP") within 2 %,
    # while 2 x MACs (168 G) is twice the figure.
    wl = load_workload("m3vit-small", task="semseg")
    macs = sum(op.macs * op.count for op in wl.ops)
    assert macs == pytest.approx(84e9, rel=0.02)
    assert wl.flops == pytest.approx(2 * 84e9, rel=0.02)


def test_m3vit_task_pathway():
    # Each task routes with its own gate over its own expert window; the model (all experts, all gates) is the same.
    a = load_workload("m3vit-small", task="semseg", experts_per_task=8)
    b = load_workload("m3vit-small", task="normals", experts_per_task=8)
    ids = lambda wl: {op.tags["expert"] for op in wl.ops if isinstance(op.tags.get("expert"), int)}
    assert ids(a) == set(range(0, 8)) and ids(b) == set(range(8, 16))
    assert a.parameters - b.parameters == sum(op.parameters for op in a.ops if op.name == "head_out") - sum(
        op.parameters for op in b.ops if op.name == "head_out")
    with pytest.raises(WorkloadParamError, match="task"):
        load_workload("m3vit-small", task="depth")


# ---------------------------------------------------------------- routing properties

@PROPS
@given(experts=st.integers(1, 64), top_k=st.integers(1, 8), tokens=st.integers(1, 300),
       model=st.sampled_from(MODELS), seed=st.integers(0, 2**16), cf=st.sampled_from([0.0, 0.5, 1.0, 1.25, 2.0]))
def test_assignment_invariants(experts, top_k, tokens, model, seed, cf):
    top_k = min(top_k, experts)
    out = assign(model, tokens, experts, top_k, np.random.default_rng(seed), zipf_s=1.2, dirichlet_alpha=0.3,
                 capacity_factor=cf)
    assert out.activated <= min(experts, tokens * top_k)
    assert out.counts.sum() == tokens * top_k - out.dropped
    assert (out.counts <= tokens).all()  # distinct experts per token
    if cf == 0.0 or cf >= experts / top_k:
        assert out.dropped == 0


@PROPS
@given(experts=st.integers(2, 32), top_k=st.integers(1, 4), tokens=st.integers(1, 64), seed=st.integers(0, 999))
def test_capacity_factor_of_e_over_k_drops_nothing(experts, top_k, tokens, seed):
    top_k = min(top_k, experts)
    out = assign("dirichlet", tokens, experts, top_k, np.random.default_rng(seed), dirichlet_alpha=0.05,
                 capacity_factor=experts / top_k)
    assert out.dropped == 0


@settings(max_examples=10, deadline=None)
@given(experts=st.sampled_from([8, 16, 64]), top_k=st.integers(1, 4), tokens=st.integers(1, 40))
def test_uniform_mean_activated_matches_closed_form(experts, top_k, tokens):
    # 400 seeds: the standard error of the mean is at most sqrt(E/4)/20 experts; allow 5 standard errors.
    runs = [assign("uniform", tokens, experts, top_k, np.random.default_rng(s)).activated for s in range(400)]
    se = max(np.std(runs), 0.5) / np.sqrt(len(runs))
    assert np.mean(runs) == pytest.approx(expected_activated_experts(experts, top_k, tokens), abs=5 * se)


def test_zipf_larger_s_activates_fewer_experts():
    def mean(s):
        return np.mean([assign("zipf", 16, 64, 2, np.random.default_rng(i), zipf_s=s).activated for i in range(200)])
    means = [mean(s) for s in (0.0, 1.0, 2.0)]
    assert means[0] > means[1] > means[2]


def test_routing_is_deterministic_for_a_seed():
    a = load_workload("deepseek-moe-16b", batch=16, routing="dirichlet", dirichlet_alpha=0.5, seed=7)
    b = load_workload("deepseek-moe-16b", batch=16, routing="dirichlet", dirichlet_alpha=0.5, seed=7)
    assert [op.to_dict() for op in a.ops] == [op.to_dict() for op in b.ops]


# ---------------------------------------------------------------- MoE layer shape and Op/B

def _moe_intensity(wl):
    ops = [op for op in wl.ops if "expert" in op.tags]
    return sum(op.flops * op.count for op in ops) / sum(op.bytes * op.count for op in ops)


@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 16), seed=st.integers(0, 1000))
def test_decode_moe_intensity_rises_with_batch(batch, seed):
    small = load_workload("mixtral-8x7b", batch=batch, seed=seed)
    large = load_workload("mixtral-8x7b", batch=8 * batch, seed=seed)
    assert _moe_intensity(large) > _moe_intensity(small)


def test_weight_traffic_scales_with_activated_experts():
    wl = load_workload("glam-143b", batch=4)
    per_layer = {}
    for op in wl.ops:
        if isinstance(op.tags.get("expert"), int) and op.kind == "matmul":
            per_layer.setdefault(op.tags["layer"], set()).add(op.tags["expert"])
    assert sorted(per_layer) == list(range(1, 32, 2))  # every other layer is MoE
    for layer, experts in per_layer.items():
        weight = sum(op.operand_bytes.get("weight", 0.0) for op in wl.ops
                     if op.tags.get("layer") == layer and isinstance(op.tags.get("expert"), int))
        assert weight == len(experts) * 2 * 4096 * 16384 * 2
    assert len(per_layer[1]) == wl.params["activated_experts"][0]


def test_deepseek_first_layer_dense_and_shared_experts():
    wl = load_workload("deepseek-moe-16b", phase="prefill", batch=1, prompt=64)
    assert sum(op.count for op in wl.ops if op.name == "mlp_gate_up") == 1
    shared = [op for op in wl.ops if op.name == "shared_expert_gate_up"]
    assert len(shared) == 27 and all(op.dim("m") == 64 and op.dim("n") == 2 * 2 * 1408 for op in shared)
    routing = [op for op in wl.ops if op.kind == "routing"]
    assert all(op.dim("top_k") == 6 and op.dim("experts") == 64 for op in routing)


def test_capacity_factor_drops_tokens_in_workload():
    wl = load_workload("mixtral-8x7b", phase="prefill", prompt=256, routing="zipf", zipf_s=2.0, capacity_factor=1.0)
    assert wl.params["dropped_tokens"] > 0
    kept = sum(op.dim("m") for op in wl.ops if op.name == "expert_gate_up")
    assert kept == 32 * 256 * 2 - wl.params["dropped_tokens"]


@pytest.mark.parametrize("kwargs, match", [
    ({"routing": "random"}, "routing"), ({"zipf_s": -1.0}, "zipf_s"), ({"dirichlet_alpha": 0.0}, "dirichlet_alpha"),
    ({"capacity_factor": -1.0}, "capacity_factor"), ({"routing": "trace"}, "trace"), ({"tensor_parallel": 3}, "tensor_parallel"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(WorkloadParamError, match=match):
        load_workload("mixtral-8x7b", **kwargs)


# ---------------------------------------------------------------- routing traces

@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_trace_round_trip(tmp_path, suffix):
    rng = np.random.default_rng(0)
    counts = np.array([assign("zipf", 8, 8, 2, rng, zipf_s=1.5).counts for _ in range(32)])
    path = save_routing_trace(tmp_path / f"route{suffix}", counts, 2)
    trace = load_routing_trace(path)
    assert trace.top_k == 2 and (trace.counts == counts).all()
    wl = load_workload("mixtral-8x7b", batch=8, routing="trace", trace=str(path))
    for layer in range(32):
        got = {op.tags["expert"]: op.dim("m") for op in wl.ops
               if op.name == "expert_gate_up" and op.tags["layer"] == layer}
        assert got == {e: int(c) for e, c in enumerate(counts[layer]) if c}


def test_trace_per_token_lists(tmp_path):
    path = tmp_path / "tok.json"
    path.write_text(json.dumps({"token_experts": [[[0, 1], [1, 2], [1, 3]]]}))
    trace = load_routing_trace(path)
    assert trace.top_k == 2 and trace.counts.tolist() == [[1, 3, 1, 1]]
    csv_path = tmp_path / "tok.csv"
    csv_path.write_text("layer,token,expert\n0,0,0\n0,0,1\n0,1,1\n0,1,2\n0,2,1\n0,2,3\n")
    assert load_routing_trace(csv_path).counts.tolist() == [[1, 3, 1, 1]]


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON"),
    ('{"counts": [[1, 2], [3]], "top_k": 1}', "equal-length"),
    ('{"counts": [[1, -2]], "top_k": 1}', "non-negative"),
    ('{"counts": [[1, 2]]}', "top_k"),
    ('{"token_experts": [[[0, 0]]]}', "distinct"),
    ('{"layers": []}', "counts"),
])
def test_malformed_trace_names_file_and_problem(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(RoutingTraceError, match=problem) as info:
        load_routing_trace(path)
    assert "bad.json" in str(info.value)
    with pytest.raises(WorkloadParamError, match="bad.json"):
        load_workload("mixtral-8x7b", routing="trace", trace=str(path))


def test_malformed_csv_trace(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("layer,foo\n0,1\n")
    with pytest.raises(RoutingTraceError, match="bad.csv.*header"):
        load_routing_trace(path)


# ---------------------------------------------------------------- simulation on H100

H100 = cosim.load_hardware("H100-SXM5-80GB")


@pytest.mark.parametrize("name, kwargs", [
    ("mixtral-8x7b", {"tensor_parallel": 2}),
    ("mixtral-8x22b", {"tensor_parallel": 4}),
    ("grok-1", {"tensor_parallel": 8}),
    ("glam-143b", {"tensor_parallel": 4}),
    ("deepseek-moe-16b", {}),
    ("deepseek-moe-16b", {"phase": "prefill", "prompt": 128, "batch": 2}),
    ("switch-base-8", {}),
    ("switch-base-8", {"phase": "prefill"}),
    ("m3vit-small", {}),
])
def test_simulates_on_h100(name, kwargs):
    assert_simulates(load_workload(name, **kwargs), H100)


def test_grok_needs_eight_gpus_at_fp16():
    assert not cosim.simulate(H100, load_workload("grok-1", tensor_parallel=4)).totals["feasible"]
