"""Numba cost kernels of the GPU model, one per op class; they take one op row and the parameter vector.

Every kernel returns its result in a small output array ``out`` (see ``O_*`` indices): time, energy by component,
bytes at each level, the binding resource and the achieved fraction of peak. Time is never below
``max(FLOPs / peak, compulsory DRAM bytes / HBM bandwidth)``: tiles can only add padded work and re-reads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import (B_COMPUTE, B_DRAM, B_L2, B_LAUNCH, B_LINK, B_POWER, B_SFU, O_BOUND, O_BYTES_IN_MEMORY,
                            O_BYTES_OFFCHIP, O_BYTES_ONCHIP, O_E_COMPUTE, O_E_LINK, O_E_OFFCHIP, O_E_ONCHIP, O_E_STATIC,
                            O_MAPPING, O_TIME, O_UTIL)
from hw_models.collectives import collective_time
from hw_models.gpu import DTYPES, P, SPLIT_K, TILE_M, TILE_N, tile_smem_bytes
from hw_models.gpu_stack import EAGER, PAGED
from workloads.table import (ALL_GATHER, ALL_REDUCE, C_A_BYTES, C_BATCH, C_BYTES, C_COLLECTIVE, C_DTYPE, C_ELEMENTS, C_FLOPS, C_GROUP, C_HEAD_DIM, C_HEADS, C_K, C_KV_CACHE, C_KV_HEADS, C_KV_LEN, C_M, C_N, C_O_BYTES, C_Q_LEN, C_W_BYTES, C_W_COUNT, C_A_UNIQUE)


_N_DT = len(DTYPES)
_P_TENSOR = P["tensor_fp64"]
_P_VECTOR = P["vector_fp64"]
_P_E_TENSOR = P["e_tensor_fp64"]
_P_SM, _P_CLK, _P_SFU, _P_SMEM = P["sm_count"], P["clock_hz"], P["sfu_per_clk_sm"], P["smem_bytes_per_sm"]
_P_HBM_BW, _P_L2, _P_L2_BW, _P_LAUNCH = P["hbm_bw"], P["l2_bytes"], P["l2_bw"], P["launch_s"]
_P_LINK_BW, _P_LINK_LAT, _P_TDP, _P_IDLE = P["link_bw"], P["link_latency_s"], P["tdp_w"], P["idle_w"]
_P_E_VECTOR, _P_E_L2, _P_E_HBM, _P_E_LINK = P["e_vector_fp64"], P["e_l2_byte"], P["e_hbm_byte"], P["e_link_byte"]
_P_PAGE, _P_SPLIT, _P_QBLOCK = P["kv_page_tokens"], P["decode_split_tokens"], P["prefill_q_block"]
_P_L2_RESIDENT, _P_SOFTMAX_FLOPS = P["l2_resident_fraction"], P["softmax_flops_per_score"]
_P_TILE_K, _P_STAGES, _P_PARTIAL = P["tile_k"], P["pipeline_stages"], P["partial_sum_bytes"]
_P_MIN_TM, _P_MAX_TM, _P_MIN_TN, _P_MAX_TN = P["min_tile_m"], P["max_tile_m"], P["min_tile_n"], P["max_tile_n"]
_P_MAX_SK, _P_CTA_OVERHEAD = P["max_split_k"], P["cta_overhead_cycles"]
_P_NODE, _P_NET_BW, _P_NET_LAT, _P_E_NET = P["node_devices"], P["net_bw"], P["net_latency_s"], P["e_net_byte"]
_P_STACK, _P_ROUND_TRIPS, _P_HOST = P["attention_stack"], P["eager_round_trips"], P["host_s"]
_FP16 = DTYPES.index("fp16")
_FP32 = DTYPES.index("fp32")


@njit(cache=True)
def tile_shape(index):
    """(tile_m, tile_n, split_k) of a tile index."""
    nn, ns = TILE_N.size, SPLIT_K.size
    return TILE_M[index // (nn * ns)], TILE_N[(index // ns) % nn], SPLIT_K[index % ns]


@njit(cache=True)
def tile_index(im, jn, ks):
    """The tile index of grid positions (tile_m index, tile_n index, split_k index)."""
    return (im * TILE_N.size + jn) * SPLIT_K.size + ks


@njit(cache=True)
def tile_allowed(tm, tn, sk, params):
    """Whether a grid tile is within the design point's runtime.gemm_min/max_tile_* and gemm_max_split_k."""
    return (params[_P_MIN_TM] <= tm <= params[_P_MAX_TM] and params[_P_MIN_TN] <= tn <= params[_P_MAX_TN]
            and sk <= params[_P_MAX_SK])


