"""The workload IR: `Op` (one kernel-sized operation) and `Workload` (an ordered list of ops).

Only dimensions, datatypes, repeat counts and tags are stored; FLOPs, bytes and arithmetic intensity are derived.
Dimension names per kind:

- ``matmul``: ``m, n, k`` and ``batch`` (independent GEMMs). ``weight=True`` means the K×N operand is a parameter.
- ``attention``: ``batch, heads, kv_heads, q_len, kv_len, head_dim``; ``causal`` (0/1); ``kv_cache`` (1 when K/V are
  read from a KV cache rather than produced in the same kernel).
- ``elementwise`` / ``norm`` / ``softmax``: ``elements`` (output elements), ``inputs`` (input tensors read),
  ``flops_per_element``.
- ``gather``: ``rows`` gathered from a table of ``table_rows`` × ``row_elems``.
- ``kv_write``: ``elements`` written into the KV cache.
- ``collective``: ``elements`` per participant, ``group`` size; ``collective`` tag is all_reduce, all_gather or p2p.
- ``conv``: ``batch, in_ch, out_ch, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride, groups`` (and ``bias``).
- ``synaptic`` (a spiking conv/linear layer): the dense per-timestep GEMM ``m, n, k`` (m = positions × batch,
  k = fan-in, n = output neurons), ``timesteps``; the input spike rate is ``1 - sparsity``. Work is counted as
  accumulates (one per spike per fan-out), not MACs. ``pool_window`` (default 1): spikes averaged into one input by
  an average pool between the neurons and this layer; an input holding j of them costs j accumulates, so the
  layer's accumulates are ``pool_window`` times those of binary inputs at the same spike rate.
- ``neuron_update``: ``neurons``, ``timesteps``; tag ``neuron`` is ``lif`` or ``if``; membrane potentials
  (``out_bits`` wide) are read and written every timestep.
- ``routing``: ``tokens``, ``experts``, ``top_k`` (softmax over expert scores and top-k selection).
- ``kernel`` (a scalar loop kernel, e.g. classic ML on a microcontroller): operation counts by class
  ``int_add, int_mul, int_div, int_cmp, fp_add, fp_mul, fp_div, fp_cmp, fp_exp, fp_sqrt``, element ``loads`` and
  ``stores``, ``reduction_steps``, ``loop_iterations`` (iterations of its counted loops, each paying loop control
  where the core has no hardware loops; absent: every load stands alone); tag ``parallel_fraction`` (0..1) is the share of the work that parallelises, tag
  ``parallel_units`` the number of equal independent units that share splits into (a core takes whole units;
  absent or 0: finely divisible).

``sparsity`` is the fraction of zero operands skipped: weights of a pruned GEMM, or silent inputs of a spiking layer.
Tag ``weight_copies`` (default: ``count``) is how many distinct parameter sets the op's repeats hold: 1 when every
repeat reuses the same weights (e.g. a denoising network run once per step), 0 when another op owns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from workloads.dtypes import DTYPE_BITS

OP_KINDS = (
    "matmul",
    "conv",
    "attention",
    "elementwise",
    "norm",
    "softmax",
    "gather",
    "kv_write",
    "routing",
    "synaptic",
    "neuron_update",
    "collective",
    "kernel",
)

KERNEL_COUNTS = ("int_add", "int_mul", "int_div", "int_cmp", "fp_add", "fp_mul", "fp_div", "fp_cmp", "fp_exp",
                 "fp_sqrt")

# Tags that distinguish positions but not work; they are dropped from the deduplication key.
_POSITION_TAGS = ("layer",)


@dataclass
class Op:
    """One operation: ``kind``, integer ``dims``, datatype widths in bits, a repeat ``count`` and free-form ``tags``."""

    name: str
    kind: str
    dims: dict[str, int]
    act_bits: int = 16
    weight_bits: int = 16
    out_bits: int = 16
    count: int = 1
    sparsity: float = 0.0
    tags: dict[str, Any] = field(default_factory=dict)
    dtype: str = "fp16"  # the datatype the arithmetic runs in (selects the device's peak throughput)

    def __post_init__(self) -> None:
        if self.dtype not in DTYPE_BITS:
            raise ValueError(f"op {self.name!r}: unknown dtype {self.dtype!r}; allowed: {', '.join(DTYPE_BITS)}")
        if self.kind not in OP_KINDS:
            raise ValueError(f"op {self.name!r}: unknown kind {self.kind!r}; allowed: {', '.join(OP_KINDS)}")
        if self.count < 1:
            raise ValueError(f"op {self.name!r}: count must be >= 1, got {self.count}")
        for key, value in self.dims.items():
            if int(value) != value or value < 0:
                raise ValueError(f"op {self.name!r}: dim {key}={value!r} must be a non-negative integer")
        if not 0.0 <= self.sparsity <= 1.0:
            raise ValueError(f"op {self.name!r}: sparsity must be in [0, 1], got {self.sparsity}")

    def dim(self, key: str, default: int = 0) -> int:
        """A dimension by name, or ``default`` when the op has none."""
        return int(self.dims.get(key, default))

    # ---- derived quantities (per single instance; multiply by ``count`` for totals) ----
    @property
    def macs(self) -> float:
        """Dense multiply-accumulates of one instance (GEMM, conv, attention); 0 for other kinds."""
        d = self.dim
        if self.kind == "matmul":
            return float(d("batch", 1)) * d("m") * d("n") * d("k") * (1.0 - self.sparsity)
        if self.kind == "conv":
            return float(d("batch")) * d("out_h") * d("out_w") * d("out_ch") * conv_fan_in(self.dims)
        if self.kind == "attention":
            pairs = _attention_pairs(d("q_len"), d("kv_len"), d("causal"))
            return 2.0 * d("batch") * d("heads") * pairs * d("head_dim")
        return 0.0

    @property
    def ops_by_class(self) -> dict[str, float]:
        """Operations of one instance by class: ``mac``, ``ac`` (accumulate), ``add``, ``mul``, ``cmp``, ``exp`` …
        plus ``int_*`` / ``fp_*`` classes for scalar kernels. Energy models price each class."""
        d = self.dim
        if self.kind in ("matmul", "conv", "attention"):
            out = {"mac": self.macs}
            if self.kind == "attention":
                out["exp"] = self.macs / (2.0 * d("head_dim")) if d("head_dim") else 0.0
            return out
        if self.kind == "synaptic":
            return {"ac": float(d("timesteps", 1)) * d("m") * d("n") * d("k") * (1.0 - self.sparsity)
                    * d("pool_window", 1)}
        if self.kind == "neuron_update":
            steps = float(d("neurons")) * d("timesteps", 1)
            leak = 1.0 if self.tags.get("neuron", "lif") == "lif" else 0.0
            return {"add": steps, "mul": steps * leak, "cmp": steps}
        if self.kind == "routing":
            scores = float(d("tokens")) * d("experts")
            return {"exp": scores, "add": scores, "div": scores, "cmp": scores * max(1, d("top_k"))}
        if self.kind == "kernel":
            return {name: float(d(name)) for name in KERNEL_COUNTS if d(name)}
        if self.kind in ("elementwise", "norm", "softmax"):
            return {"flop": float(d("elements") * d("flops_per_element", 1))}
        if self.kind == "collective" and self.tags.get("collective") == "all_reduce":
            return {"add": float(d("elements"))}
        return {}

    @property
    def flops(self) -> float:
        """Arithmetic operations of one instance: a multiply-accumulate counts as two, an accumulate (SOP),
        comparison or transcendental as one. GEMM, conv and attention count their MACs only (the usual convention:
        the softmax of attention is priced separately by device models)."""
        if self.kind in ("matmul", "conv", "attention"):
            return 2.0 * self.macs
        return float(sum(self.ops_by_class.values()))

    @property
    def operand_bytes(self) -> dict[str, float]:
        """Compulsory bytes of each operand of one instance: ``input``, ``weight``, ``output``, ``kv_read``, ``state``."""
        d = self.dim
        a, w, o = self.act_bits / 8.0, self.weight_bits / 8.0, self.out_bits / 8.0
        if self.kind == "matmul":
            batch = d("batch", 1)
            b_bytes = d("k") * d("n") * (w if self.tags.get("weight", True) else a)
            b_count = 1 if self.tags.get("weight", True) else batch
            return {
                "input": batch * d("m") * d("k") * a,
                "weight": b_bytes * b_count * (1.0 - self.sparsity),
                "output": batch * d("m") * d("n") * o,
            }
        if self.kind == "conv":
            return {"input": d("batch") * d("in_ch") * d("in_h") * d("in_w") * a,
                    "weight": d("out_ch") * conv_fan_in(self.dims) * w,
                    "output": d("batch") * d("out_ch") * d("out_h") * d("out_w") * o}
        if self.kind == "synaptic":
            steps = d("timesteps", 1)
            return {"input": steps * d("m") * d("k") * a, "weight": d("k") * d("n") * w,
                    "output": steps * d("m") * d("n") * o}
        if self.kind == "neuron_update":
            steps = d("neurons") * d("timesteps", 1)
            return {"input": steps * a, "state": 2.0 * steps * o, "output": steps / 8.0}  # spikes are bits
        if self.kind == "routing":
            return {"input": d("tokens") * d("experts") * a, "output": d("tokens") * d("top_k") * (o + 4.0)}
        if self.kind == "kernel":
            return {"input": d("loads") * a, "output": d("stores") * o}
        if self.kind == "attention":
            q = d("batch") * d("heads") * d("q_len") * d("head_dim")
            kv = 2 * d("batch") * d("kv_heads") * d("kv_len") * d("head_dim")
            return {"input": q * a, "kv_read": kv * w, "output": q * o}
        if self.kind in ("elementwise", "norm", "softmax"):
            return {"input": d("elements") * d("inputs", 1) * a, "output": d("elements") * o}
        if self.kind == "gather":
            return {"input": d("rows") * 4.0, "weight": d("rows") * d("row_elems") * w, "output": d("rows") * d("row_elems") * o}
        if self.kind == "kv_write":
            return {"input": d("elements") * a, "output": d("elements") * o}
        if self.kind == "collective":
            return {"input": d("elements") * a, "output": d("elements") * o}
        return {"input": 0.0, "output": 0.0}

    @property
    def bytes(self) -> float:
        """Total compulsory bytes moved by one instance."""
        return float(sum(self.operand_bytes.values()))

    @property
    def intensity(self) -> float:
        """Arithmetic intensity, FLOPs per compulsory byte (Op/B)."""
        b = self.bytes
        return self.flops / b if b else 0.0

    @property
    def weight_copies(self) -> int:
        """Distinct parameter sets this op's repeats hold: tag ``weight_copies``, else its ``count``."""
        return self.tags.get("weight_copies", self.count)

    @property
    def parameters(self) -> int:
        """Parameter elements this op owns (weights of a weight GEMM, an embedding table, norm scales)."""
        d = self.dim
        if self.kind == "matmul" and self.tags.get("weight", True):
            if self.tags.get("tied"):
                return 0  # shares its table with the embedding
            return d("k") * d("n") + d("bias") * d("n")
        if self.kind == "gather":
            return d("table_rows") * d("row_elems")
        if self.kind == "conv":
            return d("out_ch") * conv_fan_in(self.dims) + d("bias") * d("out_ch")
        if self.kind == "synaptic":
            if not self.tags.get("weight", True):
                return 0  # spike × spike or spike × buffer product (e.g. spiking self-attention)
            return d("k") * d("n") + d("bias") * d("n")
        return d("params")

    def key(self, with_name: bool = True) -> tuple:
        """Identity for deduplication: everything but count and position tags (and the name, if asked)."""
        tags = tuple(sorted((k, v) for k, v in self.tags.items() if k not in _POSITION_TAGS))
        return (self.name if with_name else "", self.kind, tuple(sorted(self.dims.items())), self.act_bits, self.weight_bits, self.out_bits,
                self.sparsity, self.dtype, tags)

    def to_dict(self) -> dict[str, Any]:
        """A plain-JSON form (used by trace files)."""
        return {
            "name": self.name, "kind": self.kind, "dims": dict(self.dims), "act_bits": self.act_bits,
            "weight_bits": self.weight_bits, "out_bits": self.out_bits, "count": self.count,
            "sparsity": self.sparsity, "tags": dict(self.tags), "dtype": self.dtype,
        }


