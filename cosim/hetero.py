"""Heterogeneous devices in the engine: load a ``kind: hetero`` preset, cost every op on every unit with the units'
own kernels, place ops with ``mappings.placement`` and compose totals (transfers count as interconnect).

Each unit evaluates the op table once per design point (and, with ``allow_split``, the two parts of each op's batch
at every split fraction). Totals compose as in ``cosim.engine``: ops of a stage run one after another (``sequential``)
and a batch takes the sum; with ``concurrency: overlap`` units and links work on different sub-batches at once, so a
stage's period is its busiest unit's (or the links', or — for units in one ``shared_memory`` — the time their bytes
hold its channels) while the latency is unchanged. All units draw static power for the whole period.

Many design points are evaluated at once: each unit's kernel runs once per distinct op (the layers of a network share
one) and distinct parameter vector of that unit (GPU tile searches through ``mappings.cache``, so the workload
variants of a sweep search a GEMM shape once), the options' costs per distinct op come from one compiled pass
(``mappings.placement_sums.option_costs``), placement runs over all points in ``mappings.placement_batch`` (which scores
the ops inside its compiled pass), and totals are composed from compiled per-point sums over the placed ops
(``mappings.placement_sums.placed_sums``). Per-op records are built only when asked for (``with_raw``: op frames,
``simulate``) and for ``subbatch`` schedules, which come from ``cosim.schedulers.subbatch_batch`` (the SimPy model's
answer without SimPy).
"""

from __future__ import annotations

from copy import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from cosim.totals import DYNAMIC_SLOTS, ENERGY_COMPONENTS, TOTAL_COLUMNS, finish_totals
from hw_models.hardware import Hardware, HeteroHardware, compose_hetero, format_validation_error
from hw_models.cost import ADDITIVE_FIELDS, N_OUT, O_BOUND, O_BYTES_OFFCHIP, O_MAPPING, O_TIME, O_UTIL
from hw_models.hetero import CONCURRENCY, HeteroSpec, link_matrices, shared_units
from hw_models.preset import HardwareConfigError
from mappings.bindings import kernel, mapping_label
from mappings.objectives import objective_code
from mappings.placement import Placement, assign, split_options
from mappings.placement_batch import Placements, assign_points, op_costs
from mappings.placement_sums import option_costs, placed_sums
from workloads.ir import Op, Workload
from workloads.table import COL, distinct_ops, op_row, op_table, row_key

# The dimension an op's batch is split along, per op kind.
SPLIT_DIM = {"matmul": "m", "conv": "batch", "synaptic": "m", "attention": "batch", "elementwise": "elements",
             "norm": "elements", "softmax": "elements", "kv_write": "elements", "gather": "rows",
             "routing": "tokens", "neuron_update": "neurons", "collective": "elements"}
# Extra slots of a hetero per-op record, after the N_OUT slots of the combined cost.
H_UNIT, H_SECOND, H_SHARE, H_XFER_S, H_XFER_J, H_XFER_BYTES, H_STATIC_W = range(N_OUT, N_OUT + 7)
H_OUT = N_OUT + 7


# ---- evaluation ------------------------------------------------------------------------------------------------

@dataclass
class _Rows:
    """A table as its distinct rows: ``rows[of[n]]`` is row ``n``; ``first[d]`` is the first op with row ``d``."""

    rows: np.ndarray
    of: np.ndarray
    first: np.ndarray


def _grouped(table: np.ndarray, of: np.ndarray, n_groups: int) -> _Rows:
    """``table``'s rows grouped by ``of`` (row n is in group ``of[n]``): each group's first row."""
    first = np.zeros(n_groups, dtype=np.int64)
    first[of[::-1]] = np.arange(len(of))[::-1]
    return _Rows(np.ascontiguousarray(table[first]), of, first)


def _distinct(table: np.ndarray) -> _Rows:
    """Distinct rows of ``table``."""
    index: dict = {}
    of = np.array([index.setdefault(row.tobytes(), len(index)) for row in table], dtype=np.int64)
    return _grouped(table, of, len(index))


def _op_groups(workload: Workload, table: np.ndarray) -> tuple[_Rows, list[Op]]:
    """Ops that are equal (``workloads.table.row_key``: the same expert or layer shape wherever it sits), costed and
    split once; also the first op of each group."""
    firsts, of = distinct_ops(workload.ops)
    return _grouped(table, of, len(firsts)), firsts


