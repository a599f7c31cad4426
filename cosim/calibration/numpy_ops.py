"""IR ops lowered to numpy callables that do the work the op describes (same dims, same dtype), for timing on a
host CPU. Operands are allocated and filled when an op is lowered, never inside the returned callable.

How each kind runs: ``matmul`` is one BLAS call (``np.matmul`` into a preallocated output, plus the bias add);
``conv`` is im2col (a strided window view copied into a column matrix) followed by one BLAS GEMM per group, with the
input padded ahead of time; ``attention`` is Q·Kᵀ, scale, causal mask, softmax and P·V as numpy matmuls (grouped
query heads broadcast over their KV head); ``softmax`` and ``norm`` work over rows of length tag ``row`` (default:
the largest power of two ≤ 4096 dividing ``elements``); ``elementwise`` runs the kernel named by tag ``kernel``
(``copy``, ``triad``, ``add``, ``scale``) or ``activation``, a pool or upsample by ``role``, and otherwise the
activation its ``inputs`` and ``flops_per_element`` identify (1: relu, 2: relu6, 4: silu, 8: gelu; two inputs: add,
or gated silu at 5 flops), falling back to a Horner polynomial of that many flops. A workload runs every op
``count`` times, each repeat with its own operands; data does not flow from one op to the next.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from cosim.calibration.lowering import (ACTIVATIONS, STREAM_SCALAR, UnsupportedOp, conv_geometry, norm_kind,
                                       poly_coefficients, row_length, elementwise_kernel, causal_allowed)
from workloads.ir import Op, Workload

NUMPY_DTYPES = {"fp64": np.float64, "fp32": np.float32, "fp16": np.float16}


def _dtype(op: Op):
    try:
        return NUMPY_DTYPES[op.dtype]
    except KeyError:
        raise UnsupportedOp(f"op {op.name!r}: numpy runs dtypes {', '.join(NUMPY_DTYPES)}, not {op.dtype!r}") from None


def _rand(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)


def _matmul(op: Op, rng, dt) -> Callable[[], object]:
    b, m, n, k = op.dim("batch", 1), op.dim("m"), op.dim("n"), op.dim("k")
    lead = (b,) if b > 1 else ()
    a = _rand(rng, lead + (m, k), dt)
    w = _rand(rng, (k, n) if op.tags.get("weight", True) else lead + (k, n), dt)
    out = np.empty(lead + (m, n), dt)
    if op.dim("bias"):
        bias = _rand(rng, (n,), dt)
        return lambda: np.add(np.matmul(a, w, out=out), bias, out=out)
    return lambda: np.matmul(a, w, out=out)


def _conv(op: Op, rng, dt) -> Callable[[], object]:
    geo = conv_geometry(op)
    nb, cin, cout, oh, ow = geo.batch, geo.in_ch, geo.out_ch, geo.out_h, geo.out_w
    kh, kw, s, g = geo.kernel_h, geo.kernel_w, geo.stride, geo.groups
    x = np.zeros((nb, cin, geo.padded_h, geo.padded_w), dt)
    h, w_ = min(geo.in_h, geo.padded_h), min(geo.in_w, geo.padded_w)
    x[:, :, geo.pad_top:geo.pad_top + h, geo.pad_left:geo.pad_left + w_] = _rand(rng, (nb, cin, h, w_), dt)
    w = _rand(rng, (g, cin // g * kh * kw, cout // g), dt)
    bias = _rand(rng, (cout,), dt) if op.dim("bias") else None
    rows = nb * oh * ow
    cols = np.empty((g, rows, cin // g * kh * kw), dt)
    out = np.empty((g, rows, cout // g), dt)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s, ::s][:, :, :oh, :ow]
    # (N, C, OH, OW, kh, kw) -> (groups, N·OH·OW, C/groups·kh·kw) without copying until the assignment below
    view = windows.reshape(nb, g, cin // g, oh, ow, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)

    def run():
        cols.reshape(g, nb, oh, ow, cin // g, kh, kw)[...] = view  # im2col
        np.matmul(cols, w, out=out)
        if bias is not None:
            out.reshape(g, rows, cout // g)[...] += bias.reshape(g, 1, cout // g)
        return out
    return run


def _attention(op: Op, rng, dt) -> Callable[[], object]:
    d = op.dim
    b, h, kvh, q, kv, hd = d("batch"), d("heads"), max(1, d("kv_heads", 1)), d("q_len"), d("kv_len"), d("head_dim")
    if h % kvh:
        raise UnsupportedOp(f"op {op.name!r}: heads={h} is not a multiple of kv_heads={kvh}")
    group = h // kvh
    qs = _rand(rng, (b, kvh, group * q, hd), dt)
    kt = _rand(rng, (b, kvh, hd, kv), dt)  # K stored transposed, as a KV cache laid out for Q·Kᵀ
    v = _rand(rng, (b, kvh, kv, hd), dt)
    scores = np.empty((b, kvh, group * q, kv), dt)
    out = np.empty((b, kvh, group * q, hd), dt)
    rowmax = np.empty((b, kvh, group * q, 1), dt)
    scale = dt(1.0 / math.sqrt(hd))
    allowed = causal_allowed(op)
    mask = None if allowed is None else np.tile(np.where(allowed, 0.0, -np.inf).astype(dt), (group, 1))

    def run():
        np.matmul(qs, kt, out=scores)
        np.multiply(scores, scale, out=scores)
        if mask is not None:
            np.add(scores, mask, out=scores)
        np.max(scores, axis=-1, keepdims=True, out=rowmax)
        np.subtract(scores, rowmax, out=scores)
        np.exp(scores, out=scores)
        np.sum(scores, axis=-1, keepdims=True, out=rowmax)
        np.divide(scores, rowmax, out=scores)
        return np.matmul(scores, v, out=out)
    return run


def _softmax(op: Op, rng, dt) -> Callable[[], object]:
    row = row_length(op)
    x = _rand(rng, (op.dim("elements") // row, row), dt)
    out = np.empty_like(x)
    red = np.empty((x.shape[0], 1), dt)

    def run():
        np.max(x, axis=1, keepdims=True, out=red)
        np.subtract(x, red, out=out)
        np.exp(out, out=out)
        np.sum(out, axis=1, keepdims=True, out=red)
        return np.divide(out, red, out=out)
    return run


def _norm(op: Op, rng, dt) -> Callable[[], object]:
    kind = norm_kind(op)
    row = row_length(op)
    x = _rand(rng, (op.dim("elements") // row, row), dt)
    res = _rand(rng, x.shape, dt) if op.dim("inputs", 1) > 1 else None
    gamma, beta = _rand(rng, (row,), dt), _rand(rng, (row,), dt)
    out = np.empty_like(x)
    stat = np.empty((x.shape[0], 1), dt)
    eps = dt(1e-5)

    def run():
        src = np.add(x, res, out=out) if res is not None else x
        if kind == "batchnorm":  # inference: a per-channel scale and shift
            return np.add(np.multiply(src, gamma, out=out), beta, out=out)
        if kind == "layernorm":
            np.mean(src, axis=1, keepdims=True, out=stat)
            np.subtract(src, stat, out=out)
            src = out
        np.mean(np.square(src), axis=1, keepdims=True, out=stat)
        np.sqrt(stat + eps, out=stat)
        np.divide(src, stat, out=out)
        np.multiply(out, gamma, out=out)
        return np.add(out, beta, out=out) if kind == "layernorm" else out
    return run


def _activation(name: str, x: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> Callable[[], object]:
    dt = x.dtype.type
    if name == "relu":
        return lambda: np.maximum(x, 0, out=out)
    if name == "relu6":
        return lambda: np.clip(x, 0, 6, out=out)
    if name == "tanh":
        return lambda: np.tanh(x, out=out)
    if name == "silu":
        def silu():
            np.negative(x, out=tmp)
            np.exp(tmp, out=tmp)
            np.add(tmp, 1, out=tmp)
            return np.divide(x, tmp, out=out)
        return silu
    if name != "gelu":
        raise UnsupportedOp(f"activation {name!r}; supported: {', '.join(ACTIVATIONS)}")
    c, a = dt(math.sqrt(2 / math.pi)), dt(0.044715)

    def gelu():  # tanh approximation: 0.5·x·(1 + tanh(c·x·(1 + a·x²)))
        np.multiply(x, x, out=tmp)
        np.multiply(tmp, a, out=tmp)
        np.add(tmp, 1, out=tmp)
        np.multiply(tmp, x, out=tmp)
        np.multiply(tmp, c, out=tmp)
        np.tanh(tmp, out=tmp)
        np.add(tmp, 1, out=tmp)
        np.multiply(x, tmp, out=out)
        return np.multiply(out, dt(0.5), out=out)
    return gelu


def _elementwise(op: Op, rng, dt) -> Callable[[], object]:
    kernel = elementwise_kernel(op)
    n, inputs = op.dim("elements"), max(1, op.dim("inputs", 1))
    out = np.empty(n, dt)
    if kernel in ("pool_max", "pool_avg"):  # reduce windows of `inputs` elements
        x = _rand(rng, (n, inputs), dt)
        reduce = np.max if kernel == "pool_max" else np.mean
        return lambda: reduce(x, axis=1, out=out)
    if kernel == "upsample":
        factor = 4 if n % 4 == 0 else 1
        x = _rand(rng, (n // factor, 1), dt)
        return lambda: np.copyto(out.reshape(-1, factor), x)
    xs = [_rand(rng, (n,), dt) for _ in range(inputs)]
    tmp = np.empty(n, dt)
    if kernel == "copy":
        return lambda: np.copyto(out, xs[0])
    if kernel == "scale":
        return lambda: np.multiply(xs[0], dt(STREAM_SCALAR), out=out)
    if kernel == "triad":
        return lambda: np.add(xs[0], np.multiply(xs[1], dt(STREAM_SCALAR), out=out), out=out)
    if kernel == "add":
        return lambda: np.add(xs[0], xs[1], out=out)
    if kernel == "gated_silu":
        act = _activation("silu", xs[0], out, tmp)
        return lambda: np.multiply(act(), xs[1], out=out)
    if kernel in ACTIVATIONS:
        return _activation(kernel, xs[0], out, tmp)
    coeffs = [dt(c) for c in poly_coefficients(op)]

    def horner():  # `flops_per_element` operations per element over the summed inputs
        acc = xs[0] if inputs == 1 else np.add(xs[0], xs[1], out=tmp)
        for extra in xs[2:]:
            acc = np.add(acc, extra, out=tmp)
        np.multiply(acc, coeffs[0], out=out)
        for c in coeffs[1:]:
            np.add(out, c, out=out)
            np.multiply(out, acc, out=out)
        return out
    return horner


def _gather(op: Op, rng, dt) -> Callable[[], object]:
    table = _rand(rng, (max(1, op.dim("table_rows")), op.dim("row_elems")), dt)
    idx = rng.integers(0, table.shape[0], op.dim("rows"))
    out = np.empty((op.dim("rows"), op.dim("row_elems")), dt)
    return lambda: np.take(table, idx, axis=0, out=out)


def _kv_write(op: Op, rng, dt) -> Callable[[], object]:
    x = _rand(rng, (op.dim("elements"),), dt)
    cache = np.zeros(4 * op.dim("elements"), dt)  # the new entries land in a larger cache
    return lambda: np.copyto(cache[op.dim("elements"):2 * op.dim("elements")], x)


def _routing(op: Op, rng, dt) -> Callable[[], object]:
    t, e, top = op.dim("tokens"), op.dim("experts"), max(1, op.dim("top_k"))
    soft = _softmax(Op(op.name, "softmax", {"elements": t * e}, tags={"row": e}, dtype=op.dtype), rng, dt)
    return lambda: np.argpartition(soft(), e - top, axis=1)[:, e - top:]


LOWERINGS: dict[str, Callable] = {"matmul": _matmul, "conv": _conv, "attention": _attention, "softmax": _softmax,
                                  "norm": _norm, "elementwise": _elementwise, "gather": _gather,
                                  "kv_write": _kv_write, "routing": _routing}


def lower_op(op: Op, rng: np.random.Generator | None = None) -> Callable[[], object]:
    """A callable running one instance of ``op`` on freshly allocated random operands."""
    if op.kind not in LOWERINGS:
        raise UnsupportedOp(f"op {op.name!r}: kind {op.kind!r} has no numpy lowering; supported: "
                            f"{', '.join(LOWERINGS)}")
    return LOWERINGS[op.kind](op, rng if rng is not None else np.random.default_rng(0), _dtype(op))


def lower_workload(workload: Workload, rng: np.random.Generator | None = None) -> Callable[[], None]:
    """A callable running every op of ``workload`` ``count`` times, back to back, in order."""
    rng = rng if rng is not None else np.random.default_rng(0)
    calls = [lower_op(op, rng) for op in workload.ops for _ in range(op.count)]

    def run() -> None:
        for call in calls:
            call()
    return run
