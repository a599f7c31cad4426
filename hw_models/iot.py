"""The IoT core template: a cluster of N in-order cores sharing a multi-banked L1 scratchpad, fed from L2 by a DMA.

PULP clusters (GAP8, PULP-OPEN) and single-core MCUs (Cortex-M4F: one core, its SRAM as "L1") are instances (a
server or laptop CPU is the ``cpu`` kind, ``hw_models.cpu``). A preset gives:

- ``compute``: cores, an operating point (clock, voltage) and its DVFS limit, cycle costs per instruction class
  (with a pipelined load behind another load and the loop control each loop iteration costs without hardware loops),
  the packed-SIMD width (int8 MACs per dot-product instruction), and how floating point runs: on ``fpus`` native FPUs
  shared by the cores (``fp_mode: fpu``) or through a software emulation library (``emulation-standard``, e.g.
  libgcc soft-float, or ``emulation-optimized``, a target-tuned library), each with cycles per FP operation;
- ``parallel``: fork/join and barrier costs of the runtime;
- ``memory``: L1 size and banks, L2 size, DMA bandwidth and set-up cost, an optional off-chip L3;
- ``energy``: energy per active core-cycle at the reference voltage (dynamic energy scales with V²), per L1 access,
  per L2 and L3 byte, and leakage power at the reference voltage (scaled linearly with V).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from hw_models.effects import Effect
from hw_models.spec_base import Strict
from hw_models.kind import HardwareKind, renamed_bounds

FP_MODES = ("fpu", "emulation-standard", "emulation-optimized")
FP_OPS = ("add", "mul", "div", "cmp", "exp", "sqrt", "fma")


class FPCycles(Strict):
    """Cycles of one single-precision operation (a call into the library for emulation, incl. call overhead)."""

    add: float = Field(gt=0)
    mul: float = Field(gt=0)
    div: float = Field(gt=0)
    cmp: float = Field(gt=0)
    exp: float = Field(gt=0)
    sqrt: float = Field(gt=0)
    fma: float = Field(gt=0)  # a multiply-accumulate (fused when the FPU has FMA, else mul + add)


class IotCycles(Strict):
    """Cycles per integer-side instruction class (issue to issue, incl. typical stalls). There is no scalar MAC
    class: integer GEMMs run on the packed-SIMD dot product, float GEMMs on the FMA, and scalar kernels count their
    multiplies and adds separately."""

    alu: float = Field(gt=0)
    mul: float = Field(gt=0)
    div: float = Field(gt=0)
    load: float = Field(gt=0)
    store: float = Field(gt=0)
    branch: float = Field(ge=0)  # extra cycles of the conditional branch that follows a compare
    simd_dot: float = Field(gt=0)  # one packed-SIMD dot-product instruction
    # A load right behind another load (a run of independent loads pipelines; the first costs ``load``).
    load_next: float = Field(gt=0)
    # Loop control per iteration of a counted loop (counter update and the backward branch; 0 with hardware loops).
    loop: float = Field(ge=0)


class IotCompute(Strict):
    cores: int = Field(gt=0)
    clock_mhz: float = Field(gt=0)
    voltage_v: float = Field(gt=0)
    max_clock_mhz: float = Field(gt=0)  # at max_clock_voltage_v
    max_clock_voltage_v: float = Field(gt=0)
    threshold_voltage_v: float = Field(ge=0)  # f_max(V) = max_clock · (V − Vth) / (V_max_clock − Vth) (alpha-power, α=1)
    int8_macs_per_simd: int = Field(gt=0)  # int8 MACs per dot-product instruction (4 on RI5CY)
    fpus: int = Field(ge=0)  # native FPUs shared by the cores (0: none)
    fp_mode: Literal["fpu", "emulation-standard", "emulation-optimized"]
    cycles: IotCycles
    fpu_cycles: FPCycles | None = None
    emulation_standard_cycles: FPCycles
    emulation_optimized_cycles: FPCycles
    register_block_outputs: int = Field(gt=0)  # outputs a GEMM inner loop keeps in registers (rows)
    register_block_channels: int = Field(gt=0)  # (columns)
    # Integer approximation of an attention score's exponential (integer datatypes): instructions per score.
    int_exp_alu_ops: float = Field(default=4, ge=0)
    int_exp_loads: float = Field(default=2, ge=0)


class IotParallel(Strict):
    fork_join_cycles: float = Field(ge=0)
    barrier_cycles: float = Field(ge=0)
    # The serial merge of the per-core partial sums: L1 accesses per partial merged (running sum and partial loaded,
    # sum stored).
    merge_loads_per_partial: float = Field(default=2, ge=0)
    merge_stores_per_partial: float = Field(default=1, ge=0)


class IotMemory(Strict):
    l1_kib: float = Field(gt=0)
    l1_banks: int = Field(gt=0)
    l2_kib: float = Field(ge=0)
    dma_bytes_per_cycle: float = Field(gt=0)
    dma_setup_cycles: float = Field(ge=0)
    l3_mib: float = Field(ge=0)
    l3_bandwidth_mbps: float = Field(ge=0)  # MB/s


class IotEnergy(Strict):
    reference_voltage_v: float = Field(gt=0)
    e_core_cycle_pj: float = Field(ge=0)  # one active core-cycle at the reference voltage
    e_l1_access_pj: float = Field(ge=0)
    e_l2_pj_per_byte: float = Field(ge=0)
    e_l3_pj_per_byte: float = Field(ge=0)
    leakage_w: float = Field(ge=0)  # whole cluster/chip at the reference voltage


class IotSpec(Strict):
    """An IoT-core preset after validation (units are in the field names)."""

    name: str
    kind: Literal["iot"]
    description: str = ""
    compute: IotCompute
    parallel: IotParallel
    memory: IotMemory
    energy: IotEnergy


_INT = ("alu", "mul", "div", "load", "store", "branch", "simd_dot", "load_next", "loop")
P_NAMES = (["cores", "clock_hz", "max_clock_hz", "simd_macs", "fpus", "fp_native", "rb_m", "rb_n"]
           + [f"c_{c}" for c in _INT] + [f"fp_{o}" for o in FP_OPS]
           + ["fork_join", "barrier", "l1_bytes", "l1_banks", "l2_bytes", "dma_bpc", "dma_setup", "l3_bytes",
              "l3_bw", "memory_bytes", "e_cycle", "e_l1", "e_l2_byte", "e_l3_byte", "leakage_w"]
           + ["int_exp_alu", "int_exp_loads", "merge_loads", "merge_stores"])
P = {name: i for i, name in enumerate(P_NAMES)}


def max_clock_hz(spec: IotSpec) -> float:
    """Highest clock at the operating voltage: linear in the overdrive V − Vth (alpha-power law with α = 1)."""
    c = spec.compute
    span = c.max_clock_voltage_v - c.threshold_voltage_v
    return max(0.0, c.max_clock_mhz * 1e6 * (c.voltage_v - c.threshold_voltage_v) / span) if span > 0 else \
        c.max_clock_mhz * 1e6


def fp_cycles(spec: IotSpec) -> FPCycles | None:
    """The FP cycle table of the preset's ``fp_mode`` (None: FPU mode on a core without FPU)."""
    c = spec.compute
    if c.fp_mode == "fpu":
        return c.fpu_cycles if c.fpus > 0 else None
    return c.emulation_standard_cycles if c.fp_mode == "emulation-standard" else c.emulation_optimized_cycles


