"""The CPU kind: a server, desktop or laptop processor running ML ops through a BLAS library and numpy-style loops.

A preset gives:

- ``compute``: cores, hardware threads per core (SMT), the sustained all-core clock, the SIMD peak per core per cycle of
  each datatype (FLOPs, or int8 operations), and the scalar issue rate with the cycles of long-latency scalar operations
  (divide, square root, exponential) for ``kernel`` ops;
- ``memory``: per-core L1 and L2, a shared last-level L3 (0: none), each with its bandwidth in bytes per core-cycle,
  and DRAM: capacity, peak bandwidth, the line size, the misses one core keeps in flight and the load latency
  (Little's law: one core alone reaches at most misses × line / latency);
- ``runtime``: the threads BLAS runs GEMMs and convolutions with, the threads elementwise / norm / softmax loops run with
  (numpy: 1), the BLAS register tile, the achieved fractions, overheads and per-block cost that calibration fits, and
  the scalar-loop rates of datatypes the library has no SIMD kernel for (numpy: float16, integer matmul);
- ``power`` and ``energy``: idle power, energy per FLOP of each datatype, per scalar instruction, per byte at each
  level.

Datatypes a preset's SIMD rates omit run at the fp32 rate (converted on load, as a core without AVX-512 BF16 runs
bf16); int4 runs as int8 when the core has int8 dot products, fp32 otherwise. fp32 and fp64 are required. Where the
software has no SIMD kernel for a datatype at all (numpy converts float16 element by element; its integer matmul
bypasses BLAS), the preset gives that datatype's scalar-loop rate in ``runtime.scalar_fallback_*``. The cost model is in ``hw_models.cpu_kernels``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hw_models.effects import Effect
from hw_models.kind import HardwareKind, renamed_bounds
from hw_models.spec_base import PerDtype, Strict
from workloads.dtypes import DTYPE_BITS

DTYPES = tuple(DTYPE_BITS)  # kernel dtype codes follow this order
# A datatype without a native SIMD rate runs in the first one of its chain the preset gives.
FALLBACK = {"fp64": ["fp64"], "fp32": ["fp32"], "tf32": ["tf32", "fp32"], "fp16": ["fp16", "fp32"],
            "bf16": ["bf16", "fp32"], "fp8": ["fp8", "fp32"], "int8": ["int8", "fp32"], "int4": ["int4", "int8", "fp32"]}
LEVELS = ("L1", "L2", "L3", "DRAM")  # where an op's working set is served from (map_0 of the cost record)


class CPUCompute(Strict):
    cores: int = Field(gt=0)
    threads_per_core: int = Field(gt=0)  # SMT: hardware threads share their core's SIMD units
    clock_mhz: float = Field(gt=0)  # sustained all-core clock under vector load
    flops_per_cycle_per_core: PerDtype  # SIMD peak (an FMA counts 2; int8: multiply + add per element)
    scalar_ops_per_cycle: float = Field(gt=0)  # scalar instructions issued per cycle per core (ALU, FP, load/store)
    div_cycles: float = Field(gt=0)  # reciprocal throughput of a scalar divide
    sqrt_cycles: float = Field(gt=0)
    exp_cycles: float = Field(gt=0)  # a scalar libm exp call

    @model_validator(mode="after")
    def _required_dtypes(self):
        missing = [d for d in ("fp32", "fp64") if getattr(self.flops_per_cycle_per_core, d) is None]
        if missing:
            raise ValueError(f"flops_per_cycle_per_core needs {', '.join(missing)}: other datatypes fall back to fp32")
        return self


class CPUMemory(Strict):
    l1_kib_per_core: float = Field(gt=0)
    l1_bytes_per_cycle: float = Field(gt=0)  # per core (loads + stores the core sustains)
    l2_kib_per_core: float = Field(gt=0)
    l2_bytes_per_cycle: float = Field(gt=0)  # L2 -> L1 fill per core
    l3_mib: float = Field(ge=0)  # shared last-level cache (0: none)
    l3_bytes_per_cycle: float = Field(gt=0)  # L3 -> L2 per core
    # share of the L3 the modelled threads keep: 1 alone on the processor; less in a virtual machine or container whose
    # neighbours on the same cache keep the rest busy
    l3_share: float = Field(gt=0, le=1)
    dram_capacity_gb: float = Field(gt=0)
    dram_bandwidth_gbps: float = Field(gt=0)  # peak of all channels
    line_bytes: float = Field(gt=0)
    misses_in_flight_per_core: float = Field(gt=0)  # outstanding line fills one core sustains (MSHRs)
    dram_latency_ns: float = Field(gt=0)  # load-to-use latency of a DRAM access


class CPURuntime(Strict):
    gemm_threads: int = Field(gt=0)  # threads BLAS splits a GEMM / convolution over (at most)
    gemm_macs_per_thread: float = Field(gt=0)  # BLAS starts one thread per this many multiply-adds of a GEMM call
    stream_threads: int = Field(gt=0)  # threads of elementwise, norm, softmax, gather and scalar loops (numpy: 1)
    gemm_tile_m: int = Field(gt=0)  # BLAS micro-kernel register tile (rows of C)
    gemm_tile_n: int = Field(gt=0)  # (columns of C)
    gemm_efficiency: float = Field(gt=0, le=1)  # fraction of SIMD peak the micro-kernel reaches on a long K loop
    gemm_block_overhead_k: float = Field(ge=0)  # per-tile cost (C load/store, packing) in K-iterations of that tile
    stream_efficiency: float = Field(gt=0, le=1)  # fraction of SIMD peak elementwise loops reach
    cache_bandwidth_efficiency: float = Field(gt=0, le=1)  # achieved fraction of a cache level's bandwidth
    dram_bandwidth_efficiency: float = Field(gt=0, le=1)  # achieved fraction of the DRAM bandwidth
    dispatch_us: float = Field(ge=0)  # per-op call overhead (interpreter, library dispatch)
    thread_sync_us: float = Field(ge=0)  # fork/join of an op that runs on more than one thread
    softmax_flops_per_score: float = Field(ge=0)  # max, subtract, exp, sum, divide per attention score
    # An unfused library (numpy, eager frameworks) runs each elementary operation of a streaming op as its own call:
    # one pass over memory (and one dispatch) per operation per element instead of one fused pass.
    unfused_elementwise: bool
    transcendental_cycles_per_element: float = Field(gt=0)  # a vectorised exp / tanh per element, on one core
    reduction_cycles_per_element: float = Field(gt=0)  # a row reduction (max, sum, mean) per element, on one core
    # BLAS packs a GEMM's A and B operands into contiguous panels before its micro-kernel runs (a GEMV, m or n = 1,
    # is not packed): bytes packed per cycle per active core
    gemm_pack_bytes_per_cycle: float = Field(gt=0)
    # GEMMs of at most this many multiply-adds run the BLAS's small-matrix kernel instead: unpacked, on one thread
    gemm_small_macs: float = Field(ge=0)
    conv_im2col: bool  # a convolution first copies its input windows into a column matrix (im2col), then one GEMM
    copy_run_cycles: float = Field(ge=0)  # a strided copy's cost per contiguous run (the library's inner-loop call)
    # Datatypes the library has no SIMD kernel for (numpy: float16 arithmetic, integer matmul) run in a single-threaded
    # scalar loop at this rate (FLOP per cycle); a datatype left out runs on the SIMD units at the rates above.
    scalar_fallback_gemm_flops_per_cycle: PerDtype = PerDtype()
    scalar_fallback_stream_flops_per_cycle: PerDtype = PerDtype()


class CPUPower(Strict):
    idle_w: float = Field(ge=0)


class CPUEnergy(Strict):
    e_pj_per_flop: PerDtype  # SIMD energy per FLOP incl. register file and L1 operand traffic of the micro-kernel
    e_scalar_op_pj: float = Field(ge=0)  # one scalar instruction (an issue slot)
    e_l1_pj_per_byte: float = Field(ge=0)
    e_l2_pj_per_byte: float = Field(ge=0)
    e_l3_pj_per_byte: float = Field(ge=0)
    e_dram_pj_per_byte: float = Field(ge=0)

    @model_validator(mode="after")
    def _fp32_energy(self):
        if self.e_pj_per_flop.fp32 is None:
            raise ValueError("e_pj_per_flop.fp32 is required: datatypes without their own energy use it")
        return self


class CPUSpec(Strict):
    """A CPU preset after validation (units are in the field names)."""

    name: str
    kind: Literal["cpu"]
    description: str = ""
    compute: CPUCompute
    memory: CPUMemory
    runtime: CPURuntime
    power: CPUPower
    energy: CPUEnergy


P_NAMES = (["cores", "threads_per_core", "clock_hz"] + [f"peak_{d}" for d in DTYPES]
           + ["scalar_ipc", "div_cycles", "sqrt_cycles", "exp_cycles"]
           + ["l1_bytes", "l1_bpc", "l2_bytes", "l2_bpc", "l3_bytes", "l3_bpc", "dram_bytes", "dram_bw", "line_bytes",
              "misses", "dram_latency_s"]
           + ["gemm_threads", "macs_per_thread", "stream_threads", "tile_m", "tile_n", "gemm_eff", "block_k",
              "stream_eff", "cache_eff", "dram_eff", "dispatch_s", "sync_s", "softmax_flops", "unfused",
              "transcendental_cycles", "reduction_cycles", "pack_bpc", "small_macs", "im2col", "copy_run_cycles"]
           + [f"fallback_gemm_{d}" for d in DTYPES] + [f"fallback_stream_{d}" for d in DTYPES]
           + ["idle_w"] + [f"e_flop_{d}" for d in DTYPES]
           + ["e_scalar_op", "e_l1_byte", "e_l2_byte", "e_l3_byte", "e_dram_byte"])
P = {name: i for i, name in enumerate(P_NAMES)}


def resolved_dtype(values: PerDtype, dtype: str) -> str:
    """The datatype ``dtype`` runs in on a core whose native rates are ``values``."""
    return next(c for c in FALLBACK[dtype] if getattr(values, c) is not None)


def pack_params(spec: CPUSpec) -> np.ndarray:
    """The kernels' float64 parameter vector in SI units (Hz, bytes, B/s, s, W, J)."""
    c, m, r, e = spec.compute, spec.memory, spec.runtime, spec.energy
    v = np.zeros(len(P_NAMES))
    v[P["cores"]], v[P["threads_per_core"]], v[P["clock_hz"]] = c.cores, c.threads_per_core, c.clock_mhz * 1e6
    for d in DTYPES:
        run_in = resolved_dtype(c.flops_per_cycle_per_core, d)
        v[P[f"peak_{d}"]] = getattr(c.flops_per_cycle_per_core, run_in)
        energy = getattr(e.e_pj_per_flop, run_in)
        v[P[f"e_flop_{d}"]] = (energy if energy is not None else e.e_pj_per_flop.fp32) * 1e-12
    v[P["scalar_ipc"]], v[P["div_cycles"]] = c.scalar_ops_per_cycle, c.div_cycles
    v[P["sqrt_cycles"]], v[P["exp_cycles"]] = c.sqrt_cycles, c.exp_cycles
    v[P["l1_bytes"]], v[P["l1_bpc"]] = m.l1_kib_per_core * 1024, m.l1_bytes_per_cycle
    v[P["l2_bytes"]], v[P["l2_bpc"]] = m.l2_kib_per_core * 1024, m.l2_bytes_per_cycle
    v[P["l3_bytes"]], v[P["l3_bpc"]] = m.l3_mib * 1024 * 1024 * m.l3_share, m.l3_bytes_per_cycle
    v[P["dram_bytes"]], v[P["dram_bw"]] = m.dram_capacity_gb * 1e9, m.dram_bandwidth_gbps * 1e9
    v[P["line_bytes"]], v[P["misses"]] = m.line_bytes, m.misses_in_flight_per_core
    v[P["dram_latency_s"]] = m.dram_latency_ns * 1e-9
    v[P["gemm_threads"]], v[P["stream_threads"]] = r.gemm_threads, r.stream_threads
    v[P["macs_per_thread"]] = r.gemm_macs_per_thread
    v[P["tile_m"]], v[P["tile_n"]] = r.gemm_tile_m, r.gemm_tile_n
    v[P["gemm_eff"]], v[P["block_k"]] = r.gemm_efficiency, r.gemm_block_overhead_k
    v[P["stream_eff"]], v[P["cache_eff"]], v[P["dram_eff"]] = (r.stream_efficiency, r.cache_bandwidth_efficiency,
                                                               r.dram_bandwidth_efficiency)
    v[P["dispatch_s"]], v[P["sync_s"]] = r.dispatch_us * 1e-6, r.thread_sync_us * 1e-6
    v[P["softmax_flops"]] = r.softmax_flops_per_score
    v[P["unfused"]], v[P["transcendental_cycles"]] = float(r.unfused_elementwise), r.transcendental_cycles_per_element
    v[P["pack_bpc"]], v[P["im2col"]] = r.gemm_pack_bytes_per_cycle, float(r.conv_im2col)
    v[P["small_macs"]], v[P["reduction_cycles"]] = r.gemm_small_macs, r.reduction_cycles_per_element
    v[P["copy_run_cycles"]] = r.copy_run_cycles
    for d in DTYPES:  # 0: the datatype has a SIMD kernel
        v[P[f"fallback_gemm_{d}"]] = getattr(r.scalar_fallback_gemm_flops_per_cycle, d) or 0.0
        v[P[f"fallback_stream_{d}"]] = getattr(r.scalar_fallback_stream_flops_per_cycle, d) or 0.0
    v[P["idle_w"]] = spec.power.idle_w
    v[P["e_scalar_op"]] = e.e_scalar_op_pj * 1e-12
    v[P["e_l1_byte"]], v[P["e_l2_byte"]] = e.e_l1_pj_per_byte * 1e-12, e.e_l2_pj_per_byte * 1e-12
    v[P["e_l3_byte"]], v[P["e_dram_byte"]] = e.e_l3_pj_per_byte * 1e-12, e.e_dram_pj_per_byte * 1e-12
    return v


