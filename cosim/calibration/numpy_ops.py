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

from workloads.ir import Op, Workload

NUMPY_DTYPES = {"fp64": np.float64, "fp32": np.float32, "fp16": np.float16}


class UnsupportedOp(ValueError):
    """An op this backend cannot run (kind or dtype); the message says which and what is supported."""


def _dtype(op: Op):
    try:
        return NUMPY_DTYPES[op.dtype]
    except KeyError:
        raise UnsupportedOp(f"op {op.name!r}: numpy runs dtypes {', '.join(NUMPY_DTYPES)}, not {op.dtype!r}") from None


def _rand(rng: np.random.Generator, shape, dtype) -> np.ndarray:
    return rng.standard_normal(shape, dtype=np.float32).astype(dtype, copy=False)


def row_length(op: Op) -> int:
    """Row length of a softmax/norm op: tag ``row``, else the largest power of two ≤ 4096 dividing ``elements``."""
    elements = op.dim("elements")
    if "row" in op.tags:
        row = int(op.tags["row"])
        if row < 1 or elements % row:
            raise UnsupportedOp(f"op {op.name!r}: tag row={row} must divide elements={elements}")
        return row
    return math.gcd(elements, 4096) or 1


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
    d = op.dim
    nb, cin, cout, oh, ow = d("batch"), d("in_ch"), d("out_ch"), d("out_h"), d("out_w")
    kh, kw, s, g = d("kernel_h", 1), d("kernel_w", 1), max(1, d("stride", 1)), max(1, d("groups", 1))
    if cin % g or cout % g:
        raise UnsupportedOp(f"op {op.name!r}: groups={g} must divide in_ch={cin} and out_ch={cout}")
    need_h, need_w = (oh - 1) * s + kh, (ow - 1) * s + kw
    ph, pw = max(0, need_h - d("in_h")), max(0, need_w - d("in_w"))
    x = np.zeros((nb, cin, max(need_h, d("in_h")), max(need_w, d("in_w"))), dt)
    x[:, :, ph // 2:ph // 2 + d("in_h"), pw // 2:pw // 2 + d("in_w")] = _rand(rng, (nb, cin, d("in_h"), d("in_w")), dt)
    w = _rand(rng, (g, cin // g * kh * kw, cout // g), dt)
    bias = _rand(rng, (cout,), dt) if d("bias") else None
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
    mask = None
    if d("causal") and q > 1:
        past = kv - q
        allowed = np.arange(kv)[None, :] <= past + np.arange(q)[:, None]
        mask = np.tile(np.where(allowed, 0.0, -np.inf).astype(dt), (group, 1))

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


def _norm_kind(op: Op) -> str:
    if "norm" in op.tags:
        return str(op.tags["norm"])
    if op.tags.get("role") == "bn":
        return "batchnorm"
    fused = 1 if op.dim("inputs", 1) > 1 else 0
    return {4: "rmsnorm", 7: "layernorm", 2: "batchnorm"}.get(op.dim("flops_per_element", 1) - fused, "layernorm")


def _norm(op: Op, rng, dt) -> Callable[[], object]:
    kind = _norm_kind(op)
    if kind not in ("layernorm", "rmsnorm", "batchnorm"):
        raise UnsupportedOp(f"op {op.name!r}: norm {kind!r}; supported: layernorm, rmsnorm, batchnorm")
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
    if name in ("silu", "swish"):
        def silu():
            np.negative(x, out=tmp)
            np.exp(tmp, out=tmp)
            np.add(tmp, 1, out=tmp)
            return np.divide(x, tmp, out=out)
        return silu
    if name == "gelu":  # tanh approximation
        c, a = dt(math.sqrt(2 / math.pi)), dt(0.044715)

        def gelu():  # 0.5·x·(1 + tanh(c·x·(1 + a·x²)))
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
    if name == "tanh":
        return lambda: np.tanh(x, out=out)
    raise UnsupportedOp(f"activation {name!r}; supported: relu, relu6, silu, gelu, tanh")


def _elementwise(op: Op, rng, dt) -> Callable[[], object]:
    n, inputs, flops = op.dim("elements"), max(1, op.dim("inputs", 1)), op.dim("flops_per_element", 1)
    role, kernel = op.tags.get("role"), op.tags.get("kernel")
    out = np.empty(n, dt)
    if role == "pool":  # reduce windows of `inputs` elements
        x = _rand(rng, (n, inputs), dt)
        if op.tags.get("pool", "max") == "max":
            return lambda: np.max(x, axis=1, out=out)
        return lambda: np.mean(x, axis=1, out=out)
    if role == "upsample":
        x = _rand(rng, (n // 4 or 1,), dt)
        return lambda: np.copyto(out.reshape(-1, 4)[:len(x)], x[:, None]) if n % 4 == 0 else np.copyto(out, x[0])
    xs = [_rand(rng, (n,), dt) for _ in range(inputs)]
    tmp = np.empty(n, dt)
    if kernel == "copy" or (kernel is None and flops == 0):
        return lambda: np.copyto(out, xs[0])
    if kernel == "scale":
        s = dt(1.0001)
        return lambda: np.multiply(xs[0], s, out=out)
    if kernel == "triad" or (kernel is None and inputs == 2 and flops == 2):
        s = dt(3.0)
        return lambda: np.add(xs[0], np.multiply(xs[1], s, out=out), out=out)
    if kernel == "add" or (kernel is None and inputs == 2 and flops == 1):
        return lambda: np.add(xs[0], xs[1], out=out)
    if kernel is None and inputs == 2 and flops == 5:  # gated silu: silu(gate) · up
        act = _activation("silu", xs[0], out, tmp)
        return lambda: np.multiply(act(), xs[1], out=out)
    name = op.tags.get("activation", kernel) or {1: "relu", 2: "relu6", 4: "silu", 8: "gelu"}.get(flops)
    if inputs == 1 and name is not None:
        return _activation(str(name), xs[0], out, tmp)
    coeffs = [dt(1.0 + 0.01 * i) for i in range((flops + 1) // 2)]

    def horner():  # `flops` operations per element over the summed inputs
        acc = xs[0] if inputs == 1 else np.add(xs[0], xs[1], out=tmp)
        for extra in xs[2:]:
            np.add(acc, extra, out=tmp)
            acc = tmp
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
