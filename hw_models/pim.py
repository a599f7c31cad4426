"""The bank-level PIM template (in-DRAM compute): GEMV units beside every DRAM bank.

A device has ``channels`` × ``banks_per_channel`` banks; each bank has ``multipliers_per_bank`` multipliers fed from
its open row through column accesses of ``column_bytes``. Opening a row costs an activation (tRCD, and tRP to close
it, with the row open at least tRAS); the channel's activation rate is limited by tFAW; refresh steals tRFC every
tREFI. The external channel bus (``bus_bits_per_channel`` at ``pin_gbit_per_s``) carries normal memory traffic: in
``blocked`` mode it and PIM computation exclude each other, with ``dual_row_buffers`` they proceed together.

Energy is counted events × per-event energy: activations, column reads, MACs and I/O bits, plus background power.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from hw_models.effects import Effect
from hw_models.errors import HardwareConfigError
from hw_models.spec_base import Strict
from hw_models.kind import HardwareKind, renamed_bounds

MODES = ("blocked", "dual_row_buffers")


class PIMOrganization(Strict):
    channels: int = Field(gt=0)
    banks_per_channel: int = Field(gt=0)
    multipliers_per_bank: float = Field(gt=0)  # fp16 multiply-accumulate lanes per bank (may be shared: 0.5 …)
    pim_clock_mhz: float = Field(gt=0)  # clock of the bank GEMV units
    page_bytes: int = Field(gt=0)  # row-buffer size of one bank (whole columns of it hold data)
    column_bytes: int = Field(gt=0)  # bytes one column access moves from the row buffer to the bank's units
    element_bytes: int = Field(gt=0)  # operand width of the multipliers (2 = fp16)
    capacity_gb: float = Field(gt=0)
    mode: Literal["blocked", "dual_row_buffers"]
    activations_per_tfaw: float = Field(gt=0)  # bank activations a channel may issue per tFAW window
    command_issue: Literal["per_bank", "all_bank"] = "per_bank"  # see the module docstring
    banks_per_activation: int = Field(default=1, gt=0)  # banks one (ganged) activate command opens (all_bank)

    @model_validator(mode="after")
    def _page_holds_a_column(self):

        if self.page_bytes < self.column_bytes:
            raise HardwareConfigError(f"organization.page_bytes = {self.page_bytes} is smaller than "
                                      f"organization.column_bytes = {self.column_bytes}: a row must hold at least one "
                                      f"column")
        return self


class PIMTiming(Strict):
    tck_ns: float = Field(gt=0)  # command clock period: every timing below is rounded up to whole clocks
    trcd_ns: float = Field(ge=0)
    trp_ns: float = Field(ge=0)
    tras_ns: float = Field(ge=0)
    tccd_l_ns: float = Field(gt=0)
    tfaw_ns: float = Field(ge=0)
    trrd_ns: float = Field(default=0, ge=0)  # activate-to-activate delay of one channel (all_bank)
    trefi_ns: float = Field(gt=0)
    trfc_ns: float = Field(ge=0)


class PIMBus(Strict):
    bus_bits_per_channel: int = Field(gt=0)
    pin_gbit_per_s: float = Field(gt=0)


class PIMEnergy(Strict):
    e_activation_pj: float = Field(ge=0)  # one activate + precharge of one bank's row
    e_column_read_pj: float = Field(ge=0)  # one column access of column_bytes inside the bank
    e_mac_pj: float = Field(ge=0)  # one multiply-accumulate of element_bytes operands
    e_io_pj_per_bit: float = Field(ge=0)  # moving a bit over the external channel bus


class PIMPower(Strict):
    static_w: float = Field(ge=0)  # background (standby) and refresh power of the whole device


class PIMSpec(Strict):
    """A bank-level PIM preset after validation (units in the field names)."""

    name: str
    kind: Literal["pim"]
    description: str = ""
    organization: PIMOrganization
    timing: PIMTiming
    bus: PIMBus
    energy: PIMEnergy
    power: PIMPower

    def external_bandwidth_gbps(self) -> float:
        return self.organization.channels * self.bus.bus_bits_per_channel / 8 * self.bus.pin_gbit_per_s

    def internal_bandwidth_gbps(self) -> float:
        """Row-buffer → multiplier bandwidth of all banks streaming columns at once (no activation overhead)."""
        o = self.organization
        return o.channels * o.banks_per_channel * o.column_bytes / _column_interval_s(self) / 1e9


def clocked_s(spec: PIMSpec, ns: float) -> float:
    """A timing of ``ns`` as the controller programs it: a whole number of command clocks, in seconds."""
    tck = spec.timing.tck_ns
    return math.ceil(ns / tck - 1e-9) * tck * 1e-9


def _column_interval_s(spec: PIMSpec) -> float:
    """Time one bank needs per column: tCCD_L (all-bank commands hit the same bank group back to back) or the
    multipliers' time for its elements."""
    o = spec.organization
    compute = o.column_bytes / o.element_bytes / o.multipliers_per_bank / (o.pim_clock_mhz * 1e6)
    return max(clocked_s(spec, spec.timing.tccd_l_ns), compute)


P_NAMES = ["channels", "banks", "page_bytes", "column_bytes", "element_bytes", "capacity_bytes", "dual",
           "t_col", "t_rcd", "t_rp", "t_ras", "t_faw", "act_per_faw", "refresh_factor", "ext_bw",
           "e_act", "e_col", "e_mac", "e_io_byte", "static_w", "macs_per_s", "all_bank", "banks_per_act", "t_rrd",
           "t_refi", "t_rfc"]
