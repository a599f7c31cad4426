"""The mapping cache: hits on repeated (op, hardware) pairs, bit-identical to an uncached search, bounded, wired in."""

from __future__ import annotations

import numpy as np

from cosim.api import load_hardware, load_workload
from mappings.bindings import kernel
from cosim.engine import evaluate_points
from mappings.cache import CachedMapper, shared_mapper
from mappings.driver import map_and_cost as driver_map_and_cost
from mappings.spatial_search import DEFAULT_SETTINGS
from workloads.table import COL, op_table


def map_and_cost(table, params, objective):
    """The uncached spatial search of every (point, op) cell."""
    return driver_map_and_cost("spatial", table, params, objective, DEFAULT_SETTINGS)


def _setup():
    hw = load_hardware("SCALE-Sim-32x32", {"compute.dataflow": "free", "memory.global_buffer_kib": 64})
    wl = load_workload("resnet-18", dtype="int8")
    return hw, wl, op_table(wl)


def test_second_sweep_point_hits_and_is_bit_identical():
    hw, wl, table = _setup()
    other = load_hardware("SCALE-Sim-32x32", {"compute.dataflow": "free", "memory.global_buffer_kib": 128})
    params = np.stack([hw.params, other.params])
    direct = map_and_cost(table, params, 2)
    cache = CachedMapper()
    first = cache(table, params, 2)
    np.testing.assert_array_equal(first, direct)
    distinct = len({table[i, [c for c in range(table.shape[1]) if c not in (COL["count"], COL["stage"])]].tobytes()
                    for i in range(len(table))})
    assert cache.misses == 2 * len(table) and len(cache) == 2 * distinct  # repeated layers searched once
    # a second sweep point with the same ops (here: the same hardware again, then a mix of old and new hardware)
    again = cache(table, hw.params, 2)
    assert cache.hits == len(table) and cache.misses == 2 * len(table)
    np.testing.assert_array_equal(again[0], direct[0])
    third = load_hardware("SCALE-Sim-32x32", {"compute.dataflow": "free", "memory.global_buffer_kib": 32})
    mixed = cache(table, np.stack([third.params, other.params]), 2)
    assert cache.hits == 2 * len(table)
    np.testing.assert_array_equal(mixed, map_and_cost(table, np.stack([third.params, other.params]), 2))
    # another objective is another key
    np.testing.assert_array_equal(cache(table, hw.params, 0), map_and_cost(table, np.atleast_2d(hw.params), 0))


def test_same_layers_in_a_rebuilt_workload_hit():
    hw, _, _ = _setup()
    cache = CachedMapper()
    a = op_table(load_workload("resnet-50", dtype="int8"))
    cache(a, hw.params, 0)
    misses = cache.misses
    b = op_table(load_workload("resnet-50", dtype="int8", batch=1))
    out = cache(b, hw.params, 0)
    assert cache.misses == misses  # every op of the second table was found
    np.testing.assert_array_equal(out, map_and_cost(b, np.atleast_2d(hw.params), 0))


def test_cache_is_bounded_lru():
    hw, _, table = _setup()
    cache = CachedMapper(max_entries=5)
    cache(table, hw.params, 0)
    assert len(cache) == 5
    last = table[-1:]
    cache(last, hw.params, 0)  # recently stored: a hit
    assert cache.hits == 1
    cache(table[:1], hw.params, 0)  # evicted long ago: a miss
    assert cache.hits == 1


def test_engine_uses_the_shared_cache():
    hw, wl, table = _setup()
    mapper = kernel("spatial")
    assert mapper is shared_mapper()
    mapper.clear()
    first = evaluate_points(hw, wl, hw.params, "latency", table)
    hits = mapper.hits
    second = evaluate_points(hw, wl, hw.params, "latency", table)
    assert mapper.hits == hits + len(table)
    for key in ("latency_s", "energy_j", "edp_js"):
        np.testing.assert_array_equal(first[key], second[key])
