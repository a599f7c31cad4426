"""Op placement on the units of a heterogeneous device: dynamic programming over the op sequence.

Input is a cost matrix, not a device: ``time[n, o]`` and ``energy[n, o]`` of one instance of op ``n`` under option
``o`` (an option runs the op on one unit, or splits its batch between two units that run concurrently; ``frac[n, o]``
is the share of the batch on each unit), the bytes each op outputs, and the links between units.

Transfers. Between consecutive ops the data is re-partitioned: with the batch laid out on [0, 1) in unit order, the
share that unit ``u`` holds for op ``n`` and unit ``v`` needs for op ``n+1`` (their intervals' overlap) moves over the
``u→v`` link at ``bytes / bandwidth + latency`` and its energy per byte; a pair of units without a link cannot hand
data over (infinite cost). Transfers of one hand-over are taken one after another (sum).

Repeats. An op with ``count`` c stands for c instances. The hand-over between ops n and n+1 happens
``min(c_n, c_{n+1})`` times. A maximal run of consecutive ops with the same count c > 1 is a loop body (the layers of
a network, as the workload builders emit them): it also hands over from its last op back to its first c - 1 times.
The DP state is (option of the run's first op, option of the previous op), which makes it exact for this chain with
loops; a run of count 1 is a plain chain.

Objectives. ``latency`` minimises the summed time (energy breaks ties); ``energy`` minimises dynamic energy plus
``static_w`` × time (every unit is powered while the sequence runs); ``edp``, not additive over ops, is minimised by
iterated scalarisation: starting from the latency-optimal placement, solve min E + λ·T with λ = E/T of the current
placement (the direction of steepest descent of E·T), until the placement repeats; the best E·T seen among these and
the latency- and energy-optimal placements is returned (a local optimum, not guaranteed global).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TIE = 1e-9  # weight of energy (J) against time (s) when minimising latency: breaks ties only


@dataclass
class Placement:
    """The chosen option per op, and costs. Per-op arrays are per instance except the transfer ones (all instances).

    ``transfer_*[n]``: hand-overs into op ``n`` (from op n-1, and from the end of its loop body when ``n`` starts
    one), already multiplied by how often they happen.
    """

    option: np.ndarray  # (N,) option index per op
    frac: np.ndarray  # (N, U) batch share per unit
    time: np.ndarray  # (N,) per instance
    energy: np.ndarray  # (N,) per instance, dynamic
    transfer_time: np.ndarray
    transfer_energy: np.ndarray
    transfer_bytes: np.ndarray
    total_time: float
    total_energy: float  # dynamic + transfers + static_w × total_time
    objective: str

    @property
    def edp(self) -> float:
        return self.total_energy * self.total_time


def handover(p: np.ndarray, q: np.ndarray, nbytes: float, bw: np.ndarray, lat: np.ndarray, e_byte: np.ndarray):
    """(time, energy, bytes) of re-partitioning ``nbytes`` from distribution ``p`` to ``q`` over the units."""
    sp, sq = np.cumsum(p) - p, np.cumsum(q) - q
    t = e = moved_total = 0.0
    for u in range(len(p)):
        if p[u] <= 0:
            continue
        for v in range(len(q)):
            if u == v or q[v] <= 0:
                continue
            share = min(sp[u] + p[u], sq[v] + q[v]) - max(sp[u], sq[v])
            if share <= 1e-12:
                continue
            moved = share * nbytes
            if bw[u, v] <= 0:
                return np.inf, np.inf, moved
            t += moved / bw[u, v] + lat[u, v]
            e += moved * e_byte[u, v]
            moved_total += moved
    return t, e, moved_total


def _edge_costs(frac_a: np.ndarray, frac_b: np.ndarray, nbytes: float, links) -> tuple[np.ndarray, ...]:
    """Hand-over time, energy and bytes for every (option of the sender, option of the receiver)."""
    na, nb = frac_a.shape[0], frac_b.shape[0]
    t, e, b = np.zeros((na, nb)), np.zeros((na, nb)), np.zeros((na, nb))
    for i in range(na):
        for j in range(nb):
            t[i, j], e[i, j], b[i, j] = handover(frac_a[i], frac_b[j], nbytes, *links)
    return t, e, b


def loop_runs(counts: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [start, end) of consecutive ops with equal count."""
    runs, start = [], 0
    for n in range(1, len(counts) + 1):
        if n == len(counts) or counts[n] != counts[start]:
            runs.append((start, n))
            start = n
    return runs


