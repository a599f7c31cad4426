"""`cosim map`: formats what ``cosim.mapping_query.best_mappings`` returns — one op's best mapping (as a loop nest on
spatial devices), its cost breakdown, and the runners-up of the search."""

from __future__ import annotations

import math

import numpy as np

from cosim.errors import CosimInputError
from hw_models.hardware import Hardware
from mappings.evaluate import MAPPING_FIELDS, describe_mapping, gemm_parts, mappable, resource_times
from workloads.ir import Workload

_ENERGY = (("compute", "energy_compute_j"), ("on-chip memory", "energy_onchip_j"),
           ("off-chip memory", "energy_offchip_j"),
           ("interconnect", "energy_link_j"), ("static", "energy_static_j"))
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


def check_kind(hw: Hardware) -> None:
    """CosimInputError for kinds whose ops run fixed kernels only."""
    if hw.kind not in MAPPING_FIELDS:
        raise CosimInputError(f"{hw.name} is a {hw.kind} device: its ops run fixed kernels, with no mapping search to "
                              f"show (cosim map works on {', '.join(MAPPING_FIELDS)} devices; `cosim run` shows per-op "
                              f"costs)")


def mappable_ops(hw: Hardware, table: np.ndarray) -> list[int]:
    """Indices of ops whose mapping is searched on this device (GEMM-like ops; attention on spatial and IoT)."""
    return [i for i, row in enumerate(table) if mappable(hw.kind, row)]


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


def _label(kind: str, best) -> str:
    """A mapping row as the engine's per-op table labels it."""
    return describe_mapping(kind, {f: best[f] for f in MAPPING_FIELDS[kind]})


def _breakdown(best, hw: Hardware, times: dict[str, float]) -> list[str]:
    level = "buffer" if hw.kind in SPATIAL_KINDS else ("L2" if hw.kind == "gpu" else "L1 (DMA)")
    lines = [f"cost per instance: time {best['time_s'] * 1e6:.4g} µs, energy {best['energy_j'] * 1e6:.4g} µJ, "
             f"utilization {best['utilization'] * 100:.3g}%, bound: {best['bound']}"]
    lines.append("  times: " + ", ".join(f"{'DRAM' if name == 'dram' else name} {t * 1e6:.4g} µs"
                                        for name, t in times.items()))
    offchip = "L3" if hw.kind == "iot" else "DRAM"
    lines.append(f"  traffic: {offchip} {_bytes(best['bytes_offchip'])}, {level} {_bytes(best['bytes_onchip'])}")
    lines.append("  energy: " + ", ".join(f"{name} {best[f] * 1e6:.4g} µJ" for name, f in _ENERGY if best[f] != 0.0))
    return lines


def _runners_up(rows, hw: Hardware, objective: str) -> list[str]:
    lines = [f"top {len(rows)} mappings by {objective} (score: smaller is better; near-ties ranked by the other "
             f"metrics):"]
    for _, r in rows.iterrows():
        lines.append(f"  {int(r['rank'])}. {_label(hw.kind, r):60s} time {r['time_s'] * 1e6:10.4g} µs  energy "
                     f"{r['energy_j'] * 1e6:10.4g} µJ  score {r['score']:.6g}")
    return lines


def _loop_nest(hw: Hardware, m: float, n: float, k: float, batch: float, ab: float, wb: float, ob: float,
               best) -> list[str]:
    from hw_models.spatial_kernels import DATAFLOW_NAMES, LOOP_ORDERS, ORDER_NAMES

    spec = _spatial_spec(hw)
    size = {"m": m, "n": n, "k": k}
    tile = {"m": best["tile_m"], "n": best["tile_n"], "k": best["tile_k"]}
    dataflow, order = DATAFLOW_NAMES.index(best["dataflow"]), ORDER_NAMES.index(best["order"])
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


def describe(hw: Hardware, wl: Workload, table: np.ndarray, index: int, objective: str, frame) -> str:
    """The report of ``cosim map`` for op ``index`` from its ``best_mappings`` frame."""
    row, op = table[index], wl.ops[index]
    out = [f"{hw.name} × {wl.name}: op {index} {op.name!r} ({op.kind}, {op.dtype}, runs {op.count}× per "
           f"{wl.item_unit}), objective {objective}"]
    for part, (label, (m, n, k, batch, _, ab, wb, ob, _)) in enumerate(gemm_parts(hw.kind, row)):
        rows = frame[frame["part"] == label]
        out.append("")
        out.append(f"{label}: M={int(m)} N={int(n)} K={int(k)}" + (f", {int(batch)} independent" if batch > 1 else "")
                   + f"; {frame.attrs['evaluated'][part]:,} mappings evaluated")
        if rows.empty:
            out.append("  no legal mapping (datatype not supported or buffers too small)")
            continue
        best = rows.iloc[0]
        mapping = {f: best[f] for f in MAPPING_FIELDS[hw.kind]}
        out.append(("best threadblock tile: " if hw.kind == "gpu" else "best: ") + _label(hw.kind, best))
        if hw.kind in SPATIAL_KINDS:
            out += _loop_nest(hw, m, n, k, batch, ab, wb, ob, best)
        out += _breakdown(best, hw, resource_times(hw.kind, row, hw.params, mapping, part))
        out += _runners_up(rows, hw, objective)
    if len(gemm_parts(hw.kind, row)) > 1:
        out.append("")
        out.append("the softmax between the two GEMMs runs on the vector unit" if hw.kind in SPATIAL_KINDS
                   else "the softmax between the two GEMMs runs on the cores")
    return "\n".join(out)
