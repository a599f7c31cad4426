"""Mapping search speed: evaluations per second, wall time to map whole networks, and JIT compile time.

    python benchmarks/bench_mapping.py [--runs 7]

1. Evaluations/s of the exhaustive search over big layers on a fine space (every multiple of the array side): one
   thread (``exhaustive_gemm``), both cores on one layer (``exhaustive_gemm_parallel``), and both cores in the
   batched engine kernel (``map_and_cost``, ``prange`` over (point, op) cells) on all 8 layers at once.
2. Wall time of ``map_and_cost`` for every layer of ResNet-50 and BERT-base (seq 512), int8, on Eyeriss-like and
   TPU-like, after JIT: default coarse space and the fine space (``max_tiles=0``, heuristic above the budget).
3. Compile time: the first call in a fresh process with an empty NUMBA_CACHE_DIR, against a process that loads the
   cache that run wrote.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

# (m, n, k) of big layers: ResNet-50 conv2_x 3x3 and stem, BERT-base (seq 512) MLP and QKV, a 4096^3 GEMM.
BIG_LAYERS = [(3136, 64, 576), (12544, 64, 147), (512, 3072, 768), (512, 768, 3072), (512, 2304, 768),
              (784, 128, 1152), (196, 256, 2304), (4096, 4096, 4096)]
NETWORKS = [("resnet-50", {"dtype": "int8"}), ("bert-base", {"seq_len": 512, "dtype": "int8"})]
PRESETS = ["Eyeriss-like", "TPU-like"]


def map_and_cost(table, params, objective, max_tiles=12, budget=400_000):
    """The driver's batched loop on the spatial kind with explicit search settings (no result cache)."""
    from mappings.driver import map_and_cost as driver

    return driver("spatial", table, params, objective, np.array([max_tiles, budget, 0], dtype=np.float64))


def _median(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times), value


def evaluations_per_second(runs: int) -> None:
    from cosim.api import load_hardware
    from hw_models.spatial import DTYPES
    from mappings.spatial_search import exhaustive_gemm, exhaustive_gemm_parallel
    from workloads.table import COL, COLUMNS

    int8 = DTYPES.index("int8")
    hw = load_hardware("Eyeriss-like", {"compute.dataflow": "free"})
    p = hw.params
    print(f"## evaluations/s — {hw.name} ({hw.spec.compute.pe_rows}x{hw.spec.compute.pe_cols}, dataflow free), "
          f"fine space (max_tiles=0), latency objective, median of {runs}")
    total_evals = 0
    for m, n, k in BIG_LAYERS:
        exhaustive_gemm(float(m), float(n), float(k), 1.0, 1.0, 1.0, 1.0, 1.0, int8, p, 0, 0, 5)  # JIT / warm
        med, lo, hi, (_, _, evals) = _median(
            lambda: exhaustive_gemm(float(m), float(n), float(k), 1.0, 1.0, 1.0, 1.0, 1.0, int8, p, 0, 0, 5), runs)
        total_evals += int(evals)
        print(f"  one thread  {m}x{n}x{k}: {int(evals):>9,} evaluations in {med * 1e3:8.2f} ms -> "
              f"{evals / med / 1e6:5.2f} M/s (min {evals / hi / 1e6:.2f}, max {evals / lo / 1e6:.2f})")
        exhaustive_gemm_parallel(float(m), float(n), float(k), 1.0, 1.0, 1.0, 1.0, 1.0, int8, p, 0, 0, 5)
        med, lo, hi, (_, _, evals) = _median(lambda: exhaustive_gemm_parallel(
            float(m), float(n), float(k), 1.0, 1.0, 1.0, 1.0, 1.0, int8, p, 0, 0, 5), runs)
        print(f"  both cores  {m}x{n}x{k}: {int(evals):>9,} evaluations in {med * 1e3:8.2f} ms -> "
              f"{evals / med / 1e6:5.2f} M/s (min {evals / hi / 1e6:.2f}, max {evals / lo / 1e6:.2f})")
    table = np.zeros((len(BIG_LAYERS), len(COLUMNS)))
    for i, (m, n, k) in enumerate(BIG_LAYERS):
        table[i, [COL["m"], COL["n"], COL["k"]]] = m, n, k
        table[i, [COL["batch"], COL["w_count"], COL["a_unique"], COL["count"]]] = 1.0
        table[i, [COL["a_bytes"], COL["w_bytes"], COL["o_bytes"]]] = 1.0
        table[i, COL["dtype"]] = int8
    params = np.atleast_2d(p)
    map_and_cost(table, params, 0, 0, 10**9)
    med, lo, hi, _ = _median(lambda: map_and_cost(table, params, 0, 0, 10**9), runs)
    print(f"  both cores  all {len(BIG_LAYERS)} layers in one batched call: {total_evals:,} evaluations in "
          f"{med * 1e3:.2f} ms -> {total_evals / med / 1e6:.2f} M/s (min {total_evals / hi / 1e6:.2f}, "
          f"max {total_evals / lo / 1e6:.2f})")


