"""Kernel compile cost per device kind: the first ``simulate`` in a fresh process with an empty Numba cache (compiles)
and with the cache that run wrote (loads).

    python benchmarks/bench_compile.py [--root PATH] [--kinds gpu,spatial,...]

``--root`` points at another checkout of the repository (to measure a previous version the same way).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {"gpu": ("A100-SXM4-80GB", "bert-base"), "spatial": ("TPU-like", "bert-base"),
         "pim": ("NeuPIMs-PIM", "bert-base"), "logic_pim": ("Duplex-Logic-PIM", "bert-base"),
         "iot": ("GAP8", "ds-cnn-s")}
_FIRST_CALL = """
import sys, time
start = time.perf_counter()
from cosim.api import load_hardware, load_workload, simulate
hw, wl = load_hardware(sys.argv[1]), load_workload(sys.argv[2])
imported = time.perf_counter()
simulate(hw, wl)
print(f"{imported - start:.3f} {time.perf_counter() - imported:.3f}")
"""


def first_call(root: Path, cache: str, preset: str, workload: str) -> tuple[float, float]:
    """(import + load s, first simulate s) in a fresh process using ``cache`` as the Numba cache."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(root))
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL, preset, workload], env=env, capture_output=True,
                         text=True, cwd=root, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=ROOT)
    ap.add_argument("--kinds", default=",".join(CASES))
    args = ap.parse_args()
    print(f"## first simulate() per kind, {args.root}: cold = empty Numba cache, warm = the cache that run wrote")
    for kind in args.kinds.split(","):
        preset, workload = CASES[kind]
        with tempfile.TemporaryDirectory() as cache:
            _, cold = first_call(args.root, cache, preset, workload)
            warm = min(first_call(args.root, cache, preset, workload)[1] for _ in range(2))
        print(f"  {kind:10s} {preset:18s} {workload:10s}: cold {cold:7.2f} s, warm {warm:6.3f} s")


if __name__ == "__main__":
    main()
