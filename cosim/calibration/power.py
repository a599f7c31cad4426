"""Power sampling behind an interface: a thread reads a sensor (watts) every ``period_s`` and integrates the
samples over the watched window with the trapezoid rule. Sensors: NVML (:mod:`cosim.calibration.cuda`), or any
callable returning watts, so tests drive it with a fake sensor and a fake clock."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol


@dataclass(frozen=True)
class PowerReading:
    """Energy over a watched window, its duration and the number of sensor samples behind it."""

    energy_j: float
    duration_s: float
    samples: int

    @property
    def mean_power_w(self) -> float:
        return self.energy_j / self.duration_s if self.duration_s > 0 else float("nan")


class PowerSampler(Protocol):
    """Watches power between :meth:`start` and :meth:`stop`."""

    source: str

    def start(self) -> None: ...

    def stop(self) -> PowerReading: ...


def integrate(times_s: list[float], watts: list[float]) -> PowerReading:
    """Trapezoid-rule energy of power samples at ``times_s``; one sample alone has no duration."""
    energy = sum((t1 - t0) * (p0 + p1) / 2.0 for t0, t1, p0, p1 in zip(times_s, times_s[1:], watts, watts[1:]))
    duration = times_s[-1] - times_s[0] if times_s else 0.0
    return PowerReading(energy, duration, len(times_s))


class ThreadedSampler:
    """Samples ``sensor()`` (watts) every ``period_s`` on a background thread; ``clock`` gives seconds."""

    def __init__(self, sensor: Callable[[], float], source: str, period_s: float = 0.01,
                 clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], object] | None = None) -> None:
        self.sensor, self.source, self.period_s, self.clock = sensor, source, period_s, clock
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._thread: threading.Thread | None = None
        self._times: list[float] = []
        self._watts: list[float] = []

    def _sample(self) -> None:
        self._times.append(self.clock())
        self._watts.append(float(self.sensor()))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sleep(self.period_s)
            if not self._stop.is_set():
                self._sample()

    def start(self) -> None:
        self._times, self._watts = [], []
        self._stop.clear()
        self._sample()
        self._thread = threading.Thread(target=self._run, name="power-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> PowerReading:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()  # the window ends now, not at the last periodic sample
        return integrate(self._times, self._watts)
