"""Op placement for many design points at once: the dynamic programme of ``mappings.placement`` (same model, same
answers, same tie-breaking), with the hand-over costs computed for all edges at once and the Viterbi recursion
compiled and run over points.

Points share the op sequence, the options' batch shares and the op counts; each point has its own op costs, static
power and links. Hand-over costs depend only on the links, so they are computed once per distinct link vector.
The ``edp`` objective (iterated scalarisation, a few solves per point) goes through ``mappings.placement.assign``
point by point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numba
from numba import njit, prange

from mappings.placement import _TIE, assign, loop_runs


@dataclass
class Placements:
    """Per point (first axis) the chosen option per op and the hand-overs into each op (all instances), as in
    ``mappings.placement.Placement``; ``ok`` is False where no feasible placement exists."""

    option: np.ndarray  # (P, N)
    frac: np.ndarray  # (P, N, U)
    transfer_time: np.ndarray  # (P, N)
    transfer_energy: np.ndarray
    transfer_bytes: np.ndarray
    ok: np.ndarray  # (P,)


def handovers(frac_a: np.ndarray, frac_b: np.ndarray, nbytes: np.ndarray, links) -> tuple[np.ndarray, ...]:
    """``mappings.placement.handover`` for every edge and option pair at once: ``frac_a`` (E, Oa, U) sender shares,
    ``frac_b`` (E, Ob, U) receiver shares, ``nbytes`` (E,). Returns (time, energy, bytes), each (E, Oa, Ob), with the
    same floating-point operations in the same order as the scalar version."""
    bw, lat, e_byte = links
    n_units = frac_a.shape[-1]
    p, q = frac_a[:, :, None, :], frac_b[:, None, :, :]
    sp, sq = np.cumsum(frac_a, axis=-1)[:, :, None, :] - p, np.cumsum(frac_b, axis=-1)[:, None, :, :] - q
    shape = (frac_a.shape[0], frac_a.shape[1], frac_b.shape[1])
    t, e, b = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    dead = np.zeros(shape, dtype=bool)  # a hand-over over a missing link: infinite, its bytes are that share's
    nb = np.asarray(nbytes, float)[:, None, None]
    for u in range(n_units):
        for v in range(n_units):
            if u == v:
                continue
            share = np.minimum(sp[..., u] + p[..., u], sq[..., v] + q[..., v]) - np.maximum(sp[..., u], sq[..., v])
            active = (p[..., u] > 0) & (q[..., v] > 0) & (share > 1e-12) & ~dead
            if not active.any():
                continue
            moved = share * nb
            if bw[u, v] <= 0:
                t[active], e[active], b[active] = np.inf, np.inf, moved[active]
                dead |= active
                continue
            t = np.where(active, t + (moved / bw[u, v] + lat[u, v]), t)
            e = np.where(active, e + moved * e_byte[u, v], e)
            b = np.where(active, b + moved, b)
    return t, e, b


def _score(t, e, alpha, beta, static_w):
    """``_Problem.score`` with a static power per point (leading axis of ``static_w``, broadcast on the rest)."""
    with np.errstate(invalid="ignore"):
        s = alpha * t + beta * (e + static_w * t)
    return np.where(np.isnan(s), np.inf, s)


@njit(cache=True)
def _argmin(x):
    best = 0
    for i in range(1, x.shape[0]):
        if x[i] < x[best]:
            best = i
    return best


@njit(cache=True)
def _edge_steps(op_cost, et, ee, mult, alpha, beta, sw, pt, g, st):
    """One point's (N-1, O, O) edge scores (``_Problem.score`` × hand-over count) plus the receiving op's cost."""
    n_edges, n_opt = et.shape[1], et.shape[2]
    for i in range(n_edges):
        for p in range(n_opt):
            for c in range(n_opt):
                t = et[g, i, p, c]
                s = alpha * t + beta * (ee[g, i, p, c] + sw * t)
                if np.isnan(s):
                    s = np.inf
                st[i, p, c] = mult[i] * s + op_cost[pt, i + 1, c]


@njit(cache=True, parallel=True)
def _viterbi(op_cost, et, ee, mult, alpha, beta, static_w, group_of, back, has_back, run_of, n_blocks):
    """``mappings.placement._solve`` per point: ``op_cost`` (P, N, O), hand-over costs ``et``/``ee`` (G, N-1, O, O)
    per link group with ``mult`` hand-overs per edge, ``back`` (P, R, O, O) loop back-edge scores already transposed
    to (anchor, last). Points are independent: they run in parallel, in ``n_blocks`` blocks that each reuse their
    work arrays."""
    n_points, n, n_opt = op_cost.shape
    choice = np.zeros((n_points, n), dtype=np.int64)
    ok = np.zeros(n_points, dtype=np.bool_)
    for blk in prange(n_blocks):
        _viterbi_block(op_cost, et, ee, mult, alpha, beta, static_w, group_of, back, has_back, run_of, choice, ok,
                       blk, n_blocks)
    return choice, ok


@njit(cache=True)
def _viterbi_block(op_cost, et, ee, mult, alpha, beta, static_w, group_of, back, has_back, run_of, choice, ok,
                   first, stride):
    """``_viterbi`` for the points ``first``, ``first + stride``, …, writing their rows of ``choice`` and ``ok``."""
    n_points, n, n_opt = op_cost.shape
    steps = np.empty((max(n - 1, 0), n_opt, n_opt))
    # Back-pointers are reused from point to point: a path only ever reads entries written for this point (after the
    # first op of a run only the diagonal states are finite, and only they are written).
    back_anchor = np.zeros((n, n_opt, n_opt), dtype=np.int64)
    back_prev = np.zeros((n, n_opt, n_opt), dtype=np.int64)
    V, Vn = np.empty((n_opt, n_opt)), np.empty((n_opt, n_opt))
    col, W = np.empty(n_opt), np.empty(n_opt)
    best_anchor = np.empty(n_opt, dtype=np.int64)
    for pt in range(first, n_points, stride):
        _edge_steps(op_cost, et, ee, mult, alpha, beta, static_w[pt], pt, group_of[pt], steps)
        V[:, :] = np.inf
        for a in range(n_opt):  # a run without a loop back-edge keeps its states in anchor row 0 alone
            V[a if has_back[run_of[0]] else 0, a] = op_cost[pt, 0, a]
        for i in range(1, n):
            st = steps[i - 1]
            if run_of[i] != run_of[i - 1]:
                r = run_of[i - 1]
                if has_back[r]:
                    for a in range(n_opt):
                        for p in range(n_opt):
                            V[a, p] = V[a, p] + back[pt, r, a, p]
                for p in range(n_opt):
                    for a in range(n_opt):
                        col[a] = V[a, p]
                    best_anchor[p] = _argmin(col)
                    W[p] = V[best_anchor[p], p]
                V[:, :] = np.inf
                for c in range(n_opt):
                    for p in range(n_opt):
                        col[p] = W[p] + st[p, c]
                    prev = _argmin(col)
                    a = c if has_back[run_of[i]] else 0
                    V[a, c] = col[prev]
                    back_prev[i, a, c] = prev
                    back_anchor[i, a, c] = best_anchor[prev]
            else:
                n_anchors = n_opt if has_back[run_of[i]] else 1
                Vn[:, :] = np.inf
                for a in range(n_anchors):
                    for c in range(n_opt):
                        for p in range(n_opt):
                            col[p] = V[a, p] + st[p, c]
                        prev = _argmin(col)
                        Vn[a, c] = col[prev]
                        back_prev[i, a, c] = prev
                        back_anchor[i, a, c] = a
                V[:, :] = Vn
        r = run_of[n - 1]
        if has_back[r]:
            for a in range(n_opt):
                for p in range(n_opt):
                    V[a, p] = V[a, p] + back[pt, r, a, p]
        k = _argmin(V.ravel())
        a, p = k // n_opt, k % n_opt
        if not np.isfinite(V[a, p]):
            continue
        ok[pt] = True
        for i in range(n - 1, -1, -1):
            choice[pt, i] = p
            if i > 0:
                a, p = back_anchor[i, a, p], back_prev[i, a, p]


def assign_points(time: np.ndarray, energy: np.ndarray, frac: np.ndarray, out_bytes: np.ndarray, counts: np.ndarray,
                  links: list, objective: str, static_w: np.ndarray) -> Placements:
    """``mappings.placement.assign`` for P points: ``time``/``energy`` (P, N, O), ``frac`` (N, O, U) shared,
    ``links`` a list of P (bandwidth, latency, energy/byte) unit × unit triples, ``static_w`` (P,)."""
    n_points, n, n_opt = time.shape
    counts = np.asarray(counts, float)
    out_bytes = np.asarray(out_bytes, float)
    idx = np.arange(n)
    if objective == "edp":
        return _stack([_assign_or_none(time[p], energy[p], frac, out_bytes, counts, links[p], objective,
                                       static_w[p]) for p in range(n_points)], frac)
    if objective not in ("latency", "energy"):
        raise ValueError(f"unknown objective {objective!r}; allowed: latency, energy, edp")
    alpha, beta = (1.0, _TIE) if objective == "latency" else (_TIE, 1.0)
    runs = loop_runs(counts)
    run_of = np.zeros(n, dtype=np.int64)
    for r, (s, e) in enumerate(runs):
        run_of[s:e] = r
    has_back = np.array([counts[s] > 1 for s, _ in runs], dtype=np.bool_)
    edge_mult = np.minimum(counts[:-1], counts[1:])
    starts = np.array([s for s, _ in runs], dtype=np.int64)
    lasts = np.array([e - 1 for _, e in runs], dtype=np.int64)
    back_mult = counts[starts] - 1
    # Hand-over costs per distinct link vector.
    keys = [tuple(np.concatenate([m.ravel() for m in lk])) for lk in links]
    group_of, groups = np.zeros(n_points, dtype=np.int64), {}
    for p, key in enumerate(keys):
        group_of[p] = groups.setdefault(key, len(groups))
    firsts = [keys.index(k) for k in groups]
    edges = [handovers(frac[:-1], frac[1:], out_bytes[:-1], links[p]) for p in firsts]  # (N-1, O, O) each
    backs = [handovers(frac[lasts], frac[starts], out_bytes[lasts], links[p]) for p in firsts]  # (R, O, O)
    et, ee, eb = (np.stack([g[k] for g in edges]) for k in range(3))  # (G, N-1, O, O)
    bt, be, bb = (np.stack([g[k] for g in backs]) for k in range(3))  # (G, R, O, O)
    sw = np.asarray(static_w, float)
    op_cost = _score(time, energy, alpha, beta, sw[:, None, None]) * counts[None, :, None]
    with np.errstate(invalid="ignore"):  # runs without a back-edge (count 1) multiply an unused score by 0
        back = back_mult[None, :, None, None] * _score(bt[group_of], be[group_of], alpha, beta,
                                                       sw[:, None, None, None])
    choice, ok = _viterbi(op_cost, et, ee, edge_mult, alpha, beta, sw, group_of,
                          np.ascontiguousarray(back.transpose(0, 1, 3, 2)), has_back, run_of,
                          min(n_points, 4 * numba.get_num_threads()))
    # Hand-overs of the chosen sequences (edges into each op, then loop back-edges into each run's first op).
    out = [np.zeros((n_points, n)) for _ in range(3)]
    g = group_of[:, None]
    for arr, cost in zip(out, (et, ee, eb)):
        if n > 1:
            arr[:, 1:] += edge_mult[None, :] * cost[g, idx[None, :-1], choice[:, :-1], choice[:, 1:]]
    for r in np.flatnonzero(has_back):
        s, last = starts[r], lasts[r]
        for arr, cost in zip(out, (bt, be, bb)):
            arr[:, s] += back_mult[r] * cost[group_of, r, choice[:, last], choice[:, s]]
    return Placements(choice, frac[idx[None, :], choice], out[0], out[1], out[2], ok)


def _assign_or_none(*args):
    try:
        return assign(*args)
    except ValueError:
        return None


def _stack(placements: list, frac: np.ndarray) -> Placements:
    """Per-point ``Placement``s (None where infeasible) as one ``Placements``."""
    n, n_units = frac.shape[0], frac.shape[-1]
    empty = (np.zeros(n, dtype=np.int64), np.zeros((n, n_units)), np.zeros(n), np.zeros(n), np.zeros(n))
    rows = [(p.option, p.frac, p.transfer_time, p.transfer_energy, p.transfer_bytes) if p is not None else empty
            for p in placements]
    cols = [np.stack([r[k] for r in rows]) for k in range(5)]
    return Placements(*cols, ok=np.array([p is not None for p in placements], dtype=bool))
