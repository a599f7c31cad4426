"""The engine: evaluate a workload on one or many hardware points and compose per-op costs into totals.

Ops of one pipeline stage run one after another on that stage's devices (tensor-parallel shards in lock step);
stages form a pipeline, so a batch takes the sum of the stage times (latency) while, with one batch in flight per stage,
a new batch completes every ``max(stage time)`` (the period that sets throughput). Static power is paid by every
device for the whole period; dynamic energy of an op is paid on each device of its stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cosim.hetero import evaluate_points as hetero_points
from cosim.hetero import op_frame as hetero_frame
from cosim.totals import DYNAMIC_SLOTS, ENERGY_COMPONENTS, ENERGY_SLOTS, TOTAL_COLUMNS, finish_totals, plural
from hw_models.cost import N_OUT, O_BOUND, O_BYTES_OFFCHIP, O_TIME, O_UTIL
from hw_models.hardware import Hardware
from mappings.bindings import kernel, mapping_label
from mappings.objectives import objective_code
from workloads.ir import Workload
from workloads.table import COL, op_table


@dataclass
class Result:
    """Outcome of one simulation: totals (``latency_s``, ``throughput`` …) and a per-op DataFrame."""

    hardware: str
    workload: str
    item_unit: str
    totals: dict[str, Any]
    ops: Any = None  # pandas DataFrame, one row per op (None when infeasible)
    params: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        totals = self.__dict__.get("totals", {})
        if name in totals:
            return totals[name]
        raise AttributeError(name)

    @property
    def throughput_unit(self) -> str:
        return f"{plural(self.item_unit)}/s"

    def __repr__(self) -> str:
        if not self.totals["feasible"]:
            return f"Result({self.hardware} × {self.workload}: infeasible — {self.totals['reason']})"
        t = self.totals
        return (f"Result({self.hardware} × {self.workload}: latency {t['latency_s'] * 1e3:.3f} ms, "
                f"{t['throughput']:.1f} {self.throughput_unit}, {t['energy_per_item_j'] * 1e3:.3f} mJ/{self.item_unit}, "
                f"{t['power_w']:.0f} W)")


def memory_need(workload: Workload) -> float:
    """Bytes that must be resident on the busiest device."""
    return float(sum(workload.memory_bytes.values()))


def _stage_onehot(table: np.ndarray) -> np.ndarray:
    stages = table[:, COL["stage"]].astype(np.int64)
    onehot = np.zeros((table.shape[0], int(stages.max()) + 1 if len(stages) else 1))
    onehot[np.arange(len(stages)), stages] = 1.0
    return onehot


def _row_sums(values: np.ndarray) -> np.ndarray:
    """Sum of each row, left to right: the same bits whatever the number of rows."""
    if values.shape[1] == 0:
        return np.zeros(values.shape[0])
    return np.cumsum(values, axis=1)[:, -1]


def compose_totals(raw: np.ndarray, table: np.ndarray, workload: Workload, idle_w: np.ndarray) -> dict[str, np.ndarray]:
    """Totals per point from per-op kernel outputs ``raw`` (points, ops, slots). Vectorised over points."""
    count = table[:, COL["count"]]
    onehot = _stage_onehot(table)
    n_stages = onehot.shape[1]
    per_stage_devices = workload.devices / n_stages
    op_time = raw[:, :, O_TIME] * count  # (P, N)
    # Summed per stage row by row in a fixed order (not ``op_time @ onehot``, nor ``sum(axis=1)``: BLAS and numpy's
    # pairwise reduction sum in an order that depends on how many points share the call, so a point's last bits would
    # depend on its batch, and --resume would not match a fresh run).
    stage_time = np.stack([_row_sums(op_time[:, onehot[:, s] > 0]) for s in range(n_stages)], axis=1)  # (P, S)
    latency = _row_sums(stage_time)
    period = stage_time.max(axis=1)
    out: dict[str, np.ndarray] = {"latency_s": latency, "period_s": period}
    dynamic = np.zeros_like(latency)
    for name, slot in zip(ENERGY_COMPONENTS[:-1], DYNAMIC_SLOTS):
        e = _row_sums(raw[:, :, slot] * count) * per_stage_devices
        out[f"energy_{name}_j"] = e
        dynamic = dynamic + e
    return finish_totals(out, dynamic, idle_w, workload, latency, period)


def evaluate_points(hardware: Hardware, workload: Workload, params: np.ndarray, objective: str = "latency",
                    table: np.ndarray | None = None, with_raw: bool = False):
    """Evaluate ``workload`` at every row of ``params`` (hardware variants of one device kind).

    Returns a dict of total arrays (one entry per point); infeasible points (memory) get NaN metrics and a reason.
    """
    if hardware.kind == "hetero":  # ops placed on the units of a heterogeneous device
        return hetero_points(hardware, workload, params, objective, table, with_raw)
    kind = hardware.device
    index = kind.param_index
    params = np.atleast_2d(np.asarray(params, dtype=np.float64))
    table = op_table(workload) if table is None else table
    need = memory_need(workload)
    capacity = params[:, index[kind.capacity_param]]
    feasible = need <= capacity
    n = params.shape[0]
    totals: dict[str, Any] = {c: np.full(n, np.nan) for c in TOTAL_COLUMNS if c not in ("feasible", "reason")}
    totals["feasible"] = feasible
    totals["reason"] = np.where(
        feasible, "", f"memory: needs {need / 1e9:.2f} GB per device (weights "
        f"{workload.memory_bytes.get('weights', 0) / 1e9:.2f} GB, KV cache "
        f"{workload.memory_bytes.get('kv_cache', 0) / 1e9:.2f} GB, activations "
        f"{workload.memory_bytes.get('activations', 0) / 1e9:.2f} GB)").astype(object)
    for i in np.flatnonzero(~feasible):
        totals["reason"][i] += f" > capacity {capacity[i] / 1e9:.2f} GB"
    if kind.check is not None:  # device-specific feasibility (FPGA resources), reported with its reason
        problems = kind.check(params)
        bad = feasible & (problems != "")
        totals["reason"][bad] = problems[bad]
        feasible = feasible & ~bad
        totals["feasible"] = feasible
    totals["memory_per_device_bytes"][:] = need
    totals["memory_capacity_bytes"][:] = capacity
    totals["devices"][:] = workload.devices
    raw = np.full((n, table.shape[0], N_OUT), np.nan)
    if feasible.any():
        raw[feasible] = kernel(hardware.kind)(table, params[feasible], objective_code(objective))
        # An op with no legal mapping (a datatype the device lacks, a buffer too small) makes its point infeasible.
        unmappable = feasible & ~np.isfinite(raw[:, :, O_TIME]).all(axis=1)
        for i in np.flatnonzero(unmappable):
            bad = int(np.flatnonzero(~np.isfinite(raw[i, :, O_TIME]))[0])
            op = workload.ops[bad]
            why = (kind.unmappable_reason(params[i], op) if kind.unmappable_reason is not None
                   else "datatype not supported or buffers too small")
            totals["reason"][i] = (f"mapping: op {op.name!r} ({op.kind}, {op.dtype}) has no legal mapping on this "
                                   f"device ({why})")
        feasible = feasible & ~unmappable
        totals["feasible"] = feasible
        if feasible.any():
            composed = compose_totals(raw[feasible], table, workload, params[feasible, index[kind.idle_param]])
            for key, values in composed.items():
                totals[key][feasible] = values
    return (totals, raw) if with_raw else totals


def op_frame(hardware: Hardware, workload: Workload, table: np.ndarray, raw: np.ndarray):
    """The per-op DataFrame of one point (``raw``: ops × slots). Times and energies include the op's count."""
    if hardware.kind == "hetero":
        return hetero_frame(hardware, workload, table, raw)
    import pandas as pd

    kind = hardware.device
    count = table[:, COL["count"]]
    n_stages = int(table[:, COL["stage"]].max()) + 1 if len(table) else 1
    per_stage = workload.devices / n_stages
    rows = {
        "op": [op.name for op in workload.ops],
        "kind": [op.kind for op in workload.ops],
        "stage": table[:, COL["stage"]].astype(int),
        "count": count.astype(int),
        "flops": table[:, COL["flops"]] * count,
        "bytes": table[:, COL["bytes"]] * count,
        "dram_bytes": raw[:, O_BYTES_OFFCHIP] * count,
        "time_s": raw[:, O_TIME] * count,
    }
    for name, slot in zip(ENERGY_COMPONENTS, ENERGY_SLOTS):
        rows[f"energy_{name}_j"] = raw[:, slot] * count * per_stage
    frame = pd.DataFrame(rows)
    frame["energy_j"] = frame[[f"energy_{c}_j" for c in ENERGY_COMPONENTS]].sum(axis=1)
    frame["bound"] = [kind.bound_names[int(b)] for b in raw[:, O_BOUND]]
    frame["utilization"] = raw[:, O_UTIL]
    frame["mapping"] = [mapping_label(hardware.kind, r) for r in raw]
    frame["intensity"] = np.divide(frame["flops"], frame["bytes"], out=np.zeros(len(frame)), where=frame["bytes"] > 0)
    return frame


def simulate(hardware: Hardware, workload: Workload, objective: str = "latency") -> Result:
    """Evaluate one workload on one hardware point; the result carries totals and a per-op table."""
    table = op_table(workload)
    totals, raw = evaluate_points(hardware, workload, hardware.params, objective, table, with_raw=True)
    scalar = {k: (v[0].item() if hasattr(v[0], "item") else v[0]) for k, v in totals.items()}
    scalar["feasible"] = bool(scalar["feasible"])
    ops = op_frame(hardware, workload, table, raw[0]) if scalar["feasible"] else None
    # Static energy not attributed to an op: devices waiting for other pipeline stages.
    return Result(hardware.name, workload.name, workload.item_unit, scalar, ops, dict(workload.params))