# flops_per_element of an untagged elementwise op -> the activation cosim's builders mean by it (one input; two inputs
# with 5 flops: a gated silu)
_ACTIVATION_BY_FLOPS = {1: "relu", 2: "relu6", 4: "silu", 8: "gelu"}
# Activations whose elementwise function calls a transcendental (exp, tanh, erf) once per element
TRANSCENDENTAL_ACTIVATIONS = ("silu", "swish", "gelu", "tanh", "sigmoid", "gated_silu")


def activation_of(op: Op) -> str | None:
    """The activation an ``elementwise`` op computes: tag ``activation``, else what its inputs and flops per element
    mean in cosim's builders (``gated_silu`` for two inputs at 5 flops); None for other ops and plain arithmetic."""
    if op.kind != "elementwise" or "kernel" in op.tags or op.tags.get("role") in ("pool", "upsample", "act_quant"):
        return None
    if "activation" in op.tags:
        name = str(op.tags["activation"])
        return "silu" if name == "swish" else name
    inputs, flops = max(1, op.dim("inputs", 1)), op.dim("flops_per_element", 1)
    if inputs == 1:
        return _ACTIVATION_BY_FLOPS.get(flops)
    return "gated_silu" if inputs == 2 and flops == 5 else None


def norm_of(op: Op) -> str:
    """The normalisation a ``norm`` op computes: tag ``norm``, role ``bn``, else its flops per element in cosim's
    builders (4 rmsnorm, 7 layernorm, 2 batchnorm; one more when a residual add is fused in; layernorm otherwise)."""
    if "norm" in op.tags:
        return str(op.tags["norm"])
    if op.tags.get("role") == "bn":
        return "batchnorm"
    fused = 1 if op.dim("inputs", 1) > 1 else 0
    return {4: "rmsnorm", 7: "layernorm", 2: "batchnorm"}.get(op.dim("flops_per_element", 1) - fused, "layernorm")


