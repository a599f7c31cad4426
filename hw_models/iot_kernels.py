"""Numba cost kernels of the IoT core template (the L1 tiling search that picks a GEMM's tiles is
``mappings.iot_tiling``).

Scalar ``kernel`` ops (classic ML) are priced from their operation counts: cycles = Σ count × cycles of its class
(a compare is followed by a branch; FP operations cost the FPU's or the emulation library's cycles), plus the loop
control of each counted loop iteration (none with hardware loops); the loads of one iteration run back to back, the
first at the load cost and the rest at the pipelined ``load_next`` cost. Of the work W,
the share ``p = parallel_fraction`` runs on N cores, the rest on one (Amdahl):

    T = fork_join + p·W/N + stalls + barrier + (1 − p)·W + merge,

where ``merge`` is the (N − 1) adds of the per-core partial sums (with their loads and store) done by one core, and
``stalls`` are L1 bank conflicts: with k = N · (accesses per cycle) simultaneous requests spread uniformly over B
word-interleaved banks, the expected number of distinct banks hit is B·(1 − (1 − 1/B)^k) (balls into bins), so each
access waits k / that − 1 extra cycles on average. With fewer FPUs than cores (FPU sharing), the parallel part cannot
go faster than the FP operations' occupancy divided by the FPUs. T ≤ W, T ≥ W/N and T ≥ (1 − p)·W, so the speed-up
is at most min(N, 1/(1 − p)).

Granularity: when the op says its parallel share splits into U equal independent units (tag ``parallel_units``: trees
of a forest, support vectors, queries), a core takes whole units, as the GEMM path takes whole register blocks: the
busiest of the min(N, U) working cores runs ⌈U/N⌉ units, so p·W/N becomes p·W·⌈U/N⌉/U, and only min(N, U) cores
conflict in L1, burn active cycles and leave partial sums to merge. Without the tag the share is finely divisible.

GEMM-like ops (conv as implicit GEMM, matmul) use a documented simple tiling, not the spatial template's search: each
core computes register blocks of ``rb_m × rb_n`` outputs; per step along K it issues rb_m·rb_n dot-product
instructions (int8: ``simd_macs`` MACs each; float: one FMA) and rb_m + rb_n operand loads back to back, as
PULP-NN-style kernels do, and each K step and each block pay a loop iteration's control. Blocks are spread over the cores. Operands move L2 → L1 by DMA in tiles (m_t × K and K × n_t, K whole)
that fit half of L1 (double buffering); the tile sizes (powers of two or the whole dimension) and the loop order
(weights or activations re-fetched) are searched by the objective. Layers whose data exceed L2 stream their
weights from L3. Time is the max of compute, DMA and L3 (double-buffered) plus the fork/join, a barrier and the DMA
set-ups. Other streaming ops run element-parallel, one loop iteration per element; gathers and KV writes are DMA
copies; collectives have no mapping.

Energy: active core-cycles × e_cycle(V) + L1 accesses × e_l1 + L2 (DMA) bytes × e_l2 + L3 bytes × e_l3; leakage
power × time is the static part (composed by the engine).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import (B_COMPUTE, B_DRAM, B_L2, O_BOUND, O_BYTES_OFFCHIP, O_BYTES_ONCHIP, O_E_COMPUTE,
                            O_E_LINK, O_E_OFFCHIP, O_E_ONCHIP, O_E_STATIC, O_MAPPING, O_MAP_0, O_MAP_1, O_MAP_2, O_TIME,
                            O_UTIL)
from hw_models.iot import P
from hw_models.kernel_counts import is_kernel_op, kernel_counts
from workloads.dtypes import DTYPE_BITS
from workloads.table import (C_A_BYTES, C_BYTES, C_FLOPS, C_LOOP_ITERATIONS, C_PARALLEL_FRACTION,
                             C_PARALLEL_UNITS, C_REDUCTION_STEPS)

IS_INT = np.array([1.0 if name.startswith("int") else 0.0 for name in DTYPE_BITS])
ORDER_NAMES = ("weights resident", "activations resident")  # the L1 tiling's loop order

_N, _CLK, _FMAX, _SIMD, _FPUS, _NATIVE = P["cores"], P["clock_hz"], P["max_clock_hz"], P["simd_macs"], P["fpus"], \
    P["fp_native"]
_RBM, _RBN = P["rb_m"], P["rb_n"]
_ALU, _MUL, _DIV, _LD, _ST, _BR, _DOT = (P["c_alu"], P["c_mul"], P["c_div"], P["c_load"], P["c_store"],
                                         P["c_branch"], P["c_simd_dot"])
_LDN, _LOOP = P["c_load_next"], P["c_loop"]
_FADD, _FMUL, _FDIV, _FCMP, _FEXP, _FSQRT, _FMA = (P["fp_add"], P["fp_mul"], P["fp_div"], P["fp_cmp"], P["fp_exp"],
                                                    P["fp_sqrt"], P["fp_fma"])
_FORK, _BAR, _L1, _BANKS, _L2 = P["fork_join"], P["barrier"], P["l1_bytes"], P["l1_banks"], P["l2_bytes"]
_DMA, _SETUP, _L3BW = P["dma_bpc"], P["dma_setup"], P["l3_bw"]
_INT_EXP_ALU, _INT_EXP_LD = P["int_exp_alu"], P["int_exp_loads"]
_MERGE_LD, _MERGE_ST = P["merge_loads"], P["merge_stores"]
_E_CYC, _E_L1, _E_L2, _E_L3, _LEAK = P["e_cycle"], P["e_l1"], P["e_l2_byte"], P["e_l3_byte"], P["leakage_w"]


@njit(cache=True)
def conflict_factor(requests, banks):
    """Mean cycles per L1 access when ``requests`` accesses (k, may be fractional) hit ``banks`` banks at once:
    k / E[distinct banks] with E = B·(1 − (1 − 1/B)^k); 1 when there is at most one request."""
    if requests <= 1.0:
        return 1.0
    distinct = banks * (1.0 - (1.0 - 1.0 / banks) ** requests)
    return max(1.0, requests / distinct)


@njit(cache=True)
def parallel_cycles(work, accesses, fp_occupancy, cores, params):
    """Cycles of one core when ``work`` cycles with ``accesses`` L1 accesses are split over ``cores`` cores:
    even split plus bank-conflict stalls, bounded below by the shared FPUs' occupancy. A core issues at most one L1
    access per cycle, so it needs at least one cycle per access, and its request rate is at most one per cycle."""
    if cores <= 1.0 or work <= 0.0:
        return work
    issue = max(work, accesses)
    per_core = issue / cores
    rate = accesses / issue  # accesses per cycle of one core, at most 1
    stall = (accesses / cores) * (conflict_factor(cores * rate, params[_BANKS]) - 1.0)
    t = per_core + stall
    if params[_NATIVE] > 0.5 and params[_FPUS] < cores:
        t = max(t, fp_occupancy / params[_FPUS])
    return t


@njit(cache=True)
def load_cycles(loads, iterations, params):
    """Cycles of ``loads`` loads made in ``iterations`` loop iterations: each iteration's loads run back to back, the
    first at ``load`` cycles and the rest at ``load_next``; without a loop count every load stands alone."""
    runs = loads if iterations <= 0.0 else min(loads, iterations)
    return runs * params[_LD] + (loads - runs) * params[_LDN]


@njit(cache=True)
def unit_split(units, cores):
    """(working cores, padding factor) of a parallel share of ``units`` equal units on ``cores`` cores: min(N, U)
    cores work and the busiest runs ⌈U/N⌉ units, so the share times the padding ⌈U/N⌉·min(N, U)/U, split evenly
    over the working cores, is the busiest core's load. ``units`` ≤ 0: finely divisible, (N, 1)."""
    if units <= 0.0:
        return cores, 1.0
    lanes = min(cores, units)
    return lanes, math.ceil(units / cores) * lanes / units