@njit(cache=True)
def _capped_time(busy, e_dyn, params):
    """Time of an op after launch overhead, the framework's host time per op (launches are asynchronous: the op
    takes the longer of the two) and the TDP cap: the part throttles so that average power stays at TDP; with no
    power above idle (TDP <= idle) no work can run (inf)."""
    t = max(busy + params[_P_LAUNCH], params[_P_HOST])
    if e_dyn > 0.0:
        headroom = params[_P_TDP] - params[_P_IDLE]
        if headroom <= 0.0:
            return np.inf
        t = max(t, e_dyn / headroom)
    return t


@njit(cache=True)
def _finish(out, time_busy, e_compute, e_l2, e_dram, e_link, bound, params):
    """Add launch overhead, apply the TDP cap, add static energy, fill ``out``."""
    e_dyn = e_compute + e_l2 + e_dram + e_link
    t = _capped_time(time_busy, e_dyn, params)
    launched = max(time_busy + params[_P_LAUNCH], params[_P_HOST])
    if params[_P_LAUNCH] > time_busy or params[_P_HOST] > time_busy + params[_P_LAUNCH]:
        bound = B_LAUNCH
    if t > launched:
        bound = B_POWER
    out[O_TIME] = t
    out[O_E_COMPUTE] = e_compute
    out[O_E_ONCHIP] = e_l2
    out[O_E_OFFCHIP] = e_dram
    out[O_E_LINK] = e_link
    out[O_E_STATIC] = params[_P_IDLE] * t
    out[O_BYTES_IN_MEMORY] = 0.0
    out[O_BOUND] = bound


@njit(cache=True)
def _cta_overhead_s(waves, params):
    """Time the thread blocks of ``waves`` waves spend outside their MMA main loop: each wave pays one prologue (filling
    the pipeline stages) and one epilogue (writing the output tile), runtime.cta_overhead_cycles at the SM clock."""
    return waves * params[_P_CTA_OVERHEAD] / params[_P_CLK]


@njit(cache=True)
def _faster_unit(work, fixed, flops, other_busy, e_rest, dt, params):
    """(peak, compute energy) of the unit — tensor cores or CUDA cores — that finishes math taking ``work / peak +
    fixed`` seconds first, power cap included (ties: the lower energy); peak 0 when neither can run it. Each unit keeps
    its own energy per FLOP, so a faster but costlier unit wins only if it is faster under the cap too."""
    best_t, best_peak, best_e = np.inf, 0.0, 0.0
    for unit in range(2):
        if unit == 0:
            peak, e_flop = params[_P_TENSOR + dt], params[_P_E_TENSOR + dt]
        else:
            peak, e_flop = params[_P_VECTOR + dt], params[_P_E_VECTOR + dt]
        if peak <= 0.0:
            continue
        e = flops * e_flop
        t = _capped_time(max(work / peak + fixed, other_busy), e + e_rest, params)
        if t < best_t or (t == best_t and e < best_e):
            best_t, best_peak, best_e = t, peak, e
    return best_peak, best_e


