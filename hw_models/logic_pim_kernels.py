"""Numba cost kernels of the Logic-PIM model (the batched loop over design points is ``mappings.driver``).

Time of an op is a roofline over the logic die's resources, never below ``max(FLOPs / peak, bytes / internal BW)``;
its DRAM time is that of its tensors' streams under the DRAM timing (``hw_models.logic_pim_dram``: rows, activations,
refresh, rank and read/write turnarounds), each tensor a stream of its own contiguous chunks:

- GEMM (weight-stationary): each module loads ``macs_per_module`` weights of an 8 KB weight tile into its MACs, then
  the activation rows stream past them, so a tile takes ``(tile / macs) × rows`` cycles and tiles are spread over all
  modules in waves (padding of the last wave is the tiling overhead). The activation panel (rows × K) is broadcast from
  the stack's input buffer and the rows' outputs (rows × N) accumulate in its output buffer until the K reduction
  ends; when either does not fit, the rows are processed in blocks that fit both and the weights are streamed from
  DRAM once per block.
- attention: K and V are streamed once; the query heads sharing a KV head (GQA) are the
  rows of the GEMV; scores are normalised by the softmax unit; the part of one (sequence, KV head)'s fp32 scores that
  exceeds the softmax buffer spills to DRAM (written and read back once).
- streaming ops (norms, activations, routing, KV writes): the softmax unit's vector datapath; their bytes are one
  contiguous stream.
- collectives: Logic-PIM has no network port, so they have no mapping (infinite time).

Energy: MACs × e_mac, softmax operations × e_op, DRAM bytes × (activation + on-die/TSV movement) — no PHY, interposer
or host memory path — plus, for rows opened for less than a page (short chunks), the activation energy of the unused
part of the row; plus buffer traffic, plus idle power × time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import (B_COMPUTE, B_DRAM, B_SFU, O_BOUND, O_BYTES_IN_MEMORY, O_BYTES_OFFCHIP, O_BYTES_ONCHIP,
                            O_E_COMPUTE, O_E_LINK, O_E_OFFCHIP, O_E_ONCHIP, O_E_STATIC, O_MAPPING, O_MAP_0, O_TIME,
                            O_UTIL)
from hw_models.logic_pim import P
from hw_models.logic_pim_dram import stream_time
from workloads.table import (C_A_BYTES, C_BATCH, C_BYTES, C_FLOPS, C_HEAD_DIM, C_HEADS, C_K, C_KIND, C_KV_HEADS,
                             C_KV_LEN, C_M, C_N, C_O_BYTES, C_Q_LEN, C_W_BYTES, C_W_COUNT, K_ATTENTION, K_GATHER,
                             K_GEMM, K_KV_WRITE, K_STREAM)

_MODULES, _MACS, _CLK, _SOFTMAX = P["modules"], P["macs_per_module"], P["clock_hz"], P["softmax_ops_s"]
_MOD_BUF, _IN_BUF, _OUT_BUF, _SM_BUF = (P["module_buffer_bytes"], P["input_buffer_bytes"], P["output_buffer_bytes"],
                                       P["softmax_buffer_bytes"])
_IDLE = P["idle_w"]
_E_MAC, _E_OP, _E_DRAM = P["e_mac"], P["e_softmax_op"], P["e_dram_byte"]
_SCORE_BYTES = P["score_bytes"]
_E_MBUF, _E_SBUF = P["e_module_buffer_byte"], P["e_shared_buffer_byte"]
_PAGE, _E_ACT = P["page_bytes"], P["e_activation_byte"]


@njit(cache=True)
def peak_flops(params):
    return 2.0 * params[_MODULES] * params[_MACS] * params[_CLK]


@njit(cache=True)
def _finish(out, t_compute, t_dram, t_sfu, e_compute, e_buf, dram_bytes, rows, buf_bytes, flops, params):
    """Fill ``out``; ``rows`` opened for ``dram_bytes`` (a row opened for less than a page pays its whole activation)."""
    busy = max(t_compute, t_dram, t_sfu)
    if busy == t_dram:
        bound = B_DRAM
    elif busy == t_compute:
        bound = B_COMPUTE
    else:
        bound = B_SFU
    out[O_TIME] = busy
    out[O_E_COMPUTE] = e_compute
    out[O_E_ONCHIP] = e_buf
    out[O_E_OFFCHIP] = dram_bytes * params[_E_DRAM] + max(0.0, rows * params[_PAGE] - dram_bytes) * params[_E_ACT]
    out[O_E_LINK] = 0.0
    out[O_BYTES_IN_MEMORY] = 0.0
    out[O_E_STATIC] = params[_IDLE] * busy
    out[O_BOUND] = bound
    out[O_UTIL] = flops / (busy * peak_flops(params)) if busy > 0 else 0.0
    out[O_BYTES_OFFCHIP] = dram_bytes
    out[O_BYTES_ONCHIP] = buf_bytes
    out[O_MAPPING] = -1.0


@njit(cache=True)
def gemm_cost(row, params, out):
    """A (batched) GEMM, weight-stationary over the GEMM modules of every stack."""
    m, n, k, b = row[C_M], row[C_N], row[C_K], row[C_BATCH]
    ab, wb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    macs = params[_MACS]
    tile = max(macs, math.floor(params[_MOD_BUF] / wb / macs) * macs)  # weights per module-buffer tile
    tiles = b * math.ceil(k * n / tile)
    waves = math.ceil(tiles / params[_MODULES])
    t_compute = waves * (tile / macs) * m / params[_CLK]
    # activation rows resident in the input buffer whose outputs fit the output buffer
    block = max(1.0, math.floor(min(params[_IN_BUF] / (k * ab), params[_OUT_BUF] / (n * ob))))
    passes = math.ceil(m / block)
    w_total = k * n * wb * row[C_W_COUNT]
    a_total, c_total = b * m * k * ab, b * m * n * ob
    dram = w_total * passes + a_total + c_total
    t_w, r_w = stream_time(w_total * passes, k * n * wb, False, params)  # each weight matrix is one chunk
    t_a, r_a = stream_time(a_total, m * k * ab, False, params)
    t_c, r_c = stream_time(c_total, m * n * ob, True, params)
    t_dram = t_w + t_a + t_c
    buf = 2.0 * w_total * passes + 2.0 * (a_total + c_total)  # module buffers: write+read; shared: write+read
    e_buf = 2.0 * w_total * passes * params[_E_MBUF] + 2.0 * (a_total + c_total) * params[_E_SBUF]
    flops = 2.0 * b * m * n * k
    _finish(out, t_compute, t_dram, 0.0, b * m * n * k * params[_E_MAC], e_buf, dram, r_w + r_a + r_c, buf, flops,
            params)
    out[O_MAP_0] = passes


@njit(cache=True)
def attention_cost(row, params, out):
    """Attention over a KV cache (or a prefill): K/V streamed once, GQA heads as GEMV rows, softmax unit."""
    b, h, kvh = row[C_BATCH], row[C_HEADS], row[C_KV_HEADS]
    q, kv, d = row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
    ab, kb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    flops = row[C_FLOPS]
    macs = params[_MACS]
    group = h / kvh if kvh > 0 else 1.0
    rows = q * group
    tile = max(macs, math.floor(params[_MOD_BUF] / kb / macs) * macs)
    tiles = 2.0 * b * kvh * math.ceil(kv * d / tile)  # K and V tiles
    waves = math.ceil(tiles / params[_MODULES])
    t_compute = max(waves * (tile / macs) * rows / params[_CLK], flops / peak_flops(params))
    scores = b * h * (flops / (4.0 * b * h * d)) if b * h * d > 0 else 0.0
    t_sfu = scores / params[_SOFTMAX]
    # scores of one (sequence, KV head) beyond the softmax buffer: written to and read back from DRAM
    spill_each = max(0.0, rows * kv * params[_SCORE_BYTES] - params[_SM_BUF])
    spill = 2.0 * b * kvh * spill_each
    dram = 2.0 * b * kvh * kv * d * kb + b * h * q * d * (ab + ob) + spill
    # chunks: one sequence's K (or V) of one KV head; its query rows in, their outputs out; its spilled scores
    t_kv, r_kv = stream_time(2.0 * b * kvh * kv * d * kb, kv * d * kb, False, params)
    t_q, r_q = stream_time(b * h * q * d * ab, rows * d * ab, False, params)
    t_o, r_o = stream_time(b * h * q * d * ob, rows * d * ob, True, params)
    t_sw, r_sw = stream_time(0.5 * spill, spill_each, True, params)
    t_sr, r_sr = stream_time(0.5 * spill, spill_each, False, params)
    t_dram = t_kv + t_q + t_o + t_sw + t_sr
    buf = 2.0 * b * h * q * d * (ab + ob) + 2.0 * (dram - spill)
    e_buf = 2.0 * b * h * q * d * (ab + ob) * params[_E_SBUF] + 2.0 * (dram - spill) * params[_E_MBUF]
    e_compute = 0.5 * flops * params[_E_MAC] + scores * params[_E_OP]
    _finish(out, t_compute, t_dram, t_sfu, e_compute, e_buf, dram, r_kv + r_q + r_o + r_sw + r_sr, buf, flops,
            params)


@njit(cache=True)
def streaming_cost(row, params, out):
    """Elementwise, norm, routing, gather and KV writes on the softmax unit's vector datapath."""
    flops, nbytes = row[C_FLOPS], row[C_BYTES]
    t_dram, rows = stream_time(nbytes, nbytes, False, params)  # one contiguous stream
    _finish(out, 0.0, t_dram, flops / params[_SOFTMAX], flops * params[_E_OP], 0.0, nbytes, rows, 0.0, 0.0, params)


@njit(cache=True)
def op_cost(row, params, objective, settings, out):
    """Cost of one op on one Logic-PIM device (fixed kernels: ``objective`` and ``settings`` do not change it)."""
    out[:] = 0.0
    kind = int(row[C_KIND])
    if kind == K_GEMM:
        gemm_cost(row, params, out)
    elif kind == K_ATTENTION:
        attention_cost(row, params, out)
    elif kind == K_STREAM or kind == K_GATHER or kind == K_KV_WRITE:
        streaming_cost(row, params, out)
    else:
        out[O_TIME] = np.inf  # collectives and unknown kinds: no mapping on the logic die
