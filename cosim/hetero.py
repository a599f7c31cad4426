"""Heterogeneous devices in the engine: load a ``kind: hetero`` preset, cost every op on every unit with the units'
own kernels, place ops with ``mappings.placement`` and compose totals (transfers count as interconnect).

Each unit evaluates the op table once per design point (and, with ``allow_split``, the two parts of each op's batch
at every split fraction). Totals compose as in ``cosim.engine``: ops of a stage run one after another (``sequential``)
and a batch takes the sum; with ``concurrency: overlap`` units and links work on different sub-batches at once, so a
stage's period is its busiest unit's (or the links') time while the latency is unchanged. All units draw static
power for the whole period.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cosim.devices import Hardware, format_validation_error, load_hardware
from cosim.engine import ENERGY_COMPONENTS, TOTAL_COLUMNS, finish_totals
from hw_models.cost import (N_OUT, O_BOUND, O_DRAM_BYTES, O_E_COMPUTE, O_E_DRAM, O_E_L2, O_E_LINK, O_E_STATIC,
                            O_L2_BYTES, O_MAPPING, O_TIME, O_UTIL)
from hw_models.hetero import LINK_FIELDS, HeteroSpec, flatten, link_matrices, pack_links
from hw_models.preset import HardwareConfigError, Preset, reevaluate
from mappings.objectives import objective_code
from mappings.placement import Placement, assign, split_options
from workloads.ir import Op, Workload
from workloads.table import COL, op_row, op_table

_DYNAMIC = (O_E_COMPUTE, O_E_L2, O_E_DRAM, O_E_LINK)
_SETTINGS = ("allow_split", "split_steps", "concurrency")  # trailing numeric slots of the parameter vector
CONCURRENCY = ("sequential", "overlap", "subbatch")
# The dimension an op's batch is split along, per op kind.
SPLIT_DIM = {"matmul": "m", "conv": "batch", "synaptic": "m", "attention": "batch", "elementwise": "elements",
             "norm": "elements", "softmax": "elements", "kv_write": "elements", "gather": "rows",
             "routing": "tokens", "neuron_update": "neurons"}
# Extra slots of a hetero per-op record, after the N_OUT slots of the combined cost.
H_UNIT, H_SECOND, H_SHARE, H_XFER_S, H_XFER_J, H_XFER_BYTES, H_STATIC_W = range(N_OUT, N_OUT + 7)
H_OUT = N_OUT + 7


@dataclass
class HeteroHardware(Hardware):
    """A device of several units. ``params`` = each unit's parameter vector, then the links, then the settings."""

    units: dict[str, Hardware] = field(default_factory=dict)

    @property
    def device(self):
        raise HardwareConfigError(f"{self.name!r} is a heterogeneous device; its units have kinds: "
                                  + ", ".join(f"{n}={u.kind}" for n, u in self.units.items()))

    def slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, unit in self.units.items():
            out[name] = slice(start, start + len(unit.params))
            start += len(unit.params)
        out["links"] = slice(start, start + 3 * len(self.spec.links))
        out["settings"] = slice(out["links"].stop, out["links"].stop + len(_SETTINGS))
        return out


def _settings(spec: HeteroSpec) -> np.ndarray:
    return np.array([float(spec.allow_split), float(spec.split_steps), float(CONCURRENCY.index(spec.concurrency))])


