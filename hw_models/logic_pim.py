"""Logic-PIM device description: GEMM modules on the logic die of each HBM stack (as in Duplex, MICRO'24).

Each stack's logic die holds GEMM modules (FP16 MAC arrays with a small weight buffer each), two shared SRAM buffers
(input activations and outputs) and a softmax unit. Extra TSVs give the modules an internal bandwidth that is a
multiple of the stack's external (PHY) bandwidth, and data read by the modules never crosses the PHY and interposer:
a bit costs the DRAM array activation plus on-die movement through the TSVs, not the I/O and the host's memory path.

The DRAM behind the TSVs keeps its timing (``dram``): the modules stream rows of the pseudo-channels' banks, so what
they achieve follows from the access pattern and the row, activation, refresh and turnaround timings
(``hw_models.logic_pim_dram``), never simply the TSV peak.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hw_models.effects import Effect
from hw_models.spec_base import Strict
from hw_models.kind import HardwareKind, renamed_bounds
from hw_models.logic_pim_dram import bank_bandwidth
from hw_models.logic_pim_layout import P, P_NAMES


class LogicPIMCompute(Strict):
    stacks: int = Field(gt=0)
    gemm_modules_per_stack: int = Field(gt=0)
    macs_per_module: int = Field(gt=0)  # FP16 multiply-accumulates per cycle
    clock_mhz: float = Field(gt=0)
    softmax_ops_per_cycle_per_stack: float = Field(gt=0)  # exp / vector operations of the softmax unit


class LogicPIMBuffers(Strict):
    module_buffer_kib: float = Field(gt=0)  # per GEMM module (weight tile)
    input_buffer_mib: float = Field(gt=0)  # per stack, holds the activation panel broadcast to the modules
    output_buffer_mib: float = Field(gt=0)  # per stack
    softmax_buffer_kib: float = Field(gt=0)  # per stack, holds the attention scores of one (sequence, KV head)
    softmax_score_bytes: float = Field(default=4, gt=0)  # one attention score as the softmax unit keeps it (fp32)


class LogicPIMMemory(Strict):
    capacity_per_stack_gb: float = Field(gt=0)
    external_bandwidth_gbps: float = Field(gt=0)  # whole device, through the PHYs (what a host sees)
    internal_bandwidth_multiplier: float = Field(gt=0)  # TSV bandwidth available to the logic die / external


class LogicPIMDram(Strict):
    """Organisation and timing of the DRAM dies as the logic die sees them (per pseudo-channel; times in ns)."""

    pseudo_channels_per_stack: int = Field(gt=0)
    ranks: int = Field(gt=0)  # stack IDs sharing a pseudo-channel's data path
    bank_groups: int = Field(gt=0)  # per rank
    banks_per_group: int = Field(gt=0)
    page_bytes: float = Field(gt=0)  # one row of one pseudo-channel
    column_bytes: float = Field(gt=0)  # data of one column command on the logic die's (widened) path
    tccd_s_ns: float = Field(gt=0)  # column to column, different bank groups
    tccd_l_ns: float = Field(gt=0)  # column to column, same bank group
    trcd_ns: float = Field(ge=0)
    trp_ns: float = Field(ge=0)
    tras_ns: float = Field(ge=0)
    trrd_s_ns: float = Field(ge=0)
    tfaw_ns: float = Field(ge=0)  # four activations per window, per pseudo-channel
    trefi_ns: float = Field(gt=0)
    trfc_ns: float = Field(ge=0)
    read_to_write_ns: float = Field(ge=0)  # data-bus turnaround, read burst to write burst
    write_to_read_ns: float = Field(ge=0)  # data-bus turnaround, write burst to read burst
    rank_switch_ns: float = Field(ge=0)  # bubble when consecutive rows come from different ranks

    @model_validator(mode="after")
    def _refresh_leaves_time(self):
        if self.trfc_ns >= self.trefi_ns:
            raise ValueError(f"dram.trfc_ns {self.trfc_ns} must be below dram.trefi_ns {self.trefi_ns}: refresh "
                             "would leave no time for accesses")
        return self


class LogicPIMPower(Strict):
    idle_w: float = Field(ge=0)


class LogicPIMEnergy(Strict):
    e_mac_fp16_pj: float = Field(gt=0)
    e_softmax_op_pj: float = Field(gt=0)
    e_dram_activation_pj_per_bit: float = Field(ge=0)
    e_dram_on_die_pj_per_bit: float = Field(ge=0)  # bank to TSV to logic die
    e_module_buffer_pj_per_bit: float = Field(ge=0)
    e_shared_buffer_pj_per_bit: float = Field(ge=0)


class LogicPIMSpec(Strict):
    """A Logic-PIM preset after validation (units are in the field names)."""

    name: str
    kind: Literal["logic_pim"]
    description: str = ""
    compute: LogicPIMCompute
    buffers: LogicPIMBuffers
    memory: LogicPIMMemory
    dram: LogicPIMDram
    power: LogicPIMPower
    energy: LogicPIMEnergy

    @property
    def peak_flops(self) -> float:
        c = self.compute
        return 2.0 * c.stacks * c.gemm_modules_per_stack * c.macs_per_module * c.clock_mhz * 1e6

    @property
    def internal_bandwidth_bytes_s(self) -> float:
        return self.memory.external_bandwidth_gbps * 1e9 * self.memory.internal_bandwidth_multiplier


def pack_params(spec: LogicPIMSpec) -> np.ndarray:
    """The kernels' float64 parameter vector in SI units (Hz, B, B/s, W, J)."""
    c, b, m, e = spec.compute, spec.buffers, spec.memory, spec.energy
    v = np.zeros(len(P_NAMES))
    v[P["stacks"]] = c.stacks
    v[P["modules"]] = c.stacks * c.gemm_modules_per_stack
    v[P["macs_per_module"]] = c.macs_per_module
    v[P["clock_hz"]] = c.clock_mhz * 1e6
    v[P["softmax_ops_s"]] = c.softmax_ops_per_cycle_per_stack * c.stacks * c.clock_mhz * 1e6
    v[P["module_buffer_bytes"]] = b.module_buffer_kib * 1024
    v[P["input_buffer_bytes"]] = b.input_buffer_mib * 1024 * 1024
    v[P["output_buffer_bytes"]] = b.output_buffer_mib * 1024 * 1024
    v[P["softmax_buffer_bytes"]] = b.softmax_buffer_kib * 1024
    v[P["capacity_bytes"]] = c.stacks * m.capacity_per_stack_gb * 1e9
    v[P["external_bw"]] = m.external_bandwidth_gbps * 1e9
    v[P["internal_bw"]] = spec.internal_bandwidth_bytes_s
    v[P["idle_w"]] = spec.power.idle_w
    v[P["e_mac"]] = e.e_mac_fp16_pj * 1e-12
    v[P["e_softmax_op"]] = e.e_softmax_op_pj * 1e-12
    v[P["e_dram_byte"]] = (e.e_dram_activation_pj_per_bit + e.e_dram_on_die_pj_per_bit) * 8e-12
    v[P["e_module_buffer_byte"]] = e.e_module_buffer_pj_per_bit * 8e-12
    v[P["e_shared_buffer_byte"]] = e.e_shared_buffer_pj_per_bit * 8e-12
    v[P["score_bytes"]] = b.softmax_score_bytes
    d = spec.dram
    v[P["pseudo_channels"]] = c.stacks * d.pseudo_channels_per_stack
    v[P["ranks"]] = d.ranks
    v[P["bank_groups"]] = d.bank_groups
    v[P["banks_per_channel"]] = d.ranks * d.bank_groups * d.banks_per_group
    v[P["page_bytes"]] = d.page_bytes
    v[P["column_bytes"]] = d.column_bytes
    for key, ns in (("t_ccd_s", d.tccd_s_ns), ("t_ccd_l", d.tccd_l_ns), ("t_rcd", d.trcd_ns), ("t_rp", d.trp_ns),
                    ("t_ras", d.tras_ns), ("t_rrd", d.trrd_s_ns), ("t_faw", d.tfaw_ns),
                    ("t_read_write", d.read_to_write_ns), ("t_write_read", d.write_to_read_ns),
                    ("t_rank_switch", d.rank_switch_ns)):
        v[P[key]] = ns * 1e-9
    v[P["refresh_available"]] = 1.0 - d.trfc_ns / d.trefi_ns
    v[P["e_activation_byte"]] = e.e_dram_activation_pj_per_bit * 8e-12
    v[P["dram_bw"]] = bank_bandwidth(v)
    return v


