"""Helpers for benchmark scripts: run a command several times in fresh processes, report medians and peak RSS."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time


def run_process(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"benchmark command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak_kib, before) / 1024.0


def median_runs(cmd: list[str], runs: int, warmup: int = 1) -> dict[str, float]:
    """Median, min and max wall time over ``runs`` fresh processes after ``warmup`` uncounted ones."""
    for _ in range(warmup):
        run_process(cmd)
    walls = [run_process(cmd)[0] for _ in range(runs)]
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls), "runs": runs}