def network_wall_times(runs: int) -> None:
    from cosim.api import load_hardware, load_workload
    from workloads.table import op_table

    print(f"## wall time to map every layer (map_and_cost, one point, after JIT, median of {runs})")
    for preset in PRESETS:
        hw = load_hardware(preset)
        params = np.atleast_2d(hw.params)
        for name, kw in NETWORKS:
            wl = load_workload(name, **kw)
            table = op_table(wl)
            for label, args in (("coarse (default)", ()), ("fine (max_tiles=0)", (0,))):
                map_and_cost(table, params, 0, *args)
                med, lo, hi, raw = _median(lambda: map_and_cost(table, params, 0, *args), runs)
                ok = bool(np.isfinite(raw[0, :, 0]).all())
                print(f"  {preset:13s} {name:10s} {len(wl.ops):4d} ops, {label:19s}: {med:8.4f} s "
                      f"(min {lo:.4f}, max {hi:.4f}){'' if ok else '  SOME OPS UNMAPPABLE'}")


_FIRST_CALL = """
import time, numpy as np
start = time.perf_counter()
from cosim.api import load_hardware, load_workload
from mappings.driver import map_and_cost as driver
map_and_cost = lambda table, params, objective: driver("spatial", table, params, objective, (12, 400_000, 0))
from workloads.table import op_table
imported = time.perf_counter()
hw = load_hardware("TPU-like")
table = op_table(load_workload("bert-base", seq_len=512, dtype="int8"))
map_and_cost(table, np.atleast_2d(hw.params), 0)
print(f"{imported - start:.3f} {time.perf_counter() - imported:.3f}")
"""


def compile_times() -> None:
    print("## JIT: first map_and_cost call in a fresh process (import s, first call s)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("empty cache (compiles)", "warm cache (loads)", "warm cache (loads)"):
            out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True,
                                 cwd=ROOT, check=True).stdout.split()
            print(f"  {label:24s}: import {float(out[0]):6.2f} s, first call {float(out[1]):6.2f} s")


def heuristic_gaps(shapes: int = 120) -> None:
    """Best heuristic score / exhaustive optimum on fine spaces, per objective and budget."""
    from cosim.api import load_hardware
    from hw_models.spatial import DTYPES
    from mappings.spatial_search import exhaustive_gemm, heuristic_gemm

    int8 = DTYPES.index("int8")
    rng = np.random.default_rng(11)
    print(f"## heuristic gap: 16x16 free-dataflow array, {shapes} random GEMMs (dims 64-2047), buffers 16/64/256 KB")
    for objective, name in enumerate(("latency", "energy", "edp")):
        for budget in (2000, 20000):
            gaps = []
            for _ in range(shapes):
                hw = load_hardware("SCALE-Sim-32x32", {"compute.pe_rows": 16, "compute.pe_cols": 16,
                                                       "compute.dataflow": "free",
                                                       "memory.global_buffer_kib": float(rng.choice([16, 64, 256]))})
                m, n, k = (float(v) for v in rng.integers(64, 2048, size=3))
                args = (m, n, k, 1.0, 1.0, 1.0, 1.0, 1.0, int8, hw.params, objective, 0)
                exact = exhaustive_gemm(*args, 1)[1][0]
                heur = heuristic_gemm(*args, 3, budget, 32, 0)[1][0]
                gaps.append(heur / exact)
            g = np.array(gaps)
            print(f"  {name:7s} budget {budget:6,}: exact {np.mean(g <= 1 + 1e-12):.0%}, median {np.median(g):.3f}, "
                  f"p90 {np.quantile(g, 0.9):.3f}, max {g.max():.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--skip-jit", action="store_true", help="skip the fresh-process compile measurement")
    ap.add_argument("--gaps", action="store_true", help="only measure the heuristic's gap to the exhaustive optimum")
    args = ap.parse_args()
    if args.gaps:
        heuristic_gaps()
        return
    evaluations_per_second(args.runs)
    network_wall_times(args.runs)
    if not args.skip_jit:
        compile_times()


if __name__ == "__main__":
    main()
