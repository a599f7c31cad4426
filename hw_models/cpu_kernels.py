"""Numba cost kernels of the CPU kind (``hw_models.cpu``): one op on one processor, a fixed kernel per op class.

Every op pays a dispatch overhead, plus a fork/join per threaded library call, plus the larger of its compute time
and its memory time:

    time = dispatch + forks · sync + max(compute, bytes / bandwidth of the level the working set fits in).

Threads: an op runs on ``min(threads, cores × threads_per_core)`` hardware threads; those beyond the cores share their
core's SIMD units, so ``a = min(threads, cores)`` cores are active. The working set (the op's compulsory bytes) is
served from the first level that holds it: the active cores' private L1 (``a × L1``), their L2, the shared L3, or
DRAM; a GEMM's B operand (its weights), whose repeats (layers) hold distinct copies, is reused only after its op's
``count`` × its bytes have streamed through the caches, so it comes from the level that holds that many (a model
larger than the caches streams its weights from DRAM every step). A level's bandwidth is its bytes per core-cycle × active cores × clock × the achieved cache fraction; DRAM's is
``min(peak, a × misses in flight × line / latency)`` (Little's law: one core alone cannot saturate the channels) ×
the achieved DRAM fraction. A nearer level is never slower than a farther one (a preset may list a shared L3 faster
than a private L2 for few cores; the data then streams at the farther level's rate).

- GEMM (matmul, convolution as an implicit GEMM, spiking layers): BLAS computes C in register tiles of
  ``tile_m × tile_n``; the ``T = ceil(m/tm)·ceil(n/tn)·batch`` tiles are split over the threads in whole tiles, and
  each tile (edge tiles are narrower, not padded: ``m·n·batch / T`` outputs on average) costs
  ``2·outputs·(k + block_k)`` FLOPs at the thread's share of its core's peak × ``gemm_efficiency`` (``block_k``: the
  tile's load/store of C and operand packing, in K-iterations). The achieved fraction of peak thus ramps with K
  (Hockney's half-performance length ``k½ = block_k``) and with how evenly the tiles split over the threads; a GEMV
  (m = 1) is bound by its weight bytes. BLAS starts ``floor(m·n·k / gemm_macs_per_thread)`` threads (at least 1, at
  most ``gemm_threads``), as OpenBLAS does; a batch of GEMMs is one threaded BLAS call (one fork/join) per matrix.
- Streaming ops (elementwise, norm, softmax, neuron updates, routing) and copies (gather, KV write) run on
  ``stream_threads`` at ``stream_efficiency`` of the SIMD peak.
- A datatype the library has no SIMD kernel for (a ``runtime.scalar_fallback_*`` rate given) runs its GEMMs or loops
  on one thread at that rate, whatever the core's SIMD units could do.
- ``kernel`` ops (scalar classic ML): their operation counts at the scalar issue rate; divides, square roots and
  exponentials at their own cycles; the parallel fraction splits over the stream threads (Amdahl).
- Attention: what a CPU library does with it: the score GEMM (q × kv × head_dim per head), a softmax over the scores
  (``softmax_flops_per_score`` each), and the value GEMM, each a separate call; scores are kept at the output width.
  Causal masking does not skip work (the full score matrix is computed and masked).
- Collective on one processor: a memory copy of the data a ring would exchange (read and written once), plus the adds.

Energy: FLOPs × energy per FLOP of the datatype (scalar instructions × their energy for kernel ops); bytes × the
energy per byte of the level that serves them (``energy_onchip_j`` for caches, ``energy_offchip_j`` for DRAM); idle
power × time is the static part.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import (B_COMPUTE, B_DRAM, B_L2, B_LAUNCH, O_BOUND, O_BYTES_OFFCHIP, O_BYTES_ONCHIP, O_E_COMPUTE,
                            O_E_LINK, O_E_OFFCHIP, O_E_ONCHIP, O_E_STATIC, O_MAP_0, O_MAPPING, O_TIME, O_UTIL)
from hw_models.cpu import P
from workloads.table import (ALL_GATHER, ALL_REDUCE, C_A_BYTES, C_BATCH, C_BYTES, C_COLLECTIVE, C_COUNT, C_DTYPE,
                             C_ELEMENTS, C_FLOPS, C_GROUP, C_HEAD_DIM, C_HEADS, C_K, C_KERNEL_COUNTS, C_KIND,
                             C_KV_HEADS, C_KV_LEN, C_M, C_N, C_O_BYTES, C_PARALLEL_FRACTION, C_Q_LEN, C_W_BYTES,
                             C_W_COUNT, K_ATTENTION, K_COLLECTIVE, K_GATHER, K_GEMM, K_KV_WRITE, K_STREAM)

_CORES, _TPC, _CLK = P["cores"], P["threads_per_core"], P["clock_hz"]
_PEAK, _E_FLOP = P["peak_fp64"], P["e_flop_fp64"]
_IPC, _DIV, _SQRT, _EXP = P["scalar_ipc"], P["div_cycles"], P["sqrt_cycles"], P["exp_cycles"]
_L1, _L1_BPC, _L2, _L2_BPC, _L3, _L3_BPC = P["l1_bytes"], P["l1_bpc"], P["l2_bytes"], P["l2_bpc"], P["l3_bytes"], \
    P["l3_bpc"]
_DRAM_BW, _LINE, _MISSES, _LAT = P["dram_bw"], P["line_bytes"], P["misses"], P["dram_latency_s"]
_GEMM_T, _STREAM_T, _TM, _TN = P["gemm_threads"], P["stream_threads"], P["tile_m"], P["tile_n"]
_MACS_PER_THREAD = P["macs_per_thread"]
_GEMM_EFF, _BLOCK_K, _STREAM_EFF, _CACHE_EFF, _DRAM_EFF = P["gemm_eff"], P["block_k"], P["stream_eff"], \
    P["cache_eff"], P["dram_eff"]
_DISPATCH, _SYNC, _SOFTMAX, _IDLE = P["dispatch_s"], P["sync_s"], P["softmax_flops"], P["idle_w"]
_E_SCALAR, _E_L1, _E_L2, _E_L3, _E_DRAM = P["e_scalar_op"], P["e_l1_byte"], P["e_l2_byte"], P["e_l3_byte"], \
    P["e_dram_byte"]
_FALLBACK_GEMM, _FALLBACK_STREAM = P["fallback_gemm_fp64"], P["fallback_stream_fp64"]
_DRAM_LEVEL = 3


@njit(cache=True)
def hardware_threads(threads, params):
    """(threads an op runs on, cores they keep busy) for a requested thread count."""
    lanes = max(1.0, min(threads, params[_CORES] * params[_TPC]))
    return lanes, min(lanes, params[_CORES])


@njit(cache=True)
def dram_bandwidth(active, params):
    """Achieved DRAM bandwidth of ``active`` cores: the channels' peak or Little's law, whichever is lower."""
    per_core = params[_MISSES] * params[_LINE] / params[_LAT]
    return min(params[_DRAM_BW], active * per_core) * params[_DRAM_EFF]


@njit(cache=True)
def serving_level(working_set, active, params):
    """(level index 0..3, its bandwidth in B/s) that serves a working set on ``active`` cores; a nearer level is
    never slower than a farther one."""
    cache = active * params[_CLK] * params[_CACHE_EFF]
    bw3 = dram_bandwidth(active, params)
    if params[_L3] > 0.0:
        bw2 = max(params[_L3_BPC] * cache, bw3)
    else:
        bw2 = bw3
    bw1 = max(params[_L2_BPC] * cache, bw2)
    bw0 = max(params[_L1_BPC] * cache, bw1)
    if working_set <= active * params[_L1]:
        return 0, bw0
    if working_set <= active * params[_L2]:
        return 1, bw1
    if params[_L3] > 0.0 and working_set <= params[_L3]:
        return 2, bw2
    return _DRAM_LEVEL, bw3


@njit(cache=True)
def level_energy(level, params):
    """Energy per byte served from a level."""
    if level == 0:
        return params[_E_L1]
    if level == 1:
        return params[_E_L2]
    if level == 2:
        return params[_E_L3]
    return params[_E_DRAM]


@njit(cache=True)
def serve(out, nbytes, working_set, active, params):
    """Bytes served from the level that holds ``working_set``: their time; their energy and count go to ``out``."""
    if nbytes <= 0.0:
        return 0.0, 0
    level, bw = serving_level(working_set, active, params)
    if level == _DRAM_LEVEL:
        out[O_E_OFFCHIP] += nbytes * params[_E_DRAM]
        out[O_BYTES_OFFCHIP] += nbytes
    else:
        out[O_E_ONCHIP] += nbytes * level_energy(level, params)
        out[O_BYTES_ONCHIP] += nbytes
    out[O_MAP_0] = max(out[O_MAP_0], float(level))
    return nbytes / bw, level


@njit(cache=True)
def add_part(out, t_compute, nbytes, far_bytes, far_reuse, active, forks, flops, e_flop, params):
    """Add one library call: dispatch + ``forks`` fork/joins of its threads + max(compute, memory), with energies.
    Of its ``nbytes``, ``far_bytes`` (a GEMM's weights) are next reused only after ``far_reuse`` bytes have passed
    through the caches, so they come from the level that holds that many."""
    t_near, level = serve(out, nbytes - far_bytes, nbytes, active, params)
    t_far, far_level = serve(out, far_bytes, max(nbytes, far_reuse), active, params)
    t_mem = t_near + t_far
    overhead = params[_DISPATCH] + forks * params[_SYNC]
    busy = max(t_compute, t_mem)
    out[O_TIME] += overhead + busy
    out[O_E_COMPUTE] += flops * e_flop
    if overhead > busy:
        return B_LAUNCH, overhead
    if t_compute >= t_mem:
        return B_COMPUTE, busy
    return (B_DRAM if max(level, far_level) == _DRAM_LEVEL else B_L2), busy


@njit(cache=True)
def gemm_compute_time(m, n, k, batch, dt, lanes, active, params):
    """Time of the BLAS register tiles of a (batched) GEMM split over ``lanes`` threads on ``active`` cores."""
    tiles = math.ceil(m / params[_TM]) * math.ceil(n / params[_TN]) * batch
    per_thread = math.ceil(tiles / lanes)
    outputs_per_tile = m * n * batch / tiles  # edge tiles are narrower (BLAS edge kernels), not padded
    thread_rate = params[_PEAK + dt] * params[_CLK] * params[_GEMM_EFF] * active / lanes
    return per_thread * 2.0 * outputs_per_tile * (k + params[_BLOCK_K]) / thread_rate


@njit(cache=True)
def gemm_part(out, m, n, k, batch, nbytes, far_bytes, far_reuse, dt, params):
    """One GEMM call on the BLAS threads (or the library's single-threaded scalar loop for a datatype BLAS lacks);
    ``far_bytes`` of its ``nbytes`` are reused only after ``far_reuse`` bytes (see ``add_part``); returns (bound, busy
    time)."""
    if m <= 0 or n <= 0 or k <= 0 or batch <= 0:
        return B_COMPUTE, 0.0
    flops = 2.0 * m * n * k * batch
    fallback = params[_FALLBACK_GEMM + dt]
    if fallback > 0.0:
        return add_part(out, flops / (fallback * params[_CLK]), nbytes, far_bytes, far_reuse, 1.0, 0.0, flops,
                        params[_E_FLOP + dt], params)
    threads = min(params[_GEMM_T], max(1.0, math.floor(m * n * k / params[_MACS_PER_THREAD])))
    lanes, active = hardware_threads(threads, params)
    t_c = gemm_compute_time(m, n, k, batch, dt, lanes, active, params)
    forks = batch if lanes > 1.0 else 0.0  # one threaded BLAS call per matrix of the batch
    return add_part(out, t_c, nbytes, far_bytes, far_reuse, active, forks, flops, params[_E_FLOP + dt], params)


@njit(cache=True)
def stream_part(out, flops, nbytes, dt, params):
    """One elementwise loop (or copy) on the stream threads (a datatype without SIMD kernel: one thread's scalar
    loop); returns (bound, busy time)."""
    fallback = params[_FALLBACK_STREAM + dt]
    if fallback > 0.0:
        return add_part(out, flops / (fallback * params[_CLK]), nbytes, 0.0, 0.0, 1.0, 0.0, flops,
                        params[_E_FLOP + dt], params)
    lanes, active = hardware_threads(params[_STREAM_T], params)
    t_c = flops / (params[_PEAK + dt] * params[_CLK] * params[_STREAM_EFF] * active)
    return add_part(out, t_c, nbytes, 0.0, 0.0, active, 1.0 if lanes > 1.0 else 0.0, flops, params[_E_FLOP + dt],
                    params)


@njit(cache=True)
def kernel_part(out, row, params):
    """A scalar ``kernel`` op: issue slots of its operation counts, Amdahl over the stream threads."""
    c = C_KERNEL_COUNTS
    int_add, int_mul, int_div, int_cmp = row[c], row[c + 1], row[c + 2], row[c + 3]
    fp_add, fp_mul, fp_div, fp_cmp, fp_exp, fp_sqrt = row[c + 4], row[c + 5], row[c + 6], row[c + 7], row[c + 8], \
        row[c + 9]
    loads, stores = row[c + 10], row[c + 11]
    simple = int_add + int_mul + int_cmp + fp_add + fp_mul + fp_cmp + loads + stores
    long_cycles = (int_div + fp_div) * params[_DIV] + fp_sqrt * params[_SQRT] + fp_exp * params[_EXP]
    cycles = simple / params[_IPC] + long_cycles
    lanes, active = hardware_threads(params[_STREAM_T], params)
    p = row[C_PARALLEL_FRACTION]
    t_c = ((1.0 - p) * cycles + p * cycles / active) / params[_CLK]
    slots = simple + long_cycles  # a long operation costs one instruction's energy per cycle it occupies its unit
    forks = 1.0 if lanes > 1.0 and p > 0.0 else 0.0
    bound, _ = add_part(out, t_c, row[C_BYTES], 0.0, 0.0, active, forks, 0.0, 0.0, params)
    out[O_E_COMPUTE] += slots * params[_E_SCALAR]
    return bound


@njit(cache=True)
def attention_parts(out, row, dt, params):
    """Score GEMM, softmax over the scores, value GEMM: three calls; returns the bound of the longest."""
    b, h, kvh = row[C_BATCH], row[C_HEADS], row[C_KV_HEADS]
    q, kv, d = row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
    ab, kb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    heads = b * h
    q_bytes, kv_bytes = heads * q * d * ab, b * kvh * kv * d * kb  # each of K and V
    scores = heads * q * kv
    b1, t1 = gemm_part(out, q, kv, d, heads, q_bytes + kv_bytes + scores * ob, 0.0, 0.0, dt, params)
    b2, t2 = stream_part(out, scores * params[_SOFTMAX], 2.0 * scores * ob, dt, params)
    b3, t3 = gemm_part(out, q, d, kv, heads, scores * ob + kv_bytes + heads * q * d * ob, 0.0, 0.0, dt, params)
    if t1 >= t2 and t1 >= t3:
        return b1
    return b2 if t2 >= t3 else b3


@njit(cache=True)
def collective_part(out, row, dt, params):
    """A collective among ``group`` participants on one processor: a memory copy of what a ring would exchange."""
    g = row[C_GROUP]
    msg = row[C_ELEMENTS] * row[C_A_BYTES]
    kind = int(row[C_COLLECTIVE])
    if kind == ALL_REDUCE:
        sent = 2.0 * (g - 1.0) / max(g, 1.0) * msg
    elif kind == ALL_GATHER:
        sent = (g - 1.0) * msg
    else:
        sent = msg
    bound, _ = stream_part(out, row[C_FLOPS], 2.0 * max(sent, 0.0), dt, params)
    return bound


@njit(cache=True)
def op_cost(row, params, objective, settings, out):
    """Cost of one op on one CPU (fixed kernels: ``objective`` and ``settings`` unused)."""
    out[:] = 0.0
    out[O_MAPPING] = -1.0
    kind = int(row[C_KIND])
    dt = int(row[C_DTYPE])
    is_kernel = False
    for j in range(12):
        if row[C_KERNEL_COUNTS + j] > 0.0:
            is_kernel = True
    if kind == K_GEMM:
        # the B operand (weights) of one instance; its repeats (layers) hold distinct copies, so it is reused only
        # after count x its bytes have streamed through the caches
        b_bytes = min(row[C_K] * row[C_N] * row[C_W_BYTES] * row[C_W_COUNT], row[C_BYTES])
        bound, _ = gemm_part(out, row[C_M], row[C_N], row[C_K], row[C_BATCH], row[C_BYTES], b_bytes,
                             row[C_COUNT] * b_bytes, dt, params)
    elif kind == K_ATTENTION:
        bound = attention_parts(out, row, dt, params)
    elif kind == K_STREAM and is_kernel:
        bound = kernel_part(out, row, params)
    elif kind == K_STREAM or kind == K_GATHER or kind == K_KV_WRITE:
        bound, _ = stream_part(out, row[C_FLOPS], row[C_BYTES], dt, params)
    elif kind == K_COLLECTIVE:
        bound = collective_part(out, row, dt, params)
    else:
        out[O_TIME] = np.inf
        return
    t = out[O_TIME]
    out[O_BOUND] = bound
    out[O_E_LINK] = 0.0
    out[O_E_STATIC] = params[_IDLE] * t
    peak = params[_CORES] * params[_PEAK + dt] * params[_CLK]
    out[O_UTIL] = row[C_FLOPS] / (t * peak) if t > 0.0 else 0.0
