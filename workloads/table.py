"""A workload as a numeric table (one row per op, fixed columns) for the Numba cost kernels."""

from __future__ import annotations

import numpy as np

from workloads.dtypes import DTYPE_BITS
from workloads.ir import Op, Workload

# Kind codes understood by device kernels.
KIND_CODES = {"matmul": 0, "attention": 1, "elementwise": 2, "norm": 2, "softmax": 2, "gather": 3, "kv_write": 4,
              "collective": 5}
KIND_OTHER = 6
COLLECTIVE_CODES = {"all_reduce": 0, "all_gather": 1, "p2p": 2}
DTYPE_CODES = {name: i for i, name in enumerate(DTYPE_BITS)}

COLUMNS = ("kind", "m", "n", "k", "batch", "heads", "kv_heads", "q_len", "kv_len", "head_dim", "causal",
           "kv_cache", "elements", "inputs", "flops_per_element", "rows", "row_elems", "group", "collective",
           "a_bytes", "w_bytes", "o_bytes", "dtype", "count", "weight_operand", "stage", "flops", "bytes")
COL = {name: i for i, name in enumerate(COLUMNS)}
# The same indices as plain integer constants, for Numba kernels (which cannot read dicts).
(C_KIND, C_M, C_N, C_K, C_BATCH, C_HEADS, C_KV_HEADS, C_Q_LEN, C_KV_LEN, C_HEAD_DIM, C_CAUSAL, C_KV_CACHE, C_ELEMENTS, C_INPUTS, C_FLOPS_PER_ELEMENT, C_ROWS, C_ROW_ELEMS, C_GROUP, C_COLLECTIVE, C_A_BYTES, C_W_BYTES, C_O_BYTES, C_DTYPE, C_COUNT, C_WEIGHT_OPERAND, C_STAGE, C_FLOPS, C_BYTES) = range(len(COLUMNS))


def op_row(op: Op) -> list[float]:
    """The numeric row of one op (per-instance quantities; ``count`` is its own column)."""
    d = op.dims
    row = [0.0] * len(COLUMNS)
    row[COL["kind"]] = KIND_CODES.get(op.kind, KIND_OTHER)
    for key in ("m", "n", "k", "heads", "kv_heads", "q_len", "kv_len", "head_dim", "causal", "kv_cache",
                "elements", "rows", "row_elems", "group"):
        row[COL[key]] = float(d.get(key, 0))
    row[COL["batch"]] = float(d.get("batch", 1))
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
    row[COL["weight_operand"]] = 1.0 if op.tags.get("weight", True) else 0.0
    row[COL["stage"]] = float(op.tags.get("stage", 0))
    row[COL["flops"]] = op.flops
    row[COL["bytes"]] = op.bytes
    return row


def op_table(workload: Workload) -> np.ndarray:
    """A float64 array of shape (ops, len(COLUMNS)) for ``workload``'s ops, in order."""
    if not workload.ops:
        return np.zeros((0, len(COLUMNS)))
    return np.array([op_row(op) for op in workload.ops], dtype=np.float64)
