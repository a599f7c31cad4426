"""Fused attention on a spatial array: Q·Kᵀ, softmax and P·V as one dataflow whose scores never leave the chip.

One mapping is a Q tile of ``tq`` rows and a KV chunk of ``tkv`` keys. For each (batch, head) the Q tile stays in the
global buffer while the K and V chunks stream in; the array computes the tile's scores for a chunk, the vector unit
runs the softmax on them in the buffer, and the array multiplies the probabilities by V into the tile's output
accumulator. The buffer holds, twice over when double-buffered (the array works on one tile while the vector unit and
DRAM work on the next):

    tq·d (Q) + 2·tkv·d (K, V chunk) + tq·tkv (scores) + tq·d (output accumulator)

- ``tkv = kv``: a score row block fits; the softmax is exact and K, V are read from DRAM once per head (they stay in
  the buffer while the Q tiles pass).
- ``tkv < kv``: the rows do not fit, so KV is tiled with an online softmax (running row maximum and sum, as in
  FlashAttention, Dao et al., NeurIPS'22): each chunk after the first rescales the row's output accumulator (``d``
  multiplies), its running sum (1) and computes the correction factor (one score's softmax work), and K, V are read
  once per Q tile.

Scores and probabilities never touch DRAM: DRAM carries Q and the output once and K, V as above. The array side of
each GEMM (folds, skew, buffer traffic, MAC and register energy) is the GEMM kernel's at the same tiles with memory
unbounded, fastest dataflow and order the preset allows; the vector unit reads each score and writes each probability
through the buffer. With double buffering the stages pipeline: time is the slowest of array, vector unit, buffer and
DRAM, plus one tile's shorter stage (pipeline fill) and the first tile's load; without it they add up.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import (B_COMPUTE, B_DRAM, B_L2, N_OUT, O_BOUND, O_BYTES_IN_MEMORY, O_BYTES_OFFCHIP,
                            O_BYTES_ONCHIP, O_E_COMPUTE, O_E_LINK, O_E_OFFCHIP, O_E_ONCHIP, O_E_STATIC, O_MAP_0,
                            O_MAP_1, O_MAP_2, O_MAP_3, O_MAP_4, O_MAPPING, O_TIME, O_UTIL)
from hw_models.spatial import P
from hw_models.spatial_kernels import gemm_mapping_cost

FUSED_MAPPING = 1.0  # the ``mapping`` slot of a fused-attention record (0: a GEMM mapping, -1: a fixed kernel)
_N_ORDERS = 6
_P_CLK, _P_VEC, _P_SOFTMAX = P["clock_hz"], P["vector_ops_per_cycle"], P["softmax_ops_per_score"]
_P_GB, _P_GB_BW, _P_DB, _P_DRAM_BW = P["gb_bytes"], P["gb_bw_bytes_per_cycle"], P["double_buffering"], P["dram_bw"]
_P_E_GB, _P_E_DRAM, _P_E_VEC, _P_STATIC = P["e_gb_byte"], P["e_dram_byte"], P["e_vector_op"], P["static_w"]
_P_DATAFLOW = P["dataflow"]


@njit(cache=True)
def unbounded_params(params):
    """The design with unlimited buffer, buffer bandwidth and DRAM bandwidth and no static power: its GEMM cost is the
    array's alone."""
    out = params.copy()
    out[_P_GB] = np.inf
    out[_P_GB_BW] = np.inf
    out[_P_DRAM_BW] = np.inf
    out[_P_DB] = 1.0
    out[_P_STATIC] = 0.0
    return out


@njit(cache=True)
def fused_footprint(tq, tkv, d, ab, wb, ob, params):
    """Global-buffer bytes of one fused tile (Q tile, K and V chunk, scores, output accumulator)."""
    copies = 2.0 if params[_P_DB] > 0.5 else 1.0
    return copies * (tq * d * ab + 2.0 * tkv * d * wb + tq * tkv * ob + tq * d * ob)


