"""Sweep throughput of heterogeneous devices: NeuPIMs (NPU + PIM, two interleaved sub-batches) and Duplex (xPU +
Logic-PIM, ops placed with batch splits).

Usage: python benchmarks/bench_hetero.py [--runs 5] [--only neupims|duplex|duplex-gpt3] [--workloads N]
                                        [--skip-sweep]
Two figures per sweep, each the median of ``--runs`` in-process runs in points/s after a warm-up that loads the
compiled kernels; every run starts with the process-wide result caches emptied (as a fresh sweep does):
- evaluation: ``cosim.engine.evaluate_points`` called as the sweep runner calls it, once per workload variant with
  one parameter row per hardware variant (hardware and workloads built beforehand, as the runner builds them once);
- whole sweep: ``cosim.sweep`` end to end (config checks, loading every preset variant and workload, evaluation,
  Parquet, the Pareto plot and summary).
``--workloads N`` keeps the first N of the 50 workload variants (for slow code: 40 × N points).

- NeuPIMs × GPT-3 13B decode, tensor parallel 4 (the NeuPIMs evaluation): PIM multipliers per bank (4) × NPU arrays
  (5) × PIM clock (2) = 40 hardware variants, × batch (10) × context (5) = 2,000 points.
- Duplex × Mixtral-8x7B decode, tensor parallel 4 (the Duplex evaluation): Logic-PIM internal bandwidth multiplier
  (4) × xPU HBM bandwidth (10) = 40 hardware variants, × batch (10) × context (5) = 2,000 points. Mixtral's op list
  has 940 ops (each layer's experts are separate ops, as its routing differs by layer), against 17 for GPT-3.
- Duplex × GPT-3 13B decode, tensor parallel 4: the same hardware grid and workload grid as NeuPIMs.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's cosim, not an installed one

BATCHES = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512]
CONTEXTS = [128, 228, 512, 1024, 1536]


def neupims_config() -> dict:
    """NeuPIMs × GPT-3 13B TP4 decode: 40 hardware variants × 50 workload variants."""
    return {
        "name": "bench-neupims",
        "hardware": [{"preset": "NeuPIMs",
                      "grid": {"units.pim.organization.multipliers_per_bank": [4, 8, 16, 32],
                               "units.npu.compute.arrays": [2, 4, 8, 12, 16],
                               "units.pim.organization.pim_clock_mhz": [1000, 1200]}}],
        "workloads": [{"model": "gpt3-13b", "params": {"phase": "decode", "tensor_parallel": 4},
                       "grid": {"batch": BATCHES, "context": CONTEXTS}}],
    }


def duplex_config() -> dict:
    """Duplex × Mixtral-8x7B TP4 decode: 40 hardware variants × 50 workload variants."""
    return {
        "name": "bench-duplex",
        "hardware": [{"preset": "Duplex",
                      "grid": {"units.lpim.memory.internal_bandwidth_multiplier": [2, 4, 8, 16],
                               "units.xpu.memory.hbm_bandwidth_gbps": [1500 + 500 * i for i in range(10)]}}],
        "workloads": [{"model": "mixtral-8x7b", "params": {"phase": "decode", "tensor_parallel": 4},
                       "grid": {"batch": BATCHES, "context": CONTEXTS}}],
    }


def duplex_gpt3_config() -> dict:
    """Duplex × GPT-3 13B TP4 decode: the Duplex hardware grid over the NeuPIMs workload grid."""
    return {**duplex_config(), "name": "bench-duplex-gpt3", "workloads": neupims_config()["workloads"]}


def warmup_config(cfg: dict) -> dict:
    """The same sweep cut to one hardware and two workload variants (loads presets and compiled kernels)."""
    small = {**cfg, "name": cfg["name"] + "-warm"}
    small["hardware"] = [{"preset": cfg["hardware"][0]["preset"]}]
    entry = cfg["workloads"][0]
    params = {k: v for k, v in entry["params"].items() if k not in ("batch", "context")}
    small["workloads"] = [{"model": entry["model"], "params": params,
                           "grid": {"batch": BATCHES[:2], "context": CONTEXTS[:1]}}]
    return small


def first_workloads(cfg: dict, n: int) -> dict:
    """``cfg`` with its workload grid cut to the first ``n`` (batch, context) variants, listed one entry each."""
    entry = cfg["workloads"][0]
    variants = list(itertools.product(BATCHES, CONTEXTS))[:n]
    workloads = [{"model": entry["model"], "params": {**entry["params"], "batch": b, "context": c}}
                 for b, c in variants]
    return {**cfg, "workloads": workloads}


def evaluation_rates(cfg: dict, runs: int) -> list[float]:
    """Points/s of ``runs`` passes of ``evaluate_points`` over every design point of ``cfg``, called as the runner
    calls it."""
    import numpy as np

    from cosim.config import hardware_points, validate_config, workload_points
    from cosim.engine import evaluate_points
    from cosim.hetero import clear_caches
    from hw_models.hardware import load_hardware
    from workloads import load_workload
    from workloads.table import op_table

    parsed = validate_config(cfg)
    hws = [load_hardware(h.preset, dict(h.overrides)) for h in hardware_points(parsed)]
    matrix = np.stack([h.params for h in hws])
    workloads = [load_workload(w.model, **dict(w.params)) for w in workload_points(parsed)]
    tables = [op_table(w) for w in workloads]
    evaluate_points(hws[0], workloads[0], matrix[:2], parsed.objective, tables[0])  # warm-up
    rates = []
    for _ in range(runs):
        clear_caches()  # each run starts with empty result caches, as a fresh sweep process does
        start = time.perf_counter()
        for workload, table in zip(workloads, tables):
            evaluate_points(hws[0], workload, matrix, parsed.objective, table)
        rates.append(len(hws) * len(workloads) / (time.perf_counter() - start))
    return rates


def measure(cosim, cfg: dict, runs: int, tmp: Path) -> tuple[list[float], int, int]:
    """Points/s of ``runs`` in-process sweeps of ``cfg``; also the point and feasible counts."""
    cosim.sweep(warmup_config(cfg), output=tmp / f"{cfg['name']}-warm")
    from cosim.hetero import clear_caches

    rates = []
    for i in range(runs):
        clear_caches()  # each run starts with empty result caches, as a fresh sweep process does
        start = time.perf_counter()
        outcome = cosim.sweep(cfg, output=tmp / f"{cfg['name']}-{i}")
        rates.append(len(outcome.results) / (time.perf_counter() - start))
    return rates, len(outcome.results), int(outcome.results["feasible"].sum())


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _summary(rates: list[float]) -> str:
    return (f"median {_rate(statistics.median(rates))} points/s (min {_rate(min(rates))}, "
            f"max {_rate(max(rates))})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", choices=("neupims", "duplex", "duplex-gpt3"))
    ap.add_argument("--skip-sweep", action="store_true", help="only the evaluation figure")
    ap.add_argument("--workloads", type=int, default=len(BATCHES) * len(CONTEXTS))
    args = ap.parse_args()
    import cosim

    configs = {"neupims": neupims_config(), "duplex": duplex_config(), "duplex-gpt3": duplex_gpt3_config()}
    with tempfile.TemporaryDirectory() as tmp:
        for key, cfg in configs.items():
            if args.only and key != args.only:
                continue
            if args.workloads < len(BATCHES) * len(CONTEXTS):
                cfg = first_workloads(cfg, args.workloads)
            if not args.skip_sweep:
                rates, n, feasible = measure(cosim, cfg, args.runs, Path(tmp))
                print(f"{cfg['name']}: whole in-process sweep of {n:,} points ({feasible:,} feasible), "
                      f"{args.runs} runs: {_summary(rates)}", flush=True)
            print(f"{cfg['name']}: evaluation (evaluate_points per workload variant), {args.runs} runs: "
                  f"{_summary(evaluation_rates(cfg, args.runs))}", flush=True)


if __name__ == "__main__":
    main()
