"""IR ops lowered to PyTorch calls on a device (``cuda``, or ``cpu`` for tests), for the ``cuda`` board. The
``torch`` module is passed in, so this module imports without PyTorch and :data:`LOWERINGS` can be inspected anywhere.

GEMMs are ``torch.matmul``/``addmm`` into preallocated outputs (``tf32`` runs fp32 with TF32 tensor cores allowed);
convolutions ``conv2d`` on an input padded ahead of time; attention is ``scaled_dot_product_attention`` (grouped
query heads with ``enable_gqa`` where PyTorch has it, else K/V expanded ahead of time); norms ``layer_norm`` /
``rms_norm``; elementwise kernels as in :mod:`cosim.calibration.lowering`; all-reduce ``torch.cuda.nccl.all_reduce``
over the op's ``group`` GPUs. Operands are allocated when an op is lowered, never inside the returned callable.
"""

from __future__ import annotations

from typing import Any, Callable

from cosim.calibration.lowering import (ACTIVATIONS, STREAM_SCALAR, UnsupportedOp, causal_allowed, conv_geometry,
                                       elementwise_kernel, norm_kind, poly_coefficients, row_length)
from workloads.ir import Op, Workload

TORCH_DTYPES = {"fp64": "float64", "fp32": "float32", "tf32": "float32", "fp16": "float16", "bf16": "bfloat16"}


class _Ctx:
    """What every lowering needs: the torch module, the device, a seeded generator and the op's dtype."""

    def __init__(self, torch: Any, device: str, op: Op, seed: int) -> None:
        if op.dtype not in TORCH_DTYPES:
            raise UnsupportedOp(f"op {op.name!r}: dtype {op.dtype!r}; supported: {', '.join(TORCH_DTYPES)}")
        self.torch, self.device, self.op = torch, device, op
        self.dtype = getattr(torch, TORCH_DTYPES[op.dtype])
        self.gen = torch.Generator(device=device)
        self.gen.manual_seed(seed)

    def rand(self, *shape: int):
        return self.torch.randn(shape, dtype=self.dtype, device=self.device, generator=self.gen)

    def empty(self, *shape: int):
        return self.torch.empty(shape, dtype=self.dtype, device=self.device)


def _matmul(c: _Ctx) -> Callable[[], object]:
    op, torch = c.op, c.torch
    b, m, n, k = op.dim("batch", 1), op.dim("m"), op.dim("n"), op.dim("k")
    lead = (b,) if b > 1 else ()
    a = c.rand(*lead, m, k)
    w = c.rand(k, n) if op.tags.get("weight", True) else c.rand(*lead, k, n)
    out = c.empty(*lead, m, n)
    bias = c.rand(n) if op.dim("bias") else None
    if bias is not None and not lead:
        run = lambda: torch.addmm(bias, a, w, out=out)  # noqa: E731
    elif bias is not None:
        run = lambda: torch.add(torch.matmul(a, w, out=out), bias, out=out)  # noqa: E731
    else:
        run = lambda: torch.matmul(a, w, out=out)  # noqa: E731
    if op.dtype != "tf32":
        return run

    def tf32():
        torch.backends.cuda.matmul.allow_tf32 = True
        try:
            return run()
        finally:
            torch.backends.cuda.matmul.allow_tf32 = False
    return tf32