@njit(cache=True)
def gemm_cost(row, params, tile_index, out):
    """A (batched) GEMM with one threadblock tile: wave quantization over SMs, tile padding, L2 re-reads."""
    tm, tn, sk = tile_shape(tile_index)
    m, n, k, b = row[C_M], row[C_N], row[C_K], row[C_BATCH]
    ab, wb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    dt = int(row[C_DTYPE])
    out[O_TIME] = np.inf
    tile_k = params[_P_TILE_K]
    if not tile_allowed(tm, tn, sk, params):
        return
    if tile_smem_bytes(tm, tn, max(ab, wb), tile_k, params[_P_STAGES]) > params[_P_SMEM] or m <= 0 or n <= 0 or k <= 0:
        return
    k_split = math.ceil(k / sk)
    if k_split < tile_k and sk > 1:
        return  # splitting K below one k-tile only adds reduction traffic
    k_pad = math.ceil(k_split / tile_k) * tile_k
    tiles_m, tiles_n = math.ceil(m / tm), math.ceil(n / tn)
    ctas = tiles_m * tiles_n * b * sk
    sms = params[_P_SM]
    tile_flops = 2.0 * tm * tn * k_pad
    waves = math.ceil(ctas / sms)
    a_total = b * m * k * ab * row[C_A_UNIQUE]
    w_count = row[C_W_COUNT]
    w_total = k * n * wb * w_count
    c_total = b * m * n * ob
    partials = 0.0 if sk == 1 else 2.0 * b * m * n * params[_P_PARTIAL] * sk  # partial sums written then reduced
    l2_bytes = a_total * tiles_n + w_total * tiles_m + c_total + partials
    compulsory = a_total + w_total + c_total
    smaller = min(a_total, w_total) / b if w_count > 1.0 else min(a_total, w_total)
    if smaller <= params[_P_L2_RESIDENT] * params[_P_L2]:
        dram_bytes = compulsory  # the smaller operand stays resident in L2 while the other streams once
    else:
        # Rasterised CTAs: one wave covers a roughly square block of sqrt(SMs) x sqrt(SMs) tiles whose operand
        # panels are shared in L2, so each operand is fetched from DRAM once per wave block along the other axis.
        side = math.ceil(math.sqrt(sms))
        dram_bytes = a_total * math.ceil(n / (tn * side)) + w_total * math.ceil(m / (tm * side)) + c_total
        dram_bytes = min(max(compulsory, dram_bytes), l2_bytes - partials)
    if partials > params[_P_L2_RESIDENT] * params[_P_L2]:
        dram_bytes += partials
    t_l2 = l2_bytes / params[_P_L2_BW]
    t_dram = dram_bytes / params[_P_HBM_BW]
    flops_done = ctas * tile_flops
    e_l2, e_dram = l2_bytes * params[_P_E_L2], dram_bytes * params[_P_E_HBM]
    t_fixed = _cta_overhead_s(waves, params)
    peak, e_compute = _faster_unit(waves * tile_flops * sms, t_fixed, flops_done, max(t_l2, t_dram), e_l2 + e_dram,
                                   dt, params)
    if peak <= 0.0:
        return  # no unit runs this datatype, or no power headroom to run anything
    t_compute = waves * tile_flops / (peak / sms) + t_fixed
    busy = max(t_compute, t_l2, t_dram)
    bound = B_COMPUTE if busy == t_compute else (B_DRAM if busy == t_dram else B_L2)
    _finish(out, busy, e_compute, e_l2, e_dram, 0.0, bound, params)
    out[O_UTIL] = 2.0 * b * m * n * k / (out[O_TIME] * peak)
    out[O_BYTES_OFFCHIP] = dram_bytes
    out[O_BYTES_ONCHIP] = l2_bytes
    out[O_MAPPING] = tile_index


