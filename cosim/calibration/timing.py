"""Timing a callable: a timer interface (host clock here, CUDA events in :mod:`cosim.calibration.cuda`), warm-up,
and repeats until the spread of the last few samples is small or a per-op time cap is reached.

A *sample* times ``calls`` back-to-back calls (enough that one sample lasts ``min_sample_s``, so the timer's own
overhead and resolution do not matter) and records the time per call. The kept samples are the ``window`` most
recent ones; the run stops as soon as their spread, (max - min) / median, is at most ``target_spread``. When the cap
stops it first, the steadiest window seen is kept and the result says ``time_capped``.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from cosim.calibration.power import PowerSampler


class Timer(Protocol):
    """Times ``calls`` back-to-back calls of ``fn`` and returns the elapsed seconds of all of them."""

    name: str

    def elapsed(self, fn: Callable[[], object], calls: int) -> float: ...


class HostTimer:
    """Wall-clock time from :func:`time.perf_counter_ns` (host code finishes its work before returning)."""

    name = "perf_counter_ns"

    def __init__(self, clock: Callable[[], int] = time.perf_counter_ns) -> None:
        self._clock = clock

    def elapsed(self, fn: Callable[[], object], calls: int) -> float:
        start = self._clock()
        for _ in range(calls):
            fn()
        return (self._clock() - start) * 1e-9


@dataclass(frozen=True)
class RepeatPolicy:
    """When to stop repeating: ``warmup_calls`` untimed calls first, then samples of at least ``min_sample_s``
    until the last ``window`` samples spread by at most ``target_spread`` or ``time_cap_s`` of sampling is spent."""

    warmup_calls: int = 2
    min_sample_s: float = 2e-3
    window: int = 5
    target_spread: float = 0.05
    time_cap_s: float = 1.0
    max_calls_per_sample: int = 1_000_000

    def __post_init__(self) -> None:
        if self.window < 1 or self.warmup_calls < 0 or self.time_cap_s <= 0 or self.min_sample_s < 0:
            raise ValueError(f"invalid repeat policy {self}")


@dataclass(frozen=True)
class Timing:
    """The outcome of timing one callable: seconds per call over the kept samples."""

    median_s: float
    min_s: float
    max_s: float
    spread: float
    repetitions: int  # samples taken (the kept window is the last or steadiest ``window`` of them)
    calls_per_sample: int
    time_capped: bool
    mean_power_w: float = math.nan  # average over the sampling, when a power sampler watched it

    @property
    def energy_j(self) -> float:
        """Energy of one call: the mean power while sampling times the median time (NaN without a sensor)."""
        return self.mean_power_w * self.median_s


def spread(samples: list[float]) -> float:
    """(max - min) / median of ``samples``."""
    return (max(samples) - min(samples)) / statistics.median(samples)


def measure(fn: Callable[[], object], timer: Timer, policy: RepeatPolicy = RepeatPolicy(),
            clock: Callable[[], float] = time.perf_counter, sampler: "PowerSampler | None" = None) -> Timing:
    """Warm ``fn`` up, size a sample, then repeat samples as ``policy`` says; ``clock`` measures the cap. A
    ``sampler`` watches power from the first timed sample to the last."""
    if policy.warmup_calls:
        timer.elapsed(fn, policy.warmup_calls)
    if sampler is not None:
        sampler.start()
    try:
        samples, calls, capped, best = _repeat(fn, timer, policy, clock)
    finally:
        power = sampler.stop().mean_power_w if sampler is not None else math.nan
    kept = best if best is not None else samples
    return Timing(median_s=statistics.median(kept), min_s=min(kept), max_s=max(kept), spread=spread(kept),
                  repetitions=len(samples), calls_per_sample=calls, time_capped=capped, mean_power_w=power)


def _repeat(fn: Callable[[], object], timer: Timer, policy: RepeatPolicy,
            clock: Callable[[], float]) -> tuple[list[float], int, bool, list[float] | None]:
    """Samples (seconds per call), calls per sample, whether the cap stopped it, and the window to keep."""
    began = clock()
    calls, first = 1, timer.elapsed(fn, 1)
    while first < policy.min_sample_s and calls < policy.max_calls_per_sample:
        # one call is too short to time well: grow the sample towards min_sample_s
        calls = min(policy.max_calls_per_sample, max(calls * 2, int(calls * policy.min_sample_s / max(first, 1e-9))))
        first = timer.elapsed(fn, calls)
    samples = [first / calls]
    best: list[float] | None = None
    while True:
        window = samples[-policy.window:]
        if len(window) == policy.window:
            if spread(window) <= policy.target_spread:
                return samples, calls, False, window
            if best is None or spread(window) < spread(best):
                best = window
        if clock() - began >= policy.time_cap_s:
            return samples, calls, True, best
        samples.append(timer.elapsed(fn, calls) / calls)
