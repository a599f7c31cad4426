"""FPGA accelerators: a part (DSP, BRAM36, URAM, LUT, FF, DDR) and a design placed on it (a DSP PE array, on-chip
buffers built from BRAM/URAM, a clock).

The design is an instance of the spatial template (:mod:`hw_models.spatial`): ``to_spatial`` derives the PE array,
global buffer and per-event energies from the FPGA description, so layers run through the same mapping search.
Resources the design uses are packed next to the spatial parameters; ``resource_check`` reports the first resource
that overflows the part, and the engine marks such points infeasible with that reason.

Power follows vendor estimators (Xilinx XPE / Vivado ``report_power``): static power of the part plus, per used
resource, a dynamic power per MHz at full activity × toggle rate × clock. 1 µW/MHz is 1 pJ per cycle, so a resource's
figure × toggle rate is its energy per active cycle: a PE's DSP, LUT and FF energy per cycle divided by its MACs per
cycle is the energy per MAC; a BRAM/URAM port's per-cycle energy over the 8 data bytes it moves is the buffer energy
per byte. Energy then follows the work actually done (idle PEs of a memory-bound layer do not toggle).
"""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from hw_models.effects import Effect
from hw_models.spatial import ARRAY, FOLDS, FUSED, SEARCH, SEARCH_STEPS, TILES
from hw_models.spatial import P as SP
from hw_models.spatial import P_NAMES as SPATIAL_NAMES
from hw_models.spatial import SpatialSpec
from hw_models.spatial import pack_params as pack_spatial
from hw_models.spec_base import PerDtype, Strict
from hw_models.kind import HardwareKind, renamed_bounds

BRAM36_BYTES = 36 * 1024 / 8  # 36 Kb per tile (UG573)
URAM_BYTES = 288 * 1024 / 8  # 288 Kb per block (UG573)
PORT_BYTES = 8  # 72-bit port, 64 data bits; two ports per BRAM36/URAM (UG573)
RESOURCES = ("dsp", "bram36", "uram", "lut", "ff")


class FPGAPart(Strict):
    dsp_slices: int = Field(gt=0)
    bram36_tiles: int = Field(ge=0)
    uram_blocks: int = Field(ge=0)
    luts: int = Field(gt=0)
    flip_flops: int = Field(gt=0)
    macs_per_dsp_per_cycle: PerDtype  # unpacked; int8 packing is a design choice
    int8_packed_macs_per_dsp: float = Field(gt=0)
    ddr_bandwidth_gbps: float = Field(gt=0)
    ddr_capacity_gb: float = Field(gt=0)


class FPGADesign(Strict):
    pe_rows: int = Field(gt=0)
    pe_cols: int = Field(gt=0)
    dsps_per_pe: int = Field(gt=0)
    int8_packing: bool  # two int8 MACs sharing an operand per DSP (Xilinx WP486)
    clock_mhz: float = Field(gt=0)
    dataflow: Literal["os", "ws", "is", "free"]
    systolic: bool
    buffer_bram36_tiles: int = Field(ge=0)
    buffer_uram_blocks: int = Field(ge=0)
    global_buffer_holds: list[Literal["input", "weight", "output"]] = Field(min_length=1)
    double_buffering: bool
    fused_attention: bool = False  # attention as one dataflow with scores on chip (hw_models.spatial_attention)
    vector_lanes: int = Field(gt=0)
    luts_per_pe: float = Field(ge=0)
    ffs_per_pe: float = Field(ge=0)
    luts_per_vector_lane: float = Field(ge=0)
    control_luts: float = Field(ge=0)
    control_ffs: float = Field(ge=0)
    control_bram36_tiles: int = Field(ge=0)


class FPGAPower(Strict):
    static_w: float = Field(ge=0)
    toggle_rate: float = Field(gt=0, le=1)
    dsp_uw_per_mhz: float = Field(ge=0)
    bram36_port_uw_per_mhz: float = Field(ge=0)
    uram_port_uw_per_mhz: Optional[float] = Field(default=None, ge=0)  # required when the part has URAM
    lut_uw_per_mhz: float = Field(ge=0)
    ff_uw_per_mhz: float = Field(ge=0)
    ddr_pj_per_bit: float = Field(ge=0)


class FPGASpec(Strict):
    """An FPGA part with an accelerator design placed on it (units are in the field names)."""

    name: str
    kind: Literal["fpga"]
    description: str = ""
    part: FPGAPart
    design: FPGADesign
    power: FPGAPower

    @model_validator(mode="after")
    def _uram_power(self) -> "FPGASpec":
        if self.part.uram_blocks > 0 and self.power.uram_port_uw_per_mhz is None:
            raise ValueError("power.uram_port_uw_per_mhz is required when part.uram_blocks > 0")
        return self


