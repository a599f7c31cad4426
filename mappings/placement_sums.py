"""Compiled per-point tables of a heterogeneous device's placement (``cosim.hetero``): the options' costs per
distinct op, read from the units' cost records, and sums over placed op sequences (what the totals are composed
from), without building per-op records."""

from __future__ import annotations

import numpy as np
from numba import njit

from hw_models.cost import O_BYTES_OFFCHIP, O_TIME


@njit(cache=True)
def option_costs(flat, base, row, used, slots, scale, inv_bw):
    """Per point p, distinct op d and option o, from the units' cost records ``flat[base[p, u] + row[d, o, u]]``
    (``row`` -1: the unit has no part, zeros; -2: infinite time; dynamic energies in columns ``slots``):

    ``time`` (P, D, O): the slowest unit's time, infinite if any is not finite, and at least the parts' shared
    memory time (``inv_bw`` (P, U): seconds per main-memory byte of a unit sharing one memory with others, else 0;
    the parts of a split op run at once, so their traffic on a shared memory adds up); ``energy`` (P, D, O): the dynamic
    energies summed over units and slots, × ``scale``; ``opt_time`` (P, D, O): the slowest time of the units taking
    part (``used``), ``opt_dyn`` (P, D, O, K) their energies per slot summed over them, and ``opt_shared``
    (P, D, O) the shared memory time alone."""
    n_points, n_units = base.shape
    n_distinct, n_opt, n_slots = row.shape[0], row.shape[1], slots.shape[0]
    time = np.empty((n_points, n_distinct, n_opt))
    energy = np.empty((n_points, n_distinct, n_opt))
    opt_time = np.empty((n_points, n_distinct, n_opt))
    opt_dyn = np.empty((n_points, n_distinct, n_opt, n_slots))
    opt_shared = np.empty((n_points, n_distinct, n_opt))
    for p in range(n_points):
        for d in range(n_distinct):
            for o in range(n_opt):
                t_max, finite, e, t_used, t_shared = -np.inf, True, 0.0, -np.inf, 0.0
                for k in range(n_slots):
                    opt_dyn[p, d, o, k] = 0.0
                for u in range(n_units):
                    r = row[d, o, u]
                    if r < 0:
                        t = np.inf if r == -2 else 0.0
                    else:
                        t = flat[base[p, u] + r, O_TIME]
                        t_shared += flat[base[p, u] + r, O_BYTES_OFFCHIP] * inv_bw[p, u]
                        for k in range(n_slots):
                            v = flat[base[p, u] + r, slots[k]]
                            e += v
                            if used[d, o, u]:
                                opt_dyn[p, d, o, k] += v
                    finite = finite and np.isfinite(t)
                    t_max = max(t_max, t)
                    if used[d, o, u]:
                        t_used = max(t_used, t)
                time[p, d, o] = max(t_max, t_shared) if finite else np.inf
                energy[p, d, o] = e * scale
                opt_time[p, d, o] = max(t_used, t_shared)
                opt_shared[p, d, o] = t_shared
    return time, energy, opt_time, opt_dyn, opt_shared


@njit(cache=True)
def placed_sums(choice, ok, xfer_t, xfer_e, opt_time, opt_dyn, opt_shared, frac, of, counts, stage, n_stages, w_op,
                kv_op, member):
    """Per point ``p`` with ``ok[p]``, op ``n`` placed on option ``c = choice[p, n]``, ``d = of[n]`` its distinct op
    and ``t = opt_time[p, d, c] × counts[n]`` its time (all instances); ops are summed in op order.

    Returns ``stage`` (P, S): t plus the hand-overs into the op (``xfer_t``) per stage; ``busy`` (P, S, U + 1): t of
    the ops a unit takes part in (``frac[d, c, u] > 0``) per stage and unit, the last column the stage's hand-over
    time; ``dyn`` (P, K): ``opt_dyn[p, d, c] × counts[n]`` (dynamic energy per slot); ``xfer_j`` (P,): hand-over
    energy (``xfer_e``); ``shared`` (P, S): ``opt_shared[p, d, c] × counts[n]`` per stage (the time the shared
    memory is busy); ``weights`` (P, U): ``w_op`` of the ops on each unit; ``kv`` (P, U): ``kv_op`` × the unit's
    share; ``shared_w`` (P,): ``w_op`` of the ops any unit of the point's shared memory (``member`` (P, U)) takes part
    in, each once (a split op's weights are stored once in a memory both its units read)."""
    n_points, n = choice.shape
    n_units, n_slots = frac.shape[2], opt_dyn.shape[3]
    stage_t = np.zeros((n_points, n_stages))
    busy = np.zeros((n_points, n_stages, n_units + 1))
    dyn = np.zeros((n_points, n_slots))
    xfer_j = np.zeros(n_points)
    shared = np.zeros((n_points, n_stages))
    weights = np.zeros((n_points, n_units))
    kv = np.zeros((n_points, n_units))
    shared_w = np.zeros(n_points)
    for p in range(n_points):
        if not ok[p]:
            continue
        for i in range(n):
            c, d, s = choice[p, i], of[i], stage[i]
            t = opt_time[p, d, c] * counts[i]
            stage_t[p, s] += t + xfer_t[p, i]
            shared[p, s] += opt_shared[p, d, c] * counts[i]
            busy[p, s, n_units] += xfer_t[p, i]
            xfer_j[p] += xfer_e[p, i]
            for k in range(n_slots):
                dyn[p, k] += opt_dyn[p, d, c, k] * counts[i]
            in_shared = False
            for u in range(n_units):
                share = frac[d, c, u]
                if share > 0:
                    busy[p, s, u] += t
                    weights[p, u] += w_op[i]
                    in_shared = in_shared or member[p, u]
                kv[p, u] += kv_op[i] * share
            if in_shared:
                shared_w[p] += w_op[i]
    return stage_t, busy, dyn, xfer_j, shared, weights, kv, shared_w
