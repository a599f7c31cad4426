"""`cosim map`: one op's best mapping as a loop nest, its cost breakdown, and the runners-up of the search."""

from __future__ import annotations

import math

import numpy as np

from cosim.devices import Hardware
from cosim.errors import CosimInputError
from hw_models.cost import (O_BOUND, O_DRAM_BYTES, O_E_COMPUTE, O_E_DRAM, O_E_L2, O_E_LINK, O_E_STATIC, O_L2_BYTES,
                            O_MAP_0, O_MAP_1, O_MAP_2, O_MAP_3, O_MAP_4, O_TIME, O_UTIL)
from workloads.ir import Workload
from workloads.table import COL

_ENERGY = (("compute (MACs, registers)", O_E_COMPUTE), ("on-chip buffer", O_E_L2), ("DRAM", O_E_DRAM),
           ("interconnect", O_E_LINK), ("static", O_E_STATIC))
_DIMS = "mnk"
# Which GEMM dimension a dataflow unrolls over the PE rows and columns, and which it streams (see spatial_kernels).
_SPATIAL = {0: ("m", "n", "k"), 1: ("k", "n", "m"), 2: ("k", "m", "n")}


# Device kinds whose GEMM-like ops are mapped by the spatial search (an FPGA design is a spatial-template instance).
SPATIAL_KINDS = ("spatial", "fpga")


def _spatial_spec(hw: Hardware):
    """The spatial-template spec of a spatial device, or of an FPGA design (its spatial view)."""
    if hw.kind == "fpga":
        from hw_models.fpga import to_spatial

        return to_spatial(hw.spec)
    return hw.spec


def describer(hw: Hardware):
    """The function that prints a searched mapping on ``hw``; CosimInputError for kinds with fixed kernels only."""
    if hw.kind in SPATIAL_KINDS:
        return describe_spatial
    if hw.kind == "gpu":
        return describe_gpu
    raise CosimInputError(f"{hw.name} is a {hw.kind} device: its ops run fixed kernels, with no mapping search to show "
                          f"(cosim map works on gpu, {', '.join(SPATIAL_KINDS)} devices; `cosim run` shows per-op costs)")


def mappable_ops(hw: Hardware, table: np.ndarray) -> list[int]:
    """Indices of ops whose mapping is searched on this device (GEMM-like ops; attention on spatial devices)."""
    kinds = table[:, COL["kind"]].astype(int)
    allowed = (0, 1) if hw.kind in SPATIAL_KINDS else (0,)
    return [i for i, k in enumerate(kinds) if k in allowed]


def op_list(wl: Workload, table: np.ndarray, hw: Hardware) -> str:
    """Every op with its index, marking those with a searched mapping."""
    mapped = set(mappable_ops(hw, table))
    lines = [f"{wl.name}: {len(wl.ops)} ops (* = has a searched mapping on {hw.name}; pick one with --op N)"]
    for i, op in enumerate(wl.ops):
        dims = " ".join(f"{k}={v}" for k, v in op.dims.items() if v and k != "params")
        lines.append(f"  {i:4d} {'*' if i in mapped else ' '} {op.name:28s} {op.kind:12s} x{op.count:<4d} {dims[:70]}")
    return "\n".join(lines)


def check_op(wl: Workload, table: np.ndarray, hw: Hardware, index: int) -> None:
    """CosimInputError unless ``index`` names an op with a searched mapping."""
    valid = mappable_ops(hw, table)
    if not 0 <= index < len(wl.ops):
        raise CosimInputError(f"--op {index} is out of range: {wl.name} has ops 0..{len(wl.ops) - 1}; ops with a "
                              f"mapping: {_ranges(valid)} (omit --op to list them)")
    if index not in valid:
        op = wl.ops[index]
        raise CosimInputError(f"--op {index} ({op.name!r}, {op.kind}) has no searched mapping on {hw.name} (it runs "
                              f"a fixed kernel); ops with a mapping: {_ranges(valid)}")


def _ranges(indices: list[int]) -> str:
    if not indices:
        return "none"
    parts, start = [], indices[0]
    for a, b in zip(indices, indices[1:] + [None]):
        if b != a + 1:
            parts.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(parts)


def _commented(code: str, comment: str) -> str:
    return f"{code:48s} # {comment}"


def _bytes(v: float) -> str:
    return f"{v:,.0f} B"


