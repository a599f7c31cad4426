"""Explicit mappings: evaluating the engine's chosen mapping reproduces its cost record, ``best_mappings`` ranks like
the engine, the latency objective breaks near-ties by energy, and the exhaustive/heuristic choice is made after
pruning over-capacity tiles."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cosim.api import load_hardware, load_workload
from cosim.mapping_query import best_mappings
from hw_models.cost import N_OUT, O_TIME
from hw_models.spatial import DTYPES, P
from hw_models.spatial_kernels import gemm_mapping_cost
from mappings.bindings import kernel
from mappings.evaluate import evaluate_mapping, gemm_parts, mapping_of
from mappings.scoring import TIE_TOLERANCE, better, compare, energy
from mappings.spatial_search import (DEFAULT_BUDGET, N_ORDERS, exhaustive_gemm, legal_space_size, search_gemm,
                                     tile_candidates)
from workloads.table import COL, op_table

INT8 = DTYPES.index("int8")
CASES = [("A100-SXM4-80GB", "bert-base", {"seq_len": 128}, 5), ("SCALE-Sim-32x32", "bert-base", {"seq_len": 128, "dtype": "int8"}, 5),
         ("ZCU104", "resnet-18", {"dtype": "int8"}, 0), ("GAP8", "ds-cnn-s", {}, 0)]


@pytest.mark.parametrize("preset, name, params, index", CASES)
def test_evaluating_the_chosen_mapping_reproduces_the_engine(preset, name, params, index):
    hw, wl = load_hardware(preset), load_workload(name, **params)
    table = op_table(wl)
    for objective in (0, 1):
        raw = kernel(hw.kind)(table[index:index + 1], hw.params[None, :], objective)[0, 0]
        mapping = mapping_of(hw.kind, raw)
        assert mapping
        np.testing.assert_array_equal(evaluate_mapping(hw.kind, table[index], hw.params, mapping), raw)
        frame = best_mappings(hw, wl, index, ("latency", "energy")[objective], 4)
        first = frame.iloc[0]
        assert {f: first[f] for f in mapping} == mapping
        assert first["time_s"] == raw[O_TIME]


def test_explicit_mapping_errors_name_the_allowed_values():
    hw = load_hardware("SCALE-Sim-32x32")
    row = op_table(load_workload("bert-base", seq_len=128, dtype="int8"))[5]
    good = {"dataflow": "output-stationary", "order": "m,n,k", "tile_m": 32, "tile_n": 32, "tile_k": 32}
    assert np.isfinite(evaluate_mapping("spatial", row, hw.params, good)[O_TIME])
    with pytest.raises(ValueError, match="allowed: output-stationary"):
        evaluate_mapping("spatial", row, hw.params, {**good, "dataflow": "row-stationary"})
    with pytest.raises(ValueError, match="missing: tile_k"):
        evaluate_mapping("spatial", row, hw.params, {k: v for k, v in good.items() if k != "tile_k"})
    with pytest.raises(ValueError, match="no mapping space"):
        evaluate_mapping("pim", row, hw.params, good)
    huge = {**good, "tile_m": 10**6, "tile_n": 10**6}
    assert not np.isfinite(evaluate_mapping("spatial", row, hw.params, huge)[O_TIME])  # over capacity: illegal


def _space(hw, m, n, k, batch, ab, wb, ob, a_unique, dtype):
    """Every legal mapping record of a GEMM on a spatial device (coarse space, as the engine searches it)."""
    g = min(hw.params[P["rows"]], hw.params[P["cols"]])
    df = int(hw.params[P["dataflow"]])
    cands = [tile_candidates(s, g, 12) for s in (m, n, k)]
    records = []
    rec = np.empty(N_OUT)
    for d, order, tm, tn, tk in itertools.product((0, 1, 2) if df == 3 else (df,), range(N_ORDERS), *cands):
        gemm_mapping_cost(m, n, k, batch, ab, wb, ob, a_unique, dtype, hw.params, d, order, tm, tn, tk, rec)
        if np.isfinite(rec[O_TIME]):
            records.append(rec.copy())
    return records


@pytest.mark.parametrize("dtype", ["fp16", "int8"])
def test_latency_optimum_is_the_least_energy_among_equally_fast(dtype):
    """ResNet-50 layer4.0.conv2 on Eyeriss-like (issue 9): among mappings as fast as the chosen one (within the tie
    tolerance) none uses less energy."""
    hw, wl = load_hardware("Eyeriss-like"), load_workload("resnet-50", dtype=dtype)
    index = next(i for i, op in enumerate(wl.ops) if op.name == "layer4.0.conv2")
    row = op_table(wl)[index]
    chosen = kernel(hw.kind)(row[None, :], hw.params[None, :], 0)[0, 0]
    (_, args), = gemm_parts(hw.kind, row)
    m, n, k, batch, _, ab, wb, ob, a_unique = args
    space = _space(hw, m, n, k, batch, ab, wb, ob, a_unique, int(row[COL["dtype"]]))
    fastest = min(r[O_TIME] for r in space)
    assert chosen[O_TIME] <= fastest * (1 + TIE_TOLERANCE)
    ties = [r for r in space if compare(r[O_TIME], chosen[O_TIME]) == 0]
    assert energy(chosen) <= min(energy(r) for r in ties) * (1 + TIE_TOLERANCE)
    assert not any(better(r, chosen, 0) for r in space)


def test_exhaustive_search_is_chosen_after_pruning():
    """A fine space whose raw size exceeds the budget but whose buffer-legal part fits it is searched exhaustively."""
    hw = load_hardware("SCALE-Sim-32x32", {"compute.pe_rows": 8, "compute.pe_cols": 8, "compute.dataflow": "free",
                                           "memory.global_buffer_kib": 1})
    p = hw.params
    m = n = k = 512.0
    g = 8
    raw_size = tile_candidates(m, g, 0).size * tile_candidates(n, g, 0).size * tile_candidates(k, g, 0).size * 18
    legal = legal_space_size(m, n, k, 1.0, 1.0, 1.0, p, 0, DEFAULT_BUDGET)
    assert raw_size > DEFAULT_BUDGET >= legal
    for objective in (0, 1, 2):
        top, scores, evaluated = search_gemm(m, n, k, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, INT8, p, objective, 0, 3,
                                             DEFAULT_BUDGET, 0)
        ex_top, ex_scores, ex_evaluated = exhaustive_gemm(m, n, k, 1.0, 1.0, 1.0, 1.0, 1.0, INT8, p, objective, 0, 3)
        assert evaluated == ex_evaluated == legal
        np.testing.assert_array_equal(top, ex_top)


def test_iot_tiling_is_ranked_by_the_objective():
    """PULP-OPEN ds-cnn-s ``ds1.dw``: many tilings move the same DMA bytes; the old fewest-bytes search took the
    smallest tiles (1 × 1, one DMA set-up per output) and was DMA-bound at 2.96 ms. Ranked by latency, the chosen
    tiling is the fastest of all legal tilings."""
    from hw_models.iot_kernels import ORDER_NAMES
    from mappings.iot_tiling import tile_options

    hw, wl = load_hardware("PULP-OPEN"), load_workload("ds-cnn-s")
    index = next(i for i, op in enumerate(wl.ops) if op.name == "ds1.dw")
    row = op_table(wl)[index]
    chosen = kernel("iot")(row[None, :], hw.params[None, :], 0)[0, 0]
    (_, (m, n, *_)), = gemm_parts("iot", row)
    times = [evaluate_mapping("iot", row, hw.params, {"tile_m": mt, "tile_n": nt, "order": order})[O_TIME]
             for mt in tile_options(m) for nt in tile_options(n) for order in ORDER_NAMES]
    assert chosen[O_TIME] == min(times)
    assert chosen[O_TIME] < 0.2e-3  # was 2.96e-3 s with the fewest-bytes tiling