def _split_tables(workload: Workload, groups: _Rows, steps: int):
    """For k = 1..steps-1, per distinct op (``groups``): the table of its first k/steps of its batch, of the rest,
    and the first part's actual share (0 when the op cannot be split that finely or has no batch dimension)."""
    n_distinct = len(groups.first)
    shares = [[0.0] * n_distinct for _ in range(1, steps)]
    parts: list = []  # the split ops' rows; each table's rows: an index into parts, or -1 - d for distinct op d whole
    where = [[[-1 - d for d in range(n_distinct)] for _ in range(1, steps)] for _ in range(2)]
    made: dict[tuple[int, int], int] = {}  # (distinct op, size of the part) → index into parts
    keys: dict[int, tuple | None] = {}

    def part(d: int, op: Op, dim: str, size: int) -> int:
        if (d, size) not in made:
            if d not in keys:
                keys[d] = _hashable_key(op)
            made[d, size] = len(parts)
            parts.append(_part_row(op, keys[d], dim, size))
        return made[d, size]

    for d, n in enumerate(groups.first):
        op = workload.ops[n]
        dim = SPLIT_DIM.get(op.kind)
        total = op.dim(dim) if dim else 0
        for k in range(1, steps):
            a = int(round(k * total / steps))
            if dim and 0 < a < total:
                where[0][k - 1][d], where[1][k - 1][d] = part(d, op, dim, a), part(d, op, dim, total - a)
                shares[k - 1][d] = a / total
    split = np.array(parts, dtype=np.float64).reshape(len(parts), groups.rows.shape[1])
    shares, where = np.array(shares).reshape(steps - 1, n_distinct), np.array(where, dtype=np.int64)
    rows = np.concatenate([split, groups.rows[::-1]])
    firsts = [rows[i] for i in where[0]]  # -1 - d indexes groups.rows[d] from the end of the reversed copy
    rests = [rows[i] for i in where[1]]
    return firsts, rests, shares


# Rows of split parts, by (``row_key`` of the whole op, dimension, size): the workload variants of a sweep split the
# same ops (the experts and projections at one batch size, whatever the context). Bounded: cleared when full.
_PART_ROWS: dict = {}
_PART_ROWS_MAX = 200_000


def clear_caches() -> None:
    """Empty the process-wide caches heterogeneous evaluation fills (split-op rows, GPU tile-search results)."""
    from mappings.cache import clear_shared

    _PART_ROWS.clear()
    clear_shared()


def _hashable_key(op: Op) -> tuple | None:
    """``row_key`` of ``op``, or None when it cannot be hashed (a list-valued tag)."""
    key = row_key(op)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _part_row(op: Op, key: tuple | None, dim: str, size: int) -> list[float]:
    """``op_row`` of ``op`` with dimension ``dim`` set to ``size`` (``key``: ``op``'s ``row_key``, None: not
    cached)."""
    if key is None:
        return op_row(_with_dim(op, dim, size))
    cell = (key, dim, size)
    row = _PART_ROWS.get(cell)
    if row is None:
        if len(_PART_ROWS) >= _PART_ROWS_MAX:
            _PART_ROWS.clear()
        row = _PART_ROWS[cell] = op_row(_with_dim(op, dim, size))
    return row


def _with_dim(op: Op, dim: str, value: int) -> Op:
    """``op`` with one dimension changed (a non-negative int, so the checks of ``Op`` hold as they did)."""
    part = copy(op)
    part.dims, part.tags = {**op.dims, dim: value}, dict(op.tags)
    return part


def _unit_kernel(kind: str):
    """A unit's batched kernel. GPU tile searches go through a result cache (``mappings.cache``): the workload
    variants of a sweep repeat most GEMM shapes (the experts and projections at one batch size, whatever the context),
    and a unit's search is its costliest part."""
    if kind != "gpu":
        return kernel(kind)
    from mappings.cache import shared_mapper
    from mappings.driver import KERNEL_CODES

    return shared_mapper(KERNEL_CODES["gpu"])


def _unit_raw(unit: Hardware, rows: np.ndarray, params: np.ndarray, code: int) -> np.ndarray:
    """(P, D, N_OUT) kernel costs of the rows; each distinct parameter vector of the unit is costed once."""
    points = _distinct(params)
    return _unit_kernel(unit.kind)(np.ascontiguousarray(rows), points.rows, code)[points.of]