@njit(cache=True)
def eager_attention_cost(row, params, out):
    """Unfused attention (runtime.attention_kernels ``eager``): QK^T GEMM, softmax pass(es), PV GEMM, one after the
    other, each at its own roofline; the score matrix makes ``eager_round_trips`` HBM write+read round trips and each
    of the ``round trips + 1`` kernels pays the launch overhead or the framework's host time (``_finish`` applies
    them to the last one)."""
    b, h, kvh = row[C_BATCH], row[C_HEADS], row[C_KV_HEADS]
    q, kv, d = row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
    ab, kb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    dt = int(row[C_DTYPE])
    trips = params[_P_ROUND_TRIPS]
    scores = b * h * q * kv  # the full matrix: a mask does not skip work
    s_bytes = scores * ab
    half_kv = b * kvh * kv * d * kb  # K (or V), contiguous
    first = b * h * q * d * ab + half_kv + s_bytes  # read Q, K; write S
    middle = 2.0 * s_bytes * (trips - 1.0)  # each further pass reads and writes the scores
    last = s_bytes + half_kv + b * h * q * d * ob  # read P, V; write O
    gemm_flops = 4.0 * scores * d
    out[O_TIME] = np.inf
    bw, l2_bw = params[_P_HBM_BW], params[_P_L2_BW]
    t_sfu = scores / (params[_P_SFU] * params[_P_SM] * params[_P_CLK])
    t_passes = max(middle / bw, middle / l2_bw, t_sfu)
    dram_bytes = first + middle + last
    e_softmax = params[_P_SOFTMAX_FLOPS] * scores * params[_P_E_VECTOR + _FP32]
    e_l2, e_dram = dram_bytes * params[_P_E_L2], dram_bytes * params[_P_E_HBM]
    peak, e_math = _faster_unit(gemm_flops, 0.0, gemm_flops, 0.0, e_softmax + e_l2 + e_dram, dt, params)
    if peak <= 0.0:
        return  # no unit runs this datatype, or no power headroom to run anything
    t_first = max(0.5 * gemm_flops / peak, first / bw, first / l2_bw)
    t_last = max(0.5 * gemm_flops / peak, last / bw, last / l2_bw)
    launch, host = params[_P_LAUNCH], params[_P_HOST]
    busy = max(t_first + launch, host)
    if trips > 1.0:
        busy += (trips - 1.0) * max(t_passes / (trips - 1.0) + launch, host) + t_last
    else:
        busy += max(t_last, t_sfu)  # one round trip: the softmax runs in the PV kernel as it reads the scores
    t_math, t_dram = gemm_flops / peak, dram_bytes / bw
    bound = B_COMPUTE if t_math >= max(t_dram, t_sfu) else (B_DRAM if t_dram >= t_sfu else B_SFU)
    _finish(out, busy, e_math + e_softmax, e_l2, e_dram, 0.0, bound, params)
    out[O_UTIL] = row[C_FLOPS] / (out[O_TIME] * peak)
    out[O_BYTES_OFFCHIP] = dram_bytes
    out[O_BYTES_ONCHIP] = dram_bytes
    out[O_MAPPING] = -1.0


@njit(cache=True)
def attention_cost(row, params, out):
    """Attention under the runtime's stack: fused FlashAttention tiles for prefill and a paged KV-cache kernel
    (split-KV) for decode (``paged``), FlashAttention for both (``flash``), or unfused kernels (``eager``)."""
    stack = int(params[_P_STACK])
    if stack == EAGER:
        eager_attention_cost(row, params, out)
        return
    b, h, kvh = row[C_BATCH], row[C_HEADS], row[C_KV_HEADS]
    q, kv, d = row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
    ab, kb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    dt = int(row[C_DTYPE])
    sms = params[_P_SM]
    flops = row[C_FLOPS]
    pairs = flops / (4.0 * b * h * d) if b * h * d > 0 else 0.0
    q_bytes = b * h * q * d * ab
    o_bytes = b * h * q * d * ob
    if row[C_KV_CACHE] > 0.5 and stack == PAGED:
        page = params[_P_PAGE]
        kv_read = 2.0 * b * kvh * math.ceil(kv / page) * page * d * kb  # whole KV pages are read
        groups = b * kvh
        splits = max(1.0, min(math.ceil(sms / groups), math.ceil(kv / params[_P_SPLIT])))  # flash-decoding split
        units = groups * splits
        l2_bytes = q_bytes + kv_read + o_bytes + (splits - 1.0) * b * h * q * (d + 2.0) * params[_P_PARTIAL] * 2.0
        dram_bytes = q_bytes + kv_read + o_bytes
    else:
        kv_read = 2.0 * b * kvh * kv * d * kb
        q_blocks = math.ceil(q / params[_P_QBLOCK])
        units = b * h * q_blocks
        l2_bytes = q_bytes + o_bytes + kv_read * (h / kvh) * q_blocks
        dram_bytes = q_bytes + kv_read + o_bytes
    waves = math.ceil(units / sms) if units > 0 else 0.0
    work = waves * (flops / units) * sms if units > 0 else 0.0
    t_fixed = _cta_overhead_s(waves, params)
    exps = b * h * pairs
    t_sfu = exps / (params[_P_SFU] * sms * params[_P_CLK])
    t_l2 = l2_bytes / params[_P_L2_BW]
    t_dram = dram_bytes / params[_P_HBM_BW]
    e_softmax = params[_P_SOFTMAX_FLOPS] * exps * params[_P_E_VECTOR + _FP32]  # online softmax runs in fp32
    e_l2, e_dram = l2_bytes * params[_P_E_L2], dram_bytes * params[_P_E_HBM]
    out[O_TIME] = np.inf
    peak, e_math = _faster_unit(work, t_fixed, flops, max(t_sfu, t_l2, t_dram), e_softmax + e_l2 + e_dram, dt, params)
    if peak <= 0.0:
        return  # no unit runs this datatype, or no power headroom to run anything
    t_compute = work / peak + t_fixed
    busy = max(t_compute, t_sfu, t_l2, t_dram)
    if busy == t_compute:
        bound = B_COMPUTE
    elif busy == t_dram:
        bound = B_DRAM
    elif busy == t_sfu:
        bound = B_SFU
    else:
        bound = B_L2
    _finish(out, busy, e_math + e_softmax, e_l2, e_dram, 0.0, bound, params)
    out[O_UTIL] = flops / (out[O_TIME] * peak)
    out[O_BYTES_OFFCHIP] = dram_bytes
    out[O_BYTES_ONCHIP] = l2_bytes
    out[O_MAPPING] = -1.0


