"""Latency of small BLAS calls with numpy's BLAS at 1 thread and at its default thread count, side by side.

Usage: python benchmarks/blas_threads.py [--calls 200]
Why: on a machine whose idle BLAS worker threads wake slowly (the 2-vCPU VM this repository is tested on), every
threaded call pays the wake-up, so timings of threaded GEMMs are bimodal and the CPU model's fork/join parameter
cannot describe them. Prints median and 90th percentile per shape and thread count (interleaved, same process).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

SHAPES = [(1, 1024, 1024), (8, 1024, 1024), (128, 128, 128), (512, 512, 512)]


def _times(a: np.ndarray, b: np.ndarray, calls: int) -> np.ndarray:
    a @ b
    out = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        a @ b
        out[i] = time.perf_counter() - start
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    default = blas[0]["num_threads"] if blas else 1
    print(f"BLAS: {blas[0].get('internal_api', '?')} {blas[0].get('version', '?')}, default threads {default}"
          if blas else "BLAS: not found")
    rng = np.random.default_rng(0)
    for m, n, k in SHAPES:
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        for threads in (1, default):
            with threadpool_limits(limits=threads, user_api="blas"):
                t = _times(a, b, args.calls)
            print(f"matmul {m}x{n}x{k} fp32, {threads} thread(s): median {np.median(t) * 1e6:9.1f} us, "
                  f"p90 {np.percentile(t, 90) * 1e6:9.1f} us")


if __name__ == "__main__":
    main()