# Row reductions (max, sum, mean over a row) per element of each streaming op that has them
_ROW_REDUCTIONS = {"softmax": 2.0, "routing": 2.0, "layernorm": 2.0, "rmsnorm": 1.0}


def reductions_per_element(op: Op) -> float:
    """Row reductions per element of a streaming op: a softmax's max and sum, a layer norm's two means, an RMS norm's
    one, an activation quantizer's absmax (per token, or the whole tensor's reduction); 0 for a batch norm at
    inference and every other op."""
    role = op.tags.get("role")
    if role == "act_absmax" or (role == "act_quant" and op.tags.get("act_quant") == "dynamic-token"):
        return 1.0
    if op.kind in ("softmax", "routing"):
        return _ROW_REDUCTIONS[op.kind]
    if op.kind == "norm":
        return _ROW_REDUCTIONS.get(norm_of(op), 0.0)
    return 0.0


def transcendentals_per_element(op: Op) -> float:
    """Transcendental function calls (exp, tanh) per output element of a streaming op: one per score of a softmax or
    routing, one per element of a transcendental activation; 0 otherwise."""
    if op.kind in ("softmax", "routing"):
        return 1.0
    return 1.0 if activation_of(op) in TRANSCENDENTAL_ACTIVATIONS else 0.0


