"""Explicit mappings as inputs: evaluate one op under a given mapping, list an op's best mappings, and read the
mapping fields of a cost record — for the kinds with a mapping space (GPU threadblock tiles, spatial dataflow /
loop order / tiles, IoT L1 tiles).

A mapping is a dict of named fields (``MAPPING_FIELDS[kind]``); names may be given for the spatial dataflow and loop
order ("weight-stationary", "n,k,m") as well as their indices. An attention op on a spatial device runs two GEMMs
(``part`` 0: scores Q·Kᵀ, 1: values P·V), each with its own mapping.
"""

from __future__ import annotations

import numpy as np

from hw_models.cost import N_OUT, O_MAP_0, O_MAP_1, O_MAP_2, O_MAP_3, O_MAP_4, O_MAPPING, O_TIME
from workloads.table import COL, K_ATTENTION, K_GEMM

MAPPING_FIELDS = {
    "gpu": ("tile_m", "tile_n", "split_k"),
    "spatial": ("dataflow", "order", "tile_m", "tile_n", "tile_k"),
    "fpga": ("dataflow", "order", "tile_m", "tile_n", "tile_k"),
    "iot": ("tile_m", "tile_n", "order"),
}
ATTENTION_PARTS = ("attention scores Q·Kᵀ", "attention values P·V")


def _check_kind(kind: str) -> None:
    if kind not in MAPPING_FIELDS:
        raise ValueError(f"{kind} devices run fixed kernels with no mapping space; kinds with mappings: "
                         f"{', '.join(MAPPING_FIELDS)}")


def mappable(kind: str, row: np.ndarray) -> bool:
    """Whether the op (a table row) has a searched mapping on this kind."""
    op_kind = int(row[COL["kind"]])
    if kind in ("spatial", "fpga", "iot"):
        return op_kind in (K_GEMM, K_ATTENTION)
    return kind == "gpu" and op_kind == K_GEMM


def gemm_parts(kind: str, row: np.ndarray) -> list[tuple[str, tuple]]:
    """The GEMMs an op runs under a searched mapping, as (label, (m, n, k, batch, w_count, ab, wb, ob, a_unique)),
    with a batch that shares one weight folded into M as the searches do."""
    ab, wb, ob, a_unique = row[COL["a_bytes"]], row[COL["w_bytes"]], row[COL["o_bytes"]], row[COL["a_unique"]]
    if int(row[COL["kind"]]) == K_GEMM:
        parts = [("GEMM", (row[COL["m"]], row[COL["n"]], row[COL["k"]], row[COL["batch"]], row[COL["w_count"]],
                           ab, wb, ob, a_unique))]
    else:
        bh = row[COL["batch"]] * row[COL["heads"]]
        q, kv, d = row[COL["q_len"]], row[COL["kv_len"]], row[COL["head_dim"]]
        parts = [(ATTENTION_PARTS[0], (q, kv, d, bh, bh, ab, wb, ob, 1.0)),
                 (ATTENTION_PARTS[1], (q, d, kv, bh, bh, ob, wb, ob, 1.0))]
    if kind in ("spatial", "fpga"):
        folded = []
        for label, (m, n, k, batch, w_count, *rest) in parts:
            if w_count <= 1.0 and batch > 1.0:
                m, batch = m * batch, 1.0
            folded.append((label, (m, n, k, batch, w_count, *rest)))
        parts = folded
    return parts


def _part(kind: str, row: np.ndarray, part: int) -> tuple:
    if not mappable(kind, row):
        raise ValueError(f"the op has no searched mapping on {kind} devices (it runs a fixed kernel)")
    parts = gemm_parts(kind, row)
    if kind == "gpu" or not 0 <= part < len(parts):
        if part != 0:
            raise ValueError(f"part {part} out of range: the op runs {len(parts)} mapped GEMM(s)")
    return parts[part][1]


def _index(value, names: tuple[str, ...], field: str) -> int:
    if isinstance(value, str):
        if value not in names:
            raise ValueError(f"unknown {field} {value!r}; allowed: {', '.join(names)}")
        return names.index(value)
    if not 0 <= int(value) < len(names):
        raise ValueError(f"{field} {value} out of range 0..{len(names) - 1}")
    return int(value)