class _Problem:
    """The cost matrix plus precomputed hand-over costs of every edge and loop back-edge."""

    def __init__(self, time, energy, frac, out_bytes, counts, links, static_w):
        self.time, self.energy = np.asarray(time, float), np.asarray(energy, float)
        self.frac, self.out_bytes = np.asarray(frac, float), np.asarray(out_bytes, float)
        self.counts = np.asarray(counts, float)
        self.static_w = float(static_w)
        n = self.time.shape[0]
        self.runs = loop_runs(self.counts)
        self.run_of = np.zeros(n, dtype=int)
        for r, (s, e) in enumerate(self.runs):
            self.run_of[s:e] = r
        self.edges = [_edge_costs(self.frac[i - 1], self.frac[i], self.out_bytes[i - 1], links) for i in range(1, n)]
        self.edge_mult = [min(self.counts[i - 1], self.counts[i]) for i in range(1, n)]
        self.back = {r: _edge_costs(self.frac[e - 1], self.frac[s], self.out_bytes[e - 1], links)
                     for r, (s, e) in enumerate(self.runs) if self.counts[s] > 1}

    def score(self, t, e, alpha, beta):
        """Scalar cost of time t and dynamic energy e (static power is charged on the time)."""
        with np.errstate(invalid="ignore"):
            s = alpha * t + beta * (e + self.static_w * t)
        return np.where(np.isnan(s), np.inf, s)


def _solve(pb: _Problem, alpha: float, beta: float) -> np.ndarray:
    """Exact minimiser of ``alpha·T + beta·E`` over all option sequences (Viterbi with loop anchors)."""
    n, n_opt = pb.time.shape
    op_cost = pb.score(pb.time, pb.energy, alpha, beta) * pb.counts[:, None]  # (N, O)
    # A run without a loop back-edge needs no anchor: its states all sit in anchor row 0 (the others stay inf).
    anchored = np.array([r in pb.back for r in range(len(pb.runs))])
    rows = np.arange(n_opt)
    V = np.full((n_opt, n_opt), np.inf)
    V[rows if anchored[pb.run_of[0]] else 0, rows] = op_cost[0]
    back_anchor = np.zeros((n, n_opt, n_opt), dtype=int)
    back_prev = np.zeros((n, n_opt, n_opt), dtype=int)

    def close_run(V, r):
        if r in pb.back:
            bt, be, _ = pb.back[r]  # (last option, first option)
            mult = pb.counts[pb.runs[r][0]] - 1
            V = V + mult * pb.score(bt, be, alpha, beta).T  # V[a, p] += back[p, a]
        return V

    for i in range(1, n):
        et, ee, _ = pb.edges[i - 1]
        step = pb.edge_mult[i - 1] * pb.score(et, ee, alpha, beta) + op_cost[i][None, :]  # (prev, cur)
        if pb.run_of[i] != pb.run_of[i - 1]:
            V = close_run(V, pb.run_of[i - 1])
            best_anchor = np.argmin(V, axis=0)  # per prev option
            W = V[best_anchor, np.arange(n_opt)]
            total = W[:, None] + step  # (prev, cur)
            prev = np.argmin(total, axis=0)
            V = np.full((n_opt, n_opt), np.inf)
            anchor = rows if anchored[pb.run_of[i]] else 0
            V[anchor, rows] = total[prev, rows]
            back_prev[i][anchor, rows] = prev
            back_anchor[i][anchor, rows] = best_anchor[prev]
        else:
            total = V[:, :, None] + step[None, :, :]  # (anchor, prev, cur)
            prev = np.argmin(total, axis=1)  # (anchor, cur)
            V = np.take_along_axis(total, prev[:, None, :], axis=1)[:, 0, :]
            back_prev[i] = prev
            back_anchor[i] = np.arange(n_opt)[:, None]
    V = close_run(V, pb.run_of[n - 1])
    a, p = np.unravel_index(int(np.argmin(V)), V.shape)
    if not np.isfinite(V[a, p]):
        raise ValueError("no feasible placement: every option of some op is excluded or unreachable")
    choice = np.zeros(n, dtype=int)
    for i in range(n - 1, -1, -1):
        choice[i] = p
        if i > 0:
            a, p = back_anchor[i][a, p], back_prev[i][a, p]
    return choice