def used_resources(spec: FPGASpec) -> dict[str, float]:
    """Resources the design occupies: DSPs of the PE array, buffer and control BRAM/URAM, PE/vector/control logic."""
    d = spec.design
    pes = d.pe_rows * d.pe_cols
    return {"dsp": pes * d.dsps_per_pe, "bram36": d.buffer_bram36_tiles + d.control_bram36_tiles,
            "uram": d.buffer_uram_blocks,
            "lut": pes * d.luts_per_pe + d.vector_lanes * d.luts_per_vector_lane + d.control_luts,
            "ff": pes * d.ffs_per_pe + d.control_ffs}


def available_resources(spec: FPGASpec) -> dict[str, float]:
    p = spec.part
    return {"dsp": p.dsp_slices, "bram36": p.bram36_tiles, "uram": p.uram_blocks, "lut": p.luts, "ff": p.flip_flops}


def buffer_bytes(spec: FPGASpec) -> float:
    return spec.design.buffer_bram36_tiles * BRAM36_BYTES + spec.design.buffer_uram_blocks * URAM_BYTES


def macs_per_pe(spec: FPGASpec) -> PerDtype:
    """MACs per PE per cycle by datatype: DSPs per PE × MACs per DSP (two int8 when packed)."""
    d, p = spec.design, spec.part
    values = {k: (v * d.dsps_per_pe if v is not None else None) for k, v in p.macs_per_dsp_per_cycle}
    if d.int8_packing:
        values["int8"] = p.int8_packed_macs_per_dsp * d.dsps_per_pe
    return PerDtype(**values)


def _uram_port_uw_per_mhz(spec: FPGASpec) -> float:
    """URAM port power; a part without URAM has no figure (a design using URAM on it fails the resource check)."""
    return spec.power.uram_port_uw_per_mhz or 0.0


def power_breakdown(spec: FPGASpec) -> dict[str, float]:
    """Estimator-style power (W) with every used resource active: static + Σ used × µW/MHz × toggle × MHz."""
    u, w, d = used_resources(spec), spec.power, spec.design
    scale = w.toggle_rate * d.clock_mhz * 1e-6
    return {"static": w.static_w, "dsp": u["dsp"] * w.dsp_uw_per_mhz * scale,
            "bram36": 2 * d.buffer_bram36_tiles * w.bram36_port_uw_per_mhz * scale,
            "uram": 2 * d.buffer_uram_blocks * _uram_port_uw_per_mhz(spec) * scale,
            "lut": u["lut"] * w.lut_uw_per_mhz * scale, "ff": u["ff"] * w.ff_uw_per_mhz * scale}


def to_spatial(spec: FPGASpec) -> SpatialSpec:
    """The spatial-template view of the design, with per-event energies from the per-resource power figures."""
    d, w = spec.design, spec.power
    macs = macs_per_pe(spec)
    pe_pj = (d.dsps_per_pe * w.dsp_uw_per_mhz + d.luts_per_pe * w.lut_uw_per_mhz
             + d.ffs_per_pe * w.ff_uw_per_mhz) * w.toggle_rate  # energy of one active PE cycle
    e_mac = PerDtype(**{k: pe_pj / v for k, v in macs if v is not None})
    ports = d.buffer_bram36_tiles + d.buffer_uram_blocks
    port_pj = ((d.buffer_bram36_tiles * w.bram36_port_uw_per_mhz + d.buffer_uram_blocks * _uram_port_uw_per_mhz(spec))
               / ports if ports else 0.0)
    gb_kib = max(buffer_bytes(spec) / 1024, 1e-3)
    return SpatialSpec(
        name=spec.name, kind="spatial", description=spec.description,
        compute=dict(pe_rows=d.pe_rows, pe_cols=d.pe_cols, arrays=1, clock_mhz=d.clock_mhz,
                     macs_per_pe_per_cycle=macs, dataflow=d.dataflow, systolic=d.systolic,
                     vector_lanes=d.vector_lanes, vector_ops_per_lane_per_cycle=1,
                     fused_attention=d.fused_attention),
        memory=dict(local_buffer_kib_per_pe=0, global_buffer_kib=gb_kib,
                    global_buffer_bandwidth_bytes_per_cycle=max(2 * ports * PORT_BYTES, 1),
                    global_buffer_holds=d.global_buffer_holds, double_buffering=d.double_buffering,
                    dram_capacity_gb=spec.part.ddr_capacity_gb, dram_bandwidth_gbps=spec.part.ddr_bandwidth_gbps),
        energy=dict(e_mac_pj=e_mac, e_register_pj_per_access=0, e_local_buffer_pj_per_byte=0,
                    e_global_buffer_pj_per_byte=port_pj * w.toggle_rate / PORT_BYTES,
                    e_dram_pj_per_bit=w.ddr_pj_per_bit,
                    e_vector_pj_per_op=d.luts_per_vector_lane * w.lut_uw_per_mhz * w.toggle_rate),
        power=dict(static_w=w.static_w))


