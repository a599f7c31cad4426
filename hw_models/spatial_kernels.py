"""Numba cost kernels of the spatial-accelerator template: one GEMM under one mapping, and streaming vector ops.

A mapping of a GEMM (M × N × K, ``batch`` independent instances) is five integers:

- ``dataflow``: 0 output-stationary (rows ← M, cols ← N, K streamed), 1 weight-stationary (rows ← K, cols ← N, M
  streamed), 2 input-stationary (rows ← K, cols ← M, N streamed);
- ``order``: the DRAM-level loop order over global-buffer tiles, an index into ``LOOP_ORDERS`` (outer → inner);
- ``tile_m, tile_n, tile_k``: the tile each operand keeps in the global buffer.

Inside a tile the array works fold by fold: a fold fills the array's two spatial dimensions and streams the third
through it; a systolic array pays ``rows + cols - 2`` skew cycles per fold (plus ``rows`` to load a stationary weight
or input), as SCALE-Sim counts them; with ``stationary_double_buffered`` the next fold's stationary operand loads
while the current fold streams, so a fold costs ``max(stream, rows)`` and the fill, drain and first load are paid
once per op. Reuse analysis gives the bytes each operand moves between the array and the
global buffer and between the global buffer and DRAM; time is the slowest of compute, buffer and DRAM transfers when
tiles are double-buffered (plus the first tile's load), their sum otherwise. Energy is MACs, register accesses
(operand reads and partial-sum updates per MAC), buffer and DRAM bytes times their per-event energies, plus static
power times time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import (B_COMPUTE, B_DRAM, B_L2, O_BOUND, O_BYTES_IN_MEMORY, O_BYTES_OFFCHIP, O_BYTES_ONCHIP,
                            O_E_COMPUTE, O_E_LINK, O_E_OFFCHIP, O_E_ONCHIP, O_E_STATIC, O_MAPPING, O_MAP_0, O_MAP_1,
                            O_MAP_2, O_MAP_3, O_MAP_4, O_TIME, O_UTIL)
from hw_models.spatial import DTYPES, P

# Loop orders over (m, n, k) tiles, outer → inner.
LOOP_ORDERS = np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]], dtype=np.int64)
ORDER_NAMES = ("m,n,k", "m,k,n", "n,m,k", "n,k,m", "k,m,n", "k,n,m")
DATAFLOW_NAMES = ("output-stationary", "weight-stationary", "input-stationary")

_P_ROWS, _P_COLS, _P_ARRAYS, _P_CLK = P["rows"], P["cols"], P["arrays"], P["clock_hz"]
_P_SYSTOLIC, _P_VEC = P["systolic"], P["vector_ops_per_cycle"]
_P_MACS, _P_E_MAC = P["macs_fp64"], P["e_mac_fp64"]
_P_LOCAL, _P_GB, _P_GB_BW, _P_DB = P["local_bytes"], P["gb_bytes"], P["gb_bw_bytes_per_cycle"], P["double_buffering"]
_P_HOLD_A, _P_HOLD_B, _P_HOLD_C = P["gb_holds_input"], P["gb_holds_weight"], P["gb_holds_output"]
_P_DRAM_BW, _P_E_REG, _P_E_LOCAL = P["dram_bw"], P["e_reg"], P["e_local_byte"]
_P_E_GB, _P_E_DRAM, _P_E_VEC, _P_STATIC = P["e_gb_byte"], P["e_dram_byte"], P["e_vector_op"], P["static_w"]
_P_REG_PER_MAC, _P_STAT_DB = P["reg_accesses_per_mac"], P["stationary_db"]
N_DTYPES = len(DTYPES)


# Integer-valued sizes are divided as int64 (exact, and much faster than Python-semantics float floor division).
@njit(cache=True, inline="always")
def _trips(size, tile):
    s, t = np.int64(size), np.int64(tile)
    return float((s + t - 1) // t)


@njit(cache=True, inline="always")
def _fold_sum(size, tile, pes):
    """Folds along one spatial dimension summed over its tiles (the last tile may be partial)."""
    s, t, p = np.int64(size), np.int64(tile), np.int64(pes)
    full = s // t
    rest = s - full * t
    folds = full * ((t + p - 1) // p)
    if rest > 0:
        folds += (rest + p - 1) // p
    return float(folds)


@njit(cache=True, inline="always")
def _stream_sum(size, tile, per_fold, rate):
    """Cycles of the streamed dimension summed over its tiles: each tile streams its length plus fixed overhead."""
    full = float(np.int64(size) // np.int64(tile))
    rest = size - full * tile
    cycles = full * (math.ceil(tile / rate) + per_fold)
    if rest > 0:
        cycles += math.ceil(rest / rate) + per_fold
    return cycles


@njit(cache=True, inline="always")
def _stream_sum_overlapped(size, tile, load, rate):
    """``_stream_sum`` when the next fold's stationary operand (``load`` cycles) loads while a tile streams."""
    full = float(np.int64(size) // np.int64(tile))
    rest = size - full * tile
    cycles = full * max(math.ceil(tile / rate), load)
    if rest > 0:
        cycles += max(math.ceil(rest / rate), load)
    return cycles


@njit(cache=True)
def gemm_mapping_cost(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, dataflow, order, tm, tn, tk, out):
    """Cost of ``batch`` independent (M×K)·(K×N) GEMMs under one mapping; fills ``out`` (time = inf if illegal)."""
    out[O_TIME] = np.inf
    m, n, k, tm, tn, tk = float(m), float(n), float(k), float(tm), float(tn), float(tk)
    rows, cols = params[_P_ROWS], params[_P_COLS]
    rate = params[_P_MACS + dtype]
    if rate <= 0.0 or tm < 1 or tn < 1 or tk < 1:
        return
    # Global-buffer footprint of the held tiles (twice over when double-buffered).
    copies = 2.0 if params[_P_DB] > 0.5 else 1.0
    footprint = copies * (params[_P_HOLD_A] * tm * tk * ab + params[_P_HOLD_B] * tk * tn * wb
                          + params[_P_HOLD_C] * tm * tn * ob)
    if footprint > params[_P_GB]:
        return
    systolic = params[_P_SYSTOLIC] > 0.5
    skew = rows + cols - 2.0 if systolic else 0.0
    trips_m, trips_n, trips_k = _trips(m, tm), _trips(n, tn), _trips(k, tk)
    # Folds and streamed cycles per dataflow.
    if dataflow == 0:  # OS: rows <- m, cols <- n, stream k
        folds = _fold_sum(m, tm, rows) * _fold_sum(n, tn, cols)
        stream = _stream_sum(k, tk, skew, rate)
        a_gb = m * k * _fold_sum(n, tn, cols)
        b_gb = k * n * _fold_sum(m, tm, rows)
        c_passes = trips_k
    elif dataflow == 1:  # WS: rows <- k, cols <- n, stream m
        folds = _fold_sum(k, tk, rows) * _fold_sum(n, tn, cols)
        stream = _stream_sum(m, tm, skew + (rows if systolic else 0.0), rate)
        a_gb = m * k * _fold_sum(n, tn, cols)
        b_gb = k * n * trips_m
        c_passes = _fold_sum(k, tk, rows)
    else:  # IS: rows <- k, cols <- m, stream n
        folds = _fold_sum(k, tk, rows) * _fold_sum(m, tm, cols)
        stream = _stream_sum(n, tn, skew + (rows if systolic else 0.0), rate)
        a_gb = m * k * trips_n
        b_gb = k * n * _fold_sum(m, tm, cols)
        c_passes = _fold_sum(k, tk, rows)
    # A tile that is a single fold, with the streamed dimension as the innermost DRAM loop, keeps its stationary
    # operand in the array from one tile to the next: the stream continues and skew is paid once.
    inner = LOOP_ORDERS[order, 2]
    if dataflow == 0 and tm <= rows and tn <= cols and inner == 2:
        stream = math.ceil(k / rate) + skew
        c_passes = 1.0
    elif dataflow == 1 and tk <= rows and tn <= cols and inner == 0:
        stream = math.ceil(m / rate) + skew + (rows if systolic else 0.0)
        b_gb = k * n
    elif dataflow == 2 and tk <= rows and tm <= cols and inner == 1:
        stream = math.ceil(n / rate) + skew + (rows if systolic else 0.0)
        a_gb = m * k
    # Double-buffered stationary operands (WS, IS on a systolic array): a fold costs the longer of its stream and the
    # next fold's load; the array fills, drains and takes its first load once per op (``once``).
    once = 0.0
    if systolic and dataflow != 0 and params[_P_STAT_DB] > 0.5:
        once = skew + rows
        if dataflow == 1:
            stream = _stream_sum_overlapped(m, tm, rows, rate)
            if tk <= rows and tn <= cols and inner == 0:
                stream = max(math.ceil(m / rate), rows)
        else:
            stream = _stream_sum_overlapped(n, tn, rows, rate)
            if tk <= rows and tm <= cols and inner == 1:
                stream = max(math.ceil(n / rate), rows)
    # A per-PE local buffer keeps several stationary values (one per fold along the other spatial dimension), so
    # each streamed value is used that many times per read from the global buffer.
    local_elems = params[_P_LOCAL] / max(ab, wb)
    if local_elems >= 2.0:
        if dataflow == 2:
            b_gb = b_gb / max(1.0, min(local_elems, float(_fold_sum(m, tm, cols))))
        else:
            a_gb = a_gb / max(1.0, min(local_elems, float(_fold_sum(n, tn, cols))))
    # Folds spread over identical arrays; every fold streams the whole streamed dimension, tile by tile.
    cycles = batch * math.ceil(folds / params[_P_ARRAYS]) * stream + once
    c_gb = m * n * (2.0 * c_passes - 1.0)
    gb_bytes = batch * (a_gb * ab + b_gb * wb + c_gb * ob)
    # DRAM traffic from the loop order: an operand is re-fetched for every iteration of the loops above its
    # innermost relevant loop that it does not depend on. Each operand ignores one loop (A: n, B: m, C: k), and that
    # loop is above the operand's innermost relevant loop unless it is the innermost loop itself.
    a_f = trips_n if inner != 1 else 1.0
    b_f = trips_m if inner != 0 else 1.0
    c_f = trips_k if inner != 2 else 1.0
    a_total = m * k * ab * a_unique
    b_total = k * n * wb
    c_total = m * n * ob
    a_dram = a_total * a_f if params[_P_HOLD_A] > 0.5 else a_gb * ab * a_unique
    b_dram = b_total * b_f if params[_P_HOLD_B] > 0.5 else b_gb * wb
    c_dram = c_total * (2.0 * c_f - 1.0) if params[_P_HOLD_C] > 0.5 else c_gb * ob
    dram_bytes = batch * (a_dram + b_dram + c_dram)
    clock = params[_P_CLK]
    t_compute = cycles / clock
    t_gb = gb_bytes / (params[_P_GB_BW] * clock)
    t_dram = dram_bytes / params[_P_DRAM_BW]
    if params[_P_DB] > 0.5:
        first = (params[_P_HOLD_A] * min(tm, m) * min(tk, k) * ab + params[_P_HOLD_B] * min(tk, k) * min(tn, n) * wb)
        busy = max(t_compute, t_gb, t_dram) + first / params[_P_DRAM_BW]
    else:
        busy = t_compute + t_dram + t_gb
    if t_compute >= t_gb and t_compute >= t_dram:
        bound = B_COMPUTE
    elif t_dram >= t_gb:
        bound = B_DRAM
    else:
        bound = B_L2
    macs = batch * m * n * k
    e_compute = macs * (params[_P_E_MAC + dtype] + params[_P_REG_PER_MAC] * params[_P_E_REG])
    if params[_P_LOCAL] > 0.0:
        e_compute += macs * max(ab, wb) * params[_P_E_LOCAL]
    out[O_TIME] = busy
    out[O_E_COMPUTE] = e_compute
    out[O_E_ONCHIP] = gb_bytes * params[_P_E_GB]
    out[O_E_OFFCHIP] = dram_bytes * params[_P_E_DRAM]
    out[O_E_LINK] = 0.0
    out[O_BYTES_IN_MEMORY] = 0.0
    out[O_E_STATIC] = params[_P_STATIC] * busy
    out[O_BOUND] = bound
    peak = rows * cols * params[_P_ARRAYS] * rate * clock
    out[O_UTIL] = macs / (busy * peak)
    out[O_BYTES_OFFCHIP] = dram_bytes
    out[O_BYTES_ONCHIP] = gb_bytes
    out[O_MAPPING] = 0.0
    out[O_MAP_0] = dataflow
    out[O_MAP_1] = order
    out[O_MAP_2] = tm
    out[O_MAP_3] = tn
    out[O_MAP_4] = tk


@njit(cache=True)
def vector_cost(ops, nbytes, params, out):
    """A streaming op on the vector unit: arithmetic at the vector rate against its bytes from DRAM."""
    clock = params[_P_CLK]
    t_compute = ops / (params[_P_VEC] * clock)
    t_dram = nbytes / params[_P_DRAM_BW]
    busy = max(t_compute, t_dram, 1.0 / clock)
    out[O_TIME] = busy
    out[O_E_COMPUTE] = ops * params[_P_E_VEC]
    out[O_E_ONCHIP] = nbytes * params[_P_E_GB]
    out[O_E_OFFCHIP] = nbytes * params[_P_E_DRAM]
    out[O_E_LINK] = 0.0
    out[O_BYTES_IN_MEMORY] = 0.0
    out[O_E_STATIC] = params[_P_STATIC] * busy
    out[O_BOUND] = B_COMPUTE if t_compute >= t_dram else B_DRAM
    out[O_UTIL] = t_compute / busy
    out[O_BYTES_OFFCHIP] = nbytes
    out[O_BYTES_ONCHIP] = nbytes
    out[O_MAPPING] = -1.0
