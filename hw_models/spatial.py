"""The spatial-accelerator template: a PE array, a memory hierarchy and a dataflow constraint.

Systolic NPUs (TPU-like), row-stationary arrays (Eyeriss-like), FPGA PE arrays and multicore microcontroller clusters
are instances. The hierarchy has four levels:

- ``register``: per-PE operand registers (the stationary operand of a fold lives here; one operand per PE by
  construction of the dataflows, so only their per-access energy is a parameter);
- ``local_buffer``: an optional per-PE scratchpad (0 bytes when absent) that keeps a stationary tile across folds;
- ``global_buffer``: the shared on-chip SRAM that holds the tiles of all operands the preset lets it hold;
- ``dram``: off-chip DRAM/HBM.

A vector unit executes the non-GEMM ops (softmax, norms, activations).
"""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
from pydantic import Field

from hw_models.effects import Effect
from hw_models.spec_base import PerDtype, Strict
from hw_models.kind import HardwareKind, renamed_bounds

from workloads.dtypes import DTYPE_BITS

DTYPES = tuple(DTYPE_BITS)
DATAFLOWS = ("os", "ws", "is", "free")




class SpatialCompute(Strict):
    pe_rows: int = Field(gt=0)
    pe_cols: int = Field(gt=0)
    arrays: int = Field(default=1, gt=0)  # identical arrays (cores) working on independent tiles
    clock_mhz: float = Field(gt=0)
    macs_per_pe_per_cycle: PerDtype
    dataflow: Literal["os", "ws", "is", "free"]
    systolic: bool  # operands skew through the array: each fold pays fill and drain cycles
    vector_lanes: int = Field(gt=0)
    vector_ops_per_lane_per_cycle: float = Field(gt=0)
    softmax_ops_per_score: float = Field(default=5, ge=0)  # vector-unit operations per attention score
    # Attention may run as one fused dataflow (scores kept in the global buffer, softmax on the vector unit pipelined
    # with the two GEMMs; see hw_models.spatial_attention); off, it runs as two GEMMs whose scores go through DRAM.
    fused_attention: bool = False
    # Register-file events of one MAC: operand reads (input and weight) and partial-sum updates (read-modify-write).
    register_operand_reads_per_mac: float = Field(default=2, ge=0)
    register_partial_sum_updates_per_mac: float = Field(default=1, ge=0)
    # A systolic weight- (input-) stationary array whose PEs hold a second stationary operand: the next fold's weights
    # (inputs) shift in while the current fold streams, and folds follow each other through the array without
    # draining it between them (fill, drain and the first load are paid once per op).
    stationary_double_buffered: bool = False


class SpatialMemory(Strict):
    local_buffer_kib_per_pe: float = Field(ge=0)
    global_buffer_kib: float = Field(gt=0)
    global_buffer_bandwidth_bytes_per_cycle: float = Field(gt=0)
    global_buffer_holds: list[Literal["input", "weight", "output"]] = Field(min_length=1)
    double_buffering: bool
    dram_capacity_gb: float = Field(gt=0)
    dram_bandwidth_gbps: float = Field(gt=0)


class SpatialEnergy(Strict):
    e_mac_pj: PerDtype
    e_register_pj_per_access: float = Field(ge=0)
    e_local_buffer_pj_per_byte: float = Field(ge=0)
    e_global_buffer_pj_per_byte: float = Field(ge=0)
    # When set, the buffer energy above is for a buffer of this size and scales with sqrt(size / reference): SRAM
    # access energy grows with the square root of capacity (wire length across the array).
    e_global_buffer_reference_kib: Optional[float] = Field(default=None, gt=0)
    e_dram_pj_per_bit: float = Field(ge=0)
    e_vector_pj_per_op: float = Field(ge=0)


class SpatialPower(Strict):
    static_w: float = Field(ge=0)


class SpatialSpec(Strict):
    """A spatial-accelerator preset after validation (units are in the field names)."""

    name: str
    kind: Literal["spatial"]
    description: str = ""
    compute: SpatialCompute
    memory: SpatialMemory
    energy: SpatialEnergy
    power: SpatialPower