_FASTER = Effect(latency="down", energy="down")  # less time: less static energy, dynamic energy unchanged
_SLOWER = Effect(latency="up", energy="up")
_LEVEL = "the level an op's working set is served from changes when it starts or stops fitting"
_LEVEL_ENERGY = ("a working set served from another level pays that level's energy per byte (a preset need not order "
                 "them)")
_THREADS = ("work is split over threads in whole register tiles (ceil); threads beyond the cores share a core's SIMD "
            "units; an op on more than one thread pays a fork/join")
EFFECTS = {
    "compute.cores": Effect(
        latency="any", energy="any", steps=_THREADS + "; " + _LEVEL,
        why="more cores run more threads at full rate and add private cache capacity and bandwidth, but an op "
            "split over more threads pays a fork/join and more tile padding; " + _LEVEL_ENERGY),
    "compute.threads_per_core": Effect(
        latency="any", energy="any", steps=_THREADS,
        why="more hardware threads let more software threads run, each at a share of its core's SIMD rate: the "
            "tile split over threads is coarser or finer"),
    "compute.clock_mhz": _FASTER,
    "compute.flops_per_cycle_per_core.*": _FASTER,
    "compute.scalar_ops_per_cycle": _FASTER,
    "compute.*_cycles": _SLOWER,
    "memory.*_kib_per_core": Effect(latency="down", energy="any", steps=_LEVEL,
                                    why="a larger cache serves more working sets; " + _LEVEL_ENERGY),
    "memory.l3_mib": Effect(latency="down", energy="any", steps=_LEVEL,
                            why="a larger cache serves more working sets; " + _LEVEL_ENERGY),
    "memory.l3_share": Effect(latency="down", energy="any", steps=_LEVEL,
                              why="a larger share of the L3 serves more working sets; " + _LEVEL_ENERGY),
    "memory.*_bytes_per_cycle": _FASTER,
    "memory.dram_capacity_gb": Effect(capacity="up", feasible="up"),
    "memory.dram_bandwidth_gbps": _FASTER,
    "memory.line_bytes": _FASTER,  # each miss in flight brings a longer line (Little's law)
    "memory.misses_in_flight_per_core": _FASTER,
    "memory.dram_latency_ns": _SLOWER,
    "runtime.gemm_threads": Effect(
        latency="any", energy="any", steps=_THREADS + "; " + _LEVEL,
        why="more BLAS threads run more tiles at once and reach more private cache, but pay a fork/join, and threads "
            "beyond the cores share their SIMD units; " + _LEVEL_ENERGY),
    "runtime.gemm_macs_per_thread": Effect(
        latency="any", energy="any", steps="whole threads: a GEMM call gets floor(MACs / this) of them",
        why="a higher threshold runs small GEMMs on fewer threads: no fork/join, but less parallel compute, "
            "bandwidth and private cache"),
    "runtime.stream_threads": Effect(
        latency="any", energy="any", steps=_THREADS + "; " + _LEVEL,
        why="more loop threads add compute and bandwidth but pay a fork/join; " + _LEVEL_ENERGY),
    "runtime.gemm_tile_*": Effect(
        latency="any", energy="any", steps="tiles split over the threads in whole tiles (ceil)",
        why="a larger register tile leaves fewer, larger tiles: the split over the threads may get more or less "
            "even; static energy follows the time"),
    "runtime.*_efficiency": _FASTER,
    "runtime.gemm_block_overhead_k": _SLOWER,
    "runtime.dispatch_us": _SLOWER,
    "runtime.thread_sync_us": _SLOWER,
    "runtime.softmax_flops_per_score": Effect(
        latency="up", energy="up", steps="an unfused library's passes are whole: one per operation (ceil)"),
    "runtime.unfused_elementwise": Effect(
        latency="up", energy="up", steps="passes are whole: one per elementary operation; " + _LEVEL,
        why="an unfused library makes one pass over memory and one call per operation of a streaming op; "
            + _LEVEL_ENERGY),
    "runtime.transcendental_cycles_per_element": _SLOWER,
    "runtime.reduction_cycles_per_element": _SLOWER,
    "runtime.gemm_pack_bytes_per_cycle": _FASTER,
    "runtime.gemm_small_macs": Effect(
        latency="any", energy="any", steps="a GEMM is either at most this size (small kernel) or not",
        why="a GEMM the small-matrix kernel takes skips packing but runs on one thread"),
    "runtime.conv_im2col": Effect(latency="up", energy="up",
                                  why="the column matrix is copied (and its bytes moved) before the GEMM"),
    "runtime.copy_run_cycles": _SLOWER,
    "runtime.scalar_fallback_*": _FASTER,
    "power.idle_w": Effect(energy="up"),
    "energy.*": Effect(energy="up"),
}

# Dotted preset paths calibration fits: achieved fractions, per-tile cost, overheads, library per-element costs, idle
# power and energies; never a peak (clock, SIMD width, bandwidth, capacity), so a fit stays below the datasheet.
FITTABLE = ("memory.l3_share", "runtime.gemm_efficiency", "runtime.gemm_block_overhead_k", "runtime.stream_efficiency",
            "runtime.cache_bandwidth_efficiency", "runtime.dram_bandwidth_efficiency", "runtime.dispatch_us",
            "runtime.thread_sync_us", "runtime.transcendental_cycles_per_element", "runtime.reduction_cycles_per_element",
            "runtime.gemm_pack_bytes_per_cycle",
            "runtime.copy_run_cycles", "power.idle_w", "energy.e_pj_per_flop.fp32", "energy.e_dram_pj_per_byte")

KIND = HardwareKind("cpu", CPUSpec, pack_params, P, capacity_param="dram_bytes", idle_param="idle_w",
                    bound_names=renamed_bounds({"l2": "cache", "launch": "dispatch"}), effects=EFFECTS,
                    fittable=FITTABLE)
