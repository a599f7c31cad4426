"""Layer-by-layer emission of conv nets into IR ops, tracking the activation shape (C, H, W).

Conventions: batch norm is a ``norm`` op owning 2×C parameters (scale and shift, as torchvision counts them; running
statistics are buffers); activations and residual adds are ``elementwise`` ops; a pool is an ``elementwise`` op whose
``inputs`` is the input/output size ratio; a fully connected layer is a weight ``matmul``. Ops carry a unique ``name``
and tag ``role`` (conv, fc, bn, act, pool, add, …) so that the spiking converter can map them.
"""

from __future__ import annotations

from math import ceil

from workloads.dtypes import dtype_bits
from workloads.ir import Op, Workload

_ACT_FLOPS = {"relu": 1, "relu6": 2, "swish": 4, "gelu": 8}


def same_out(size: int, kernel: int, stride: int, pad: int | None) -> int:
    """Output size of a convolution or pool; ``pad=None`` means TensorFlow SAME padding."""
    if pad is None:
        return ceil(size / stride)
    return (size + 2 * pad - kernel) // stride + 1


class Net:
    """Appends ops to a workload while tracking the activation shape of one image (``batch`` images per op)."""

    def __init__(self, wl: Workload, batch: int, shape: tuple[int, int, int], dtype: str = "fp16") -> None:
        self.wl, self.batch = wl, batch
        self.c, self.h, self.w = shape
        self.bits = dtype_bits(dtype)
        self.dtype = dtype if dtype in ("fp32", "tf32", "fp16", "bf16", "fp8", "int8") else "fp16"

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.c, self.h, self.w

    def _op(self, name: str, kind: str, role: str, **dims: int) -> Op:
        tags = dims.pop("_tags", {})
        op = Op(name, kind, dims, act_bits=self.bits, weight_bits=self.bits, out_bits=self.bits,
                tags={"role": role, **tags}, dtype=self.dtype)
        return self.wl.add(op)

    def conv(self, name: str, out_ch: int, k: int | tuple[int, int], stride: int | tuple[int, int] = 1,
             pad: int | None = -1, groups: int = 1, bias: bool = False, **tags) -> Op:
        """A 2-D convolution; ``pad=-1`` pads k//2 (PyTorch 'same' for odd kernels), ``None`` is TF SAME."""
        kh, kw = (k, k) if isinstance(k, int) else k
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        ph = kh // 2 if pad == -1 else pad
        pw = kw // 2 if pad == -1 else pad
        oh, ow = same_out(self.h, kh, sh, ph), same_out(self.w, kw, sw, pw)
        op = self._op(name, "conv", "conv", batch=self.batch, in_ch=self.c, out_ch=out_ch, in_h=self.h,
                      in_w=self.w, out_h=oh, out_w=ow, kernel_h=kh, kernel_w=kw, stride=max(sh, sw), groups=groups,
                      bias=int(bias), _tags=tags)
        self.c, self.h, self.w = out_ch, oh, ow
        return op

    def bn(self, name: str) -> Op:
        return self._op(name, "norm", "bn", elements=self._elements(), inputs=1, flops_per_element=2,
                        params=2 * self.c)

    def act(self, name: str, kind: str = "relu") -> Op:
        return self._op(name, "elementwise", "act", elements=self._elements(), inputs=1,
                        flops_per_element=_ACT_FLOPS[kind], _tags={"activation": kind})

    def add(self, name: str) -> Op:
        """Residual add of two tensors of the current shape."""
        return self._op(name, "elementwise", "add", elements=self._elements(), inputs=2, flops_per_element=1)

    def pool(self, name: str, k: int, stride: int, pad: int = 0, kind: str = "max") -> Op:
        in_elems = self._elements()
        self.h, self.w = same_out(self.h, k, stride, pad), same_out(self.w, k, stride, pad)
        ratio = max(1, round(in_elems / self._elements()))
        return self._op(name, "elementwise", "pool", elements=self._elements(), inputs=ratio,
                        flops_per_element=k * k, _tags={"pool": kind})

    def global_pool(self, name: str, out: int = 1) -> Op:
        """Adaptive average pool to ``out``×``out`` (each output reads its input window)."""
        in_elems = self._elements()
        self.h = self.w = out
        ratio = max(1, round(in_elems / self._elements()))
        return self._op(name, "elementwise", "pool", elements=self._elements(), inputs=ratio,
                        flops_per_element=ratio, _tags={"pool": "avg"})

    def upsample(self, name: str, factor: int = 2) -> Op:
        self.h, self.w = self.h * factor, self.w * factor
        return self._op(name, "elementwise", "upsample", elements=self._elements(), inputs=1, flops_per_element=0)

    def fc(self, name: str, out: int, rows: int | None = None, bias: bool = True, **tags) -> Op:
        """A linear layer over the flattened activation (or over ``rows`` token rows of width ``self.c``)."""
        k = self.c * self.h * self.w if rows is None else self.c
        m = self.batch if rows is None else rows
        op = self._op(name, "matmul", "fc", m=m, n=out, k=k, batch=1, bias=int(bias),
                      _tags={"weight": True, **tags})
        self.c, self.h, self.w = (out, 1, 1) if rows is None else (out, self.h, self.w)
        return op

    def _elements(self) -> int:
        return self.batch * self.c * self.h * self.w