def _fields(kind: str, mapping: dict) -> dict:
    fields = MAPPING_FIELDS[kind]
    unknown = sorted(set(mapping) - set(fields))
    missing = [f for f in fields if f not in mapping]
    if unknown or missing:
        raise ValueError(f"a {kind} mapping has the fields {', '.join(fields)}"
                         + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                         + (f"; missing: {', '.join(missing)}" if missing else ""))
    return mapping


def evaluate_mapping(kind: str, row: np.ndarray, params: np.ndarray, mapping: dict, part: int = 0) -> np.ndarray:
    """The cost record (``hw_models.cost`` fields) of one op (a ``workloads.table`` row) on one design point
    (``params``) under an explicit ``mapping``; time is inf when the mapping is illegal (a tile over capacity)."""
    _check_kind(kind)
    m, n, k, batch, w_count, ab, wb, ob, a_unique = _part(kind, row, part)
    mapping = _fields(kind, mapping)
    params = np.asarray(params, dtype=np.float64)
    out = np.zeros(N_OUT)
    if kind == "gpu":
        from hw_models.gpu import SPLIT_K, TILE_M, TILE_N
        from hw_models.gpu_kernels import gemm_cost, tile_index

        sizes = [(TILE_M, "tile_m"), (TILE_N, "tile_n"), (SPLIT_K, "split_k")]
        idx = []
        for values, name in sizes:
            hits = np.flatnonzero(values == float(mapping[name]))
            if not hits.size:
                raise ValueError(f"{name} {mapping[name]} is not a GPU tile size; allowed: "
                                 f"{', '.join(str(int(v)) for v in values)}")
            idx.append(int(hits[0]))
        gemm_cost(row, params, tile_index(idx[0], idx[1], idx[2]), out)
    elif kind in ("spatial", "fpga"):
        from hw_models.spatial_kernels import DATAFLOW_NAMES, ORDER_NAMES, gemm_mapping_cost

        dataflow = _index(mapping["dataflow"], DATAFLOW_NAMES, "dataflow")
        order = _index(mapping["order"], ORDER_NAMES, "order")
        gemm_mapping_cost(m, n, k, batch, ab, wb, ob, a_unique, int(row[COL["dtype"]]), params, dataflow, order,
                          float(mapping["tile_m"]), float(mapping["tile_n"]), float(mapping["tile_k"]), out)
    else:
        from hw_models.iot_kernels import IS_INT, ORDER_NAMES, finish, gemm_cost

        order = _index(mapping["order"], ORDER_NAMES, "order")
        gemm_cost(m, n, k, batch, ab, wb, ob, IS_INT[int(row[COL["dtype"]])], params, float(mapping["tile_m"]),
                  float(mapping["tile_n"]), float(order), out)
        finish(params, out)
    return out


def top_mappings(kind: str, row: np.ndarray, params: np.ndarray, objective: int, top: int,
                 part: int = 0) -> tuple[np.ndarray, int]:
    """The ``top`` best mappings of one op (GEMM ``part``) by the search the engine runs, best first, as cost records
    (rows of infinite time pad a short list), and how many mappings were evaluated."""
    _check_kind(kind)
    m, n, k, batch, w_count, ab, wb, ob, a_unique = _part(kind, row, part)
    params = np.asarray(params, dtype=np.float64)
    if kind == "gpu":
        from mappings.gpu_tiles import searched_tiles, top_gemm_tiles

        _, _, records = top_gemm_tiles(row, params, objective, top)
        return records, searched_tiles(params)
    if kind in ("spatial", "fpga"):
        from mappings.spatial_search import DEFAULT_BUDGET, DEFAULT_MAX_TILES, search_gemm

        records, _, evaluated = search_gemm(m, n, k, batch, w_count, ab, wb, ob, a_unique, int(row[COL["dtype"]]),
                                            params, objective, DEFAULT_MAX_TILES, top, DEFAULT_BUDGET, 0)
        return records, int(evaluated)
    from hw_models.iot_kernels import IS_INT
    from mappings.iot_tiling import N_ORDERS, tile_options, top_gemm_tilings

    records, _ = top_gemm_tilings(m, n, k, batch, ab, wb, ob, IS_INT[int(row[COL["dtype"]])], params, objective, top)
    return records, tile_options(m).size * tile_options(n).size * N_ORDERS


