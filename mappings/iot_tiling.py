"""IoT mapping: the L1 tiling search of GEMM-like ops and the IoT cluster's per-op cost under its best tiling.

A GEMM's operands move L2 → L1 by DMA in tiles (m_t × K and K × n_t, K whole) that fit half of L1; the candidates are
the powers of two below each dimension and the dimension itself, in two loop orders (weights or activations
resident). Every legal tiling is priced by ``hw_models.iot_kernels.gemm_cost`` and ranked by ``mappings.scoring``.
Without an L2 there is nothing to tile (the whole GEMM is in L1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hw_models.cost import ADDITIVE_FIELDS, N_OUT, O_E_COMPUTE, O_MAPPING, O_TIME
from hw_models.iot import P
from hw_models.iot_kernels import (IS_INT, dma_cost, exp_cycles, finish, gemm_cost, over_clocked, stream_cost)
from mappings.scoring import empty_top, insert_top
from workloads.table import (C_A_BYTES, C_BATCH, C_DTYPE, C_HEAD_DIM, C_HEADS, C_K, C_KIND, C_KV_LEN, C_M, C_N,
                             C_O_BYTES, C_Q_LEN, C_W_BYTES, K_ATTENTION, K_GATHER, K_GEMM, K_KV_WRITE, K_STREAM)

_N, _CLK, _L2, _E_CYC = P["cores"], P["clock_hz"], P["l2_bytes"], P["e_cycle"]
_ADDITIVE = np.array(ADDITIVE_FIELDS[1:], dtype=np.int64)
N_ORDERS = 2


@njit(cache=True)
def tile_options(dim):
    """Candidate tile sizes: powers of two below ``dim`` and ``dim`` itself."""
    out = np.empty(24)
    n = 0
    t = 1.0
    while t < dim and n < 23:
        out[n] = t
        n += 1
        t *= 2.0
    out[n] = dim
    return out[:n + 1]


@njit(cache=True)
def top_gemm_tilings(m, n, k, batch, ab, wb, ob, is_int, params, objective, top_k):
    """The ``top_k`` best L1 tilings of a GEMM, best first: (cost records, scores); inf pads."""
    top, scores = empty_top(top_k, N_OUT)
    trial = np.empty(N_OUT)
    if params[_L2] <= 0.0:  # no L2: nothing to tile
        gemm_cost(m, n, k, batch, ab, wb, ob, is_int, params, m, n, 0.0, trial)
        finish(params, trial)
        insert_top(top, scores, trial, objective)
        return top, scores
    for mt in tile_options(m):
        for nt in tile_options(n):
            for order in range(N_ORDERS):
                gemm_cost(m, n, k, batch, ab, wb, ob, is_int, params, mt, nt, float(order), trial)
                finish(params, trial)
                insert_top(top, scores, trial, objective)
    return top, scores


@njit(cache=True)
def best_gemm(m, n, k, batch, ab, wb, ob, is_int, params, objective, out):
    """The best tiling's cost record in ``out`` (time inf when no tiling fits)."""
    top, _ = top_gemm_tilings(m, n, k, batch, ab, wb, ob, is_int, params, objective, 1)
    out[:] = top[0]
    if not np.isfinite(out[O_TIME]):
        out[:] = 0.0
        out[O_TIME] = np.inf


@njit(cache=True)
def op_cost(row, params, objective, settings, out):
    """Cost of one op on one IoT cluster under its best tiling; ``out[O_TIME] = inf`` when it has no mapping
    (``settings`` unused)."""
    out[:] = 0.0
    out[O_MAPPING] = -1.0
    if over_clocked(params):
        out[O_TIME] = np.inf  # beyond the DVFS limit at this voltage
        return
    kind = int(row[C_KIND])
    is_int = IS_INT[int(row[C_DTYPE])]
    ab, wb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    if kind == K_GEMM:
        best_gemm(row[C_M], row[C_N], row[C_K], row[C_BATCH], ab, wb, ob, is_int, params, objective, out)
    elif kind == K_ATTENTION:  # attention as two GEMMs per (batch, head) and an exp per score
        b, h, q, kv, d = row[C_BATCH], row[C_HEADS], row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
        tmp = np.zeros(N_OUT)
        best_gemm(q, kv, d, b * h, ab, wb, ob, is_int, params, objective, out)
        best_gemm(q, d, kv, b * h, ob, wb, ob, is_int, params, objective, tmp)
        cycles = exp_cycles(b, h, q, kv, is_int, params)
        out[O_TIME] += tmp[O_TIME] + cycles / params[_N] / params[_CLK]
        for s in _ADDITIVE:
            out[s] += tmp[s]
        out[O_E_COMPUTE] += cycles * params[_E_CYC]
    elif kind == K_STREAM:
        stream_cost(row, params, is_int, out)
    elif kind == K_GATHER or kind == K_KV_WRITE:
        dma_cost(row, params, out)
    else:
        out[O_TIME] = np.inf
    finish(params, out)