# Parameter vector layout shared with the Numba kernels.
P_NAMES = (
    ["rows", "cols", "arrays", "clock_hz", "dataflow", "systolic", "vector_ops_per_cycle"]
    + [f"macs_{d}" for d in DTYPES] + [f"e_mac_{d}" for d in DTYPES]
    + ["local_bytes", "gb_bytes", "gb_bw_bytes_per_cycle", "gb_holds_input", "gb_holds_weight",
       "gb_holds_output", "double_buffering", "dram_bytes", "dram_bw",
       "e_reg", "e_local_byte", "e_gb_byte", "e_dram_byte", "e_vector_op", "static_w", "softmax_ops_per_score",
       "reg_accesses_per_mac", "fused_attention", "stationary_db"]
)
P = {name: i for i, name in enumerate(P_NAMES)}

_FALLBACK = {"int4": ["int4", "int8", "fp16"], "int8": ["int8", "fp16"], "fp8": ["fp8", "fp16", "bf16"],
             "bf16": ["bf16", "fp16"], "fp16": ["fp16", "bf16", "fp32"], "tf32": ["tf32", "fp32", "fp16"],
             "fp32": ["fp32", "fp16"], "fp64": ["fp64", "fp32"]}


def _resolve(values: PerDtype, d: str) -> Optional[str]:
    return next((c for c in _FALLBACK[d] if getattr(values, c) is not None), None)


def pack_params(spec: SpatialSpec) -> np.ndarray:
    """The kernels' float64 parameter vector in SI units (Hz, bytes, B/s, J, W)."""
    c, m, e = spec.compute, spec.memory, spec.energy
    v = np.zeros(len(P_NAMES))
    v[P["rows"]], v[P["cols"]], v[P["arrays"]] = c.pe_rows, c.pe_cols, c.arrays
    v[P["clock_hz"]] = c.clock_mhz * 1e6
    v[P["dataflow"]] = DATAFLOWS.index(c.dataflow)
    v[P["systolic"]] = 1.0 if c.systolic else 0.0
    v[P["vector_ops_per_cycle"]] = c.vector_lanes * c.vector_ops_per_lane_per_cycle
    v[P["softmax_ops_per_score"]] = c.softmax_ops_per_score
    v[P["fused_attention"]] = 1.0 if c.fused_attention else 0.0
    for d in DTYPES:
        chosen = _resolve(c.macs_per_pe_per_cycle, d)
        v[P[f"macs_{d}"]] = getattr(c.macs_per_pe_per_cycle, chosen) if chosen else 0.0
        e_chosen = _resolve(e.e_mac_pj, d) if chosen is None else (chosen if getattr(e.e_mac_pj, chosen) else
                                                                    _resolve(e.e_mac_pj, d))
        v[P[f"e_mac_{d}"]] = (getattr(e.e_mac_pj, e_chosen) if e_chosen else 0.0) * 1e-12
    v[P["local_bytes"]] = m.local_buffer_kib_per_pe * 1024
    v[P["gb_bytes"]] = m.global_buffer_kib * 1024
    v[P["gb_bw_bytes_per_cycle"]] = m.global_buffer_bandwidth_bytes_per_cycle
    for operand in ("input", "weight", "output"):
        v[P[f"gb_holds_{operand}"]] = 1.0 if operand in m.global_buffer_holds else 0.0
    v[P["double_buffering"]] = 1.0 if m.double_buffering else 0.0
    v[P["dram_bytes"]] = m.dram_capacity_gb * 1e9
    v[P["dram_bw"]] = m.dram_bandwidth_gbps * 1e9
    v[P["e_reg"]] = e.e_register_pj_per_access * 1e-12
    v[P["e_local_byte"]] = e.e_local_buffer_pj_per_byte * 1e-12
    scale = (m.global_buffer_kib / e.e_global_buffer_reference_kib) ** 0.5 if e.e_global_buffer_reference_kib else 1.0
    v[P["e_gb_byte"]] = e.e_global_buffer_pj_per_byte * 1e-12 * scale
    v[P["e_dram_byte"]] = e.e_dram_pj_per_bit * 8e-12
    v[P["e_vector_op"]] = e.e_vector_pj_per_op * 1e-12
    v[P["static_w"]] = spec.power.static_w
    v[P["reg_accesses_per_mac"]] = c.register_operand_reads_per_mac + c.register_partial_sum_updates_per_mac
    v[P["stationary_db"]] = 1.0 if c.stationary_double_buffered else 0.0
    return v


