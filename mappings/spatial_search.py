"""Mapping search for spatial accelerators (Numba).

The mapping space of a GEMM is (dataflow × DRAM loop order × tile_m × tile_n × tile_k). Tile sizes are multiples of
the array's smaller side ("granularity") up to the dimension, plus the whole dimension; a coarse space keeps at most
``max_tiles`` of them per dimension (powers of two and near-even splits), a fine one keeps every multiple.

- Exhaustive search evaluates the whole space tile_m by tile_m (``exhaustive_gemm_parallel`` spreads them over
  threads), skipping tiles that overflow the global buffer (the footprint grows with tile_n and tile_k, so the legal
  ones are a prefix of each sweep), and keeps the ``top_k`` best mappings.
- When the space exceeds ``budget`` evaluations, a heuristic runs instead: ``restarts`` random starting mappings,
  each improved by local moves (one tile index up or down, another loop order, another dataflow) until no move
  helps or the budget is spent. A seed makes it deterministic.

Mappings are ranked by ``mappings.scoring`` (objective 0 latency, 1 energy, 2 energy-delay product; near-ties broken
by the other metrics). Exhaustive or heuristic is decided from the number of mappings that fit the buffer, counted
after over-capacity tiles are pruned.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from hw_models.cost import ADDITIVE_FIELDS, N_OUT, O_MAPPING, O_TIME, O_UTIL
from hw_models.spatial import P
from hw_models.spatial_attention import fused_attention_cost, fused_footprint, unbounded_params
from hw_models.spatial_kernels import gemm_mapping_cost, vector_cost
from mappings.scoring import empty_top, insert_top, score
from workloads.table import (K_ATTENTION, K_GEMM, C_A_BYTES, C_A_UNIQUE, C_BATCH, C_BYTES, C_CAUSAL, C_DTYPE,
                             C_FLOPS, C_HEAD_DIM,
                             C_HEADS, C_K, C_KIND, C_KV_HEADS, C_KV_LEN, C_M, C_N, C_O_BYTES, C_Q_LEN, C_W_BYTES,
                             C_W_COUNT)

_P_ARRAYS = P["arrays"]
_P_CLOCK_HZ = P["clock_hz"]
_P_COLS = P["cols"]
_P_DATAFLOW = P["dataflow"]
_P_DOUBLE_BUFFERING = P["double_buffering"]
_P_GB_BYTES = P["gb_bytes"]
_P_GB_HOLDS_INPUT = P["gb_holds_input"]
_P_GB_HOLDS_OUTPUT = P["gb_holds_output"]
_P_GB_HOLDS_WEIGHT = P["gb_holds_weight"]
_P_MACS_FP64 = P["macs_fp64"]
_P_ROWS = P["rows"]
_P_SOFTMAX_OPS = P["softmax_ops_per_score"]
_P_FUSED = P["fused_attention"]

N_ORDERS = 6
DEFAULT_MAX_TILES = 12
DEFAULT_BUDGET = 400_000
# The search settings the batched driver passes to ``op_cost``: (max_tiles, budget, seed).
DEFAULT_SETTINGS = np.array([DEFAULT_MAX_TILES, DEFAULT_BUDGET, 0], dtype=np.float64)
_ADDITIVE = np.array(ADDITIVE_FIELDS, dtype=np.int64)


@njit(cache=True)
def tile_candidates(size, granularity, max_tiles):
    """Tile sizes for one dimension: multiples of ``granularity`` below ``size``, and ``size`` itself."""
    size = max(1, int(size))
    g = max(1, int(granularity))
    count = (size - 1) // g
    if max_tiles <= 0 or count + 1 <= max_tiles:
        out = np.empty(count + 1, dtype=np.int64)
        for i in range(count):
            out[i] = (i + 1) * g
        out[count] = size
        return out
    picks = np.empty(2 * max_tiles + 2, dtype=np.int64)
    n = 0
    t = g
    while t < size and n < max_tiles:  # powers of two times the granularity
        picks[n] = t
        n += 1
        t *= 2
    for parts in (2, 3, 4, 6):  # near-even splits, rounded up to the granularity
        t = ((size + parts - 1) // parts + g - 1) // g * g
        if t < size:
            picks[n] = t
            n += 1
    picks[n] = size
    n += 1
    return np.unique(picks[:n])


@njit(cache=True)
def _dataflows(params, out):
    """Dataflows the preset allows (3 = free: all three); returns how many were written to ``out``."""
    df = int(params[_P_DATAFLOW])
    if df == 3:
        out[0], out[1], out[2] = 0, 1, 2
        return 3
    out[0] = df
    return 1


@njit(cache=True)
def _footprint_ok(tm, tn, tk, ab, wb, ob, params):
    copies = 2.0 if params[_P_DOUBLE_BUFFERING] > 0.5 else 1.0
    return copies * (params[_P_GB_HOLDS_INPUT] * tm * tk * ab + params[_P_GB_HOLDS_WEIGHT] * tk * tn * wb
                     + params[_P_GB_HOLDS_OUTPUT] * tm * tn * ob) <= params[_P_GB_BYTES]


@njit(cache=True)
def _sweep_tile_m(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, tm, cn, ck, dfs, n_df, top, scores):
    """Every mapping with one tile_m, kept in ``top``/``scores``; returns how many were evaluated."""
    trial = np.empty(N_OUT)
    evaluated = 0
    # How many tile_k candidates fit the buffer with each tile_n (the footprint grows with both, so the legal ones
    # are a prefix, and a tile_n with none ends the sweep): computed once for all dataflows and orders.
    legal_k = np.zeros(cn.size, dtype=np.int64)
    for j in range(cn.size):
        c = 0
        while c < ck.size and _footprint_ok(tm, cn[j], ck[c], ab, wb, ob, params):
            c += 1
        legal_k[j] = c
        if c == 0:
            break
    for d in range(n_df):
        for order in range(N_ORDERS):
            for j in range(cn.size):
                if legal_k[j] == 0:
                    break
                tn = cn[j]
                for c in range(legal_k[j]):
                    gemm_mapping_cost(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, dfs[d], order, tm, tn,
                                      ck[c], trial)
                    evaluated += 1
                    insert_top(top, scores, trial, objective)
    return evaluated


@njit(cache=True)
def _merge(top_all, scores_all, top_k, objective):
    top, top_scores = empty_top(top_k, N_OUT)
    for i in range(scores_all.shape[0]):
        for j in range(top_k):
            if np.isfinite(scores_all[i, j]):
                insert_top(top, top_scores, top_all[i, j], objective)
    return top, top_scores


@njit(cache=True)
def _space(m, n, k, params, max_tiles, top_k):
    """Tile candidates per dimension, the allowed dataflows, and empty per-tile_m top-k tables."""
    g = min(params[_P_ROWS], params[_P_COLS])
    cm, cn, ck = tile_candidates(m, g, max_tiles), tile_candidates(n, g, max_tiles), tile_candidates(k, g, max_tiles)
    dfs = np.zeros(3, dtype=np.int64)
    n_df = _dataflows(params, dfs)
    top_all = np.full((cm.size, top_k, N_OUT), np.inf)
    scores_all = np.full((cm.size, top_k), np.inf)
    return cm, cn, ck, dfs, n_df, top_all, scores_all


@njit(cache=True)
def exhaustive_gemm(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, max_tiles, top_k):
    """Every mapping of the space, tile_m by tile_m; returns (top mappings, their scores, evaluations)."""
    cm, cn, ck, dfs, n_df, top_all, scores_all = _space(m, n, k, params, max_tiles, top_k)
    evaluated = 0
    for i in range(cm.size):
        evaluated += _sweep_tile_m(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, cm[i], cn, ck,
                                   dfs, n_df, top_all[i], scores_all[i])
    top, top_scores = _merge(top_all, scores_all, top_k, objective)
    return top, top_scores, evaluated


@njit(parallel=True, cache=True)
def exhaustive_gemm_parallel(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, max_tiles, top_k):
    """``exhaustive_gemm`` with its tile_m sweeps spread over threads (same result), for one op searched from
    Python (``cosim map``, benchmarks). Never call it from a parallel kernel: nested parallelism is not portable."""
    cm, cn, ck, dfs, n_df, top_all, scores_all = _space(m, n, k, params, max_tiles, top_k)
    counts = np.zeros(cm.size, dtype=np.int64)
    for step in prange(cm.size):
        # Small tiles have many more legal mappings than large ones: interleave them (0, last, 1, last-1, ...) so
        # each thread's block of iterations gets a similar share; results stay indexed by tile.
        i = step // 2 if step % 2 == 0 else cm.size - 1 - step // 2
        counts[i] = _sweep_tile_m(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, cm[i], cn, ck,
                                  dfs, n_df, top_all[i], scores_all[i])
    top, top_scores = _merge(top_all, scores_all, top_k, objective)
    return top, top_scores, counts.sum()


@njit(cache=True)
def heuristic_gemm(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, max_tiles, top_k, budget,
                   restarts, seed):
    """Random restarts plus greedy local moves within ``budget`` evaluations (deterministic for a seed)."""
    np.random.seed(seed)
    g = min(params[_P_ROWS], params[_P_COLS])
    cands = (tile_candidates(m, g, max_tiles), tile_candidates(n, g, max_tiles), tile_candidates(k, g, max_tiles))
    dfs = np.zeros(3, dtype=np.int64)
    n_df = _dataflows(params, dfs)
    top, top_scores = empty_top(top_k, N_OUT)
    trial = np.empty(N_OUT)
    evaluated = 0
    state = np.zeros(5, dtype=np.int64)  # dataflow slot, order, index m, index n, index k
    for _ in range(restarts):
        if evaluated >= budget:
            break
        state[0] = np.random.randint(n_df)
        state[1] = np.random.randint(N_ORDERS)
        for d in range(3):
            state[2 + d] = np.random.randint(cands[d].size)
        # Shrink the largest tile until the start fits the buffer (an illegal start has no legal neighbours when
        # most of the space overflows, so the restart would be wasted).
        while not _footprint_ok(cands[0][state[2]], cands[1][state[3]], cands[2][state[4]], ab, wb, ob, params):
            dim, biggest = -1, 0
            for d in range(3):
                if state[2 + d] > 0 and cands[d][state[2 + d]] > biggest:
                    dim, biggest = d, cands[d][state[2 + d]]
            if dim < 0:
                break
            state[2 + dim] -= 1
        current = np.inf
        improved = True
        while improved and evaluated < budget:
            improved = False
            best_move = state.copy()
            for move in range(10):
                cand = state.copy()
                if move < 6:  # a tile index up or down
                    dim, step = move // 2, 1 if move % 2 == 0 else -1
                    cand[2 + dim] += step
                    if cand[2 + dim] < 0 or cand[2 + dim] >= cands[dim].size:
                        continue
                elif move < 8:
                    cand[1] = (cand[1] + (1 if move == 6 else N_ORDERS - 1)) % N_ORDERS
                else:
                    if n_df == 1:
                        continue
                    cand[0] = (cand[0] + (1 if move == 8 else n_df - 1)) % n_df
                gemm_mapping_cost(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, dfs[cand[0]], cand[1],
                                  cands[0][cand[2]], cands[1][cand[3]], cands[2][cand[4]], trial)
                evaluated += 1
                if not np.isfinite(trial[O_TIME]):
                    continue
                insert_top(top, top_scores, trial, objective)
                value = score(trial, objective)  # moves follow the objective alone; the kept list is ranked fully
                if value < current:
                    current = value
                    best_move = cand
                    improved = True
            state = best_move
    return top, top_scores, evaluated


@njit(cache=True)
def legal_space_size(m, n, k, ab, wb, ob, params, max_tiles, limit):
    """How many mappings of the space fit the global buffer (counting stops once past ``limit``)."""
    g = min(params[_P_ROWS], params[_P_COLS])
    cm, cn, ck = tile_candidates(m, g, max_tiles), tile_candidates(n, g, max_tiles), tile_candidates(k, g, max_tiles)
    per_tile = N_ORDERS * (3 if params[_P_DATAFLOW] == 3 else 1)
    size = 0
    for i in range(cm.size):
        for j in range(cn.size):
            c = 0
            while c < ck.size and _footprint_ok(cm[i], cn[j], ck[c], ab, wb, ob, params):
                c += 1
            if c == 0:
                break  # the footprint grows with tile_n: no larger tile_n fits either
            size += c * per_tile
            if size > limit:
                return size
    return size


@njit(cache=True)
def search_gemm(m, n, k, batch, w_count, ab, wb, ob, a_unique, dtype, params, objective, max_tiles, top_k, budget,
                seed):
    """Best mappings of a GEMM: exhaustive when the mappings that fit the buffer are within the budget, heuristic
    otherwise."""
    if w_count <= 1.0 and batch > 1.0:  # one weight shared by the batch: the batch is more rows of M
        m, batch = m * batch, 1.0
    if legal_space_size(m, n, k, ab, wb, ob, params, max_tiles, budget) <= budget:
        return exhaustive_gemm(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, max_tiles, top_k)
    return heuristic_gemm(m, n, k, batch, ab, wb, ob, a_unique, dtype, params, objective, max_tiles, top_k, budget,
                          32, seed)


@njit(cache=True)
def _add(acc, part):
    for slot in _ADDITIVE:
        acc[slot] += part[slot]


@njit(cache=True)
def search_fused_attention(bh, q, kv, d, ab, wb, ob, pairs, dtype, params, objective, max_tiles, top, top_scores):
    """Every fused-attention mapping (Q tile × KV chunk, array-granular candidates) that fits the buffer, ranked into
    ``top``/``top_scores``; returns how many were evaluated."""
    g = min(params[_P_ROWS], params[_P_COLS])
    cq, ckv = tile_candidates(q, g, max_tiles), tile_candidates(kv, g, max_tiles)
    unbounded = unbounded_params(params)
    trial = np.empty(N_OUT)
    evaluated = 0
    for i in range(cq.size):
        for j in range(ckv.size):
            if fused_footprint(min(cq[i], q), min(ckv[j], kv), d, ab, wb, ob, params) > params[_P_GB_BYTES]:
                break  # the footprint grows with the chunk: no larger chunk fits either
            fused_attention_cost(bh, q, kv, d, ab, wb, ob, pairs, dtype, params, unbounded, cq[i], ckv[j], trial)
            evaluated += 1
            insert_top(top, top_scores, trial, objective)
    return evaluated


@njit(cache=True)
def op_cost(row, params, objective, settings, out):
    """Cost of one op under its best mapping (GEMM-like ops searched; attention = two GEMMs + softmax, or the fused
    dataflow of ``hw_models.spatial_attention`` where the preset has one and it is better).
    ``settings``: (max_tiles, budget, seed) of the search."""
    max_tiles, budget, seed = int(settings[0]), int(settings[1]), int(settings[2])
    out[:] = 0.0
    kind = int(row[C_KIND])
    ab, wb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    dt = int(row[C_DTYPE])
    if kind == K_GEMM:
        top, _, _ = search_gemm(row[C_M], row[C_N], row[C_K], row[C_BATCH], row[C_W_COUNT], ab, wb, ob,
                                row[C_A_UNIQUE], dt, params, objective, max_tiles, 1, budget, seed)
        out[:] = top[0]
    elif kind == K_ATTENTION:
        b, h, q, kv, d = row[C_BATCH], row[C_HEADS], row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
        scores, _, _ = search_gemm(q, kv, d, b * h, b * h, ab, wb, ob, 1.0, dt, params, objective, max_tiles, 1,
                                   budget, seed)
        values, _, _ = search_gemm(q, d, kv, b * h, b * h, ob, wb, ob, 1.0, dt, params, objective, max_tiles, 1,
                                   budget, seed)
        out[:] = scores[0]
        out[O_MAPPING] = 0.0
        _add(out, values[0])
        pairs = b * h * q * kv * (0.5 if row[C_CAUSAL] > 0.5 and q == kv else 1.0)
        soft = np.zeros(N_OUT)
        vector_cost(params[_P_SOFTMAX_OPS] * pairs, 0.0, params, soft)
        _add(out, soft)
        if not np.isfinite(out[O_TIME]):
            out[O_TIME] = np.inf
        if params[_P_FUSED] > 0.5:  # the fused dataflow competes with the two GEMMs; the better mapping runs
            top, top_scores = empty_top(1, N_OUT)
            insert_top(top, top_scores, out, objective)
            search_fused_attention(b * h, q, kv, d, ab, wb, ob, pairs, dt, params, objective, max_tiles, top,
                                   top_scores)
            if np.isfinite(top[0, O_TIME]):
                out[:] = top[0]
        out[O_UTIL] = row[C_FLOPS] / 2.0 / (out[O_TIME] * params[_P_ROWS] * params[_P_COLS]
                                           * params[_P_ARRAYS] * params[_P_MACS_FP64 + dt] * params[_P_CLOCK_HZ])
    else:
        vector_cost(row[C_FLOPS], row[C_BYTES], params, out)
    if kind != K_ATTENTION:  # an attention record keeps its own: 0 for two GEMMs, 1 when fused
        out[O_MAPPING] = 0.0 if kind == K_GEMM else -1.0
