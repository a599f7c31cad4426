"""What an IR op means as a kernel, shared by every backend (numpy here, PyTorch for CUDA): the elementwise kernel
an op names, the norm it is, the row length of softmax/norm ops, convolution padding, the causal mask. Backends
only map these names to their own calls."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from workloads.ir import Op, activation_of, norm_of

ACTIVATIONS = ("relu", "relu6", "silu", "gelu", "tanh")
NORMS = ("layernorm", "rmsnorm", "batchnorm")
STREAM_SCALAR = 3.0


class UnsupportedOp(ValueError):
    """An op a backend cannot run (kind or dtype); the message says which and what is supported."""


def row_length(op: Op) -> int:
    """Row length of a softmax/norm op: tag ``row``, else the largest power of two ≤ 4096 dividing ``elements``."""
    elements = op.dim("elements")
    if "row" in op.tags:
        row = int(op.tags["row"])
        if row < 1 or elements % row:
            raise UnsupportedOp(f"op {op.name!r}: tag row={row} must divide elements={elements}")
        return row
    return math.gcd(elements, 4096) or 1


def norm_kind(op: Op) -> str:
    """``layernorm``, ``rmsnorm`` or ``batchnorm`` (``workloads.ir.norm_of``); another norm cannot be lowered."""
    kind = norm_of(op)
    if kind not in NORMS:
        raise UnsupportedOp(f"op {op.name!r}: norm {kind!r}; supported: {', '.join(NORMS)}")
    return kind


def elementwise_kernel(op: Op) -> str:
    """The kernel an elementwise op runs: tag ``kernel`` (copy, scale, add, triad), a pool or upsample by ``role``,
    tag ``activation``, else what its inputs and flops identify; ``poly`` (a Horner polynomial of that many flops)
    when nothing does."""
    tags, inputs, flops = op.tags, max(1, op.dim("inputs", 1)), op.dim("flops_per_element", 1)
    if "kernel" in tags:
        return str(tags["kernel"])
    if tags.get("role") == "pool":
        return "pool_max" if tags.get("pool", "max") == "max" else "pool_avg"
    if tags.get("role") == "upsample":
        return "upsample"
    activation = activation_of(op)
    if activation is not None:
        return activation
    if flops == 0:
        return "copy"
    if inputs == 2:
        return {1: "add", 2: "triad"}.get(flops, "poly")
    return "poly"


def poly_coefficients(op: Op) -> list[float]:
    """Coefficients of the Horner polynomial that does ``flops_per_element`` operations per element."""
    return [1.0 + 0.01 * i for i in range((max(1, op.dim("flops_per_element", 1)) + 1) // 2)]


@dataclass(frozen=True)
class ConvGeometry:
    """A convolution's shape with the padding that makes its output exactly ``out_h`` × ``out_w``: the input is
    placed at (``pad_top``, ``pad_left``) of a ``padded_h`` × ``padded_w`` zero frame (cropped if larger)."""

    batch: int
    in_ch: int
    out_ch: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    kernel_h: int
    kernel_w: int
    stride: int
    groups: int
    padded_h: int
    padded_w: int
    pad_top: int
    pad_left: int


def conv_geometry(op: Op) -> ConvGeometry:
    d = op.dim
    cin, cout, g = d("in_ch"), d("out_ch"), max(1, d("groups", 1))
    if cin % g or cout % g:
        raise UnsupportedOp(f"op {op.name!r}: groups={g} must divide in_ch={cin} and out_ch={cout}")
    s, kh, kw = max(1, d("stride", 1)), d("kernel_h", 1), d("kernel_w", 1)
    need_h, need_w = (d("out_h") - 1) * s + kh, (d("out_w") - 1) * s + kw
    return ConvGeometry(d("batch"), cin, cout, d("in_h"), d("in_w"), d("out_h"), d("out_w"), kh, kw, s, g,
                        need_h, need_w, max(0, need_h - d("in_h")) // 2, max(0, need_w - d("in_w")) // 2)


def causal_allowed(op: Op) -> np.ndarray | None:
    """For a causal attention op with several queries: a (q_len, kv_len) boolean array, True where a query sees a
    key (keys up to its own position, the earlier ``kv_len - q_len`` all visible). None when nothing is masked."""
    q, kv = op.dim("q_len"), op.dim("kv_len")
    if not op.dim("causal") or q <= 1:
        return None
    return np.arange(kv)[None, :] <= (kv - q) + np.arange(q)[:, None]