def _conv(c: _Ctx) -> Callable[[], object]:
    geo = conv_geometry(c.op)
    x = c.torch.zeros((geo.batch, geo.in_ch, geo.padded_h, geo.padded_w), dtype=c.dtype, device=c.device)
    h, w_ = min(geo.in_h, geo.padded_h), min(geo.in_w, geo.padded_w)
    x[:, :, geo.pad_top:geo.pad_top + h, geo.pad_left:geo.pad_left + w_] = c.rand(geo.batch, geo.in_ch, h, w_)
    w = c.rand(geo.out_ch, geo.in_ch // geo.groups, geo.kernel_h, geo.kernel_w)
    bias = c.rand(geo.out_ch) if c.op.dim("bias") else None
    conv2d = c.torch.nn.functional.conv2d
    return lambda: conv2d(x, w, bias, stride=geo.stride, padding=0, groups=geo.groups)


def _attention(c: _Ctx) -> Callable[[], object]:
    d, torch = c.op.dim, c.torch
    b, h, kvh, q, kv, hd = d("batch"), d("heads"), max(1, d("kv_heads", 1)), d("q_len"), d("kv_len"), d("head_dim")
    if h % kvh:
        raise UnsupportedOp(f"op {c.op.name!r}: heads={h} is not a multiple of kv_heads={kvh}")
    qs, k, v = c.rand(b, h, q, hd), c.rand(b, kvh, kv, hd), c.rand(b, kvh, kv, hd)
    allowed = causal_allowed(c.op)
    square = allowed is not None and q == kv
    mask = None if allowed is None or square else torch.as_tensor(allowed, device=c.device)
    sdpa = torch.nn.functional.scaled_dot_product_attention
    if kvh == h:
        return lambda: sdpa(qs, k, v, attn_mask=mask, is_causal=square)
    try:
        sdpa(qs[:, :, :1], k[:, :, :1], v[:, :, :1], enable_gqa=True)
        return lambda: sdpa(qs, k, v, attn_mask=mask, is_causal=square, enable_gqa=True)
    except TypeError:  # PyTorch < 2.5: expand the KV heads once, outside the timed call
        k, v = k.repeat_interleave(h // kvh, dim=1), v.repeat_interleave(h // kvh, dim=1)
        return lambda: sdpa(qs, k, v, attn_mask=mask, is_causal=square)


def _rows(c: _Ctx):
    row = row_length(c.op)
    return c.rand(c.op.dim("elements") // row, row), row


def _softmax(c: _Ctx) -> Callable[[], object]:
    x, _ = _rows(c)
    return lambda: c.torch.softmax(x, dim=-1)


def _norm(c: _Ctx) -> Callable[[], object]:
    kind, torch = norm_kind(c.op), c.torch
    x, row = _rows(c)
    res = c.rand(*x.shape) if c.op.dim("inputs", 1) > 1 else None
    gamma, beta, buf = c.rand(row), c.rand(row), c.empty(*x.shape)
    F = torch.nn.functional

    def source():
        return torch.add(x, res, out=buf) if res is not None else x
    if kind == "layernorm":
        return lambda: F.layer_norm(source(), (row,), gamma, beta)
    if kind == "batchnorm":
        return lambda: torch.addcmul(beta, source(), gamma)
    if hasattr(F, "rms_norm"):
        return lambda: F.rms_norm(source(), (row,), gamma)
    return lambda: (lambda s: s * torch.rsqrt(s.pow(2).mean(-1, keepdim=True) + 1e-5) * gamma)(source())


def _activation(torch: Any, name: str) -> Callable:
    F = torch.nn.functional
    table = {"relu": F.relu, "relu6": F.relu6, "silu": F.silu, "tanh": torch.tanh,
             "gelu": lambda t: F.gelu(t, approximate="tanh")}
    if name not in table:
        raise UnsupportedOp(f"activation {name!r}; supported: {', '.join(ACTIVATIONS)}")
    return table[name]


def _elementwise(c: _Ctx) -> Callable[[], object]:
    kernel, torch = elementwise_kernel(c.op), c.torch
    n, inputs = c.op.dim("elements"), max(1, c.op.dim("inputs", 1))
    if kernel in ("pool_max", "pool_avg"):
        x = c.rand(n, inputs)
        return (lambda: x.amax(dim=1)) if kernel == "pool_max" else (lambda: x.mean(dim=1))
    if kernel == "upsample":
        factor = 4 if n % 4 == 0 else 1
        x, out = c.rand(n // factor, 1), c.empty(n // factor, factor)
        return lambda: out.copy_(x.expand(-1, factor))
    xs, out = [c.rand(n) for _ in range(inputs)], c.empty(n)
    if kernel == "copy":
        return lambda: out.copy_(xs[0])
    if kernel == "scale":
        return lambda: torch.mul(xs[0], STREAM_SCALAR, out=out)
    if kernel == "triad":
        return lambda: torch.add(xs[0], xs[1], alpha=STREAM_SCALAR, out=out)
    if kernel == "add":
        return lambda: torch.add(xs[0], xs[1], out=out)
    if kernel == "gated_silu":
        silu = torch.nn.functional.silu
        return lambda: torch.mul(silu(xs[0]), xs[1], out=out)
    if kernel in ACTIVATIONS:
        act = _activation(torch, kernel)
        return lambda: act(xs[0])
    coeffs = poly_coefficients(c.op)

    def horner():
        acc = xs[0] if inputs == 1 else sum(xs[1:], xs[0])
        torch.mul(acc, coeffs[0], out=out)
        for coef in coeffs[1:]:
            out.add_(coef).mul_(acc)
        return out
    return horner


def _gather(c: _Ctx) -> Callable[[], object]:
    table = c.rand(max(1, c.op.dim("table_rows")), c.op.dim("row_elems"))
    idx = c.torch.randint(0, table.shape[0], (c.op.dim("rows"),), device=c.device, generator=c.gen)
    return lambda: c.torch.nn.functional.embedding(idx, table)


def _kv_write(c: _Ctx) -> Callable[[], object]:
    n = c.op.dim("elements")
    x, cache = c.rand(n), c.torch.zeros(4 * n, dtype=c.dtype, device=c.device)
    return lambda: cache[n:2 * n].copy_(x)


def _routing(c: _Ctx) -> Callable[[], object]:
    t, e, top = c.op.dim("tokens"), c.op.dim("experts"), max(1, c.op.dim("top_k"))
    x = c.rand(t, e)
    return lambda: c.torch.topk(c.torch.softmax(x, dim=-1), top, dim=-1)


def _collective(c: _Ctx) -> Callable[[], object]:
    torch, op = c.torch, c.op
    group = max(1, op.dim("group", 1))
    if op.tags.get("collective") != "all_reduce":
        raise UnsupportedOp(f"op {op.name!r}: only all_reduce collectives are measured")
    if not str(c.device).startswith("cuda") or torch.cuda.device_count() < group:
        raise UnsupportedOp(f"op {op.name!r}: all_reduce over {group} GPUs needs {group} CUDA devices")
    tensors = [torch.randn(op.dim("elements"), dtype=c.dtype, device=f"cuda:{i}") for i in range(group)]

    def run():
        torch.cuda.nccl.all_reduce(tensors)
        for i in range(1, group):  # the event timer watches device 0; wait for the others too
            torch.cuda.synchronize(i)
    return run


LOWERINGS: dict[str, Callable[[_Ctx], Callable[[], object]]] = {
    "matmul": _matmul, "conv": _conv, "attention": _attention, "softmax": _softmax, "norm": _norm,
    "elementwise": _elementwise, "gather": _gather, "kv_write": _kv_write, "routing": _routing,
    "collective": _collective}


def lower_op(torch: Any, op: Op, device: str = "cuda", seed: int = 0) -> Callable[[], object]:
    """A callable running one instance of ``op`` with PyTorch on ``device``."""
    if op.kind not in LOWERINGS:
        raise UnsupportedOp(f"op {op.name!r}: kind {op.kind!r} has no PyTorch lowering; supported: "
                            f"{', '.join(LOWERINGS)}")
    return LOWERINGS[op.kind](_Ctx(torch, device, op, seed))


def lower_workload(torch: Any, workload: Workload, device: str = "cuda") -> Callable[[], None]:
    """A callable running every op of ``workload`` ``count`` times back to back (each repeat, e.g. each layer,
    with its own weights)."""
    calls = [lower_op(torch, op, device, seed=i) for i, op in enumerate(o for o in workload.ops
                                                                          for _ in range(o.count))]

    def run() -> None:
        for call in calls:
            call()
    return run
