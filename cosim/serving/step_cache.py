"""Interpolation grids of the step-cost cache: the points of one axis at which steps are evaluated exactly, and the
two points (with weights) that bracket a value between them.

Token counts (a GEMM's rows) use :class:`Blocks`: a GPU's time jumps where a GEMM needs one more row tile or wave
(the tile rows are multiples of 16), and is close to linear between, so points come in pairs (16k + 1, 16k + 16) of
the same tile count; interpolating across a jump instead costs up to 14% (A100, a 256 -> 279 token chunk)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Grid:
    """Points of one axis: every multiple of ``step`` up to ``dense_upto``, then ``per_octave`` geometric points per
    doubling (rounded to integers), so the spacing stays a fixed fraction of the value."""

    step: int
    dense_upto: int
    per_octave: int

    def _geometric(self, k: int) -> int:
        return int(round(self.dense_upto * 2.0 ** (k / self.per_octave)))

    def bracket(self, x: float, low: int = 0, high: int | None = None) -> tuple[int, int, float]:
        """(lower point, upper point, weight of the upper) around ``x``; points are kept within [``low``,
        ``high``] (a value outside is held at the nearest bound, weight 0)."""
        if x <= self.dense_upto:
            lo = int(math.floor(x / self.step)) * self.step
            hi = lo if lo == x else lo + self.step
        else:
            k = int(math.floor(self.per_octave * math.log2(x / self.dense_upto)))
            while self._geometric(k) > x:
                k -= 1
            while self._geometric(k + 1) < x:
                k += 1
            lo, hi = self._geometric(k), self._geometric(k + 1)
            if lo == x:
                hi = lo
        return _within(x, lo, hi, low, high)


@dataclass(frozen=True)
class Blocks:
    """Points of a token axis: every integer up to ``exact_upto``; above, blocks of width ``width`` (a power of two
    of at least ``min_width``, at most a ``1 / per_value`` fraction of the value) whose first and last points are
    taken, so that no interpolation crosses a multiple of the block width."""

    exact_upto: int
    min_width: int
    per_value: int

    def bracket(self, x: float, low: int = 0, high: int | None = None) -> tuple[int, int, float]:
        """As :meth:`Grid.bracket`."""
        if x <= self.exact_upto:
            lo = int(math.floor(x))
            hi = lo if lo == x else lo + 1
        else:
            width = max(self.min_width, 2 ** int(math.floor(math.log2(max(x / self.per_value, 1.0)))))
            block = int(math.ceil(x / width)) - 1
            lo, hi = block * width + 1, (block + 1) * width
        return _within(x, lo, hi, low, high)


def _within(x: float, lo: int, hi: int, low: int, high: int | None) -> tuple[int, int, float]:
    """(lo, hi, weight of hi) with both points kept in [``low``, ``high``] (a value outside: the bound, weight 0)."""
    top = high if high is not None else max(hi, low)
    lo, hi = min(max(lo, low), top), min(max(hi, low), top)
    if hi <= lo or x <= lo:
        return lo, lo, 0.0
    if x >= hi:
        return hi, hi, 0.0
    return lo, hi, (x - lo) / (hi - lo)


def corners(*brackets: tuple[int, int, float]):
    """(point, weight) of every corner of the box the brackets span (multilinear weights; zero-weight corners are
    skipped)."""
    out = [((), 1.0)]
    for lo, hi, w in brackets:
        step = [(lo, 1.0 - w)] + ([(hi, w)] if hi != lo and w > 0 else [])
        out = [(p + (v,), wp * wv) for p, wp in out for v, wv in step if wp * wv > 0]
    return out