@dataclass
class _Costs:
    """Per point: per (distinct op, option, unit) cost records of the parts, as cells of ``flat``: the record of
    point p, distinct op d, option o, unit u is ``flat[base[p, u] + row[d, o, u]]`` where ``row[d, o, u] >= 0``; a
    unit without a part (-1) holds zeros, and one with -2 infinite time (the op cannot be split this finely: the
    option is excluded). Per op the options' batch shares."""

    flat: np.ndarray  # (cells, N_OUT)
    base: np.ndarray  # (P, U)
    row: np.ndarray  # (D, O, U)
    frac: np.ndarray  # (N, O, U)
    options: list
    of: np.ndarray  # (N,) distinct op of each op
    frac_distinct: np.ndarray  # (D, O, U)

    def parts(self) -> np.ndarray:
        """(P, D, O, U, N_OUT) records (for full per-op records)."""
        parts = self.flat[self.base[:, None, None, :] + np.maximum(self.row, 0)[None]]
        parts[:, self.row < 0] = 0.0
        parts[:, self.row == -2, O_TIME] = np.inf
        return parts


def _evaluate_units(hw: HeteroHardware, groups: _Rows, params: np.ndarray, code: int, allow_split: bool,
                    steps: int, splits) -> _Costs:
    """Costs of every distinct op under every option; ``splits`` is ``_split_tables(…, steps)`` when splitting.
    Each unit costs, in one kernel call, the distinct rows of the tables its options run on it (the whole ops, the
    first parts of the splits it leads, the rest of those it follows) at its distinct parameter vectors."""
    names = list(hw.units)
    n_units, n_distinct, n_points = len(names), len(groups.first), params.shape[0]
    sl = hw.slices()
    options = split_options(n_units, steps, allow_split)
    frac = np.zeros((n_distinct, len(options), n_units))
    row = np.full((n_distinct, len(options), n_units), -1, dtype=np.int64)
    needs: list[list] = [[] for _ in names]  # per unit: (option, table of the part it runs)
    for o, (a, b, k) in enumerate(options):
        if a == b:
            needs[a].append((o, groups.rows))
            frac[:, o, a] = 1.0
            continue
        share = splits[2][k - 1]
        ok = share > 0
        needs[a].append((o, splits[0][k - 1]))
        needs[b].append((o, splits[1][k - 1]))
        frac[:, o, a], frac[:, o, b] = share, np.where(ok, 1.0 - share, 0.0)
    base = np.zeros((n_points, n_units), dtype=np.int64)
    flat, size = [], 0
    for u, name in enumerate(names):
        rows = _distinct(np.concatenate([t for _, t in needs[u]]))
        points = _distinct(params[:, sl[name]])
        raw = _unit_kernel(hw.units[name].kind)(rows.rows, points.rows, code)  # (distinct points, rows, N_OUT)
        base[:, u] = size + points.of * len(rows.rows)
        for i, (o, _) in enumerate(needs[u]):
            row[:, o, u] = rows.of[i * n_distinct:(i + 1) * n_distinct]
        flat.append(raw.reshape(-1, N_OUT))
        size += raw.shape[0] * raw.shape[1]
    for o, (a, b, k) in enumerate(options):
        if a != b:  # not splittable this finely: the option is excluded
            out = splits[2][k - 1] <= 0
            row[out, o, a], row[out, o, b] = -2, -1
    return _Costs(np.concatenate(flat), base, row, frac[groups.of], options, groups.of, frac)


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


@dataclass
class _OpBytes:
    """Per op: output bytes (handed over), weight bytes resident (all copies), KV cache bytes read."""

    out: np.ndarray
    weight: np.ndarray
    kv: np.ndarray


def _op_bytes(ops: list[Op], of: np.ndarray) -> _OpBytes:
    """Per op, from its group's first op (``ops``) and each op's group (``of``)."""
    operands = [op.operand_bytes for op in ops]
    return _OpBytes(np.array([b.get("output", 0.0) for b in operands])[of],
                    np.array([b.get("weight", 0.0) * op.weight_copies if op.parameters else 0.0
                              for b, op in zip(operands, ops)])[of],
                    np.array([b.get("kv_read", 0.0) * op.count for b, op in zip(operands, ops)])[of])


def _unit_slot(hw: HeteroHardware, params: np.ndarray, attr: str) -> np.ndarray:
    """(P, U): each unit's parameter named by its device kind's ``attr`` (``idle_param``, ``capacity_param``)."""
    sl = hw.slices()
    return np.stack([params[:, sl[u]][:, unit.device.param_index[getattr(unit.device, attr)]]
                     for u, unit in hw.units.items()], axis=1)


