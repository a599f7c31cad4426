"""GPU mapping: the threadblock-tile search for GEMMs, and the batched map-and-cost kernel over design points.

For every (design point, op) the GEMM tile (tile_m × tile_n × split_k) is chosen by exhaustive search over the legal
tiles of ``hw_models.gpu_kernels`` under the objective; other ops have a single fixed kernel. Points are evaluated in
parallel (``prange``) and the result is deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from hw_models.cost import N_OUT, O_E_COMPUTE, O_E_DRAM, O_E_L2, O_E_LINK, O_E_STATIC, O_TIME
from hw_models.gpu_kernels import N_TILES, attention_cost, collective_cost, gemm_cost, streaming_cost
from workloads.table import (C_KIND)


@njit(cache=True)
def _score(out, objective):
    energy = out[O_E_COMPUTE] + out[O_E_L2] + out[O_E_DRAM] + out[O_E_LINK] + out[O_E_STATIC]
    if objective == 0:
        return out[O_TIME] * (1.0 + 1e-9) + energy * 1e-12  # latency, energy breaks ties
    if objective == 1:
        return energy
    return energy * out[O_TIME]


@njit(cache=True)
def best_gemm(row, params, objective, out):
    """Search every legal tile; leave the best tile's cost in ``out``."""
    trial = np.zeros(N_OUT)  # slots a kernel leaves unwritten (unused mapping fields) stay 0, not stale memory
    best = np.inf
    for t in range(N_TILES):
        gemm_cost(row, params, t, trial)
        if not np.isfinite(trial[O_TIME]):
            continue
        s = _score(trial, objective)
        if s < best:
            best = s
            out[:] = trial


@njit(cache=True)
def top_gemm_tiles(row, params, objective, top_k):
    """The ``top_k`` best legal tiles of a GEMM, best first: (tile indices, scores, cost records); -1 / inf pad."""
    tiles = np.full(top_k, -1, dtype=np.int64)
    scores = np.full(top_k, np.inf)
    records = np.full((top_k, N_OUT), np.inf)
    trial = np.zeros(N_OUT)  # slots a kernel leaves unwritten (unused mapping fields) stay 0, not stale memory
    for t in range(N_TILES):
        gemm_cost(row, params, t, trial)
        if not np.isfinite(trial[O_TIME]):
            continue
        s = _score(trial, objective)
        if s >= scores[top_k - 1]:
            continue
        i = top_k - 1
        while i > 0 and scores[i - 1] > s:  # strict: equal scores keep search order, as best_gemm does
            scores[i], tiles[i] = scores[i - 1], tiles[i - 1]
            records[i, :] = records[i - 1, :]
            i -= 1
        scores[i], tiles[i] = s, t
        records[i, :] = trial
    return tiles, scores, records


@njit(cache=True)
def map_and_cost_op(row, params, objective, out):
    """Cost of one op on one GPU under its best mapping."""
    out[:] = 0.0
    kind = int(row[C_KIND])
    if kind == 0:
        best_gemm(row, params, objective, out)
    elif kind == 1:
        attention_cost(row, params, out)
    elif kind == 2 or kind == 3 or kind == 4:
        streaming_cost(row, params, out)
    elif kind == 5:
        collective_cost(row, params, out)


@njit(parallel=True, cache=True)
def map_and_cost(table, params, objective):
    """Costs of every op (rows of ``table``) at every design point (rows of ``params``): (points, ops, N_OUT)."""
    n_points, n_ops = params.shape[0], table.shape[0]
    result = np.zeros((n_points, n_ops, N_OUT))
    for p in prange(n_points):
        for i in range(n_ops):
            map_and_cost_op(table[i], params[p], objective, result[p, i])
    return result
