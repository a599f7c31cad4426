"""The measurement loop shared by every board: lower each case, time it, append its row to the table at once
(atomically), show progress. An interrupted run keeps every finished row; ``resume`` skips cases the file
already holds for the same board and device."""

from __future__ import annotations

import gc
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from cosim.calibration.environment import Environment, utc_now
from cosim.calibration.power import PowerSampler
from cosim.calibration.schema import append_measurements, measurement_id, read_measurements
from cosim.calibration.suites import Case
from cosim.calibration.timing import RepeatPolicy, Timer, Timing, measure
from cosim.errors import CosimInputError
from cosim.progress import CountedProgress
from workloads.trace_io import workload_to_dict

# Per-op time caps of each set: the quick set must finish in well under two minutes on a two-core CI machine.
TIME_CAPS_S = {"tiny": 0.05, "quick": 0.5, "full": 2.0}


@dataclass
class RunOutcome:
    """What a measurement run did: the file, rows written now, cases skipped (already measured or unsupported,
    with the reason), seconds spent, and whether it was interrupted."""

    path: Path
    written: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False


def measurement_row(case: Case, timing: Timing, env: Environment, clock_mhz: float, date: str) -> dict:
    """One row of the measurement table (see :mod:`cosim.calibration.schema`)."""
    energy = timing.energy_j
    return {
        "measurement_id": measurement_id(env.board, env.device_name, case.label, date),
        "board": env.board, "device_name": env.device_name, "scope": case.scope, "label": case.label,
        "op_kind": case.op_kind, "dtype": case.dtype,
        "workload_json": json.dumps(workload_to_dict(case.workload), sort_keys=True),
        "repetitions": timing.repetitions, "median_s": timing.median_s, "min_s": timing.min_s,
        "max_s": timing.max_s, "time_capped": timing.time_capped, "spread": timing.spread,
        "energy_j": energy if math.isfinite(energy) and energy > 0 else math.nan,
        "power_source": env.power_source if math.isfinite(energy) else "none",
        "threads": env.threads, "clock_mhz": clock_mhz, "host": env.host, "date": date,
        "cosim_version": env.cosim_version, "library_versions": env.versions_json(),
        "calls_per_sample": timing.calls_per_sample, "load_average": _load_average(),
    }


def _load_average() -> float:
    """The host's 1-minute load average when the row is written (other work competing for the cores)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return math.nan


def prepare_output(path: str | Path, resume: bool, overwrite: bool) -> Path:
    """Check the output file: an existing one needs ``resume`` (add what is missing) or ``overwrite``."""
    path = Path(path)
    if path.suffix != ".parquet":
        raise CosimInputError(f"output {path}: a measurement table is a .parquet file")
    if path.exists():
        if overwrite:
            path.unlink()
        elif not resume:
            raise CosimInputError(f"output {path} exists; pass --resume to measure only what it lacks, or "
                                  "--overwrite to start again")
        else:
            read_measurements(path)  # a bad file is an error before any time is spent
    return path


def _done(path: Path, env: Environment) -> set[str]:
    if not path.exists():
        return set()
    df = read_measurements(path)
    mine = df[(df["board"] == env.board) & (df["device_name"] == env.device_name)]
    return set(mine["label"])


def run_cases(cases: Iterable[Case], path: Path, env: Environment, lower: Callable, timer: Timer,
              policy: RepeatPolicy, progress: bool = True, clock_mhz: Callable[[], float] = lambda: math.nan,
              sampler: PowerSampler | None = None, unsupported: tuple[type[BaseException], ...] = (),
              after_case: Callable[[], object] = lambda: None) -> RunOutcome:
    """Measure ``cases`` one after the other, appending each row to ``path`` as soon as it is timed.
    ``lower(workload)`` returns the callable to time; it may raise one of ``unsupported`` to skip a case.
    ``after_case`` runs once each case's operands are released (e.g. to empty a device's cache)."""
    import time

    cases = list(cases)
    outcome = RunOutcome(path)
    done = _done(path, env)
    began = time.perf_counter()
    bar = CountedProgress(f"measure {env.board}", len(cases)) if progress else None
    try:
        for case in cases:
            if bar:
                bar.show(case.label)
            if case.label in done:
                outcome.skipped.append((case.label, "already measured"))
            else:
                timing, why = _time_case(case, lower, timer, policy, sampler, unsupported)
                if timing is None:
                    outcome.skipped.append((case.label, why))
                else:
                    append_measurements(path, [measurement_row(case, timing, env, clock_mhz(), utc_now())])
                    outcome.written += 1
                gc.collect()  # free this case's operands before the next is allocated
                after_case()
            if bar:
                bar.advance()
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        if bar:
            bar.stop()
        outcome.elapsed_s = time.perf_counter() - began
    return outcome


def _time_case(case: Case, lower: Callable, timer: Timer, policy: RepeatPolicy, sampler: PowerSampler | None,
               unsupported: tuple[type[BaseException], ...]) -> tuple[Timing | None, str]:
    """Lower and time one case; (None, why) when the backend cannot run it (unsupported, out of memory)."""
    try:
        return measure(lower(case.workload), timer, policy, sampler=sampler), ""
    except unsupported as exc:
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