def conv_fan_in(dims: dict[str, int]) -> int:
    """Inputs feeding one output of a convolution: in_ch / groups × kernel area."""
    groups = max(1, int(dims.get("groups", 1)))
    return int(dims.get("in_ch", 0)) // groups * int(dims.get("kernel_h", 1)) * int(dims.get("kernel_w", 1))


def _attention_pairs(q_len: int, kv_len: int, causal: int) -> float:
    """Query-key pairs scored per head: q·kv, or with a causal mask only keys at or before each query."""
    if not causal:
        return float(q_len) * kv_len
    past = kv_len - q_len  # keys every query sees
    return float(q_len) * past + q_len * (q_len + 1) / 2.0


@dataclass
class Workload:
    """An ordered list of ops plus what one run produces (``items`` of ``item_unit``) and its build parameters."""

    name: str
    ops: list[Op] = field(default_factory=list)
    items: float = 1.0
    item_unit: str = "item"
    params: dict[str, Any] = field(default_factory=dict)
    # Bytes resident in device memory while it runs (weights, KV cache, activations), per device.
    memory_bytes: dict[str, float] = field(default_factory=dict)
    devices: int = 1

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def add(self, op: Op) -> Op:
        """Append an op; returns it so builders can chain."""
        self.ops.append(op)
        return op

    def extend(self, ops: Iterable[Op]) -> None:
        for op in ops:
            self.add(op)

    def deduplicated(self) -> "Workload":
        """A copy in which identical ops are merged into one with the summed count (first-seen order)."""
        merged: dict[tuple, Op] = {}
        for op in self.ops:
            k = op.key()
            if k in merged:
                merged[k].count += op.count
            else:
                tags = {t: v for t, v in op.tags.items() if t not in _POSITION_TAGS}
                merged[k] = Op(op.name, op.kind, dict(op.dims), op.act_bits, op.weight_bits, op.out_bits,
                               op.count, op.sparsity, tags, op.dtype)
        return Workload(self.name, list(merged.values()), self.items, self.item_unit, dict(self.params),
                        dict(self.memory_bytes), self.devices)

    # ---- totals ----
    @property
    def flops(self) -> float:
        return float(sum(op.flops * op.count for op in self.ops))

    @property
    def bytes(self) -> float:
        return float(sum(op.bytes * op.count for op in self.ops))

    @property
    def parameters(self) -> int:
        """Parameters held by this workload's ops (per device when the model is sharded)."""
        return int(sum(op.parameters * op.weight_copies for op in self.ops))

    @property
    def parameter_bytes(self) -> float:
        """Bytes of the parameters this workload's ops hold, each at its op's weight width."""
        return float(sum(op.parameters * op.weight_copies * op.weight_bits / 8.0 for op in self.ops))

    def summary(self) -> dict[str, float]:
        """Totals: ops, FLOPs, bytes, parameters, arithmetic intensity, items."""
        flops, nbytes = self.flops, self.bytes
        return {"ops": len(self.ops), "flops": flops, "bytes": nbytes, "parameters": self.parameters,
                "intensity": flops / nbytes if nbytes else 0.0, "items": self.items}