@njit(cache=True)
def _array_part(m, n, k, batch, ab, wb, ob, dtype, unbounded, tm, tn, tk, best, trial):
    """The array's fastest dataflow and order for one GEMM at fixed tiles, memory unbounded, into ``best``."""
    best[O_TIME] = np.inf
    df = int(unbounded[_P_DATAFLOW])
    lo, hi = (0, 3) if df == 3 else (df, df + 1)
    for dataflow in range(lo, hi):
        for order in range(_N_ORDERS):
            gemm_mapping_cost(m, n, k, batch, ab, wb, ob, 1.0, dtype, unbounded, dataflow, order, tm, tn, tk, trial)
            if trial[O_TIME] < best[O_TIME] or (trial[O_TIME] == best[O_TIME]
                                                and trial[O_BYTES_ONCHIP] < best[O_BYTES_ONCHIP]):
                best[:] = trial


@njit(cache=True)
def fused_attention_cost(bh, q, kv, d, ab, wb, ob, pairs, dtype, params, unbounded, tq, tkv, out):
    """Cost of ``bh`` (batch × heads) attention heads of ``q`` queries over ``kv`` keys (head size ``d``) with
    ``pairs`` scores to normalise, as one fused dataflow with Q tile ``tq`` and KV chunk ``tkv``; fills ``out``
    (time = inf when the tile overflows the buffer). ``unbounded`` is ``unbounded_params(params)``."""
    out[:] = 0.0
    out[O_TIME] = np.inf
    tq, tkv = min(float(tq), q), min(float(tkv), kv)
    if tq < 1.0 or tkv < 1.0 or fused_footprint(tq, tkv, d, ab, wb, ob, params) > params[_P_GB]:
        return
    qk = np.empty(N_OUT)
    pv = np.empty(N_OUT)
    trial = np.empty(N_OUT)
    _array_part(q, kv, d, bh, ab, wb, ob, dtype, unbounded, tq, tkv, d, qk, trial)
    _array_part(q, d, kv, bh, ob, wb, ob, dtype, unbounded, tq, d, tkv, pv, trial)
    if not (np.isfinite(qk[O_TIME]) and np.isfinite(pv[O_TIME])):
        return
    trips_q = math.ceil(q / tq)
    chunks = math.ceil(kv / tkv)
    kv_reads = 1.0 if chunks == 1 else float(trips_q)
    dram_bytes = bh * (q * d * ab + q * d * ob + kv_reads * 2.0 * kv * d * wb)
    vector_ops = params[_P_SOFTMAX] * pairs + bh * q * (chunks - 1) * (params[_P_SOFTMAX] + d + 1.0)
    gb_bytes = qk[O_BYTES_ONCHIP] + pv[O_BYTES_ONCHIP] + 2.0 * bh * q * kv * ob
    clock = params[_P_CLK]
    t_array = qk[O_TIME] + pv[O_TIME]
    t_vector = vector_ops / (params[_P_VEC] * clock)
    t_gb = gb_bytes / (params[_P_GB_BW] * clock)
    t_dram = dram_bytes / params[_P_DRAM_BW]
    if params[_P_DB] > 0.5:
        tiles = bh * trips_q * chunks
        first = (tq * d * ab + 2.0 * tkv * d * wb) / params[_P_DRAM_BW]
        busy = max(t_array, t_vector, t_gb, t_dram) + min(t_array, t_vector) / tiles + first
    else:
        busy = t_array + t_vector + t_gb + t_dram
    if t_dram >= t_gb and t_dram > t_array and t_dram > t_vector:
        out[O_BOUND] = B_DRAM
    elif t_gb > t_array and t_gb > t_vector:
        out[O_BOUND] = B_L2
    else:
        out[O_BOUND] = B_COMPUTE
    out[O_TIME] = busy
    out[O_E_COMPUTE] = qk[O_E_COMPUTE] + pv[O_E_COMPUTE] + vector_ops * params[_P_E_VEC]
    out[O_E_ONCHIP] = gb_bytes * params[_P_E_GB]
    out[O_E_OFFCHIP] = dram_bytes * params[_P_E_DRAM]
    out[O_E_LINK] = 0.0
    out[O_E_STATIC] = params[_P_STATIC] * busy
    out[O_UTIL] = 0.0
    out[O_BYTES_OFFCHIP] = dram_bytes
    out[O_BYTES_ONCHIP] = gb_bytes
    out[O_BYTES_IN_MEMORY] = 0.0
    out[O_MAPPING] = FUSED_MAPPING
    out[O_MAP_0] = qk[O_MAP_0]
    out[O_MAP_1] = qk[O_MAP_1]
    out[O_MAP_2] = tq
    out[O_MAP_3] = tkv
    out[O_MAP_4] = d
