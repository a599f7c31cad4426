"""Import an ONNX graph as a cosim ``Workload`` (needs the optional ``onnx`` package: ``pip install cosim-hw[onnx]``).

Shapes come from ``onnx.shape_inference`` after symbolic input dims are bound: ``import_onnx(path, batch=8,
seq=128)`` sets every input dim named ``batch`` / ``seq``; an input name with a tuple sets that input's whole shape;
an unbound symbolic dim becomes 1 with a warning. Each node becomes at most one op:

- MatMul / Gemm → ``matmul``; a constant operand (initializer or constant-folded) is the weight (``weight=True``),
  two activations give an activation × activation GEMM (``weight=False``) over the broadcast batch dims.
- Conv (1-D or 2-D; group, strides, pads, dilation — pads and dilation only shape the inferred output) → ``conv``.
- Attention written as MatMul → Softmax → MatMul stays as two activation GEMMs and a softmax: exact FLOPs and bytes,
  but not priced as a fused (FlashAttention-style) kernel.
- Elementwise and activation ops → ``elementwise`` with FLOPs per element (a transcendental counts as one);
  normalizations → ``norm``; Softmax / LogSoftmax → ``softmax``; pooling and reductions → ``elementwise`` reading
  ``inputs`` ≈ input/output elements per output element.
- Gather from a constant table (an embedding) → ``gather``.
- Data movement (Transpose, Concat, Slice, Split, Pad, Expand, Tile, Cast, Gather of activations …) → an
  ``elementwise`` op with zero FLOPs that reads and writes its tensor; views (Reshape, Flatten, Squeeze, Unsqueeze,
  Identity, Dropout) and shape arithmetic (Shape, Constant, nodes whose inputs are all constant or only integer
  shape tensors) cost nothing and emit no op.

Parameters: a weight GEMM's K×N (+N bias), a conv's filters (+bias), an embedding table, and for other ops the
elements of their constant float inputs larger than a scalar (norm scales and shifts, BatchNorm running statistics,
biases added after a MatMul). Any other operator raises :class:`OnnxImportError` naming it, its node and the
supported ones.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

from workloads.ir import Op, Workload
from workloads.trace_io import TraceFormatError

INSTALL_HINT = "install it with `pip install cosim-hw[onnx]` (or `pip install onnx`)"

_ELEMENTWISE_FLOPS = {
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Neg": 1, "Abs": 1, "Relu": 1, "Max": 1, "Min": 1, "Sum": 1,
    "Mean": 2, "Reciprocal": 1, "Exp": 1, "Log": 1, "Sqrt": 1, "Pow": 1, "Erf": 1, "Tanh": 1, "Sin": 1, "Cos": 1,
    "Floor": 1, "Ceil": 1, "Round": 1, "Sign": 1, "Where": 1, "Equal": 1, "Less": 1, "Greater": 1, "Not": 1,
    "Clip": 2, "LeakyRelu": 2, "PRelu": 2, "Elu": 3, "Selu": 4, "Sigmoid": 3, "HardSigmoid": 3, "HardSwish": 4,
    "Softplus": 3, "Softsign": 3, "Mish": 5, "Gelu": 8,
}
_NORM_FLOPS = {"LayerNormalization": 7, "InstanceNormalization": 7, "GroupNormalization": 7,
               "BatchNormalization": 2}  # inference BatchNorm folds to a per-channel scale and shift
_SOFTMAX_FLOPS = 5  # max, subtract, exp, sum, divide
_POOLS = ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool")
_REDUCES = ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL2", "ReduceSumSquare")
_MOVEMENT = ("Transpose", "Concat", "Split", "Slice", "Pad", "Expand", "Tile", "Cast", "CastLike", "Gather",
             "DepthToSpace", "SpaceToDepth", "Resize", "Upsample")
_FREE = ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Constant", "Shape", "Size",
         "ConstantOfShape", "Range")
SUPPORTED_OPS = tuple(sorted({"MatMul", "Gemm", "Conv", "Softmax", "LogSoftmax", *_ELEMENTWISE_FLOPS, *_NORM_FLOPS,
                              *_POOLS, *_REDUCES, *_MOVEMENT, *_FREE}))

# ONNX TensorProto element types → cosim datatypes (the ones arithmetic runs in).
_DATA_TYPES = {1: "fp32", 10: "fp16", 16: "bf16", 11: "fp64", 2: "int8", 3: "int8", 17: "fp8", 18: "fp8", 19: "fp8",
               20: "fp8"}
_BITS = {"fp32": 32, "fp16": 16, "bf16": 16, "fp64": 64, "int8": 8, "fp8": 8}
_FLOAT_TYPES = (1, 10, 11, 16, 17, 18, 19, 20)


class OnnxImportError(TraceFormatError):
    """An ONNX model cannot be imported: onnx missing, unreadable file, unsupported operator or unknown shape."""


def _onnx():
    try:
        import onnx
    except ImportError:
        raise OnnxImportError(f"importing ONNX models needs the optional onnx package; {INSTALL_HINT}") from None
    return onnx


def _load(path_or_model, onnx) -> tuple[Any, str]:
    if isinstance(path_or_model, (str, Path)):
        path = Path(path_or_model)
        if not path.exists():
            raise OnnxImportError(f"{path}: no such ONNX model")
        try:
            return onnx.load(str(path)), path.stem
        except Exception as exc:  # protobuf decode errors
            raise OnnxImportError(f"{path}: cannot read ONNX model: {exc}") from None
    if isinstance(path_or_model, onnx.ModelProto):
        model = onnx.ModelProto()
        model.CopyFrom(path_or_model)
        return model, model.graph.name or "onnx-model"
    raise OnnxImportError(f"expected an ONNX file path or onnx.ModelProto, got {type(path_or_model).__name__}")


def _bind(model, bindings: dict[str, Any]) -> dict[str, Any]:
    """Fix symbolic input dims in place; returns the bindings used. Unknown binding names are an error."""
    graph = model.graph
    inits = {t.name for t in graph.initializer}
    used: dict[str, Any] = {}
    inputs = [v for v in graph.input if v.name not in inits]
    symbols = {d.dim_param for v in inputs for d in v.type.tensor_type.shape.dim if d.dim_param}
    unknown = [name for name in bindings if name not in symbols and name not in {v.name for v in inputs}]
    if unknown:
        raise OnnxImportError(f"unknown shape binding {unknown[0]!r}; the model's symbolic dims and inputs are: "
                              f"{', '.join(sorted(symbols | {v.name for v in inputs})) or 'none'}")
    for value, in_value in [(v, True) for v in inputs] + [(v, False) for v in graph.output]:
        tensor_type = value.type.tensor_type
        if not in_value:  # output shapes are re-inferred from the bound inputs
            tensor_type.ClearField("shape")
            continue
        if value.name in bindings:
            shape = bindings[value.name]
            if not isinstance(shape, (tuple, list)) or not all(isinstance(s, int) and s >= 1 for s in shape):
                raise OnnxImportError(f"shape for input {value.name!r} must be a list of positive integers, "
                                      f"got {shape!r}")
            tensor_type.ClearField("shape")
            for s in shape:
                tensor_type.shape.dim.add().dim_value = s
            used[value.name] = list(shape)
            continue
        for i, dim in enumerate(tensor_type.shape.dim):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            symbol = dim.dim_param
            if symbol and symbol in bindings:
                size = bindings[symbol]
                if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                    raise OnnxImportError(f"dim {symbol!r} must be a positive integer, got {size!r}")
                used[symbol] = size
                dim.dim_value = size
            else:
                what = f"symbolic dim {symbol!r}" if symbol else f"unknown dim {i}"
                warnings.warn(f"ONNX input {value.name!r}: {what} set to 1; bind it with {symbol or 'a shape'}=N",
                              stacklevel=3)
                dim.dim_value = 1
    del graph.value_info[:]
    return used


class _Graph:
    """Shapes, element types and constant-ness of every tensor of an inferred graph."""

    def __init__(self, model) -> None:
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.types: dict[str, int] = {}
        self.constants: set[str] = set()
        graph = model.graph
        for init in graph.initializer:
            self.shapes[init.name] = tuple(int(d) for d in init.dims)
            self.types[init.name] = init.data_type
            self.constants.add(init.name)
        for value in [*graph.input, *graph.value_info, *graph.output]:
            tensor_type = value.type.tensor_type
            self.types.setdefault(value.name, tensor_type.elem_type)
            if tensor_type.HasField("shape") and all(d.HasField("dim_value") for d in tensor_type.shape.dim):
                self.shapes.setdefault(value.name, tuple(int(d.dim_value) for d in tensor_type.shape.dim))

    def shape(self, name: str, node) -> tuple[int, ...]:
        if name not in self.shapes:
            raise OnnxImportError(f"cannot infer the shape of tensor {name!r} at node {_label(node)} "
                                  f"({node.op_type}); bind the model's symbolic dims with NAME=VALUE")
        return self.shapes[name]

    def size(self, name: str, node) -> int:
        return math.prod(self.shape(name, node))

    def is_data(self, name: str) -> bool:
        return self.types.get(name) in _DATA_TYPES


def _label(node) -> str:
    return repr(node.name) if node.name else "<unnamed>"


def _attr(node, name: str, default):
    for a in node.attribute:
        if a.name == name:
            from onnx import helper

            return helper.get_attribute_value(a)
    return default


def import_onnx(path_or_model, **input_shapes: Any) -> Workload:
    """An ONNX model (a file path or ``onnx.ModelProto``) as a Workload; keyword arguments bind symbolic dims
    (``batch=8``) or whole input shapes (``input_ids=(1, 128)``)."""
    onnx = _onnx()
    model, name = _load(path_or_model, onnx)
    bindings = _bind(model, input_shapes)
    try:
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
    except Exception as exc:
        raise OnnxImportError(f"ONNX shape inference failed: {exc}") from None
    g = _Graph(model)
    wl = Workload(name, item_unit="sample", params={"source": str(path_or_model) if isinstance(
        path_or_model, (str, Path)) else "<onnx.ModelProto>", **bindings})
    peak_act = 0.0
    for index, node in enumerate(model.graph.node):
        op = _node_op(node, index, g)
        if op is None:
            continue
        wl.add(op)
        live = sum(g.size(t, node) * _BITS[_DATA_TYPES[g.types[t]]] / 8 for t in [*node.input, *node.output]
                   if t and t not in g.constants and g.is_data(t) and t in g.shapes)
        peak_act = max(peak_act, live)
    inputs = [v for v in model.graph.input if v.name not in g.constants and v.name in g.shapes]
    wl.items = float(g.shapes[inputs[0].name][0]) if inputs and g.shapes[inputs[0].name] else 1.0
    weights = sum(math.prod(g.shapes[t]) * _BITS[_DATA_TYPES[g.types[t]]] / 8
                  for t in (i.name for i in model.graph.initializer) if g.types[t] in _FLOAT_TYPES)
    wl.memory_bytes = {"weights": float(weights), "kv_cache": 0.0, "activations": float(peak_act)}
    return wl


def _node_op(node, index: int, g: _Graph) -> Op | None:
    """The op of one node, or None for views, constants and shape arithmetic (marking constant outputs)."""
    kind = node.op_type
    if node.domain not in ("", "ai.onnx") or kind not in SUPPORTED_OPS:
        raise OnnxImportError(f"unsupported ONNX operator {kind!r}" + (f" (domain {node.domain!r})" if node.domain
                              else "") + f" at node {_label(node)}; supported: {', '.join(SUPPORTED_OPS)}")
    inputs = [t for t in node.input if t]
    if all(t in g.constants for t in inputs) or kind in ("Shape", "Size"):
        g.constants.update(t for t in node.output if t)  # constant folding
        return None
    if kind in _FREE:
        if all(t in g.constants for t in inputs[:1]):
            g.constants.update(t for t in node.output if t)
        return None
    if not any(g.is_data(t) for t in [*inputs, *node.output]):
        return None  # integer shape arithmetic
    out = node.output[0]
    name = node.name or f"{kind}_{index}"
    act = next((t for t in inputs if t not in g.constants and g.is_data(t)), out)
    dtype = _DATA_TYPES.get(g.types.get(out), _DATA_TYPES.get(g.types.get(act), "fp32"))
    const = [t for t in inputs if t in g.constants and g.types.get(t) in _FLOAT_TYPES]
    bits = dict(act_bits=_bits(g, act, dtype), weight_bits=_bits(g, const[0], dtype) if const else _bits(g, act, dtype),
                out_bits=_bits(g, out, dtype), dtype=dtype, tags={"onnx_op": kind})
    if kind == "MatMul":
        return _matmul(node, name, g, bits)
    if kind == "Gemm":
        return _gemm(node, name, g, bits)
    if kind == "Conv":
        return _conv(node, name, g, bits)
    elements = g.size(out, node)
    params = sum(g.size(t, node) for t in const if g.size(t, node) > 1)
    in_ratio = max(1, round(g.size(act, node) / elements)) if elements else 1

    def simple(op_kind: str, flops: int, reads: int) -> Op:
        return Op(name, op_kind, {"elements": elements, "inputs": reads, "flops_per_element": flops,
                                  "params": params}, **bits)

    if kind in _NORM_FLOPS:
        return simple("norm", _NORM_FLOPS[kind], 1)
    if kind in ("Softmax", "LogSoftmax"):
        return simple("softmax", _SOFTMAX_FLOPS, 1)
    if kind in _POOLS:
        window = math.prod(_attr(node, "kernel_shape", [])) if not kind.startswith("Global") else in_ratio
        return simple("elementwise", int(window), in_ratio)
    if kind in _REDUCES:
        return simple("elementwise", in_ratio, in_ratio)
    if kind == "Gather" and inputs[0] in g.constants and int(_attr(node, "axis", 0)) == 0:
        table = g.shape(inputs[0], node)
        return Op(name, "gather", {"rows": g.size(inputs[1], node), "table_rows": table[0],
                                   "row_elems": math.prod(table[1:])}, **bits)
    if kind in _MOVEMENT:
        return simple("elementwise", 0, 1)
    reads = max(1, sum(1 for t in inputs if t not in g.constants))
    return simple("elementwise", _ELEMENTWISE_FLOPS[kind], reads)


def _bits(g: _Graph, tensor: str, default: str) -> int:
    return _BITS[_DATA_TYPES.get(g.types.get(tensor), default)]


def _matmul(node, name: str, g: _Graph, bits: dict) -> Op:
    a_name, b_name = node.input[0], node.input[1]
    a, b = list(g.shape(a_name, node)), list(g.shape(b_name, node))
    a = [1, *a] if len(a) == 1 else a
    b = [*b, 1] if len(b) == 1 else b
    k = a[-1]
    if b_name in g.constants and len(b) == 2:
        return Op(name, "matmul", {"m": math.prod(a[:-1]), "n": b[-1], "k": k, "batch": 1}, **_weight(bits, True))
    if a_name in g.constants and len(a) == 2 and b_name not in g.constants:
        # W (M×K) · X (…×K×N): the transposed product X^T W^T, with the weight as the N operand
        return Op(name, "matmul", {"m": math.prod(b[:-2]) * b[-1], "n": a[0], "k": k, "batch": 1},
                  **_weight(bits, True))
    if a_name in g.constants or b_name in g.constants:
        raise OnnxImportError(f"MatMul at node {_label(node)} has a batched constant operand; only 2-D weights are "
                              "supported")
    batch_dims = _broadcast(a[:-2], b[:-2])
    return Op(name, "matmul", {"m": a[-2], "n": b[-1], "k": k, "batch": math.prod(batch_dims)},
              **_weight(bits, False))


def _gemm(node, name: str, g: _Graph, bits: dict) -> Op:
    a, b = g.shape(node.input[0], node), g.shape(node.input[1], node)
    m, k = (a[1], a[0]) if _attr(node, "transA", 0) else (a[0], a[1])
    n = b[0] if _attr(node, "transB", 0) else b[1]
    weight = node.input[1] in g.constants
    bias = int(len(node.input) > 2 and bool(node.input[2]) and node.input[2] in g.constants and weight)
    return Op(name, "matmul", {"m": m, "n": n, "k": k, "batch": 1, "bias": bias}, **_weight(bits, weight))


def _conv(node, name: str, g: _Graph, bits: dict) -> Op:
    x, w, y = g.shape(node.input[0], node), g.shape(node.input[1], node), g.shape(node.output[0], node)
    if len(x) not in (3, 4):
        raise OnnxImportError(f"Conv at node {_label(node)} has {len(x) - 2} spatial dims; 1-D and 2-D are "
                              "supported")
    if len(x) == 3:  # 1-D conv as a 2-D conv of height 1
        x, w, y = (*x[:2], 1, x[2]), (*w[:2], 1, w[2]), (*y[:2], 1, y[2])
    strides = _attr(node, "strides", [1])
    bias = int(len(node.input) > 2 and bool(node.input[2]))
    dims = {"batch": x[0], "in_ch": x[1], "out_ch": w[0], "in_h": x[2], "in_w": x[3], "out_h": y[2], "out_w": y[3],
            "kernel_h": w[2], "kernel_w": w[3], "stride": int(strides[0]), "groups": int(_attr(node, "group", 1)),
            "bias": bias}
    return Op(name, "conv", dims, **bits)


def _weight(bits: dict, weight: bool) -> dict:
    return {**bits, "tags": {**bits["tags"], "weight": weight}}


def _broadcast(a: list[int], b: list[int]) -> list[int]:
    n = max(len(a), len(b))
    a, b = [1] * (n - len(a)) + a, [1] * (n - len(b)) + b
    return [max(x, y) for x, y in zip(a, b)]
