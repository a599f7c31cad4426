"""Sweep throughput and memory: H100 × Llama-2-7B decode over batch × context × HBM bandwidth.

Usage: python benchmarks/bench_sweep.py [--runs 5] [--points-100k]
Reports design points per second (median of several in-process runs after a JIT warm-up, every point evaluated and
written to Parquet) and the peak resident memory of a whole `cosim sweep` process over 10,000 and 100,000 points.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from _timing import run_process  # noqa: E402


def make_config(n_bw: int, n_batch: int, n_ctx: int) -> dict:
    """A decode sweep with n_bw × n_batch × n_ctx points."""
    return {
        "name": f"bench-{n_bw * n_batch * n_ctx}",
        "hardware": [{"preset": "H100-SXM5-80GB",
                      "grid": {"memory.hbm_bandwidth_gbps": [1000 + 7000 * i / max(1, n_bw - 1) for i in range(n_bw)]}}],
        "workloads": [{"model": "llama-2-7b", "params": {"phase": "decode"},
                       "grid": {"batch": [1 + 4 * i for i in range(n_batch)],
                                "context": [128 + 160 * i for i in range(n_ctx)]}}],
    }


def per_point_rate(cosim) -> float:
    """Points per second when every point is a separate simulate() call (hardware and workload rebuilt)."""
    start = time.perf_counter()
    n = 0
    for bw in (2000, 3350, 4800, 6000, 8000):
        for batch in range(1, 201, 1):
            hw = cosim.load_hardware("H100-SXM5-80GB", overrides={"memory.hbm_bandwidth_gbps": bw})
            cosim.simulate(hw, cosim.load_workload("llama-2-7b", phase="decode", batch=batch, context=1024))
            n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=None)
    args = ap.parse_args()
    import cosim

    with tempfile.TemporaryDirectory() as tmp:
        cfg10k = make_config(20, 20, 25)
        cosim.sweep(make_config(2, 2, 2), output=Path(tmp) / "warm", jobs=args.jobs)  # JIT warm-up
        rates, feasible = [], 0
        for i in range(args.runs):
            start = time.perf_counter()
            outcome = cosim.sweep(cfg10k, output=Path(tmp) / f"run{i}", jobs=args.jobs)
            elapsed = time.perf_counter() - start
            rates.append(len(outcome.results) / elapsed)
            feasible = int(outcome.results["feasible"].sum())
        print(f"in-process sweep of {len(outcome.results)} points ({feasible} feasible), {args.runs} runs: "
              f"median {statistics.median(rates):,.0f} points/s (min {min(rates):,.0f}, max {max(rates):,.0f})")
        baseline = [per_point_rate(cosim) for _ in range(3)]
        print(f"baseline, one cosim.simulate() call per point (1,000 points, no batching): median "
              f"{statistics.median(baseline):,.0f} points/s; batched sweep / baseline = "
              f"{statistics.median(rates) / statistics.median(baseline):.1f}x")

        for n_bw, n_batch, n_ctx in ((20, 20, 25), (20, 50, 100)):
            cfg = make_config(n_bw, n_batch, n_ctx)
            path = Path(tmp) / f"{cfg['name']}.yaml"
            path.write_text(yaml.safe_dump(cfg))
            cmd = [sys.executable, "-m", "cosim.cli", "sweep", str(path), "-o", str(Path(tmp) / cfg["name"]),
                   "--no-progress", "--overwrite"]
            wall, peak = run_process(cmd)
            n = n_bw * n_batch * n_ctx
            print(f"whole process `cosim sweep` of {n:,} points: {wall:.2f} s wall ({n / wall:,.0f} points/s "
                  f"including start-up, plot and Parquet), peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
