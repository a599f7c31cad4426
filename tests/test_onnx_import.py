"""ONNX import: op kinds, FLOPs and parameters of small graphs built here with onnx.helper, errors, GPU run."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

import cosim

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from workloads.onnx_import import OnnxImportError, import_onnx  # noqa: E402
from workloads.trace_io import TraceFormatError, load_trace, save_trace  # noqa: E402

F = TensorProto.FLOAT


def init(name: str, *shape: int, dtype=np.float32):
    return numpy_helper.from_array(np.zeros(shape, dtype=dtype), name)


def model(nodes, inputs, outputs, inits, opset: int = 17):
    graph = helper.make_graph(nodes, "test", inputs, outputs, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(m)
    return m


def mlp():
    """x[batch, 784] → MatMul 784×256 → Add bias → Relu → Gemm 256×10 (+bias)."""
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h"], name="fc1"),
             helper.make_node("Add", ["h", "b1"], ["hb"], name="bias1"),
             helper.make_node("Relu", ["hb"], ["r"], name="relu"),
             helper.make_node("Gemm", ["r", "W2", "b2"], ["y"], name="fc2")]
    return model(nodes, [helper.make_tensor_value_info("x", F, ["batch", 784])],
                 [helper.make_tensor_value_info("y", F, ["batch", 10])],
                 [init("W1", 784, 256), init("b1", 256), init("W2", 256, 10), init("b2", 10)])


def convnet():
    """x[2,3,32,32] → Conv 3→8 3×3 pad 1 → BN → Relu → MaxPool 2×2/2 → depthwise Conv 3×3 stride 2 dilation 2
    pad 2 → GlobalAveragePool → Flatten → Gemm 8→10."""
    nodes = [
        helper.make_node("Conv", ["x", "Wc", "bc"], ["c"], name="conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "g", "be", "mu", "var"], ["n"], name="bn1"),
        helper.make_node("Relu", ["n"], ["r"], name="relu1"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p", "Wd"], ["d"], name="dw", kernel_shape=[3, 3], group=8, strides=[2, 2],
                         dilations=[2, 2], pads=[2, 2, 2, 2]),
        helper.make_node("GlobalAveragePool", ["d"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "Wf", "bf"], ["y"], name="fc", transB=1),
    ]
    inits = [init("Wc", 8, 3, 3, 3), init("bc", 8), init("g", 8), init("be", 8), init("mu", 8), init("var", 8),
             init("Wd", 8, 1, 3, 3), init("Wf", 10, 8), init("bf", 10)]
    return model(nodes, [helper.make_tensor_value_info("x", F, [2, 3, 32, 32])],
                 [helper.make_tensor_value_info("y", F, [2, 10])], inits)


def attention(seq: int = 16, dim: int = 32, heads: int = 4):
    """Single-head-group self-attention: QKV projections, reshape/transpose to heads, QK^T, scale, softmax, PV,
    merge heads, output projection."""
    hd = dim // heads
    split = numpy_helper.from_array(np.array([0, seq, heads, hd], np.int64), "split_shape")
    merge = numpy_helper.from_array(np.array([0, seq, dim], np.int64), "merge_shape")
    scale = numpy_helper.from_array(np.array(np.sqrt(hd), np.float32), "scale")
    nodes = []
    for p in "qkv":
        nodes += [helper.make_node("MatMul", ["x", f"W{p}"], [f"{p}0"], name=f"{p}_proj"),
                  helper.make_node("Reshape", [f"{p}0", "split_shape"], [f"{p}1"], name=f"{p}_split"),
                  helper.make_node("Transpose", [f"{p}1"], [f"{p}2"], name=f"{p}_heads",
                                   perm=[0, 2, 3, 1] if p == "k" else [0, 2, 1, 3])]
    nodes += [helper.make_node("MatMul", ["q2", "k2"], ["s"], name="scores"),
              helper.make_node("Div", ["s", "scale"], ["s2"], name="scale"),
              helper.make_node("Softmax", ["s2"], ["a"], name="softmax", axis=-1),
              helper.make_node("MatMul", ["a", "v2"], ["o"], name="context"),
              helper.make_node("Transpose", ["o"], ["o1"], name="merge_t", perm=[0, 2, 1, 3]),
              helper.make_node("Reshape", ["o1", "merge_shape"], ["o2"], name="merge"),
              helper.make_node("MatMul", ["o2", "Wo"], ["y"], name="out_proj")]
    inits = [init(f"W{p}", dim, dim) for p in "qkvo"] + [split, merge, scale]
    return model(nodes, [helper.make_tensor_value_info("x", F, ["batch", seq, dim])],
                 [helper.make_tensor_value_info("y", F, ["batch", seq, dim])], inits)


def by_name(wl):
    return {op.name: op for op in wl.ops}


# ---------------------------------------------------------------- graphs

def test_mlp_ops_flops_parameters():
    wl = import_onnx(mlp(), batch=4)
    ops = by_name(wl)
    assert [op.kind for op in wl.ops] == ["matmul", "elementwise", "elementwise", "matmul"]
    assert ops["fc1"].dims == {"m": 4, "n": 256, "k": 784, "batch": 1} and ops["fc1"].tags["weight"]
    assert ops["fc2"].dims["bias"] == 1
    assert wl.parameters == 784 * 256 + 256 + 256 * 10 + 10  # 203,530
    assert wl.flops == 2 * 4 * 784 * 256 + 4 * 256 + 4 * 256 + 2 * 4 * 256 * 10
    assert wl.items == 4
    assert wl.memory_bytes["weights"] == 203_530 * 4
    assert all(op.dtype == "fp32" and op.act_bits == 32 for op in wl.ops)


def test_convnet_conv_bn_relu_pool():
    wl = import_onnx(convnet())
    ops = by_name(wl)
    assert "flat" not in ops  # a view
    assert ops["conv1"].kind == "conv" and ops["bn1"].kind == "norm"
    c1 = ops["conv1"].dims
    assert (c1["out_h"], c1["out_w"], c1["out_ch"], c1["bias"], c1["groups"]) == (32, 32, 8, 1, 1)
    dw = ops["dw"].dims
    # pooled 16×16; dilated 3×3 spans 5, pad 2, stride 2: (16 + 4 - 5) // 2 + 1 = 8
    assert (dw["out_h"], dw["out_w"], dw["groups"], dw["stride"], dw["bias"]) == (8, 8, 8, 2, 0)
    assert ops["dw"].macs == 2 * 8 * 8 * 8 * 9
    assert ops["conv1"].macs == 2 * 32 * 32 * 8 * 27
    assert ops["pool1"].dims == {"elements": 2 * 8 * 16 * 16, "inputs": 4, "flops_per_element": 4, "params": 0}
    assert ops["gap"].dims == {"elements": 16, "inputs": 64, "flops_per_element": 64, "params": 0}
    # conv 8·27 + 8, BN 4·8 (scale, shift, running mean and variance), depthwise 8·9, FC 8·10 + 10
    assert wl.parameters == 224 + 32 + 72 + 90
    expected = (2 * (2 * 32 * 32 * 8 * 27) + 2 * (2 * 8 * 32 * 32) + 2 * 8 * 32 * 32 + 2 * 8 * 16 * 16 * 4
                + 2 * 2 * 8 * 8 * 8 * 9 + 16 * 64 + 2 * 2 * 8 * 10)
    assert wl.flops == expected


def test_attention_block_stays_matmuls_and_softmax():
    b, s, d, h = 2, 16, 32, 4
    wl = import_onnx(attention(s, d, h), batch=b)
    ops = by_name(wl)
    assert {"q_split", "merge"}.isdisjoint(ops)  # reshapes cost nothing
    assert ops["q_heads"].kind == "elementwise" and ops["q_heads"].flops == 0 and ops["q_heads"].bytes > 0
    assert ops["scores"].dims == {"m": s, "n": s, "k": d // h, "batch": b * h}
    assert not ops["scores"].tags["weight"] and ops["scores"].parameters == 0
    assert ops["context"].dims == {"m": s, "n": d // h, "k": s, "batch": b * h}
    assert ops["softmax"].kind == "softmax" and ops["softmax"].dims["elements"] == b * h * s * s
    assert ops["scale"].dims["params"] == 0  # a scalar constant is not a parameter
    assert wl.parameters == 4 * d * d
    projections = 4 * 2 * b * s * d * d
    attn = 2 * 2 * b * h * s * s * (d // h)
    assert wl.flops == projections + attn + b * h * s * s * (1 + 5)


def test_unsupported_op_names_type_node_and_supported_list():
    boxes = helper.make_tensor_value_info("boxes", F, [1, 10, 4])
    scores = helper.make_tensor_value_info("scores", F, [1, 1, 10])
    node = helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["sel"], name="nms0")
    m = model([node], [boxes, scores], [helper.make_tensor_value_info("sel", TensorProto.INT64, [None, 3])], [])
    with pytest.raises(OnnxImportError) as err:
        import_onnx(m)
    msg = str(err.value)
    assert "'NonMaxSuppression'" in msg and "'nms0'" in msg and "supported:" in msg and "MatMul" in msg
    assert isinstance(err.value, TraceFormatError)  # the CLI maps it to exit status 2


def test_symbolic_dims_default_to_one_with_warning():
    with pytest.warns(UserWarning, match="'batch' set to 1"):
        wl = import_onnx(mlp())
    assert by_name(wl)["fc1"].dims["m"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert by_name(import_onnx(mlp(), batch=3))["fc1"].dims["m"] == 3
        assert by_name(import_onnx(mlp(), x=(5, 784)))["fc1"].dims["m"] == 5


def test_unknown_binding_lists_symbols():
    with pytest.raises(OnnxImportError, match="'batchsize'.*batch"):
        import_onnx(mlp(), batchsize=2)


def test_missing_onnx_package_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(OnnxImportError, match=r"pip install cosim-hw\[onnx\]"):
        import_onnx("model.onnx")


def test_file_round_trip_and_h100(tmp_path):
    path = tmp_path / "convnet.onnx"
    onnx.save(convnet(), str(path))
    wl = import_onnx(path)
    assert wl.name == "convnet"
    trace = save_trace(wl, tmp_path / "convnet.json")
    again = load_trace(trace)
    assert again.flops == wl.flops and again.parameters == wl.parameters
    for workload in (again, import_onnx(attention(), batch=2), import_onnx(mlp(), batch=8)):
        result = cosim.simulate(cosim.load_hardware("H100-SXM5-80GB"), workload)
        assert result.feasible and result.totals["latency_s"] > 0
        parts = sum(result.totals[f"energy_{c}_j"] for c in ("compute", "onchip", "dram", "interconnect", "static"))
        assert result.totals["energy_j"] == pytest.approx(parts, rel=1e-9)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(OnnxImportError, match="no such ONNX model"):
        import_onnx(tmp_path / "nope.onnx")
