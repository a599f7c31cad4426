"""Sums over placed op sequences, compiled and run over design points: what a heterogeneous device's totals are
composed from (``cosim.hetero``), read from per-distinct-op option costs without building per-op records."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def placed_sums(choice, ok, xfer_t, xfer_e, opt_time, opt_dyn, frac, of, counts, stage, n_stages, w_op, kv_op,
                n_blocks):
    """Per point ``p`` with ``ok[p]``, op ``n`` placed on option ``c = choice[p, n]``, ``d = of[n]`` its distinct op
    and ``t = opt_time[p, d, c] × counts[n]`` its time (all instances); ops are summed in op order.

    Returns ``stage`` (P, S): t plus the hand-overs into the op (``xfer_t``) per stage; ``busy`` (P, S, U + 1): t of
    the ops a unit takes part in (``frac[d, c, u] > 0``) per stage and unit, the last column the stage's hand-over
    time; ``dyn`` (P, K): ``opt_dyn[p, d, c] × counts[n]`` (dynamic energy per slot); ``xfer_j`` (P,): hand-over
    energy (``xfer_e``); ``weights`` (P, U): ``w_op`` of the ops on each unit; ``kv`` (P, U): ``kv_op`` × the unit's
    share."""
    n_points, n = choice.shape
    n_units, n_slots = frac.shape[2], opt_dyn.shape[3]
    stage_t = np.zeros((n_points, n_stages))
    busy = np.zeros((n_points, n_stages, n_units + 1))
    dyn = np.zeros((n_points, n_slots))
    xfer_j = np.zeros(n_points)
    weights = np.zeros((n_points, n_units))
    kv = np.zeros((n_points, n_units))
    for blk in prange(n_blocks):
        for p in range(blk, n_points, n_blocks):
            if not ok[p]:
                continue
            for i in range(n):
                c, d, s = choice[p, i], of[i], stage[i]
                t = opt_time[p, d, c] * counts[i]
                stage_t[p, s] += t + xfer_t[p, i]
                busy[p, s, n_units] += xfer_t[p, i]
                xfer_j[p] += xfer_e[p, i]
                for k in range(n_slots):
                    dyn[p, k] += opt_dyn[p, d, c, k] * counts[i]
                for u in range(n_units):
                    share = frac[d, c, u]
                    if share > 0:
                        busy[p, s, u] += t
                        weights[p, u] += w_op[i]
                    kv[p, u] += kv_op[i] * share
    return stage_t, busy, dyn, xfer_j, weights, kv
