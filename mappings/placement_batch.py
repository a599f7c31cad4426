"""Op placement for many design points at once: the dynamic programme of ``mappings.placement`` (same model, same
answers, same tie-breaking), with the hand-over costs computed for all edges at once and the Viterbi recursion
compiled and run over points.

Points share the op sequence, the options' batch shares and the op counts; each point has its own op costs, static
power and links. Hand-over costs depend only on the links, so they are computed once per distinct link vector.
Op costs may come per distinct op (the layers of a network share one) and are scored inside the compiled pass. The
``edp`` objective (iterated scalarisation, a few solves per point) goes through ``mappings.placement.assign`` point by
point.
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


@njit(cache=True)
def _argmin(x):
    best = 0
    for i in range(1, x.shape[0]):
        if x[i] < x[best]:
            best = i
    return best


@njit(cache=True)
def _score1(t, e, alpha, beta, sw):
    """``_Problem.score`` of one time and dynamic energy with static power ``sw``."""
    s = alpha * t + beta * (e + sw * t)
    return np.inf if np.isnan(s) else s


@njit(cache=True)
def _edge_scores(et, ee, alpha, beta, key_group, key_sw):
    """``_Problem.score`` of the hand-over costs ``et``/``ee`` (G, E, O, O) per link group, for each key (a link
    group and a static power): (K, E, O, O)."""
    n_keys = key_group.shape[0]
    out = np.empty((n_keys,) + et.shape[1:])
    for k in range(n_keys):
        g, sw = key_group[k], key_sw[k]
        for e in range(et.shape[1]):
            for p in range(et.shape[2]):
                for c in range(et.shape[3]):
                    out[k, e, p, c] = _score1(et[g, e, p, c], ee[g, e, p, c], alpha, beta, sw)
    return out


@njit(cache=True)
def _op_scores(time, energy, of, allowed, counts, alpha, beta, sw, pt, distinct, opc):
    """One point's op scores ``opc`` (N, O) from the per-distinct-op costs (scored once each into ``distinct``
    (D, O)): an excluded option costs infinite time, and an op of infinite time no energy (``op_costs``)."""
    n, n_opt = opc.shape
    for d in range(distinct.shape[0]):
        for o in range(n_opt):
            t = time[pt, d, o]
            distinct[d, o] = _score1(t, energy[pt, d, o] if np.isfinite(t) else 0.0, alpha, beta, sw)
    excluded = _score1(np.inf, 0.0, alpha, beta, sw)
    for i in range(n):
        d = of[i]
        for o in range(n_opt):
            opc[i, o] = (distinct[d, o] if allowed[i, o] else excluded) * counts[i]


@njit(cache=True, parallel=True)
def _place(time, energy, of, allowed, counts, scores, key_of, et, ee, eb, group_of, edge_of, mult, back_mult,
           has_back, run_of, starts, lasts, alpha, beta, static_w, n_blocks):
    """``mappings.placement._solve`` and ``evaluate``'s hand-overs per point: op costs ``time``/``energy``
    (P, D, O) per distinct op (``of[n]`` is op n's), ``allowed`` (N, O); hand-over costs ``et``/``ee``/``eb``
    (G, E, O, O) per link group and distinct edge, their scores ``scores`` (K, E, O, O) per key (``key_of`` (P,));
    ``edge_of`` (N - 1 + R,): the distinct edge of each edge into op 1…N-1 (``mult`` hand-overs each), then of each
    run's loop back-edge (``back_mult``). Points are independent: they run in parallel, in ``n_blocks`` blocks that
    each reuse their work arrays. Returns the choice (P, N), ok (P,) and the hand-overs into each op (P, N) ×3."""
    n_points, n, n_opt = time.shape[0], of.shape[0], time.shape[2]
    n_runs = has_back.shape[0]
    choice = np.zeros((n_points, n), dtype=np.int64)
    ok = np.zeros(n_points, dtype=np.bool_)
    xfer = np.zeros((3, n_points, n))
    for blk in prange(n_blocks):
        opc = np.empty((n, n_opt))
        distinct = np.empty((time.shape[1], n_opt))
        bk = np.empty((n_runs, n_opt, n_opt))
        work = _viterbi_work(n, n_opt)
        for pt in range(blk, n_points, n_blocks):
            sc = scores[key_of[pt]]
            _op_scores(time, energy, of, allowed, counts, alpha, beta, static_w[pt], pt, distinct, opc)
            for r in range(n_runs):
                for p in range(n_opt):
                    for a in range(n_opt):
                        bk[r, a, p] = back_mult[r] * sc[edge_of[n - 1 + r], p, a]
            ok[pt] = _viterbi_point(opc, sc, edge_of, mult, bk, has_back, run_of, work, choice[pt])
            if not ok[pt]:
                continue
            c, g = choice[pt], group_of[pt]
            for k, cost in enumerate((et, ee, eb)):
                for i in range(1, n):
                    xfer[k, pt, i] += mult[i - 1] * cost[g, edge_of[i - 1], c[i - 1], c[i]]
            for k, cost in enumerate((et, ee, eb)):
                for r in range(n_runs):
                    if has_back[r]:
                        s = starts[r]
                        xfer[k, pt, s] += back_mult[r] * cost[g, edge_of[n - 1 + r], c[lasts[r]], c[s]]
    return choice, ok, xfer


@njit(cache=True)
def _viterbi_work(n, n_opt):
    """Work arrays of ``_viterbi_point``, reused from point to point (uninitialised: a path only reads the
    back-pointers written for its own point)."""
    return (np.empty((n, n_opt, n_opt), dtype=np.int64), np.empty((n, n_opt, n_opt), dtype=np.int64),
            np.empty((n_opt, n_opt)), np.empty((n_opt, n_opt)), np.empty(n_opt), np.empty(n_opt),
            np.empty(n_opt, dtype=np.int64))


@njit(cache=True)
def _viterbi_point(op_cost, scores, edge_of, mult, back, has_back, run_of, work, choice):
    """``mappings.placement._solve`` of one point: op scores ``op_cost`` (N, O), hand-over scores ``scores``
    (E, O, O) of the distinct edges (edge i → i+1 is ``edge_of[i]``, taken ``mult[i]`` times), loop back-edge scores
    ``back`` (R, O, O) as (anchor, last). Writes ``choice``; False where no placement is feasible.
    Back-pointers are reused from point to point: a path only ever reads entries written for this point (after the
    first op of a run only the diagonal states are finite, and only they are written)."""
    back_anchor, back_prev, V, Vn, col, W, best_anchor = work
    n, n_opt = op_cost.shape
    V[:, :] = np.inf
    for a in range(n_opt):  # a run without a loop back-edge keeps its states in anchor row 0 alone
        V[a if has_back[run_of[0]] else 0, a] = op_cost[0, a]
    for i in range(1, n):
        st = scores[edge_of[i - 1]]
        m = mult[i - 1]
        if run_of[i] != run_of[i - 1]:
            r = run_of[i - 1]
            if has_back[r]:
                for a in range(n_opt):
                    for p in range(n_opt):
                        V[a, p] = V[a, p] + back[r, a, p]
            for p in range(n_opt):
                for a in range(n_opt):
                    col[a] = V[a, p]
                best_anchor[p] = _argmin(col)
                W[p] = V[best_anchor[p], p]
            V[:, :] = np.inf
            for c in range(n_opt):
                for p in range(n_opt):
                    col[p] = W[p] + (m * st[p, c] + op_cost[i, c])
                prev = _argmin(col)
                a = c if has_back[run_of[i]] else 0
                V[a, c] = col[prev]
                back_prev[i, a, c] = prev
                back_anchor[i, a, c] = best_anchor[prev]
        else:
            n_anchors = n_opt if has_back[run_of[i]] else 1  # the rows below stay infinite
            for a in range(n_anchors):
                for c in range(n_opt):
                    oc = op_cost[i, c]
                    prev, best = 0, V[a, 0] + (m * st[0, c] + oc)
                    for p in range(1, n_opt):  # _argmin: the first of equal minima
                        v = V[a, p] + (m * st[p, c] + oc)
                        if v < best:
                            prev, best = p, v
                    Vn[a, c] = best
                    back_prev[i, a, c] = prev
                    back_anchor[i, a, c] = a
            V[:n_anchors] = Vn[:n_anchors]
    r = run_of[n - 1]
    if has_back[r]:
        for a in range(n_opt):
            for p in range(n_opt):
                V[a, p] = V[a, p] + back[r, a, p]
    k = _argmin(V.ravel())
    a, p = k // n_opt, k % n_opt
    if not np.isfinite(V[a, p]):
        return False
    for i in range(n - 1, -1, -1):
        choice[i] = p
        if i > 0:
            a, p = back_anchor[i, a, p], back_prev[i, a, p]
    return True


def op_costs(time: np.ndarray, energy: np.ndarray, of: np.ndarray, allowed: np.ndarray):
    """Per op (P, N, O) time and energy from per-distinct-op costs (P, D, O), as ``_op_steps`` reads them: an
    option not ``allowed`` takes infinite time, and an op of infinite time no energy."""
    time = np.where(allowed, time[:, of], np.inf)
    return time, np.where(np.isfinite(time), energy[:, of], 0.0)


def assign_points(time: np.ndarray, energy: np.ndarray, frac: np.ndarray, out_bytes: np.ndarray, counts: np.ndarray,
                  links: list, objective: str, static_w: np.ndarray, of: np.ndarray | None = None,
                  allowed: np.ndarray | None = None) -> Placements:
    """``mappings.placement.assign`` for P points: ``time``/``energy`` (P, N, O), ``frac`` (N, O, U) shared,
    ``links`` a list of P (bandwidth, latency, energy/byte) unit × unit triples, ``static_w`` (P,).

    With ``of`` (N,), ``time``/``energy`` are (P, D, O) per distinct op and op n's are those of ``of[n]`` (ops with
    the same ``of`` have the same ``frac``: hand-overs are computed once per distinct edge); options where ``allowed``
    (N, O) is False are excluded (infinite time), and an op of infinite time has no energy."""
    n_points, n, n_opt = time.shape[0], frac.shape[0], time.shape[2]
    counts = np.asarray(counts, float)
    out_bytes = np.asarray(out_bytes, float)
    idx = np.arange(n)
    of = idx if of is None else np.asarray(of, dtype=np.int64)
    allowed = np.ones((n, n_opt), dtype=np.bool_) if allowed is None else np.ascontiguousarray(allowed, dtype=np.bool_)
    if objective == "edp":
        t_all, e_all = op_costs(time, energy, of, allowed)
        return _stack([_assign_or_none(t_all[p], e_all[p], frac, out_bytes, counts, links[p], objective,
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
    # Hand-over costs per distinct link vector and distinct edge (sender, receiver and bytes), forward edges first,
    # then each run's loop back-edge.
    keys = [tuple(np.concatenate([m.ravel() for m in lk])) for lk in links]
    group_of, groups = np.zeros(n_points, dtype=np.int64), {}
    for p, key in enumerate(keys):
        group_of[p] = groups.setdefault(key, len(groups))
    firsts = [keys.index(k) for k in groups]
    senders, receivers = np.concatenate([idx[:-1], lasts]), np.concatenate([idx[1:], starts])
    edge_keys = np.stack([of[senders], of[receivers], out_bytes[senders]], axis=1)
    _, first_edge, edge_of = np.unique(edge_keys, axis=0, return_index=True, return_inverse=True)
    edge_of = edge_of.reshape(-1).astype(np.int64)
    a, b = senders[first_edge], receivers[first_edge]
    costs = [handovers(frac[a], frac[b], out_bytes[a], links[p]) for p in firsts]  # (E, O, O) each
    et, ee, eb = (np.stack([g[k] for g in costs]) for k in range(3))  # (G, E, O, O)
    sw = np.asarray(static_w, float)
    score_keys: dict = {}
    key_of = np.array([score_keys.setdefault((group_of[p], sw[p]), len(score_keys)) for p in range(n_points)],
                      dtype=np.int64)
    scores = _edge_scores(et, ee, alpha, beta, np.array([g for g, _ in score_keys], dtype=np.int64),
                          np.array([w for _, w in score_keys], dtype=float))
    choice, ok, xfer = _place(np.ascontiguousarray(time, dtype=float), np.ascontiguousarray(energy, dtype=float), of,
                              allowed, counts, scores, key_of, et, ee, eb, group_of, edge_of, edge_mult, back_mult,
                              has_back, run_of, starts, lasts, alpha, beta, sw,
                              min(n_points, 4 * numba.get_num_threads()))
    return Placements(choice, frac[idx[None, :], choice], xfer[0], xfer[1], xfer[2], ok)


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