_FASTER = Effect(latency="down", energy="down")  # idle energy falls with the time
_TILES = ("the weights of a module tile are whole multiples of the MACs that fit the module buffer, and tiles fill the "
          "modules in waves")
EFFECTS = {
    "compute.stacks": Effect(
        latency="down", energy="any", capacity="up", feasible="up", steps=_TILES,
        why="each stack adds GEMM modules, bandwidth and capacity but also its logic die's idle power"),
    "compute.gemm_modules_per_stack": Effect(latency="down", energy="down", steps=_TILES),
    "compute.macs_per_module": Effect(
        latency="any", energy="any", steps=_TILES,
        why="more MACs per module shorten each tile but change the weights per tile (whole multiples of the MACs "
            "that fit the buffer), so the tile count and the padding of the last wave of tiles can grow"),
    "compute.clock_mhz": _FASTER,
    "compute.softmax_ops_per_cycle_per_stack": _FASTER,
    "buffers.module_buffer_kib": Effect(
        latency="any", energy="any", steps=_TILES,
        why="a larger weight tile means fewer, coarser tiles: the last wave's padding can grow or shrink"),
    "buffers.input_buffer_mib": Effect(latency="down", energy="down", steps="activation rows per block (floor)"),
    "buffers.output_buffer_mib": Effect(latency="down", energy="down", steps="activation rows per block (floor)"),
    "buffers.softmax_buffer_kib": _FASTER,
    "buffers.softmax_score_bytes": Effect(latency="up", energy="up"),  # wider scores spill more of them to DRAM
    "memory.capacity_per_stack_gb": Effect(capacity="up", feasible="up"),
    "memory.external_bandwidth_gbps": _FASTER,
    "memory.internal_bandwidth_multiplier": _FASTER,
    "dram.pseudo_channels_per_stack": Effect(latency="down", energy="down"),  # switches and activations spread
    "dram.ranks": Effect(latency="any", energy="any",
                         why="more banks to spread activations over, but a rank switch between rows appears with two "
                             "or more"),
    "dram.bank_groups": Effect(latency="down", energy="down"),
    "dram.banks_per_group": Effect(latency="down", energy="down"),
    "dram.page_bytes": Effect(latency="any", energy="any",
                              why="longer rows amortise activations and switches over more data, but a short chunk "
                                  "activates a whole row for the part of it it uses"),
    "dram.column_bytes": Effect(latency="down", energy="down"),
    "dram.trefi_ns": Effect(latency="down", energy="down"),  # refresh less often
    "dram.*": Effect(latency="up", energy="up"),  # every remaining timing: a longer wait

    "power.idle_w": Effect(energy="up"),
    "energy.*": Effect(energy="up"),
}

KIND = HardwareKind("logic_pim", LogicPIMSpec, pack_params, P, capacity_param="capacity_bytes",
                    idle_param="idle_w", bandwidth_param="dram_bw",
                    bound_names=renamed_bounds({"l2": "buffer", "sfu": "softmax"}), effects=EFFECTS)
