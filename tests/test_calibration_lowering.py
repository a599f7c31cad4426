"""Lowering IR ops to numpy: each callable computes what the op describes (checked against direct formulas), every
op of the suites' and builders' workloads lowers, and the shared op semantics."""

from __future__ import annotations

import numpy as np
import pytest

from cosim.calibration import lowering, numpy_ops, torch_ops
from cosim.calibration.lowering import UnsupportedOp, causal_allowed, elementwise_kernel, norm_kind, row_length
from cosim.calibration.numpy_ops import lower_op, lower_workload
from cosim.calibration.suites import attention, conv, cuda_cases, decoder_step, host_cases, norm, softmax
from workloads.ir import Op


def closure(fn) -> dict:
    """The variables a lowered callable captured (its operands)."""
    return {name: cell.cell_contents for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ())}


def test_matmul_computes_the_product():
    op = Op("g", "matmul", {"m": 5, "n": 7, "k": 3, "batch": 1, "bias": 1}, dtype="fp64")
    fn = lower_op(op)
    out = fn().copy()
    # the bias variant wraps matmul and add; recompute from its operands
    v = closure(fn)
    np.testing.assert_allclose(out, v["a"] @ v["w"] + v["bias"])
    assert out.dtype == np.float64 and out.shape == (5, 7)


def test_conv_matches_direct_loops():
    op = conv(2, 4, 6, 7, 3, 2, "fp64", groups=2).workload.ops[0]
    fn = lower_op(op)
    out = fn().copy()
    v = closure(fn)
    x = v["view"]
    while x.base is not None:
        x = x.base
    x = x.reshape(2, 4, 9, 9)  # input with its padding frame
    w, ref = v["w"], np.zeros((2, 6, 4, 4))
    for n in range(2):
        for co in range(6):
            g = co // 3
            kernel = w[g, :, co % 3].reshape(2, 3, 3)
            for i in range(4):
                for j in range(4):
                    ref[n, co, i, j] = (x[n, 2 * g:2 * g + 2, 2 * i:2 * i + 3, 2 * j:2 * j + 3] * kernel).sum()
    got = out.reshape(2, 2, 4, 4, 3).transpose(1, 0, 4, 2, 3).reshape(2, 6, 4, 4)
    np.testing.assert_allclose(got, ref, atol=1e-12)
    assert op.dims["out_h"] == 4


@pytest.mark.parametrize("q, kv, causal", [(6, 6, True), (1, 9, True), (4, 9, True), (5, 5, False)])
def test_attention_matches_the_formula_with_gqa_and_causal_mask(q, kv, causal):
    op = attention(2, 4, 2, q, kv, 8, "fp64", causal).workload.ops[0]
    fn = lower_op(op)
    out = fn().copy()
    v = closure(fn)
    qs, kt, vv = v["qs"], v["kt"], v["v"]
    for b in range(2):
        for kvh in range(2):
            for g in range(2):
                qh = qs[b, kvh, g * q:(g + 1) * q]
                s = qh @ kt[b, kvh] / np.sqrt(8)
                allowed = causal_allowed(op)
                if allowed is not None:
                    s = np.where(allowed, s, -np.inf)
                p = np.exp(s - s.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                np.testing.assert_allclose(out[b, kvh, g * q:(g + 1) * q], p @ vv[b, kvh], atol=1e-12)


def test_softmax_and_norms():
    rows = lower_op(softmax(3, 16, "fp64").workload.ops[0])()
    np.testing.assert_allclose(rows.sum(1), 1.0)
    fn = lower_op(norm("layernorm", 4, 32, "fp64").workload.ops[0])
    out = fn().copy()
    v = closure(fn)
    x = v["x"]
    ref = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5) * v["gamma"] + v["beta"]
    np.testing.assert_allclose(out, ref, atol=1e-10)
    fn = lower_op(norm("rmsnorm", 4, 32, "fp64").workload.ops[0])
    out, v = fn().copy(), closure(fn)
    np.testing.assert_allclose(out, v["x"] / np.sqrt((v["x"] ** 2).mean(1, keepdims=True) + 1e-5) * v["gamma"],
                               atol=1e-10)


def test_op_semantics_of_builder_ops():
    assert norm_kind(Op("n", "norm", {"elements": 8, "inputs": 2, "flops_per_element": 8})) == "layernorm"
    assert norm_kind(Op("n", "norm", {"elements": 8, "inputs": 2, "flops_per_element": 5})) == "rmsnorm"
    assert elementwise_kernel(Op("a", "elementwise", {"elements": 8, "inputs": 2, "flops_per_element": 5})) \
        == "gated_silu"
    assert elementwise_kernel(Op("a", "elementwise", {"elements": 8, "inputs": 1, "flops_per_element": 3})) == "poly"
    assert row_length(Op("s", "softmax", {"elements": 768 * 3})) == 256
    with pytest.raises(UnsupportedOp, match="row=5 must divide"):
        row_length(Op("s", "softmax", {"elements": 12}, tags={"row": 5}))
    with pytest.raises(UnsupportedOp, match="numpy runs dtypes"):
        lower_op(Op("g", "matmul", {"m": 2, "n": 2, "k": 2}, dtype="int8"))
    with pytest.raises(UnsupportedOp, match="no numpy lowering"):
        lower_op(Op("c", "collective", {"elements": 2, "group": 2}))


@pytest.mark.parametrize("which", ["tiny", "quick", "full"])
def test_every_suite_op_kind_has_a_lowering(which):
    for case in host_cases(which):
        assert {op.kind for op in case.workload.ops} <= set(numpy_ops.LOWERINGS), case.label
    for case in cuda_cases(which, 80e9, devices=2):
        assert {op.kind for op in case.workload.ops} <= set(torch_ops.LOWERINGS), case.label
        assert all(op.dtype in torch_ops.TORCH_DTYPES for op in case.workload.ops), case.label


def test_end_to_end_workloads_run_every_op():
    case = [c for c in host_cases("tiny") if c.scope == "end_to_end"][0]
    calls = closure(lower_workload(case.workload))["calls"]
    assert len(calls) == sum(op.count for op in case.workload.ops)


def test_llm_steps_are_cut_to_fit_memory():
    small = decoder_step("llama-3-8b", "decode", 1, 1024, "bf16", 8e9)
    full = decoder_step("llama-3-8b", "decode", 1, 1024, "bf16", 200e9)
    assert "32/32 layers" in full.label
    layers = int(small.label.split()[2].split("/")[0])
    assert 1 <= layers < 32 and sum(small.workload.memory_bytes.values()) <= 0.5 * 8e9
    assert lowering.STREAM_SCALAR == 3.0
