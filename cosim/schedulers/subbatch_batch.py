"""Sub-batch interleaving for many design points at once: the schedule of ``cosim.schedulers.subbatch.interleave``
computed without SimPy, compiled, one point per row.

Sub-batches (two for NeuPIMs, any number of nano-batches) share the units (and, when ``blocked``, the memory); every op holds its unit first-come first-served.
The schedule is event-exact: events are taken in SimPy's order (time, then urgent before normal, then the order they
were scheduled), a request is granted at once when its resource is free and queued otherwise, and a release hands
the resource to the head of its queue when the release is processed — so ties between sub-batches (equal
half batches give equal op times) resolve exactly as in the SimPy model. ``tests/test_subbatch_batch.py`` checks
equality with SimPy on random op times, unit assignments, counts and the blocked flag.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from cosim.schedulers.subbatch import sequence

_URGENT, _NORMAL = 0, 1
_INIT, _GRANT, _TIMEOUT, _RELEASE = 0, 1, 2, 3


@njit(cache=True)
def _push(ev, n_ev, eid, time, prio, kind, who):
    ev[n_ev, 0], ev[n_ev, 1], ev[n_ev, 2], ev[n_ev, 3], ev[n_ev, 4] = time, prio, eid, kind, who
    return n_ev + 1, eid + 1


@njit(cache=True)
def _pop(ev, n_ev):
    """The next event (time, then priority, then scheduling order) as (time, kind, who); it leaves the queue."""
    best = 0
    for i in range(1, n_ev):
        if (ev[i, 0] < ev[best, 0] or (ev[i, 0] == ev[best, 0] and (ev[i, 1] < ev[best, 1] or (
                ev[i, 1] == ev[best, 1] and ev[i, 2] < ev[best, 2])))):
            best = i
    time, kind, who = ev[best, 0], int(ev[best, 3]), int(ev[best, 4])
    for j in range(5):
        ev[best, j] = ev[n_ev - 1, j]
    return time, kind, who, n_ev - 1


@njit(cache=True)
def _grant_head(r, users, queue, qlen, ev, n_ev, eid, now):
    """SimPy's ``_trigger_put``: a free resource goes to the head of its queue (a GRANT event, scheduled now)."""
    if qlen[r] > 0 and users[r] < 1:
        users[r] += 1
        head = queue[r, 0]
        for k in range(qlen[r] - 1):
            queue[r, k] = queue[r, k + 1]
        queue[r, qlen[r] - 1] = -1
        qlen[r] -= 1
        n_ev, eid = _push(ev, n_ev, eid, now, _NORMAL, _GRANT, head)
    return n_ev, eid


@njit(cache=True)
def _schedule(dur, unit_of, n_units, blocked, passes):
    """Steady-state period of one point: ``dur`` (sub-batches, tasks) task durations per sub-batch, ``unit_of``
    (tasks,)."""
    n_sb, n_tasks = dur.shape[0], dur.shape[1]
    if n_tasks == 0:
        return 0.0
    mem = n_units  # the last resource is the shared memory (used when blocked)
    users = np.zeros(n_units + 1, dtype=np.int64)
    queue = np.full((n_units + 1, n_sb), -1, dtype=np.int64)  # waiting sub-batches, FIFO
    qlen = np.zeros(n_units + 1, dtype=np.int64)
    ev = np.zeros((8 * n_sb + 8, 5))
    n_ev, eid = 0, 0
    pos = np.zeros(n_sb, dtype=np.int64)  # next task over all passes (pass * n_tasks + task)
    phase = np.zeros(n_sb, dtype=np.int64)  # 0: waiting for the unit, 1: for the memory
    ends = np.zeros((n_sb, passes))
    n_end = np.zeros(n_sb, dtype=np.int64)
    for sb in range(n_sb):
        n_ev, eid = _push(ev, n_ev, eid, 0.0, _URGENT, _INIT, sb)
    while n_ev > 0:
        now, kind, who, n_ev = _pop(ev, n_ev)
        if kind == _RELEASE:
            n_ev, eid = _grant_head(who, users, queue, qlen, ev, n_ev, eid, now)
            continue
        sb = who
        if kind == _GRANT:
            if phase[sb] == 0 and blocked:  # holding the unit: now the memory
                phase[sb] = 1
                queue[mem, qlen[mem]] = sb
                qlen[mem] += 1
                n_ev, eid = _grant_head(mem, users, queue, qlen, ev, n_ev, eid, now)
            else:
                n_ev, eid = _push(ev, n_ev, eid, now + dur[sb, pos[sb] % n_tasks], _NORMAL, _TIMEOUT, sb)
            continue
        if kind == _TIMEOUT:  # the op is done: release the memory, then the unit (freed now, handed on later)
            # (a release only matters to a request already queued: without one it is not scheduled at all)
            if blocked:
                users[mem] -= 1
                if qlen[mem] > 0:
                    n_ev, eid = _push(ev, n_ev, eid, now, _NORMAL, _RELEASE, mem)
            u = unit_of[pos[sb] % n_tasks]
            users[u] -= 1
            if qlen[u] > 0:
                n_ev, eid = _push(ev, n_ev, eid, now, _NORMAL, _RELEASE, u)
            pos[sb] += 1
            if pos[sb] % n_tasks == 0:
                ends[sb, n_end[sb]] = now
                n_end[sb] += 1
        while pos[sb] < passes * n_tasks and dur[sb, pos[sb] % n_tasks] <= 0:  # empty ops are skipped
            pos[sb] += 1
            if pos[sb] % n_tasks == 0:
                ends[sb, n_end[sb]] = now
                n_end[sb] += 1
        if pos[sb] >= passes * n_tasks:
            continue
        phase[sb] = 0
        r = unit_of[pos[sb] % n_tasks]
        queue[r, qlen[r]] = sb
        qlen[r] += 1
        n_ev, eid = _grant_head(r, users, queue, qlen, ev, n_ev, eid, now)
    period = 0.0
    for sb in range(n_sb):
        p = (ends[sb, passes - 1] - ends[sb, 0]) / (passes - 1) if passes > 1 else ends[sb, passes - 1]
        period = max(period, p)
    return period


@njit(parallel=True, cache=True)
def _periods(dur, unit_of, n_units, blocked, passes):
    out, busy = np.zeros(dur.shape[0]), np.zeros((dur.shape[0], n_units))
    for p in prange(dur.shape[0]):  # points are independent
        out[p] = _schedule(dur[p], unit_of[p], n_units, blocked[p], passes)
        for k in range(dur.shape[2]):  # the SimPy model's accumulation order
            for sb in range(dur.shape[1]):
                busy[p, unit_of[p, k]] += dur[p, sb, k]
    return out, busy


def interleave_points(times: np.ndarray, units: np.ndarray, counts: np.ndarray, n_units: int, blocked: np.ndarray,
                      passes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``interleave`` for P points at once: ``times`` (P, sub-batches, ops), ``units`` (P, ops), ``counts`` (ops,) shared,
    ``blocked`` (P,). Returns the periods (P,) and per-unit busy time per step (P, n_units)."""
    order = sequence(counts)
    ops = np.array([n for n, _ in order], dtype=np.int64)
    reps = np.array([r for _, r in order], dtype=np.float64)
    dur = np.ascontiguousarray(times[:, :, ops] * reps)  # the SimPy model's float(time) * reps, element by element
    unit_of = np.ascontiguousarray(units[:, ops].astype(np.int64))
    return _periods(dur, unit_of, n_units, np.asarray(blocked, dtype=np.bool_), passes)
