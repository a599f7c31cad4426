"""DRAM timing behind a Logic-PIM's TSVs: the time to stream data through the pseudo-channels of every stack.

An op's tensors are stored as contiguous chunks (a weight matrix, one sequence's K of one KV head …); consecutive
rows of a chunk are interleaved over all pseudo-channels, so each pseudo-channel reads ``run = min(page, chunk)``
bytes per row it opens, and the rows rotate over its ranks, bank groups and banks. Per row, a pseudo-channel needs

- ``t_xfer = max(run / (TSV bandwidth / pseudo-channels), columns × max(tCCD_S, tCCD_L / bank groups))``: the data,
  at the TSV share or the column rate, whichever is slower (consecutive columns alternate bank groups, so a bank
  group is revisited every ``bank groups`` columns and ``tCCD_L`` binds only when that is shorter than it);
- plus ``rank_switch`` when it has two or more ranks (the next row comes from the other rank);
- at least ``max(tFAW / 4, tRRD_S)``: the activation budget of the pseudo-channel;
- at least ``(max(tRAS, tRCD + t_xfer) + tRP) / banks``: each row holds one bank for its row cycle, with every bank
  of the pseudo-channel working in turn;
- a written row adds a read-to-write and a write-to-read turnaround of the data bus (outputs drain row by row between
  reads).

All-bank refresh takes ``tRFC`` out of every ``tREFI``, so the sum is divided by ``1 - tRFC / tREFI``. With long
chunks and the Duplex HBM3 timing the rank switch and refresh are the losses; short chunks expose activations.
Returns the time and the number of rows opened (activations), which the energy uses.
"""

from __future__ import annotations

import math

from numba import njit

from hw_models.logic_pim_layout import P

_BW, _PCS, _RANKS, _BG, _BANKS = (P["internal_bw"], P["pseudo_channels"], P["ranks"], P["bank_groups"],
                                  P["banks_per_channel"])
_PAGE, _COL, _CCD_S, _CCD_L = P["page_bytes"], P["column_bytes"], P["t_ccd_s"], P["t_ccd_l"]
_RCD, _RP, _RAS, _RRD, _FAW = P["t_rcd"], P["t_rp"], P["t_ras"], P["t_rrd"], P["t_faw"]
_AVAIL, _RW, _WR, _RANK = P["refresh_available"], P["t_read_write"], P["t_write_read"], P["t_rank_switch"]


@njit(cache=True)
def row_time(run, write, params):
    """Time one pseudo-channel spends per row of ``run`` bytes (read, or written when ``write``), before refresh."""
    columns = math.ceil(run / params[_COL])
    t_xfer = max(run / (params[_BW] / params[_PCS]), columns * max(params[_CCD_S], params[_CCD_L] / params[_BG]))
    t_bus = t_xfer + (params[_RANK] if params[_RANKS] > 1.0 else 0.0)
    if write:
        t_bus += params[_RW] + params[_WR]
    t_act = max(params[_FAW] / 4.0, params[_RRD])
    t_bank = (max(params[_RAS], params[_RCD] + t_xfer) + params[_RP]) / params[_BANKS]
    return max(t_bus, t_act, t_bank)


@njit(cache=True)
def stream_time(nbytes, chunk, write, params):
    """(time, rows opened) to read (or write) ``nbytes`` stored as contiguous chunks of ``chunk`` bytes."""
    if nbytes <= 0.0:
        return 0.0, 0.0
    run = min(params[_PAGE], max(chunk, 1.0))
    rows = nbytes / run
    return rows / params[_PCS] * row_time(run, write, params) / params[_AVAIL], rows


def bank_bandwidth(params) -> float:
    """Bytes per second the pseudo-channels deliver when streaming whole rows (page-long runs, reads), refresh
    included: what the DRAM's banks serve at best. Every byte any client of the stacks moves (the Logic-PIM over its
    TSVs, a processor over the external interface) holds a pseudo-channel's row and column time; a heterogeneous
    device whose units share the stacks (``cosim.hetero``) charges Logic-PIM bytes at this rate."""
    page = params[_PAGE]
    return params[_PCS] * page / row_time(page, False, params) * params[_AVAIL]
