"""GPU mapping: the threadblock-tile search for GEMMs and the GPU's per-op cost under its best mapping.

For every (design point, op) the GEMM tile (tile_m × tile_n × split_k) is chosen by exhaustive search over the legal
tiles of ``hw_models.gpu_kernels``, ranked by ``mappings.scoring``; other ops have a single fixed kernel. The batched
loop over points and ops is ``mappings.driver``'s.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from hw_models.cost import N_OUT, O_MAPPING, O_TIME
from hw_models.gpu import SPLIT_K, TILE_M, TILE_N
from hw_models.gpu_kernels import attention_cost, collective_cost, gemm_cost, streaming_cost, tile_allowed, tile_index
from mappings.scoring import empty_top, insert_top
from workloads.table import C_BATCH, C_K, C_KIND, C_M, C_N, K_ATTENTION, K_COLLECTIVE, K_GATHER, K_GEMM, K_KV_WRITE, K_STREAM


@njit(cache=True)
def top_gemm_tiles(row, params, objective, top_k):
    """The ``top_k`` best legal tiles of a GEMM, best first: (tile indices, scores, cost records); -1 / inf pad."""
    records, scores = empty_top(top_k, N_OUT)
    trial = np.zeros(N_OUT)  # mapping fields the GPU does not use stay 0
    for im in range(TILE_M.size):  # grid order, skipping tiles outside the point's bounds without costing them
        for jn in range(TILE_N.size):
            for ks in range(SPLIT_K.size):
                if not tile_allowed(TILE_M[im], TILE_N[jn], SPLIT_K[ks], params):
                    continue
                gemm_cost(row, params, tile_index(im, jn, ks), trial)
                if np.isfinite(trial[O_TIME]):
                    insert_top(records, scores, trial, objective)
    tiles = np.full(top_k, -1, dtype=np.int64)
    for i in range(top_k):
        if np.isfinite(scores[i]):
            tiles[i] = int(records[i, O_MAPPING])
    return tiles, scores, records


def searched_tiles(params) -> int:
    """How many grid tiles the search costs at a design point (those within its bounds)."""
    return sum(bool(tile_allowed(m, n, s, params)) for m in TILE_M for n in TILE_N for s in SPLIT_K)


@njit(cache=True)
def best_gemm(row, params, objective, out):
    """Search every legal tile; leave the best tile's cost in ``out``. An empty GEMM costs nothing; a non-empty one
    with no legal tile (shared memory too small for every tile, no unit for its datatype) costs inf: unmappable."""
    _, _, records = top_gemm_tiles(row, params, objective, 1)
    if np.isfinite(records[0, O_TIME]):
        out[:] = records[0]
    elif row[C_M] > 0 and row[C_N] > 0 and row[C_K] > 0 and row[C_BATCH] > 0:
        out[O_TIME] = np.inf


@njit(cache=True)
def op_cost(row, params, objective, settings, out):
    """Cost of one op on one GPU under its best mapping (``settings`` unused)."""
    out[:] = 0.0
    kind = int(row[C_KIND])
    if kind == K_GEMM:
        best_gemm(row, params, objective, out)
    elif kind == K_ATTENTION:
        attention_cost(row, params, out)
    elif kind == K_STREAM or kind == K_GATHER or kind == K_KV_WRITE:
        streaming_cost(row, params, out)
    elif kind == K_COLLECTIVE:
        collective_cost(row, params, out)