# Mechanisms behind the effects that are not monotone (shared with the FPGA kind, whose designs lower to this template).
SEARCH = ("the mapping search minimises latency (near-ties broken by energy), so a change that makes one mapping "
          "cheaper can select another that moves more bytes or runs longer at static power")
ARRAY = ("a bigger array does each fold's work in fewer folds, but every fold of a systolic array pays rows + cols "
         "skew cycles of fill and drain and a small layer leaves PEs idle, so a larger array can be slower; the tile "
         "granularity is the array's smaller side, so tiles, folds and the legal mappings change too")
FOLDS = "folds and tiles are whole numbers: a ceil over folds, arrays or tile trips moves in steps"
TILES = "the largest tile that fits the buffer is a whole number of array-sized blocks: tiling changes in steps"
SEARCH_STEPS = ("where the search switches between two equally fast mappings, latency is continuous but energy steps "
                "to the other mapping's")
FUSED = ("the search keeps the two-GEMM attention as a candidate, so fusing never slows an op, but the fastest "
         "mapping may spend more energy (vector work of KV tiling, static power of a longer but cheaper mapping)")

EFFECTS = {
    "compute.pe_rows": Effect(latency="any", energy="any", feasible="any", why=ARRAY + "; " + SEARCH,
                              steps=FOLDS),
    "compute.pe_cols": Effect(latency="any", energy="any", feasible="any", why=ARRAY + "; " + SEARCH,
                              steps=FOLDS),
    "compute.arrays": Effect(latency="down", energy="any", feasible="up", why=SEARCH, steps=FOLDS),
    "compute.clock_mhz": Effect(latency="down", energy="any", why=SEARCH, steps=SEARCH_STEPS),
    "compute.macs_per_pe_per_cycle.*": Effect(latency="down", energy="any", feasible="up", why=SEARCH,
                                              steps=FOLDS),
    "compute.vector_lanes": Effect(latency="down", energy="down"),
    "compute.vector_ops_per_lane_per_cycle": Effect(latency="down", energy="down"),
    "compute.softmax_ops_per_score": Effect(latency="up", energy="up"),
    "compute.register_*_per_mac": Effect(energy="up"),
    "compute.fused_attention": Effect(latency="down", energy="any", why=FUSED),
    "memory.local_buffer_kib_per_pe": Effect(latency="down", energy="any", why=SEARCH, steps=SEARCH_STEPS),
    "memory.global_buffer_kib": Effect(latency="down", energy="any", feasible="up",
                                       why=SEARCH + "; with a reference size, buffer energy per byte grows with the "
                                       "square root of capacity", steps=TILES),
    "memory.global_buffer_bandwidth_bytes_per_cycle": Effect(latency="down", energy="any", why=SEARCH,
                                                             steps=SEARCH_STEPS),
    "memory.dram_capacity_gb": Effect(capacity="up", feasible="up"),
    "memory.dram_bandwidth_gbps": Effect(latency="down", energy="any", why=SEARCH, steps=SEARCH_STEPS),
    "energy.e_global_buffer_reference_kib": Effect(energy="down"),
    "energy.*": Effect(energy="up"),
    "power.static_w": Effect(energy="up"),
}

KIND = HardwareKind("spatial", SpatialSpec, pack_params, P, capacity_param="dram_bytes", idle_param="static_w",
                    bandwidth_param="dram_bw", bound_names=renamed_bounds({"l2": "buffer"}), effects=EFFECTS)