# Parameter vector: the spatial template's, then used and available count of each resource.
P_NAMES = list(SPATIAL_NAMES) + [f"{r}_{s}" for r in RESOURCES for s in ("used", "available")]
P = {name: i for i, name in enumerate(P_NAMES)}
assert all(P[n] == SP[n] for n in SPATIAL_NAMES)


def pack_params(spec: FPGASpec) -> np.ndarray:
    """The spatial kernels' parameter vector followed by the resource counts (used, available)."""
    used, avail = used_resources(spec), available_resources(spec)
    extra = [x for r in RESOURCES for x in (used[r], avail[r])]
    return np.concatenate([pack_spatial(to_spatial(spec)), np.asarray(extra, dtype=np.float64)])


_LABELS = {"dsp": "DSP slices", "bram36": "BRAM36 tiles", "uram": "URAM blocks", "lut": "LUTs", "ff": "flip-flops"}


def resource_check(params: np.ndarray) -> np.ndarray:
    """Per point, '' when the design fits its part, else the overflowing resources with used > available."""
    params = np.atleast_2d(params)
    out = np.full(params.shape[0], "", dtype=object)
    for i, row in enumerate(params):
        over = [f"{_LABELS[r]} {row[P[r + '_used']]:.0f} > {row[P[r + '_available']]:.0f} available"
                for r in RESOURCES if row[P[r + "_used"]] > row[P[r + "_available"]]]
        if over:
            out[i] = "resources: design needs " + ", ".join(over)
    return out


RESOURCES_USED = "the design needs more of the part's DSPs, BRAM/URAM, LUTs or flip-flops and may overflow it"
BUFFER = ("more BRAM/URAM tiles make a bigger, wider buffer (the search finds larger tiles, " + SEARCH + "; per-byte "
          "energy averages the BRAM and URAM port energies) and the design may overflow the part (or newly fit tiles)")

EFFECTS = {
    "part.dsp_slices": Effect(feasible="up"),
    "part.bram36_tiles": Effect(feasible="up"),
    "part.uram_blocks": Effect(feasible="up"),
    "part.luts": Effect(feasible="up"),
    "part.flip_flops": Effect(feasible="up"),
    "part.macs_per_dsp_per_cycle.*": Effect(latency="down", energy="any", why=SEARCH, steps=FOLDS),
    "part.int8_packed_macs_per_dsp": Effect(latency="down", energy="any", why=SEARCH, steps=FOLDS),
    "part.ddr_bandwidth_gbps": Effect(latency="down", energy="any", why=SEARCH, steps=SEARCH_STEPS),
    "part.ddr_capacity_gb": Effect(capacity="up", feasible="up"),
    "design.pe_rows": Effect(latency="any", energy="any", feasible="any", why=ARRAY + "; " + SEARCH + "; "
                             + RESOURCES_USED, steps=FOLDS),
    "design.pe_cols": Effect(latency="any", energy="any", feasible="any", why=ARRAY + "; " + SEARCH + "; "
                             + RESOURCES_USED, steps=FOLDS),
    "design.dsps_per_pe": Effect(latency="down", energy="any", feasible="down", why=SEARCH, steps=FOLDS),
    "design.clock_mhz": Effect(latency="down", energy="any", why=SEARCH, steps=SEARCH_STEPS),
    "design.buffer_bram36_tiles": Effect(latency="down", energy="any", feasible="any", why=BUFFER, steps=TILES),
    "design.buffer_uram_blocks": Effect(latency="down", energy="any", feasible="any", why=BUFFER, steps=TILES),
    "design.fused_attention": Effect(latency="down", energy="any", why=FUSED),
    "design.vector_lanes": Effect(latency="down", energy="down", feasible="down"),
    "design.luts_per_pe": Effect(energy="up", feasible="down"),
    "design.ffs_per_pe": Effect(energy="up", feasible="down"),
    "design.luts_per_vector_lane": Effect(energy="up", feasible="down"),
    "design.control_*": Effect(feasible="down"),
    "power.*": Effect(energy="up"),
}

KIND = HardwareKind("fpga", FPGASpec, pack_params, P, capacity_param="dram_bytes", idle_param="static_w",
                    bound_names=renamed_bounds({"l2": "buffer"}), check=resource_check, effects=EFFECTS)