def _breakdown(rec: np.ndarray, hw: Hardware, t_compute: float | None, t_buffer: float, t_dram: float) -> list[str]:
    energy = sum(rec[s] for _, s in _ENERGY)
    lines = [f"cost per instance: time {rec[O_TIME] * 1e6:.4g} µs, energy {energy * 1e6:.4g} µJ, "
             f"utilization {rec[O_UTIL] * 100:.3g}%, bound: {hw.device.bound_names[int(rec[O_BOUND])]}"]
    times = [] if t_compute is None else [f"compute {t_compute * 1e6:.4g} µs"]
    times += [f"{'buffer' if hw.kind in SPATIAL_KINDS else 'L2'} {t_buffer * 1e6:.4g} µs", f"DRAM {t_dram * 1e6:.4g} µs"]
    lines.append("  times: " + ", ".join(times))
    lines.append(f"  traffic: DRAM {_bytes(rec[O_DRAM_BYTES])}, {'buffer' if hw.kind in SPATIAL_KINDS else 'L2'} "
                 f"{_bytes(rec[O_L2_BYTES])}")
    lines.append("  energy: " + ", ".join(f"{name} {rec[s] * 1e6:.4g} µJ" for name, s in _ENERGY if rec[s] != 0.0))
    return lines


def _runners_up(records: np.ndarray, scores: np.ndarray, hw: Hardware, objective: str) -> list[str]:
    lines = [f"top {int(np.isfinite(scores).sum())} mappings by {objective} (score: smaller is better):"]
    for j in range(len(scores)):
        if not np.isfinite(scores[j]):
            break
        rec = records[j]
        energy = sum(rec[s] for _, s in _ENERGY)
        lines.append(f"  {j + 1}. {hw.device.mapping_label(rec):60s} time {rec[O_TIME] * 1e6:10.4g} µs  energy "
                     f"{energy * 1e6:10.4g} µJ  score {scores[j]:.6g}")
    return lines


def _spatial_gemms(row: np.ndarray) -> list[tuple]:
    """The GEMMs an op runs on a spatial device, as map_and_cost_op searches them: (label, search_gemm args)."""
    ab, wb, ob, a_unique = row[COL["a_bytes"]], row[COL["w_bytes"]], row[COL["o_bytes"]], row[COL["a_unique"]]
    if int(row[COL["kind"]]) == 0:
        return [("GEMM", (row[COL["m"]], row[COL["n"]], row[COL["k"]], row[COL["batch"]], row[COL["w_count"]],
                          ab, wb, ob, a_unique))]
    bh = row[COL["batch"]] * row[COL["heads"]]
    q, kv, d = row[COL["q_len"]], row[COL["kv_len"]], row[COL["head_dim"]]
    return [("attention scores Q·Kᵀ", (q, kv, d, bh, bh, ab, wb, ob, 1.0)),
            ("attention values P·V", (q, d, kv, bh, bh, ob, wb, ob, 1.0))]


def _loop_nest(hw: Hardware, m: float, n: float, k: float, batch: float, ab: float, wb: float, ob: float,
               rec: np.ndarray) -> list[str]:
    from hw_models.spatial_kernels import DATAFLOW_NAMES, LOOP_ORDERS

    spec = _spatial_spec(hw)
    size = {"m": m, "n": n, "k": k}
    tile = {"m": rec[O_MAP_2], "n": rec[O_MAP_3], "k": rec[O_MAP_4]}
    dataflow, order = int(rec[O_MAP_0]), int(rec[O_MAP_1])
    lines = [f"loop nest ({DATAFLOW_NAMES[dataflow]}):"]
    indent = "  "
    if batch > 1:
        lines.append(_commented(f"{indent}for b in range({int(batch)}):", "independent GEMMs"))
        indent += "  "
    for level in range(3):
        d = _DIMS[LOOP_ORDERS[order, level]]
        trips = math.ceil(size[d] / tile[d])
        lines.append(_commented(f"{indent}for {d}0 in range(0, {int(size[d])}, {int(tile[d])}):",
                                f"DRAM loop, {trips} trip{'s' if trips != 1 else ''}"))
        indent += "  "
    holds = spec.memory.global_buffer_holds
    copies = 2 if spec.memory.double_buffering else 1
    total = 0.0
    for operand, (r, c), width in (("input", ("m", "k"), ab), ("weight", ("k", "n"), wb), ("output", ("m", "n"), ob)):
        shape = f"{operand} tile {int(min(tile[r], size[r]))}×{int(min(tile[c], size[c]))} ({r}×{c})"
        if operand in holds:
            nbytes = tile[r] * tile[c] * width
            total += copies * nbytes
            lines.append(f"{indent}global buffer holds {shape}: {_bytes(nbytes)}" + (" ×2 (double-buffered)"
                                                                                     if copies == 2 else ""))
        else:
            lines.append(f"{indent}{shape} streamed from DRAM (the global buffer does not hold {operand}s)")
    lines.append(f"{indent}buffer footprint {_bytes(total)} of {_bytes(spec.memory.global_buffer_kib * 1024)}")
    rows_d, cols_d, stream_d = _SPATIAL[dataflow]
    pr, pc = spec.compute.pe_rows, spec.compute.pe_cols
    fr, fc = math.ceil(tile[rows_d] / pr), math.ceil(tile[cols_d] / pc)
    lines.append(_commented(f"{indent}for fold in range({fr * fc}):", f"{fr} × {fc} folds of the {rows_d}×{cols_d} "
                            f"tile over {pr}×{pc} PEs" + (f", spread over {spec.compute.arrays} arrays"
                                                          if spec.compute.arrays > 1 else "")))
    indent += "  "
    lines.append(f"{indent}parallel-for {rows_d} over PE rows ({int(min(tile[rows_d], pr))} of {pr} used), "
                 f"{cols_d} over PE columns ({int(min(tile[cols_d], pc))} of {pc} used)")
    lines.append(f"{indent}  stream {stream_d}: {int(min(tile[stream_d], size[stream_d]))} values per fold through "
                 f"the array" + (" (systolic skew per fold)" if spec.compute.systolic else ""))
    return lines


