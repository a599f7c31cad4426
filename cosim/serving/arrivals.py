"""Arrival processes: when requests reach the system (seconds from 0).

Synthetic processes are renewal processes started at time 0: the first request arrives one gap after 0, each next
one a gap later. ``poisson`` gaps are exponential; ``gamma`` gaps have mean 1/rate and coefficient of variation
``cv`` (shape 1/cv², so cv = 1 is Poisson in distribution, cv > 1 burstier, cv < 1 smoother); ``fixed`` gaps are
exactly 1/rate. A trace replays recorded timestamps, shifted so the first is at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosim.errors import CosimInputError
from cosim.serving.tables import read_table

TIME_COLUMNS = ("arrival_s", "timestamp")
LENGTH_COLUMNS = ("prompt_tokens", "output_tokens")


def _check_rate(rate_per_s) -> float:
    if rate_per_s is None or not rate_per_s > 0 or not np.isfinite(rate_per_s):
        raise CosimInputError(f"rate_per_s must be a positive finite number, got {rate_per_s!r}",
                              "traffic.arrivals.rate_per_s")
    return float(rate_per_s)


def gaps(process: str, rate_per_s: float, cv: float, rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` random inter-arrival gaps (s) of a ``poisson`` or ``gamma`` process at mean rate ``rate_per_s``."""
    mean_s = 1.0 / _check_rate(rate_per_s)
    if process == "poisson":
        return rng.exponential(mean_s, size)
    if process == "gamma":
        if not cv > 0:
            raise CosimInputError(f"gamma arrivals need cv > 0, got {cv!r}", "traffic.arrivals.cv")
        return rng.gamma(1.0 / cv**2, mean_s * cv**2, size)
    raise CosimInputError(f"unknown arrival process {process!r}; allowed: poisson, gamma, fixed, trace",
                          "traffic.arrivals.process")


def synthetic_arrivals(process: str, rate_per_s: float, cv: float, rng: np.random.Generator,
                       count: int | None = None, duration_s: float | None = None) -> np.ndarray:
    """Arrival times of ``count`` requests, or of every request arriving before ``duration_s`` (at most ``count``
    when both are given). ``fixed`` arrivals are exactly k / rate for k = 1, 2, ..."""
    rate = _check_rate(rate_per_s)
    if duration_s is None and count is None:
        raise CosimInputError("give a number of requests or a duration_s", "traffic")
    if process == "fixed":
        times = np.arange(1, (count if duration_s is None else int(duration_s * rate) + 1) + 1) / rate
    elif duration_s is None:
        return np.cumsum(gaps(process, rate, cv, rng, count))
    else:
        chunk = int(rate * duration_s * 1.1) + 64
        times = np.cumsum(gaps(process, rate, cv, rng, chunk))
        while times[-1] < duration_s and (count is None or times.size < count):
            times = np.concatenate([times, times[-1] + np.cumsum(gaps(process, rate, cv, rng, chunk))])
    if duration_s is not None:
        times = times[times < duration_s]
    return times if count is None else times[:count]


@dataclass(frozen=True)
class Trace:
    """A replayed trace: arrival times (s, from 0) and, where the file has them, each request's lengths."""

    arrival_s: np.ndarray
    prompt_tokens: np.ndarray | None
    output_tokens: np.ndarray | None


def read_trace(path: Path, time_scale: float = 1.0) -> Trace:
    """Read a CSV or JSONL trace with an ``arrival_s`` (or ``timestamp``) column in seconds and optional
    ``prompt_tokens`` and ``output_tokens``; rows are sorted by time (stably), shifted to start at 0, and every gap
    multiplied by ``time_scale``."""
    table = read_table(path)
    time_col = table.require(TIME_COLUMNS, "a trace")
    times = table.numbers(time_col, integer=False, minimum=0.0, allowed="a finite time in seconds >= 0")
    lengths = {name: table.numbers(name, integer=True, minimum=1, allowed="an integer number of tokens >= 1")
               if name in table.columns else None for name in LENGTH_COLUMNS}
    order = np.argsort(times, kind="stable")
    times = (times[order] - times[order[0]]) * time_scale
    return Trace(times, *(None if v is None else v[order].astype(np.int64) for v in lengths.values()))