def mapping_of(kind: str, rec: np.ndarray) -> dict:
    """The mapping fields of a cost record (empty for a fixed kernel or an illegal record)."""
    _check_kind(kind)
    if rec[O_MAPPING] < 0 or not np.isfinite(rec[O_TIME]):
        return {}
    if kind == "gpu":
        from hw_models.gpu_kernels import tile_shape

        tm, tn, sk = tile_shape(int(rec[O_MAPPING]))
        return {"tile_m": int(tm), "tile_n": int(tn), "split_k": int(sk)}
    if kind in ("spatial", "fpga"):
        from hw_models.spatial_attention import FUSED_MAPPING
        from hw_models.spatial_kernels import DATAFLOW_NAMES, ORDER_NAMES

        fields = {"dataflow": DATAFLOW_NAMES[int(rec[O_MAP_0])], "order": ORDER_NAMES[int(rec[O_MAP_1])],
                  "tile_m": int(rec[O_MAP_2]), "tile_n": int(rec[O_MAP_3]), "tile_k": int(rec[O_MAP_4])}
        if rec[O_MAPPING] == FUSED_MAPPING:  # fused attention: tile_m is the Q tile, tile_n the KV chunk
            fields["fused"] = True
        return fields
    from hw_models.iot_kernels import ORDER_NAMES

    return {"tile_m": int(rec[O_MAP_1]), "tile_n": int(rec[O_MAP_2]), "order": ORDER_NAMES[int(rec[O_MAP_0])]}


def resource_times(kind: str, row: np.ndarray, params: np.ndarray, mapping: dict, part: int = 0) -> dict[str, float]:
    """Per-resource times of one op under a mapping, s: ``compute`` (the mapping on the same device with unlimited
    buffer and DRAM bandwidth; spatial kinds only), the on-chip level (``buffer`` or ``l2``) and ``dram`` (their
    bytes over their bandwidths)."""
    rec = evaluate_mapping(kind, row, params, mapping, part)
    from hw_models.cost import O_BYTES_OFFCHIP, O_BYTES_ONCHIP

    if kind == "gpu":
        from hw_models.gpu import P

        return {"l2": rec[O_BYTES_ONCHIP] / params[P["l2_bw"]], "dram": rec[O_BYTES_OFFCHIP] / params[P["hbm_bw"]]}
    if kind == "iot":
        from hw_models.iot import P

        dma = rec[O_BYTES_ONCHIP] / (params[P["dma_bpc"]] * params[P["clock_hz"]])
        l3 = rec[O_BYTES_OFFCHIP] / params[P["l3_bw"]] if rec[O_BYTES_OFFCHIP] > 0 else 0.0
        return {"dma": dma, "l3": l3}
    from hw_models.spatial import P

    unbounded = np.array(params, dtype=np.float64)
    unbounded[[P["gb_bytes"], P["gb_bw_bytes_per_cycle"], P["dram_bw"]]] = np.inf
    unbounded[P["double_buffering"]] = 1.0
    clock = params[P["clock_hz"]]
    return {"compute": evaluate_mapping(kind, row, unbounded, mapping, part)[O_TIME],
            "buffer": rec[O_BYTES_ONCHIP] / (params[P["gb_bw_bytes_per_cycle"]] * clock),
            "dram": rec[O_BYTES_OFFCHIP] / params[P["dram_bw"]]}


def describe_mapping(kind: str, mapping: dict) -> str:
    """A mapping as people read it ("tile 128x128 split-k 1", "weight-stationary, tiles m.. n.. k.., order m,n,k")."""
    if not mapping:
        return ""
    if kind == "gpu":
        return f"tile {int(mapping['tile_m'])}x{int(mapping['tile_n'])} split-k {int(mapping['split_k'])}"
    if kind == "iot":
        return f"L1 tile m{int(mapping['tile_m'])} n{int(mapping['tile_n'])}, {mapping['order']}"
    if mapping.get("fused"):
        return (f"fused attention, Q tile {int(mapping['tile_m'])}, KV chunk {int(mapping['tile_n'])}, scores "
                f"{mapping['dataflow']}, order {mapping['order']}")
    return (f"{mapping['dataflow']}, tiles m{int(mapping['tile_m'])} n{int(mapping['tile_n'])} "
            f"k{int(mapping['tile_k'])}, order {mapping['order']}")