@njit(cache=True)
def streaming_cost(row, params, out):
    """Elementwise, norm, softmax, gather and KV-cache writes: CUDA-core arithmetic over data streamed from HBM."""
    dt = int(row[C_DTYPE])
    vec, e_flop = params[_P_VECTOR + dt], params[_P_E_VECTOR + dt]
    if vec <= 0.0:
        vec, e_flop = params[_P_VECTOR + _FP32], params[_P_E_VECTOR + _FP32]
    flops = row[C_FLOPS]
    nbytes = row[C_BYTES]
    t_compute = flops / vec
    t_dram = nbytes / params[_P_HBM_BW]
    t_l2 = nbytes / params[_P_L2_BW]
    busy = max(t_compute, t_dram, t_l2)
    bound = B_COMPUTE if busy == t_compute else (B_DRAM if busy == t_dram else B_L2)
    _finish(out, busy, flops * e_flop, nbytes * params[_P_E_L2], nbytes * params[_P_E_HBM], 0.0, bound,
            params)
    out[O_UTIL] = flops / (out[O_TIME] * vec)
    out[O_BYTES_OFFCHIP] = nbytes
    out[O_BYTES_ONCHIP] = nbytes
    out[O_MAPPING] = -1.0


@njit(cache=True)
def collective_cost(row, params, out):
    """Ring all-reduce / all-gather or a point-to-point send over NVLink, hierarchical over the scale-out network
    when the group spans nodes (``hw_models.collectives``), with per-step latency."""
    msg = row[C_ELEMENTS] * row[C_A_BYTES]
    bw = params[_P_LINK_BW]
    busy, sent, net = collective_time(int(row[C_COLLECTIVE]), row[C_GROUP], msg, params[_P_NODE], bw,
                                      params[_P_LINK_LAT], params[_P_NET_BW], params[_P_NET_LAT])
    hbm = 2.0 * (sent + net)  # each step reads the outgoing chunk and writes the incoming one
    _finish(out, busy, row[C_FLOPS] * params[_P_E_VECTOR + _FP32], 0.0, hbm * params[_P_E_HBM],
            sent * params[_P_E_LINK] + net * params[_P_E_NET], B_LINK, params)
    out[O_UTIL] = (sent / bw + net / params[_P_NET_BW]) / out[O_TIME] if out[O_TIME] > 0 else 0.0
    out[O_BYTES_OFFCHIP] = hbm
    out[O_BYTES_ONCHIP] = 0.0
    out[O_MAPPING] = -1.0