def _stages(table: np.ndarray, workload: Workload) -> tuple[np.ndarray, int, float]:
    stages = table[:, COL["stage"]].astype(int)
    n_stages = int(stages.max()) + 1 if len(stages) else 1
    return stages, n_stages, workload.devices / n_stages


def _option_tables(costs: _Costs, per_stage: float, inv_bw: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per point, distinct op and option (``mappings.placement_sums.option_costs``): the time and dynamic energy of
    one instance on one device (the DP's costs), and the time and dynamic energies per slot (``DYNAMIC_SLOTS``) of
    the units taking part (what records and totals read); ``inv_bw`` (``_shared_inv_bw``) bounds split parts on
    units sharing one memory."""
    return option_costs(costs.flat, costs.base, costs.row, costs.frac_distinct > 0, np.array(DYNAMIC_SLOTS),
                        per_stage, inv_bw)


def _shared_inv_bw(hw: HeteroHardware, params: np.ndarray) -> np.ndarray:
    """(P, U): seconds per main-memory byte of each unit in the point's ``shared_memory`` (1 / its bandwidth by
    its kind's ``bandwidth_param``), 0 for the others."""
    member = shared_units(params[:, hw.slices()["settings"]], len(hw.units))
    out = np.zeros((len(params), len(hw.units)))
    sl = hw.slices()
    for u, (name, unit) in enumerate(hw.units.items()):
        if not member[:, u].any():
            continue
        slot = unit.device.bandwidth_param
        if not slot:
            raise HardwareConfigError(f"shared_memory: unit {name!r} is a {unit.kind!r} device, whose memory "
                                      f"bandwidth is not known to the model; units of kinds "
                                      f"{', '.join(_bandwidth_kinds())} can share a memory")
        out[:, u] = np.where(member[:, u], 1.0 / params[:, sl[name]][:, unit.device.param_index[slot]], 0.0)
    return out


def _bandwidth_kinds() -> list[str]:
    """Device kinds whose main-memory bandwidth the model knows."""
    from hw_models.kinds import hardware_kind, kind_names

    return [k for k in kind_names() if hardware_kind(k).bandwidth_param]


def _placement_inputs(hw, workload, table, params: np.ndarray):
    """Per point: links and static power (with the op costs of ``_option_tables``, the DP's inputs)."""
    _, _, per_stage = _stages(table, workload)
    packed = params[:, hw.slices()["links"]]
    distinct = _distinct(packed)
    matrices = []
    for row in distinct.rows:
        bw, lat, e = link_matrices(hw.spec, row)
        matrices.append((bw, lat, e * per_stage))
    links = [matrices[d] for d in distinct.of]
    static_w = _unit_slot(hw, params, "idle_param").sum(axis=1) * workload.devices
    return links, static_w


def _place_points(hw, workload, table, costs: _Costs, tables, params: np.ndarray, objective: str, allowed,
                  out_bytes: np.ndarray) -> Placements:
    """Place the ops of every design point (``params`` rows, matching ``costs``; ``tables`` ``_option_tables``)."""
    links, static_w = _placement_inputs(hw, workload, table, params)
    return assign_points(tables[0], tables[1], costs.frac, out_bytes, table[:, COL["count"]], links, objective,
                         static_w, costs.of, allowed)


def _records(costs: _Costs, placed: Placements, idle: np.ndarray, option_costs, full: bool = True) -> np.ndarray:
    """Per point and op, the hetero record of its placed option: combined cost slots plus unit, share, transfers
    (see H_* slots). Records are built per (point, distinct op, option), then picked; ``idle`` (P, U) is the units'
    static power, ``option_costs`` the last two of ``_option_tables``. Without ``full`` only the time, dynamic
    energies, units and transfers are filled (what the sub-batch schedule reads)."""
    frac = costs.frac_distinct  # (D, O, U)
    n_units = frac.shape[-1]
    used = frac > 0  # (D, O, U), broadcast over points
    primary = np.argmax(np.where(used, frac, -np.inf), axis=2)  # (D, O): the same for every point
    slots = list(range(H_OUT)) if full else [O_TIME, *DYNAMIC_SLOTS, H_UNIT, H_SECOND]
    column = {slot: i for i, slot in enumerate(slots)}
    opt = np.zeros(option_costs[0].shape + (len(slots),))
    if full:
        parts = costs.parts()  # (P, D, O, U, N_OUT)
        t = parts[..., O_TIME]
        slow = np.argmax(np.where(used, t, -np.inf), axis=3)
        opt[..., :N_OUT] = np.take_along_axis(parts, slow[..., None, None], axis=3)[..., 0, :]
        index = np.broadcast_to(primary[None, :, :, None, None], parts.shape[:3] + (1, 1))
        opt[..., O_MAPPING:N_OUT] = np.take_along_axis(parts, index, axis=3)[..., 0, O_MAPPING:N_OUT]
        opt[..., H_SHARE] = np.take_along_axis(frac, primary[..., None], axis=2)[..., 0]
        for slot in ADDITIVE_FIELDS[1:]:  # byte counts and static energy: summed over the units taking part
            if slot not in DYNAMIC_SLOTS:
                opt[..., slot] = np.where(used, parts[..., slot], 0.0).sum(axis=3)
    opt[..., column[O_TIME]] = option_costs[0]
    opt[..., [column[slot] for slot in DYNAMIC_SLOTS]] = option_costs[1]
    opt[..., column[H_UNIT]] = primary
    second = used & (np.arange(n_units)[None, None, :] != primary[..., None])
    opt[..., column[H_SECOND]] = np.where(second.any(axis=2), np.argmax(second, axis=2), -1)
    rec = np.zeros(placed.option.shape + (H_OUT,))
    rec[..., slots] = opt[np.arange(len(opt))[:, None], costs.of[None, :], placed.option]  # (P, N, slots)
    rec[..., H_XFER_S], rec[..., H_XFER_J], rec[..., H_XFER_BYTES] = (placed.transfer_time, placed.transfer_energy,
                                                                     placed.transfer_bytes)
    rec[..., H_STATIC_W] = idle.sum(axis=1)[:, None]
    return rec


def _unit_need(workload: Workload, op_bytes: _OpBytes, weights: np.ndarray, kv: np.ndarray) -> np.ndarray:
    """(P, U) bytes resident on each unit: weights of the ops it runs (any share), its share of the KV cache read by
    the attention it runs, and the activations (on every unit). ``weights``/``kv`` (P, U): the op's weight bytes
    summed over the ops on each unit, its KV bytes × the unit's share (``mappings.placement_sums``)."""
    mem = workload.memory_bytes
    need = np.full(weights.shape, float(mem.get("activations", 0.0)))
    for total, per_op, summed in ((mem.get("weights", 0.0), op_bytes.weight, weights),
                                  (mem.get("kv_cache", 0.0), op_bytes.kv, kv)):
        if total <= 0:
            continue
        if per_op.sum() <= 0:
            need += total  # not attributable to an op: every unit holds it
            continue
        need += total * summed / per_op.sum()
    other = sum(v for k, v in mem.items() if k not in ("weights", "kv_cache", "activations"))
    return need + other


def _shared_capacity(member: np.ndarray, workload: Workload, op_bytes: _OpBytes, weights: np.ndarray,
                     kv: np.ndarray, shared_w: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P, U) need and capacity, each unit's from ``_unit_need`` (``weights``, ``kv`` (P, U)), with the units
    sharing one memory (``member`` (P, U)) as one: each of them holds what all of them need (the activations,
    unattributed bytes and the weights of an op split between them once, ``shared_w`` (P,)) against the smallest of
    their capacities."""
    need = _unit_need(workload, op_bytes, weights, kv)
    if not member.any():
        return need, cap
    zeros = np.zeros_like(need)
    base = _unit_need(workload, op_bytes, zeros, zeros)  # what every unit holds whatever it runs
    kv_need = _unit_need(workload, op_bytes, zeros, kv) - base
    held = _unit_need(workload, op_bytes, shared_w[:, None], zeros[:, :1])[:, 0] - base[:, 0]  # weights, once
    together = base[:, 0] + held + np.where(member, kv_need, 0.0).sum(axis=1)
    smallest = np.where(member, cap, np.inf).min(axis=1)
    return np.where(member, together[:, None], need), np.where(member, smallest[:, None], cap)


def _energy_totals(workload, dyn: np.ndarray, xfer_j: np.ndarray, static_w: np.ndarray, per_stage: float, latency,
                   period) -> dict[str, np.ndarray]:
    """Per point: latency, period, energy by component (``dyn`` (P, K): each dynamic slot's energy × count summed
    over ops, of one device; hand-overs ``xfer_j`` as interconnect), idle energy of every device over the period, and
    the derived totals."""
    out: dict[str, np.ndarray] = {"latency_s": latency, "period_s": period}
    dynamic = np.zeros(len(dyn))
    for k, name in enumerate(ENERGY_COMPONENTS[:-1]):
        e = dyn[:, k] * per_stage
        if name == "interconnect":
            e = e + xfer_j
        out[f"energy_{name}_j"] = e
        dynamic = dynamic + e
    return finish_totals(out, dynamic, static_w, workload, latency, period)


def _compose(hw, workload, table, sums, static_w: np.ndarray, overlap: bool) -> dict[str, np.ndarray]:
    """Totals of placed points from their sums (``mappings.placement_sums.placed_sums``)."""
    stage_time, busy, dyn, xfer_j, shared = sums[:5]
    _, n_stages, per_stage = _stages(table, workload)
    # With overlap a stage's period is its busiest unit's (or the links', or a shared memory's) time.
    period = np.maximum(busy.max(axis=2), shared).max(axis=1) if overlap else stage_time.max(axis=1)
    latency = stage_time.sum(axis=1)
    out = _energy_totals(workload, dyn, xfer_j, static_w, per_stage, latency, period)
    for u, name in enumerate(hw.units):  # busy time of each unit over the period (stages run on their own devices)
        out[f"utilization_{name}"] = busy[:, :, u].sum(axis=1) / n_stages / period
    return out


def _half_costs(hw: HeteroHardware, params: np.ndarray, code: int, halves, of: np.ndarray) -> list[np.ndarray]:
    """Per unit: (2, P, N, N_OUT) costs of each op's two half batches (the sub-batches of interleaving);
    ``halves`` is ``_split_tables(…, 2)``, ``of`` the distinct op of each op. An op that cannot be halved (a batch of
    one) runs whole in the first sub-batch and costs nothing in the second."""
    firsts, rests, shares = halves
    whole = shares[0][of] == 0
    sl = hw.slices()
    out = [np.stack([_unit_raw(unit, t, params[:, sl[u]], code)[:, of] for t in (firsts[0], rests[0])])
           for u, unit in hw.units.items()]
    for h in out:
        h[1][:, whole] = 0.0
    return out


def _blocked(hw: HeteroHardware, params: np.ndarray) -> np.ndarray:
    """Per point: whether a PIM unit's memory is blocked (PIM computation and normal traffic exclude each other)."""
    sl = hw.slices()
    blocked = np.zeros(len(params), dtype=bool)
    for u, unit in hw.units.items():
        if unit.kind == "pim":
            blocked |= params[:, sl[u]][:, unit.device.param_index["dual"]] < 0.5
    return blocked


def _compose_subbatch(hw, workload, table, rec: np.ndarray, halves: list[np.ndarray], params: np.ndarray):
    """Totals of placed points whose batch runs as two interleaved sub-batches (the schedule of
    ``cosim.schedulers.subbatch``, computed for all points by ``cosim.schedulers.subbatch_batch``).
    ``halves``: per unit, (2, P, N, N_OUT) costs of each op's half batches. Each sub-batch's ops use their placed
    unit; a hand-over into an op is split between the sub-batches and held by the op's unit."""
    from cosim.schedulers.subbatch_batch import interleave_points

    count = table[:, COL["count"]]
    stages, n_stages, per_stage = _stages(table, workload)
    units = rec[..., H_UNIT].astype(int)  # (P, N)
    half = np.zeros((2,) + rec.shape[:2] + (N_OUT,))
    for u in range(len(hw.units)):
        half = np.where((units == u)[None, :, :, None], halves[u], half)
    half = half.transpose(1, 0, 2, 3)  # (P, 2, N, N_OUT)
    times = half[..., O_TIME] + rec[:, None, :, H_XFER_S] / (2.0 * np.maximum(count, 1.0))
    blocked = _blocked(hw, params)
    # per op, both sub-batches' time on the channels of a shared memory (bytes over each unit's bandwidth)
    shared_s = (half[..., O_BYTES_OFFCHIP].sum(axis=1) * np.take_along_axis(_shared_inv_bw(hw, params), units, axis=1)
                * count)
    latency, period = np.zeros(len(rec)), np.zeros(len(rec))
    busy = np.zeros((len(rec), len(hw.units)))
    for s in range(n_stages):
        idx = np.flatnonzero(stages == s)
        stage_period, stage_busy = interleave_points(times[:, :, idx], units[:, idx], count[idx], len(hw.units),
                                                     blocked)
        stage_period = np.maximum(stage_period, shared_s[:, idx].sum(axis=1))  # the channels carry all of it
        period = stage_period if s == 0 else np.maximum(period, stage_period)
        latency = latency + stage_period
        busy += stage_busy / n_stages
    dyn = np.stack([(half[..., slot] * count).reshape(len(rec), -1).sum(axis=1) for slot in DYNAMIC_SLOTS], axis=1)
    out = _energy_totals(workload, dyn, rec[..., H_XFER_J].sum(axis=1), rec[:, 0, H_STATIC_W], per_stage, latency,
                         period)
    for u, name in enumerate(hw.units):
        out[f"utilization_{name}"] = busy[:, u] / period
    return out


def _chunks(n_points: int, per_point: int) -> list[slice]:
    """Slices of points so that one chunk's cost arrays stay near 128 MB."""
    size = max(1, 16_000_000 // max(per_point, 1))
    return [slice(i, min(i + size, n_points)) for i in range(0, n_points, size)]


def _evaluate_group(hardware, workload, table, groups, op_bytes, params, code, objective, allow_split, steps, mode,
                    pins, splits, halves_tables, with_raw=False):
    """Totals (dict of arrays), records (P, N, H_OUT; with ``with_raw``, else None) and failure reasons of points
    sharing their settings."""
    names = list(hardware.units)
    costs = _evaluate_units(hardware, groups, params, code, allow_split, steps, splits)
    allowed = _pins(hardware, workload, costs.options, pins)
    n = len(params)
    reasons = np.full(n, "", dtype=object)
    stages, n_stages, per_stage = _stages(table, workload)
    inv_bw = _shared_inv_bw(hardware, params)
    tables = _option_tables(costs, per_stage, inv_bw)
    option_costs = tables[2:]
    placed = _place_points(hardware, workload, table, costs, tables, params, objective, allowed, op_bytes.out)
    reasons[~placed.ok] = ("placement: no feasible placement: every option of some op is excluded or "
                           "unreachable")
    member = shared_units(params[:, hardware.slices()["settings"]], len(names))
    sums = placed_sums(placed.option, placed.ok, placed.transfer_time, placed.transfer_energy, *option_costs,
                       costs.frac_distinct, costs.of, table[:, COL["count"]], stages, n_stages, op_bytes.weight,
                       op_bytes.kv, member)
    need, cap = _shared_capacity(member, workload, op_bytes, *sums[5:], _unit_slot(hardware, params, "capacity_param"))
    worst = np.argmax(need / cap, axis=1)
    need_w, cap_w = need[np.arange(n), worst], cap[np.arange(n), worst]
    over = placed.ok & (need_w > cap_w)
    for p in np.flatnonzero(over):
        shared = member[p, worst[p]]
        who = (f"units {', '.join(repr(names[u]) for u in np.flatnonzero(member[p]))} (one shared memory) need"
               if shared else f"unit {names[worst[p]]!r} needs")
        reasons[p] = (f"memory: {who} {need_w[p] / 1e9:.2f} GB for {'their' if shared else 'its'} placed ops "
                      f"> capacity {cap_w[p] / 1e9:.2f} GB")
    good = placed.ok & ~over
    memory = (np.where(placed.ok, need_w, np.nan), np.where(placed.ok, cap_w, np.nan))
    idle = _unit_slot(hardware, params, "idle_param")
    rec = _records(costs, placed, idle, option_costs, with_raw) if with_raw or mode == "subbatch" else None
    composed: dict[str, np.ndarray] = {}
    if good.any():
        g = np.flatnonzero(good)
        if mode == "subbatch":
            halves = _half_costs(hardware, params[g], code, halves_tables, costs.of)
            composed = _compose_subbatch(hardware, workload, table, rec[g], halves, params[g])
        else:
            composed = _compose(hardware, workload, table, [x[g] for x in sums], idle.sum(axis=1)[g],
                                mode == "overlap")
        composed = {k: (g, v) for k, v in composed.items()}
    return good, reasons, memory, rec, composed


def _sequences(workload: Workload) -> int | None:
    """The batch sub-batch interleaving splits: the workload's ``batch`` parameter, else the most sequences an
    attention op serves (None: neither, and interleaving is not gated)."""
    if "batch" in workload.params:
        return int(workload.params["batch"])
    batches = [op.dim("batch") for op in workload.ops if op.kind == "attention"]
    return max(batches) if batches else None


def evaluate_points(hardware: HeteroHardware, workload: Workload, params: np.ndarray, objective: str = "latency",
                    table: np.ndarray | None = None, with_raw: bool = False, pins: dict[str, str] | None = None):
    """As ``cosim.engine.evaluate_points`` for a heterogeneous device; ``raw`` holds hetero per-op records.

    Points with the same settings (split, steps, concurrency) are evaluated together: unit kernels once per distinct
    op and unit parameter vector, placement and composition vectorised over points."""
    code = objective_code(objective)
    params = np.atleast_2d(np.asarray(params, dtype=np.float64))
    table = op_table(workload) if table is None else table
    n = params.shape[0]
    totals: dict[str, Any] = {c: np.full(n, np.nan) for c in TOTAL_COLUMNS if c not in ("feasible", "reason")}
    totals["feasible"] = np.zeros(n, dtype=bool)
    totals["reason"] = np.full(n, "", dtype=object)
    totals["devices"][:] = workload.devices
    raw = np.full((n, table.shape[0], H_OUT), np.nan) if with_raw else None
    settings = params[:, hardware.slices()["settings"]]
    by_settings: dict[tuple, list[int]] = {}
    batch = _sequences(workload)
    for p in range(n):
        mode = CONCURRENCY[int(settings[p, 2])]
        if mode == "subbatch" and batch is not None and batch < settings[p, 3]:
            mode = "sequential"  # below the smallest interleaved batch the ops run one after another
        key = (bool(settings[p, 0]), int(settings[p, 1]), mode)
        by_settings.setdefault(key, []).append(p)
    splits: dict[int, tuple] = {}
    n_units = len(hardware.units)
    groups, firsts = _op_groups(workload, table)
    op_bytes = _op_bytes(firsts, groups.of)
    for (allow_split, steps, mode), members in by_settings.items():
        if allow_split and steps > 1 and steps not in splits:
            splits[steps] = _split_tables(workload, groups, steps)
        if mode == "subbatch" and 2 not in splits:
            splits[2] = _split_tables(workload, groups, 2)
        n_opt = len(split_options(n_units, steps, allow_split))
        members = np.array(members)
        for chunk in _chunks(len(members), len(groups.first) * n_opt * n_units * N_OUT):
            idx = members[chunk]
            good, reasons, memory, rec, composed = _evaluate_group(
                hardware, workload, table, groups, op_bytes, params[idx], code, objective, allow_split, steps, mode,
                pins, splits.get(steps), splits.get(2), with_raw)
            totals["reason"][idx] = reasons
            totals["memory_per_device_bytes"][idx], totals["memory_capacity_bytes"][idx] = memory
            if with_raw:
                raw[idx[good]] = rec[good]
            for key, (g, value) in composed.items():
                totals.setdefault(key, np.full(n, np.nan))[idx[g]] = value
            totals["feasible"][idx] = good
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
        "dram_bytes": raw[:, O_BYTES_OFFCHIP] * count,
        "time_s": time,
        "transfer_s": raw[:, H_XFER_S],
        "transfer_bytes": raw[:, H_XFER_BYTES],
    }
    for name, slot in zip(ENERGY_COMPONENTS[:-1], DYNAMIC_SLOTS):
        rows[f"energy_{name}_j"] = raw[:, slot] * count * per_stage
    rows["energy_interconnect_j"] = rows["energy_interconnect_j"] + raw[:, H_XFER_J]
    rows["energy_static_j"] = raw[:, H_STATIC_W] * time * per_stage
    frame = pd.DataFrame(rows)
    frame["energy_j"] = frame[[f"energy_{c}_j" for c in ENERGY_COMPONENTS]].sum(axis=1)
    labels, bounds = [], []
    for n, r in enumerate(raw):
        unit = hardware.units[names[int(r[H_UNIT])]]
        bounds.append(unit.device.bound_names[int(r[O_BOUND])])
        label = mapping_label(unit.kind, r[:N_OUT])
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
    hw = compose_hetero("placement", spec, units)
    params = hw.params[None, :]
    table = op_table(workload)
    groups, firsts = _op_groups(workload, table)
    splits = _split_tables(workload, groups, split_steps) if allow_split and split_steps > 1 else None
    costs = _evaluate_units(hw, groups, params, objective_code(objective), allow_split, split_steps, splits)
    allowed = _pins(hw, workload, costs.options, None)
    links, static_w = _placement_inputs(hw, workload, table, params)
    tables = _option_tables(costs, _stages(table, workload)[2], _shared_inv_bw(hw, params))
    time, energy = op_costs(tables[0], tables[1], costs.of, allowed)
    return assign(time[0], energy[0], costs.frac, _op_bytes(firsts, groups.of).out, table[:, COL["count"]], links[0],
                  objective, static_w[0])