P = {name: i for i, name in enumerate(P_NAMES)}


def pack_params(spec: PIMSpec) -> np.ndarray:
    """The kernels' float64 parameter vector in SI units (s, bytes, B/s, J, W)."""
    o, t, e = spec.organization, spec.timing, spec.energy
    v = np.zeros(len(P_NAMES))
    v[P["channels"]], v[P["banks"]] = o.channels, o.banks_per_channel
    # A row holds whole columns: the bytes past the last whole column of a page are not addressable.
    v[P["page_bytes"]] = (o.page_bytes // o.column_bytes) * o.column_bytes
    v[P["column_bytes"]], v[P["element_bytes"]] = o.column_bytes, o.element_bytes
    v[P["capacity_bytes"]] = o.capacity_gb * 1e9
    v[P["dual"]] = 1.0 if o.mode == "dual_row_buffers" else 0.0
    v[P["t_col"]] = _column_interval_s(spec)
    v[P["t_rcd"]], v[P["t_rp"]], v[P["t_ras"]] = (clocked_s(spec, t.trcd_ns), clocked_s(spec, t.trp_ns),
                                                  clocked_s(spec, t.tras_ns))
    v[P["t_faw"]], v[P["act_per_faw"]] = clocked_s(spec, t.tfaw_ns), o.activations_per_tfaw
    # Refresh blocks every bank for tRFC out of each tREFI: work takes 1 / (1 - tRFC/tREFI) as long.
    v[P["refresh_factor"]] = 1.0 / (1.0 - min(clocked_s(spec, t.trfc_ns) / clocked_s(spec, t.trefi_ns), 0.99))
    v[P["ext_bw"]] = spec.external_bandwidth_gbps() * 1e9
    v[P["e_act"]], v[P["e_col"]], v[P["e_mac"]] = e.e_activation_pj * 1e-12, e.e_column_read_pj * 1e-12, \
        e.e_mac_pj * 1e-12
    v[P["e_io_byte"]] = e.e_io_pj_per_bit * 8e-12
    v[P["static_w"]] = spec.power.static_w
    v[P["macs_per_s"]] = o.channels * o.banks_per_channel * o.multipliers_per_bank * o.pim_clock_mhz * 1e6
    v[P["all_bank"]] = 1.0 if o.command_issue == "all_bank" else 0.0
    v[P["banks_per_act"]], v[P["t_rrd"]] = o.banks_per_activation, clocked_s(spec, t.trrd_ns)
    v[P["t_refi"]], v[P["t_rfc"]] = clocked_s(spec, t.trefi_ns), clocked_s(spec, t.trfc_ns)
    return v


_FASTER = Effect(latency="down", energy="down")  # static energy falls with the time
_ROWS = "rows are spread over all banks in whole rows per bank (ceil)"
_CLOCKS = "timings are programmed in whole clocks, ceil(t / tCK)"
_SLOWER = Effect(latency="up", energy="up", steps=_CLOCKS)
_MORE_BANKS = Effect(
    latency="any", energy="any", steps=_ROWS,
    why="more banks share a matrix's rows, but where the multipliers per bank are derived from a fixed total "
        "(HBM-PIM: 2048 lanes per stack) each bank gets fewer: a matrix of fewer rows than banks gets no more banks "
        "and fewer lanes per bank")
EFFECTS = {
    "organization.channels": _MORE_BANKS,
    "organization.banks_per_channel": _MORE_BANKS,
    "organization.multipliers_per_bank": _FASTER,
    "organization.pim_clock_mhz": _FASTER,
    "organization.page_bytes": Effect(
        latency="any", energy="any", steps="whole rows per matrix and per bank",
        why="a larger page holds more of a matrix in one row, which one bank streams alone: when a matrix has fewer "
            "rows than there are banks, fewer banks share it (slower), while a matrix of many rows opens fewer rows "
            "(fewer activations, faster)"),
    "organization.column_bytes": Effect(latency="down", energy="down", steps="a matrix's last column is partly used"),
    "organization.element_bytes": Effect(
        latency="any", energy="any",
        why="wider multiplier operands mean fewer MACs per column, but where the multipliers per bank are derived "
            "from the operand width (Bank-PIM: one MAC per streamed element) there are fewer of them for a "
            "narrower datatype"),
    "organization.capacity_gb": Effect(capacity="up", feasible="up"),
    "organization.activations_per_tfaw": _FASTER,
    "organization.banks_per_activation": Effect(latency="down", energy="down", steps="whole activate commands"),
    "timing.tck_ns": Effect(
        latency="any", energy="any", steps=_CLOCKS,
        why="timings rounded up to whole clocks: a longer clock can round a timing to fewer clocks whose total is "
            "shorter; where the bank units, the pins and the burst energy follow the clock (NeuPIMs) it is slower"),
    "timing.trefi_ns": Effect(
        latency="any", energy="any", steps=_CLOCKS,
        why="refresh steals tRFC of every tREFI (less, relatively, when tREFI grows), but with all-bank issue a row "
            "step starts only if it ends before the next refresh: a longer interval that fits no further whole step "
            "leaves more of itself unused"),
    "timing.*": _SLOWER,
    "bus.*": _FASTER,
    "energy.*": Effect(energy="up"),
    "power.static_w": Effect(energy="up"),
}

KIND = HardwareKind("pim", PIMSpec, pack_params, P, capacity_param="capacity_bytes", idle_param="static_w",
                    bandwidth_param="ext_bw", bound_names=renamed_bounds({"interconnect": "bus"}), effects=EFFECTS)
