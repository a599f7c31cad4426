"""Numba cost kernels of the bank-level PIM template.

Which ops run on the banks: GEMV-like ops whose matrix lives in DRAM —

- ``attention`` over a KV cache: per (sequence, KV head) the K and the V matrices (``kv_len × head_dim``) are
  streamed row by row through the bank multipliers, once per query row sharing them (``q_len`` × GQA group). The
  query vectors go in and the outputs come out over the channel bus, and so do the scores: softmax runs on the host
  (the NPU's vector unit), so the scores leave and the probabilities return through the bus. The host's softmax
  arithmetic is not in this device's time.
- ``matmul``: a GEMV (or a few: one pass per activation row) against a weight matrix in the banks; its cost grows
  with ``m``, so placement sends only small-``m`` matmuls here.
- ``kv_write`` and ``gather`` are plain memory traffic over the channel bus.
- everything else (norms, softmax, elementwise, collectives) is infeasible on the banks (time = inf).

KV-cache layout: each matrix starts at a row boundary (one page per sequence and head, as a paged cache allocates
them), so a matrix of ``B`` bytes opens ``ceil(B / page_bytes)`` rows and its last row is partly used; rows are spread
evenly over all banks of all channels. With ``per_bank`` command issue a bank pays per row
``max(tRAS, tRCD + columns × passes × t_col) + tRP``; a channel (holding ``ceil(rows / channels)`` of them) can
activate at most ``activations_per_tfaw`` rows per tFAW; refresh stretches the time by ``1 / (1 - tRFC/tREFI)``.
With ``all_bank`` issue (``lockstep_steps``) the busiest channel runs ``ceil(ceil(rows / channels) / banks)`` row
steps, each ``max(span + tRAS, span + tRCD + columns × passes × t_col + t_readout) + tRP`` where ``span`` is the time
from the first to the last activate command (tRRD between commands, tFAW per ``activations_per_tfaw`` bank
activations) and ``t_readout`` moves the step's results (each bank's dot products, one per reduction-length vector its
row holds, per query) over the channel's data bus; whole steps fit between refreshes. Results read out of the banks
are channel-bus traffic (``bytes_offchip``) already timed in the steps. In ``blocked`` mode the op's other bus
traffic and its bank computation add; with dual row buffers they overlap (max). Energy: activations, column reads,
MACs and I/O bytes times their energies, plus static power × time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import (B_COMPUTE, B_DRAM, B_LINK, O_BOUND, O_BYTES_IN_MEMORY, O_BYTES_OFFCHIP, O_BYTES_ONCHIP,
                            O_E_COMPUTE, O_E_LINK, O_E_OFFCHIP, O_E_ONCHIP, O_E_STATIC, O_MAPPING, O_TIME, O_UTIL)
from hw_models.pim import P
from workloads.table import (C_A_BYTES, C_BATCH, C_BYTES, C_HEAD_DIM, C_HEADS, C_K, C_KIND, C_KV_HEADS, C_KV_LEN,
                             C_M, C_N, C_O_BYTES, C_Q_LEN, C_W_BYTES, C_W_COUNT, K_ATTENTION, K_GATHER, K_GEMM,
                             K_KV_WRITE)

_CH, _BANKS, _PAGE, _COL = P["channels"], P["banks"], P["page_bytes"], P["column_bytes"]
_ELEM, _DUAL, _T_COL, _T_RCD, _T_RP, _T_RAS = P["element_bytes"], P["dual"], P["t_col"], P["t_rcd"], P["t_rp"], \
    P["t_ras"]
_T_FAW, _ACT_FAW, _REFRESH, _EXT_BW = P["t_faw"], P["act_per_faw"], P["refresh_factor"], P["ext_bw"]
_E_ACT, _E_COL, _E_MAC, _E_IO, _STATIC, _MACS = P["e_act"], P["e_col"], P["e_mac"], P["e_io_byte"], \
    P["static_w"], P["macs_per_s"]
_ALL_BANK, _BANKS_ACT, _T_RRD, _T_REFI, _T_RFC = P["all_bank"], P["banks_per_act"], P["t_rrd"], P["t_refi"], \
    P["t_rfc"]


@njit(cache=True)
def activation_span(params):
    """All-bank issue: time from a row step's first activate command to its last (every bank of a channel opened):
    commands of ``banks_per_activation`` banks spaced by tRRD, at most ``activations_per_tfaw`` bank activations per
    tFAW window."""
    banks = params[_BANKS]
    commands = math.ceil(banks / params[_BANKS_ACT])
    windows = math.ceil(banks / params[_ACT_FAW])
    return max((commands - 1.0) * params[_T_RRD], (windows - 1.0) * params[_T_FAW])


@njit(cache=True)
def lockstep_steps(steps, t_compute, readout_bytes, params):
    """All-bank issue: time of ``steps`` row steps of the busiest channel, each streaming ``t_compute`` of column
    commands through the open rows and reading ``readout_bytes`` of results out over the channel's data bus; a step
    starts only if it ends before the next refresh (tRFC every tREFI)."""
    span = activation_span(params)
    t_read = readout_bytes / (params[_EXT_BW] / params[_CH])
    t_step = max(span + params[_T_RAS], span + params[_T_RCD] + t_compute + t_read) + params[_T_RP]
    usable = params[_T_REFI] - params[_T_RFC]
    per_window = math.floor(usable / t_step) if usable > 0 else 0.0
    if per_window < 1.0:  # a step longer than the time between refreshes: refresh stretches it instead
        return steps * t_step * params[_REFRESH]
    return steps * params[_T_REFI] / per_window


@njit(cache=True)
def gemv_banks(n_mats, mat_bytes, passes, operand_bytes, reduction, params):
    """Bank time of ``n_mats`` matrices of ``mat_bytes`` each (elements of ``operand_bytes``), every one streamed
    ``passes`` times through the multipliers of the bank holding it; each result is a dot product over ``reduction``
    elements. Returns (time_s, activations, column reads, MACs, bytes of results read out of the banks; 0 with
    per-bank issue, whose results are the op's outputs). An element narrower than the multipliers' operands still
    takes one MAC, so a column holds more MACs of work."""
    page, col = params[_PAGE], params[_COL]
    width, t_col = params[_ELEM], params[_T_COL]
    if operand_bytes < width:
        width = operand_bytes
        t_col = max(t_col, col / width / (params[_MACS] / (params[_CH] * params[_BANKS])))
    full = math.floor(mat_bytes / page)
    rest = mat_bytes - full * page
    rows_per_mat = full + (1.0 if rest > 0 else 0.0)
    cols_per_mat = full * math.ceil(page / col) + math.ceil(rest / col)
    rows = n_mats * rows_per_mat
    banks = params[_CH] * params[_BANKS]
    rows_bank = math.ceil(rows / banks)
    cols_per_row = cols_per_mat / rows_per_mat
    cols_out, macs = n_mats * cols_per_mat * passes, n_mats * mat_bytes / width * passes
    if params[_ALL_BANK] > 0.5:
        steps = math.ceil(math.ceil(rows / params[_CH]) / params[_BANKS])
        # results per opened row and query: one per reduction-length vector the row holds (a partial sum when the
        # vector spans rows); each bank of the channel reads its own out
        row_elems = mat_bytes / rows_per_mat / operand_bytes
        results = max(1.0, math.floor(row_elems / reduction)) if reduction <= row_elems else 1.0
        readout = banks / params[_CH] * results * passes * params[_ELEM]
        time = lockstep_steps(steps, cols_per_row * passes * t_col, readout, params)
        return time, rows, cols_out, macs, rows * results * passes * params[_ELEM]
    open_time = max(params[_T_RAS], params[_T_RCD] + cols_per_row * passes * t_col)
    t_bank = rows_bank * (open_time + params[_T_RP])
    # the busiest channel's activations: rows are spread evenly over the channels
    t_faw = math.ceil(rows / params[_CH]) * params[_T_FAW] / params[_ACT_FAW]
    time = max(t_bank, t_faw) * params[_REFRESH]
    return time, rows, cols_out, macs, 0.0


@njit(cache=True)
def _finish(t_pim, io_bytes, acts, cols, macs, params, out, timed_bytes=0.0):
    """Fill ``out`` from the banks' time and the op's channel-bus bytes (``timed_bytes`` of them, results read out
    inside the banks' row steps, are already in ``t_pim``)."""
    t_io = max(0.0, io_bytes - timed_bytes) / params[_EXT_BW] * params[_REFRESH]
    busy = max(t_pim, t_io) if params[_DUAL] > 0.5 else t_pim + t_io
    out[O_TIME] = busy
    out[O_E_COMPUTE] = macs * params[_E_MAC]
    out[O_E_ONCHIP] = 0.0
    out[O_BYTES_ONCHIP] = 0.0
    out[O_E_OFFCHIP] = acts * params[_E_ACT] + cols * params[_E_COL] + io_bytes * params[_E_IO]
    out[O_E_LINK] = 0.0
    out[O_E_STATIC] = params[_STATIC] * busy
    out[O_BOUND] = B_COMPUTE if t_pim >= t_io else B_LINK
    out[O_UTIL] = macs / (busy * params[_MACS]) if busy > 0 else 0.0
    out[O_BYTES_OFFCHIP] = io_bytes
    out[O_BYTES_IN_MEMORY] = cols * params[_COL]  # bytes read inside the banks (row buffer → multipliers)
    out[O_MAPPING] = -1.0


@njit(cache=True)
def pim_op_cost(row, params, out):
    """Cost of one op (a row of the op table) on the PIM device; ``out[O_TIME] = inf`` when it cannot run there."""
    out[:] = 0.0
    out[O_MAPPING] = -1.0
    kind = int(row[C_KIND])
    ab, wb, ob = row[C_A_BYTES], row[C_W_BYTES], row[C_O_BYTES]
    if kind == K_ATTENTION:  # attention over the KV cache: K and V GEMVs in the banks
        b, h, q, kv, d = row[C_BATCH], row[C_HEADS], row[C_Q_LEN], row[C_KV_LEN], row[C_HEAD_DIM]
        kvh = row[C_KV_HEADS] if row[C_KV_HEADS] > 0 else h
        io = b * h * q * d * (ab + ob) + 2.0 * b * h * q * kv * ob  # Q in, outputs out, scores out, probs in
        if params[_ALL_BANK] > 0.5:
            # K: one dot product per key over head_dim; V (stored transposed): one per head dimension over the keys
            tk, acts, cols, macs, rk = gemv_banks(b * kvh, kv * d * wb, q * h / kvh, wb, d, params)
            tv, acts_v, cols_v, macs_v, rv = gemv_banks(b * kvh, kv * d * wb, q * h / kvh, wb, kv, params)
            # results read out of the banks beyond the op's scores and outputs (partial sums) also use the bus
            io += max(0.0, rk - b * h * q * kv * ob) + max(0.0, rv - b * h * q * d * ob)
            _finish(tk + tv, io, acts + acts_v, cols + cols_v, macs + macs_v, params, out, rk + rv)
        else:
            t, acts, cols, macs, _ = gemv_banks(2.0 * b * kvh, kv * d * wb, q * h / kvh, wb, d, params)
            _finish(t, io, acts, cols, macs, params, out)
    elif kind == K_GEMM:  # GEMV(s) against a matrix resident in the banks
        m, n, k, batch = row[C_M], row[C_N], row[C_K], row[C_BATCH]
        mats, passes = (1.0, m * batch) if row[C_W_COUNT] <= 1.0 else (batch, m)
        t, acts, cols, macs, readout = gemv_banks(mats, k * n * wb, passes, wb, k, params)
        io = batch * m * (k * ab + n * ob)
        _finish(t, io + max(0.0, readout - batch * m * n * ob), acts, cols, macs, params, out, readout)
    elif kind == K_GATHER or kind == K_KV_WRITE:  # gathers and KV-cache writes: ordinary memory traffic
        nbytes = row[C_BYTES]
        acts = math.ceil(nbytes / params[_PAGE])
        cols = math.ceil(nbytes / params[_COL])
        t_io = nbytes / params[_EXT_BW] * params[_REFRESH]
        _finish(0.0, nbytes, acts, cols, 0.0, params, out)
        out[O_BOUND] = B_DRAM
        out[O_TIME] = t_io
        out[O_E_STATIC] = params[_STATIC] * t_io
    else:
        out[O_TIME] = np.inf


@njit(cache=True)
def op_cost(row, params, objective, settings, out):
    """``pim_op_cost`` in the driver's signature: PIM kernels have a fixed schedule, so ``objective`` and
    ``settings`` do not change them."""
    pim_op_cost(row, params, out)
