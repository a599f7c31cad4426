"""The ``host-cpu`` board: the suite of :func:`cosim.calibration.suites.host_cases` run through numpy (its BLAS
for GEMMs, im2col + BLAS for convolutions) and timed with the host's monotonic clock. No power sensor is read."""

from __future__ import annotations

from pathlib import Path

from cosim.calibration.environment import cpu_clock_mhz, host_environment
from cosim.calibration.measure import TIME_CAPS_S, RunOutcome, prepare_output, run_cases
from cosim.calibration.lowering import UnsupportedOp
from cosim.calibration.numpy_ops import lower_workload
from cosim.calibration.suites import Case, host_cases
from cosim.calibration.timing import HostTimer, RepeatPolicy


def measure_host_cpu(output: str | Path, which: str = "quick", resume: bool = False, overwrite: bool = False,
                     progress: bool = True, time_cap_s: float | None = None,
                     cases: list[Case] | None = None) -> RunOutcome:
    """Measure this machine's CPU into ``output`` (Parquet): the ``which`` set, or the given ``cases``."""
    path = prepare_output(output, resume, overwrite)
    todo = host_cases(which) if cases is None else cases
    policy = RepeatPolicy(time_cap_s=time_cap_s or TIME_CAPS_S[which])
    return run_cases(todo, path, host_environment(), lower_workload, HostTimer(), policy, progress=progress,
                     clock_mhz=cpu_clock_mhz, unsupported=(UnsupportedOp, MemoryError))