def pack_params(spec: IotSpec) -> np.ndarray:
    """The kernels' float64 parameter vector in SI units (Hz, bytes, B/s, J, W); energies at the operating voltage."""
    c, m, e = spec.compute, spec.memory, spec.energy
    v = np.zeros(len(P_NAMES))
    v[P["cores"]], v[P["clock_hz"]], v[P["max_clock_hz"]] = c.cores, c.clock_mhz * 1e6, max_clock_hz(spec)
    v[P["simd_macs"]], v[P["fpus"]] = c.int8_macs_per_simd, c.fpus
    v[P["rb_m"]], v[P["rb_n"]] = c.register_block_outputs, c.register_block_channels
    v[P["int_exp_alu"]], v[P["int_exp_loads"]] = c.int_exp_alu_ops, c.int_exp_loads
    for name in _INT:
        v[P[f"c_{name}"]] = getattr(c.cycles, name)
    table = fp_cycles(spec)
    v[P["fp_native"]] = 1.0 if c.fp_mode == "fpu" else 0.0
    for op in FP_OPS:
        v[P[f"fp_{op}"]] = getattr(table, op) if table is not None else np.inf
    v[P["fork_join"]], v[P["barrier"]] = spec.parallel.fork_join_cycles, spec.parallel.barrier_cycles
    v[P["merge_loads"]] = spec.parallel.merge_loads_per_partial
    v[P["merge_stores"]] = spec.parallel.merge_stores_per_partial
    v[P["l1_bytes"]], v[P["l1_banks"]] = m.l1_kib * 1024, m.l1_banks
    v[P["l2_bytes"]] = m.l2_kib * 1024
    v[P["dma_bpc"]], v[P["dma_setup"]] = m.dma_bytes_per_cycle, m.dma_setup_cycles
    v[P["l3_bytes"]], v[P["l3_bw"]] = m.l3_mib * 1024 * 1024, m.l3_bandwidth_mbps * 1e6
    v[P["memory_bytes"]] = v[P["l2_bytes"]] + v[P["l3_bytes"]] if m.l2_kib > 0 else v[P["l1_bytes"]] + v[P["l3_bytes"]]
    scale = (c.voltage_v / e.reference_voltage_v) ** 2  # dynamic energy ∝ C·V²
    v[P["e_cycle"]] = e.e_core_cycle_pj * 1e-12 * scale
    v[P["e_l1"]] = e.e_l1_access_pj * 1e-12 * scale
    v[P["e_l2_byte"]] = e.e_l2_pj_per_byte * 1e-12 * scale
    v[P["e_l3_byte"]] = e.e_l3_pj_per_byte * 1e-12
    v[P["leakage_w"]] = e.leakage_w * c.voltage_v / e.reference_voltage_v  # assumption: leakage current ~ const
    return v


