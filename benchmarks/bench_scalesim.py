"""Agreement of the spatial mapping search with SCALE-Sim 3.0.0 (tests/data/scalesim_NxN.csv, see tests/data/README.md).

Prints a markdown table: array, layer, dataflow, SCALE-Sim total_cycles, cosim cycles, error %, search time. Arrays
other than 32x32 run SCALE-Sim-32x32 with only the array size and the SRAM (scaled with the PE count, as in the
reference runs) overridden.
Usage: python benchmarks/bench_scalesim.py [path/to/scalesim_NxN.csv ...]   (default: the 32, 64 and 128 files)
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
from scalesim_reference import cosim_overrides, gemm_shape

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
DEFAULT_CSVS = [DATA / f"scalesim_{n}x{n}.csv" for n in (32, 64, 128)]


def main(argv=None) -> None:
    paths = [Path(p) for p in (argv or sys.argv[1:])] or DEFAULT_CSVS
    int8 = DTYPES.index("int8")
    print("| array | layer | df | M×N×K | SCALE-Sim cycles | cosim cycles | error % | cosim search |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    worst = 0.0
    for row in (r for path in paths for r in csv.DictReader(path.open())):
        params = np.asarray(load_hardware("SCALE-Sim-32x32", cosim_overrides(int(row["array"].split("x")[0]), row["df"])).params)
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
        print(f"| {row['array']} | {row['layer']} | {row['df']} | {m}×{n}×{k} | {ref} | {cycles:.0f} | {err:+.4f} | "
              f"{dt * 1e3:.2f} ms |")
    print(f"\nWorst |error|: {worst:.4f}%")


if __name__ == "__main__":
    main()
