"""A workload as a numeric table (one row per op, fixed columns) for the Numba cost kernels."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from workloads.dtypes import DTYPE_BITS
from workloads.ir import Op, Workload, conv_fan_in, reductions_per_element, transcendentals_per_element



class OpKind(IntEnum):
    """The op classes device kernels tell apart (the ``kind`` column of the table)."""

    GEMM = 0  # matmul, and conv / synaptic layers as (implicit) GEMMs
    ATTENTION = 1
    STREAM = 2  # elementwise, norms, softmax, neuron updates, routing, scalar kernels: data streamed once
    GATHER = 3
    KV_WRITE = 4
    COLLECTIVE = 5
    OTHER = 6


# The same codes as plain integers, for Numba kernels (compile-time constants).
K_GEMM, K_ATTENTION, K_STREAM, K_GATHER, K_KV_WRITE, K_COLLECTIVE, K_OTHER = (int(k) for k in OpKind)
KIND_CODES = {"matmul": K_GEMM, "conv": K_GEMM, "synaptic": K_GEMM, "attention": K_ATTENTION,
              "elementwise": K_STREAM, "norm": K_STREAM, "softmax": K_STREAM, "neuron_update": K_STREAM,
              "routing": K_STREAM, "kernel": K_STREAM, "gather": K_GATHER, "kv_write": K_KV_WRITE,
              "collective": K_COLLECTIVE}
KIND_OTHER = K_OTHER
ALL_REDUCE, ALL_GATHER, P2P = range(3)  # collective codes (the ``collective`` column)
COLLECTIVE_CODES = {"all_reduce": ALL_REDUCE, "all_gather": ALL_GATHER, "p2p": P2P}
DTYPE_CODES = {name: i for i, name in enumerate(DTYPE_BITS)}

COLUMNS = ("kind", "m", "n", "k", "batch", "heads", "kv_heads", "q_len", "kv_len", "head_dim", "causal",
           "kv_cache", "elements", "inputs", "flops_per_element", "rows", "row_elems", "group", "collective",
           "a_bytes", "w_bytes", "o_bytes", "dtype", "count", "w_count", "a_unique", "stage", "flops", "bytes",
           # scalar-kernel operation counts (``kernel`` ops; zero otherwise), appended for the IoT core model
           "int_add", "int_mul", "int_div", "int_cmp", "fp_add", "fp_mul", "fp_div", "fp_cmp", "fp_exp", "fp_sqrt",
           "loads", "stores", "reduction_steps", "parallel_fraction", "parallel_units",
           "loop_iterations",
           # transcendental calls and row reductions per element of a streaming op; a convolution's kernel window
           "transcendentals", "reductions", "kernel_h", "kernel_w",
           "bias",  # 1 when a GEMM or convolution adds a bias vector to its output
           "reuse_bytes")  # a workload's parameter bytes: what passes through the caches between two uses of a weight
COL = {name: i for i, name in enumerate(COLUMNS)}
# The same indices as plain integer constants, for Numba kernels (which cannot read dicts).
(C_KIND, C_M, C_N, C_K, C_BATCH, C_HEADS, C_KV_HEADS, C_Q_LEN, C_KV_LEN, C_HEAD_DIM, C_CAUSAL, C_KV_CACHE, C_ELEMENTS, C_INPUTS, C_FLOPS_PER_ELEMENT, C_ROWS, C_ROW_ELEMS, C_GROUP, C_COLLECTIVE, C_A_BYTES, C_W_BYTES, C_O_BYTES, C_DTYPE, C_COUNT, C_W_COUNT, C_A_UNIQUE, C_STAGE, C_FLOPS, C_BYTES) = range(29)
C_KERNEL_COUNTS = 29  # first of the kernel-count columns: int_add … fp_sqrt, loads, stores (12 columns)
C_REDUCTION_STEPS, C_PARALLEL_FRACTION, C_PARALLEL_UNITS, C_LOOP_ITERATIONS = 41, 42, 43, 44
C_TRANSCENDENTALS, C_REDUCTIONS, C_KERNEL_H, C_KERNEL_W, C_BIAS, C_REUSE_BYTES = 45, 46, 47, 48, 49, 50


def gemm_view(op: Op) -> tuple[int, int, int, int, int, float]:
    """An op as the GEMM a device runs: (m, n, k, batch, distinct B matrices, unique share of the A operand).

    A convolution becomes its implicit GEMM (M = output positions, N = output channels per group, K = fan-in,
    one GEMM per group); its A operand (the im2col matrix) re-reads input pixels, so only ``a_unique`` of it is
    compulsory traffic. A spiking layer runs its dense GEMM once per timestep.
    """
    d = op.dims
    if op.kind == "conv":
        groups = max(1, d.get("groups", 1))
        m = d["batch"] * d["out_h"] * d["out_w"]
        n, k = d["out_ch"] // groups, conv_fan_in(d)
        unique = d["batch"] * d["in_ch"] * d["in_h"] * d["in_w"] / max(1, groups * m * k)
        return m, n, k, groups, groups, min(1.0, unique)
    if op.kind == "synaptic":
        return d["m"], d["n"], d["k"], d.get("timesteps", 1), 1, 1.0
    batch = d.get("batch", 1)
    return d.get("m", 0), d.get("n", 0), d.get("k", 0), batch, 1 if op.tags.get("weight", True) else batch, 1.0


def op_row(op: Op) -> list[float]:
    """The numeric row of one op (per-instance quantities; ``count`` is its own column)."""
    d = op.dims
    row = [0.0] * len(COLUMNS)
    row[COL["kind"]] = KIND_CODES.get(op.kind, KIND_OTHER)
    for key in ("heads", "kv_heads", "q_len", "kv_len", "head_dim", "causal", "kv_cache", "elements", "rows",
                "row_elems", "group"):
        row[COL[key]] = float(d.get(key, 0))
    row[COL["batch"]] = float(d.get("batch", 1))
    if row[COL["kind"]] == K_GEMM:
        m, n, k, batch, w_count, a_unique = gemm_view(op)
        row[COL["m"]], row[COL["n"]], row[COL["k"]], row[COL["batch"]] = m, n, k, batch
        row[COL["w_count"]], row[COL["a_unique"]] = w_count, a_unique
    row[COL["inputs"]] = float(d.get("inputs", 1))
    row[COL["flops_per_element"]] = float(d.get("flops_per_element", 1))
    row[COL["collective"]] = COLLECTIVE_CODES.get(op.tags.get("collective", "all_reduce"), 0)
    row[COL["a_bytes"]] = op.act_bits / 8.0
    # The B operand of an activation × activation GEMM (weight=False) is an activation: it has the activation width,
    # as Op.operand_bytes counts it.
    b_operand_is_activation = op.kind == "matmul" and not op.tags.get("weight", True)
    row[COL["w_bytes"]] = (op.act_bits if b_operand_is_activation else op.weight_bits) / 8.0
    row[COL["o_bytes"]] = op.out_bits / 8.0
    row[COL["dtype"]] = DTYPE_CODES[op.dtype]
    row[COL["count"]] = float(op.count)
    row[COL["stage"]] = float(op.tags.get("stage", 0))
    row[COL["flops"]] = op.flops
    row[COL["bytes"]] = op.bytes
    row[COL["transcendentals"]] = transcendentals_per_element(op)
    row[COL["reductions"]] = reductions_per_element(op)
    row[COL["bias"]] = float(op.kind in ("matmul", "conv") and d.get("bias", 0) > 0)
    if op.kind == "conv":
        row[COL["kernel_h"]], row[COL["kernel_w"]] = float(d.get("kernel_h", 1)), float(d.get("kernel_w", 1))
    if op.kind == "kernel":
        for key in ("int_add", "int_mul", "int_div", "int_cmp", "fp_add", "fp_mul", "fp_div", "fp_cmp", "fp_exp",
                    "fp_sqrt", "loads", "stores", "reduction_steps", "loop_iterations"):
            row[COL[key]] = float(d.get(key, 0))
        row[COL["parallel_fraction"]] = float(op.tags.get("parallel_fraction", 1.0))
        row[COL["parallel_units"]] = float(op.tags.get("parallel_units", 0))
    return row


# Tags that only say where an op sits (which layer, which expert); no derived quantity of an op reads them.
_PLACE_TAGS = ("layer", "expert")


def row_key(op: Op) -> tuple:
    """Everything an op's derived quantities (its ``op_row``, operand bytes, parameters) depend on: all fields but
    the name and the position tags (layer, expert), so the same expert shape in every layer shares one key. Dims and
    tags keep their order (ops built alike list them alike; a different order only costs a repeat)."""
    tags = tuple((k, v) for k, v in op.tags.items() if k not in _PLACE_TAGS)
    return (op.kind, tuple(op.dims.items()), op.act_bits, op.weight_bits, op.out_bits, op.count, op.sparsity,
            op.dtype, tags)


def distinct_ops(ops: list[Op]) -> tuple[list[Op], np.ndarray]:
    """The ops with distinct ``row_key``s (first of each, in order) and, per op, the index of its distinct op; an op
    whose key cannot be hashed (a list-valued tag) counts as distinct."""
    index: dict[tuple, int] = {}
    of = np.empty(len(ops), dtype=np.int64)
    for n, op in enumerate(ops):
        try:
            of[n] = index.setdefault(row_key(op), len(index))
        except TypeError:
            of[n] = index.setdefault(("unhashable", n), len(index))
    firsts = [None] * len(index)
    for n in range(len(ops) - 1, -1, -1):
        firsts[of[n]] = ops[n]
    return firsts, of


def op_rows(ops: list[Op]) -> np.ndarray:
    """``op_row`` of each op as a float64 array (ops, len(COLUMNS)), computed once per distinct op."""
    if not ops:
        return np.zeros((0, len(COLUMNS)))
    firsts, of = distinct_ops(ops)
    return np.array([op_row(op) for op in firsts], dtype=np.float64)[of]


def op_table(workload: Workload) -> np.ndarray:
    """A float64 array of shape (ops, len(COLUMNS)) for ``workload``'s ops, in order; every row's ``reuse_bytes`` is
    the workload's parameter bytes (each weight is used once per run, so all of them pass between two uses)."""
    rows = op_rows(workload.ops)
    if len(rows):
        rows[:, C_REUSE_BYTES] = workload.parameter_bytes
    return rows