@njit(cache=True)
def kernel_cycles(row, params, cores):
    """(cycles, active core-cycles, L1 accesses) of a scalar ``kernel`` op on ``cores`` cores."""
    int_add, int_mul, int_div, int_cmp, fp_add, fp_mul, fp_div, fp_cmp, fp_exp, fp_sqrt, loads, stores = \
        kernel_counts(row)
    cyc_int = int_add * params[_ALU] + int_mul * params[_MUL] + int_div * params[_DIV] + \
        int_cmp * (params[_ALU] + params[_BR])
    cyc_fp_units = fp_add * params[_FADD] + fp_mul * params[_FMUL] + fp_div * params[_FDIV] + \
        fp_cmp * params[_FCMP] + fp_exp * params[_FEXP] + fp_sqrt * params[_FSQRT]
    cyc_fp = cyc_fp_units + fp_cmp * params[_BR]
    accesses = loads + stores
    work = cyc_int + cyc_fp + load_cycles(loads, row[C_LOOP_ITERATIONS], params) + stores * params[_ST] + \
        row[C_LOOP_ITERATIONS] * params[_LOOP]
    p = row[C_PARALLEL_FRACTION]
    if cores <= 1.0:
        return work, work, accesses
    lanes, pad = unit_split(row[C_PARALLEL_UNITS], cores)
    t_par = parallel_cycles(p * work * pad, p * accesses * pad, p * cyc_fp_units * pad, lanes, params)
    merge = 0.0
    if row[C_REDUCTION_STEPS] > 0.0:
        add = params[_FADD] if fp_add + fp_mul > 0.0 else params[_ALU]
        merge = (lanes - 1.0) * (add + params[_MERGE_LD] * params[_LD] + params[_MERGE_ST] * params[_ST])
    serial = (1.0 - p) * work + merge
    overhead = params[_FORK] + params[_BAR]
    total = overhead + t_par + serial
    active = overhead + lanes * t_par + serial
    return total, active, accesses + (lanes - 1.0) * (params[_MERGE_LD] + params[_MERGE_ST]) * (merge > 0.0)