def _apply(values: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Dotted-path overrides of a hetero preset: ``units.<u>.<unit path>``, ``links.<l>.<field>``, settings."""
    import copy

    out = copy.deepcopy(values)
    units, links = out.get("units", {}), out.get("links", {})
    allowed = [f"units.{u}.<parameter of {ref.get('preset')}>" for u, ref in units.items()]
    allowed += [f"links.{name}.{f}" for name in links for f in LINK_FIELDS] + ["allow_split", "split_steps",
                                                                              "concurrency"]
    for path, value in overrides.items():
        parts = path.split(".")
        if parts[0] == "units" and len(parts) > 2 and parts[1] in units and parts[2] not in ("preset", "overrides"):
            ref = units[parts[1]]
            ref["overrides"] = {**flatten(ref.get("overrides") or {}), ".".join(parts[2:]): value}
        elif parts[0] == "links" and len(parts) == 3 and parts[1] in links and parts[2] in LINK_FIELDS:
            links[parts[1]][parts[2]] = value
        elif path in ("allow_split", "split_steps", "concurrency"):
            out[path] = value
        else:
            raise HardwareConfigError(f"unknown hardware parameter {path!r} for heterogeneous device "
                                      f"{values.get('name')!r}; allowed: {', '.join(allowed)}")
    return out


def load_hetero(preset: Preset, overrides: dict[str, Any] | None = None) -> HeteroHardware:
    """Validate a ``kind: hetero`` preset (with dotted-path overrides) and load each unit's preset."""
    from pydantic import ValidationError

    overrides = dict(overrides or {})
    values = reevaluate(preset, _apply(preset.values, overrides), overrides)
    try:
        spec = HeteroSpec(**values)
    except ValidationError as exc:
        raise HardwareConfigError(f"hardware {preset.name!r}: {format_validation_error(exc)}") from None
    units: dict[str, Hardware] = {}
    for name, ref in spec.units.items():
        try:
            unit = load_hardware(ref.preset, flatten(ref.overrides))
        except HardwareConfigError as exc:
            raise HardwareConfigError(f"hardware {preset.name!r}: units.{name}: {exc}") from None
        if unit.kind == "hetero":
            raise HardwareConfigError(f"hardware {preset.name!r}: units.{name}.preset: {ref.preset!r} is itself "
                                      f"heterogeneous; a unit must be a single device")
        units[name] = unit
    params = np.concatenate([u.params for u in units.values()] + [pack_links(spec), _settings(spec)])
    return HeteroHardware(name=preset.name, kind="hetero", spec=spec, sources=preset.sources, overrides=overrides,
                          params=params, units=units)


# ---- evaluation ------------------------------------------------------------------------------------------------

def _split_tables(workload: Workload, steps: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """For k = 1..steps-1: the table of each op's first k/steps of its batch, of the rest, and the first part's
    actual share (0 when the op cannot be split that finely or has no batch dimension)."""
    firsts, rests, shares = [], [], np.zeros((steps - 1, len(workload.ops)))
    for k in range(1, steps):
        first_rows, rest_rows = [], []
        for n, op in enumerate(workload.ops):
            dim = SPLIT_DIM.get(op.kind)
            total = op.dim(dim) if dim else 0
            a = int(round(k * total / steps))
            if dim and 0 < a < total:
                first_rows.append(op_row(_with_dim(op, dim, a)))
                rest_rows.append(op_row(_with_dim(op, dim, total - a)))
                shares[k - 1, n] = a / total
            else:
                first_rows.append(op_row(op))
                rest_rows.append(op_row(op))
        firsts.append(np.array(first_rows))
        rests.append(np.array(rest_rows))
    return firsts, rests, shares


def _with_dim(op: Op, dim: str, value: int) -> Op:
    return replace(op, dims={**op.dims, dim: value}, tags=dict(op.tags))


def _unit_raw(unit: Hardware, table: np.ndarray, params: np.ndarray, code: int) -> np.ndarray:
    return unit.device.kernel_loader()(table, np.ascontiguousarray(params), code)


@dataclass
class _Costs:
    """Per point: per (op, option, unit) cost records of the parts, and the options' batch shares."""

    parts: np.ndarray  # (P, N, O, U, N_OUT); unused units hold zeros
    frac: np.ndarray  # (N, O, U)
    options: list


def _evaluate_units(hw: HeteroHardware, workload: Workload, table: np.ndarray, params: np.ndarray,
                    code: int, allow_split: bool, steps: int) -> _Costs:
    names = list(hw.units)
    n_units, n_ops, n_points = len(names), table.shape[0], params.shape[0]
    sl = hw.slices()
    full = [_unit_raw(hw.units[u], table, params[:, sl[u]], code) for u in names]  # (P, N, N_OUT) per unit
    options = split_options(n_units, steps, allow_split)
    parts = np.zeros((n_points, n_ops, len(options), n_units, N_OUT))
    frac = np.zeros((n_ops, len(options), n_units))
    if allow_split and steps > 1:
        firsts, rests, shares = _split_tables(workload, steps)
        first_raw = [[_unit_raw(hw.units[u], t, params[:, sl[u]], code) for u in names] for t in firsts]
        rest_raw = [[_unit_raw(hw.units[u], t, params[:, sl[u]], code) for u in names] for t in rests]
    for o, (a, b, k) in enumerate(options):
        if a == b:
            parts[:, :, o, a] = full[a]
            frac[:, o, a] = 1.0
            continue
        share = shares[k - 1]
        ok = share > 0
        parts[:, ok, o, a] = first_raw[k - 1][a][:, ok]
        parts[:, ok, o, b] = rest_raw[k - 1][b][:, ok]
        parts[:, ~ok, o, a, O_TIME] = np.inf  # not splittable this finely: the option is excluded
        frac[:, o, a], frac[:, o, b] = share, np.where(ok, 1.0 - share, 0.0)
    return _Costs(parts, frac, options)


def _pins(hw: HeteroHardware, workload: Workload, options: list, extra: dict[str, str] | None) -> np.ndarray:
    """(N, O) mask of allowed options: a pinned op (by name, else by kind) runs wholly on its unit."""
    names = list(hw.units)
    pins = {**hw.spec.placement, **(extra or {})}
    allowed = np.ones((len(workload.ops), len(options)), dtype=bool)
    for n, op in enumerate(workload.ops):
        unit = pins.get(op.name, pins.get(op.kind))
        if unit is None:
            continue
        if unit not in names:
            raise HardwareConfigError(f"placement pin {op.name!r} → unknown unit {unit!r}; units: {', '.join(names)}")
        u = names.index(unit)
        allowed[n] = [a == b == u for a, b, _ in options]
    return allowed


def _out_bytes(workload: Workload) -> np.ndarray:
    return np.array([op.operand_bytes.get("output", 0.0) for op in workload.ops])


def _idle(hw: HeteroHardware, row: np.ndarray) -> np.ndarray:
    sl = hw.slices()
    return np.array([row[sl[u]][unit.device.param_index[unit.device.idle_param]] for u, unit in hw.units.items()])


def _place_point(hw, workload, table, costs: _Costs, p: int, row: np.ndarray, objective: str, allowed):
    """Place the ops of one design point; returns (Placement, chosen parts (N, U, N_OUT)) or raises ValueError."""
    parts = costs.parts[p]
    t_parts = parts[..., O_TIME]
    with np.errstate(invalid="ignore"):
        time = np.where(np.isfinite(t_parts).all(axis=2), t_parts.max(axis=2), np.inf)
    time = np.where(allowed, time, np.inf)
    n_stages = int(table[:, COL["stage"]].max()) + 1 if len(table) else 1
    per_stage = workload.devices / n_stages
    energy = parts[..., list(_DYNAMIC)].sum(axis=(2, 3)) * per_stage
    energy = np.where(np.isfinite(time), energy, 0.0)
    links = link_matrices(hw.spec, row[hw.slices()["links"]])
    links = (links[0], links[1], links[2] * per_stage)
    static_w = float(_idle(hw, row).sum()) * workload.devices
    placement = assign(time, energy, costs.frac, _out_bytes(workload), table[:, COL["count"]], links, objective,
                       static_w)
    chosen = parts[np.arange(len(workload.ops)), placement.option]  # (N, U, N_OUT)
    return placement, chosen


def _record(placement: Placement, chosen: np.ndarray, idle: np.ndarray) -> np.ndarray:
    """Per-op hetero record: combined cost slots plus unit, share, transfers (see H_* slots)."""
    n_ops, n_units = chosen.shape[0], chosen.shape[1]
    rec = np.zeros((n_ops, H_OUT))
    for n in range(n_ops):
        share = placement.frac[n]
        used = np.flatnonzero(share > 0)
        slow = used[np.argmax(chosen[n, used, O_TIME])]
        primary = used[np.argmax(share[used])]
        rec[n, :N_OUT] = chosen[n, slow]
        rec[n, O_TIME] = chosen[n, used, O_TIME].max()
        for slot in _DYNAMIC + (O_E_STATIC, O_DRAM_BYTES, O_L2_BYTES):
            rec[n, slot] = chosen[n, used, slot].sum()
        rec[n, O_MAPPING:N_OUT] = chosen[n, primary, O_MAPPING:N_OUT]
        rec[n, H_UNIT] = primary
        rec[n, H_SECOND] = next((u for u in used if u != primary), -1)
        rec[n, H_SHARE] = share[primary]
    rec[:, H_XFER_S], rec[:, H_XFER_J], rec[:, H_XFER_BYTES] = (placement.transfer_time, placement.transfer_energy,
                                                               placement.transfer_bytes)
    rec[:, H_STATIC_W] = idle.sum()
    return rec


def _unit_need(hw: HeteroHardware, workload: Workload, frac: np.ndarray) -> np.ndarray:
    """Bytes resident on each unit: weights of the ops it runs (any share), its share of the KV cache read by the
    attention it runs, and the activations (on every unit)."""
    mem = workload.memory_bytes
    n_units = frac.shape[1]
    w_op = np.array([op.operand_bytes.get("weight", 0.0) * op.tags.get("weight_copies", op.count)
                     if op.parameters else 0.0 for op in workload.ops])
    kv_op = np.array([op.operand_bytes.get("kv_read", 0.0) * op.count for op in workload.ops])
    need = np.full(n_units, float(mem.get("activations", 0.0)))
    for total, per_op, by_share in ((mem.get("weights", 0.0), w_op, False), (mem.get("kv_cache", 0.0), kv_op, True)):
        if total <= 0:
            continue
        if per_op.sum() <= 0:
            need += total  # not attributable to an op: every unit holds it
            continue
        weight = frac if by_share else (frac > 0).astype(float)
        need += total * (per_op[:, None] * weight).sum(axis=0) / per_op.sum()
    other = sum(v for k, v in mem.items() if k not in ("weights", "kv_cache", "activations"))
    return need + other


def _capacities(hw: HeteroHardware, row: np.ndarray) -> np.ndarray:
    sl = hw.slices()
    return np.array([row[sl[u]][unit.device.param_index[unit.device.capacity_param]]
                     for u, unit in hw.units.items()])


def _energy_totals(workload, rec: np.ndarray, costs: np.ndarray, count: np.ndarray, per_stage: float, latency: float,
                   period: float) -> dict[str, float]:
    """Latency, period, energy by component (``costs``' slots × count, hand-overs as interconnect), idle energy of
    every device over the period, and the derived totals."""
    out: dict[str, float] = {"latency_s": latency, "period_s": period}
    dynamic = 0.0
    for name, slot in zip(ENERGY_COMPONENTS[:-1], _DYNAMIC):
        e = float((costs[..., slot] * count).sum() * per_stage)
        if name == "interconnect":
            e += float(rec[:, H_XFER_J].sum())
        out[f"energy_{name}_j"] = e
        dynamic += e
    return finish_totals(out, dynamic, float(rec[0, H_STATIC_W]) if len(rec) else 0.0, workload, latency, period)


def _compose(hw, workload, table, rec: np.ndarray, overlap: bool) -> dict[str, float]:
    """Totals of one placed point from its per-op records."""
    count = table[:, COL["count"]]
    stages = table[:, COL["stage"]].astype(int)
    n_stages = int(stages.max()) + 1 if len(stages) else 1
    per_stage = workload.devices / n_stages
    op_time = rec[:, O_TIME] * count + rec[:, H_XFER_S]
    stage_time = np.array([op_time[stages == s].sum() for s in range(n_stages)])
    if overlap:
        busy = []
        for s in range(n_stages):
            idx = np.flatnonzero(stages == s)
            units = [sum(rec[n, O_TIME] * count[n] for n in idx if u in (rec[n, H_UNIT], rec[n, H_SECOND]))
                     for u in range(len(hw.units))]
            busy.append(max(units + [rec[idx, H_XFER_S].sum()]))
        period = float(max(busy))
    else:
        period = float(stage_time.max())
    latency = float(stage_time.sum())
    out = _energy_totals(workload, rec, rec, count, per_stage, latency, period)
    for u, name in enumerate(hw.units):  # busy time of each unit over the period (stages run on their own devices)
        on = (rec[:, H_UNIT] == u) | (rec[:, H_SECOND] == u)
        out[f"utilization_{name}"] = float((rec[on, O_TIME] * count[on]).sum()) / n_stages / period
    return out


def _half_costs(hw: HeteroHardware, workload: Workload, params: np.ndarray, code: int) -> list[np.ndarray]:
    """Per unit: (2, P, N, N_OUT) costs of each op's two half batches (the sub-batches of interleaving)."""
    firsts, rests, _ = _split_tables(workload, 2)
    sl = hw.slices()
    return [np.stack([_unit_raw(unit, t, params[:, sl[u]], code) for t in (firsts[0], rests[0])])
            for u, unit in hw.units.items()]


def _blocked(hw: HeteroHardware, row: np.ndarray) -> bool:
    """Whether a PIM unit's memory is blocked (PIM computation and normal traffic exclude each other)."""
    sl = hw.slices()
    for u, unit in hw.units.items():
        if unit.kind == "pim" and row[sl[u]][unit.device.param_index["dual"]] < 0.5:
            return True
    return False


def _compose_subbatch(hw, workload, table, rec: np.ndarray, halves: list[np.ndarray], row: np.ndarray):
    """Totals of one placed point whose batch runs as two interleaved sub-batches (``cosim.schedulers.subbatch``).
    ``halves``: per unit, (2, N, N_OUT) costs of each op's half batches. Each sub-batch's ops use their placed unit;
    a hand-over into an op is split between the sub-batches and held by the op's unit."""
    from cosim.schedulers.subbatch import interleave

    count = table[:, COL["count"]]
    stages = table[:, COL["stage"]].astype(int)
    n_stages = int(stages.max()) + 1 if len(stages) else 1
    per_stage = workload.devices / n_stages
    units = rec[:, H_UNIT].astype(int)
    n = np.arange(len(units))
    half = np.stack([np.stack([halves[units[i]][sb, i] for i in n]) for sb in range(2)])  # (2, N, N_OUT)
    times = half[:, :, O_TIME] + rec[None, :, H_XFER_S] / (2.0 * np.maximum(count, 1.0))
    blocked = _blocked(hw, row)
    periods, busy = [], np.zeros(len(hw.units))
    for s in range(n_stages):
        idx = np.flatnonzero(stages == s)
        sim = interleave(times[:, idx], units[idx], count[idx], len(hw.units), blocked)
        periods.append(sim.period_s)
        busy += sim.busy_s / n_stages
    period, latency = float(max(periods)), float(sum(periods))
    out = _energy_totals(workload, rec, half, count, per_stage, latency, period)
    for u, name in enumerate(hw.units):
        out[f"utilization_{name}"] = float(busy[u]) / period
    return out


def evaluate_points(hardware: HeteroHardware, workload: Workload, params: np.ndarray, objective: str = "latency",
                    table: np.ndarray | None = None, with_raw: bool = False, pins: dict[str, str] | None = None):
    """As ``cosim.engine.evaluate_points`` for a heterogeneous device; ``raw`` holds hetero per-op records."""
    objective_code(objective)
    params = np.atleast_2d(np.asarray(params, dtype=np.float64))
    table = op_table(workload) if table is None else table
    n = params.shape[0]
    totals: dict[str, Any] = {c: np.full(n, np.nan) for c in TOTAL_COLUMNS if c not in ("feasible", "reason")}
    totals["feasible"] = np.zeros(n, dtype=bool)
    totals["reason"] = np.full(n, "", dtype=object)
    totals["devices"][:] = workload.devices
    raw = np.full((n, table.shape[0], H_OUT), np.nan)
    settings = params[:, hardware.slices()["settings"]]
    groups: dict[tuple, list[int]] = {}
    for p in range(n):
        groups.setdefault((bool(settings[p, 0]), int(settings[p, 1])), []).append(p)
    code = objective_code(objective)
    for (allow_split, steps), members in groups.items():
        costs = _evaluate_units(hardware, workload, table, params[members], code, allow_split, steps)
        allowed = _pins(hardware, workload, costs.options, pins)
        halves = None
        for j, p in enumerate(members):
            row = params[p]
            try:
                placement, chosen = _place_point(hardware, workload, table, costs, j, row, objective, allowed)
            except ValueError as exc:
                totals["reason"][p] = f"placement: {exc}"
                continue
            need, cap = _unit_need(hardware, workload, placement.frac), _capacities(hardware, row)
            worst = int(np.argmax(need / cap))
            totals["memory_per_device_bytes"][p], totals["memory_capacity_bytes"][p] = need[worst], cap[worst]
            if need[worst] > cap[worst]:
                totals["reason"][p] = (f"memory: unit {list(hardware.units)[worst]!r} needs {need[worst] / 1e9:.2f} "
                                       f"GB for its placed ops > capacity {cap[worst] / 1e9:.2f} GB")
                continue
            rec = _record(placement, chosen, _idle(hardware, row))
            raw[p] = rec
            mode = CONCURRENCY[int(settings[p, 2])]
            if mode == "subbatch":
                if halves is None:
                    halves = _half_costs(hardware, workload, params[members], code)
                composed = _compose_subbatch(hardware, workload, table, rec, [h[:, j] for h in halves], row)
            else:
                composed = _compose(hardware, workload, table, rec, mode == "overlap")
            for key, value in composed.items():
                totals.setdefault(key, np.full(n, np.nan))[p] = value
            totals["feasible"][p] = True
    return (totals, raw) if with_raw else totals


def op_frame(hardware: HeteroHardware, workload: Workload, table: np.ndarray, raw: np.ndarray):
    """The per-op DataFrame of one placed point: the engine's columns plus unit, split share and transfers.

    ``time_s`` includes the hand-overs into the op (``transfer_s``); ``energy_interconnect_j`` includes their energy;
    ``energy_static_j`` is every unit's static power over the op's time.
    """
    import pandas as pd

    names = list(hardware.units)
    count = table[:, COL["count"]]
    n_stages = int(table[:, COL["stage"]].max()) + 1 if len(table) else 1
    per_stage = workload.devices / n_stages
    time = raw[:, O_TIME] * count + raw[:, H_XFER_S]
    rows = {
        "op": [op.name for op in workload.ops],
        "kind": [op.kind for op in workload.ops],
        "unit": [names[int(u)] for u in raw[:, H_UNIT]],
        "split_unit": [names[int(u)] if u >= 0 else "" for u in raw[:, H_SECOND]],
        "unit_share": raw[:, H_SHARE],
        "stage": table[:, COL["stage"]].astype(int),
        "count": count.astype(int),
        "flops": table[:, COL["flops"]] * count,
        "bytes": table[:, COL["bytes"]] * count,
        "dram_bytes": raw[:, O_DRAM_BYTES] * count,
        "time_s": time,
        "transfer_s": raw[:, H_XFER_S],
        "transfer_bytes": raw[:, H_XFER_BYTES],
    }
    for name, slot in zip(ENERGY_COMPONENTS[:-1], _DYNAMIC):
        rows[f"energy_{name}_j"] = raw[:, slot] * count * per_stage
    rows["energy_interconnect_j"] = rows["energy_interconnect_j"] + raw[:, H_XFER_J]
    rows["energy_static_j"] = raw[:, H_STATIC_W] * time * per_stage
    frame = pd.DataFrame(rows)
    frame["energy_j"] = frame[[f"energy_{c}_j" for c in ENERGY_COMPONENTS]].sum(axis=1)
    labels, bounds = [], []
    for n, r in enumerate(raw):
        kind = hardware.units[names[int(r[H_UNIT])]].device
        bounds.append(kind.bound_names[int(r[O_BOUND])])
        label = kind.mapping_label(r[:N_OUT])
        where = names[int(r[H_UNIT])]
        if r[H_SECOND] >= 0:
            where = f"{where} {r[H_SHARE]:.3g} + {names[int(r[H_SECOND])]} {1 - r[H_SHARE]:.3g}"
        labels.append(f"{where}: {label}" if label else where)
    frame["bound"] = bounds
    frame["utilization"] = raw[:, O_UTIL]
    frame["mapping"] = labels
    frame["intensity"] = np.divide(frame["flops"], frame["bytes"], out=np.zeros(len(frame)), where=frame["bytes"] > 0)
    return frame


def place(workload: Workload, units: dict[str, Hardware], links: dict[str, dict] | list[dict],
          objective: str = "latency", allow_split: bool = False, pins: dict[str, str] | None = None,
          split_steps: int = 8) -> Placement:
    """Place ``workload``'s ops on ``units`` joined by ``links`` (each {between, bandwidth_gbps, latency_us,
    e_pj_per_bit}); ``pins`` maps an op name or kind to a unit. Returns the ``Placement`` (unit shares per op)."""
    from pydantic import ValidationError

    if isinstance(links, list):
        links = {f"link{i}": link for i, link in enumerate(links)}
    try:
        spec = HeteroSpec(name="placement", kind="hetero", units={u: {"preset": h.name} for u, h in units.items()},
                      links=links, placement=dict(pins or {}), allow_split=allow_split, split_steps=split_steps)
    except ValidationError as exc:
        raise HardwareConfigError(format_validation_error(exc)) from None
    params = np.concatenate([h.params for h in units.values()] + [pack_links(spec), _settings(spec)])
    hw = HeteroHardware(name="placement", kind="hetero", spec=spec, sources={}, params=params, units=dict(units))
    table = op_table(workload)
    costs = _evaluate_units(hw, workload, table, params[None, :], objective_code(objective), allow_split, split_steps)
    allowed = _pins(hw, workload, costs.options, None)
    placement, _ = _place_point(hw, workload, table, costs, 0, params, objective, allowed)
    return placement
