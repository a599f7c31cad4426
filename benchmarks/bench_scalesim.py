"""Agreement of the spatial mapping search with SCALE-Sim 3.0.0 on a 32x32 array (shared/reference/scalesim_32x32.csv).

Prints a markdown table: layer, dataflow, SCALE-Sim total_cycles, cosim cycles, error %, search time.
Usage: python benchmarks/bench_scalesim.py [path/to/scalesim_32x32.csv]
"""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path

import numpy as np

from hw_models.hardware import load_hardware
from hw_models.cost import O_TIME
from hw_models.spatial import DTYPES, P
from mappings.spatial_search import DEFAULT_BUDGET, DEFAULT_MAX_TILES, search_gemm

DEFAULT_CSV = Path("/work/shared/reference/scalesim_32x32.csv")


def gemm_shape(row: dict) -> tuple[int, int, int]:
    """(M, N, K); conv rows are pre-padded: output = (ifmap - filter) / stride + 1, M = pixels, K = R·S·C."""
    if row["kind"] == "gemm":
        return int(row["M"]), int(row["N"]), int(row["K"])
    out = (int(row["ifmap_hw_padded"]) - int(row["filter_rs"])) // int(row["stride"]) + 1
    return out * out, int(row["num_filters"]), int(row["filter_rs"]) ** 2 * int(row["channels"])


def main(argv=None) -> None:
    path = Path((argv or sys.argv[1:] or [DEFAULT_CSV])[0])
    int8 = DTYPES.index("int8")
    print("| layer | df | M×N×K | SCALE-Sim cycles | cosim cycles | error % | cosim search |")
    print("|---|---|---|---:|---:|---:|---:|")
    worst = 0.0
    for row in csv.DictReader(path.open()):
        params = np.asarray(load_hardware("SCALE-Sim-32x32", {"compute.dataflow": row["df"]}).params)
        params = params.reshape(-1, len(P))[0]
        m, n, k = gemm_shape(row)
        args = (m, n, k, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, int8, params, 0, DEFAULT_MAX_TILES, 1, DEFAULT_BUDGET, 0)
        search_gemm(*args)  # JIT / cache load outside the timing
        t0 = time.perf_counter()
        top, _, _ = search_gemm(*args)
        dt = time.perf_counter() - t0
        cycles = top[0][O_TIME] * params[P["clock_hz"]]
        ref = int(row["total_cycles"])
        err = 100.0 * (cycles - ref) / ref
        worst = max(worst, abs(err))
        print(f"| {row['layer']} | {row['df']} | {m}×{n}×{k} | {ref} | {cycles:.0f} | {err:+.4f} | "
              f"{dt * 1e3:.2f} ms |")
    print(f"\nWorst |error|: {worst:.4f}%")


if __name__ == "__main__":
    main()
