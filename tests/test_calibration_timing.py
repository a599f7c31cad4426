"""The timing loop (warm-up, sample sizing, stop on small spread or on the time cap) and the power sampler, driven
by fake timers, clocks and sensors."""

from __future__ import annotations

import math
import time

import pytest

from cosim.calibration.power import ThreadedSampler, integrate
from cosim.calibration.timing import HostTimer, RepeatPolicy, measure, spread


class FakeTimer:
    """Each sample takes ``per_call[i] * calls`` seconds (the last value repeats); counts calls made."""

    name = "fake"

    def __init__(self, per_call: list[float]) -> None:
        self.per_call, self.samples, self.calls = per_call, 0, 0

    def elapsed(self, fn, calls: int) -> float:
        self.calls += calls
        t = self.per_call[min(self.samples, len(self.per_call) - 1)] * calls
        self.samples += 1
        return t


class FakeClock:
    def __init__(self, step: float) -> None:
        self.t, self.step = 0.0, step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def test_stops_once_the_window_is_steady():
    # warm-up sample, sizing sample, then noisy samples settling to 1.0 ms
    timer = FakeTimer([9e-3, 1e-3, 2e-3, 1.5e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3])
    policy = RepeatPolicy(warmup_calls=1, min_sample_s=0, window=5, target_spread=0.01, time_cap_s=100)
    t = measure(lambda: None, timer, policy, clock=FakeClock(1e-3))
    assert not t.time_capped and t.median_s == t.min_s == t.max_s == 1e-3 and t.spread == 0
    assert t.repetitions == 8  # the first window of five 1 ms samples ends at sample 8 (after the warm-up)


def test_time_cap_keeps_the_steadiest_window_and_says_so():
    noisy = [1e-3, 1e-3, 2e-3, 1e-3, 3e-3] * 50
    policy = RepeatPolicy(warmup_calls=0, min_sample_s=0, window=3, target_spread=0.01, time_cap_s=0.02)
    t = measure(lambda: None, FakeTimer(noisy), policy, clock=FakeClock(1e-3))
    assert t.time_capped
    assert t.spread == pytest.approx(1.0)  # [1, 1, 2] or [1, 2, 1] or [2, 1, 1] ms: the best any window reaches
    assert t.repetitions >= 3


def test_short_calls_are_batched_into_long_enough_samples():
    timer = FakeTimer([1e-6])
    policy = RepeatPolicy(warmup_calls=0, min_sample_s=1e-3, window=2, target_spread=0.5, time_cap_s=1)
    t = measure(lambda: None, timer, policy, clock=FakeClock(1e-4))
    assert t.calls_per_sample >= 1000 and t.median_s == pytest.approx(1e-6)


def test_a_slow_op_capped_before_a_window_reports_all_samples():
    policy = RepeatPolicy(warmup_calls=0, min_sample_s=0, window=5, time_cap_s=1)
    t = measure(lambda: None, FakeTimer([0.5, 0.7]), policy, clock=FakeClock(0.6))
    assert t.time_capped and t.repetitions == 2 and (t.min_s, t.max_s) == (0.5, 0.7)


def test_host_timer_times_real_work():
    t = HostTimer().elapsed(lambda: time.sleep(0.002), 2)
    assert 0.004 <= t < 0.5
    assert spread([1.0, 2.0, 3.0]) == 1.0


def test_integrate_is_the_trapezoid_rule():
    r = integrate([0.0, 1.0, 3.0], [100.0, 200.0, 200.0])
    assert r.energy_j == 150.0 + 400.0 and r.duration_s == 3.0 and r.samples == 3
    assert integrate([1.0], [50.0]).energy_j == 0 and math.isnan(integrate([1.0], [50.0]).mean_power_w)


def test_sampler_integrates_a_fake_sensor_over_the_window():
    clock = FakeClock(0.01)
    watts = iter(range(100, 100000))
    sampler = ThreadedSampler(lambda: float(next(watts)), "fake", period_s=0.001, clock=clock)
    sampler.start()
    time.sleep(0.02)
    reading = sampler.stop()
    assert reading.samples >= 2
    # power rises by 1 W per sample, clock by 10 ms per sample: energy is the trapezoid sum of that ramp
    n = reading.samples
    expected = sum(0.01 * (100 + i + 0.5) for i in range(n - 1))
    assert reading.energy_j == pytest.approx(expected) and reading.duration_s == pytest.approx(0.01 * (n - 1))


def test_measure_reports_energy_from_the_sampler():
    sampler = ThreadedSampler(lambda: 250.0, "fake", period_s=0.001)
    policy = RepeatPolicy(warmup_calls=0, min_sample_s=0, window=2, target_spread=1.0, time_cap_s=1)
    t = measure(lambda: time.sleep(0.002), HostTimer(), policy, sampler=sampler)
    assert t.mean_power_w == pytest.approx(250.0) and t.energy_j == pytest.approx(250.0 * t.median_s)
    none = measure(lambda: None, HostTimer(), policy)
    assert math.isnan(none.energy_j)


def test_sampler_stops_when_the_timed_function_fails():
    sampler = ThreadedSampler(lambda: 1.0, "fake", period_s=0.001)

    def boom():
        raise MemoryError
    with pytest.raises(MemoryError):
        measure(boom, HostTimer(), RepeatPolicy(warmup_calls=0), sampler=sampler)
    assert not sampler._thread.is_alive()
