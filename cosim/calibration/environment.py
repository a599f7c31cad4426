"""What machine a measurement ran on: device name, clock, threads, library versions (numpy and its BLAS), host,
date. Everything is read from the running system; what cannot be read is NaN or ``unknown``, never guessed."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Environment:
    """The identity of a board run, shared by every row it writes."""

    board: str
    device_name: str
    threads: int
    clock_mhz: float = math.nan
    host: str = field(default_factory=socket.gethostname)
    cosim_version: str = ""
    library_versions: dict[str, Any] = field(default_factory=dict)
    power_source: str = "none"

    def __post_init__(self) -> None:
        if not self.cosim_version:
            self.cosim_version = cosim_version()

    def versions_json(self) -> str:
        return json.dumps(self.library_versions, sort_keys=True)


def utc_now() -> str:
    """The current time as ISO 8601 UTC with microseconds (``2026-01-31T12:00:00.123456+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat()


def cosim_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cosim-hw")
    except PackageNotFoundError:
        return "unknown"


def cpu_model_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what :mod:`platform` reports)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_clock_mhz(sysfs: Path = Path("/sys/devices/system/cpu/cpu0/cpufreq"),
                  cpuinfo: Path = Path("/proc/cpuinfo")) -> float:
    """Current clock of CPU 0 in MHz: cpufreq's ``scaling_cur_freq`` (kHz), else ``cpu MHz`` of /proc/cpuinfo,
    else NaN."""
    try:
        return int((sysfs / "scaling_cur_freq").read_text()) / 1e3
    except (OSError, ValueError):
        pass
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("cpu mhz"):
                return float(line.split(":", 1)[1])
    except (OSError, ValueError):
        pass
    return math.nan


def blas_info() -> dict[str, Any]:
    """numpy's BLAS: name, version and thread count from threadpoolctl when installed (what is loaded), else from
    ``numpy.show_config`` (what numpy was built against)."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return {"blas": p.get("internal_api", "unknown"), "blas_version": p.get("version") or "unknown",
                    "blas_threads": int(p.get("num_threads", 0)), "blas_architecture": p.get("architecture") or "",
                    "blas_source": "threadpoolctl"}
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"blas": blas.get("name", "unknown"), "blas_version": blas.get("version", "unknown"),
                "blas_threads": 0, "blas_source": "numpy.show_config"}
    except Exception:  # older numpy without mode="dicts"
        return {"blas": "unknown", "blas_version": "unknown", "blas_threads": 0, "blas_source": "none"}


def host_environment() -> Environment:
    """The host CPU as a board: model name, clock, BLAS threads (else usable cores), numpy and BLAS versions."""
    import numpy as np

    blas = blas_info()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    versions = {"numpy": np.__version__, "python": platform.python_version(), "os": platform.platform(),
                "logical_cpus": cores, **blas}
    return Environment(board="host-cpu", device_name=cpu_model_name(), threads=blas["blas_threads"] or cores,
                       clock_mhz=cpu_clock_mhz(), library_versions=versions)