def operating_point_check(params: np.ndarray) -> np.ndarray:
    """Per point, '' when the operating point is legal, else why not (clock above the DVFS limit, FPU mode without
    an FPU)."""
    params = np.atleast_2d(params)
    out = np.full(params.shape[0], "", dtype=object)
    for i, row in enumerate(params):
        problems = []
        if row[P["clock_hz"]] > row[P["max_clock_hz"]] * (1 + 1e-9):
            problems.append(f"clock {row[P['clock_hz']] / 1e6:.0f} MHz > {row[P['max_clock_hz']] / 1e6:.0f} MHz "
                            f"allowed at this voltage")
        if row[P["fp_native"]] > 0.5 and not np.isfinite(row[P["fp_add"]]):
            problems.append("fp_mode 'fpu' on a cluster without FPU (fpus = 0)")
        if problems:
            out[i] = "operating point: " + "; ".join(problems)
    return out


_FASTER = Effect(latency="down", energy="down")  # fewer active cycles, less leakage time
_SLOWER = Effect(latency="up", energy="up")
_BLOCKS = "output blocks, and the units of a scalar kernel, are spread over the cores whole (ceil per core)"
EFFECTS = {
    "compute.cores": Effect(
        latency="any", energy="any", capacity="up", feasible="up", steps=_BLOCKS,
        why="more cores split the parallel work, but each adds a partial sum the serial merge must add (slower on "
            "tiny kernels), more L1 bank conflicts and active fork/join cycles; memories sized per core grow"),
    "compute.clock_mhz": Effect(latency="down", energy="down", feasible="down"),  # above the DVFS limit: no mapping
    "compute.voltage_v": Effect(energy="up", feasible="up"),  # dynamic energy ~ V^2, leakage ~ V; higher f_max
    "compute.max_clock_mhz": Effect(feasible="up"),
    "compute.max_clock_voltage_v": Effect(feasible="down"),  # the same f_max reached only at a higher voltage
    "compute.threshold_voltage_v": Effect(feasible="down"),  # less overdrive V - Vth: lower f_max
    "compute.int8_macs_per_simd": Effect(latency="down", energy="down", steps="K steps per dot product (ceil)"),
    "compute.fpus": _FASTER,
    "compute.register_block_*": Effect(
        latency="any", energy="any", steps="whole register blocks per output (ceil)",
        why="a larger register block reuses each loaded operand more, but pads a small dimension (a GEMV's one "
            "row) to the block"),
    "compute.*": _SLOWER,  # cycle counts of instruction classes, FP operations and the integer exponential
    "parallel.*": _SLOWER,
    "memory.l1_kib": Effect(
        latency="down", energy="any", capacity="up", feasible="up",
        why="a larger L1 admits larger tiles; the fastest tiling may move more bytes by DMA"),
    "memory.l1_banks": _FASTER,
    "memory.l2_kib": Effect(latency="down", energy="down", capacity="up", feasible="up"),
    "memory.dma_bytes_per_cycle": _FASTER,
    "memory.dma_setup_cycles": _SLOWER,
    "memory.l3_mib": Effect(capacity="up", feasible="up"),
    "memory.l3_bandwidth_mbps": _FASTER,
    "energy.reference_voltage_v": Effect(energy="down"),  # per-event energies are given at this voltage
    "energy.*": Effect(energy="up"),
}

KIND = HardwareKind("iot", IotSpec, pack_params, P, capacity_param="memory_bytes", idle_param="leakage_w",
                    bound_names=renamed_bounds({"l2": "dma", "memory": "l3"}), check=operating_point_check,
                    effects=EFFECTS)
