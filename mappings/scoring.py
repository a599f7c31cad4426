"""The one ranking of cost records every mapping search uses.

A record ranks first by the objective (0 latency, 1 energy, 2 energy-delay product); two records whose objective
values agree within ``TIE_TOLERANCE`` (relative; precisely: fall in the same step of a logarithmic grid of that
width, see ``compare``) are tied and ranked by the other metrics in turn — latency: energy,
then EDP; energy: latency, then EDP; EDP: latency, then energy — so a latency-optimal mapping is also the least-energy
one among equally fast mappings. A record with infinite time (an illegal mapping) never ranks before a legal one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hw_models.cost import ENERGY_FIELDS, O_TIME

TIE_TOLERANCE = 1e-6  # relative width of the steps within which two metric values count as equal
_LOG_STEP = math.log1p(TIE_TOLERANCE)
_ENERGY_FIELDS = np.array(ENERGY_FIELDS, dtype=np.int64)


@njit(cache=True)
def energy(rec):
    """Total energy of a cost record (dynamic parts plus static)."""
    total = 0.0
    for slot in _ENERGY_FIELDS:
        total += rec[slot]
    return total


@njit(cache=True)
def metrics(rec, objective):
    """(objective value, first tie-breaker, second tie-breaker) of a cost record; smaller is better."""
    t = rec[O_TIME]
    e = energy(rec)
    if objective == 0:
        return t, e, e * t
    if objective == 1:
        return e, t, e * t
    return e * t, t, e


@njit(cache=True)
def score(rec, objective):
    """The objective value of a cost record (smaller is better)."""
    return metrics(rec, objective)[0]


@njit(cache=True)
def compare(a, b):
    """-1 if metric value ``a`` ranks before ``b``, 1 if after, 0 if tied: positive values are tied when they fall in
    the same step of a logarithmic grid of relative width ``TIE_TOLERANCE`` (a grid, not a distance, keeps ties
    transitive, so every search and a brute force agree on the best mapping)."""
    if a == b:
        return 0
    if a <= 0.0 or b <= 0.0 or abs(a - b) > TIE_TOLERANCE * max(a, b):  # surely in different steps
        return -1 if a < b else 1
    step_a = math.floor(math.log(a) / _LOG_STEP)
    step_b = math.floor(math.log(b) / _LOG_STEP)
    if step_a == step_b:
        return 0
    return -1 if step_a < step_b else 1


@njit(cache=True)
def better(a, b, objective):
    """True when record ``a`` ranks strictly before record ``b``."""
    if not np.isfinite(a[O_TIME]):
        return False
    if not np.isfinite(b[O_TIME]):
        return True
    a0, a1, a2 = metrics(a, objective)
    b0, b1, b2 = metrics(b, objective)
    for x, y in ((a0, b0), (a1, b1), (a2, b2)):
        o = compare(x, y)
        if o != 0:
            return o < 0
    return False


@njit(cache=True)
def insert_top(top, scores, rec, objective):
    """Keep ``top`` (records, best first) and ``scores`` (their objective values) ranked: insert ``rec`` if it ranks
    before the last kept record. Equal-ranked records keep arrival order."""
    k = scores.size
    if not better(rec, top[k - 1], objective):
        return
    i = k - 1
    while i > 0 and better(rec, top[i - 1], objective):
        scores[i] = scores[i - 1]
        top[i, :] = top[i - 1, :]
        i -= 1
    scores[i] = score(rec, objective)
    top[i, :] = rec


@njit(cache=True)
def empty_top(top_k, n_out):
    """An empty ranked list: ``top_k`` records of infinite time and infinite scores."""
    return np.full((top_k, n_out), np.inf), np.full(top_k, np.inf)
