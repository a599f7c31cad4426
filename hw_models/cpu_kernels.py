"""Numba cost kernels of the CPU kind (``hw_models.cpu``): one op on one processor, a fixed kernel per op class.

Every op pays a dispatch overhead, plus a fork/join per threaded library call, plus the larger of its compute time
and its memory time:

    time = dispatch + forks · sync + max(compute, bytes / bandwidth of the level the working set fits in).

Threads: an op runs on ``min(threads, cores × threads_per_core)`` hardware threads; those beyond the cores share their
core's SIMD units, so ``a = min(threads, cores)`` cores are active. The working set (the op's compulsory bytes) is
served from the first level that holds it: the active cores' private L1 (``a × L1``), their L2, the shared L3, or
DRAM, except that each nearer level, too small for it, still serves its capacity's share beyond the levels before
it (``(capacity - nearer capacity) / working set``, a cache keeping a random part of a stream it cannot hold) at its
own bandwidth; a GEMM's B operand (its weights), whose repeats (layers) hold distinct copies, is reused only after
its op's ``count`` × its bytes (and the workload's parameter bytes) have streamed through the caches, so it comes from
the level that holds that many (a model larger than the caches streams its weights from DRAM every step). A level's
bandwidth is its bytes per core-cycle × active cores × clock × the achieved cache fraction; DRAM's is
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
  Before the micro-kernel runs, BLAS packs A and B into panels (``gemm_pack_bytes_per_cycle`` per core, and no faster
  than their level serves them); packing and computing do not overlap. A GEMV (m or n = 1) and a GEMM of at most
  ``gemm_small_macs`` multiply-adds (the small-matrix kernel, one thread) run unpacked.
- With ``unfused_elementwise``, a GEMM's or convolution's bias add is one more pass over its output.
- Convolution with ``conv_im2col``: an im2col copy first (one thread; the column matrix written in runs of one kernel
  row, or of the channels for a 1 × 1 kernel, each run costing ``copy_run_cycles``), then the GEMM reads it.
- Streaming ops (elementwise, norm, softmax, neuron updates, routing) and copies (gather, KV write) run on
  ``stream_threads`` at ``stream_efficiency`` of the SIMD peak; an exp/tanh costs ``transcendental_cycles_per_element``.
  With ``unfused_elementwise`` (numpy) each elementary operation is its own call and pass over memory:
  ``flops_per_element`` passes, each after the first reading and writing an intermediate.
- A datatype the library has no SIMD kernel for (a ``runtime.scalar_fallback_*`` rate given) runs its GEMMs or loops
  on one thread at that rate, whatever the core's SIMD units could do.
- ``kernel`` ops (scalar classic ML): their operation counts at the scalar issue rate; divides, square roots and
  exponentials at their own cycles; the parallel fraction splits over the stream threads (Amdahl).
- Attention: what a CPU library does with it: the score GEMM (q × kv × head_dim; the query heads sharing a KV head
  are one GEMM), a softmax over the scores (``softmax_flops_per_score`` passes, one more for a causal mask), and the
  value GEMM, each a separate call; scores are kept at the output width.
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
from hw_models.kernel_counts import is_kernel_op, kernel_counts
from workloads.table import (ALL_GATHER, ALL_REDUCE, C_A_BYTES, C_A_UNIQUE, C_BATCH, C_BIAS, C_BYTES, C_CAUSAL,
                             C_COLLECTIVE, C_COUNT, C_DTYPE, C_FLOPS_PER_ELEMENT, C_KERNEL_H, C_KERNEL_W, C_REDUCTIONS,
                             C_REUSE_BYTES, C_TRANSCENDENTALS,
                             C_ELEMENTS, C_FLOPS, C_GROUP, C_HEAD_DIM, C_HEADS, C_K, C_KIND,
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
_UNFUSED, _TRANS_CYCLES, _PACK_BPC, _IM2COL, _COPY_RUN = P["unfused"], P["transcendental_cycles"], P["pack_bpc"], \
    P["im2col"], P["copy_run_cycles"]
_SMALL_MACS, _REDUCE_CYCLES = P["small_macs"], P["reduction_cycles"]
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
    """Bytes served for a ``working_set``: from the first level that holds it, except the parts the nearer levels
    still keep: each nearer level, too small for the whole set, keeps its capacity beyond the levels before it
    (``(capacity - nearer capacity) / working set``, as caches that cannot keep a whole stream keep a random part of
    it) and serves that share at its own bandwidth, so time changes continuously with the working set and never
    grows with a capacity. Their time; their energy and count go to ``out``; returns (time, level holding the set)."""
    if nbytes <= 0.0:
        return 0.0, 0
    level, bw = serving_level(working_set, active, params)
    time, kept = 0.0, 0.0
    for nearer in range(level):
        capacity = level_capacity(nearer, active, params)
        if capacity <= kept:
            continue  # a level no larger than the ones before it adds nothing
        share = nbytes * (capacity - kept) / working_set
        time += share / serving_level(capacity, active, params)[1]
        charge(out, share, nearer, params)
        kept = capacity
    far = nbytes * (1.0 - kept / working_set)
    charge(out, far, level, params)
    out[O_MAP_0] = max(out[O_MAP_0], float(level))
    return time + far / bw, level


@njit(cache=True)
def level_capacity(level, active, params):
    """Bytes a cache level holds for ``active`` cores (private levels add up; the L3 is shared)."""
    if level == 0:
        return active * params[_L1]
    if level == 1:
        return active * params[_L2]
    return params[_L3] if params[_L3] > 0.0 else 0.0


@njit(cache=True)
def charge(out, nbytes, level, params):
    """Energy and byte count of ``nbytes`` served from ``level``."""
    if level == _DRAM_LEVEL:
        out[O_E_OFFCHIP] += nbytes * params[_E_DRAM]
        out[O_BYTES_OFFCHIP] += nbytes
    else:
        out[O_E_ONCHIP] += nbytes * level_energy(level, params)
        out[O_BYTES_ONCHIP] += nbytes


@njit(cache=True)
def add_part(out, t_compute, nbytes, far_bytes, far_reuse, active, forks, flops, e_flop, params, packed=0.0):
    """Add one library call: dispatch + ``forks`` fork/joins of its threads + max(compute, memory), with energies.
    Of its ``nbytes``, ``far_bytes`` (a GEMM's weights) are next reused only after ``far_reuse`` bytes have passed
    through the caches, so they come from the level that holds that many. A packed BLAS GEMM (``packed`` bytes of
    panels) first copies its operands, read from the levels holding them, into cache-resident panels, then computes
    from those panels: the two phases add instead of overlapping."""
    t_near, level = serve(out, nbytes - far_bytes, nbytes, active, params)
    t_far, far_level = serve(out, far_bytes, max(nbytes, far_reuse), active, params)
    t_mem = t_near + t_far
    if packed > 0.0:
        t_mem = max(packed / (params[_PACK_BPC] * params[_CLK] * active), t_mem)
        out[O_E_ONCHIP] += packed * params[_E_L2]  # the panels are written to (and read back from) cache
        out[O_BYTES_ONCHIP] += packed
        busy = t_mem + t_compute
    else:
        busy = max(t_compute, t_mem)
    overhead = params[_DISPATCH] + forks * params[_SYNC]
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
def gemm_part(out, m, n, k, batch, nbytes, far_bytes, far_reuse, elem_bytes, dt, params):
    """One GEMM call on the BLAS threads (or the library's single-threaded scalar loop for a datatype BLAS lacks);
    ``far_bytes`` of its ``nbytes`` are reused only after ``far_reuse`` bytes (see ``add_part``). Before its
    micro-kernel runs, BLAS packs each matrix's A (m × k) and B (k × n) of ``elem_bytes`` elements into panels on its
    threads; a GEMV (m or n = 1) and a GEMM of at most ``gemm_small_macs`` (the small-matrix kernel, one thread) run
    unpacked. Returns (bound, busy time)."""
    if m <= 0 or n <= 0 or k <= 0 or batch <= 0:
        return B_COMPUTE, 0.0
    flops = 2.0 * m * n * k * batch
    fallback = params[_FALLBACK_GEMM + dt]
    if fallback > 0.0:
        return add_part(out, flops / (fallback * params[_CLK]), nbytes, far_bytes, far_reuse, 1.0, 0.0, flops,
                        params[_E_FLOP + dt], params)
    macs = m * n * k
    small = macs <= params[_SMALL_MACS]
    threads = 1.0 if small else min(params[_GEMM_T], max(1.0, math.floor(macs / params[_MACS_PER_THREAD])))
    lanes, active = hardware_threads(threads, params)
    t_c = gemm_compute_time(m, n, k, batch, dt, lanes, active, params)
    forks = batch if lanes > 1.0 else 0.0  # one threaded BLAS call per matrix of the batch
    packed = (m * k + k * n) * batch * elem_bytes if m > 1.0 and n > 1.0 and not small else 0.0
    return add_part(out, t_c, nbytes, far_bytes, far_reuse, active, forks, flops, params[_E_FLOP + dt], params,
                    packed)


@njit(cache=True)
def stream_part(out, flops, nbytes, dt, params):
    """One elementwise loop (or copy) on the stream threads in a single pass; returns (bound, busy time)."""
    return stream_passes(out, flops, nbytes, 0.0, 0.0, 0.0, 0.0, 0.0, dt, params)


@njit(cache=True)
def stream_passes(out, flops, nbytes, elements, elem_bytes, ops_per_element, transcendentals, reductions, dt,
                  params):
    """A streaming op of ``elements`` outputs (``ops_per_element`` elementary operations each: ``transcendentals``
    exp/tanh calls, ``reductions`` row reductions, the rest arithmetic) on the stream threads (a datatype without
    SIMD kernel: one thread's scalar loop). Fused, it is one pass over its ``nbytes``. An unfused library makes one
    call and one pass per operation: after the first, each arithmetic or transcendental pass reads and writes an
    ``elements`` × ``elem_bytes`` intermediate and each reduction reads one; a transcendental costs its cycles per
    element, a reduction its own. Returns (bound, busy time)."""
    fallback = params[_FALLBACK_STREAM + dt]
    if fallback > 0.0:
        return add_part(out, flops / (fallback * params[_CLK]), nbytes, 0.0, 0.0, 1.0, 0.0, flops,
                        params[_E_FLOP + dt], params)
    lanes, active = hardware_threads(params[_STREAM_T], params)
    forks = 1.0 if lanes > 1.0 else 0.0
    t_arith = flops / (params[_PEAK + dt] * params[_CLK] * params[_STREAM_EFF] * active)
    t_trans = elements * transcendentals * params[_TRANS_CYCLES] / (params[_CLK] * active)
    passes = max(1.0, math.ceil(ops_per_element)) if params[_UNFUSED] > 0.0 and elements > 0.0 else 1.0
    if passes == 1.0:
        return add_part(out, t_arith + t_trans, nbytes, 0.0, 0.0, active, forks, flops, params[_E_FLOP + dt],
                        params)
    trans_passes = min(passes, math.ceil(transcendentals))
    reduce_passes = min(passes - trans_passes, math.ceil(reductions))
    arith_passes = passes - trans_passes - reduce_passes
    tensor = elements * elem_bytes
    # the first pass reads the operands; every later one reads an intermediate and (unless a reduction) writes one
    traffic = nbytes + (passes - 1.0) * 2.0 * tensor - reduce_passes * tensor
    t_mem, level = serve(out, traffic, nbytes, active, params)
    per_byte = t_mem / traffic
    t_write_pass, t_read_pass = 2.0 * tensor * per_byte, tensor * per_byte
    busy = arith_passes * max(t_arith / max(arith_passes, 1.0), t_write_pass)
    if trans_passes > 0.0:
        busy += trans_passes * max(t_trans / trans_passes, t_write_pass)
    if reduce_passes > 0.0:
        t_reduce = elements * params[_REDUCE_CYCLES] / (params[_CLK] * active)
        busy += reduce_passes * max(t_reduce, t_read_pass)
    busy += max(t_mem - (arith_passes + trans_passes) * t_write_pass - reduce_passes * t_read_pass, 0.0)
    overhead = passes * (params[_DISPATCH] + forks * params[_SYNC])
    out[O_TIME] += overhead + busy
    out[O_E_COMPUTE] += flops * params[_E_FLOP + dt]
    if overhead > busy:
        return B_LAUNCH, overhead
    if t_mem * 2.0 < busy:
        return B_COMPUTE, busy
    return (B_DRAM if level == _DRAM_LEVEL else B_L2), busy


@njit(cache=True)
def copy_part(out, elements, run, nbytes, working_set, params):
    """A strided copy of ``elements`` in contiguous runs of ``run`` elements on one thread (the library's copy loop):
    a call per run, and the bytes at the serving level's bandwidth; returns (bound, busy time)."""
    if elements <= 0.0:
        return B_COMPUTE, 0.0
    t_runs = elements / max(run, 1.0) * params[_COPY_RUN] / params[_CLK]
    t_mem, level = serve(out, nbytes, working_set, 1.0, params)
    busy = max(t_runs, t_mem)
    out[O_TIME] += params[_DISPATCH] + busy
    if t_runs >= t_mem:
        return B_COMPUTE, busy
    return (B_DRAM if level == _DRAM_LEVEL else B_L2), busy


@njit(cache=True)
def kernel_part(out, row, params):
    """A scalar ``kernel`` op: issue slots of its operation counts, Amdahl over the stream threads."""
    int_add, int_mul, int_div, int_cmp, fp_add, fp_mul, fp_div, fp_cmp, fp_exp, fp_sqrt, loads, stores = \
        kernel_counts(row)
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
def im2col_part(out, row, params):
    """A convolution's im2col copy (one thread): each output position's window of ``k`` = channels × kernel area
    elements copied into the column matrix in runs of one kernel row (of the channels when the kernel is 1 × 1);
    returns the bytes the GEMM then reads beyond the op's compulsory input."""
    m, k, groups, ab = row[C_M], row[C_K], row[C_BATCH], row[C_A_BYTES]
    kh, kw = row[C_KERNEL_H], row[C_KERNEL_W]
    columns = m * k * groups
    run = kw if kw > 1.0 else k / max(kh * kw, 1.0)
    col_bytes = columns * ab
    copy_part(out, columns, run, 2.0 * col_bytes, col_bytes, params)
    return col_bytes * (1.0 - row[C_A_UNIQUE])


@njit(cache=True)
def attention_parts(out, row, dt, params):
    """Score GEMM, softmax over the scores, value GEMM: three calls; returns the bound of the longest. The query
    heads sharing a KV head (grouped-query attention) are one GEMM of ``heads / kv_heads × q_len`` rows against it."""
    b, h, kvh = row[C_BATCH], row[C_HEADS], row[C_KV_HEADS]
    q, kv, d = row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
    ab, kb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    kvh = kvh if kvh > 0.0 else h
    matrices, rows = b * kvh, q * h / kvh
    q_bytes, kv_bytes = b * h * q * d * ab, b * kvh * kv * d * kb  # each of K and V
    scores = matrices * rows * kv
    b1, t1 = gemm_part(out, rows, kv, d, matrices, q_bytes + kv_bytes + scores * ob, 0.0, 0.0, ab, dt, params)
    ops = params[_SOFTMAX] + (1.0 if row[C_CAUSAL] > 0.0 and q > 1.0 else 0.0)  # the mask is one more pass
    b2, t2 = stream_passes(out, scores * ops, 2.0 * scores * ob, scores, ob, ops, 1.0, 2.0, dt, params)
    b3, t3 = gemm_part(out, rows, d, kv, matrices, scores * ob + kv_bytes + b * h * q * d * ob, 0.0, 0.0, ob, dt,
                       params)
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
    is_kernel = is_kernel_op(row)
    if kind == K_GEMM:
        # the B operand (weights) of one instance; its repeats (layers) hold distinct copies, and every weight of the
        # workload is used once per run, so it is reused only after count x its bytes, and the workload's parameter
        # bytes, have streamed through the caches
        b_bytes = min(row[C_K] * row[C_N] * row[C_W_BYTES] * row[C_W_COUNT], row[C_BYTES])
        nbytes = row[C_BYTES]
        if row[C_KERNEL_W] > 0.0 and params[_IM2COL] > 0.0:
            nbytes += im2col_part(out, row, params)
        bound, _ = gemm_part(out, row[C_M], row[C_N], row[C_K], row[C_BATCH], nbytes, b_bytes,
                             max(row[C_COUNT] * b_bytes, row[C_REUSE_BYTES]), row[C_A_BYTES], dt, params)
        if row[C_BIAS] > 0.0 and params[_UNFUSED] > 0.0:  # the bias add is its own pass over the output
            outputs = row[C_M] * row[C_N] * row[C_BATCH]
            stream_part(out, outputs, (2.0 * outputs + row[C_N] * row[C_BATCH]) * row[C_O_BYTES], dt, params)
    elif kind == K_ATTENTION:
        bound = attention_parts(out, row, dt, params)
    elif kind == K_STREAM and is_kernel:
        bound = kernel_part(out, row, params)
    elif kind == K_STREAM:
        bound, _ = stream_passes(out, row[C_FLOPS], row[C_BYTES], row[C_ELEMENTS], row[C_O_BYTES],
                                 row[C_FLOPS_PER_ELEMENT], row[C_TRANSCENDENTALS], row[C_REDUCTIONS], dt, params)
    elif kind == K_GATHER or kind == K_KV_WRITE:
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