@njit(cache=True)
def tiling_traffic(m, n, k, ab, wb, ob, mt, nt, order, params):
    """L2↔L1 DMA (bytes, transfers) of one GEMM under an L1 tiling (m_t × K and K × n_t tiles, K whole, ``order`` 0:
    weight tile resident and activation tiles re-fetched, 1: the reverse); bytes = inf when the tiles overflow half
    of L1 (double buffering)."""
    if mt * k * ab + k * nt * wb + mt * nt * ob > params[_L1] / 2.0:
        return np.inf, 0.0
    a, w, o = m * k * ab, k * n * wb, m * n * ob
    tm, tn = math.ceil(m / mt), math.ceil(n / nt)
    if order == 0:
        nbytes = w + a * (tn if tm > 1 else 1.0) + o
    else:
        nbytes = a + w * (tm if tn > 1 else 1.0) + o
    return nbytes, tm * tn * 3.0


@njit(cache=True)
def gemm_cost(m, n, k, batch, ab, wb, ob, is_int, params, mt, nt, order, out):
    """A (grouped) GEMM on the cluster under the L1 tiling (mt, nt, order): register-blocked inner loops, DMA tiles,
    L3 weight streaming. Without an L2 there is no tiling (everything is in L1)."""
    out[:] = 0.0
    cores, clk = params[_N], params[_CLK]
    rbm, rbn = params[_RBM], params[_RBN]
    width = params[_SIMD] if is_int > 0.5 else 1.0
    inst = params[_DOT] if is_int > 0.5 else params[_FMA]
    steps = math.ceil(k / width)
    loads_block = steps * (rbm + rbn)
    block = steps * (rbm * rbn * inst + load_cycles(rbm + rbn, 1.0, params) + params[_LOOP]) + params[_LOOP] + \
        rbm * rbn * (params[_ALU] + params[_ST])
    blocks = math.ceil(m / rbm) * math.ceil(n / rbn) * batch
    fp_occ = 0.0 if is_int > 0.5 else blocks * steps * rbm * rbn * inst
    per_core_blocks = math.ceil(blocks / cores)
    work = per_core_blocks * cores * block
    accesses = blocks * (loads_block + rbm * rbn)
    t_comp = parallel_cycles(work, accesses, fp_occ, cores, params) + params[_FORK] + params[_BAR]
    if not np.isfinite(inst):
        out[O_TIME] = np.inf
        return
    l2_bytes, transfers = 0.0, 0.0
    t_dma = 0.0
    footprint = (m * k * ab + k * n * wb + m * n * ob) * batch
    l3_bytes = 0.0
    if params[_L2] > 0.0:
        l2_bytes, transfers = tiling_traffic(m, n, k, ab, wb, ob, mt, nt, order, params)
        l2_bytes *= batch
        transfers *= batch
        if not np.isfinite(l2_bytes):
            out[O_TIME] = np.inf
            return
        t_dma = l2_bytes / params[_DMA] + transfers * params[_SETUP]
        if footprint > params[_L2]:
            l3_bytes = k * n * wb * batch + (footprint - k * n * wb * batch) * (footprint > 2.0 * params[_L2])
    elif footprint > params[_L1]:
        l3_bytes = k * n * wb * batch
    t_l3 = l3_bytes / params[_L3BW] if l3_bytes > 0.0 else 0.0
    if l3_bytes > 0.0 and params[_L3BW] <= 0.0:
        out[O_TIME] = np.inf
        return
    t = max(t_comp / clk, t_dma / clk, t_l3)
    out[O_TIME] = t
    out[O_E_COMPUTE] = (params[_FORK] + params[_BAR] + cores * (t_comp - params[_FORK] - params[_BAR])) * \
        params[_E_CYC]
    out[O_E_ONCHIP] = accesses * params[_E_L1] + l2_bytes * params[_E_L2]
    out[O_E_OFFCHIP] = l3_bytes * params[_E_L3]
    out[O_BYTES_OFFCHIP] = l3_bytes
    out[O_BYTES_ONCHIP] = l2_bytes
    out[O_BOUND] = B_COMPUTE if t == t_comp / clk else (B_L2 if t == t_dma / clk else B_DRAM)
    out[O_UTIL] = m * n * k * batch / (t * clk * cores * width) if t > 0 else 0.0
    out[O_MAPPING] = 0.0
    out[O_MAP_0], out[O_MAP_1], out[O_MAP_2] = order, mt, nt