def evaluate(pb: _Problem, choice: np.ndarray, objective: str) -> Placement:
    """Costs of a given option sequence (used for the DP's answer and by brute-force checks)."""
    n = len(choice)
    idx = np.arange(n)
    tt, te, tb = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(1, n):
        et, ee, eb = pb.edges[i - 1]
        m = pb.edge_mult[i - 1]
        tt[i] += m * et[choice[i - 1], choice[i]]
        te[i] += m * ee[choice[i - 1], choice[i]]
        tb[i] += m * eb[choice[i - 1], choice[i]]
    for r, (bt, be, bb) in pb.back.items():
        s, e = pb.runs[r]
        m = pb.counts[s] - 1
        tt[s] += m * bt[choice[e - 1], choice[s]]
        te[s] += m * be[choice[e - 1], choice[s]]
        tb[s] += m * bb[choice[e - 1], choice[s]]
    time, energy = pb.time[idx, choice], pb.energy[idx, choice]
    total_time = float((time * pb.counts).sum() + tt.sum())
    total_energy = float((energy * pb.counts).sum() + te.sum() + pb.static_w * total_time)
    return Placement(choice, pb.frac[idx, choice], time, energy, tt, te, tb, total_time, total_energy, objective)


def assign(time, energy, frac, out_bytes, counts, links, objective: str = "latency",
           static_w: float = 0.0) -> Placement:
    """The best option per op for ``objective`` (latency, energy or edp); see the module docstring.

    ``links`` is ``(bandwidth B/s, latency s, energy J/byte)``, each a units × units array (bandwidth 0: no link).
    Excluded options (pins, unsupported ops) have infinite time.
    """
    pb = _Problem(time, energy, frac, out_bytes, counts, links, static_w)
    if objective == "latency":
        return evaluate(pb, _solve(pb, 1.0, _TIE), objective)
    if objective == "energy":
        return evaluate(pb, _solve(pb, _TIE, 1.0), objective)
    if objective != "edp":
        raise ValueError(f"unknown objective {objective!r}; allowed: latency, energy, edp")
    best = evaluate(pb, _solve(pb, 1.0, _TIE), objective)
    candidates = [best, evaluate(pb, _solve(pb, _TIE, 1.0), objective)]
    seen = {tuple(best.option)}
    current = best
    for _ in range(30):
        lam = current.total_energy / current.total_time if current.total_time > 0 else 0.0
        current = evaluate(pb, _solve(pb, lam, 1.0), objective)
        if tuple(current.option) in seen:
            break
        seen.add(tuple(current.option))
        candidates.append(current)
    return min(candidates, key=lambda p: (p.edp, p.total_time))


def split_options(n_units: int, steps: int, allow_split: bool) -> list[tuple[int, int, int]]:
    """Options as (unit a, unit b, k): a runs k/steps of the batch, b the rest; k == steps is a single unit."""
    options = [(u, u, steps) for u in range(n_units)]
    if allow_split:
        options += [(a, b, k) for a in range(n_units) for b in range(a + 1, n_units) for k in range(1, steps)]
    return options