def describe_spatial(hw: Hardware, wl: Workload, table: np.ndarray, index: int, objective: str, top: int) -> str:
    from hw_models.spatial import P
    from mappings.objectives import objective_code
    from mappings.spatial_search import DEFAULT_BUDGET, DEFAULT_MAX_TILES, search_gemm

    row, op = table[index], wl.ops[index]
    params = hw.params
    code = objective_code(objective)
    dt = int(row[COL["dtype"]])
    # The same mapping with unlimited buffer and DRAM bandwidth (and room to double-buffer) takes its compute time.
    unbounded = params.copy()
    unbounded[[P["gb_bytes"], P["gb_bw_bytes_per_cycle"], P["dram_bw"]]] = np.inf
    unbounded[P["double_buffering"]] = 1.0
    out = [f"{hw.name} × {wl.name}: op {index} {op.name!r} ({op.kind}, {op.dtype}, runs {op.count}× per "
           f"{wl.item_unit}), objective {objective}"]
    for label, (m, n, k, batch, w_count, ab, wb, ob, a_unique) in _spatial_gemms(row):
        top_recs, scores, evaluated = search_gemm(m, n, k, batch, w_count, ab, wb, ob, a_unique, dt, params, code,
                                                  DEFAULT_MAX_TILES, top, DEFAULT_BUDGET, 0)
        if w_count <= 1.0 and batch > 1.0:  # as search_gemm: a weight shared by the batch makes more rows of M
            m, batch = m * batch, 1.0
        out.append("")
        out.append(f"{label}: M={int(m)} N={int(n)} K={int(k)}" + (f", {int(batch)} independent" if batch > 1 else "")
                   + f"; {evaluated:,} mappings evaluated")
        if not np.isfinite(scores[0]):
            out.append("  no legal mapping (datatype not supported or buffers too small)")
            continue
        best = top_recs[0]
        out.append("best: " + hw.device.mapping_label(best))
        out += _loop_nest(hw, m, n, k, batch, ab, wb, ob, best)
        from hw_models.spatial_kernels import gemm_mapping_cost

        compute = np.empty_like(best)
        gemm_mapping_cost(m, n, k, batch, ab, wb, ob, a_unique, dt, unbounded, int(best[O_MAP_0]),
                          int(best[O_MAP_1]), best[O_MAP_2], best[O_MAP_3], best[O_MAP_4], compute)
        clock = params[P["clock_hz"]]
        out += _breakdown(best, hw, compute[O_TIME], best[O_L2_BYTES] / (params[P["gb_bw_bytes_per_cycle"]] * clock),
                          best[O_DRAM_BYTES] / params[P["dram_bw"]])
        out += _runners_up(top_recs, scores, hw, objective)
    if int(row[COL["kind"]]) == 1:
        out.append("")
        out.append("softmax runs on the vector unit between the two GEMMs")
    return "\n".join(out)


def describe_gpu(hw: Hardware, wl: Workload, table: np.ndarray, index: int, objective: str, top: int) -> str:
    from hw_models.gpu import P
    from mappings.gpu_tiles import top_gemm_tiles
    from mappings.objectives import objective_code

    row, op = table[index], wl.ops[index]
    tiles, scores, records = top_gemm_tiles(row, hw.params, objective_code(objective), top)
    out = [f"{hw.name} × {wl.name}: op {index} {op.name!r} ({op.kind}, {op.dtype}, runs {op.count}× per "
           f"{wl.item_unit}), objective {objective}",
           f"GEMM M={int(row[COL['m']])} N={int(row[COL['n']])} K={int(row[COL['k']])}, batch {int(row[COL['batch']])}"]
    if not np.isfinite(scores[0]):
        out.append("no legal threadblock tile")
        return "\n".join(out)
    best = records[0]
    out.append(f"best threadblock tile: {hw.device.mapping_label(best)}")
    out += _breakdown(best, hw, None, best[O_L2_BYTES] / hw.params[P["l2_bw"]], best[O_DRAM_BYTES] / hw.params[P["hbm_bw"]])
    out += _runners_up(records, scores, hw, objective)
    return "\n".join(out)