@njit(cache=True)
def exp_cycles(b, h, q, kv, is_int, params):
    """Core cycles of the exponentials of an attention's scores: the FPU's exp, or on integer datatypes an
    integer approximation (``int_exp_alu`` ALU operations and ``int_exp_loads`` loads per score)."""
    integer = params[_INT_EXP_ALU] * params[_ALU] + params[_INT_EXP_LD] * params[_LD]
    return b * h * q * kv * (params[_FEXP] if is_int < 0.5 else integer)


@njit(cache=True)
def stream_cost(row, params, is_int, out):
    """A ``kernel`` op from its operation counts, or an element-parallel streaming op."""
    cores, clk = params[_N], params[_CLK]
    ab = row[C_A_BYTES]
    is_kernel = is_kernel_op(row)
    if is_kernel:
        cycles, active, accesses = kernel_cycles(row, params, cores)
        out[O_TIME] = cycles / clk
        out[O_E_COMPUTE] = active * params[_E_CYC]
        out[O_E_ONCHIP] = accesses * params[_E_L1]
        out[O_BOUND] = B_COMPUTE
        serial_work, _, _ = kernel_cycles(row, params, 1.0)
        out[O_UTIL] = serial_work / (cores * cycles) if cycles > 0 else 0.0
    else:  # element-parallel streaming op
        elems = row[C_BYTES] / max(ab, 1.0)
        op_cyc = params[_ALU] if is_int > 0.5 else params[_FADD]
        work = row[C_FLOPS] * op_cyc + elems * (params[_LD] + params[_LOOP])
        t_c = parallel_cycles(work, elems, 0.0 if is_int > 0.5 else row[C_FLOPS] * params[_FADD], cores,
                              params) + params[_FORK] + params[_BAR]
        t_d = row[C_BYTES] / params[_DMA] + params[_SETUP] if params[_L2] > 0.0 else 0.0
        out[O_TIME] = max(t_c, t_d) / clk
        out[O_E_COMPUTE] = (work + params[_FORK] + params[_BAR]) * params[_E_CYC]
        l2 = row[C_BYTES] if params[_L2] > 0.0 else 0.0
        out[O_E_ONCHIP] = elems * params[_E_L1] + l2 * params[_E_L2]
        out[O_BYTES_ONCHIP] = l2
        out[O_BOUND] = B_COMPUTE if t_c >= t_d else B_L2


@njit(cache=True)
def dma_cost(row, params, out):
    """Gathers and KV writes: DMA copies."""
    nbytes = row[C_BYTES]
    out[O_TIME] = (nbytes / params[_DMA] + params[_SETUP]) / params[_CLK]
    out[O_E_ONCHIP] = nbytes * (params[_E_L2] + params[_E_L1])
    out[O_BYTES_ONCHIP] = nbytes
    out[O_BOUND] = B_L2


@njit(cache=True)
def finish(params, out):
    """No link energy; leakage power × time is the static part."""
    out[O_E_LINK] = 0.0
    out[O_E_STATIC] = params[_LEAK] * out[O_TIME]


@njit(cache=True)
def over_clocked(params):
    """True when the clock exceeds the DVFS limit at the operating voltage (no op can run)."""
    return params[_CLK] > params[_FMAX] * (1.0 + 1e-9)
