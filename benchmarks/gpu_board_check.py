"""Measure the GPU of this machine with the `cuda` board in one go, from a checkout, installing nothing.

    python benchmarks/gpu_board_check.py [--set quick|full] [--time-cap S]

Writes $OUT/measurements_cuda.parquet (or ./measurements_cuda.parquet without $OUT) and prints each row's time,
GFLOP/s, GB/s and energy. Needs torch (with CUDA), numpy, pandas, pyarrow, pydantic and pyyaml; nvidia-ml-py for
power and clocks (without it energy is NaN). Rows are appended as they finish, so a run cut short keeps them;
rerun with --resume to measure the rest.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEEDED = ("torch", "numpy", "pandas", "pyarrow", "pydantic", "yaml")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", dest="which", choices=("tiny", "quick", "full"), default="quick")
    p.add_argument("--time-cap", type=float, default=None, metavar="S")
    p.add_argument("--resume", action="store_true")
    args = p.parse_args()
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing:
        print(f"gpu_board_check: missing Python modules: {', '.join(missing)}", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from cosim.calibration.cuda import measure_cuda
    from cosim.calibration.rates import achieved_rates
    from cosim.calibration.schema import read_measurements

    out = Path(os.environ.get("OUT", ".")) / "measurements_cuda.parquet"
    began = time.perf_counter()
    outcome = measure_cuda(out, args.which, resume=args.resume, overwrite=not args.resume, progress=False,
                           time_cap_s=args.time_cap)
    table = read_measurements(out)
    rates = achieved_rates(table).assign(energy_mj=table["energy_j"] * 1e3, clock_mhz=table["clock_mhz"])
    print(rates.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for label, why in outcome.skipped:
        print(f"skipped {label}: {why}")
    print(f"{table['device_name'].iloc[0]}: {outcome.written} rows in {time.perf_counter() - began:.0f} s -> {out}")
    return 130 if outcome.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
